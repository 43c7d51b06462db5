// rlhub — CISPO, clipped importance-sampling-weight policy optimisation (optional; algorithms.md §3.4).
//
// MiniMax, "MiniMax-M1: Scaling Test-Time Compute Efficiently with Lightning Attention",
// arXiv 2506.13585; verl `compute_policy_loss_cispo` (two-sided clip, used here); TRL
// `loss_type="cispo"` caps only from above (ε_high = 5.0 recommended there).
//
//   ρ = exp(clamp(lp − lp_old, −20, 20))
//   ℓ = −sg[clip(ρ, 1−ε_low, 1+ε_high)]·A·lp,   ∂ℓ/∂lp = −clip(ρ, 1−ε_low, 1+ε_high)·A
//
// Unlike PPO the gradient is never zeroed: clipping only bounds the detached weight, so tokens
// with large ratio changes (often rare "fork" tokens) keep contributing. The reported value
// contains lp itself (as in verl); only its gradient is meaningful.
import Foundation

/// CISPO at one token.
public enum CISPO {
    public static func token(
        logprob: Double, oldLogprob: Double, advantage A: Double, clipLow: Double, clipHigh: Double
    ) -> TokenPolicyLoss {
        let (rho, _) = clampedRatio(logprob - oldLogprob)
        let weight = min(max(rho, 1 - clipLow), 1 + clipHigh)
        let clip: TokenPolicyLoss.Clip = rho > 1 + clipHigh ? .high : (rho < 1 - clipLow ? .low : .none)
        return TokenPolicyLoss(value: -weight * A * logprob, gradient: -weight * A, clip: clip)
    }
}
