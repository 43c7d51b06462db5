// rlhub — a report of one experiment in the store: selects its finished runs, computes the
// statistics and fills a `ReportData` for `ReportWriter`.
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

        public init(
            bootstrapReps: Int = 2000, bootstrapSeed: UInt64 = 0,
            taus: [Double] = (0...20).map { Double($0) / 20 }, smoothing: Double = 0,
            curvePoints: Int? = 200, algorithmOrder: [String] = [], taskOrder: [String] = [],
            description: String = "", heldOut: [HeldOutSet] = []
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

    /// The report of the finished runs of `experiment` that `filter` selects (warm-ups aside).
    ///
    /// - Throws: ``InputError`` naming the experiment when no finished run matches, or when none
    ///   of them has a held-out accuracy score.
    public static func build(
        store: RunStore, experiment: String, filter: RunFilter? = nil, options: Options = Options()
    ) throws -> ReportData {
        let filter = filter ?? .all
        let inExperiment = "r.experiment_id = (SELECT id FROM experiments WHERE name = ?) AND r.status = 'finished'"
        // Insertion order (pk) breaks ties of the millisecond creation time; a grid inserts its
        // runs in spec order.
        let order = "r.created, r.pk"
        let all = try store.runs(whereSQL: inExperiment, arguments: [experiment], orderSQL: order)
        var arguments = filter.arguments  // the filter's placeholders come first
        _ = arguments.append(contentsOf: [experiment])
        let selected = try store.runs(
            whereSQL: "(\(filter.sql)) AND " + inExperiment, arguments: arguments, orderSQL: order)
        let compared = selected.filter { !isWarmup($0) }
        guard !compared.isEmpty else {
            let what = filter.text.isEmpty ? "" : " matching '\(filter.text)'"
            throw InputError(
                file: "experiment", field: experiment,
                message: "no finished run\(what) in the store (warm-up runs are not compared); see `rlhub runs`")
        }

        // Scores of every run read once; a run without a held-out accuracy is left out.
        var scores: [String: [ScoreRecord]] = [:]
        for run in all + selected where scores[run.id] == nil { scores[run.id] = try store.scores(run: run.id) }
        func curve(_ run: RunRecord) -> [(step: Int, value: Double)] {
            (scores[run.id] ?? []).filter { $0.split == scoreSplit && $0.metric == scoreMetric }
                .map { ($0.step, $0.value) }
        }
        let scored = compared.filter { !curve($0).isEmpty }
        guard !scored.isEmpty else {
            throw InputError(
                file: "experiment", field: experiment,
                message: "no finished run has a '\(scoreSplit)' '\(scoreMetric)' score to report")
        }
        let unscored = compared.count - scored.count

        let algorithms = ordered(scored.map(\.algo), first: options.algorithmOrder)
        let tasks = ordered(scored.map(\.task), first: options.taskOrder)
        func final(_ run: RunRecord) -> Double { curve(run).max { $0.step < $1.step }?.value ?? .nan }
        func runs(_ algorithm: String, _ task: String) -> [RunRecord] {
            scored.filter { $0.algo == algorithm && $0.task == task }
        }

        // Per-algorithm score matrices over the tasks it ran.
        var matrices: [String: ScoreMatrix] = [:]
        for a in algorithms {
            var byTask: [String: [Double]] = [:]
            for t in tasks {
                let r = runs(a, t)
                if !r.isEmpty { byTask[t] = r.map(final) }
            }
            matrices[a] = ScoreMatrix(byTask)
        }
        let bootstrap = StratifiedBootstrap(reps: options.bootstrapReps, seed: options.bootstrapSeed)

        // Aggregates: one panel per metric, one estimate per algorithm.
        let metrics = AggregateMetric.all
        var perAlgorithm: [[IntervalEstimate]] = []
        for a in algorithms {
            perAlgorithm.append(Aggregates.intervals(matrices[a]!, metrics: metrics, bootstrap: bootstrap))
        }
        let aggregates = metrics.enumerated().map { k, metric in
            AggregatePanel(
                name: panelName(metric),
                estimates: algorithms.enumerated().map { i, a in
                    let e = perAlgorithm[i][k]
                    return ReportInterval(algorithm: a, point: e.estimate, low: e.lower, high: e.upper)
                })
        }

        // Performance profile over run scores.
        let profile = ProfileChart(
            tauLabel: "test accuracy (τ)", taus: options.taus,
            curves: algorithms.map { a in
                ProfileCurve(
                    algorithm: a,
                    values: PerformanceProfile.intervals(matrices[a]!, taus: options.taus, bootstrap: bootstrap)
                        .map { ProfileValue(fraction: $0.estimate, low: $0.lower, high: $0.upper) })
            })

        // P(row > column) on the tasks both algorithms ran.
        var improvement: ImprovementMatrix? = nil
        if algorithms.count >= 2 {
            let cells: [[ProbabilityCell?]] = algorithms.map { x in
                algorithms.map { y -> ProbabilityCell? in
                    guard x != y, let mx = matrices[x], let my = matrices[y] else { return nil }
                    let common = mx.tasks.filter { my.tasks.contains($0) }
                    guard !common.isEmpty else { return nil }
                    let cx = ScoreMatrix(Dictionary(uniqueKeysWithValues: common.map { ($0, mx[$0]!) }))
                    let cy = ScoreMatrix(Dictionary(uniqueKeysWithValues: common.map { ($0, my[$0]!) }))
                    let e = ProbabilityOfImprovement.interval(cx, over: cy, bootstrap: bootstrap)
                    return ProbabilityCell(p: e.estimate, low: e.lower, high: e.upper)
                }
            }
            improvement = ImprovementMatrix(algorithms: algorithms, cells: cells)
        }

        // Accuracy lies in [0, 1]; a t-interval over 3 seeds does not know that and reaches past
        // both ends, so bounds are clipped to the range the metric can take.
        func clipped(_ bound: Double) -> Double { bound.isNaN ? bound : min(1, max(0, bound)) }

        // Learning curves: held-out accuracy at every evaluation step, mean and 95% t-band.
        let grouping = CurveGrouping(
            alignment: .intersection, smoothing: options.smoothing, points: options.curvePoints)
        let learningCurves = tasks.map { t in
            let bands = grouping.bands(scored.filter { $0.task == t }.map {
                LearningCurve(group: $0.algo, points: curve($0))
            })
            return LearningCurvePanel(
                task: t, xLabel: "step", yLabel: "test accuracy",
                series: algorithms.compactMap { a in
                    bands.first { $0.group == a }.map { b in
                        CurveSeries(label: a, points: b.steps.indices.map {
                            CurvePoint(x: Double(b.steps[$0]), mean: b.mean[$0],
                                       low: b.runs > 1 ? clipped(b.lower[$0]) : .nan, high: b.runs > 1 ? clipped(b.upper[$0]) : .nan)
                        })
                    }
                })
        }

        // Final scores: mean and Student-t 95% interval over seeds (none for one run), clipped to [0, 1].
        var finalScores: [FinalScoreRow] = []
        for a in algorithms {
            for t in tasks {
                let values = runs(a, t).map(final)
                guard !values.isEmpty else { continue }
                let ci = CurveGrouping.tInterval(values)
                let one = values.count == 1
                finalScores.append(FinalScoreRow(
                    algorithm: a, task: t, runs: values.count, mean: ci.estimate,
                    low: one ? .nan : clipped(ci.lower), high: one ? .nan : clipped(ci.upper)))
            }
        }

        // Gain over the warm start, paired by seed (the run's own step-0 score), and its summary.
        func start(_ run: RunRecord) -> Double? { curve(run).first { $0.step == 0 }?.value }
        let gains = gainRows(algorithms: algorithms, tasks: tasks, runs: runs, start: start, final: final)
        let gainSummary = gainSummary(
            algorithms: algorithms, tasks: tasks,
            gainsOf: { a, t in runs(a, t).compactMap { r in start(r).map { final(r) - $0 } } }, bootstrap: bootstrap)

        // Warm-ups of the shown tasks: the starting point, and part of the provenance.
        let warmups = all.filter { isWarmup($0) && tasks.contains($0.task) && !curve($0).isEmpty }
        let startingPoints: [(task: String, mean: Double, runs: Int)] = tasks.compactMap { t in
            let values = warmups.filter { $0.task == t }.map(final)
            return values.isEmpty ? nil : (t, Quantiles.mean(values), values.count)
        }

        // Provenance and data: warm-ups first (they ran first), then the compared runs.
        let releases = try store.releases()
        let reported = warmups + scored
        var costs: [String: RunCompute] = [:]
        for r in reported { costs[r.id] = try runCompute(store: store, run: r.id) }
        let compute = computeRows(algorithms: algorithms, tasks: tasks, runs: runs, compute: costs, gains: gains)
        let provenance = reported.map { r in
            ProvenanceRow(
                runID: r.id, algorithm: label(r), task: r.task, seed: r.seed, status: r.status.rawValue,
                steps: r.stepsDone, configHash: r.configHash, codeVersion: r.codeVersion,
                release: releases.filter { $0.runs.contains(r.id) }.map(\.name).joined(separator: " "),
                compute: costs[r.id] ?? RunCompute())
        }
        var rows: [[DataValue]] = []
        for r in reported {
            for s in scores[r.id] ?? [] {
                rows.append([.text(label(r)), .text(r.task), .text(r.id), .integer(r.seed), .integer(s.step),
                             .text(s.split + "/" + s.metric), .number(s.value)])
            }
            // The run's compute, at its last step (left out where it was not recorded).
            let c = costs[r.id] ?? RunCompute()
            for (name, value) in [("compute/cpu_s", c.cpuSeconds), ("compute/tokens_generated", c.tokensGenerated),
                                  ("compute/tokens_trained", c.tokensTrained)] where value.isFinite {
                rows.append([.text(label(r)), .text(r.task), .text(r.id), .integer(r.seed), .integer(r.stepsDone),
                             .text(name), .number(value)])
            }
        }
        let table = DataTable(columns: ["algorithm", "task", "run", "seed", "step", "metric", "value"], rows: rows)

        // Words: what was run, the starting point, and anything the reader must know.
        var summary: [String] = []
        if !options.description.isEmpty {
            let d = options.description.trimmingCharacters(in: .whitespacesAndNewlines)
            summary.append(d.hasSuffix(".") ? d : d + ".")
        }
        let seeds = Set(scored.map(\.seed)).count
        summary.append(
            "\(count(algorithms.count, "algorithm")) × \(count(tasks.count, "task")) × "
                + "\(count(seeds, "seed")) (\(count(scored.count, "finished run"))); the score of a run is its "
                + "held-out test accuracy at its final step, in [0, 1] (not normalised).")
        let heldOut = options.heldOut.filter { tasks.contains($0.task) }
        if !heldOut.isEmpty {
            summary.append("Held-out evaluation (greedy, the same problems for every run of a task): "
                + heldOut.map { "\($0.task) \($0.problems) problems (\($0.distinct) distinct)" }.joined(separator: ", ") + ".")
        }
        if !startingPoints.isEmpty {
            summary.append("Starting point (warm-up \(warmups.first.map(\.algo) ?? "sft"), mean test accuracy): "
                + startingPoints.map { "\($0.task) \(fixed($0.mean)) (\(count($0.runs, "run")))" }
                    .joined(separator: ", ") + ".")
        }
        if !gains.isEmpty {
            let above = gains.filter { $0.excludesZero && $0.gain > 0 }.count
            summary.append("Gain over the warm start (final minus step-0 test accuracy of the same run, paired by seed; "
                + "mean over tasks with its 95% stratified bootstrap interval): "
                + gainSummary.map { "\($0.algorithm) \(signed($0.point)) [\(signed($0.low)), \(signed($0.high))]" }
                    .joined(separator: ", ")
                + "; \(above) of \(count(gains.count, "algorithm × task gain")) have a 95% interval above 0.")
        }
        if unscored > 0 {
            summary.append("\(count(unscored, "finished run")) without a test accuracy score left out.")
        }
        for a in algorithms {
            for t in tasks {
                let hashes = Set(runs(a, t).map(\.groupHash))
                if hashes.count > 1 {
                    summary.append("Note: \(a) on \(t) mixes \(hashes.count) configurations (group hashes).")
                }
            }
        }
        if !filter.text.isEmpty { summary.append("Runs selected by --where \(filter.text).") }

        let codeVersions = ordered(reported.map(\.codeVersion), first: [])
        return ReportData(
            title: "Experiment \(experiment)",
            description: summary.joined(separator: " "),
            generatedFrom: "experiment \(experiment) · store schema \(StoreSchema.version) · code "
                + codeVersions.joined(separator: ", "),
            scoreName: "test accuracy",
            intervalMethod: "95% stratified bootstrap confidence intervals, "
                + "\(grouped(options.bootstrapReps)) resamples (seed \(options.bootstrapSeed)); "
                + "learning-curve bands and final-score intervals: Student-t 95% over seeds, clipped to [0, 1]",
            algorithms: algorithms, tasks: tasks, learningCurves: learningCurves, aggregates: aggregates,
            performanceProfile: profile, improvement: improvement, finalScores: finalScores,
            gains: gains, gainSummary: gainSummary, compute: compute,
            provenance: provenance, data: table)
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
