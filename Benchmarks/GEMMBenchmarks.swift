// rlhub — gemm.*: the products of SmolLM2-135M's layers (y = x·Wᵀ, W stored [out, in]) on OpenBLAS
// fp32, oneDNN fp32 and oneDNN bf16 (weights converted once, activations converted in every call,
// as the model runs them), in one run: the measurements behind GEMM.swift's routing rule.
import Foundation
import Tensor

struct GEMMBenchmarks {
    let runner: BenchmarkRunner

    /// (rows M, out features O, in features I): decode at batch 1 and 64, a training micro-batch.
    static let shapes: [(M: Int, O: Int, I: Int, what: String)] = [
        (1, 3072, 576, "gate+up, decode b1"), (1, 49152, 576, "LM head, decode b1"),
        (64, 3072, 576, "gate+up, decode b64"), (64, 576, 1536, "down, decode b64"),
        (64, 49152, 576, "LM head, decode b64"), (2048, 3072, 576, "gate+up, train micro-batch"),
        (2048, 576, 1536, "down, train micro-batch"), (256, 49152, 576, "LM head chunk, train"),
    ]

    func run() {
        var rng = CounterRNG(seed: 2, purpose: .benchmark)
        for (M, O, I, what) in Self.shapes {
            let x = FloatBuffer(count: M * I), w = FloatBuffer(count: O * I), y = FloatBuffer(count: M * O)
            for i in 0..<(M * I) { x[i] = rng.nextUniform() - 0.5 }
            for i in 0..<(O * I) { w[i] = rng.nextUniform() - 0.5 }
            let wb = BFloat16Buffer(count: O * I)
            BFloat16Conversion.convert(w.pointer, to: wb.pointer, count: O * I)
            let flops = 2.0 * Double(M * O * I)
            let repeats = max(3, min(200, Int(2e10 / flops)))
            var routes: [(String, GEMM.Precision, GEMM.FP32Route)] = [("openblas", .fp32, .openBLAS), ("onednn", .fp32, .oneDNN)]
            if runner.report.bf16_gflops != nil { routes.append(("onednn.bf16", .bf16, .byShape)) }
            for (label, precision, route) in routes {
                GEMM.fp32Route = route
                defer { GEMM.fp32Route = .byShape }
                func once() -> Double {
                    timed {
                        GEMM.multiply(
                            precision: precision, transA: false, transB: true, M: M, N: O, K: I, A: .fp32(x.pointer),
                            lda: I, B: precision == .bf16 ? .bf16(wb.pointer) : .fp32(w.pointer), ldb: I, beta: 0,
                            C: y.pointer, ldc: O)
                    }
                }
                _ = once()
                let seconds = median((0..<repeats).map { _ in once() })
                runner.record(
                    "gemm.\(M)x\(O)x\(I).\(label)", seconds: seconds, flops: flops, tokens: nil, rss: PeakMemory.mib(),
                    detail: what + (precision == .bf16 ? " (activations converted in the call)" : ""), precision: precision)
            }
        }
    }
}
