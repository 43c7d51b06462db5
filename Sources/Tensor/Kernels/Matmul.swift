// rlhub — linear layer without bias: y = x·Wᵀ, weights stored [out, in] as in Hugging Face.
//
// Shapes: N rows (tokens), I = in features, O = out features.
//   forward:  out[N,O]  = inp[N,I] · W[O,I]ᵀ
//   backward: dInp[N,I] (+)= dOut[N,O] · W[O,I]
//             dW[O,I]   +=  dOut[N,O]ᵀ · inp[N,I]
// In bf16 (mixed precision, as PyTorch's autocast): all three products take bf16 inputs — the weight's
// bf16 copy, the activations converted per call — and accumulate in fp32 into fp32 outputs, so the
// master weights, their gradients and everything around the products stay fp32.

/// Matrix product of a batch of rows with a `[out, in]` weight, forward and backward.
public enum Matmul {
    /// - Parameters:
    ///   - out: (N, O), overwritten (or accumulated when `accumulate`).
    ///   - inp: (N, I), row stride `inStride` (default I).
    ///   - weight: (O, I).
    ///   - weightBF16: the weight's bf16 copy; when given, the product runs in bf16 (see above).
    ///   - packed: the weight packed for oneDNN (the sampler's); when given, the product runs in bf16 on it.
    public static func forward(
        out: UnsafeMutablePointer<Float>, inp: UnsafePointer<Float>,
        weight: UnsafePointer<Float>, weightBF16: UnsafePointer<BFloat16>? = nil, packed: PackedBF16Matrix? = nil,
        N: Int, I: Int, O: Int, inStride: Int? = nil, outStride: Int? = nil, accumulate: Bool = false
    ) {
        GEMM.multiply(
            precision: weightBF16 == nil && packed == nil ? .fp32 : .bf16, transA: false, transB: true, M: N, N: O, K: I,
            A: .fp32(inp), lda: inStride ?? I, B: packed.map { .packedBF16($0) } ?? operand(weight, weightBF16), ldb: I,
            beta: accumulate ? 1 : 0, C: out, ldc: outStride ?? O)
    }

    /// Backward of ``forward``. `dWeight` always accumulates; `dInp` is overwritten unless
    /// `accumulateInput`. Either output may be nil to skip it. With `weightBF16`, both products
    /// run in bf16 (inputs rounded to bf16, fp32 accumulation), as the forward did.
    public static func backward(
        dInp: UnsafeMutablePointer<Float>?, dWeight: UnsafeMutablePointer<Float>?,
        dOut: UnsafePointer<Float>, inp: UnsafePointer<Float>, weight: UnsafePointer<Float>,
        weightBF16: UnsafePointer<BFloat16>? = nil,
        N: Int, I: Int, O: Int, inStride: Int? = nil, dOutStride: Int? = nil,
        accumulateInput: Bool = false
    ) {
        let precision: GEMM.Precision = weightBF16 == nil ? .fp32 : .bf16
        if let dInp {
            GEMM.multiply(
                precision: precision, transA: false, transB: false, M: N, N: I, K: O, A: .fp32(dOut),
                lda: dOutStride ?? O, B: operand(weight, weightBF16), ldb: I, beta: accumulateInput ? 1 : 0,
                C: dInp, ldc: I)
        }
        if let dWeight {
            // dY is the stored N × O matrix read transposed: its bf16 copy from dInp's product serves.
            GEMM.multiply(
                precision: precision, transA: true, transB: false, M: O, N: I, K: N, A: .fp32(dOut),
                lda: dOutStride ?? O, B: .fp32(inp), ldb: inStride ?? I, beta: 1, C: dWeight, ldc: I,
                sameA: dInp != nil)
        }
    }

    @inline(__always)
    static func operand(_ weight: UnsafePointer<Float>, _ bf16: UnsafePointer<BFloat16>?) -> GEMM.Operand {
        if let bf16 { .bf16(bf16) } else { .fp32(weight) }
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
