// rlhub — root-mean-square layer norm (Zhang & Sennrich 2019), as in Llama.
//
//   rstd[n]   = 1 / sqrt(mean_c x[n,c]² + eps)
//   out[n,c]  = x[n,c] · rstd[n] · w[c]
// Backward, with x̂ = x·rstd and g = dOut ⊙ w:
//   dx[n,c]  = rstd[n] · (g[n,c] − x̂[n,c] · mean_c(g[n,:] ⊙ x̂[n,:]))
//   dw[c]   += Σ_n dOut[n,c] · x̂[n,c]
// Shapes: N rows, C channels.

/// RMSNorm forward and backward.
public enum RMSNorm {
    /// Most per-chunk partials ``backward(dInp:dWeight:dOut:inp:weight:rstd:N:C:accumulate:scratch:)``
    /// uses, whatever the thread count: its scratch holds `maxChunks · C` floats.
    public static let maxChunks = 64

    /// - Parameters:
    ///   - out: (N, C).
    ///   - rstd: (N), saved for backward.
    ///   - inp: (N, C).
    ///   - weight: (C).
    public static func forward(
        out: UnsafeMutablePointer<Float>, rstd: UnsafeMutablePointer<Float>,
        inp: UnsafePointer<Float>, weight: UnsafePointer<Float>, N: Int, C: Int, eps: Float
    ) {
        parallelChunks(N, minPerThread: 64) { _, rows in
            for n in rows {
                let x = inp + n * C
                let y = out + n * C
                let ms = FastMath.dot(x, x, C) / Float(C)
                let r = 1 / (ms + eps).squareRoot()
                rstd[n] = r
                for c in 0..<C { y[c] = x[c] * r * weight[c] }
            }
        }
    }

    /// Writes `dInp` (overwrite, or add when `accumulate`) and accumulates `dWeight` (nil: a frozen gain).
    /// - Parameter scratch: at least ``maxChunks`` · C floats for per-chunk dw partials.
    public static func backward(
        dInp: UnsafeMutablePointer<Float>, dWeight: UnsafeMutablePointer<Float>?,
        dOut: UnsafePointer<Float>, inp: UnsafePointer<Float>, weight: UnsafePointer<Float>,
        rstd: UnsafePointer<Float>, N: Int, C: Int, accumulate: Bool,
        scratch: UnsafeMutablePointer<Float>
    ) {
        // One read of the thread count: the partials zeroed and summed are those the loop fills.
        let chunks = min(parallelChunkCount(N, minPerThread: 64), maxChunks)
        scratch.update(repeating: 0, count: chunks * C)
        parallelChunks(N, chunks: chunks) { chunk, rows in
            let dw = scratch + chunk * C
            for n in rows {
                let x = inp + n * C
                let dy = dOut + n * C
                let dx = dInp + n * C
                let r = rstd[n]
                var dotGX: Float = 0
                for c in 0..<C { dotGX += dy[c] * weight[c] * x[c] }
                let k = dotGX * r * r / Float(C)  // mean(g ⊙ x̂) · rstd
                for c in 0..<C {
                    let v = r * (dy[c] * weight[c] - x[c] * k)
                    dx[c] = accumulate ? dx[c] + v : v
                    dw[c] += dy[c] * x[c] * r
                }
            }
        }
        guard let dWeight else { return }
        for chunk in 0..<chunks {
            let dw = scratch + chunk * C
            for c in 0..<C { dWeight[c] += dw[c] }
        }
    }

    /// Naive reference of ``forward`` (Double), for tests.
    public static func forwardNaive(
        out: UnsafeMutablePointer<Float>, inp: UnsafePointer<Float>, weight: UnsafePointer<Float>,
        N: Int, C: Int, eps: Float
    ) {
        for n in 0..<N {
            var ss = 0.0
            for c in 0..<C { ss += Double(inp[n * C + c]) * Double(inp[n * C + c]) }
            let r = 1 / (ss / Double(C) + Double(eps)).squareRoot()
            for c in 0..<C { out[n * C + c] = Float(Double(inp[n * C + c]) * r * Double(weight[c])) }
        }
    }
}
