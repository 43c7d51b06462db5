// rlhub — the report's statistics from the compared runs: per-algorithm score matrices, the
// aggregates (IQM, mean, median, optimality gap), performance profiles and P(X > Y) with
// stratified-bootstrap intervals, learning curves and final scores with Student-t intervals.
import Foundation
import Store

extension StoreReport {
    /// Each algorithm's final scores, task → its runs (seeds), over the tasks it ran.
    static func scoreMatrices(_ runs: ExperimentRuns) -> [String: ScoreMatrix] {
        var matrices: [String: ScoreMatrix] = [:]
        for algorithm in runs.algorithms {
            var byTask: [String: [Double]] = [:]
            for task in runs.tasks {
                let finals = runs.finalScores(algorithm, task)
                if !finals.isEmpty { byTask[task] = finals }
            }
            matrices[algorithm] = ScoreMatrix(byTask)
        }
        return matrices
    }

    /// One panel per aggregate metric, one interval estimate per algorithm.
    static func aggregatePanels(
        algorithms: [String], matrices: [String: ScoreMatrix], bootstrap: StratifiedBootstrap
    ) -> [AggregatePanel] {
        let metrics = AggregateMetric.all
        let perAlgorithm = algorithms.map { Aggregates.intervals(matrices[$0]!, metrics: metrics, bootstrap: bootstrap) }
        return metrics.enumerated().map { k, metric in
            AggregatePanel(
                name: panelName(metric),
                estimates: algorithms.enumerated().map { i, algorithm in
                    let e = perAlgorithm[i][k]
                    return ReportInterval(algorithm: algorithm, point: e.estimate, low: e.lower, high: e.upper)
                })
        }
    }

    /// The fraction of each algorithm's run scores above every threshold τ, with its interval.
    static func performanceProfile(
        algorithms: [String], matrices: [String: ScoreMatrix], taus: [Double], bootstrap: StratifiedBootstrap
    ) -> ProfileChart {
        ProfileChart(
            tauLabel: "test accuracy (τ)", taus: taus,
            curves: algorithms.map { algorithm in
                ProfileCurve(
                    algorithm: algorithm,
                    values: PerformanceProfile.intervals(matrices[algorithm]!, taus: taus, bootstrap: bootstrap)
                        .map { ProfileValue(fraction: $0.estimate, low: $0.lower, high: $0.upper) })
            })
    }

    /// P(row > column) on the tasks both algorithms ran; nil for fewer than two algorithms.
    static func improvementMatrix(
        algorithms: [String], matrices: [String: ScoreMatrix], bootstrap: StratifiedBootstrap
    ) -> ImprovementMatrix? {
        guard algorithms.count >= 2 else { return nil }
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
        return ImprovementMatrix(algorithms: algorithms, cells: cells)
    }

    /// Accuracy lies in [0, 1]; a t-interval over 3 seeds does not know that and reaches past
    /// both ends, so bounds are clipped to the range the metric can take.
    static func clipped(_ bound: Double) -> Double { bound.isNaN ? bound : min(1, max(0, bound)) }

    /// Per task, each algorithm's held-out accuracy at every evaluation step: the mean over its
    /// runs with a Student-t 95% band (none for one run), clipped to [0, 1].
    static func learningCurves(_ runs: ExperimentRuns, options: Options) -> [LearningCurvePanel] {
        let grouping = CurveGrouping(alignment: .intersection, smoothing: options.smoothing, points: options.curvePoints)
        return runs.tasks.map { task in
            let bands = grouping.bands(runs.scored.filter { $0.task == task }.map {
                LearningCurve(group: $0.algo, points: runs.curve($0))
            })
            return LearningCurvePanel(
                task: task, xLabel: "step", yLabel: "test accuracy",
                series: runs.algorithms.compactMap { algorithm in
                    bands.first { $0.group == algorithm }.map { curveSeries($0) }
                })
        }
    }

    /// One band as a chart series: its mean at each step, and the band only over several runs,
    /// clipped to [0, 1] unless `clip` is false (a training metric can take any value).
    static func curveSeries(_ band: CurveBand, clip: Bool = true) -> CurveSeries {
        let hasBand = band.runs > 1
        func bound(_ x: Double) -> Double { clip ? clipped(x) : x }
        return CurveSeries(label: band.group, points: band.steps.indices.map {
            CurvePoint(x: Double(band.steps[$0]), mean: band.mean[$0],
                       low: hasBand ? bound(band.lower[$0]) : .nan, high: hasBand ? bound(band.upper[$0]) : .nan)
        })
    }

    /// Each cell's final score: the mean and Student-t 95% interval over its seeds (none for one
    /// run), clipped to [0, 1].
    static func finalScoreRows(_ runs: ExperimentRuns) -> [FinalScoreRow] {
        var rows: [FinalScoreRow] = []
        for algorithm in runs.algorithms {
            for task in runs.tasks {
                let values = runs.finalScores(algorithm, task)
                guard !values.isEmpty else { continue }
                let ci = CurveGrouping.tInterval(values)
                let one = values.count == 1
                rows.append(FinalScoreRow(
                    algorithm: algorithm, task: task, runs: values.count, mean: ci.estimate,
                    low: one ? .nan : clipped(ci.lower), high: one ? .nan : clipped(ci.upper)))
            }
        }
        return rows
    }
}
