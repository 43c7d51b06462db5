// rlhub — grouping learning curves for plots: align the runs of a group on common steps, smooth,
// average with a 95% band, and thin to a fixed number of points. Deterministic throughout.
import Foundation
import RLHubCore

/// One run's curve: a metric's value at each step.
public struct LearningCurve: Sendable, Equatable, Codable {
    /// The group the run belongs to (an algorithm, a config, …).
    public var group: String
    /// Steps, strictly increasing.
    public var steps: [Int]
    /// Values, one per step.
    public var values: [Double]

    /// Points in any order; where a step repeats, the last point given wins.
    public init(group: String, points: [(step: Int, value: Double)]) {
        var byStep: [Int: Double] = [:]
        for p in points { byStep[p.step] = p.value }
        let steps = byStep.keys.sorted()
        self.group = group
        self.steps = steps
        self.values = steps.map { byStep[$0] ?? 0 }
    }
}

/// The mean curve of a group with a pointwise confidence band.
public struct CurveBand: Sendable, Equatable, Codable {
    /// The group.
    public var group: String
    /// Number of runs averaged.
    public var runs: Int
    /// Steps of the band.
    public var steps: [Int]
    /// Mean over runs at each step.
    public var mean: [Double]
    /// Lower bound of the band at each step.
    public var lower: [Double]
    /// Upper bound of the band at each step.
    public var upper: [Double]
}

/// How the runs of a group become one band; each stage is a documented, deterministic choice.
///
/// 1. **Smoothing** (optional): each run's own points are smoothed by a debiased exponential
///    moving average, TensorBoard's: `m_i = w·m_{i−1} + (1 − w)·x_i` from `m_0 = 0`, reported as
///    `m_i / (1 − w^i)` (i = 1, 2, …). `w = 0` leaves values unchanged.
/// 2. **Alignment** on steps: ``Alignment/intersection`` keeps the steps every run of the group
///    logged; ``Alignment/forwardFill`` keeps every step any run logged within the span all runs
///    cover (from the latest first step to the earliest last step), taking each run's value at its
///    latest step at or before it. Forward fill never extrapolates past a run's end or before its
///    start.
/// 3. **Band**: at each step the mean over the group's `n` runs and the Student-t interval
///    `x̄ ± t_{(1+c)/2, n−1} · s / √n` (sample standard deviation `s`, confidence `c`, 95% by
///    default). Runs at one step are independent seeds, so the t-interval is the textbook choice
///    for a mean; it is exact for normal data and close for n ≳ 5. One run gives a zero-width band.
/// 4. **Downsampling** (optional): to at most `points` steps, at indices `round(j·(m − 1)/(points
///    − 1))`, `j = 0 ..< points`, which keeps the first and the last step.
///
/// ```swift
/// let bands = CurveGrouping(alignment: .forwardFill, smoothing: 0.6, points: 100).bands(curves)
/// ```
public struct CurveGrouping: Sendable {
    /// How runs with different steps are put on one step axis.
    public enum Alignment: String, Sendable, Codable, CaseIterable {
        /// Only steps every run logged.
        case intersection
        /// Every step any run logged within the span all runs cover; gaps carry the last value.
        case forwardFill = "forward-fill"
    }

    /// Step alignment (default ``Alignment/intersection``).
    public var alignment: Alignment
    /// EMA weight `w` in [0, 1) applied to each run before alignment (default 0: none).
    public var smoothing: Double
    /// Keep at most this many steps (default nil: all).
    public var points: Int?
    /// Coverage of the band (default 0.95).
    public var confidence: Double

    /// - precondition: `0 ≤ smoothing < 1`, `points ≥ 1`, `0 < confidence < 1`.
    public init(
        alignment: Alignment = .intersection, smoothing: Double = 0, points: Int? = nil, confidence: Double = 0.95
    ) {
        precondition(smoothing >= 0 && smoothing < 1, "smoothing weight must be in [0, 1), got \(smoothing)")
        precondition(points.map { $0 >= 1 } ?? true, "points must be ≥ 1")
        precondition(confidence > 0 && confidence < 1, "confidence must be in (0, 1), got \(confidence)")
        self.alignment = alignment
        self.smoothing = smoothing
        self.points = points
        self.confidence = confidence
    }

    /// One band per group, groups sorted by name; runs of a group in the order given.
    public func bands(_ curves: [LearningCurve]) -> [CurveBand] {
        let groups = Dictionary(grouping: curves, by: \.group)
        return groups.keys.sorted().map { group in
            let runs = (groups[group] ?? []).map { c in
                LearningCurve(group: c.group, steps: c.steps, values: Self.ema(c.values, weight: smoothing))
            }
            let (steps, values) = Self.align(runs, alignment)
            var band = CurveBand(group: group, runs: runs.count, steps: [], mean: [], lower: [], upper: [])
            let keep = Self.downsampleIndices(count: steps.count, to: points ?? steps.count)
            for s in keep {
                let ci = Self.tInterval(values.map { $0[s] }, confidence: confidence)
                band.steps.append(steps[s])
                band.mean.append(ci.estimate)
                band.lower.append(ci.lower)
                band.upper.append(ci.upper)
            }
            return band
        }
    }

    // MARK: - Stages

    /// The aligned steps and `values[run][stepIndex]`.
    public static func align(_ runs: [LearningCurve], _ alignment: Alignment) -> (steps: [Int], values: [[Double]]) {
        guard !runs.isEmpty, runs.allSatisfy({ !$0.steps.isEmpty }) else { return ([], runs.map { _ in [] }) }
        switch alignment {
        case .intersection:
            var common = Set(runs[0].steps)
            for r in runs.dropFirst() { common.formIntersection(r.steps) }
            let steps = common.sorted()
            let values = runs.map { r in
                let at = Dictionary(uniqueKeysWithValues: zip(r.steps, r.values))
                return steps.map { at[$0] ?? .nan }
            }
            return (steps, values)
        case .forwardFill:
            let start = runs.map { $0.steps[0] }.max() ?? 0
            let end = runs.map { $0.steps[$0.steps.count - 1] }.min() ?? 0
            let steps = Set(runs.flatMap { $0.steps.filter { $0 >= start && $0 <= end } }).sorted()
            let values = runs.map { r in
                var i = 0
                return steps.map { s in
                    while i + 1 < r.steps.count && r.steps[i + 1] <= s { i += 1 }
                    return r.values[i]
                }
            }
            return (steps, values)
        }
    }

    /// TensorBoard's debiased exponential moving average with weight `w` (`w = 0`: unchanged).
    public static func ema(_ values: [Double], weight w: Double) -> [Double] {
        guard w > 0 else { return values }
        var m = 0.0, power = 1.0
        return values.map { x in
            m = w * m + (1 - w) * x
            power *= w
            return m / (1 - power)
        }
    }

    /// Indices of at most `n` of `count` points, evenly spaced, first and last included.
    public static func downsampleIndices(count: Int, to n: Int) -> [Int] {
        precondition(n >= 1, "downsample to at least one point")
        if count <= n { return Array(0..<count) }
        if n == 1 { return [count - 1] }
        return (0..<n).map { j in (2 * j * (count - 1) + (n - 1)) / (2 * (n - 1)) }
    }

    /// Mean and Student-t interval `x̄ ± t_{(1+c)/2, n−1} · s/√n` (zero width for one value).
    public static func tInterval(_ x: [Double], confidence: Double = 0.95) -> IntervalEstimate {
        let m = Quantiles.mean(x)
        guard x.count > 1 else { return IntervalEstimate(estimate: m, lower: m, upper: m) }
        let n = Double(x.count)
        let variance = x.reduce(0) { $0 + ($1 - m) * ($1 - m) } / (n - 1)
        let half = StudentT.quantile((1 + confidence) / 2, df: n - 1) * (variance / n).squareRoot()
        return IntervalEstimate(estimate: m, lower: m - half, upper: m + half)
    }
}

extension LearningCurve {
    /// Steps and values as given (steps strictly increasing).
    /// - precondition: as many values as steps; steps strictly increasing.
    public init(group: String, steps: [Int], values: [Double]) {
        precondition(steps.count == values.count, "LearningCurve: \(steps.count) steps but \(values.count) values")
        precondition(zip(steps, steps.dropFirst()).allSatisfy { $0 < $1 }, "LearningCurve: steps must increase")
        self.group = group
        self.steps = steps
        self.values = values
    }
}
