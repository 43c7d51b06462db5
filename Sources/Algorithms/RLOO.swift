// rlhub — RLOO leave-one-out advantages (algorithms.md §2.4).
//
// Ahmadian et al., "Back to Basics: Revisiting REINFORCE Style Optimization for Learning from
// Human Feedback in LLMs", arXiv 2402.14740 (verl `compute_rloo_outcome_advantage`, TRL
// `rloo_trainer.py`).
//
//   A_i = s_i − (1/(G−1)) Σ_{j∈S_g, j≠i} s_j  =  (G/(G−1))·(s_i − μ_g)
//
// No std normalisation. The KL penalty goes into the reward, summed over the sequence
// (s_i = R_i − β Σ_t m·k1). Library rule: RLOO = these advantages + the §3.1 loss with
// `seq-mean-token-sum` (on-policy exactly the paper's `−(1/B) Σ_i A_i Σ_t ∇lp`); singleton groups → 0.
import Foundation

/// Leave-one-out baseline advantages.
public enum RLOO {
    /// `A_i = G/(G−1)·(s_i − μ_g)`; zero-variance and singleton groups give 0 exactly.
    public static func advantages(scores: [Double], groupIDs: [Int]) -> GroupAdvantages {
        precondition(scores.count == groupIDs.count, "RLOO.advantages: one group id per score")
        var sizes: [Int: Int] = [:]
        for g in groupIDs { sizes[g, default: 0] += 1 }
        var result = groupCentred(scores: scores, groupIDs: groupIDs) { centred, _ in centred }
        for i in result.perRow.indices {
            let G = Double(sizes[groupIDs[i]] ?? 1)
            if G > 1 { result.perRow[i] *= G / (G - 1) }
        }
        return result
    }
}
