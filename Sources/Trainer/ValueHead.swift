// rlhub — PPO's value head: a linear map from final hidden states to a value, with its own AdamW.
// It sits on the policy's own trunk (`critic: shared`, Critic.swift) or on a separate copy
// (`critic: separate`, SeparateCritic.swift).
//
//   V(s_t) = w · h_t + b,   h_t = final hidden state (after the last RMSNorm) at position t
//   ∂L/∂w = Σ_t ∂L/∂V_t · h_t,  ∂L/∂b = Σ_t ∂L/∂V_t,  ∂L/∂h_t = Σ_{cells reading row t} ∂L/∂V · w
// Why a head on the same trunk is an option at all: on 2 cores a second transformer doubles the
// forward/backward cost of every update, while the head costs C floats and shares the trunk's
// features (as TRL's and OpenRLHF's "value head" models do); the trunk's gradient from the value
// loss is scaled by vf_coef like the loss itself. Why it is not the ppo preset's critic: on tiny
// those shared features stayed less predictive of the return than a trunk of the critic's own
// (SeparateCritic.swift has the figures).
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

    /// Accumulates head gradients and returns ∂L/∂hidden (N, C) for the trunk. Rows may repeat
    /// (a group's shared prompt row is read by every sample's first column): their gradients add.
    /// Entries with a row of -1 or a gradient of 0 are skipped.
    public func backward(hidden: UnsafePointer<Float>, rows: [Int], dValues: [Double], totalRows N: Int) -> [Float] {
        var dHidden = [Float](repeating: 0, count: N * channels)
        let w = parameters.pointer, g = gradients.pointer
        dHidden.withUnsafeMutableBufferPointer { out in
            for (k, r) in rows.enumerated() where r >= 0 && dValues[k] != 0 {
                let dv = Float(dValues[k])
                let h = hidden + r * channels, d = out.baseAddress! + r * channels
                for c in 0..<channels {
                    g[c] += dv * h[c]
                    d[c] += dv * w[c]
                }
                g[channels] += dv
            }
        }
        return dHidden
    }

    /// Parameters and AdamW moments under their checkpoint names.
    var checkpointBuffers: [(name: String, buffer: FloatBuffer)] {
        [("value_head.parameters", parameters), ("value_head.adam.m", optimizer.m), ("value_head.adam.v", optimizer.v)]
    }

    /// One AdamW step on the head, then its gradients are zeroed.
    public func update(lr: Float) {
        optimizer.update(parameters: parameters, gradients: gradients, lr: lr)
        gradients.zero()
    }
}
