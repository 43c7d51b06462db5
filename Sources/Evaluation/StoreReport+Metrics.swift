// rlhub — the report's training metrics: the per-step metrics a spec's `report: {metrics}` names
// (docs/metrics.md: `entropy`, `mismatch/k3`, …), beside held-out accuracy.
//
// For metric m, run r logged xᵣ(s) at its training steps s; a step where it logged nothing or a
// non-finite value (stored as NULL) is left out. Per task and algorithm:
//   curve:     at each step every run of the algorithm logged, x̄(s) ± t₀.₉₇₅,ₙ₋₁ · sd/√n over its
//              n runs (`CurveGrouping`, intersection alignment), not clipped: m is unbounded;
//   run mean:  x̄ᵣ = mean of xᵣ(s) over r's finite steps, then mean over the n runs that logged m,
//              ± t₀.₉₇₅,ₙ₋₁ · sd(x̄ᵣ)/√n (no interval for one run).
// A run that never logged m counts in neither; a metric no compared run logged is an empty section
// (the renderers say so in one line).
import Foundation
import Store

extension StoreReport {
    /// The prefix of a run mean's `metric` column in `data.csv` (`run_mean/entropy`).
    static let runMeanPrefix = "run_mean/"

    /// The sections of `options.metrics` over the compared runs, and each run's mean of every
    /// metric it logged (run id → (metric, mean), in the options' order) for the data table.
    static func trainingMetrics(
        store: RunStore, _ runs: ExperimentRuns, options: Options
    ) throws -> (sections: [MetricSection], runMeans: [String: [(metric: String, value: Double)]]) {
        guard !options.metrics.isEmpty else { return ([], [:]) }
        let grouping = CurveGrouping(alignment: .intersection, smoothing: options.smoothing, points: options.curvePoints)
        var sections: [MetricSection] = []
        var runMeans: [String: [(metric: String, value: Double)]] = [:]
        for metric in options.metrics {
            var points: [String: [(step: Int, value: Double)]] = [:]
            for run in runs.scored {
                let finite = try store.curve(run: run.id, metric: metric).compactMap { p -> (step: Int, value: Double)? in
                    guard let v = p.value, v.isFinite else { return nil }
                    return (p.step, v)
                }
                if !finite.isEmpty { points[run.id] = finite }
            }
            for run in runs.scored {
                if let p = points[run.id] { runMeans[run.id, default: []].append((metric, Quantiles.mean(p.map(\.value)))) }
            }
            sections.append(metricSection(metric, runs: runs, points: points, grouping: grouping))
        }
        return (sections, runMeans)
    }

    /// One metric's section from each run's finite points (runs without any are absent from
    /// `points`): a curve panel per task that some run logged it on, a row per (algorithm, task).
    static func metricSection(
        _ metric: String, runs: ExperimentRuns, points: [String: [(step: Int, value: Double)]], grouping: CurveGrouping
    ) -> MetricSection {
        let logged = runs.scored.filter { points[$0.id] != nil }
        let curves: [LearningCurvePanel] = runs.tasks.compactMap { task in
            let taskRuns = logged.filter { $0.task == task }
            guard !taskRuns.isEmpty else { return nil }
            let bands = grouping.bands(taskRuns.map { LearningCurve(group: $0.algo, points: points[$0.id] ?? []) })
            return LearningCurvePanel(
                task: task, xLabel: "step", yLabel: metric,
                series: runs.algorithms.compactMap { algorithm in
                    bands.first { $0.group == algorithm }.map { curveSeries($0, clip: false) }
                })
        }
        var rows: [MetricRow] = []
        for algorithm in runs.algorithms {
            for task in runs.tasks {
                let means = logged.filter { $0.algo == algorithm && $0.task == task }
                    .map { run in Quantiles.mean((points[run.id] ?? []).map(\.value)) }
                guard !means.isEmpty else { continue }
                let ci = CurveGrouping.tInterval(means)
                let one = means.count == 1
                rows.append(MetricRow(
                    algorithm: algorithm, task: task, runs: means.count, mean: ci.estimate,
                    low: one ? .nan : ci.lower, high: one ? .nan : ci.upper))
            }
        }
        return MetricSection(metric: metric, curves: curves, rows: rows)
    }
}
