// rlhub — performance profiles (Agarwal et al. 2021, §4, "score distributions"; rliable
// `library.create_performance_profile`, `run_score_deviation` and `mean_score_deviation`).

/// The fraction of runs (or tasks) scoring above each threshold τ: a curve that shows the whole
/// distribution rather than one aggregate.
///
/// ```swift
/// let taus = stride(from: 0.0, through: 1.0, by: 0.05).map { $0 }
/// let band = PerformanceProfile.intervals(m, taus: taus, bootstrap: StratifiedBootstrap(seed: 3))
/// ```
public enum PerformanceProfile {
    /// What is counted above τ.
    public enum Kind: String, Sendable, Codable, CaseIterable {
        /// Run-score distribution (rliable's default, `use_score_distribution=True`): per task the
        /// fraction of runs with score > τ, averaged over tasks,
        /// `F(τ) = (1/M) Σ_t (1/n_t) Σ_i 1[x_{t,i} > τ]`. rliable's `np.mean(scores > tau)` over the
        /// `runs × tasks` matrix is this with every `n_t = N`; with unequal run counts each task
        /// weighs `1/M`.
        case runScores = "run-scores"
        /// Average-score distribution (`use_score_distribution=False`): the fraction of tasks whose
        /// mean score is > τ, `F(τ) = (1/M) Σ_t 1[x̄_t > τ]`.
        case taskMeans = "task-means"
    }

    /// The profile `F(τ)` at each threshold of `taus`.
    public static func curve(_ scores: ScoreMatrix, taus: [Double], kind: Kind = .runScores) -> [Double] {
        let M = Double(scores.taskCount)
        switch kind {
        case .runScores:
            var total = [Double](repeating: 0, count: taus.count)
            for r in scores.runs {
                let s = r.sorted()
                for (k, tau) in taus.enumerated() {
                    total[k] += Double(s.count - countNotAbove(s, tau)) / Double(s.count)
                }
            }
            return total.map { $0 / M }
        case .taskMeans:
            let means = scores.taskMeans.sorted()
            return taus.map { Double(means.count - countNotAbove(means, $0)) / M }
        }
    }

    /// The profile with a stratified-bootstrap percentile band at each τ (rliable's
    /// `create_performance_profile`, whose default is 2,000 reps).
    public static func intervals(
        _ scores: ScoreMatrix, taus: [Double], kind: Kind = .runScores, bootstrap: StratifiedBootstrap
    ) -> [IntervalEstimate] {
        bootstrap.intervals(scores) { curve($0, taus: taus, kind: kind) }
    }

    /// Number of elements of sorted `a` that are ≤ `v`.
    private static func countNotAbove(_ a: [Double], _ v: Double) -> Int {
        var lo = 0, hi = a.count
        while lo < hi {
            let mid = (lo + hi) / 2
            if a[mid] <= v { lo = mid + 1 } else { hi = mid }
        }
        return lo
    }
}
