// rlhub — truncated importance sampling for sampler/trainer mismatch (algorithms.md §4.1).
//
// Yao, Liu et al., "Your Efficient RL Framework Secretly Brings You Off-Policy RL Training"
// (fengyao.notion.site/off-policy-rl, 2025); verl PR #2953 / `rollout_corr_helper.py`; TRL
// `vllm_importance_sampling_*`.
//
//   token:     w_IS[i,t] = min( exp(clamp(lp_old − lp_roll, −20, 20)), C ) · m[i,t]
//   sequence:  w_i       = min( exp(clamp(Σ_t m·(lp_old − lp_roll), −20, 20)), C )   broadcast to the row
//   geometric: w_i       = min( exp(clamp((1/n_i) Σ_t m·(lp_old − lp_roll), −20, 20)), C )   per row
//   ℓ_TIS = w_IS · ℓ_PPO        (after clipping and dual clip),   ∂ℓ_TIS/∂lp = w_IS·∂ℓ_PPO/∂lp
//
// Masked importance sampling (MIS; OpenRLHF `icepop` / `seq-mask-tis`, TRL `token_mask` /
// `sequence_mask`) keeps the ratio r where it lies in the band [C_low, C] and drops the token (or
// the whole row) from the policy loss where it does not, instead of truncating it:
//   token_mask:     w[i,t] = r[i,t] · 1[C_low ≤ r[i,t] ≤ C] · m[i,t],   r = exp(clamp(lp_old − lp_roll, −20, 20))
//   sequence_mask:  w_i    = r_i · 1[C_low ≤ r_i ≤ C],                 r_i from the summed log-ratio
// A truncated weight still pushes a token the sampler over-sampled at weight C; a masked one is
// ignored, which is the point when the gap comes from numerics rather than from the policy.
//
// The geometric level is what token-level TIS becomes under GMPO: GMPO's loss is one term per
// sequence, ℓ_i = −A_i·Π_t ρ_t^(1/n_i), so a weight that varies along the row would make the
// per-token gradient differ from the derivative of the reported loss. Its weight is the same
// geometric mean of the token ratios that GMPO takes of the policy ratios (verl weights GMPO by
// the sequence geometric mean too). ``PolicyObjective`` uses it for GMPO with `tis_level=token`.
//
// The weights are detached (computed from lp_old and lp_roll only, never from lp); the KL and
// entropy terms are not weighted. The PPO ratio stays π_θ/π_old. Library default: token level,
// C = 2, applied only when the sampler's log-probs come from a different code path than the
// training forward (the trainer then passes `rolloutLogprobs`; bit-identical paths give w ≡ 1).
import Foundation

/// Granularity of the truncated importance weight (verl `rollout_is`, TRL `vllm_importance_sampling_mode`).
public enum TISLevel: String, ConfigChoice {
    /// No correction even when sampler log-probs are present.
    case none
    /// One weight per token (the TIS blog; verl `rollout_is="token"`).
    case token
    /// One weight per row from the summed log-ratio (verl `rollout_is="sequence"`, TRL `sequence_truncate`).
    case sequence
    /// Token ratio kept inside [C_low, C], token dropped outside (OpenRLHF `icepop`, TRL `token_mask`).
    case tokenMask = "token_mask"
    /// Row ratio kept inside [C_low, C], row dropped outside (OpenRLHF `seq-mask-tis`, TRL `sequence_mask`).
    case sequenceMask = "sequence_mask"

    public static var aliases: [String: TISLevel] {
        ["off": .none, "seq": .sequence, "icepop": .tokenMask, "seq-mask-tis": .sequenceMask]
    }

    /// True for the masking levels (a ratio outside the band drops the token or row).
    public var masks: Bool { self == .tokenMask || self == .sequenceMask }

    public var summary: String {
        switch self {
        case .none: "no sampler-mismatch correction"
        case .token: "w = min(exp(lp_old − lp_roll), C) per token (TIS)"
        case .sequence: "w = min(exp(Σ_t (lp_old − lp_roll)), C) per row"
        case .tokenMask: "w = r per token inside [tis_cap_low, C], token dropped outside (IcePop)"
        case .sequenceMask: "w = r per row inside [tis_cap_low, C], row dropped outside"
        }
    }
}

/// Truncated importance weights and their diagnostics.
public enum TruncatedImportanceSampling {
    /// The weights ([B*T], 0 where m = 0) and the raw ratios they came from.
    /// - precondition: `batch.rolloutLogprobs` is set.
    /// - Parameters:
    ///   - geometricMean: with a token level, one weight per row from the mean token log-ratio
    ///     (GMPO's form, see above) instead of one per token.
    ///   - capLow: C_low, the band's lower edge for the masking levels (0 = none).
    public static func weights(
        batch: PolicyBatch, level: TISLevel, cap: Double, capLow: Double = 0, geometricMean: Bool = false
    ) -> (weights: [Double], raw: [Double]) {
        guard let roll = batch.rolloutLogprobs else {
            preconditionFailure("TIS: rolloutLogprobs are required; record the sampler's log-probs")
        }
        let T = batch.columns
        var raw = [Double](repeating: 0, count: batch.rows * T)
        switch level {
        case .none:
            for k in raw.indices where batch.mask[k] != 0 { raw[k] = 1 }
        case .token where geometricMean, .tokenMask where geometricMean:
            rowWeights(batch: batch, rollout: roll, into: &raw, geometricMean: true)
        case .token, .tokenMask:
            for k in raw.indices where batch.mask[k] != 0 {
                raw[k] = clampedRatio(batch.oldLogprobs[k] - roll[k]).ratio
            }
        case .sequence, .sequenceMask:
            rowWeights(batch: batch, rollout: roll, into: &raw, geometricMean: false)
        }
        switch level {
        case .none: return (raw, raw)
        case .token, .sequence: return (raw.map { min($0, cap) }, raw)
        case .tokenMask, .sequenceMask: return (raw.map { $0 >= capLow && $0 <= cap ? $0 : 0 }, raw)
        }
    }

    /// True when a raw ratio is cut by `level`: truncated above C, or outside [C_low, C] when masking.
    public static func isCut(_ raw: Double, level: TISLevel, cap: Double, capLow: Double) -> Bool {
        level.masks ? (raw < capLow || raw > cap) : raw > cap
    }

    /// One raw weight per row, broadcast to its loss tokens: exp of the summed (sequence) or
    /// mean (geometric) log-ratio lp_old − lp_roll, clamped to ±20 as every ratio here.
    private static func rowWeights(batch: PolicyBatch, rollout roll: [Double], into raw: inout [Double], geometricMean: Bool) {
        let T = batch.columns
        for i in 0..<batch.rows {
            var sum = 0.0, n = 0
            for t in 0..<T where batch.mask[i * T + t] != 0 {
                sum += batch.oldLogprobs[i * T + t] - roll[i * T + t]
                n += 1
            }
            guard n > 0 else { continue }
            let w = clampedRatio(geometricMean ? sum / Double(n) : sum).ratio
            for t in 0..<T where batch.mask[i * T + t] != 0 { raw[i * T + t] = w }
        }
    }
}
