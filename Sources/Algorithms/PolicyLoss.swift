// rlhub — the policy-loss variants chosen by name (algorithms.md §3) and their per-token result.
//
//   ppo_clip   PPO clipped surrogate + clip-higher + dual clip (Schulman et al. arXiv 1707.06347;
//              DAPO arXiv 2503.14476; dual clip Ye et al. arXiv 1912.09729)          PPOClip.swift
//   gspo       sequence-level, length-normalised ratio (Zheng et al. arXiv 2507.18071)   GSPO.swift
//   reinforce  plain policy gradient ℓ = −A·lp (Williams 1992; verl `reinforce`)      Reinforce.swift
//   cispo      clipped IS-weight REINFORCE (MiniMax-M1, arXiv 2506.13585)             CISPO.swift
//   gmpo       geometric-mean policy optimisation (Zhao et al. arXiv 2507.20673)      GMPO.swift
//
// Every variant gives, per loss token, a loss ℓ[i,t] and its derivative with respect to the token's
// own log-prob ∂ℓ/∂lp[i,t]; ``PolicyObjective`` multiplies by the aggregation weight w[i,t] and the
// TIS weight and adds the KL and entropy terms.
import Foundation

/// The policy-gradient surrogate (verl `policy_loss.loss_mode`).
public enum PolicyLossKind: String, ConfigChoice {
    /// PPO clipped surrogate with ε_low/ε_high (clip-higher) and optional dual clip `c` (§3.1).
    case ppoClip = "ppo_clip"
    /// GSPO: sequence-level geometric-mean ratio, per-sequence clipping; aggregation forced to
    /// `seq-mean-token-mean` (§3.3).
    case gspo
    /// REINFORCE: `ℓ = −A·lp`, no ratio, no clipping (§3.2).
    case reinforce
    /// CISPO: `ℓ = −sg[clip(ρ, 1−ε_low, 1+ε_high)]·A·lp`; clipping bounds the weight but never zeroes
    /// the gradient (§3.4, optional).
    case cispo
    /// GMPO: geometric mean of token ratios clipped in log space (`clip_low`/`clip_high` are log
    /// bounds, paper ±0.4); aggregation forced to a mean over rows (§3.5, optional).
    case gmpo

    public static var aliases: [String: PolicyLossKind] {
        ["vanilla": .ppoClip, "ppo": .ppoClip, "geo_mean": .gmpo, "clip": .ppoClip]
    }

    public var summary: String {
        switch self {
        case .ppoClip: "PPO clipped surrogate, clip-higher + dual clip (PPO; DAPO)"
        case .gspo: "sequence-level geometric-mean ratio, per-sequence clip (GSPO)"
        case .reinforce: "−A·lp, no ratio (REINFORCE)"
        case .cispo: "−sg[clip(ρ)]·A·lp (CISPO, MiniMax-M1)"
        case .gmpo: "geometric mean of log-clipped token ratios (GMPO)"
        }
    }

    /// The aggregation this loss is always reduced with, or nil when it follows `loss_agg`.
    public var forcedAggregation: LossAggregation? {
        switch self {
        case .gspo, .gmpo: .seqMeanTokenMean
        case .ppoClip, .reinforce, .cispo: nil
        }
    }
}

/// One token's policy loss ℓ, its derivative ∂ℓ/∂lp and the clip that was active.
public struct TokenPolicyLoss: Sendable, Equatable {
    /// ℓ[i,t].
    public var value: Double
    /// ∂ℓ[i,t]/∂lp[i,t] (0 where a clip is active).
    public var gradient: Double
    /// Which clip zeroed the gradient, if any.
    public var clip: Clip

    /// The clip that was active at a token (or for a whole sequence, GSPO/GMPO).
    public enum Clip: Sendable, Equatable {
        /// Gradient flows.
        case none
        /// A < 0 and ρ < 1 − ε_low.
        case low
        /// A > 0 and ρ > 1 + ε_high.
        case high
        /// A < 0 and ρ > c (dual clip).
        case dual
        /// |lp − lp_old| > 20 (or GSPO log s > 10): the ratio's log was clamped.
        case clamp
    }

    public init(value: Double, gradient: Double, clip: Clip = .none) {
        self.value = value
        self.gradient = gradient
        self.clip = clip
    }
}

/// `exp(clamp(Δ, −20, 20))` and whether the clamp was active (§0, §11).
func clampedRatio(_ logRatio: Double) -> (ratio: Double, clamped: Bool) {
    let c = min(max(logRatio, -20), 20)
    return (Foundation.exp(c), c != logRatio)
}
