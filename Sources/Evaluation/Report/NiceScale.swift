// rlhub — axis ranges with "nice" ticks (1, 2 or 5 times a power of ten).
//
// Heckbert, "Nice numbers for graph labels", Graphics Gems (1990): round the data range to a nice
// number, divide by the wanted tick count and round the step to a nice number; the axis then runs
// from the step multiple at or below the minimum to the one at or above the maximum. Ticks are
// computed as integer multiples of the step, so they carry no accumulated rounding error.

import Foundation

/// An axis range whose ends and ticks are multiples of a 1-2-5 step.
///
/// ```swift
/// let scale = NiceScale(min: 0.03, max: 0.91)
/// // scale.ticks == [0, 0.2, 0.4, 0.6, 0.8, 1], scale.labels == ["0.0", "0.2", …, "1.0"]
/// ```
public struct NiceScale: Sendable, Equatable {
    /// The axis minimum (the first tick).
    public let lower: Double
    /// The axis maximum (the last tick).
    public let upper: Double
    /// The distance between ticks: 1, 2 or 5 × 10^k.
    public let step: Double
    /// Tick values from ``lower`` to ``upper``.
    public let ticks: [Double]
    /// Decimals that show every tick exactly (0 for steps ≥ 1).
    public let decimals: Int

    /// A scale covering `min...max` with about `maxTicks` ticks (at least 2).
    ///
    /// Degenerate inputs still give a usable axis: non-finite bounds fall back to 0...1, swapped
    /// bounds are swapped back, a (nearly) zero-width range is widened by 10% of its value each side
    /// (±1 around zero), bounds beyond ±1e307 are clamped there (so the width stays finite), and one
    /// narrower than 1e-290 (where powers of ten stop being representable) becomes ±1 around it.
    public init(min: Double, max: Double, maxTicks: Int = 6) {
        var lo = min, hi = max
        if !lo.isFinite || !hi.isFinite { (lo, hi) = (0, 1) }
        if lo > hi { swap(&lo, &hi) }
        (lo, hi) = (Swift.min(Swift.max(lo, -1e307), 1e307), Swift.min(Swift.max(hi, -1e307), 1e307))
        // Narrower than 1e-10 of its value, a range would need more than 12 significant digits
        // to label: treat it as one value.
        if hi - lo <= 1e-10 * Swift.max(abs(lo), abs(hi)) {
            let pad = lo == 0 ? 1 : abs(lo) * 0.1
            (lo, hi) = (lo - pad, hi + pad)
        }
        if hi - lo < 1e-290 { (lo, hi) = (lo - 1, hi + 1) }
        let wanted = Swift.max(2, maxTicks)
        let range = Self.nice(hi - lo, round: false)
        let (mantissa, exponent) = Self.niceParts(range.value / Double(wanted - 1), round: true)
        let step = Self.value(mantissa, exponent)
        let first = Self.index(lo / step, roundUp: false)
        let last = Self.index(hi / step, roundUp: true)
        self.step = step
        self.ticks = (first...Swift.max(first + 1, last)).map {
            Self.value($0 * mantissa, exponent)
        }
        self.lower = ticks[0]
        self.upper = ticks[ticks.count - 1]
        self.decimals = Swift.max(0, -exponent)
    }

    /// Tick labels with ``decimals`` places; in scientific notation when that would take more
    /// than 12 (a metric that varies around 1e-16, like the mean of whitened advantages).
    public var labels: [String] {
        if decimals <= 12 { return ticks.map { ReportFormat.fixed($0, decimals) } }
        // Mantissa digits down to the step: 1.05e-200 and 1.10e-200 must not both read "1.1e-200".
        let largest = ticks.map(abs).max() ?? 0
        let digits = largest > 0 ? Int(floor(log10(largest))) - Int(floor(log10(step))) : 1
        return ticks.map { ReportFormat.scientific($0, decimals: Swift.max(1, digits)) }
    }

    /// Where `value` falls between ``lower`` (0) and ``upper`` (1).
    public func fraction(_ value: Double) -> Double { (value - lower) / (upper - lower) }

    // MARK: - Non public

    private static func nice(_ x: Double, round: Bool) -> (value: Double, exponent: Int) {
        let (m, e) = niceParts(x, round: round)
        return (value(m, e), e)
    }

    /// Heckbert's nice number as (mantissa ∈ {1, 2, 5, 10}, exponent).
    private static func niceParts(_ x: Double, round: Bool) -> (Int, Int) {
        let exponent = Int(floor(log10(x)))
        let f = x / pow(10, Double(exponent))
        let mantissa: Int
        if round {
            mantissa = f < 1.5 ? 1 : f < 3 ? 2 : f < 7 ? 5 : 10
        } else {
            mantissa = f <= 1 ? 1 : f <= 2 ? 2 : f <= 5 ? 5 : 10
        }
        return mantissa == 10 ? (1, exponent + 1) : (mantissa, exponent)
    }

    /// `units × 10^exponent`, exact for the integers involved (division by an exact power of ten
    /// rounds once, so 3 × 10^-1 is the double nearest 0.3).
    private static func value(_ units: Int, _ exponent: Int) -> Double {
        exponent >= 0 ? Double(units) * pow(10, Double(exponent))
            : Double(units) / pow(10, Double(-exponent))
    }

    /// floor or ceil of `q`, treating values within 1e-9 of an integer as that integer (0.3 / 0.1
    /// is 2.9999999999999996, which is tick 3).
    private static func index(_ q: Double, roundUp: Bool) -> Int {
        let nearest = q.rounded()
        if abs(q - nearest) < 1e-9 { return Int(nearest) }
        return Int(roundUp ? ceil(q) : floor(q))
    }
}
