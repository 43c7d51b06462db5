// rlhub — sample-efficiency curves: an aggregate (IQM by default) at each evaluation step with a
// stratified-bootstrap band (Agarwal et al. 2021, Fig. 8; rliable's Atari 100k notebook computes
// `get_interval_estimates` on `runs × tasks × steps` arrays with a per-step IQM).
import Tensor

/// Scores over training: for each task, runs × evaluation steps.
///
/// Every run of every task has a score at each of ``steps``; run counts may differ per task.
public struct ScoreCurves: Sendable, Equatable {
    /// Evaluation steps, increasing.
    public let steps: [Int]
    /// Task names, sorted.
    public let tasks: [String]
    /// `runs[t][r][s]`: score of run `r` of `tasks[t]` at `steps[s]`.
    public let runs: [[[Double]]]

    /// - Parameter scores: task → runs, each run one score per step.
    /// - precondition: steps increasing; at least one task; every task has a run; every run has
    ///   `steps.count` scores.
    public init(steps: [Int], scores: [String: [[Double]]]) {
        let names = scores.keys.sorted()
        self.init(steps: steps, tasks: names, runs: names.map { scores[$0] ?? [] })
    }

    init(steps: [Int], tasks: [String], runs: [[[Double]]]) {
        precondition(zip(steps, steps.dropFirst()).allSatisfy { $0 < $1 }, "ScoreCurves: steps must increase")
        precondition(!tasks.isEmpty && tasks.count == runs.count, "ScoreCurves needs one run list per task")
        for (name, r) in zip(tasks, runs) {
            precondition(!r.isEmpty, "ScoreCurves: task '\(name)' has no runs")
            precondition(r.allSatisfy { $0.count == steps.count }, "ScoreCurves: a run of '\(name)' lacks steps")
        }
        self.steps = steps
        self.tasks = tasks
        self.runs = runs
    }

    /// The final scores at `steps[index]`.
    public func matrix(atStepIndex s: Int) -> ScoreMatrix {
        ScoreMatrix(tasks: tasks, runs: runs.map { $0.map { $0[s] } })
    }

    /// The same run indices per task at every step (a bootstrap resample).
    func resampled(_ indices: [[Int]]) -> ScoreCurves {
        ScoreCurves(steps: steps, tasks: tasks, runs: zip(runs, indices).map { r, idx in idx.map { r[$0] } })
    }
}

/// An aggregate at every step, with a pointwise bootstrap band.
public enum SampleEfficiency {
    /// `metric` (IQM by default) of the scores at each step, with a stratified-bootstrap
    /// percentile interval at each step.
    ///
    /// A replicate resamples each task's runs once and follows those runs through every step, so
    /// a band is the bootstrap of whole runs. rliable resamples runs independently at each
    /// (task, step) of a `runs × tasks × steps` array; each step's interval has the same
    /// bootstrap distribution either way (only the correlation between steps differs), so the
    /// pointwise bands agree up to Monte-Carlo error.
    public static func curve(
        _ curves: ScoreCurves, metric: AggregateMetric = .iqm, bootstrap: StratifiedBootstrap
    ) -> [IntervalEstimate] {
        let statistic: @Sendable (ScoreCurves) -> [Double] = { c in
            (0..<c.steps.count).map { metric(c.matrix(atStepIndex: $0)) }
        }
        let point = statistic(curves)
        var reps = [[Double]](repeating: [], count: bootstrap.reps)
        let counts = curves.runs.map(\.count)
        reps.withUnsafeMutableBufferPointer { buffer in
            let results = buffer
            parallelChunks(bootstrap.reps) { _, range in
                for b in range {
                    results[b] = statistic(curves.resampled(bootstrap.indices(rep: b, runCounts: counts)))
                }
            }
        }
        let bounds = bootstrap.percentileIntervals(reps, count: point.count)
        return zip(point, bounds).map { IntervalEstimate(estimate: $0, lower: $1.lower, upper: $1.upper) }
    }
}
