// rlhub — PPO clipped surrogate with clip-higher and dual clip (algorithms.md §3.1).
//
// Schulman et al., "Proximal Policy Optimization Algorithms", arXiv 1707.06347; decoupled
// ε_low/ε_high ("clip-higher"): Yu et al., "DAPO", arXiv 2503.14476; dual clip: Ye et al.,
// "Mastering Complex Control in MOBA Games with Deep RL", arXiv 1912.09729; verl
// `compute_policy_loss_vanilla`.
//
//   Δ  = clamp(lp − lp_old, −20, 20),   ρ = exp(Δ)
//   ℓ1 = −A·ρ,   ℓ2 = −A·clamp(ρ, 1−ε_low, 1+ε_high),   ℓc = max(ℓ1, ℓ2)
//   ℓ  = min(ℓc, −A·c)   if A < 0 and dual clip on,   else ℓc
//
//   ∂ℓ/∂lp = −A·ρ when active, else 0
//   active ⇔ A > 0: ρ ≤ 1+ε_high ;  A < 0: 1−ε_low ≤ ρ (≤ c with dual clip) ;  A = 0: never (ℓ = 0)
//            and |lp − lp_old| ≤ 20.      Boundaries are inclusive.
// On-policy (lp_old = lp) ρ ≡ 1, nothing is clipped and ∂L/∂lp = −A·w.
import Foundation

/// PPO's clipped surrogate at one token.
public enum PPOClip {
    /// - Parameters:
    ///   - logprob: lp.
    ///   - oldLogprob: lp_old.
    ///   - advantage: A[i,t].
    ///   - clipLow: ε_low (ratio floor 1 − ε_low).
    ///   - clipHigh: ε_high (ratio ceiling 1 + ε_high).
    ///   - dualClip: c > 1, or nil for no dual clip.
    public static func token(
        logprob: Double, oldLogprob: Double, advantage A: Double, clipLow: Double, clipHigh: Double,
        dualClip: Double?
    ) -> TokenPolicyLoss {
        let (rho, clamped) = clampedRatio(logprob - oldLogprob)
        let l1 = -A * rho
        let l2 = -A * min(max(rho, 1 - clipLow), 1 + clipHigh)
        var value = max(l1, l2)
        if A < 0, let c = dualClip { value = min(value, -A * c) }
        let clip: TokenPolicyLoss.Clip
        if A > 0 && rho > 1 + clipHigh {
            clip = .high
        } else if A < 0 && rho < 1 - clipLow {
            clip = .low
        } else if A < 0, let c = dualClip, rho > c {
            clip = .dual
        } else if clamped {
            clip = .clamp
        } else {
            clip = .none
        }
        return TokenPolicyLoss(value: value, gradient: clip == .none && A != 0 ? -A * rho : 0, clip: clip)
    }
}
