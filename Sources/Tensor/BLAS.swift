// rlhub — the only file that imports the OpenBLAS C module: sgemm/sgemv and library facts.
@preconcurrency import COpenBLAS

/// Thin wrapper over OpenBLAS. Every matrix product in rlhub goes through ``BLAS/sgemm``.
///
/// Matrices are row-major. Shapes follow BLAS: `C[M,N] = α·op(A)[M,K]·op(B)[K,N] + β·C`.
public enum BLAS {
    /// `C = alpha * op(A) * op(B) + beta * C`, row-major, with leading dimensions.
    @inlinable
    public static func sgemm(
        transA: Bool, transB: Bool, M: Int, N: Int, K: Int,
        alpha: Float = 1, A: UnsafePointer<Float>, lda: Int,
        B: UnsafePointer<Float>, ldb: Int,
        beta: Float, C: UnsafeMutablePointer<Float>, ldc: Int
    ) {
        if M == 0 || N == 0 { return }
        ComputeThreads.ensureResolved()
        cblas_sgemm(
            CblasRowMajor, transA ? CblasTrans : CblasNoTrans, transB ? CblasTrans : CblasNoTrans,
            blasint(M), blasint(N), blasint(K), alpha, A, blasint(lda), B, blasint(ldb),
            beta, C, blasint(ldc))
    }

    /// `y = alpha * op(A) * x + beta * y`, row-major `A[M,N]`.
    @inlinable
    public static func sgemv(
        trans: Bool, M: Int, N: Int, alpha: Float = 1, A: UnsafePointer<Float>, lda: Int,
        x: UnsafePointer<Float>, beta: Float, y: UnsafeMutablePointer<Float>
    ) {
        ComputeThreads.ensureResolved()
        cblas_sgemv(
            CblasRowMajor, trans ? CblasTrans : CblasNoTrans, blasint(M), blasint(N), alpha, A,
            blasint(lda), x, 1, beta, y, 1)
    }

    /// The kernel family OpenBLAS chose at load time (e.g. `SkylakeX`, `Haswell`, `Prescott`).
    public static var coreName: String {
        guard let name = openblas_get_corename() else { return "unknown" }
        return String(cString: name)
    }

    /// OpenBLAS's build string (version, build options).
    public static var config: String {
        guard let text = openblas_get_config() else { return "unknown" }
        return String(cString: text)
    }

    /// Threads OpenBLAS uses for one call.
    public static var threads: Int { Int(openblas_get_num_threads()) }

    /// Sets the number of threads OpenBLAS uses for one call. Use ``ComputeThreads/set(_:)``,
    /// which keeps rlhub's kernels at the same count.
    public static func setThreads(_ n: Int) { openblas_set_num_threads(Int32(max(1, n))) }
}
