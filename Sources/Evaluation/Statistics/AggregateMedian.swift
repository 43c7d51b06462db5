// rlhub — the median aggregate (Agarwal et al. 2021; rliable `metrics.aggregate_median`).

extension Aggregates {
    /// Median of the per-task sample means.
    ///
    ///     median = median_t ( (1/n_t) Σ_i x_{t,i} )
    ///
    /// rliable's `aggregate_median` is `np.median(np.mean(x, axis=0))`; the middle task mean, or
    /// the average of the two middle ones for an even number of tasks. Unequal run counts change
    /// only how precise each task mean is.
    public static func median(_ scores: ScoreMatrix) -> Double {
        Quantiles.median(scores.taskMeans)
    }
}
