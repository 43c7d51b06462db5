// rlhub — KL estimators and where the KL penalty goes (algorithms.md §5).
//
// Schulman, "Approximating KL Divergence" (joschu.net/blog/kl-approx.html); verl
// `kl_penalty_forward`, `apply_kl_penalty`, `AdaptiveKLController` (Ziegler et al., "Fine-Tuning
// Language Models from Human Preferences", arXiv 1909.08593).
//
// With x = lp − lp_ref (log π/π_ref at the sampled token):
//
//   k1 (kl)               k = x                 ∂k/∂lp = 1                unbiased, can be < 0
//   abs                   k = |x|               ∂k/∂lp = sign(x)
//   k2 (mse)              k = ½x²               ∂k/∂lp = x                gradient = unbiased KL gradient
//   k3 (low_var_kl)       u = clamp(−x, −20, 20),  k = clamp(eᵘ − u − 1, −10, 10)
//                                               ∂k/∂lp = 1 − e^{−x}       0 where a clamp is active
//
// Placement (use one, never both — verl: "when used, we are not applying KL in the reward"):
//   loss   (GRPO, §5.2):    L += β·agg(k(lp, lp_ref)),   gradient β·w·∂k/∂lp
//   reward (PPO/RLOO/REINFORCE++, §5.3): r[i,t] −= β·k(lp_old, lp_ref)[i,t]·m[i,t], detached;
//                            group estimators see s_i = R_i − β Σ_t m·k
// Adaptive β (§5.3): e = clip(κ/κ_target − 1, −0.2, 0.2),  β ← β·(1 + e·n_steps/horizon).
import Foundation

/// Per-token estimator of KL(π_θ ‖ π_ref) from the sampled token's log-probs (verl `kl_penalty`).
public enum KLEstimator: String, ConfigChoice {
    /// `k1 = x`: unbiased, high variance, can be negative (verl `kl`; TRL PPO/RLOO default).
    case k1
    /// `k2 = ½x²`: its gradient is the unbiased KL gradient (verl `mse`; OpenRLHF RF++-baseline).
    case k2
    /// `k3 = e^{−x} + x − 1 ≥ 0`, clamped as verl does (GRPO/DeepSeekMath; verl `low_var_kl`).
    case k3
    /// `|x|` (verl `abs`).
    case abs

    public static var aliases: [String: KLEstimator] {
        ["kl": .k1, "mse": .k2, "low_var_kl": .k3, "lowvarkl": .k3]
    }

    public var summary: String {
        switch self {
        case .k1: "x = lp − lp_ref (unbiased; verl 'kl')"
        case .k2: "½x² (verl 'mse')"
        case .k3: "e^{−x} + x − 1, clamped (GRPO; verl 'low_var_kl')"
        case .abs: "|x| (verl 'abs')"
        }
    }

    /// `k` and `∂k/∂lp` at one token.
    /// - Parameters:
    ///   - logprob: lp (or lp_old for the reward form).
    ///   - reference: lp_ref.
    public func evaluate(logprob: Double, reference: Double) -> (value: Double, gradient: Double) {
        let x = logprob - reference
        switch self {
        case .k1:
            return (x, 1)
        case .k2:
            return (0.5 * x * x, x)
        case .abs:
            return (Swift.abs(x), x > 0 ? 1 : (x < 0 ? -1 : 0))
        case .k3:
            let raw = -x
            let u = min(max(raw, -20), 20)
            let k = Foundation.exp(u) - u - 1
            let value = min(max(k, -10), 10)
            let active = raw == u && k == value
            return (value, active ? 1 - Foundation.exp(u) : 0)
        }
    }
}

/// Where the KL penalty enters the objective (derived from `kl_coef` and `kl_in_reward`).
public enum KLPlacement: String, ConfigChoice {
    /// No KL term, no reference model (DAPO, Dr. GRPO, GSPO; TRL default `beta = 0`).
    case none
    /// `L += β·agg(k(lp, lp_ref))` with the policy's aggregation (GRPO; verl `use_kl_loss`).
    case loss
    /// `r[i,t] −= β·k(lp_old, lp_ref)` before advantages (PPO, RLOO, REINFORCE++; verl `use_kl_in_reward`).
    case reward

    public var summary: String {
        switch self {
        case .none: "no KL term"
        case .loss: "β·agg(k) added to the loss (GRPO)"
        case .reward: "−β·k subtracted from token rewards before advantages (PPO, RLOO, REINFORCE++)"
        }
    }
}

/// KL as a reward penalty (§5.3).
public enum KLPenalty {
    /// `k(lp_old, lp_ref)[i,t]·m[i,t]` for every position ([B*T]; no gradient).
    public static func tokenKL(batch: PolicyBatch, estimator: KLEstimator) -> [Double] {
        guard let ref = batch.refLogprobs else {
            preconditionFailure("KL penalty: refLogprobs are required when kl_coef > 0; run the reference model")
        }
        return batch.mask.indices.map { k in
            batch.mask[k] != 0 ? estimator.evaluate(logprob: batch.oldLogprobs[k], reference: ref[k]).value : 0
        }
    }
}

/// Adaptive KL coefficient (Ziegler et al. 2019; verl `AdaptiveKLController`).
///
/// ```swift
/// var controller = AdaptiveKLController(initialCoef: 0.05, target: 0.1, horizon: 10_000)
/// controller.update(currentKL: 0.2, steps: 256)   // β grows by 0.2·256/10000 = 0.512 %
/// ```
public struct AdaptiveKLController: Sendable, Equatable, Codable {
    /// Current β.
    public private(set) var coef: Double
    /// κ_target (verl `target_kl`, 0.1).
    public let target: Double
    /// Horizon (verl `horizon`, 10000).
    public let horizon: Double

    public init(initialCoef: Double, target: Double, horizon: Double) {
        precondition(target > 0 && horizon > 0, "AdaptiveKLController: target and horizon must be > 0")
        coef = initialCoef
        self.target = target
        self.horizon = horizon
    }

    /// `β ← β·(1 + clip(κ/κ_target − 1, −0.2, 0.2)·n_steps/horizon)`.
    /// - Parameters:
    ///   - currentKL: κ = mean over rows of the per-row token-mean KL of the last batch.
    ///   - steps: n_steps = rows in the batch.
    public mutating func update(currentKL: Double, steps: Int) {
        let error = min(max(currentKL / target - 1, -0.2), 0.2)
        coef *= 1 + error * Double(steps) / horizon
    }
}
