// rlhub — GRPO and Dr. GRPO group-relative advantages (algorithms.md §2.1, §2.2).
//
// GRPO: Shao et al., "DeepSeekMath: Pushing the Limits of Mathematical Reasoning in Open Language
// Models", arXiv 2402.03300 (verl `compute_grpo_outcome_advantage`, TRL
// `_generate_and_score_completions`). Dr. GRPO: Liu et al., "Understanding R1-Zero-Like Training:
// A Critical Perspective", arXiv 2503.20783 (oat `critic_type="drgrpo"`).
//
//   μ_g = (1/G) Σ_{j∈S_g} s_j
//   σ_g = sqrt( (1/(G−1)) Σ_{j∈S_g} (s_j − μ_g)² )     unbiased (Bessel) std
//   A_i = (s_i − μ_g) / (σ_g + ε_std)                  scale_rewards = group   (GRPO)
//   A_i = (s_i − μ_g) / (σ_B + ε_std)                  scale_rewards = batch   (σ of all scores; Lite-PPO)
//   A_i =  s_i − μ_g                                   scale_rewards = none    (Dr. GRPO)
//
// Library rules: statistics in Float64; a group whose scores are all exactly equal gets A = 0
// exactly (a float residue would otherwise be amplified by 1/ε_std) and is counted; a singleton
// group (G = 1, custom batching only — config validation rejects group_size < 2) gets A = 0 and is
// counted as a warning. Advantages are constants: no gradient flows through them.
import Foundation

/// How GRPO divides the centred score (TRL `scale_rewards`; verl `norm_adv_by_std_in_grpo`).
public enum RewardScaling: String, ConfigChoice {
    /// Divide by the group's unbiased std + ε (GRPO, DeepSeekMath; verl/TRL default).
    case group
    /// Divide by the std of all scores in the batch + ε (Lite-PPO; TRL `scale_rewards="batch"`).
    case batch
    /// No division (Dr. GRPO, arXiv 2503.20783: removes the question-difficulty bias).
    case none

    public static var aliases: [String: RewardScaling] { ["true": .group, "false": .none] }

    public var summary: String {
        switch self {
        case .group: "divide by the group std + std_eps (GRPO)"
        case .batch: "divide by the batch std + std_eps (Lite-PPO)"
        case .none: "no std division (Dr. GRPO)"
        }
    }
}

/// Per-row advantages of a group estimator and the counts the library rules ask for.
public struct GroupAdvantages: Sendable, Equatable {
    /// A_i, one per row.
    public var perRow: [Double]
    /// Groups (prompt ids) in the batch.
    public var groups: Int
    /// Groups of size ≥ 2 whose scores are all equal (A = 0; TRL `frac_reward_zero_std` numerator).
    public var zeroStdGroups: Int
    /// Groups with a single row (A = 0, warning).
    public var singletonGroups: Int
}

/// Group-relative advantages of GRPO and Dr. GRPO.
public enum GRPO {
    /// GRPO advantages from per-row scores `s_i` (§2.1).
    /// - Parameters:
    ///   - scores: s_i = Σ_t r[i,t] (outcome reward, minus the KL penalty when KL is in the reward).
    ///   - groupIDs: g(i).
    ///   - scaling: ``RewardScaling``; `.none` is Dr. GRPO.
    ///   - stdEps: ε_std, added to the std (library default 1e-6, verl; TRL 1e-4).
    public static func advantages(
        scores: [Double], groupIDs: [Int], scaling: RewardScaling, stdEps: Double
    ) -> GroupAdvantages {
        precondition(scores.count == groupIDs.count, "GRPO.advantages: one group id per score")
        let batchStd = scaling == .batch ? unbiasedStd(scores) : 0
        return groupCentred(scores: scores, groupIDs: groupIDs) { centred, groupStd in
            switch scaling {
            case .group: centred / (groupStd + stdEps)
            case .batch: centred / (batchStd + stdEps)
            case .none: centred
            }
        }
    }

    /// Dr. GRPO advantages `s_i − μ_g` (§2.2); the other half of Dr. GRPO is the
    /// ``LossAggregation/seqMeanTokenSumNorm`` aggregation.
    public static func drGRPOAdvantages(scores: [Double], groupIDs: [Int]) -> GroupAdvantages {
        advantages(scores: scores, groupIDs: groupIDs, scaling: .none, stdEps: 0)
    }
}

// MARK: - Group statistics shared by the group estimators

/// Row indices of each group, groups in order of first appearance.
func rowsByGroup(_ groupIDs: [Int]) -> [[Int]] {
    var order: [Int] = []
    var members: [Int: [Int]] = [:]
    for (i, g) in groupIDs.enumerated() {
        if members[g] == nil { order.append(g) }
        members[g, default: []].append(i)
    }
    return order.map { members[$0] ?? [] }
}

/// Unbiased std in Float64 (0 for fewer than two values).
func unbiasedStd(_ x: [Double]) -> Double {
    guard x.count > 1 else { return 0 }
    let mean = x.reduce(0, +) / Double(x.count)
    let ss = x.reduce(0) { $0 + ($1 - mean) * ($1 - mean) }
    return (ss / Double(x.count - 1)).squareRoot()
}

/// Applies `transform(s_i − μ_g, σ_g)` per group with the zero-variance and singleton rules.
func groupCentred(
    scores: [Double], groupIDs: [Int], transform: (Double, Double) -> Double
) -> GroupAdvantages {
    var result = GroupAdvantages(
        perRow: [Double](repeating: 0, count: scores.count), groups: 0, zeroStdGroups: 0, singletonGroups: 0)
    for members in rowsByGroup(groupIDs) {
        result.groups += 1
        let s = members.map { scores[$0] }
        if s.count == 1 {
            result.singletonGroups += 1
            continue
        }
        if s.min() == s.max() {
            result.zeroStdGroups += 1
            continue
        }
        let mean = s.reduce(0, +) / Double(s.count)
        let std = unbiasedStd(s)
        for i in members { result.perRow[i] = transform(scores[i] - mean, std) }
    }
    return result
}
