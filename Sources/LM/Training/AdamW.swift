// rlhub — AdamW (Loshchilov & Hutter 2019, "Decoupled weight decay regularization").
//
// With gradient g_t, step t ≥ 1, learning rate η, decay λ:
//   m_t = β₁ m_{t−1} + (1 − β₁) g_t
//   v_t = β₂ v_{t−1} + (1 − β₂) g_t²
//   m̂ = m_t / (1 − β₁ᵗ),  v̂ = v_t / (1 − β₂ᵗ)
//   θ_t = θ_{t−1} − η (m̂ / (√v̂ + ε) + λ θ_{t−1})        (λ only on matrices, as HF does)
// The moments share the parameter arena's layout, so the update is one loop over floats.
import Foundation
import Tensor

/// Hyper-parameters of ``AdamW``.
public struct AdamWConfig: Codable, Sendable, Equatable {
    /// β₁, default 0.9.
    public var beta1: Float = 0.9
    /// β₂, default 0.999 (HF / PyTorch default).
    public var beta2: Float = 0.999
    /// ε, default 1e-8.
    public var epsilon: Float = 1e-8
    /// Decoupled weight decay λ, default 0.0 (TRL's default); applied to matrices only.
    public var weightDecay: Float = 0
    public init(beta1: Float = 0.9, beta2: Float = 0.999, epsilon: Float = 1e-8, weightDecay: Float = 0) {
        self.beta1 = beta1
        self.beta2 = beta2
        self.epsilon = epsilon
        self.weightDecay = weightDecay
    }
}

/// AdamW over a model's flat parameter arena.
public final class AdamW: @unchecked Sendable {
    public let config: AdamWConfig
    /// First and second moments, same layout as the parameters.
    public let m: FloatBuffer, v: FloatBuffer
    /// Updates taken so far (t).
    public private(set) var step: Int = 0
    /// 1 where weight decay applies, per float range (matrices), as (start, count) pairs.
    private let decayRanges: [Range<Int>]

    public convenience init(layout: ParameterLayout, config: AdamWConfig = AdamWConfig()) {
        self.init(
            count: layout.totalCount,
            decayRanges: layout.entries.filter(\.decays).map { $0.offset..<($0.offset + $0.count) },
            config: config)
    }

    /// An optimizer for `count` floats; weight decay applies to `decayRanges` only.
    public init(count: Int, decayRanges: [Range<Int>] = [], config: AdamWConfig = AdamWConfig()) {
        self.config = config
        m = FloatBuffer(count: count)
        v = FloatBuffer(count: count)
        self.decayRanges = decayRanges
    }

    /// Restores the state saved by a checkpoint.
    public func restore(step: Int) { self.step = step }

    /// One update of `parameters` with `gradients` at learning rate `lr`, in PyTorch's order:
    /// decay θ by (1 − ηλ) first, then the Adam step.
    public func update(parameters: FloatBuffer, gradients: FloatBuffer, lr: Float) {
        step += 1
        let c = config
        let bc1 = 1 - pow(c.beta1, Float(step))
        let bc2 = 1 - pow(c.beta2, Float(step))
        let stepSize = lr / bc1
        let invSqrtBC2 = 1 / bc2.squareRoot()
        let p = parameters.pointer, g = gradients.pointer, mp = m.pointer, vp = v.pointer
        parameters.markModified()
        if c.weightDecay > 0 {
            let keep = 1 - lr * c.weightDecay
            for range in decayRanges {
                for i in range { p[i] *= keep }
            }
        }
        parallelChunks(parameters.count, minPerThread: 1 << 15) { _, range in
            for i in range {
                let gi = g[i]
                let mi = c.beta1 * mp[i] + (1 - c.beta1) * gi
                let vi = c.beta2 * vp[i] + (1 - c.beta2) * gi * gi
                mp[i] = mi
                vp[i] = vi
                p[i] -= stepSize * mi / (vi.squareRoot() * invSqrtBC2 + c.epsilon)
            }
        }
    }
}
