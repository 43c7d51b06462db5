// rlhub stats — rliable-grade aggregates of a long-format score table (Agarwal et al. 2021): IQM,
// mean, median and optimality gap per algorithm with stratified-bootstrap 95% CIs, and P(A > B).
import ArgumentParser
import Evaluation
import Foundation
import LM
import RLHubCore

struct StatsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "stats",
        abstract: "Aggregate scores as rliable does: IQM, mean, median, optimality gap with 95% CIs; P(A > B).",
        discussion: """
            Example: rlhub stats scores.csv --metrics iqm,optimality-gap --poi grpo,ppo --seed 1

            SCORES.csv is long format with a header naming algorithm, task, run, score and \
            optionally step (any order, quoted fields allowed); with step, each run's score at its \
            last step is used. Scores are used as given: normalise them per task first (the \
            optimality gap's threshold is 1).

            Metrics: iqm (25% trimmed mean of all runs of all tasks), mean and median (of per-task \
            means), optimality-gap (mean of max(1 − score, 0); lower is better). Intervals: \
            stratified bootstrap (runs resampled within each task), percentile method, as rliable; \
            the same --seed gives the same numbers for any --threads.
            """)

    @Argument(help: "Long-format CSV: algorithm,task,run,score[,step].") var scores: String
    @Option(help: "Comma-separated metrics: \(AggregateMetric.names.joined(separator: ", ")).")
    var metrics = AggregateMetric.names.joined(separator: ",")
    @Option(help: "Probability of improvement P(A > B) of two algorithms, given as A,B.") var poi: String?
    @Option(help: "Bootstrap replicates.") var reps = 2000
    @Option(help: "Seed of the bootstrap resampling.") var seed: UInt64 = 0
    @Option(help: "Output format: table or json.") var format: OutputFormat = .table
    @OptionGroup var compute: ComputeOptions

    func run() throws {
        try compute.apply()
        let chosen = try AggregateMetric.parseList(metrics, source: "--metrics")
        guard reps > 0 else { throw InputError(file: "--reps", message: "must be positive, got \(reps)") }
        let table = try ScoreTable.read(path: scores)
        let matrices = table.finalScores()
        let pair = try poi.map { s throws(InputError) in try parsePair(s, algorithms: table.algorithms) }
        let bootstrap = StratifiedBootstrap(reps: reps, seed: seed)

        var report = StatsReport(file: scores, reps: reps, seed: seed, confidence: bootstrap.confidence)
        for algorithm in table.algorithms {
            guard let m = matrices[algorithm] else { continue }
            let estimates = Aggregates.intervals(m, metrics: chosen, bootstrap: bootstrap)
            report.algorithms.append(
                AlgorithmStats(
                    algorithm: algorithm, tasks: m.taskCount, runs: m.runCounts.reduce(0, +),
                    metrics: zip(chosen, estimates).map { MetricStats(metric: $0.name, estimate: $1) }))
        }
        if let (a, b) = pair {
            let x = try matrix(a, in: matrices), y = try matrix(b, in: matrices)
            guard x.tasks == y.tasks else {
                let onlyA = Set(x.tasks).subtracting(y.tasks).sorted()
                let onlyB = Set(y.tasks).subtracting(x.tasks).sorted()
                throw InputError(
                    file: "--poi",
                    message: "\(a) and \(b) need the same tasks; only \(a): \(onlyA.joined(separator: ", ")); "
                        + "only \(b): \(onlyB.joined(separator: ", "))")
            }
            let estimate = ProbabilityOfImprovement.interval(x, over: y, bootstrap: bootstrap)
            report.poi = POIStats(x: a, y: b, estimate: estimate)
        }
        if format == .json { return try printJSON(report) }
        printTable(report)
    }

    /// `A,B` → (A, B). Names may contain commas: the split that gives two known algorithms wins.
    private func parsePair(_ s: String, algorithms: [String]) throws(InputError) -> (String, String) {
        let known = Set(algorithms)
        let commas = s.indices.filter { s[$0] == "," }
        let splits = commas.map { i in
            (s[..<i].trimmingCharacters(in: .whitespaces), s[s.index(after: i)...].trimmingCharacters(in: .whitespaces))
        }
        if let pair = splits.first(where: { known.contains($0.0) && known.contains($0.1) }) { return pair }
        guard splits.count == 1, !splits[0].0.isEmpty, !splits[0].1.isEmpty else {
            throw InputError(file: "--poi", message: "expected two algorithms as A,B, got '\(s)'")
        }
        return splits[0]
    }

    private func matrix(_ name: String, in matrices: [String: ScoreMatrix]) throws(InputError) -> ScoreMatrix {
        guard let m = matrices[name] else {
            throw InputError(
                file: "--poi",
                message: "unknown algorithm '\(name)'; algorithms in \(scores): "
                    + matrices.keys.sorted().joined(separator: ", "))
        }
        return m
    }

    private func printTable(_ r: StatsReport) {
        let percent = Int((r.confidence * 100).rounded())
        let count = "\(r.algorithms.count) algorithm\(r.algorithms.count == 1 ? "" : "s")"
        print("\(r.file): \(count) · \(r.reps) bootstrap reps · "
            + "seed \(r.seed) · \(percent)% CIs (stratified bootstrap, percentile)")
        var rows = [["algorithm", "tasks", "runs", "metric", "estimate", "\(percent)% CI"]]
        for a in r.algorithms {
            for m in a.metrics {
                rows.append([
                    a.algorithm, String(a.tasks), String(a.runs), m.metric, format4(m.estimate),
                    "[\(format4(m.lower)), \(format4(m.upper))]",
                ])
            }
        }
        let widths = (0..<rows[0].count).map { c in rows.map { $0[c].count }.max() ?? 0 }
        for row in rows {
            let cells = row.enumerated().map { c, s in
                let pad = String(repeating: " ", count: widths[c] - s.count)
                return (1...2).contains(c) || c == 4 ? pad + s : s + pad  // numbers right-aligned
            }
            print(cells.joined(separator: "  ").trimmingCharacters(in: .whitespaces))
        }
        if let p = r.poi {
            let ci = "[\(format4(p.lower)), \(format4(p.upper))]"
            print("P(\(p.x) > \(p.y)) = \(format4(p.estimate))  \(percent)% CI \(ci)")
        }
    }

    private func format4(_ x: Double) -> String { String(format: "%.4f", x) }
}

/// `rlhub stats --format json`.
struct StatsReport: Encodable {
    var file: String
    var reps: Int
    var seed: UInt64
    var confidence: Double
    var method = "stratified bootstrap (runs resampled within tasks), percentile intervals"
    var algorithms: [AlgorithmStats] = []
    var poi: POIStats?

    init(file: String, reps: Int, seed: UInt64, confidence: Double) {
        self.file = file
        self.reps = reps
        self.seed = seed
        self.confidence = confidence
    }
}

struct AlgorithmStats: Encodable {
    var algorithm: String
    var tasks: Int
    var runs: Int
    var metrics: [MetricStats]
}

struct MetricStats: Encodable {
    var metric: String
    var estimate: Double
    var lower: Double
    var upper: Double

    init(metric: String, estimate e: IntervalEstimate) {
        self.metric = metric
        estimate = e.estimate
        lower = e.lower
        upper = e.upper
    }
}

struct POIStats: Encodable {
    var x: String
    var y: String
    var estimate: Double
    var lower: Double
    var upper: Double

    init(x: String, y: String, estimate e: IntervalEstimate) {
        self.x = x
        self.y = y
        estimate = e.estimate
        lower = e.lower
        upper = e.upper
    }
}
