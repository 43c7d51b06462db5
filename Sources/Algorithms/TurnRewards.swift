// rlhub — where a multi-turn episode's rewards sit on its tokens (algorithms.md §10, §2.6).
//
// An episode's reward R_i = Σ_k r_k is the sum of its turns' rewards. Outcome estimators see only
// R_i, placed on the last loss token (§2.3). Bi-level GAE (RAGEN) discounts across turns, so each
// r_k must sit at the end of the policy turn that earned it: the extra token rewards
//
//   r_extra[i, e_k] = r_k  for every turn k but the last,   r_extra[i, e_K] = −Σ_{k<K} r_k
//
// together with R_i added at the last loss token e_K give r[i, e_k] = r_k at every turn end, while
// the row's score Σ_t r[i,t] stays R_i (group statistics are unchanged).
import Foundation

/// Turn rewards as extra token rewards at the ends of the turns that earned them.
public enum TurnRewards {
    /// - Parameters:
    ///   - turnEnds: per row, the response columns of each policy turn's last token, in order.
    ///   - turnRewards: per row, the reward of each of those turns.
    ///   - mask: [B*T]; a row whose last turn end is masked (overlong filter) is left alone.
    /// - Returns: r_extra, [B*T], non-zero only at turn ends.
    public static func extraTokenRewards(
        turnEnds: [[Int]], turnRewards: [[Double]], mask: [Double], rows: Int, columns: Int
    ) -> [Double] {
        precondition(turnEnds.count == rows && turnRewards.count == rows, "TurnRewards: one entry per row")
        var extra = [Double](repeating: 0, count: rows * columns)
        for i in 0..<rows {
            let ends = turnEnds[i], rewards = turnRewards[i]
            guard let last = ends.last, ends.count == rewards.count, mask[i * columns + last] != 0 else { continue }
            for (end, reward) in zip(ends.dropLast(), rewards.dropLast()) {
                extra[i * columns + end] += reward
                extra[i * columns + last] -= reward
            }
        }
        return extra
    }
}
