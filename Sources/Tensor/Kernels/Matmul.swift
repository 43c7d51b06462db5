// rlhub — linear layer without bias: y = x·Wᵀ, weights stored [out, in] as in Hugging Face.
//
// Shapes: N rows (tokens), I = in features, O = out features.
//   forward:  out[N,O]  = inp[N,I] · W[O,I]ᵀ
//   backward: dInp[N,I] (+)= dOut[N,O] · W[O,I]
//             dW[O,I]   +=  dOut[N,O]ᵀ · inp[N,I]

/// Matrix product of a batch of rows with a `[out, in]` weight, forward and backward.
public enum Matmul {
    /// - Parameters:
    ///   - out: (N, O), overwritten (or accumulated when `accumulate`).
    ///   - inp: (N, I), row stride `inStride` (default I).
    ///   - weight: (O, I).
    public static func forward(
        out: UnsafeMutablePointer<Float>, inp: UnsafePointer<Float>,
        weight: UnsafePointer<Float>, N: Int, I: Int, O: Int,
        inStride: Int? = nil, outStride: Int? = nil, accumulate: Bool = false
    ) {
        BLAS.sgemm(
            transA: false, transB: true, M: N, N: O, K: I, A: inp, lda: inStride ?? I,
            B: weight, ldb: I, beta: accumulate ? 1 : 0, C: out, ldc: outStride ?? O)
    }

    /// Backward of ``forward``. `dWeight` always accumulates; `dInp` is overwritten unless
    /// `accumulateInput`. Either output may be nil to skip it.
    public static func backward(
        dInp: UnsafeMutablePointer<Float>?, dWeight: UnsafeMutablePointer<Float>?,
        dOut: UnsafePointer<Float>, inp: UnsafePointer<Float>, weight: UnsafePointer<Float>,
        N: Int, I: Int, O: Int, inStride: Int? = nil, dOutStride: Int? = nil,
        accumulateInput: Bool = false
    ) {
        if let dInp {
            BLAS.sgemm(
                transA: false, transB: false, M: N, N: I, K: O, A: dOut, lda: dOutStride ?? O,
                B: weight, ldb: I, beta: accumulateInput ? 1 : 0, C: dInp, ldc: I)
        }
        if let dWeight {
            BLAS.sgemm(
                transA: true, transB: false, M: O, N: I, K: N, A: dOut, lda: dOutStride ?? O,
                B: inp, ldb: inStride ?? I, beta: 1, C: dWeight, ldc: I)
        }
    }

    /// Naive reference of ``forward`` (Double accumulation), for tests.
    public static func forwardNaive(
        out: UnsafeMutablePointer<Float>, inp: UnsafePointer<Float>,
        weight: UnsafePointer<Float>, N: Int, I: Int, O: Int
    ) {
        for n in 0..<N {
            for o in 0..<O {
                var s = 0.0
                for i in 0..<I { s += Double(inp[n * I + i]) * Double(weight[o * I + i]) }
                out[n * O + o] = Float(s)
            }
        }
    }
}
