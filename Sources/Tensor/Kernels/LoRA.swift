// rlhub — a low-rank adapter on a frozen linear layer (LoRA, Hu et al. 2021), as PEFT computes it:
//
//   y = x·Wᵀ + s·(x·Aᵀ)·Bᵀ,   A: (r, I), B: (O, r), s = α / r
//
// Shapes: N rows (tokens), I in features, O out features, r the rank. The frozen product x·Wᵀ and
// its input gradient are Matmul's; this file adds the adapter's path and its gradients.
//   forward:  u[N,r]     = s · inp[N,I]·A[r,I]ᵀ          (kept for the backward)
//             out[N,O]  += u·B[O,r]ᵀ
//   backward: dB[O,r]   += dOutᵀ·u
//             du[N,r]    = s · dOut·B                     (the gradient of x·Aᵀ)
//             dA[r,I]   += duᵀ·inp
//             dInp[N,I] += du·A
// The adapter's products are fp32 OpenBLAS calls with α = s (r is small: together they are about
// 3r/I of the layer's FLOPs); the frozen weight's product may run in bf16. Strides let one adapter
// write a slice of a fused output (q, k and v share one [N, q+k+v] matrix, gate and up another).

/// The adapter path of a LoRA-adapted linear layer, forward and backward.
public enum LoRA {
    /// Adds `s·(x·Aᵀ)·Bᵀ` to `out` and keeps `u = s·x·Aᵀ` for the backward.
    /// - Parameters:
    ///   - out: (N, O) with row stride `outStride`, accumulated.
    ///   - u: (N, r), overwritten.
    ///   - inp: (N, I) with row stride `inStride`.
    ///   - a: A, (r, I). `b`: B, (O, r).
    ///   - scale: s = α / r.
    public static func forward(
        out: UnsafeMutablePointer<Float>, outStride: Int, u: UnsafeMutablePointer<Float>,
        inp: UnsafePointer<Float>, inStride: Int, a: UnsafePointer<Float>, b: UnsafePointer<Float>,
        N: Int, I: Int, O: Int, r: Int, scale: Float
    ) {
        BLAS.sgemm(
            transA: false, transB: true, M: N, N: r, K: I, alpha: scale, A: inp, lda: inStride, B: a, ldb: I,
            beta: 0, C: u, ldc: r)
        BLAS.sgemm(
            transA: false, transB: true, M: N, N: O, K: r, A: u, lda: r, B: b, ldb: r, beta: 1, C: out,
            ldc: outStride)
    }

    /// Backward of ``forward``: accumulates into `dA`, `dB` and (when given) `dInp`.
    /// - Parameters:
    ///   - dInp: (N, I), contiguous, accumulated.
    ///   - du: (N, r) scratch, overwritten.
    ///   - dOut: (N, O) with row stride `dOutStride`.
    ///   - u: the forward's `u`.
    public static func backward(
        dInp: UnsafeMutablePointer<Float>?, dA: UnsafeMutablePointer<Float>, dB: UnsafeMutablePointer<Float>,
        du: UnsafeMutablePointer<Float>, dOut: UnsafePointer<Float>, dOutStride: Int,
        inp: UnsafePointer<Float>, inStride: Int, u: UnsafePointer<Float>,
        a: UnsafePointer<Float>, b: UnsafePointer<Float>, N: Int, I: Int, O: Int, r: Int, scale: Float
    ) {
        // dB += dOutᵀ·u
        BLAS.sgemm(
            transA: true, transB: false, M: O, N: r, K: N, A: dOut, lda: dOutStride, B: u, ldb: r, beta: 1,
            C: dB, ldc: r)
        // du = s·dOut·B
        BLAS.sgemm(
            transA: false, transB: false, M: N, N: r, K: O, alpha: scale, A: dOut, lda: dOutStride, B: b,
            ldb: r, beta: 0, C: du, ldc: r)
        // dA += duᵀ·inp
        BLAS.sgemm(
            transA: true, transB: false, M: r, N: I, K: N, A: du, lda: r, B: inp, ldb: inStride, beta: 1,
            C: dA, ldc: I)
        // dInp += du·A
        if let dInp {
            BLAS.sgemm(
                transA: false, transB: false, M: N, N: I, K: r, A: du, lda: r, B: a, ldb: I, beta: 1, C: dInp,
                ldc: I)
        }
    }

    /// `merged = W + s·B·A`, (O, I): the adapted layer as one weight (PEFT's merge). `merged` may be
    /// `weight` itself (in-place merge).
    public static func merge(
        merged: UnsafeMutablePointer<Float>, weight: UnsafePointer<Float>, a: UnsafePointer<Float>,
        b: UnsafePointer<Float>, I: Int, O: Int, r: Int, scale: Float
    ) {
        if UnsafePointer(merged) != weight { merged.update(from: weight, count: O * I) }
        BLAS.sgemm(
            transA: false, transB: false, M: O, N: I, K: r, alpha: scale, A: b, lda: r, B: a, ldb: I, beta: 1,
            C: merged, ldc: I)
    }

    /// Naive reference of ``forward``'s output: `out += s·(x·Aᵀ)·Bᵀ`, Double accumulation, for tests.
    public static func forwardNaive(
        out: UnsafeMutablePointer<Float>, inp: UnsafePointer<Float>, a: UnsafePointer<Float>,
        b: UnsafePointer<Float>, N: Int, I: Int, O: Int, r: Int, scale: Float
    ) {
        for n in 0..<N {
            var h = [Double](repeating: 0, count: r)
            for k in 0..<r {
                for i in 0..<I { h[k] += Double(inp[n * I + i]) * Double(a[k * I + i]) }
            }
            for o in 0..<O {
                var s = 0.0
                for k in 0..<r { s += h[k] * Double(b[o * r + k]) }
                out[n * O + o] += Float(Double(scale) * s)
            }
        }
    }
}
