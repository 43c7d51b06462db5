import Foundation
import GRDB
import RLHubCore
import TestSupport
import Testing
@_spi(StoreInternals) import Store

func temporaryFolder(_ name: String) -> String { makeTemporaryFolder(prefix: "rlhub-store-\(name)") }

func sampleRun(seed: Int = 0, algo: String = "grpo", experiment: String? = nil) -> NewRun {
    NewRun(experiment: experiment, cell: "\(algo)-add-\(seed)", algo: algo, task: "add:digits=2", model: "preset:tiny", seed: seed,
           configJSON: "{\"algo\":\"\(algo)\",\"seed\":\(seed)}", configHash: "hash-\(algo)-\(seed)", groupHash: "group-\(algo)",
           codeVersion: CodeVersion(commit: String(repeating: "a", count: 40), dirty: false, diffHash: ""), threads: 2)
}

@Suite struct RunStoreTests {
    /// Both kinds of database behave the same.
    static func stores() throws -> [RunStore] {
        let dir = temporaryFolder("both")
        return [try RunStore(inMemoryWithBlobsAt: dir + "/mem-blobs"), try RunStore(directory: dir + "/disk")]
    }

    @Test func lifecycleMetricsAndSummaries() throws {
        for store in try Self.stores() {
            try store.upsertExperiment(name: "baseline", specText: "name: baseline", specHash: "h")
            let id = try store.createRun(sampleRun(experiment: "baseline"))
            #expect(try store.run(id).status == .queued)
            try store.markRunning(id)
            #expect(try store.run(id).status == .running)
            try store.appendMetrics(run: id, records: [(1, ["reward/mean": 0.2, "loss": 1.0]), (2, ["reward/mean": 0.6, "loss": .nan])])
            try store.appendMetrics(run: id, records: [(3, ["reward/mean": 0.4])])
            let curve = try store.curve(run: id, metric: "reward/mean")
            #expect(curve.map(\.step) == [1, 2, 3])
            #expect(curve.map(\.value) == [0.2, 0.6, 0.4])
            #expect(try store.curve(run: id, metric: "loss").map(\.value) == [1.0, nil])
            let summaries = try store.metricSummaries(run: id)
            let reward = summaries.first { $0.name == "reward/mean" }!
            #expect(reward.finalStep == 3 && reward.finalValue == 0.4 && reward.bestStep == 2 && reward.bestValue == 0.6 && reward.count == 3)
            // Resume: points after step 1 are dropped and summaries rebuilt.
            try store.truncateMetrics(run: id, after: 1)
            let rebuilt = try store.metricSummaries(run: id).first { $0.name == "reward/mean" }!
            #expect(rebuilt.finalStep == 1 && rebuilt.bestValue == 0.2 && rebuilt.count == 1)
            try store.markFinished(id)
            let run = try store.run(String(id.prefix(6)))
            #expect(run.status == .finished && run.experiment == "baseline" && run.id == id)
        }
    }

    @Test func curveDownsamplingKeepsTheLastPoint() throws {
        let store = try RunStore(inMemoryWithBlobsAt: temporaryFolder("ds"))
        let id = try store.createRun(sampleRun())
        try store.appendMetrics(run: id, records: (0..<10).map { ($0, ["x": Double($0)]) })
        #expect(try store.curve(run: id, metric: "x", every: 4).map(\.step) == [0, 4, 8, 9])
        #expect(try store.curve(run: id, metric: "missing").isEmpty)
    }

    @Test func aPointLoggedTwiceKeepsItsLastValue() throws {
        let store = try RunStore(inMemoryWithBlobsAt: temporaryFolder("twice"))
        let id = try store.createRun(sampleRun())
        // More than one 64-row statement, with the repeated point in a later batch position.
        var records: [(step: Int, metrics: [String: Double])] = (0..<100).map { ($0, ["x": Double($0)]) }
        records.append((3, ["x": 42]))
        try store.appendMetrics(run: id, records: records)
        let curve = try store.curve(run: id, metric: "x")
        #expect(curve.count == 100)
        #expect(curve[3].value == 42)
        try store.appendMetrics(run: id, records: [(3, ["x": 7])])
        #expect(try store.curve(run: id, metric: "x")[3].value == 7)
    }

    @Test func releasesFreezeRunsButNotTags() throws {
        let store = try RunStore(inMemoryWithBlobsAt: temporaryFolder("rel"))
        let a = try store.createRun(sampleRun(seed: 0))
        let b = try store.createRun(sampleRun(seed: 1))
        try store.appendMetrics(run: a, records: [(1, ["r": 1])])
        try store.markFinished(a)
        let release = try store.createRelease(name: "v1", notes: "first")
        #expect(release.runs == [a])  // b is not finished
        #expect(throws: InputError.self) { try store.appendMetrics(run: a, records: [(2, ["r": 2])]) }
        #expect(throws: InputError.self) { try store.markFailed(a, error: "x") }
        #expect(throws: InputError.self) { try store.createRelease(name: "v1") }
        #expect(throws: InputError.self) { try store.createRelease(name: "../x") }
        try store.tag(a, key: "note", value: "kept")
        #expect(try store.tags(a).map(\.value) == ["kept"])
        try store.appendMetrics(run: b, records: [(1, ["r": 1])])
        #expect(try store.releases().map(\.name) == ["v1"])
    }

    @Test func staleRunsOfDeadProcessesFailOnOpen() throws {
        let dir = temporaryFolder("stale")
        let store = try RunStore(directory: dir)
        let id = try store.createRun(sampleRun())
        try store.markRunning(id)
        // Pretend the run belongs to a process that no longer exists.
        try store.write { db in try db.execute(sql: "UPDATE runs SET pid = 999999999 WHERE id = ?", arguments: [id]) }
        try store.appendMetrics(run: id, records: [(1, ["r": 0.5])])
        let reopened = try RunStore(directory: dir)
        let run = try reopened.run(id)
        #expect(run.status == .failed)
        #expect(run.error?.contains("ended without finishing") == true)
        #expect(try reopened.curve(run: id, metric: "r").count == 1)
        // A live process (this one) keeps its run.
        let live = try reopened.createRun(sampleRun(seed: 3))
        try reopened.markRunning(live)
        #expect(try RunStore(directory: dir).run(live).status == .running)
    }

    @Test func unknownRunsAreInputErrors() throws {
        let store = try RunStore(inMemoryWithBlobsAt: temporaryFolder("unk"))
        #expect(throws: InputError.self) { try store.run("nope") }
        #expect(throws: InputError.self) { try store.appendMetrics(run: "nope", records: [(1, ["r": 1])]) }
        #expect(throws: InputError.self) { try store.createRun(sampleRun(experiment: "unregistered")) }
    }

    @Test func migratesAnEmptyFileAndReopens() throws {
        let dir = temporaryFolder("empty")
        FileManager.default.createFile(atPath: dir + "/store.sqlite", contents: Data())
        let store = try RunStore(directory: dir)
        #expect(try store.integrityCheck() == "ok")
        _ = try store.createRun(sampleRun())
        #expect(try RunStore(directory: dir).runs().count == 1)
    }

    @Test func notADatabaseIsAnInputError() throws {
        let dir = temporaryFolder("garbage")
        try Data("this is not sqlite, just text that is long enough to look like a header".utf8).write(to: URL(fileURLWithPath: dir + "/store.sqlite"))
        #expect(throws: InputError.self) { try RunStore(directory: dir) }
    }
}
