// rlhub — stratified bootstrap confidence intervals (Agarwal et al. 2021, §3; rliable
// `library.StratifiedBootstrap`, `StratifiedIndependentBootstrap` and `get_interval_estimates`
// with their defaults: percentile method, 95%).
import Tensor

/// A point estimate with the bounds of its confidence interval.
public struct IntervalEstimate: Sendable, Equatable, Codable {
    /// The statistic on the data.
    public var estimate: Double
    /// Lower bound of the interval.
    public var lower: Double
    /// Upper bound of the interval.
    public var upper: Double

    public init(estimate: Double, lower: Double, upper: Double) {
        self.estimate = estimate
        self.lower = lower
        self.upper = upper
    }
}

/// Stratified bootstrap: resample runs with replacement within each task, keep the tasks.
///
/// Each replicate `b = 0..<reps` draws, for every task `t` with `n_t` runs, `n_t` run indices
/// uniformly with replacement and recomputes the statistic on the resampled matrix. The interval
/// is the percentile interval of the replicates (rliable's default `method='percentile'`):
///
///     [ P_{α}(θ*_1 … θ*_B),  P_{1−α}(θ*_1 … θ*_B) ],   α = (1 − confidence)/2
///
/// with `P_q` NumPy's linear-interpolation percentile (``Quantiles/percentile(sorted:_:)``), as
/// `arch`'s `conf_int` computes it. Statistics of several matrices (probability of improvement)
/// resample each matrix independently, as rliable's `StratifiedIndependentBootstrap`.
///
/// Randomness: the indices of replicate `b`, matrix `s` (0 for a single matrix), task `t` come
/// from `CounterRNG(seed, .bootstrap, step: b, index: s << 32 | t)`, so results depend only on
/// the seed and the data — not on the thread count (replicates run in parallel over
/// ``ComputeThreads/count`` threads and are collected by index). rliable draws from NumPy's
/// global Mersenne Twister instead, so the two agree up to Monte-Carlo error only.
///
/// ```swift
/// let bs = StratifiedBootstrap(reps: 2000, seed: 7)
/// let iqm = bs.intervals(m) { [Aggregates.iqm($0)] }[0]   // estimate, lower, upper
/// ```
public struct StratifiedBootstrap: Sendable {
    /// Number of bootstrap replicates (rliable's `get_interval_estimates` defaults to 50,000 and
    /// `create_performance_profile` to 2,000; 2,000 is the paper's choice for most figures).
    public var reps: Int
    /// Coverage of the two-sided interval (default 0.95).
    public var confidence: Double
    /// Seed of the resampling streams.
    public var seed: UInt64

    /// - precondition: `reps ≥ 1` and `0 < confidence < 1`.
    public init(reps: Int = 2000, confidence: Double = 0.95, seed: UInt64 = 0) {
        precondition(reps >= 1, "bootstrap reps must be ≥ 1, got \(reps)")
        precondition(confidence > 0 && confidence < 1, "confidence must be in (0, 1), got \(confidence)")
        self.reps = reps
        self.confidence = confidence
        self.seed = seed
    }

    // MARK: - Resampling

    /// The run indices of replicate `rep` for matrix `sample`: `runCounts[t]` draws from
    /// `0..<runCounts[t]` per task.
    public func indices(rep: Int, sample: Int = 0, runCounts: [Int]) -> [[Int]] {
        runCounts.enumerated().map { t, n in
            var rng = CounterRNG(
                seed: seed, purpose: .bootstrap, step: UInt64(rep),
                index: UInt64(sample) << 32 | UInt64(t))
            return (0..<n).map { _ in rng.nextInt(below: n) }
        }
    }

    /// The statistic on each replicate: `result[b]` is `statistic` on resample `b`.
    ///
    /// Replicates run in parallel; each depends only on its index, so the result is the same for
    /// any thread count.
    /// - precondition: `statistic` returns the same number of values on every resample.
    public func replicates(
        _ samples: [ScoreMatrix], statistic: @Sendable ([ScoreMatrix]) -> [Double]
    ) -> [[Double]] {
        var out = [[Double]](repeating: [], count: reps)
        out.withUnsafeMutableBufferPointer { buffer in
            let results = buffer
            parallelChunks(reps) { _, range in
                for b in range {
                    let resampled = samples.enumerated().map { s, m in
                        m.resampled(indices(rep: b, sample: s, runCounts: m.runCounts))
                    }
                    results[b] = statistic(resampled)
                }
            }
        }
        return out
    }

    // MARK: - Intervals

    /// Point estimates and percentile intervals of a vector-valued statistic of one matrix.
    public func intervals(
        _ scores: ScoreMatrix, statistic: @escaping @Sendable (ScoreMatrix) -> [Double]
    ) -> [IntervalEstimate] {
        intervals([scores]) { statistic($0[0]) }
    }

    /// Point estimates and percentile intervals of a statistic of several matrices, each
    /// resampled independently (rliable's `StratifiedIndependentBootstrap`).
    public func intervals(
        _ samples: [ScoreMatrix], statistic: @escaping @Sendable ([ScoreMatrix]) -> [Double]
    ) -> [IntervalEstimate] {
        let point = statistic(samples)
        let bounds = percentileIntervals(replicates(samples, statistic: statistic), count: point.count)
        return zip(point, bounds).map { IntervalEstimate(estimate: $0, lower: $1.lower, upper: $1.upper) }
    }

    /// The percentile interval of each component of the replicates.
    /// - precondition: every replicate has `count` values.
    public func percentileIntervals(_ replicates: [[Double]], count: Int) -> [(lower: Double, upper: Double)] {
        let alpha = (1 - confidence) / 2
        return (0..<count).map { k in
            let column = replicates.map { r in
                precondition(r.count == count, "bootstrap statistic returned \(r.count) values, expected \(count)")
                return r[k]
            }.sorted()
            return (Quantiles.percentile(sorted: column, 100 * alpha),
                    Quantiles.percentile(sorted: column, 100 * (1 - alpha)))
        }
    }
}
