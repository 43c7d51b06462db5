// rlhub — rows that cannot change the gradient are not computed.
//
// A group whose samples all got the same reward has advantage A = 0 on every token (GRPO,
// Dr. GRPO, RLOO …). When nothing else enters the loss — no KL term in the loss, no entropy
// bonus, no PPO critic — every policy loss here is proportional to A (PPO clip and dual clip,
// GSPO, CISPO, GMPO, REINFORCE: ∂ℓ/∂lp_t = 0 when A_t = 0), so such a row adds exactly zero to
// ∂L/∂θ. Its tokens still count in the mini-batch's normalisers (taken before the rows are
// split into micro-batches), so leaving out its forward and backward passes leaves the update
// unchanged up to the summation order inside sgemm. The optimizer step is still taken (AdamW
// moves on momentum and weight decay even with a zero gradient).
//
// verl's DAPO recipe drops such groups from the batch instead (which changes the normalisers);
// TRL computes them. With a small model on a hard task most groups are inert: SmolLM2-135M on
// 2-digit addition gets 62–88 % zero-variance groups, and their rows are most of the update.
import RLAlgorithms

/// Which rows of a rollout batch carry no gradient, and how the update's metrics account for them.
enum InertRows {
    /// Whether a row with A = 0 on every loss token contributes nothing to the gradient under `config`.
    static func skippable(_ config: AlgorithmConfig, hasCritic: Bool) -> Bool {
        config.objective == .rl && !hasCritic && config.entropyCoef == 0 && config.klPlacement != .loss
    }

    /// Per row of a [rows, columns] grid: true when every loss token's advantage is exactly 0.
    static func find(advantages: [Double], mask: [Double], rows: Int, columns: Int) -> [Bool] {
        (0..<rows).map { i in
            (0..<columns).allSatisfy { c in mask[i * columns + c] == 0 || advantages[i * columns + c] == 0 }
        }
    }

    /// Metrics that ``PolicyObjective`` reports as means over the mini-batch's loss tokens.
    static let tokenMeanMetrics = [
        "entropy", "policy/approx_kl", "policy/ratio_mean", "policy/clipfrac", "policy/clipfrac_low",
        "policy/clipfrac_high", "policy/clipfrac_dual", "kl/ref", "tis/weight_mean", "tis/clip_frac",
        "tis/logratio_mean",
    ]

    /// Turns the token means of an update that left rows out (sums over the computed tokens
    /// divided by all `allTokens`) into means over the `computedTokens` that were computed.
    static func rescale(_ metrics: inout [String: Double], allTokens: Int, computedTokens: Int) {
        guard computedTokens > 0, computedTokens < allTokens else { return }
        let factor = Double(allTokens) / Double(computedTokens)
        for key in tokenMeanMetrics where metrics[key] != nil { metrics[key]! *= factor }
    }
}
