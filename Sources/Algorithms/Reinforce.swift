// rlhub — plain policy gradient (algorithms.md §3.2).
//
// Williams, "Simple Statistical Gradient-Following Algorithms for Connectionist Reinforcement
// Learning", Machine Learning 8 (1992); verl `compute_policy_loss_reinforce`.
//
//   ℓ = −A·lp,   ∂ℓ/∂lp = −A
//
// Same gradient as PPO-clip on-policy; with explicit importance weights (TIS, §4.1) it is verl's
// "bypass mode".
import Foundation

/// REINFORCE at one token.
public enum Reinforce {
    /// `ℓ = −A·lp`, `∂ℓ/∂lp = −A`.
    public static func token(logprob: Double, advantage A: Double) -> TokenPolicyLoss {
        TokenPolicyLoss(value: -A * logprob, gradient: -A)
    }
}
