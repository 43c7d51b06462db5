// rlhub — the interquartile mean (Agarwal et al. 2021, §4; rliable `metrics.aggregate_iqm`).

extension Aggregates {
    /// Interquartile mean: the 25% trimmed mean of all run scores of all tasks pooled.
    ///
    ///     IQM = trim_mean(x, 0.25) over the S = Σ_t n_t pooled scores
    ///         = (1 / (S − 2g)) Σ_{i=g}^{S−g−1} x_(i),   g = ⌊0.25·S⌋
    ///
    /// rliable's `aggregate_iqm` is `scipy.stats.trim_mean(x, 0.25, axis=None)` on the
    /// `runs × tasks` matrix; ``Quantiles/trimMean(_:proportionToCut:)`` has SciPy's exact cut
    /// rule (whole scores only: S = 10 drops 2 at each end). With unequal run counts the pooled
    /// sample weighs every run equally, so a task with more runs weighs more — unlike
    /// ``mean(_:)``, which weighs tasks equally.
    public static func iqm(_ scores: ScoreMatrix) -> Double {
        Quantiles.trimMean(scores.allScores, proportionToCut: 0.25)
    }
}
