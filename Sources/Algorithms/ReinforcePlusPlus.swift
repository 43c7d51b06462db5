// rlhub — REINFORCE++ and REINFORCE++-baseline (algorithms.md §2.5).
//
// Hu et al., "REINFORCE++: A Simple and Efficient Approach for Aligning Large Language Models",
// arXiv 2501.03262 (v9, global advantage normalisation); verl
// `compute_reinforce_plus_plus_outcome_advantage` / `…_baseline_outcome_advantage`; OpenRLHF
// `experience_maker.py`.
//
// REINFORCE++ (no group baseline):
//   r[i,t]   = R_i·1[t = last] − β·k1_old[i,t]                 KL in the reward (§5.3)
//   Ret[i,t] = Σ_{t' ≥ t, m[i,t']=1} γ^{#loss tokens between} r[i,t']
//   A        = masked_whiten(Ret, m)                            over all loss tokens of the batch
//
// REINFORCE++-baseline ("best for RLVR", OpenRLHF README):
//   A = masked_whiten( (s_i − μ_{g(i)})·m, m )
//
// Library rule (§2.5 "verl pitfall"): the reverse cumulative sum skips masked positions without
// resetting, so a reward after an observation block (multi-turn) still reaches the earlier turns;
// only padding after the last loss token has return 0.
import Foundation

/// REINFORCE++ returns and the baseline variant's advantages.
public enum ReinforcePlusPlus {
    /// Discounted reverse cumulative sum over loss tokens: masked positions neither consume a
    /// discount step nor reset the running return (they get 0 in the output).
    /// - Parameters:
    ///   - rewards: r[i,t], [B*T] (rewards only on m = 1 positions are used).
    ///   - mask: m, [B*T].
    public static func returns(
        rewards: [Double], mask: [Double], rows: Int, columns: Int, gamma: Double
    ) -> [Double] {
        precondition(rewards.count == rows * columns && mask.count == rows * columns, "ReinforcePlusPlus.returns: need B*T entries")
        var out = [Double](repeating: 0, count: rows * columns)
        for i in 0..<rows {
            var running = 0.0
            for t in stride(from: columns - 1, through: 0, by: -1) where mask[i * columns + t] != 0 {
                running = rewards[i * columns + t] + gamma * running
                out[i * columns + t] = running
            }
        }
        return out
    }

    /// REINFORCE++: whitened discounted returns.
    public static func advantages(
        rewards: [Double], mask: [Double], rows: Int, columns: Int, gamma: Double
    ) -> (advantages: [Double], returns: [Double]) {
        let ret = returns(rewards: rewards, mask: mask, rows: rows, columns: columns, gamma: gamma)
        return (Whitening.maskedWhiten(ret, mask: mask), ret)
    }

    /// REINFORCE++-baseline: `s_i − μ_g` broadcast to the row's loss tokens, then whitened over the
    /// batch. Zero-variance and singleton groups centre to exactly 0 before whitening.
    public static func baselineAdvantages(
        scores: [Double], groupIDs: [Int], mask: [Double], rows: Int, columns: Int
    ) -> (advantages: [Double], groups: GroupAdvantages) {
        let centred = groupCentred(scores: scores, groupIDs: groupIDs) { c, _ in c }
        var tokens = [Double](repeating: 0, count: rows * columns)
        for i in 0..<rows {
            for t in 0..<columns where mask[i * columns + t] != 0 { tokens[i * columns + t] = centred.perRow[i] }
        }
        return (Whitening.maskedWhiten(tokens, mask: mask), centred)
    }
}
