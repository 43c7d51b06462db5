// rlhub — how far the sampler's log-probs are from the trainer's, on the tokens the sampler drew.
//
// With Δ[i,t] = lp_old − lp_roll (the trainer's recompute at θ_old minus the sampler's log-prob of the
// same token) and r = e^Δ, over loss tokens (m = 1):
//   mismatch/logp_abs_mean  = mean_m |Δ|
//   mismatch/logp_abs_max   = max_m |Δ|
//   mismatch/k3             = mean_m (r − 1 − Δ)             k3 estimate of KL(π_roll ‖ π_old): the tokens
//                                                              are samples of π_roll (Schulman's k3, ≥ 0)
//   mismatch/outside_frac   = mean_m 1[r ∉ [1/C, C]]          C = tis_cap
// Zero when the sampler and the trainer compute the same numbers; with a bf16 sampler and an fp32
// trainer it is the gap TIS and masked IS correct (the TIS blog's "off-policy" source).

import Foundation

/// Diagnostics of the sampler/trainer log-prob gap (algorithms.md §4.1).
public enum SamplerMismatch {
    /// The metrics above; empty when the batch has no loss token.
    /// - Parameters:
    ///   - old: lp_old, [B*T].
    ///   - rollout: lp_roll, [B*T].
    ///   - mask: m, [B*T].
    ///   - cap: C of the band [1/C, C].
    public static func metrics(old: [Double], rollout: [Double], mask: [Double], cap: Double) -> [String: Double] {
        precondition(old.count == rollout.count && old.count == mask.count, "SamplerMismatch: grids differ in size")
        var n = 0, absSum = 0.0, absMax = 0.0, k3 = 0.0, outside = 0
        for k in old.indices where mask[k] != 0 {
            let d = old[k] - rollout[k]
            let r = clampedRatio(d).ratio  // the ratio TIS uses; |Δ| itself is reported unclamped
            n += 1
            absSum += abs(d)
            absMax = max(absMax, abs(d))
            k3 += r - 1 - log(r)
            if r < 1 / cap || r > cap { outside += 1 }
        }
        guard n > 0 else { return [:] }
        return [
            "mismatch/logp_abs_mean": absSum / Double(n), "mismatch/logp_abs_max": absMax,
            "mismatch/k3": k3 / Double(n), "mismatch/outside_frac": Double(outside) / Double(n),
        ]
    }
}
