// rlhub — the one place that decides which library computes a matrix product, and in which precision.
//
//   fp32: OpenBLAS (the reference every test compares against), except the shapes where oneDNN was
//         measured faster on the machines rlhub runs on (`rlhub bench`, gemm.* rows): products with
//         very few rows (decode at batch ≤ 4, where OpenBLAS's sgemm falls to ≈ 12 GFLOP/s) and wide
//         outputs (the LM head, N ≥ 8192: oneDNN 1.8–2× OpenBLAS at 64 rows).
//   bf16: oneDNN's bf16 matmul (AVX512_BF16 brgemm): bf16 inputs, fp32 accumulation and result.
//
// Both are deterministic for a given thread count; the two fp32 libraries round differently, so the
// choice depends on the shape alone (never on timing), and a run is reproducible wherever it reruns.

/// Which GEMM runs, and the precision of its inputs.
public enum GEMM {
    /// Precision of a product's inputs. Accumulation and results are always fp32.
    public enum Precision: String, Sendable, CaseIterable, Codable {
        case fp32, bf16
    }

    /// An input matrix: fp32, or already bf16 (a model's weight copy, converted once per update).
    public enum Operand {
        case fp32(UnsafePointer<Float>)
        case bf16(UnsafePointer<BFloat16>)
        /// A weight W [O, I] packed for B = Wᵀ (transB, N = O, K = I): the sampler's weights.
        case packedBF16(PackedBF16Matrix)
    }

    /// Whether bf16 products run here at full speed (oneDNN has a native bf16 matmul: AVX512_BF16,
    /// or AVX-512 emulation); nil when not, with the reason.
    public static var bf16Unavailable: String? {
        OneDNN.bf16Implementation == nil
            ? "this CPU has no bf16 matmul in oneDNN \(OneDNN.version) (ISA \(OneDNN.isa)); use fp32" : nil
    }

    /// Which library computes fp32 products.
    public enum FP32Route: Sendable {
        /// By shape (the file comment): the default.
        case byShape
        /// Every fp32 product on OpenBLAS, or every one on oneDNN (`rlhub bench` compares them).
        case openBLAS, oneDNN
    }

    /// The process-wide fp32 route; only benchmarks change it.
    nonisolated(unsafe) public static var fp32Route = FP32Route.byShape

    /// True when oneDNN computes an fp32 product of this shape (see the file comment).
    @inline(__always)
    public static func fp32OnOneDNN(M: Int, N: Int, K: Int) -> Bool {
        switch fp32Route {
        case .byShape: M <= 4 || N >= 8192
        case .openBLAS: false
        case .oneDNN: true
        }
    }

    /// `C = op(A)·op(B) + β·C`, row-major with leading dimensions; β ∈ {0, 1}.
    /// - Parameters:
    ///   - precision: `.bf16` converts fp32 operands to bf16 (round to nearest even) for the product;
    ///     a `.bf16` operand requires `.bf16`.
    ///   - sameA: in bf16, A is the same unchanged fp32 matrix (same storage and shape) as in the
    ///     previous bf16 product, whose conversion is then reused (a layer's backward converts dY once).
    public static func multiply(
        precision: Precision, transA: Bool, transB: Bool, M: Int, N: Int, K: Int,
        A: Operand, lda: Int, B: Operand, ldb: Int, beta: Float,
        C: UnsafeMutablePointer<Float>, ldc: Int, sameA: Bool = false
    ) {
        if M == 0 || N == 0 { return }
        if K == 0 {
            if beta == 0 { for m in 0..<M { (C + m * ldc).update(repeating: 0, count: N) } }
            return
        }
        switch (precision, A, B) {
        case (.fp32, .fp32(let a), .fp32(let b)) where !fp32OnOneDNN(M: M, N: N, K: K):
            BLAS.sgemm(
                transA: transA, transB: transB, M: M, N: N, K: K, A: a, lda: lda, B: b, ldb: ldb,
                beta: beta, C: C, ldc: ldc)
        default:
            OneDNN.matmul(
                type: precision == .bf16 ? .bf16 : .fp32, transA: transA, transB: transB, M: M, N: N, K: K,
                A: A, lda: lda, B: B, ldb: ldb, beta: beta, C: C, ldc: ldc, sameA: sameA)
        }
    }
}
