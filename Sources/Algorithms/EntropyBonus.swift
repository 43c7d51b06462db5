// rlhub — entropy regularisation (algorithms.md §6).
//
// Williams & Peng, "Function Optimization Using Connectionist Reinforcement Learning Algorithms",
// Connection Science 3 (1991); Mnih et al., A3C, arXiv 1602.01783; verl `entropy_coeff` /
// `entropy_from_logits`; TRL `entropy_coef`.
//
//   H[i,t] = −Σ_j p_j log p_j,   p = softmax(z/τ)
//   L     −= c_H·agg(H)              ⇒ ∂L/∂H[i,t] = −c_H·w[i,t]   (what the model backward takes)
//   ∂H/∂z_j (scaled logits) = −p_j (log p_j + H)
//   ∂L/∂z_j (raw logits)    = c_H·w[i,t]·p_j (log p_j + H) / τ
//
// The model computes H in the same pass as the log-probs (O(V) per token) and back-propagates
// ∂L/∂H itself; the per-position helpers below are the naive references its tests compare with.
// Aggregation: the actor's `loss_agg` (verl); TRL always uses a token mean.
import Foundation

/// Entropy and log-prob derivatives at one position (naive references, O(V)).
public enum EntropyBonus {
    /// `p = softmax(z/τ)`, `H`, and `∂H/∂z` with respect to the raw logits z (includes 1/τ).
    public static func entropy(logits z: [Double], temperature tau: Double = 1) -> (
        probabilities: [Double], entropy: Double, dEntropyDLogits: [Double]
    ) {
        precondition(!z.isEmpty && tau > 0, "EntropyBonus.entropy: need logits and τ > 0")
        let scaled = z.map { $0 / tau }
        let top = scaled.max() ?? 0
        let lse = top + Foundation.log(scaled.reduce(0) { $0 + Foundation.exp($1 - top) })
        let logp = scaled.map { $0 - lse }
        let p = logp.map { Foundation.exp($0) }
        let H = -zip(p, logp).reduce(0) { $0 + $1.0 * $1.1 }
        let dH = zip(p, logp).map { -$0 * ($1 + H) / tau }
        return (p, H, dH)
    }

    /// `∂ log p_y / ∂z_j = (δ_{jy} − p_j)/τ` with respect to the raw logits (§0.1).
    public static func logprobGradient(logits z: [Double], target y: Int, temperature tau: Double = 1) -> [Double] {
        let p = entropy(logits: z, temperature: tau).probabilities
        return p.indices.map { ((($0 == y) ? 1 : 0) - p[$0]) / tau }
    }
}
