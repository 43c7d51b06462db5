// Several `rlhub` processes on one store at once: grids on one spec claim each cell exactly once
// (the others wait for it), and concurrent pulls of one hub all succeed with one copy of each run.
import Foundation
import Testing

@Suite("rlhub processes sharing a store", .serialized)
struct ConcurrencyCLITests {
    /// Four cells of two steps each: enough to overlap, short enough to repeat.
    static let spec = """
        name: shared
        model: preset:tiny
        set: {max_new_tokens: 4, token_budget: 64, micro_batch_tokens: 1024, prompts_per_step: 2, group_size: 2}
        steps: 2
        evaluation: {every: 0, episodes: 4}
        algorithms: [grpo, rloo]
        tasks:
          - add:digits=1
        seeds: [0, 1]
        """

    /// Starts every argument list as an `rlhub` process at once; returns (status, stderr) of each.
    static func together(_ commands: [[String]]) throws -> [(status: Int32, err: String)] {
        let processes = try commands.map { args -> (Process, Pipe) in
            let p = Process()
            p.executableURL = URL(fileURLWithPath: try rlhubBinary)
            p.arguments = args
            let err = Pipe()
            p.standardError = err
            p.standardOutput = FileHandle.nullDevice
            try p.run()
            return (p, err)
        }
        return processes.map { p, err in
            let text = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            p.waitUntilExit()
            return (p.terminationStatus, text)
        }
    }

    /// config hash (one per cell) → number of runs, over the runs of the store.
    static func runsPerCell(_ store: String) throws -> [String: Int] {
        let r = try rlhub("runs", "--store", store, "--format", "json")
        let runs = try JSONSerialization.jsonObject(with: Data(r.out.utf8)) as? [[String: Any]] ?? []
        return runs.reduce(into: [:]) { counts, run in counts[(run["config_hash"] as? String) ?? "?", default: 0] += 1 }
    }

    @Test(arguments: [2, 2, 4])
    func gridsOnOneSpecRunEachCellOnce(processes: Int) throws {
        let dir = tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let spec = dir + "/shared.yaml"
        try Self.spec.write(toFile: spec, atomically: true, encoding: .utf8)
        let store = dir + "/store"
        let results = try Self.together(Array(repeating: ["grid", spec, "--store", store, "--jobs", "1", "--threads", "1"], count: processes))
        for (i, r) in results.enumerated() { #expect(r.status == 0, "grid \(i) of \(processes): exit \(r.status): \(r.err)") }
        let counts = try Self.runsPerCell(store)
        print("concurrency: \(processes) grids, runs per cell \(counts.sorted { $0.key < $1.key })")
        #expect(counts.count == 4 && counts.values.allSatisfy { $0 == 1 }, "\(counts)")
        let finished = try rlhub("runs", "--store", store, "--where", "status = 'finished'", "--format", "csv")
        #expect(finished.out.split(separator: "\n").count == 5, "\(finished.out)")
    }

    @Test(arguments: 1...3)
    func fourPullsIntoOneStoreAllSucceed(round: Int) throws {
        let dir = tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let store = dir + "/store"
        let results = try Self.together(Array(repeating: ["pull", BaselinesHubCLITests.hub, "--store", store], count: 4))
        for (i, r) in results.enumerated() { #expect(r.status == 0, "pull \(i), round \(round): exit \(r.status): \(r.err)") }
        // Every run of every release in the hub, once.
        let index = try JSONSerialization.jsonObject(
            with: Data(contentsOf: URL(fileURLWithPath: BaselinesHubCLITests.hub + "/index.json"))) as? [String: Any]
        let releases = index?["releases"] as? [[String: Any]] ?? []
        let published = Set(releases.flatMap { ($0["runs"] as? [[String: Any]] ?? []).compactMap { $0["id"] as? String } })
        let runs = try rlhub("runs", "--store", store, "--format", "json")
        let stored = try JSONSerialization.jsonObject(with: Data(runs.out.utf8)) as? [[String: Any]] ?? []
        print("concurrency: round \(round), 4 pulls, exits \(results.map(\.status)), \(stored.count) runs")
        #expect(!published.isEmpty && stored.count == published.count)
        let verify = try rlhub("checkpoints", "--store", store, "--format", "json")
        #expect(verify.status == 0, "\(verify.err)")
    }
}
