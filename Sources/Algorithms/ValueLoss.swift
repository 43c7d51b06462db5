// rlhub — clipped value loss for PPO's value head (algorithms.md §2.6).
//
// Schulman et al., "Proximal Policy Optimization Algorithms", arXiv 1707.06347; verl
// `compute_value_loss` (TRL's experimental PPO is identical).
//
//   V_clip = clamp(V_new, V_old − c_v, V_old + c_v)
//   ℓ_v    = max( (V_new − Ret)², (V_clip − Ret)² )
//   L_v    = ½·agg(ℓ_v)                                    same aggregation as the policy loss
//   ∂L_v/∂V_new[i,t] = w[i,t]·(V_new − Ret)
//                      except 0 when (V_clip−Ret)² > (V_new−Ret)² and V_new ∉ [V_old−c_v, V_old+c_v]
//
// V_old are the values recorded at rollout (no grad); Ret are GAE returns from un-whitened
// advantages. Library default c_v = 0.2 (TRL PPO), vf_coef = 0.1 (shared trunk: L = L_pg + vf_coef·L_v).
import Foundation

/// Value, gradient and metrics of the clipped value loss.
public struct ValueLossResult: Sendable, Equatable {
    /// L_v = ½·agg(ℓ_v) (not yet multiplied by vf_coef).
    public var loss: Double
    /// ∂L_v/∂V_new per token ([B*T], exactly 0 where m = 0 or the clipped branch wins).
    public var dValues: [Double]
    /// Σ w·[clipped branch strictly wins] with token-mean weights 1/N (additive over micro-batches).
    public var clipFraction: Double
}

/// PPO's clipped value loss.
public enum ValueLoss {
    /// - Parameters:
    ///   - values: V_new, [B*T] (current value head).
    ///   - oldValues: V_old, [B*T] (rollout time).
    ///   - returns: Ret, [B*T].
    ///   - clip: c_v (> 0).
    ///   - aggregation/normalizer: as for the policy loss.
    public static func evaluate(
        values: [Double], oldValues: [Double], returns: [Double], batch: PolicyBatch, clip: Double,
        aggregation: LossAggregation, normalizer: AggregationNormalizer
    ) -> ValueLossResult {
        let size = batch.rows * batch.columns
        precondition(values.count == size && oldValues.count == size && returns.count == size, "ValueLoss: need B*T entries")
        let w = aggregation.weights(for: batch, normalizer: normalizer)
        var result = ValueLossResult(loss: 0, dValues: [Double](repeating: 0, count: size), clipFraction: 0)
        for k in 0..<size where batch.mask[k] != 0 {
            let v = values[k], lo = oldValues[k] - clip, hi = oldValues[k] + clip
            let vClip = min(max(v, lo), hi)
            let e1 = (v - returns[k]) * (v - returns[k]), e2 = (vClip - returns[k]) * (vClip - returns[k])
            result.loss += 0.5 * w[k] * max(e1, e2)
            let clipped = e2 > e1 && (v < lo || v > hi)
            if clipped {
                if normalizer.tokens > 0 { result.clipFraction += 1 / Double(normalizer.tokens) }
            } else {
                result.dValues[k] = w[k] * (v - returns[k])
            }
        }
        return result
    }
}
