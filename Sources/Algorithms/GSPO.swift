// rlhub — GSPO, Group Sequence Policy Optimization (algorithms.md §3.3).
//
// Zheng et al., "Group Sequence Policy Optimization", arXiv 2507.18071; verl
// `compute_policy_loss_gspo` (the "GSPO-token" form used here); TRL `importance_sampling_level="sequence"`.
//
//   log s_i = (1/max(n_i,1)) Σ_t m[i,t]·(lp[i,t] − lp_old[i,t])
//   s_i     = exp(min(log s_i, 10))                             verl clamps the log at +10 only
//   ℓ_i     = max( −A_i·s_i, −A_i·clamp(s_i, 1−ε_low, 1+ε_high) )   no dual clip
//   L       = (1/B') Σ_{i: n_i>0} ℓ_i                            seq-mean-token-mean, always
//
//   ∂L/∂lp[i,t] = −A_i·s_i / (n_i·B')   if the sequence is active, else 0
//   active ⇔ A_i > 0: s_i ≤ 1+ε_high ;  A_i < 0: s_i ≥ 1−ε_low ;  log s_i ≤ 10
//
// Token form (verl "GSPO-token"): log s_{i,t} = sg[log s_i] + lp[i,t] − sg[lp[i,t]], so every token
// carries ℓ_i and ∂ℓ_{i,t}/∂lp[i,t] = −A[i,t]·s_i; with the aggregation weight 1/(n_i·B') this is the
// gradient above. The token form lets per-token advantages and TIS weights apply per token (then
// the gradient is the GSPO-token gradient, not the derivative of the reported value).
// Paper clip ε_low = 3e-4, ε_high = 4e-4; on-policy s_i = 1 and GSPO equals GRPO with
// seq-mean-token-mean.
import Foundation

/// GSPO's sequence-level clipped objective in token form.
public enum GSPO {
    /// log s_i of one row from its log-probs (0 for an empty row).
    public static func logSequenceRatio(batch: PolicyBatch, row i: Int) -> Double {
        var sum = 0.0, n = 0
        for t in 0..<batch.columns where batch.mask[i * batch.columns + t] != 0 {
            sum += batch.logprobs[i * batch.columns + t] - batch.oldLogprobs[i * batch.columns + t]
            n += 1
        }
        return sum / Double(max(n, 1))
    }

    /// Per-token loss `ℓ_{i,t}` and own-gradient `∂ℓ_{i,t}/∂lp[i,t]` of row `i` ([T]; zero at m = 0).
    /// - Parameter advantages: A, [B*T].
    public static func row(
        batch: PolicyBatch, row i: Int, advantages: [Double], clipLow: Double, clipHigh: Double
    ) -> [TokenPolicyLoss] {
        let logS = logSequenceRatio(batch: batch, row: i)
        let s = Foundation.exp(min(logS, 10))
        return (0..<batch.columns).map { t in
            let k = i * batch.columns + t
            guard batch.mask[k] != 0 else { return TokenPolicyLoss(value: 0, gradient: 0) }
            let A = advantages[k]
            let value = max(-A * s, -A * min(max(s, 1 - clipLow), 1 + clipHigh))
            let clip: TokenPolicyLoss.Clip =
                A > 0 && s > 1 + clipHigh ? .high
                : A < 0 && s < 1 - clipLow ? .low
                : logS > 10 ? .clamp : .none
            return TokenPolicyLoss(value: value, gradient: clip == .none && A != 0 ? -A * s : 0, clip: clip)
        }
    }
}
