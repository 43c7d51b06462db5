// rlhub — the mean aggregate (Agarwal et al. 2021; rliable `metrics.aggregate_mean`).

extension Aggregates {
    /// Mean of the per-task sample means.
    ///
    ///     mean = (1/M) Σ_t (1/n_t) Σ_i x_{t,i}
    ///
    /// rliable's `aggregate_mean` on a `runs × tasks` matrix is `np.mean(np.mean(x, axis=0))`: the
    /// same formula with every `n_t = N`. With unequal run counts each task still weighs `1/M`
    /// (a task with more runs does not count more); it is not the mean of all pooled scores.
    public static func mean(_ scores: ScoreMatrix) -> Double {
        Quantiles.mean(scores.taskMeans)
    }
}
