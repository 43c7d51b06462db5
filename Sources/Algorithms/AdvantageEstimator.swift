// rlhub — advantage estimators chosen by name, with one uniform entry point (algorithms.md §2).
//
//   grpo                          (s_i − μ_g)/(σ_g + ε)            GRPO.swift        DeepSeekMath arXiv 2402.03300
//   dr_grpo                       s_i − μ_g                        GRPO.swift        Dr. GRPO arXiv 2503.20783
//   rloo                          G/(G−1)·(s_i − μ_g)              RLOO.swift        arXiv 2402.14740
//   reinforce_plus_plus           whiten(discounted returns)       ReinforcePlusPlus REINFORCE++ arXiv 2501.03262
//   reinforce_plus_plus_baseline  whiten((s_i − μ_g)·m)            ReinforcePlusPlus arXiv 2501.03262
//   gae                           whiten(GAE(r, V_old))            GAE.swift         arXiv 1506.02438
//   remax                         Ret − b_greedy                   ReMax.swift       arXiv 2310.10505
//
// Rewards (§2.3, §5.3): r[i,t] = R_i·1[t = last loss token] + r_extra[i,t] − β·k(lp_old, lp_ref)[i,t]·m
// (the KL term only with `kl_in_reward`); scores s_i = Σ_t r[i,t] for outcome estimators, with R_i
// counted even for rows whose mask is all 0 (filtered rows stay in their group's statistics).
// Outcome estimators broadcast A[i,t] = A_i·m[i,t]. Advantages are constants (no gradient).
import Foundation

/// The advantage estimator (verl `algorithm.adv_estimator`).
public enum AdvantageEstimator: String, ConfigChoice {
    /// GRPO: group-normalised outcome rewards (std scaling per `scale_rewards`).
    case grpo
    /// Dr. GRPO: group-centred outcome rewards, no std division (ignores `scale_rewards`).
    case drGRPO = "dr_grpo"
    /// RLOO: leave-one-out baseline.
    case rloo
    /// REINFORCE++: token-level discounted returns whitened over the batch (no group baseline).
    case reinforcePlusPlus = "reinforce_plus_plus"
    /// REINFORCE++-baseline: group-mean baseline, then batch whitening.
    case reinforcePlusPlusBaseline = "reinforce_plus_plus_baseline"
    /// PPO's GAE with a value head (values recorded at rollout).
    case gae
    /// ReMax: greedy-response reward as baseline (needs `greedyRewards`).
    case remax

    public static var aliases: [String: AdvantageEstimator] {
        [
            "drgrpo": .drGRPO, "reinforce++": .reinforcePlusPlus, "reinforce++_baseline": .reinforcePlusPlusBaseline,
            "rf++": .reinforcePlusPlus, "ppo": .gae,
        ]
    }

    public var summary: String {
        switch self {
        case .grpo: "(s − μ_g)/(σ_g + ε) (GRPO)"
        case .drGRPO: "s − μ_g (Dr. GRPO)"
        case .rloo: "G/(G−1)·(s − μ_g) (RLOO)"
        case .reinforcePlusPlus: "whitened discounted returns (REINFORCE++)"
        case .reinforcePlusPlusBaseline: "whitened s − μ_g (REINFORCE++-baseline)"
        case .gae: "whitened GAE with a value head (PPO)"
        case .remax: "return − greedy baseline reward (ReMax)"
        }
    }

    /// True for estimators that need G ≥ 2 samples per prompt.
    public var isGroupEstimator: Bool {
        switch self {
        case .grpo, .drGRPO, .rloo, .reinforcePlusPlusBaseline: true
        case .reinforcePlusPlus, .gae, .remax: false
        }
    }
}

/// Advantages of a rollout batch, returns when the estimator has them, and metrics.
///
/// ```swift
/// let adv = Advantages.compute(for: rollout, config: config)
/// for rows in miniBatchRows {
///     let a = adv.selecting(rows: rows, columns: rollout.columns)
///     …PolicyObjective.evaluate(rollout.selecting(rows: rows), advantages: a.values, …)
/// }
/// ```
///
/// Metrics (fixed names):
///
/// | key | meaning |
/// |---|---|
/// | `reward/mean`, `reward/std` | mean and (unbiased) std of the outcome rewards R_i over rows |
/// | `reward/frac_zero_std` | fraction of groups (size ≥ 2) whose scores are all equal (A = 0) |
/// | `adv/zero_std_groups` | number of such groups |
/// | `adv/singleton_groups` | groups with one row (A = 0; a warning: batching is wrong) |
/// | `adv/mean`, `adv/std`, `adv/min`, `adv/max` | token-level statistics of A over loss tokens |
/// | `returns/mean` | token mean of the returns (GAE, REINFORCE++, ReMax) |
/// | `kl/in_reward` | token mean of k(lp_old, lp_ref) (KL in the reward only) |
public struct Advantages: Sendable, Equatable {
    /// A[i,t], [B*T], 0 where m = 0.
    public var values: [Double]
    /// Returns Ret[i,t] (GAE: value-head targets from un-whitened advantages), [B*T]; nil for
    /// outcome estimators.
    public var returns: [Double]?
    /// Per-row scores s_i (rewards after KL shaping), [B].
    public var scores: [Double]
    /// See the table above.
    public var metrics: [String: Double]

    /// Rows `indices` of the advantages and returns (mini-batch selection).
    public func selecting(rows indices: [Int], columns: Int) -> Advantages {
        Advantages(
            values: PolicyBatch.gather(values, rows: indices, columns: columns),
            returns: returns.map { PolicyBatch.gather($0, rows: indices, columns: columns) },
            scores: indices.map { scores[$0] }, metrics: metrics)
    }

    /// Token rewards r[i,t] of §2.3/§5.3: R_i on the last loss token, extra token rewards, minus
    /// β·k(lp_old, lp_ref) on loss tokens when the KL is in the reward. [B*T].
    public static func tokenRewards(for batch: PolicyBatch, config: AlgorithmConfig) -> [Double] {
        let T = batch.columns
        var r = batch.tokenRewards ?? [Double](repeating: 0, count: batch.rows * T)
        for i in 0..<batch.rows {
            if let last = batch.lastLossColumn(row: i) { r[i * T + last] += batch.rewards[i] }
        }
        if config.klPlacement == .reward {
            let k = KLPenalty.tokenKL(batch: batch, estimator: config.klEstimator)
            for j in r.indices { r[j] -= config.klCoef * k[j] }
        }
        return r
    }

    /// Per-row scores s_i = R_i + Σ_t r_extra − β Σ_t m·k (R_i counted even for fully masked rows).
    public static func scores(for batch: PolicyBatch, config: AlgorithmConfig) -> [Double] {
        let T = batch.columns
        let k = config.klPlacement == .reward ? KLPenalty.tokenKL(batch: batch, estimator: config.klEstimator) : nil
        return (0..<batch.rows).map { i in
            var s = batch.rewards[i]
            for t in 0..<T {
                if let extra = batch.tokenRewards { s += extra[i * T + t] }
                if let k { s -= config.klCoef * k[i * T + t] }
            }
            return s
        }
    }

    /// Runs `config.estimator` on a whole rollout batch (advantages use every row: compute them
    /// before splitting into mini-batches).
    /// - Parameters:
    ///   - greedyRewards: b_i per row, required by ``AdvantageEstimator/remax``.
    /// - precondition: GAE needs `oldValues` (or `values`); KL in the reward needs `refLogprobs`.
    public static func compute(
        for batch: PolicyBatch, config: AlgorithmConfig, greedyRewards: [Double]? = nil
    ) -> Advantages {
        let B = batch.rows, T = batch.columns
        let s = scores(for: batch, config: config)
        var values = [Double](repeating: 0, count: B * T)
        var returns: [Double]? = nil
        var groups: GroupAdvantages? = nil

        func broadcast(_ perRow: [Double]) {
            for i in 0..<B {
                for t in 0..<T where batch.mask[i * T + t] != 0 { values[i * T + t] = perRow[i] }
            }
        }
        switch config.estimator {
        case .grpo:
            let g = GRPO.advantages(scores: s, groupIDs: batch.groupIDs, scaling: config.scaleRewards, stdEps: config.stdEps)
            broadcast(g.perRow)
            groups = g
        case .drGRPO:
            let g = GRPO.drGRPOAdvantages(scores: s, groupIDs: batch.groupIDs)
            broadcast(g.perRow)
            groups = g
        case .rloo:
            let g = RLOO.advantages(scores: s, groupIDs: batch.groupIDs)
            broadcast(g.perRow)
            groups = g
        case .reinforcePlusPlusBaseline:
            let r = ReinforcePlusPlus.baselineAdvantages(scores: s, groupIDs: batch.groupIDs, mask: batch.mask, rows: B, columns: T)
            values = r.advantages
            groups = r.groups
        case .reinforcePlusPlus:
            let r = ReinforcePlusPlus.advantages(
                rewards: tokenRewards(for: batch, config: config), mask: batch.mask, rows: B, columns: T, gamma: config.gamma)
            values = r.advantages
            returns = r.returns
        case .gae:
            guard let v = batch.oldValues ?? batch.values else {
                preconditionFailure("Advantages: estimator 'gae' needs the value head's values at rollout (oldValues)")
            }
            let r = tokenRewards(for: batch, config: config)
            let (adv, ret) =
                config.biLevelGAE
                ? GAE.biLevelAdvantagesAndReturns(
                    rewards: r, values: v, mask: batch.mask, rows: B, columns: T, gamma: config.gamma,
                    lambda: config.lam, turnGamma: config.turnGamma)
                : GAE.advantagesAndReturns(
                    rewards: r, values: v, mask: batch.mask, rows: B, columns: T, gamma: config.gamma, lambda: config.lam)
            values = Whitening.maskedWhiten(adv, mask: batch.mask)
            returns = ret
        case .remax:
            guard let b = greedyRewards else {
                preconditionFailure("Advantages: estimator 'remax' needs greedyRewards (the greedy response's reward per row)")
            }
            let r = ReMax.advantages(
                rewards: tokenRewards(for: batch, config: config), greedyRewards: b, mask: batch.mask, rows: B, columns: T)
            values = r.advantages
            returns = r.returns
        }
        if groups == nil {
            groups = groupCentred(scores: s, groupIDs: batch.groupIDs) { c, _ in c }
        }
        return Advantages(
            values: values, returns: returns, scores: s,
            metrics: metrics(batch: batch, config: config, values: values, returns: returns, groups: groups))
    }

    private static func metrics(
        batch: PolicyBatch, config: AlgorithmConfig, values: [Double], returns: [Double]?, groups: GroupAdvantages?
    ) -> [String: Double] {
        var m: [String: Double] = [:]
        let R = batch.rewards
        m["reward/mean"] = R.isEmpty ? 0 : R.reduce(0, +) / Double(R.count)
        m["reward/std"] = unbiasedStd(R)
        if let g = groups {
            let multi = g.groups - g.singletonGroups
            m["reward/frac_zero_std"] = multi > 0 ? Double(g.zeroStdGroups) / Double(multi) : 0
            m["adv/zero_std_groups"] = Double(g.zeroStdGroups)
            m["adv/singleton_groups"] = Double(g.singletonGroups)
        }
        let loss = values.indices.filter { batch.mask[$0] != 0 }
        let a = loss.map { values[$0] }
        m["adv/mean"] = a.isEmpty ? 0 : a.reduce(0, +) / Double(a.count)
        m["adv/std"] = unbiasedStd(a)
        m["adv/min"] = a.min() ?? 0
        m["adv/max"] = a.max() ?? 0
        if let returns, !loss.isEmpty { m["returns/mean"] = loss.reduce(0) { $0 + returns[$1] } / Double(loss.count) }
        if config.klPlacement == .reward, !loss.isEmpty {
            let k = KLPenalty.tokenKL(batch: batch, estimator: config.klEstimator)
            m["kl/in_reward"] = loss.reduce(0) { $0 + k[$1] } / Double(loss.count)
        }
        return m
    }
}
