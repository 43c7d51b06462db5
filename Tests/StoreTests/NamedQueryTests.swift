// The queries the store offers its callers in place of SQL (reports, the hub, releases), and
// rows it cannot read: an unknown status is an error naming the file, column and value.
import Foundation
import GRDB
import RLHubCore
import Testing
@_spi(StoreInternals) import Store

@Suite struct NamedQueryTests {
    /// Experiment `exp`: four runs of algorithm a/b, seeds 0 and 1; all but the last finished.
    /// Experiment `other`: one finished run. Returns the store and the ids in creation order.
    static func store() throws -> (RunStore, [String]) {
        let store = try RunStore(inMemoryWithBlobsAt: temporaryFolder("named"))
        try store.upsertExperiment(name: "exp", specText: "name: exp", specHash: "h1")
        try store.upsertExperiment(name: "other", specText: "name: other", specHash: "h2")
        var ids: [String] = []
        for (algo, seed) in [("a", 0), ("b", 0), ("a", 1), ("b", 1)] {
            let id = try store.createRun(sampleRun(seed: seed, algo: algo, experiment: "exp"))
            try store.markRunning(id)
            try store.setStepsDone(id, 3 + seed)
            ids.append(id)
        }
        for id in ids.dropLast() { try store.markFinished(id) }
        let other = try store.createRun(sampleRun(seed: 9, algo: "a", experiment: "other"))
        try store.markRunning(other)
        try store.markFinished(other)
        return (store, ids)
    }

    @Test func finishedRunsOfAnExperimentInCreationOrder() throws {
        let (store, ids) = try Self.store()
        #expect(try store.finishedRuns(experiment: "exp").map(\.id) == Array(ids.prefix(3)))
        #expect(try store.finishedRuns(experiment: "exp", matching: RunFilter(where: "algo = 'a'")).map(\.id) == [ids[0], ids[2]])
        #expect(try store.finishedRuns(experiment: "missing").isEmpty)
        #expect(try store.experimentNames() == ["exp", "other"])
    }

    @Test func theStampChangesWhenARunFinishes() throws {
        let (store, ids) = try Self.store()
        let before = try store.finishedRunsStamp(experiment: "exp")
        #expect(before.count == 3 && before.lastCreated != nil && before.lastEnded != nil)
        try store.markFinished(ids[3])
        let after = try store.finishedRunsStamp(experiment: "exp")
        #expect(after.count == 4 && after != before)
        let none = try store.finishedRunsStamp(experiment: "missing")
        #expect(none.count == 0 && none.lastCreated == nil && none.lastEnded == nil)
    }

    @Test func aReleaseRecordsItsFilterAndPublishesSummaries() throws {
        let (store, ids) = try Self.store()
        let release = try store.createRelease(name: "v1", filter: RunFilter(where: "experiment = 'exp' and seed = 0"), notes: "n")
        #expect(release.filter == "experiment = 'exp' and seed = 0" && release.runs == [ids[0], ids[1]])
        let summaries = try store.runSummaries(release: "v1")
        #expect(summaries.map(\.id) == [ids[0], ids[1]])
        let first = try store.run(ids[0])
        let s = summaries[0]
        #expect(s.experiment == "exp" && s.cell == first.cell && s.algo == "a" && s.task == first.task && s.model == first.model)
        #expect(s.seed == 0 && s.configHash == first.configHash && s.groupHash == first.groupHash)
        #expect(s.codeVersion == first.codeVersion && s.steps == 3 && first.stepsDone == 3)
        #expect(try store.createRelease(name: "all").filter == nil)
    }

    /// A status the schema's check would refuse, written with the check off (as a newer rlhub's
    /// schema could hold it): reading the run names the store file, the column and the value.
    @Test func anUnknownStatusIsAnErrorNotFailed() throws {
        let dir = temporaryFolder("status")
        let store = try RunStore(directory: dir)
        let id = try store.createRun(sampleRun())
        try store.write { db in
            try db.execute(sql: "PRAGMA ignore_check_constraints = ON")
            try db.execute(sql: "UPDATE runs SET status = 'paused' WHERE id = ?", arguments: [id])
            try db.execute(sql: "PRAGMA ignore_check_constraints = OFF")
        }
        let error = try #require(throws: InputError.self) { try store.run(id) }
        #expect(error.description
            == "\(dir)/store.sqlite: runs.status: unknown value 'paused' (this rlhub knows queued, running, finished, failed)")
        #expect(!error.description.contains("\n"))
        #expect(throws: InputError.self) { try store.runs(RunQuery()) }
    }
}
