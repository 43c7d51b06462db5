// rlhub — a report of one experiment in the store: selects its finished runs, computes the
// statistics and fills a `ReportData` for `ReportWriter`. The stages are in StoreReport+Runs
// (load), +Statistics (matrices, aggregates, curves, final scores), +Gains (gain over the warm
// start, compute), +Metrics (training metrics the options name) and +Summary (words, provenance,
// data).
//
// What is compared: within an experiment every (algorithm, task) cell is one configuration up to
// the seed (one `group_hash`), so runs are grouped by their algorithm label per task. A cell whose
// runs carry more than one group hash (the spec changed between runs) is flagged in the summary.
// The score of a run is its held-out accuracy (`scores`, split `test`, metric `accuracy`) at its
// final evaluated step; it lies in [0, 1] (the maximum reward is 1), so it is not normalised.
// Warm-up cells (`warmup/TASK/seedN`) are not compared; their mean score per task is shown as the
// starting point.
//
// Determinism: runs are read in (created, insertion) order, every statistic is a pure function of
// the scores with a fixed bootstrap seed, and `generatedFrom` names the experiment, the store
// schema and the code versions — never a time or a path — so the same store content renders to
// the same bytes.
import Foundation
import RLHubCore
import Store

/// Builds the report of an experiment from the store.
///
/// ```swift
/// let store = try RunStore(directory: ".rlhub")
/// let data = try StoreReport.build(store: store, experiment: "smoke", filter: nil)
/// try ReportWriter.write(data, to: "reports/smoke")
/// ```
public enum StoreReport {
    /// How the report is computed; the defaults are the documented report.
    public struct Options: Sendable, Equatable {
        /// Bootstrap replicates of the aggregate, profile and improvement intervals (2,000).
        public var bootstrapReps: Int
        /// Seed of the bootstrap resampling (0).
        public var bootstrapSeed: UInt64
        /// Thresholds τ of the performance profile (21 points, 0, 0.05, …, 1).
        public var taus: [Double]
        /// EMA weight applied to each run's learning curve before averaging (0: none).
        public var smoothing: Double
        /// At most this many points per learning curve (nil: all evaluation steps).
        public var curvePoints: Int?
        /// Algorithm names to show first, in this order (e.g. the spec's); others follow in
        /// first-appearance order.
        public var algorithmOrder: [String]
        /// Task names to show first, in this order; others follow in first-appearance order.
        public var taskOrder: [String]
        /// A sentence put before the generated summary (e.g. the spec's description).
        public var description: String
        /// The held-out set of each task as the spec evaluates it, stated in the summary (empty:
        /// not known, say nothing).
        public var heldOut: [HeldOutSet]
        /// Per-step training metrics to show beside held-out accuracy (`entropy`,
        /// `mismatch/k3`, …; docs/metrics.md), in this order; empty: no training-metrics section.
        public var metrics: [String]

        public init(
            bootstrapReps: Int = 2000, bootstrapSeed: UInt64 = 0,
            taus: [Double] = (0...20).map { Double($0) / 20 }, smoothing: Double = 0,
            curvePoints: Int? = 200, algorithmOrder: [String] = [], taskOrder: [String] = [],
            description: String = "", heldOut: [HeldOutSet] = [], metrics: [String] = []
        ) {
            self.bootstrapReps = bootstrapReps
            self.bootstrapSeed = bootstrapSeed
            self.taus = taus
            self.smoothing = smoothing
            self.curvePoints = curvePoints
            self.algorithmOrder = algorithmOrder
            self.taskOrder = taskOrder
            self.description = description
            self.heldOut = heldOut
            self.metrics = metrics
        }
    }

    /// A task's held-out evaluation: how many problems each evaluation plays, and how many of
    /// them are distinct (a small test split wraps around).
    public struct HeldOutSet: Sendable, Equatable {
        public var task: String
        public var problems: Int
        public var distinct: Int

        public init(task: String, problems: Int, distinct: Int) {
            self.task = task
            self.problems = problems
            self.distinct = distinct
        }
    }

    /// The split and metric that score a run.
    public static let scoreSplit = "test", scoreMetric = "accuracy"
    /// The cell-name prefix of warm-up runs.
    public static let warmupPrefix = "warmup/"

    /// The report of the finished runs of `experiment` that `filter` selects (warm-ups aside):
    /// load the runs and scores, then the score matrices, the aggregates and gains over them, the
    /// curves, the training metrics `options.metrics` names, and the words and records around them.
    ///
    /// - Throws: ``InputError`` naming the experiment when no finished run matches, or when none
    ///   of them has a held-out accuracy score.
    public static func build(
        store: RunStore, experiment: String, filter: RunFilter? = nil, options: Options = Options()
    ) throws -> ReportData {
        let filter = filter ?? .all
        let runs = try loadRuns(store: store, experiment: experiment, filter: filter, options: options)
        let (algorithms, tasks) = (runs.algorithms, runs.tasks)
        let matrices = scoreMatrices(runs)
        let bootstrap = StratifiedBootstrap(reps: options.bootstrapReps, seed: options.bootstrapSeed)
        let gains = gainRows(algorithms: algorithms, tasks: tasks, runs: runs.runs, start: runs.start, final: runs.final)
        let gainSummary = gainSummary(algorithms: algorithms, tasks: tasks, gainsOf: runs.gains, bootstrap: bootstrap)
        let costs = try runCosts(store: store, of: runs.reported)
        let trainingMetrics = try trainingMetrics(store: store, runs, options: options)
        return ReportData(
            title: "Experiment \(experiment)",
            description: summary(runs, filter: filter, options: options, gains: gains, gainSummary: gainSummary),
            generatedFrom: generatedFrom(experiment: experiment, reported: runs.reported),
            scoreName: "test accuracy",
            intervalMethod: intervalMethod(options),
            algorithms: algorithms, tasks: tasks,
            learningCurves: learningCurves(runs, options: options),
            aggregates: aggregatePanels(algorithms: algorithms, matrices: matrices, bootstrap: bootstrap),
            performanceProfile: performanceProfile(algorithms: algorithms, matrices: matrices, taus: options.taus, bootstrap: bootstrap),
            improvement: improvementMatrix(algorithms: algorithms, matrices: matrices, bootstrap: bootstrap),
            finalScores: finalScoreRows(runs),
            gains: gains, gainSummary: gainSummary,
            compute: computeRows(algorithms: algorithms, tasks: tasks, runs: runs.runs, compute: costs, gains: gains),
            metrics: trainingMetrics.sections,
            provenance: provenanceRows(runs.reported, releases: try store.releases(), costs: costs),
            data: dataTable(runs.reported, scores: runs.scores, costs: costs, runMeans: trainingMetrics.runMeans))
    }

    // MARK: - Helpers

    static func isWarmup(_ run: RunRecord) -> Bool { run.cell?.hasPrefix(warmupPrefix) ?? false }

    /// The algorithm column of a run: its label, or `warmup (sft)` for a warm-up.
    static func label(_ run: RunRecord) -> String { isWarmup(run) ? "warmup (\(run.algo))" : run.algo }

    /// Distinct names: those of `first` that occur, in that order, then the rest by first appearance.
    static func ordered(_ names: [String], first: [String]) -> [String] {
        var out: [String] = []
        for n in first where names.contains(n) && !out.contains(n) { out.append(n) }
        for n in names where !out.contains(n) { out.append(n) }
        return out
    }

    static func panelName(_ metric: AggregateMetric) -> String {
        switch metric {
        case .iqm: "IQM"
        case .mean: "Mean"
        case .median: "Median"
        case .optimalityGap: "Optimality gap"
        }
    }

    static func count(_ n: Int, _ noun: String) -> String { "\(n) \(noun)\(n == 1 ? "" : "s")" }

    /// Three decimals, no locale.
    static func fixed(_ x: Double) -> String {
        let scaled = (x * 1000).rounded()
        let sign = scaled < 0 ? "-" : ""
        let a = Int(abs(scaled))
        let frac = String(a % 1000)
        return sign + "\(a / 1000)." + String(repeating: "0", count: 3 - frac.count) + frac
    }

    /// ``fixed(_:)`` with a sign: "+0.125", "-0.050", "NaN".
    static func signed(_ x: Double) -> String {
        guard x.isFinite else { return "NaN" }
        let f = fixed(x)
        return f.hasPrefix("-") || f == "0.000" ? f : "+" + f
    }

    /// 2000 → "2,000".
    static func grouped(_ n: Int) -> String {
        let digits = String(n)
        var out = ""
        for (i, c) in digits.enumerated() {
            if i > 0 && (digits.count - i) % 3 == 0 { out += "," }
            out.append(c)
        }
        return out
    }
}
