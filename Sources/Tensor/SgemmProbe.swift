// rlhub — measures this machine's sgemm speed, the yardstick every benchmark is quoted against.
import Foundation

public enum SgemmProbe {
    /// Median GFLOP/s of `repeats` timed `size³` sgemm calls after one warm-up.
    public static func medianGFLOPS(size n: Int, repeats: Int) -> Double {
        let a = FloatBuffer(count: n * n), b = FloatBuffer(count: n * n), c = FloatBuffer(count: n * n)
        var rng = CounterRNG(seed: 0, purpose: .benchmark)
        for i in 0..<(n * n) {
            a[i] = rng.nextUniform() - 0.5
            b[i] = rng.nextUniform() - 0.5
        }
        func once() -> Double {
            let t0 = DispatchTime.now().uptimeNanoseconds
            BLAS.sgemm(
                transA: false, transB: true, M: n, N: n, K: n, A: a.pointer, lda: n, B: b.pointer, ldb: n,
                beta: 0, C: c.pointer, ldc: n)
            return Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9
        }
        _ = once()
        let times = (0..<max(1, repeats)).map { _ in once() }.sorted()
        return 2 * Double(n * n * n) / times[times.count / 2] / 1e9
    }

    /// Median GFLOP/s of `repeats` timed `size³` bf16 products on oneDNN (inputs already bf16, fp32
    /// result): the bf16 peak the bf16 benchmarks are quoted against. nil when this CPU has no bf16 matmul.
    public static func medianBF16GFLOPS(size n: Int, repeats: Int) -> Double? {
        guard GEMM.bf16Unavailable == nil else { return nil }
        let a = BFloat16Buffer(count: n * n), b = BFloat16Buffer(count: n * n), c = FloatBuffer(count: n * n)
        var rng = CounterRNG(seed: 0, purpose: .benchmark)
        for i in 0..<(n * n) {
            a.pointer[i] = BFloat16(rng.nextUniform() - 0.5)
            b.pointer[i] = BFloat16(rng.nextUniform() - 0.5)
        }
        func once() -> Double {
            let t0 = DispatchTime.now().uptimeNanoseconds
            GEMM.multiply(
                precision: .bf16, transA: false, transB: true, M: n, N: n, K: n, A: .bf16(a.pointer), lda: n,
                B: .bf16(b.pointer), ldb: n, beta: 0, C: c.pointer, ldc: n)
            return Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9
        }
        _ = once()
        let times = (0..<max(1, repeats)).map { _ in once() }.sorted()
        return 2 * Double(n * n * n) / times[times.count / 2] / 1e9
    }
}
