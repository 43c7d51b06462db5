// rlhub — overlong filtering and DAPO's soft overlong punishment (algorithms.md §7, §7.2).
//
// Yu et al., "DAPO: An Open-Source LLM Reinforcement Learning System at Scale", arXiv 2503.14476
// (§3.4 overlong filtering; Eq. 13 soft overlong punishment); TRL `get_soft_overlong_punishment`,
// `mask_truncated_completions`; verl DAPO reward manager.
//
// Soft punishment, |y| = the tokens of the episode's longest policy turn (EOS included),
// L_max = max_new_tokens, L_cache = buffer:
//   R_length(y) =  0                                 if |y| ≤ L_max − L_cache
//                  ((L_max − L_cache) − |y|)/L_cache   if L_max − L_cache < |y| ≤ L_max
//                  −1                                if |y| > L_max
//   R_total = R_task + factor·R_length
// L_cache = 0 is a step function (no division). L_max is a per-turn limit (the runner cuts each
// policy turn at max_new_tokens), so |y| is measured per turn too: a 10-turn episode of short
// turns is not overlong, and one turn that ran to the limit is. For a single-turn task the
// longest turn is the response, as in DAPO. Overlong filtering: rows truncated at the length
// limit without EOS get m = 0 — they stay in their group's reward statistics (advantages are
// computed from rewards before masking) but train nothing.
import Foundation

/// DAPO's length-based reward shaping and truncated-row masking.
public enum OverlongShaping {
    /// R_length of a response of `length` tokens (0 … −1).
    public static func softPenalty(length: Int, maxLength: Int, buffer: Int) -> Double {
        let threshold = maxLength - buffer
        if length <= threshold { return 0 }
        if length > maxLength || buffer <= 0 { return -1 }
        return Double(threshold - length) / Double(buffer)
    }

    /// `R_i + factor·R_length(|y_i|)` for every row.
    /// - Parameters:
    ///   - rewards: R_i, one per row.
    ///   - turnLengths: |y_i|, the length of row i's longest policy turn (its response, single-turn).
    public static func shapedRewards(
        rewards: [Double], turnLengths: [Int], maxLength: Int, buffer: Int, factor: Double
    ) -> [Double] {
        precondition(rewards.count == turnLengths.count, "shapedRewards: one turn length per row")
        return zip(rewards, turnLengths).map { r, length in
            r + factor * softPenalty(length: length, maxLength: maxLength, buffer: buffer)
        }
    }

    /// The mask with every row where `truncated[i]` (hit the limit without EOS) set to 0.
    public static func filteredMask(batch: PolicyBatch, truncated: [Bool]) -> [Double] {
        filteredMask(batch.mask, columns: batch.columns, truncated: truncated)
    }

    /// `mask` ([rows × columns]) with every row where `truncated[i]` set to 0.
    public static func filteredMask(_ mask: [Double], columns: Int, truncated: [Bool]) -> [Double] {
        precondition(truncated.count * columns == mask.count, "filteredMask: one truncated flag per row")
        var mask = mask
        for i in truncated.indices where truncated[i] {
            for t in 0..<columns { mask[i * columns + t] = 0 }
        }
        return mask
    }
}
