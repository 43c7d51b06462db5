// rlhub verify — re-runs a stored run from its stored config and compares bit for bit.
import Foundation
import LM
import RLHubCore
import Store
import Tensor
import Trainer

/// The result of re-running a stored run.
public struct VerifyResult: Sendable {
    public var run: String
    public var steps: Int
    public var pointsCompared: Int
    /// The first differing point: (step, metric, stored, recomputed).
    public var firstDivergence: (step: Int, metric: String, stored: Double?, recomputed: Double?)?
    /// Stored and recomputed SHA-256 of the final checkpoint archive (full re-runs only).
    public var checkpoint: (stored: String, recomputed: String)?
    /// The code version that stored the run, and this binary's.
    public var codeVersions: (stored: String, current: String)
    public var matches: Bool {
        firstDivergence == nil && (checkpoint.map { $0.stored == $0.recomputed } ?? true)
    }
}

public enum RunVerifier {
    /// Wall-clock measurements (`time/…`, `perf/…`) differ between any two runs; everything else
    /// must be identical.
    public static func isTiming(_ metric: String) -> Bool {
        metric.hasPrefix("time/") || metric.hasPrefix("perf/")
    }

    /// Re-runs the first `steps` steps (all when nil) of a finished run with its stored config
    /// and thread count, in this process, and compares every metric bit for bit; a full re-run
    /// also compares the final checkpoint's archive hash.
    public static func verify(store: RunStore, run id: String, steps: Int? = nil, scratch: String) throws -> VerifyResult {
        let record = try store.run(id)
        let config = try CellWorker.config(of: record)
        let full = steps == nil || steps! >= config.steps
        let horizon = min(steps ?? config.steps, config.steps)
        guard record.stepsDone >= horizon else {
            throw InputError(file: "run", field: record.id, message: "has only \(record.stepsDone) steps stored; verify at most that many")
        }
        ComputeThreads.set(record.threads)
        let sink = MemoryMetricSink()
        let (trainer, _) = try ModelResolver(store: store).trainer(for: config, sink: sink)
        var recomputed: [Int: [String: Double]] = [:]
        try trainer.train(checkpointRoot: nil, stopAfter: horizon) { step, metrics in
            recomputed[step, default: [:]].merge(metrics) { $1 }
        }
        var stored: [Int: [String: Double?]] = [:]
        for p in try store.allMetrics(run: record.id) where p.step <= horizon { stored[p.step, default: [:]][p.name] = p.value }
        var result = VerifyResult(
            run: record.id, steps: horizon, pointsCompared: 0,
            codeVersions: (record.codeVersion.description, CodeVersion.current.description))
        outer: for step in Set(stored.keys).union(recomputed.keys).sorted() {
            let a = stored[step] ?? [:]
            let b = recomputed[step] ?? [:]
            for name in Set(a.keys).union(b.keys).sorted() where !isTiming(name) {
                let s: Double? = a[name] ?? nil
                let r: Double? = b[name].flatMap { $0.isFinite ? $0 : nil }
                result.pointsCompared += 1
                if s?.bitPattern != r?.bitPattern || (s == nil) != (r == nil) || (a[name] == nil) != (b[name] == nil) {
                    result.firstDivergence = (step, name, s, r)
                    break outer
                }
            }
        }
        if full, result.firstDivergence == nil, let storedFinal = try store.checkpoints(run: record.id).last {
            let folder = scratch + "/final"
            try? FileManager.default.removeItem(atPath: folder)
            try RunTraining.writeFinal(trainer, to: folder)
            let (sha, _) = try BlobStore(root: scratch + "/blobs").putFolder(folder)
            result.checkpoint = (storedFinal.sha256, sha)
        }
        return result
    }
}
