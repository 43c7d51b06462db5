// rlhub — the full per-step objective and its gradient with respect to the per-token log-probs
// (algorithms.md §9, combining §1, §3, §4.1, §5.2, §6 and the value loss of §2.6).
//
//   L = agg_π(ℓ_policy · w_IS)  +  β·agg(k(lp, lp_ref))  −  c_H·agg(H)  [+ vf_coef·L_v]
//
//   ∂L/∂lp[i,t] = w_π[i,t]·w_IS[i,t]·∂ℓ_policy/∂lp  +  β·w[i,t]·∂k/∂lp        (0 where m = 0)
//   ∂L/∂H[i,t]  = −c_H·w[i,t]                                               (the model back-propagates H)
//   ∂L/∂V[i,t]  = vf_coef·∂L_v/∂V                                           (shared-trunk value head)
//
// agg_π is `loss_agg` except for GSPO/GMPO (always seq-mean-token-mean); the KL-in-loss, entropy
// and value terms use `loss_agg` (verl). TIS weights multiply only the policy term. Normalisers
// (N, B', B, L_norm) are those of the whole optimiser mini-batch: pass them as `normalizer` when
// evaluating a micro-batch, and the micro-batch gradients add up to the mini-batch gradient. When
// the mini-batch has no loss token the result is loss 0, zero gradients and `skipped = true`: the
// trainer must not step the optimizer (no Adam moment or weight-decay update).
import Foundation

/// Loss value, gradients and metrics of one (micro-)batch.
public struct PolicyObjectiveResult: Sendable, Equatable {
    /// L (this micro-batch's additive share when a global normaliser was passed).
    public var loss: Double
    /// ∂L/∂lp per token, [B*T]; exactly 0 where m = 0.
    public var dLogprobs: [Double]
    /// ∂L/∂H per token, [B*T], when the entropy bonus is on (`entropy_coef > 0`), else nil.
    public var dEntropies: [Double]?
    /// ∂L/∂V per token, [B*T], when returns were given and the batch has values (PPO), else nil.
    public var dValues: [Double]?
    /// True when the mini-batch has no loss token: skip the optimizer step.
    public var skipped: Bool
    /// Fixed-name metrics, see ``PolicyObjective``.
    public var metrics: [String: Double]
}

/// The policy objective of one optimizer step.
///
/// ```swift
/// let global = AggregationNormalizer(miniBatch, lengthNorm: config.lengthNorm)
/// var metrics: [String: Double] = [:]
/// for rows in microBatchRows {
///     let micro = miniBatch.selecting(rows: rows).replacingLogprobs(lp, entropies: h)
///     let r = PolicyObjective.evaluate(micro, advantages: adv.selecting(rows: rows, columns: T).values,
///                                      config: config, normalizer: global)
///     if r.skipped { break }
///     model.backward(dLogprobs: r.dLogprobs.map(Float.init), dEntropies: r.dEntropies?.map(Float.init))
///     metrics = PolicyObjective.mergeMetrics(metrics, r.metrics)
/// }
/// ```
///
/// Metrics (fixed names; token means are Σ/N with the *global* N, so every key except `*_max` and
/// `skipped` adds up over the micro-batches of a step — ``mergeMetrics(_:_:)`` does this):
///
/// | key | meaning |
/// |---|---|
/// | `loss/total` | L |
/// | `loss/policy` | agg_π(ℓ_policy·w_IS) |
/// | `loss/kl` | β·agg(k(lp, lp_ref)) (KL in the loss; 0 otherwise) |
/// | `loss/entropy` | −c_H·agg(H) (0 when the bonus is off) |
/// | `loss/value` | vf_coef·L_v (PPO with returns; 0 otherwise) |
/// | `policy/clipfrac` | fraction of loss tokens clipped by ε (low + high; verl `pg_clipfrac`) |
/// | `policy/clipfrac_low` | A < 0 and ρ < 1 − ε_low (GSPO: per sequence, counted per token; CISPO: weight clipped, gradient kept) |
/// | `policy/clipfrac_high` | A > 0 and ρ > 1 + ε_high |
/// | `policy/clipfrac_dual` | A < 0 and ρ > c (dual clip; verl `pg_clipfrac_lower`) |
/// | `policy/approx_kl` | mean_m(lp_old − lp) (verl `ppo_kl`) |
/// | `policy/ratio_mean` | mean_m ρ (GSPO: s_i per token) |
/// | `policy/ratio_max` | max_m ρ |
/// | `kl/ref` | mean_m k(lp, lp_ref) with `kl_estimator` (whenever reference log-probs are given) |
/// | `entropy` | mean_m H (whenever entropies are given) |
/// | `tis/weight_mean` | mean_m of the truncated TIS weight |
/// | `tis/weight_max` | max_m of the raw TIS weight (before truncation) |
/// | `tis/clip_frac` | fraction of loss tokens whose raw weight exceeded C (masking levels: left [C_low, C]) |
/// | `tis/logratio_mean` | mean_m(lp_roll − lp_old) |
/// | `value/clipfrac` | fraction of loss tokens where the clipped value branch won |
/// | `value/mean` | mean_m V |
/// | `tokens` | loss tokens N of this micro-batch |
/// | `rows/nonempty` | rows with a loss token (B') of this micro-batch |
/// | `skipped` | 1 when the step must be skipped (empty mini-batch), else 0 |
public enum PolicyObjective {
    /// Every metric key ``evaluate(_:advantages:returns:config:normalizer:)`` can emit.
    public static let metricNames: [String] = [
        "loss/total", "loss/policy", "loss/kl", "loss/entropy", "loss/value",
        "policy/clipfrac", "policy/clipfrac_low", "policy/clipfrac_high", "policy/clipfrac_dual",
        "policy/approx_kl", "policy/ratio_mean", "policy/ratio_max", "kl/ref", "entropy",
        "tis/weight_mean", "tis/weight_max", "tis/clip_frac", "tis/logratio_mean",
        "value/clipfrac", "value/mean", "tokens", "rows/nonempty", "skipped",
    ]

    /// Loss, gradients and metrics of `batch` under `config`.
    /// - Parameters:
    ///   - batch: the (micro-)batch, with the current forward pass's log-probs (and entropies).
    ///   - advantages: A, [B*T] (``Advantages/values`` of these rows).
    ///   - returns: value targets, [B*T]; with `batch.values` adds `vf_coef·L_v` (PPO). The value
    ///     clip is centred on `batch.oldValues` (on `values` itself, i.e. no clipping, when absent).
    ///   - normalizer: the mini-batch's denominators; nil → this batch's own.
    /// - precondition: KL in the loss needs `refLogprobs`; `entropy_coef > 0` needs `entropies`.
    public static func evaluate(
        _ batch: PolicyBatch, advantages: [Double], returns: [Double]? = nil, config: AlgorithmConfig,
        normalizer: AggregationNormalizer? = nil
    ) -> PolicyObjectiveResult {
        let size = batch.rows * batch.columns
        precondition(advantages.count == size, "PolicyObjective: \(advantages.count) advantages for B*T = \(size)")
        precondition(returns == nil || returns?.count == size, "PolicyObjective: returns must have B*T entries")
        let norm = normalizer ?? AggregationNormalizer(batch, lengthNorm: config.lengthNorm)
        let entropyOn = config.entropyCoef > 0
        let valueOn = returns != nil && batch.values != nil
        var result = PolicyObjectiveResult(
            loss: 0, dLogprobs: [Double](repeating: 0, count: size),
            dEntropies: entropyOn ? [Double](repeating: 0, count: size) : nil,
            dValues: valueOn ? [Double](repeating: 0, count: size) : nil, skipped: norm.isEmpty, metrics: [:])
        var m = [String: Double]()
        for name in metricNames { m[name] = 0 }
        m["tokens"] = Double(batch.tokenCount)
        m["rows/nonempty"] = Double(batch.nonEmptyRowCount)
        guard !norm.isEmpty else {
            m["skipped"] = 1
            result.metrics = m
            return result
        }
        let perToken = 1 / Double(norm.tokens)  // token-mean weight for metrics
        let wPolicy = config.policyAggregation.weights(for: batch, normalizer: norm)
        let w = config.lossAgg.weights(for: batch, normalizer: norm)

        // 1. Truncated importance weights (detached; from lp_old and lp_roll only).
        var tis: [Double]? = nil
        if config.tisLevel != .none, let roll = batch.rolloutLogprobs {
            // GMPO's loss is one term per row: its token-level weight is the row's geometric mean.
            let (weights, raw) = TruncatedImportanceSampling.weights(
                batch: batch, level: config.tisLevel, cap: config.tisCap, capLow: config.tisCapLow,
                geometricMean: config.policyLoss == .gmpo)
            tis = weights
            for k in 0..<size where batch.mask[k] != 0 {
                m["tis/weight_mean", default: 0] += weights[k] * perToken
                m["tis/weight_max"] = max(m["tis/weight_max"] ?? 0, raw[k])
                if TruncatedImportanceSampling.isCut(raw[k], level: config.tisLevel, cap: config.tisCap, capLow: config.tisCapLow) {
                    m["tis/clip_frac", default: 0] += perToken
                }
                m["tis/logratio_mean", default: 0] += (roll[k] - batch.oldLogprobs[k]) * perToken
            }
        }

        // 2. Policy term.
        let terms = policyTerms(batch, advantages: advantages, config: config)
        let ratios = ratiosForMetrics(batch, kind: config.policyLoss)
        var policyLoss = 0.0
        for k in 0..<size where batch.mask[k] != 0 {
            let term = terms[k], weight = wPolicy[k] * (tis?[k] ?? 1)
            policyLoss += weight * term.value
            result.dLogprobs[k] += weight * term.gradient
            switch term.clip {
            case .low: m["policy/clipfrac_low", default: 0] += perToken
            case .high: m["policy/clipfrac_high", default: 0] += perToken
            case .dual: m["policy/clipfrac_dual", default: 0] += perToken
            case .none, .clamp: break
            }
            m["policy/approx_kl", default: 0] += (batch.oldLogprobs[k] - batch.logprobs[k]) * perToken
            let ratio = ratios[k]
            m["policy/ratio_mean", default: 0] += ratio * perToken
            m["policy/ratio_max"] = max(m["policy/ratio_max"] ?? 0, ratio)
        }
        m["policy/clipfrac"] = (m["policy/clipfrac_low"] ?? 0) + (m["policy/clipfrac_high"] ?? 0)
        m["loss/policy"] = policyLoss

        // 3. KL to the reference: a loss term when placed in the loss, a metric whenever possible.
        if config.klPlacement == .loss && batch.refLogprobs == nil {
            preconditionFailure("PolicyObjective: kl_coef > 0 with the KL in the loss needs refLogprobs")
        }
        if let ref = batch.refLogprobs {
            var klLoss = 0.0
            for k in 0..<size where batch.mask[k] != 0 {
                let (value, gradient) = config.klEstimator.evaluate(logprob: batch.logprobs[k], reference: ref[k])
                m["kl/ref", default: 0] += value * perToken
                if config.klPlacement == .loss {
                    klLoss += config.klCoef * w[k] * value
                    result.dLogprobs[k] += config.klCoef * w[k] * gradient
                }
            }
            m["loss/kl"] = klLoss
        }

        // 4. Entropy bonus: L −= c_H·agg(H).
        if entropyOn && batch.entropies == nil {
            preconditionFailure("PolicyObjective: entropy_coef > 0 needs the forward pass's entropies")
        }
        if let H = batch.entropies {
            var entropyLoss = 0.0
            for k in 0..<size where batch.mask[k] != 0 {
                m["entropy", default: 0] += H[k] * perToken
                if entropyOn {
                    entropyLoss -= config.entropyCoef * w[k] * H[k]
                    result.dEntropies?[k] = -config.entropyCoef * w[k]
                }
            }
            m["loss/entropy"] = entropyLoss
        }

        // 5. Value loss (PPO with a shared trunk).
        var valueLoss = 0.0
        if let returns, let values = batch.values {
            let v = ValueLoss.evaluate(
                values: values, oldValues: batch.oldValues ?? values, returns: returns, batch: batch,
                clip: config.valueClip, aggregation: config.lossAgg, normalizer: norm)
            valueLoss = config.vfCoef * v.loss
            result.dValues = v.dValues.map { config.vfCoef * $0 }
            m["value/clipfrac"] = v.clipFraction
            for k in 0..<size where batch.mask[k] != 0 { m["value/mean", default: 0] += values[k] * perToken }
        }
        m["loss/value"] = valueLoss

        result.loss = policyLoss + (m["loss/kl"] ?? 0) + (m["loss/entropy"] ?? 0) + valueLoss
        m["loss/total"] = result.loss
        result.metrics = m
        return result
    }

    /// Combines the metrics of two micro-batches of one step: `*_max` keys and `skipped` by max,
    /// everything else by sum (token means already use the global N).
    public static func mergeMetrics(_ a: [String: Double], _ b: [String: Double]) -> [String: Double] {
        var out = a
        for (key, y) in b {
            if let x = out[key] {
                out[key] = key.hasSuffix("_max") || key == "skipped" ? max(x, y) : x + y
            } else {
                out[key] = y
            }
        }
        return out
    }

    /// ℓ and ∂ℓ/∂lp of the configured surrogate at every position ([B*T]; zero at m = 0).
    static func policyTerms(_ batch: PolicyBatch, advantages: [Double], config: AlgorithmConfig) -> [TokenPolicyLoss] {
        let T = batch.columns
        switch config.policyLoss {
        case .gspo:
            return (0..<batch.rows).flatMap {
                GSPO.row(batch: batch, row: $0, advantages: advantages, clipLow: config.clipLow, clipHigh: config.clipHigh)
            }
        case .gmpo:
            return (0..<batch.rows).flatMap {
                GMPO.row(batch: batch, row: $0, advantages: advantages, clipLow: config.clipLow, clipHigh: config.clipHigh)
            }
        case .ppoClip, .reinforce, .cispo:
            return (0..<(batch.rows * T)).map { k in
                guard batch.mask[k] != 0 else { return TokenPolicyLoss(value: 0, gradient: 0) }
                let lp = batch.logprobs[k], old = batch.oldLogprobs[k], A = advantages[k]
                switch config.policyLoss {
                case .reinforce:
                    return Reinforce.token(logprob: lp, advantage: A)
                case .cispo:
                    return CISPO.token(logprob: lp, oldLogprob: old, advantage: A, clipLow: config.clipLow, clipHigh: config.clipHigh)
                default:
                    return PPOClip.token(
                        logprob: lp, oldLogprob: old, advantage: A, clipLow: config.clipLow,
                        clipHigh: config.clipHigh, dualClip: config.dualClip)
                }
            }
        }
    }

    /// The ratio reported in metrics: ρ per token, s_i for GSPO (both clamped as in the loss).
    private static func ratiosForMetrics(_ batch: PolicyBatch, kind: PolicyLossKind) -> [Double] {
        let T = batch.columns
        var out = [Double](repeating: 0, count: batch.rows * T)
        for i in 0..<batch.rows {
            let s = kind == .gspo ? Foundation.exp(min(GSPO.logSequenceRatio(batch: batch, row: i), 10)) : 0
            for t in 0..<T where batch.mask[i * T + t] != 0 {
                let k = i * T + t
                out[k] = kind == .gspo ? s : clampedRatio(batch.logprobs[k] - batch.oldLogprobs[k]).ratio
            }
        }
        return out
    }
}
