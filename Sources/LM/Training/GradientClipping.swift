// rlhub — global-norm gradient clipping (Pascanu et al. 2013), as torch.nn.utils.clip_grad_norm_.
//
//   ‖g‖ = sqrt(Σ g_i²);  if ‖g‖ > c:  g ← g · c / (‖g‖ + 1e-6)
import Tensor

public enum GradientClipping {
    /// The global L2 norm, summed in Double over fixed chunks in order (reproducible for a thread
    /// count).
    public static func globalNorm(_ gradients: FloatBuffer) -> Double {
        let n = gradients.count
        let chunks = 64
        var partial = [Double](repeating: 0, count: chunks)
        partial.withUnsafeMutableBufferPointer { part in
            let pp = part.baseAddress!
            parallelChunks(chunks) { _, cs in
                for c in cs {
                    var s = 0.0
                    let lo = n * c / chunks, hi = n * (c + 1) / chunks
                    let g = gradients.pointer
                    var i = lo
                    while i < hi {
                        var acc: Float = 0
                        let end = min(hi, i + 1024)
                        while i < end { acc += g[i] * g[i]; i += 1 }
                        s += Double(acc)
                    }
                    pp[c] = s
                }
            }
        }
        return partial.reduce(0, +).squareRoot()
    }

    /// Scales gradients so their global norm is at most `maxNorm`; returns the norm before
    /// clipping (the metric `grad_norm`).
    @discardableResult
    public static func clip(_ gradients: FloatBuffer, maxNorm: Double) -> Double {
        let norm = globalNorm(gradients)
        if maxNorm > 0 && norm > maxNorm {
            let scale = Float(maxNorm / (norm + 1e-6))
            let g = gradients.pointer
            parallelChunks(gradients.count, minPerThread: 1 << 15) { _, r in
                for i in r { g[i] *= scale }
            }
        }
        return norm
    }
}
