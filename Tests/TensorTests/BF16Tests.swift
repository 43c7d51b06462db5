// bf16: the conversion (round to nearest even), oneDNN's bf16 and fp32 products against naive references,
// bit-reproducibility, and the bf16 layer kernels against their fp32 results within bf16's error bound.
//
// The bound: a product's inputs are rounded to bf16 with relative error ≤ u = 2⁻⁸ each, so one term
// a·b carries ≤ 2u·|a·b| (+u²) and the whole dot product ≤ 2u·Σ|a_k·b_k|, plus fp32 accumulation
// (≤ K·2⁻²⁴·Σ|a_k·b_k|, far smaller). Tests check every output against 2.01u·Σ|a_k·b_k| + 1e-6.
import Foundation
import TestSupport
import Testing
import Tensor

/// bf16 tests need oneDNN's bf16 matmul (AVX-512); elsewhere they are skipped with the reason.
let bf16Available = GEMM.bf16Unavailable == nil

@Suite("BFloat16 conversion")
struct BFloat16ConversionTests {
    @Test func roundsToNearestEven() {
        // 1 + 2⁻⁸ lies exactly between 1 and 1 + 2⁻⁷: ties go to the even mantissa (1).
        #expect(BFloat16(1 + 1.0 / 256).float == 1)
        // 1 + 3·2⁻⁸ lies between 1 + 2⁻⁷ (odd) and 1 + 2⁻⁶ (even): up.
        #expect(BFloat16(1 + 3.0 / 256).float == 1 + 1.0 / 64)
        // Just above the tie rounds up.
        #expect(BFloat16(Float(bitPattern: Float(1 + 1.0 / 256).bitPattern + 1)).float == 1 + 1.0 / 128)
        #expect(BFloat16(-2.5).float == -2.5)
        #expect(BFloat16(.infinity).float == .infinity)
        #expect(BFloat16(-.infinity).float == -.infinity)
        #expect(BFloat16(.nan).float.isNaN)
        #expect(BFloat16(Float(bitPattern: 0x7F80_0001)).float.isNaN)  // a NaN whose payload would round to inf
        #expect(BFloat16(.greatestFiniteMagnitude).float == .infinity)  // beyond bf16's largest: overflows
        #expect(BFloat16(0).bitPattern == 0 && BFloat16(-0.0).bitPattern == 0x8000)
    }

    @Test func relativeErrorIsAtMostUnitRoundoff() {
        var worst: Float = 0
        for x in randomFloats(10_000, seed: 40, scale: 1000) where x != 0 {
            worst = max(worst, abs(BFloat16(x).float - x) / abs(x))
        }
        #expect(worst <= BFloat16.unitRoundoff, "worst relative error \(worst)")
    }

    @Test func vectorPathMatchesScalarAndStridedRows() {
        var xs = randomFloats(1000 + 7, seed: 41, scale: 50)
        xs[3] = .nan
        xs[20] = .infinity
        xs[21] = Float(1 + 1.0 / 256)
        let out = BFloat16Buffer(count: xs.count)
        xs.withPtr { BFloat16Conversion.convert($0, to: out.pointer, count: xs.count) }
        for i in xs.indices {
            #expect(out.pointer[i].bitPattern == BFloat16(xs[i]).bitPattern, "element \(i)")
        }
        // A 5 × 13 block of a matrix with row stride 20, into a contiguous 5 × 13.
        let block = BFloat16Buffer(count: 65)
        xs.withPtr { BFloat16Conversion.convert($0, rows: 5, cols: 13, ld: 20, to: block.pointer) }
        for r in 0..<5 {
            for c in 0..<13 { #expect(block.pointer[r * 13 + c] == BFloat16(xs[r * 20 + c])) }
        }
    }
}

@Suite("GEMM (oneDNN)", .enabled(if: bf16Available, "no bf16 matmul on this CPU: \(GEMM.bf16Unavailable ?? "")"))
struct OneDNNGEMMTests {
    /// Naive C = op(A)·op(B) in Double, and Σ|a·b| per output (for the error bound).
    static func naive(
        transA: Bool, transB: Bool, M: Int, N: Int, K: Int, A: [Float], lda: Int, B: [Float], ldb: Int
    ) -> (c: [Double], absSum: [Double]) {
        var c = [Double](repeating: 0, count: M * N), s = c
        for m in 0..<M {
            for n in 0..<N {
                for k in 0..<K {
                    let a = Double(transA ? A[k * lda + m] : A[m * lda + k])
                    let b = Double(transB ? B[n * ldb + k] : B[k * ldb + n])
                    c[m * N + n] += a * b
                    s[m * N + n] += abs(a * b)
                }
            }
        }
        return (c, s)
    }

    /// Every transpose combination, odd sizes, leading dimensions wider than the rows, β = 0 and 1.
    @Test(arguments: [(false, true), (false, false), (true, false), (true, true)])
    func bf16MatchesNaiveWithinTheBound(trans: (Bool, Bool)) {
        let (tA, tB) = trans
        let M = 9, N = 37, K = 70
        let lda = (tA ? M : K) + 3, ldb = (tB ? K : N) + 5, ldc = N + 2
        let A = randomFloats((tA ? K : M) * lda, seed: 50), B = randomFloats((tB ? N : K) * ldb, seed: 51)
        let start = randomFloats(M * ldc, seed: 52)
        for beta: Float in [0, 1] {
            var C = start
            A.withPtr { a in B.withPtr { b in C.withMutPtr { c in
                GEMM.multiply(
                    precision: .bf16, transA: tA, transB: tB, M: M, N: N, K: K, A: .fp32(a), lda: lda, B: .fp32(b), ldb: ldb,
                    beta: beta, C: c, ldc: ldc)
            } } }
            let (ref, absSum) = Self.naive(transA: tA, transB: tB, M: M, N: N, K: K, A: A, lda: lda, B: B, ldb: ldb)
            for m in 0..<M {
                for n in 0..<N {
                    let expected = ref[m * N + n] + Double(beta) * Double(start[m * ldc + n])
                    let bound = 2.01 * Double(BFloat16.unitRoundoff) * absSum[m * N + n] + 1e-6
                    #expect(abs(Double(C[m * ldc + n]) - expected) <= bound, "C[\(m),\(n)] trans \(trans) β \(beta)")
                }
                // Padding between rows is never written.
                for n in N..<ldc { #expect(C[m * ldc + n] == start[m * ldc + n]) }
            }
        }
    }

    /// With inputs already representable in bf16, the bf16 product is exact up to fp32 accumulation.
    @Test func bf16OfRepresentableInputsIsExactUpToAccumulation() {
        let M = 16, N = 24, K = 64
        let A = randomFloats(M * K, seed: 53).map { BFloat16($0).float }, B = randomFloats(N * K, seed: 54).map { BFloat16($0).float }
        var C = [Float](repeating: 0, count: M * N)
        A.withPtr { a in B.withPtr { b in C.withMutPtr { c in
            GEMM.multiply(precision: .bf16, transA: false, transB: true, M: M, N: N, K: K, A: .fp32(a), lda: K, B: .fp32(b), ldb: K, beta: 0, C: c, ldc: N)
        } } }
        let (ref, absSum) = Self.naive(transA: false, transB: true, M: M, N: N, K: K, A: A, lda: K, B: B, ldb: K)
        for i in 0..<(M * N) { #expect(abs(Double(C[i]) - ref[i]) <= 1e-6 * absSum[i] + 1e-7) }
    }

    /// The fp32 routes (OpenBLAS, oneDNN) agree to fp32 rounding at a routed shape (the LM head at 3 rows).
    @Test func oneDNNfp32MatchesOpenBLAS() {
        let M = 3, N = 9000, K = 40
        let A = randomFloats(M * K, seed: 55), B = randomFloats(N * K, seed: 56)
        #expect(GEMM.fp32OnOneDNN(M: M, N: N, K: K))
        var viaRule = [Float](repeating: 0, count: M * N)
        A.withPtr { a in B.withPtr { b in viaRule.withMutPtr { c in
            GEMM.multiply(precision: .fp32, transA: false, transB: true, M: M, N: N, K: K, A: .fp32(a), lda: K, B: .fp32(b), ldb: K, beta: 0, C: c, ldc: N)
        } } }
        var blas = [Float](repeating: 0, count: M * N)
        A.withPtr { a in B.withPtr { b in blas.withMutPtr { c in
            BLAS.sgemm(transA: false, transB: true, M: M, N: N, K: K, A: a, lda: K, B: b, ldb: K, beta: 0, C: c, ldc: N)
        } } }
        expectClose(viaRule, blas, atol: 1e-5, rtol: 1e-5, "oneDNN fp32 vs OpenBLAS")
    }

    /// A weight packed in oneDNN's layout (the sampler's) gives the plain bf16 product, at every row
    /// count decode and prefill use (the layout is queried at 64 rows).
    @Test(arguments: [1, 3, 64, 65, 300])
    func packedWeightsMatchThePlainBF16Product(rows M: Int) throws {
        let O = 200, I = 96
        let x = randomFloats(M * I, seed: 59), w = randomFloats(O * I, seed: 60)
        let packed = try #require(OneDNN.packedMatrix(rows: O, cols: I))
        w.withPtr { OneDNN.pack($0, into: packed) }
        var plain = [Float](repeating: 0, count: M * O), viaPacked = plain
        x.withPtr { xp in w.withPtr { wp in
            plain.withMutPtr { GEMM.multiply(precision: .bf16, transA: false, transB: true, M: M, N: O, K: I, A: .fp32(xp), lda: I, B: .fp32(wp), ldb: I, beta: 0, C: $0, ldc: O) }
            viaPacked.withMutPtr { Matmul.forward(out: $0, inp: xp, weight: wp, packed: packed, N: M, I: I, O: O) }
        } }
        expectClose(viaPacked, plain, atol: 1e-5, rtol: 1e-5, "packed vs plain bf16 at \(M) rows")
    }

    /// Same inputs, same thread count: bit-identical results, call after call and across primitives.
    @Test func bf16IsBitReproducible() {
        let M = 300, N = 200, K = 150
        let A = randomFloats(M * K, seed: 57), B = randomFloats(N * K, seed: 58)
        func run() -> [Float] {
            var C = [Float](repeating: 0, count: M * N)
            A.withPtr { a in B.withPtr { b in C.withMutPtr { c in
                GEMM.multiply(precision: .bf16, transA: false, transB: true, M: M, N: N, K: K, A: .fp32(a), lda: K, B: .fp32(b), ldb: K, beta: 0, C: c, ldc: N)
            } } }
            return C
        }
        let first = run()
        for _ in 0..<3 { #expect(run().map(\.bitPattern) == first.map(\.bitPattern)) }
    }
}

@Suite("Matmul and LMHead in bf16", .enabled(if: bf16Available, "no bf16 matmul on this CPU: \(GEMM.bf16Unavailable ?? "")"))
struct BF16LayerTests {
    /// Σ|a·b| of the product rows × columns (row-major, both [·, K]): the bound's scale.
    static func absProducts(_ a: [Float], _ b: [Float], rows: Int, cols: Int, K: Int) -> [Double] {
        (0..<(rows * cols)).map { i in
            let r = i / cols, c = i % cols
            return (0..<K).reduce(0.0) { $0 + abs(Double(a[r * K + $1]) * Double(b[c * K + $1])) }
        }
    }

    static func bf16Copy(_ w: [Float]) -> BFloat16Buffer {
        let buffer = BFloat16Buffer(count: w.count)
        w.withPtr { BFloat16Conversion.convert($0, to: buffer.pointer, count: w.count) }
        return buffer
    }

    /// Forward and both backward products in bf16 against the fp32 layer, within the bound.
    @Test func matmulForwardAndBackwardWithinTheBound() {
        let N = 11, I = 48, O = 33
        let x = randomFloats(N * I, seed: 60), w = randomFloats(O * I, seed: 61), dy = randomFloats(N * O, seed: 62)
        let wb = Self.bf16Copy(w)
        let u = 2.01 * Double(BFloat16.unitRoundoff)
        var y32 = [Float](repeating: 0, count: N * O), y16 = y32
        x.withPtr { xp in w.withPtr { wp in
            y32.withMutPtr { Matmul.forward(out: $0, inp: xp, weight: wp, N: N, I: I, O: O) }
            y16.withMutPtr { Matmul.forward(out: $0, inp: xp, weight: wp, weightBF16: wb.pointer, N: N, I: I, O: O) }
        } }
        let fwdScale = Self.absProducts(x, w, rows: N, cols: O, K: I)
        for i in 0..<(N * O) { #expect(abs(Double(y16[i] - y32[i])) <= u * fwdScale[i] + 1e-5, "y[\(i)]") }

        var dx32 = [Float](repeating: 0, count: N * I), dx16 = dx32
        var dw32 = [Float](repeating: 0, count: O * I), dw16 = dw32
        x.withPtr { xp in w.withPtr { wp in dy.withPtr { dyp in
            dx32.withMutPtr { dxp in dw32.withMutPtr { dwp in
                Matmul.backward(dInp: dxp, dWeight: dwp, dOut: dyp, inp: xp, weight: wp, N: N, I: I, O: O)
            } }
            dx16.withMutPtr { dxp in dw16.withMutPtr { dwp in
                Matmul.backward(dInp: dxp, dWeight: dwp, dOut: dyp, inp: xp, weight: wp, weightBF16: wb.pointer, N: N, I: I, O: O)
            } }
        } } }
        // dX[n,i] = Σ_o dY[n,o]·W[o,i];  dW[o,i] = Σ_n dY[n,o]·X[n,i].
        for n in 0..<N {
            for i in 0..<I {
                let scale = (0..<O).reduce(0.0) { $0 + abs(Double(dy[n * O + $1]) * Double(w[$1 * I + i])) }
                #expect(abs(Double(dx16[n * I + i] - dx32[n * I + i])) <= u * scale + 1e-5, "dx[\(n),\(i)]")
            }
        }
        for o in 0..<O {
            for i in 0..<I {
                let scale = (0..<N).reduce(0.0) { $0 + abs(Double(dy[$1 * O + o]) * Double(x[$1 * I + i])) }
                #expect(abs(Double(dw16[o * I + i] - dw32[o * I + i])) <= u * scale + 1e-5, "dW[\(o),\(i)]")
            }
        }
    }

    /// Log-probs and entropies of the bf16 head: the logits move by ≤ 2u·Σ|x·w| each, so log p and
    /// H (1-Lipschitz in the max-norm of the logits: |Δlog p| ≤ 2·max|Δz|) stay within twice that.
    @Test func lmHeadWithinTheBound() {
        let N = 10, C = 32, V = 300
        let x = randomFloats(N * C, seed: 63), w = randomFloats(V * C, seed: 64)
        let targets: [Int32] = (0..<N).map { Int32(($0 * 37) % V) }
        let active = (0..<N).map { Int32($0) }
        let wb = Self.bf16Copy(w)
        func run(_ bf16: Bool) -> ([Float], [Float]) {
            var lp = [Float](repeating: 0, count: N), h = lp, lse = lp
            let ws = LMHeadWorkspace(chunk: 4, vocab: V, channels: C)
            x.withPtr { xp in w.withPtr { wp in targets.withUnsafeBufferPointer { t in
                lp.withMutPtr { a in h.withMutPtr { b in lse.withMutPtr { c in
                    LMHead.forward(
                        logprob: a, entropy: b, lse: c, x: xp, weight: wp, weightBF16: bf16 ? wb.pointer : nil,
                        targets: t.baseAddress!, active: active, temperature: 1, workspace: ws)
                } } }
            } } }
            return (lp, h)
        }
        let (lp32, h32) = run(false), (lp16, h16) = run(true)
        let scale = Self.absProducts(x, w, rows: N, cols: V, K: C)
        for n in 0..<N {
            let maxDz = 2.01 * Double(BFloat16.unitRoundoff) * (scale[(n * V)..<((n + 1) * V)].max() ?? 0)
            #expect(abs(Double(lp16[n] - lp32[n])) <= 2 * maxDz + 1e-5, "log p row \(n)")
            #expect(abs(Double(h16[n] - h32[n])) <= 2 * maxDz * Double(V).squareRoot() + 1e-4, "entropy row \(n)")
        }
    }
}
