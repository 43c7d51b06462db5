// rlhub — the optimality gap (Agarwal et al. 2021, §4; rliable `metrics.aggregate_optimality_gap`).

extension Aggregates {
    /// How far scores fall short of a target γ (default 1, a normalised score): the mean of
    /// `max(γ − x, 0)`; lower is better, and scores above γ earn nothing extra.
    ///
    ///     gap = γ − (1/M) Σ_t (1/n_t) Σ_i min(x_{t,i}, γ)  =  (1/M) Σ_t (1/n_t) Σ_i max(γ − x_{t,i}, 0)
    ///
    /// rliable computes `gamma - np.mean(np.minimum(x, gamma))` over the whole `runs × tasks`
    /// matrix, which is this formula when every `n_t = N`. With unequal run counts each task
    /// weighs `1/M`, as in ``mean(_:)``.
    public static func optimalityGap(_ scores: ScoreMatrix, gamma: Double = 1) -> Double {
        gamma - Quantiles.mean(scores.runs.map { r in Quantiles.mean(r.map { min($0, gamma) }) })
    }
}
