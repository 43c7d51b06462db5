// Shared fixtures and helpers for the Algorithms tests: the §13.1 batch of algorithms.md and
// central finite differences (the comparison is TestSupport's expectClose).
import RLAlgorithms
import Foundation
import Testing

/// Central finite differences of `f` at `x`, only at indices where `mask` is non-zero (others 0).
func finiteDifference(_ x: [Double], mask: [Double]? = nil, step h: Double = 1e-6, _ f: ([Double]) -> Double) -> [Double] {
    var g = [Double](repeating: 0, count: x.count)
    for k in x.indices where mask == nil || mask?[k] != 0 {
        var plus = x, minus = x
        plus[k] += h
        minus[k] -= h
        g[k] = (f(plus) - f(minus)) / (2 * h)
    }
    return g
}

/// Row-major [B*T] from rows of loss-token values, right-padded with `pad` to T.
func padded(_ rows: [[Double]], columns T: Int, pad: Double = 0) -> [Double] {
    rows.flatMap { $0 + [Double](repeating: pad, count: T - $0.count) }
}

/// algorithms.md §13.1: one group, G = 4, T = 5, lengths [3, 5, 2, 4], R = [1, 0, 0, 0].
/// Padding holds NaN so that any leak from masked positions shows up.
enum Fixture {
    static let B = 4, T = 5
    static let lengths = [3, 5, 2, 4]
    static let rewards: [Double] = [1, 0, 0, 0]
    static let mask = padded(lengths.map { [Double](repeating: 1, count: $0) }, columns: T)
    static let lpOldRows: [[Double]] = [
        [-1.00, -0.50, -2.00], [-0.30, -1.20, -0.80, -2.50, -0.10], [-1.50, -0.70], [-0.20, -0.90, -1.10, -0.60],
    ]
    static let deltaRows: [[Double]] = [
        [0.10, 0.30, -0.30], [-0.05, -0.40, 0.20, 1.50, 0.00], [0.00, -0.10], [0.25, -0.15, 0.05, -0.30],
    ]
    static let lpRefRows: [[Double]] = [
        [-1.20, -0.40, -2.10], [-0.30, -1.00, -1.00, -2.00, -0.20], [-1.40, -0.90], [-0.25, -0.80, -1.30, -0.50],
    ]
    static let lpRollRows: [[Double]] = [
        [-1.05, -0.45, -2.00], [-0.30, -1.25, -0.80, -3.50, -0.10], [-1.50, -0.65], [-0.20, -0.90, -1.20, -0.60],
    ]
    static let lpOld = padded(lpOldRows, columns: T, pad: .nan)
    static let lp = padded(zip(lpOldRows, deltaRows).map { zip($0, $1).map { $0 + $1 } }, columns: T, pad: .nan)
    static let lpRef = padded(lpRefRows, columns: T, pad: .nan)
    static let lpRoll = padded(lpRollRows, columns: T, pad: .nan)

    /// The §13.1 batch; `onPolicy` uses lp = lp_old.
    static func batch(onPolicy: Bool = false, rollout: Bool = false, reference: Bool = false) -> PolicyBatch {
        // swift-format-ignore: NeverUseForceTry
        try! PolicyBatch(
            rows: B, columns: T, mask: mask, logprobs: onPolicy ? lpOld : lp, oldLogprobs: lpOld,
            refLogprobs: reference ? lpRef : nil, rolloutLogprobs: rollout ? lpRoll : nil,
            rewards: rewards, groupIDs: [0, 0, 0, 0])
    }

    /// GRPO advantages with ε_std = 1e-6, broadcast ([B*T]).
    static var grpoAdvantages: [Double] {
        var c = AlgorithmConfig()
        c.estimator = .grpo
        return Advantages.compute(for: batch(), config: c).values
    }

    /// A config for the §13.3 loss examples: L_norm = 5, no KL, no TIS.
    static func lossConfig(_ agg: LossAggregation, clipLow: Double = 0.2, clipHigh: Double = 0.28, dual: Double? = 3) -> AlgorithmConfig {
        var c = AlgorithmConfig()
        c.lossAgg = agg
        c.lossNormConstant = 5
        c.clipLow = clipLow
        c.clipHigh = clipHigh
        c.dualClip = dual
        c.tisLevel = .none
        return c
    }
}
