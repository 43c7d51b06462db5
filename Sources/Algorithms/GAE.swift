// rlhub — generalised advantage estimation for PPO, incl. multi-turn (algorithms.md §2.6, §10).
//
// Schulman et al., "High-Dimensional Continuous Control Using Generalized Advantage Estimation",
// arXiv 1506.02438; verl `compute_gae_advantage_return` (mask-skipping form); bi-level GAE from
// RAGEN `compute_bi_level_gae_advantage_return` (Wang et al., "RAGEN", arXiv 2504.20073).
//
// Per row, t = T−1 … 0, nextV = 0, gae = 0:
//   δ_t   = r[t] + γ·nextV − V[t]
//   gae'  = δ_t + γ·λ·gae
//   nextV = m[t]·V[t] + (1−m[t])·nextV          masked positions are transparent
//   gae   = m[t]·gae' + (1−m[t])·gae
//   Adv[t] = gae,   Ret[t] = Adv[t] + V[t]       returns use the UN-whitened advantages
//   A = masked_whiten(Adv, m)
//
// V[i,t] ≈ V(s_t) is read at the same position as lp[i,t] (the state before token t). Values at
// masked positions (padding, observation tokens) never influence any output; terminal bootstrap 0.
//
// Bi-level (RAGEN, §10 rule 4): turn ends e_1 < … < e_K (last loss token of each maximal run of
// m = 1 tokens); turn-level GAE δ_k = r[e_k] + γ_turn·V[e_{k+1}] − V[e_k] (V[e_{K+1}] = 0),
// Â_k = δ_k + γ_turn·λ·Â_{k+1}; the reward at e_k becomes Â_k + V[e_k]; token-level GAE with γ
// inside each turn, restarting (nextV = 0, gae = 0) at every turn end; whiten over m.
import Foundation

/// GAE advantages and returns (before whitening) for PPO.
public enum GAE {
    /// Mask-skipping GAE. Returns un-whitened advantages and returns, both 0 where m = 0.
    /// - Parameters:
    ///   - rewards: r[i,t], [B*T].
    ///   - values: V[i,t] at rollout time, [B*T] (any value at m = 0).
    public static func advantagesAndReturns(
        rewards: [Double], values: [Double], mask: [Double], rows: Int, columns: Int,
        gamma: Double, lambda: Double
    ) -> (advantages: [Double], returns: [Double]) {
        let size = rows * columns
        precondition(rewards.count == size && values.count == size && mask.count == size, "GAE: need B*T entries")
        var adv = [Double](repeating: 0, count: size), ret = adv
        for i in 0..<rows {
            var nextV = 0.0, gae = 0.0
            for t in stride(from: columns - 1, through: 0, by: -1) {
                let k = i * columns + t
                guard mask[k] != 0 else { continue }  // transparent: keeps nextV and gae
                let delta = rewards[k] + gamma * nextV - values[k]
                gae = delta + gamma * lambda * gae
                nextV = values[k]
                adv[k] = gae
                ret[k] = gae + values[k]
            }
        }
        return (adv, ret)
    }

    /// RAGEN bi-level GAE (turn level with `turnGamma`, token level with `gamma` inside turns).
    /// Returns un-whitened advantages and returns, 0 where m = 0.
    public static func biLevelAdvantagesAndReturns(
        rewards: [Double], values: [Double], mask: [Double], rows: Int, columns: Int,
        gamma: Double, lambda: Double, turnGamma: Double
    ) -> (advantages: [Double], returns: [Double]) {
        let size = rows * columns
        precondition(rewards.count == size && values.count == size && mask.count == size, "GAE: need B*T entries")
        var adv = [Double](repeating: 0, count: size), ret = adv
        for i in 0..<rows {
            let base = i * columns
            let valid = (0..<columns).filter { mask[base + $0] != 0 }
            guard !valid.isEmpty else { continue }
            // Turn ends: the last loss token of each run of consecutive loss tokens.
            var isEnd = Set<Int>()
            for (j, p) in valid.enumerated() where j == valid.count - 1 || valid[j + 1] != p + 1 { isEnd.insert(p) }
            let ends = valid.filter { isEnd.contains($0) }
            // (a) turn-level GAE, (b) the turn return replaces the reward at each turn end.
            var reward = (0..<columns).map { rewards[base + $0] }
            var turnAdv = 0.0
            var turnReturn = [Int: Double]()
            for k in stride(from: ends.count - 1, through: 0, by: -1) {
                let e = ends[k]
                let nextV = k + 1 < ends.count ? values[base + ends[k + 1]] : 0
                let delta = reward[e] + turnGamma * nextV - values[base + e]
                turnAdv = delta + turnGamma * lambda * turnAdv
                turnReturn[e] = turnAdv + values[base + e]
            }
            for (e, r) in turnReturn { reward[e] = r }
            // (c) token-level GAE inside each turn, restarting at turn ends.
            var gae = 0.0
            for j in stride(from: valid.count - 1, through: 0, by: -1) {
                let p = valid[j]
                var nextV = 0.0
                if isEnd.contains(p) { gae = 0 } else { nextV = values[base + valid[j + 1]] }
                let delta = reward[p] + gamma * nextV - values[base + p]
                gae = delta + gamma * lambda * gae
                adv[base + p] = gae
                ret[base + p] = gae + values[base + p]
            }
        }
        return (adv, ret)
    }
}
