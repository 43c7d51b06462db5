// rlhub — the aggregate metrics by name, and their stratified-bootstrap interval estimates.
import Foundation
import RLHubCore

/// Aggregate performance estimators over a ``ScoreMatrix`` (Agarwal et al. 2021, §4), each in its
/// own file with its formula: ``mean(_:)``, ``median(_:)``, ``iqm(_:)``,
/// ``optimalityGap(_:gamma:)``.
public enum Aggregates {
    /// Point estimates and stratified-bootstrap percentile intervals of several metrics.
    ///
    /// The point estimate is the metric on the data (as rliable's `get_interval_estimates`); the
    /// interval comes from the same `bootstrap.reps` resamples for every metric.
    ///
    /// ```swift
    /// let m = ScoreMatrix(["a": [0.1, 0.5, 0.9], "b": [0.3, 0.7]])
    /// let r = Aggregates.intervals(m, metrics: [.iqm, .mean], bootstrap: StratifiedBootstrap(seed: 1))
    /// print(r[0].estimate, r[0].lower, r[0].upper)   // IQM and its 95% CI
    /// ```
    public static func intervals(
        _ scores: ScoreMatrix, metrics: [AggregateMetric], bootstrap: StratifiedBootstrap
    ) -> [IntervalEstimate] {
        bootstrap.intervals(scores) { m in metrics.map { $0(m) } }
    }
}

/// An aggregate metric chosen by name (`iqm`, `mean`, `median`, `optimality-gap`).
public enum AggregateMetric: Sendable, Hashable {
    /// ``Aggregates/iqm(_:)``.
    case iqm
    /// ``Aggregates/mean(_:)``.
    case mean
    /// ``Aggregates/median(_:)``.
    case median
    /// ``Aggregates/optimalityGap(_:gamma:)`` with threshold γ (1 for `optimality-gap`).
    case optimalityGap(gamma: Double)

    /// Valid names, in the default report order.
    public static let names = ["iqm", "mean", "median", "optimality-gap"]

    /// All four metrics (γ = 1), in the order of ``names``.
    public static let all: [AggregateMetric] = [.iqm, .mean, .median, .optimalityGap(gamma: 1)]

    /// The metric called `name` (see ``names``), or nil.
    public init?(name: String) {
        switch name {
        case "iqm": self = .iqm
        case "mean": self = .mean
        case "median": self = .median
        case "optimality-gap": self = .optimalityGap(gamma: 1)
        default: return nil
        }
    }

    /// A comma-separated list of names, e.g. `iqm,mean`.
    /// - Parameter source: where the list came from (`--metrics`), for the error message.
    /// - Throws: ``InputError`` naming an unknown or repeated metric and listing the valid ones.
    public static func parseList(_ list: String, source: String) throws(InputError) -> [AggregateMetric] {
        var out: [AggregateMetric] = []
        for raw in list.split(separator: ",", omittingEmptySubsequences: false) {
            let name = raw.trimmingCharacters(in: .whitespaces).lowercased()
            guard let metric = AggregateMetric(name: name) else {
                throw InputError(
                    file: source,
                    message: "unknown metric '\(name)'; valid metrics: \(names.joined(separator: ", "))")
            }
            guard !out.contains(metric) else {
                throw InputError(file: source, message: "metric '\(name)' is listed twice")
            }
            out.append(metric)
        }
        return out
    }

    /// The metric's name (`optimality-gap` whatever γ).
    public var name: String {
        switch self {
        case .iqm: "iqm"
        case .mean: "mean"
        case .median: "median"
        case .optimalityGap: "optimality-gap"
        }
    }

    /// Whether a larger value is better (false only for the optimality gap).
    public var higherIsBetter: Bool {
        if case .optimalityGap = self { return false }
        return true
    }

    /// The metric's value on `scores`.
    public func callAsFunction(_ scores: ScoreMatrix) -> Double {
        switch self {
        case .iqm: Aggregates.iqm(scores)
        case .mean: Aggregates.mean(scores)
        case .median: Aggregates.median(scores)
        case .optimalityGap(let gamma): Aggregates.optimalityGap(scores, gamma: gamma)
        }
    }
}
