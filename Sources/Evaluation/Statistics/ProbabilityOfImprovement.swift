// rlhub — average probability of improvement (Agarwal et al. 2021, §4; rliable
// `metrics.probability_of_improvement`, intervals as `get_interval_estimates` on paired dicts).

/// P(X > Y): how likely a run of algorithm X beats a run of Y on a task, averaged over tasks.
///
/// Per task, the Mann–Whitney U statistic divided by the number of pairs, ties counting ½:
///
///     P_t(X > Y) = (1 / (n_t m_t)) Σ_i Σ_j ( 1[x_{t,i} > y_{t,j}] + ½·1[x_{t,i} = y_{t,j}] )
///     P(X > Y)   = (1/M) Σ_t P_t(X > Y)
///
/// rliable computes `scipy.stats.mannwhitneyu(x, y, alternative='greater')[0] / (n·m)` (and 0.5
/// for identical arrays, which the formula also gives). Run counts may differ between X and Y
/// and between tasks; X and Y must have the same tasks.
public enum ProbabilityOfImprovement {
    /// `P_t(X > Y)` for one task's run scores, in O((n + m) log m).
    /// - precondition: both samples are non-empty.
    public static func task(_ x: [Double], _ y: [Double]) -> Double {
        precondition(!x.isEmpty && !y.isEmpty, "probability of improvement needs runs of both algorithms")
        let ys = y.sorted()
        var twiceU = 0  // 2·U: below counts 2, ties 1 (exact integers)
        for v in x {
            let below = lowerBound(ys, v)
            let notAbove = upperBound(ys, v)
            twiceU += 2 * below + (notAbove - below)
        }
        return Double(twiceU) / 2 / (Double(x.count) * Double(y.count))
    }

    /// `P(X > Y)`, the per-task probabilities averaged over tasks.
    /// - precondition: `x` and `y` have the same tasks.
    public static func estimate(_ x: ScoreMatrix, over y: ScoreMatrix) -> Double {
        precondition(x.tasks == y.tasks, "probability of improvement needs the same tasks: \(x.tasks) vs \(y.tasks)")
        return Quantiles.mean(zip(x.runs, y.runs).map { task($0, $1) })
    }

    /// `P(X > Y)` with a stratified-bootstrap percentile interval: the runs of X and of Y are
    /// resampled independently within each task (matrices 0 and 1 of ``StratifiedBootstrap``).
    /// - precondition: `x` and `y` have the same tasks.
    public static func interval(
        _ x: ScoreMatrix, over y: ScoreMatrix, bootstrap: StratifiedBootstrap
    ) -> IntervalEstimate {
        precondition(x.tasks == y.tasks, "probability of improvement needs the same tasks: \(x.tasks) vs \(y.tasks)")
        return bootstrap.intervals([x, y]) { [estimate($0[0], over: $0[1])] }[0]
    }

    /// Number of elements of sorted `a` that are < `v`.
    private static func lowerBound(_ a: [Double], _ v: Double) -> Int {
        var lo = 0, hi = a.count
        while lo < hi {
            let mid = (lo + hi) / 2
            if a[mid] < v { lo = mid + 1 } else { hi = mid }
        }
        return lo
    }

    /// Number of elements of sorted `a` that are ≤ `v`.
    private static func upperBound(_ a: [Double], _ v: Double) -> Int {
        var lo = 0, hi = a.count
        while lo < hi {
            let mid = (lo + hi) / 2
            if a[mid] <= v { lo = mid + 1 } else { hi = mid }
        }
        return lo
    }
}
