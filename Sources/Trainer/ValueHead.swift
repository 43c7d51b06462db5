// rlhub — PPO's critic: a linear value head on the policy's own trunk.
//
//   V(s_t) = w · h_t + b,   h_t = final hidden state (after the last RMSNorm) at position t
//   ∂L/∂w = Σ_t ∂L/∂V_t · h_t,  ∂L/∂b = Σ_t ∂L/∂V_t,  ∂L/∂h_t = ∂L/∂V_t · w
// Why a head on the same trunk rather than a separate model: on 2 cores a second transformer
// would double the forward/backward cost of every update, while the head costs C floats and
// shares the trunk's features (as TRL's and OpenRLHF's "value head" models do). The trunk's
// gradient from the value loss is scaled by vf_coef like the loss itself.
import Foundation
import LM
import Tensor

/// A linear value head with its own AdamW state.
public final class ValueHead {
    public let channels: Int
    /// [w (C), b (1)].
    public let parameters: FloatBuffer
    public let gradients: FloatBuffer
    let optimizer: AdamW

    public init(channels: Int) {
        self.channels = channels
        parameters = FloatBuffer(count: channels + 1)
        gradients = FloatBuffer(count: channels + 1)
        optimizer = AdamW(count: channels + 1)
    }

    /// Values of the listed rows of `hidden` (N, C); a row index of -1 (a padding cell of the
    /// response grid) gives 0.
    public func values(hidden: UnsafePointer<Float>, rows: [Int]) -> [Double] {
        let w = parameters.pointer, b = parameters[channels]
        return rows.map { r in r < 0 ? 0 : Double(FastMath.dot(hidden + r * channels, w, channels) + b) }
    }

    /// Accumulates head gradients and returns ∂L/∂hidden (N, C) for the trunk.
    public func backward(hidden: UnsafePointer<Float>, rows: [Int], dValues: [Double], totalRows N: Int) -> [Float] {
        var dHidden = [Float](repeating: 0, count: N * channels)
        let w = parameters.pointer, g = gradients.pointer
        for (k, r) in rows.enumerated() where dValues[k] != 0 {
            let dv = Float(dValues[k])
            let h = hidden + r * channels
            for c in 0..<channels {
                g[c] += dv * h[c]
                dHidden[r * channels + c] = dv * w[c]
            }
            g[channels] += dv
        }
        return dHidden
    }

    /// One AdamW step on the head, then its gradients are zeroed.
    public func update(lr: Float) {
        optimizer.update(parameters: parameters, gradients: gradients, lr: lr)
        gradients.zero()
    }
}
