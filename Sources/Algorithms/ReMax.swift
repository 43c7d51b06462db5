// rlhub — ReMax advantages (optional; algorithms.md §2.7).
//
// Li et al., "ReMax: A Simple, Effective, and Efficient Reinforcement Learning Method for Aligning
// Large Language Models", arXiv 2310.10505 (verl `compute_remax_outcome_advantage`).
//
//   b_i      = R(x_i, ŷ_i)           reward of the greedy response to the same prompt (not trained on)
//   Ret[i,t] = Σ_{t' ≥ t} m·r[i,t']   (reverse cumulative sum over loss tokens)
//   A[i,t]   = Ret[i,t] − b_i·m[i,t]  no normalisation
import Foundation

/// ReMax: REINFORCE with the greedy response's reward as the baseline.
public enum ReMax {
    /// - Parameters:
    ///   - rewards: r[i,t], [B*T] (outcome reward on the last loss token, KL penalty if any).
    ///   - greedyRewards: b_i, one per row.
    public static func advantages(
        rewards: [Double], greedyRewards: [Double], mask: [Double], rows: Int, columns: Int
    ) -> (advantages: [Double], returns: [Double]) {
        precondition(greedyRewards.count == rows, "ReMax.advantages: one greedy reward per row")
        let ret = ReinforcePlusPlus.returns(rewards: rewards, mask: mask, rows: rows, columns: columns, gamma: 1)
        var adv = ret
        for k in adv.indices { adv[k] = mask[k] != 0 ? ret[k] - greedyRewards[k / max(columns, 1)] : 0 }
        return (adv, ret)
    }
}
