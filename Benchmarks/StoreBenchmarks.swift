// rlhub — store benchmarks: metric logging (one process and four at once), curve reads and
// `runs --where` over many runs. The workload of the logging entry is the one
// scripts/mlflow-store-bench.py gives MLflow: 10 metrics × 2,000 steps, 100 steps per batch.
import Foundation
import LM
import RLHubCore
import Store

public struct StoreBenchmarks {
    let runner: BenchmarkRunner
    /// The rlhub binary, started as `bench-store-writer` for the concurrent entry.
    let executable: String

    public init(runner: BenchmarkRunner, executable: String) {
        self.runner = runner
        self.executable = executable
    }

    static let names = (0..<10).map { "m\($0)" }

    /// Logs `steps` steps of the 10 metrics into a new run, `stepsPerBatch` steps per transaction.
    public static func logWorkload(store: RunStore, steps: Int, stepsPerBatch: Int, tag: String) throws -> String {
        let id = try newRun(store: store, tag: tag)
        try log(store: store, run: id, steps: steps, stepsPerBatch: stepsPerBatch)
        try store.markFinished(id)
        return id
    }

    /// A running run to log into (created outside the timed part, as MLflow's `create_run` is).
    static func newRun(store: RunStore, tag: String) throws -> String {
        let id = try store.createRun(NewRun(
            algo: "bench", task: tag, model: "none", seed: 0, configJSON: "{}", configHash: "bench-" + tag, groupHash: "bench",
            threads: 1))
        try store.markRunning(id)
        return id
    }

    /// The timed part: `steps` steps of the 10 metrics, `stepsPerBatch` steps per transaction.
    static func log(store: RunStore, run id: String, steps: Int, stepsPerBatch: Int) throws {
        var s0 = 0
        while s0 < steps {
            let records = (s0..<min(steps, s0 + stepsPerBatch)).map { s in
                (step: s, metrics: Dictionary(uniqueKeysWithValues: names.enumerated().map { ($1, Double(s) * 0.001 + Double($0)) }))
            }
            try store.appendMetrics(run: id, records: records)
            s0 += stepsPerBatch
        }
    }

    public func run() throws {
        let dir = NSTemporaryDirectory() + "rlhub-bench-store-\(getpid())"
        try? FileManager.default.removeItem(atPath: dir)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let steps = 2000, points = steps * Self.names.count

        // One process, batched like MLflow's log_batch (1,000 points per call).
        var times: [Double] = []
        for rep in 0..<5 {
            let store = try RunStore(directory: dir + "/one-\(rep)")
            let id = try Self.newRun(store: store, tag: "one")
            times.append(try timed { try Self.log(store: store, run: id, steps: steps, stepsPerBatch: 100) })
        }
        record("store.log_metrics.batched", seconds: median(times), rate: Double(points) / median(times),
               detail: "\(points) points, 1,000 per transaction, one process")
        // One transaction per trainer step (10 points): what a training run does.
        times = []
        for rep in 0..<3 {
            let store = try RunStore(directory: dir + "/step-\(rep)")
            let id = try Self.newRun(store: store, tag: "step")
            times.append(try timed { try Self.log(store: store, run: id, steps: steps, stepsPerBatch: 1) })
        }
        record("store.log_metrics.per_step", seconds: median(times), rate: Double(points) / median(times),
               detail: "\(points) points, 10 per transaction, one process")

        // Four processes writing to one store at once.
        times = []
        for rep in 0..<3 {
            let shared = dir + "/four-\(rep)"
            _ = try RunStore(directory: shared)
            let seconds = try timed {
                let workers = try (0..<4).map { i -> Process in
                    let p = Process()
                    p.executableURL = URL(fileURLWithPath: executable)
                    p.standardOutput = FileHandle.nullDevice
                    p.arguments = ["bench-store-writer", "--store", shared, "--steps", "\(steps)", "--steps-per-batch", "100", "--tag", "w\(i)"]
                    try p.run()
                    return p
                }
                for p in workers { p.waitUntilExit() }
                for p in workers where p.terminationStatus != 0 {
                    throw InputError(file: "bench-store-writer", message: "a writer failed with status \(p.terminationStatus)")
                }
            }
            let store = try RunStore(directory: shared)
            let stored = try store.runs().reduce(0) { $0 + (try store.allMetrics(run: $1.id).count) }
            guard stored == 4 * points else { throw InputError(file: shared, message: "expected \(4 * points) points, found \(stored)") }
            times.append(seconds)
        }
        record("store.log_metrics.4_processes", seconds: median(times), rate: Double(4 * points) / median(times),
               detail: "4 × \(points) points, 1,000 per transaction, 4 processes (process start included), no lock errors")

        // A 1M-point curve.
        let big = try RunStore(directory: dir + "/big")
        let bigRun = try big.createRun(NewRun(algo: "bench", task: "big", model: "none", seed: 0, configJSON: "{}", configHash: "big", groupHash: "big", threads: 1))
        var s0 = 0
        while s0 < 1_000_000 {
            try big.appendMetrics(run: bigRun, records: (s0..<s0 + 10_000).map { (step: $0, metrics: ["reward/mean": Double($0) * 1e-6]) })
            s0 += 10_000
        }
        times = try (0..<5).map { _ in try timed { _ = try big.curve(run: bigRun, metric: "reward/mean") } }
        record("store.read_curve.1M", seconds: median(times), rate: 1e6 / median(times), detail: "1,000,000 points of one metric")
        times = try (0..<5).map { _ in try timed { _ = try big.curve(run: bigRun, metric: "reward/mean", every: 1000) } }
        record("store.read_curve.1M_every_1000", seconds: median(times), rate: 1e6 / median(times), detail: "1,000,000 points read, 1,001 returned")

        // `runs --where` over 10k runs.
        let many = try RunStore(directory: dir + "/many")
        let algos = ["grpo", "dr-grpo", "dapo", "rloo", "ppo"]
        for i in 0..<10_000 {
            let id = try many.createRun(NewRun(
                algo: algos[i % 5], task: i % 2 == 0 ? "add" : "frozenlake", model: "preset:tiny", seed: i % 7,
                configJSON: "{\"algorithm\":{\"lr\":\(Double(i % 4) * 1e-4)}}", configHash: "c\(i)", groupHash: "g\(i % 50)", threads: 1))
            try many.appendMetrics(run: id, records: [(step: 40, metrics: ["reward/mean": Double(i % 97) / 97, "eval/accuracy": Double(i % 13) / 13])])
        }
        let query = try RunQuery(where: "algo = 'grpo' and final.reward/mean > 0.5 and config.algorithm.lr > 0", sort: "-final.eval/accuracy", limit: nil)
        var hits = 0
        times = try (0..<5).map { _ in try timed { hits = try many.runs(query).count } }
        record("store.runs_where.10k", seconds: median(times), rate: nil,
               detail: "10,000 runs; algo, final.reward/mean and config.algorithm.lr filter, sorted by final.eval/accuracy: \(hits) hits")
    }

    func record(_ name: String, seconds: Double, rate: Double?, detail: String) {
        runner.recordPlain(name, seconds: seconds, pointsPerSecond: rate, detail: detail)
    }
}
