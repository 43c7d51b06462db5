// rlhub — per-task score normalisation (Agarwal et al. 2021 normalise Atari scores by random and
// human scores; here typically the warm-start score and the maximum reward).
import RLHubCore

/// The reference scores of one task: `low` maps to 0 and `high` to 1.
///
///     x̃ = (x − low_t) / (high_t − low_t)
///
/// Normalised scores can fall below 0 (worse than `low`) or above 1 (better than `high`); the
/// optimality gap's default γ = 1 assumes this scale.
public struct ScoreRange: Sendable, Equatable, Codable {
    /// The score that maps to 0 (e.g. the warm-start model's score).
    public var low: Double
    /// The score that maps to 1 (e.g. the maximum reward).
    public var high: Double

    public init(low: Double, high: Double) {
        self.low = low
        self.high = high
    }

    /// `(x − low) / (high − low)`.
    public func normalize(_ x: Double) -> Double { (x - low) / (high - low) }
}

extension ScoreMatrix {
    /// Every score normalised with its task's range.
    /// - Parameter source: where the ranges came from, for error messages.
    /// - Throws: ``InputError`` when a task has no range, or a range has `high == low` or a
    ///   non-finite bound.
    public func normalized(by ranges: [String: ScoreRange], source: String = "score ranges") throws(InputError)
        -> ScoreMatrix
    {
        var out: [[Double]] = []
        for (task, r) in zip(tasks, runs) {
            let range = try ScoreRange.checked(ranges, task: task, source: source)
            out.append(r.map(range.normalize))
        }
        return ScoreMatrix(tasks: tasks, runs: out)
    }
}

extension ScoreCurves {
    /// Every score at every step normalised with its task's range.
    /// - Throws: as ``ScoreMatrix/normalized(by:source:)``.
    public func normalized(by ranges: [String: ScoreRange], source: String = "score ranges") throws(InputError)
        -> ScoreCurves
    {
        var out: [[[Double]]] = []
        for (task, r) in zip(tasks, runs) {
            let range = try ScoreRange.checked(ranges, task: task, source: source)
            out.append(r.map { $0.map(range.normalize) })
        }
        return ScoreCurves(steps: steps, tasks: tasks, runs: out)
    }
}

extension ScoreRange {
    fileprivate static func checked(_ ranges: [String: ScoreRange], task: String, source: String) throws(InputError)
        -> ScoreRange
    {
        guard let range = ranges[task] else {
            throw InputError(file: source, field: task, message: "no low/high score for this task")
        }
        guard range.low.isFinite, range.high.isFinite, range.high != range.low else {
            throw InputError(
                file: source, field: task,
                message: "needs finite low ≠ high to normalise, got low \(range.low), high \(range.high)")
        }
        return range
    }
}
