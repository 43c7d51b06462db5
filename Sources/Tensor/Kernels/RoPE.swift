// rlhub — rotary position embedding (Su et al. 2021) in Hugging Face's `rotate_half` layout.
//
// For head dimension D (even), half = D/2, position p, frequency inv_freq[i] = θ^(−2i/D):
//   (x₁, x₂) = (x[i], x[i+half]),  a = p·inv_freq[i]
//   out[i]      = x₁·cos a − x₂·sin a
//   out[i+half] = x₂·cos a + x₁·sin a
// The rotation is orthogonal, so backward applies the inverse rotation (angle −a) to dOut.
// Applied in place to the heads of a packed row: row stride `stride`, heads start at column
// `offset`, `heads` consecutive heads of D floats each.
import Foundation

/// Precomputed cos/sin tables and the in-place rotation, forward and backward.
public struct RoPE: Sendable {
    /// Head dimension D.
    public let headDim: Int
    /// Positions the tables cover.
    public let maxPositions: Int
    /// Base θ.
    public let theta: Double
    private let cosTable: [Float]  // (maxPositions, D/2)
    private let sinTable: [Float]

    public init(headDim: Int, maxPositions: Int, theta: Double) {
        precondition(headDim % 2 == 0, "RoPE: head dimension must be even, got \(headDim)")
        self.headDim = headDim
        self.maxPositions = maxPositions
        self.theta = theta
        let half = headDim / 2
        var c = [Float](repeating: 0, count: maxPositions * half)
        var s = c
        for i in 0..<half {
            // Same arithmetic as HF: inv_freq computed in float32 from θ^(2i/D), angle in float32.
            let invFreq = Float(1.0 / pow(theta, Double(2 * i) / Double(headDim)))
            for p in 0..<maxPositions {
                let angle = Float(p) * invFreq
                c[p * half + i] = Float(Foundation.cos(Double(angle)))
                s[p * half + i] = Float(Foundation.sin(Double(angle)))
            }
        }
        cosTable = c
        sinTable = s
    }

    /// Rotates (`inverse == false`) or un-rotates (`inverse == true`, the backward pass) the heads
    /// of every row in place.
    /// - Parameters:
    ///   - data: (N, stride) rows.
    ///   - positions: (N) absolute position of each row, each in `0..<maxPositions`.
    ///   - offset: first column of the first head.
    ///   - heads: how many heads of `headDim` floats follow.
    public func apply(
        _ data: UnsafeMutablePointer<Float>, positions: UnsafePointer<Int32>, N: Int,
        stride: Int, offset: Int, heads: Int, inverse: Bool = false
    ) {
        let half = headDim / 2
        let D = headDim
        let sign: Float = inverse ? -1 : 1
        cosTable.withUnsafeBufferPointer { cosBuf in
            sinTable.withUnsafeBufferPointer { sinBuf in
                guard let cosBase = cosBuf.baseAddress, let sinBase = sinBuf.baseAddress else { return }
                parallelChunks(N, minPerThread: 64) { _, rows in
                    for n in rows {
                        let p = Int(positions[n])
                        precondition(p >= 0 && p < maxPositions, "RoPE: position \(p) ≥ \(maxPositions)")
                        let cs = cosBase + p * half
                        let sn = sinBase + p * half
                        for h in 0..<heads {
                            let x = data + n * stride + offset + h * D
                            for i in 0..<half {
                                let x1 = x[i], x2 = x[i + half]
                                let c = cs[i], s = sign * sn[i]
                                x[i] = x1 * c - x2 * s
                                x[i + half] = x2 * c + x1 * s
                            }
                        }
                    }
                }
            }
        }
    }
}
