// A store with an experiment of three finished runs (metrics, scores, a checkpoint each) and a
// release of them: what the hub tests publish, pull and serve.
import Foundation
import RLHubCore
import Store

func scratch(_ name: String) -> String {
    let path = NSTemporaryDirectory() + "rlhub-hub-\(name)-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
    try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    return path
}

struct HubFixture {
    let root: String
    let store: RunStore
    let runs: [String]
    let release = "demo-v1"

    /// `runs` finished runs of experiment `demo` (algorithms a and b), 5 steps each, a checkpoint of
    /// `checkpointBytes` pseudo-random bytes each, released as `demo-v1`.
    init(_ name: String, runs count: Int = 3, checkpointBytes: Int = 64 << 10) throws {
        root = scratch(name)
        store = try RunStore(directory: root + "/store")
        try store.upsertExperiment(name: "demo", specText: "name: demo\n", specHash: "spec-hash")
        var ids: [String] = []
        for i in 0..<count {
            let algo = i % 2 == 0 ? "grpo" : "rloo"
            let id = try store.createRun(NewRun(
                experiment: "demo", cell: "\(algo)/add/seed\(i)", algo: algo, task: "add:digits=1", model: "preset:tiny", seed: i,
                configJSON: "{\"algo\":\"\(algo)\",\"seed\":\(i)}", configHash: "config-\(i)", groupHash: "group-\(algo)",
                codeVersion: CodeVersion(commit: String(repeating: "c", count: 40), dirty: false, diffHash: ""), threads: 1))
            try store.markRunning(id, threads: 1)
            for step in 1...5 {
                try store.appendMetrics(run: id, records: [(step, ["reward/mean": Double(step * (i + 1)) / 10, "loss/total": 1 / Double(step)])])
            }
            try store.addScores(run: id, [ScoreRecord(step: 5, split: "test", metric: "accuracy", value: 0.1 * Double(i + 1), episodes: 20, ciLow: 0, ciHigh: 0.5)])
            let folder = root + "/ckpt-\(i)"
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
            var state = UInt64(i + 1) &* 0x9E37_79B9_7F4A_7C15
            let bytes = (0..<checkpointBytes).map { _ -> UInt8 in
                state = state &* 6364136223846793005 &+ 1442695040888963407
                return UInt8(truncatingIfNeeded: state >> 56)
            }
            try Data(bytes).write(to: URL(fileURLWithPath: folder + "/model.safetensors"))
            try store.addCheckpoint(run: id, step: 5, folder: folder)
            try store.setStepsDone(id, 5)
            try store.markFinished(id)
            try store.tag(id, key: "note", value: "run \(i)")
            ids.append(id)
        }
        runs = ids
        try store.createRelease(name: release, filter: RunFilter(where: "experiment = 'demo'"), notes: "demo release")
    }

    /// Everything a pull should reproduce, as comparable text: runs, points, summaries, scores,
    /// checkpoints and tags of the release.
    static func snapshot(_ store: RunStore, release: String) throws -> [String] {
        var lines: [String] = []
        for id in try store.release(release).runs {
            let r = try store.run(id)
            lines.append("run \(r.id) \(r.experiment ?? "-") \(r.cell ?? "-") \(r.algo) \(r.seed) \(r.configHash) \(r.status) \(r.stepsDone) \(r.created)")
            lines += try store.allMetrics(run: id).map { "point \(id) \($0.step) \($0.name) \($0.value.map { "\($0)" } ?? "nil")" }
            lines += try store.metricSummaries(run: id).map { "summary \(id) \($0.name) \($0.finalStep) \($0.finalValue ?? .nan) \($0.count)" }
            lines += try store.scores(run: id).map { "score \(id) \($0)" }
            lines += try store.checkpoints(run: id).map { "checkpoint \(id) \($0.step) \($0.sha256) \($0.bytes) \($0.path)" }
            lines += try store.tags(id).map { "tag \(id) \($0.key)=\($0.value)" }
        }
        return lines
    }
}
