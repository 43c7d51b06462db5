// rlhub — per-task run scores: the input of every aggregate of Agarwal et al. 2021, "Deep
// reinforcement learning at the edge of the statistical precipice" (the `rliable` package).

/// The scores of one algorithm: for each task, the final scores of its independent runs.
///
/// rliable takes a `runs × tasks` NumPy matrix, so every task has the same number of runs. Here
/// each task keeps its own list and run counts may differ (see each estimator for what that
/// means). Tasks are kept in sorted order, which fixes the bootstrap streams (task `t` of the
/// sorted list) and the output order; runs stay in the order given.
///
/// ```swift
/// let m = ScoreMatrix(["add": [0.9, 0.8, 1.0], "sort": [0.4, 0.5]])
/// m.tasks        // ["add", "sort"]
/// m.taskMeans    // [0.9, 0.45]
/// ```
public struct ScoreMatrix: Sendable, Equatable {
    /// Task names, sorted.
    public let tasks: [String]
    /// `runs[t]`: the run scores of `tasks[t]` (each non-empty).
    public let runs: [[Double]]

    /// Scores keyed by task.
    /// - precondition: at least one task, and at least one run per task.
    public init(_ scores: [String: [Double]]) {
        let names = scores.keys.sorted()
        self.init(tasks: names, runs: names.map { scores[$0] ?? [] })
    }

    /// rliable's layout: `matrix[run][task]`, with task names (default `task0`, `task1`, … — zero
    /// padded so that sorting keeps the column order).
    /// - precondition: a non-empty rectangular matrix; as many names as columns, all distinct.
    public init(runsByTask matrix: [[Double]], tasks names: [String]? = nil) {
        precondition(!matrix.isEmpty && !matrix[0].isEmpty, "ScoreMatrix needs at least one run and one task")
        let M = matrix[0].count
        precondition(matrix.allSatisfy { $0.count == M }, "ScoreMatrix(runsByTask:): rows must have equal length")
        let width = String(M - 1).count
        let names = names ?? (0..<M).map { i in
            "task" + String(repeating: "0", count: width - String(i).count) + String(i)
        }
        precondition(names.count == M, "ScoreMatrix(runsByTask:): \(names.count) names for \(M) tasks")
        var dict: [String: [Double]] = [:]
        for (t, name) in names.enumerated() { dict[name] = matrix.map { $0[t] } }
        precondition(dict.count == M, "ScoreMatrix(runsByTask:): task names must be distinct")
        self.init(dict)
    }

    /// Tasks already sorted (bootstrap resamples keep the order).
    init(tasks: [String], runs: [[Double]]) {
        precondition(!tasks.isEmpty, "ScoreMatrix needs at least one task")
        precondition(tasks.count == runs.count, "ScoreMatrix: \(tasks.count) tasks but \(runs.count) run lists")
        for (name, r) in zip(tasks, runs) {
            precondition(!r.isEmpty, "ScoreMatrix: task '\(name)' has no runs")
        }
        self.tasks = tasks
        self.runs = runs
    }

    /// Number of tasks, M.
    public var taskCount: Int { tasks.count }
    /// Runs per task, in task order.
    public var runCounts: [Int] { runs.map(\.count) }
    /// Whether every task has the same number of runs (rliable's `runs × tasks` matrix).
    public var isRectangular: Bool { Set(runCounts).count == 1 }
    /// Every score, task by task (the pooled sample of IQM and the run-score profile).
    public var allScores: [Double] { runs.flatMap { $0 } }
    /// The run scores of a task.
    public subscript(task: String) -> [Double]? { tasks.firstIndex(of: task).map { runs[$0] } }
    /// Per-task sample means, in task order.
    public var taskMeans: [Double] { runs.map(Quantiles.mean) }
    /// Scores keyed by task.
    public var dictionary: [String: [Double]] { Dictionary(uniqueKeysWithValues: zip(tasks, runs)) }

    /// The matrix with each task's runs replaced by `indices[t]` (a bootstrap resample).
    func resampled(_ indices: [[Int]]) -> ScoreMatrix {
        ScoreMatrix(tasks: tasks, runs: zip(runs, indices).map { r, idx in idx.map { r[$0] } })
    }
}
