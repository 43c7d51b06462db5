// Every kernel: fast vs naive reference, and backward vs central finite differences.
import Foundation
import TestSupport
import Testing
import Tensor

@Suite("FastMath")
struct FastMathTests {
    @Test func expMatchesFoundation() {
        var worst: Float = 0
        var x: Float = -80
        while x < 80 {
            let a = FastMath.exp(x), b = Float(Foundation.exp(Double(x)))
            worst = max(worst, abs(a - b) / b)
            x += 0.0137
        }
        #expect(worst < 3e-7, "max relative error \(worst)")
        #expect(FastMath.exp(-200) >= 0 && FastMath.exp(-200) < 1e-37)
    }
}

@Suite("Matmul")
struct MatmulTests {
    @Test(arguments: [(1, 3, 5), (7, 16, 9), (33, 64, 17)])
    func blasMatchesNaive(shape: (Int, Int, Int)) {
        let (N, I, O) = shape
        let x = randomFloats(N * I, seed: 1), w = randomFloats(O * I, seed: 2)
        var fast = [Float](repeating: 0, count: N * O), naive = fast
        x.withPtr { xp in w.withPtr { wp in
            fast.withMutPtr { Matmul.forward(out: $0, inp: xp, weight: wp, N: N, I: I, O: O) }
            naive.withMutPtr { Matmul.forwardNaive(out: $0, inp: xp, weight: wp, N: N, I: I, O: O) }
        } }
        expectClose(fast, naive, atol: 1e-5, rtol: 1e-4, "matmul \(shape)")
    }

    @Test func backwardMatchesFiniteDifferences() {
        let N = 5, I = 7, O = 6
        var x = randomFloats(N * I, seed: 3), w = randomFloats(O * I, seed: 4)
        let dy = randomFloats(N * O, seed: 5)
        func loss(_ x: [Float], _ w: [Float]) -> Double {
            var y = [Float](repeating: 0, count: N * O)
            x.withPtr { xp in w.withPtr { wp in y.withMutPtr { Matmul.forward(out: $0, inp: xp, weight: wp, N: N, I: I, O: O) } } }
            return weightedSum(y, dy)
        }
        var dx = [Float](repeating: 0, count: N * I), dw = [Float](repeating: 0, count: O * I)
        x.withPtr { xp in w.withPtr { wp in dy.withPtr { dyp in
            dx.withMutPtr { dxp in dw.withMutPtr { dwp in
                Matmul.backward(dInp: dxp, dWeight: dwp, dOut: dyp, inp: xp, weight: wp, N: N, I: I, O: O)
            } }
        } } }
        let wCopy = w, xCopy = x
        gradientCheck(&x, analytic: dx, indices: sampleIndices(N * I), "dx") { loss($0, wCopy) }
        gradientCheck(&w, analytic: dw, indices: sampleIndices(O * I), "dW") { loss(xCopy, $0) }
    }
}

@Suite("RMSNorm")
struct RMSNormTests {
    let N = 6, C = 24
    @Test func matchesNaive() {
        let x = randomFloats(N * C, seed: 10, scale: 3), w = randomFloats(C, seed: 11)
        var fast = [Float](repeating: 0, count: N * C), naive = fast, rstd = [Float](repeating: 0, count: N)
        x.withPtr { xp in w.withPtr { wp in
            fast.withMutPtr { o in rstd.withMutPtr { r in RMSNorm.forward(out: o, rstd: r, inp: xp, weight: wp, N: N, C: C, eps: 1e-5) } }
            naive.withMutPtr { RMSNorm.forwardNaive(out: $0, inp: xp, weight: wp, N: N, C: C, eps: 1e-5) }
        } }
        expectClose(fast, naive, atol: 1e-6, rtol: 1e-5, "rmsnorm")
    }

    @Test func backwardMatchesFiniteDifferences() {
        var x = randomFloats(N * C, seed: 12, scale: 2), w = randomFloats(C, seed: 13)
        let dy = randomFloats(N * C, seed: 14)
        func loss(_ x: [Float], _ w: [Float]) -> Double {
            var y = [Float](repeating: 0, count: N * C), r = [Float](repeating: 0, count: N)
            x.withPtr { xp in w.withPtr { wp in y.withMutPtr { o in r.withMutPtr { rp in
                RMSNorm.forward(out: o, rstd: rp, inp: xp, weight: wp, N: N, C: C, eps: 1e-5) } } } }
            return weightedSum(y, dy)
        }
        var y = [Float](repeating: 0, count: N * C), rstd = [Float](repeating: 0, count: N)
        var dx = [Float](repeating: 7, count: N * C), dw = [Float](repeating: 0, count: C)
        var scratch = [Float](repeating: 0, count: 64 * C)
        x.withPtr { xp in w.withPtr { wp in dy.withPtr { dyp in
            y.withMutPtr { o in rstd.withMutPtr { r in RMSNorm.forward(out: o, rstd: r, inp: xp, weight: wp, N: N, C: C, eps: 1e-5) } }
            rstd.withPtr { r in dx.withMutPtr { dxp in dw.withMutPtr { dwp in scratch.withMutPtr { s in
                RMSNorm.backward(dInp: dxp, dWeight: dwp, dOut: dyp, inp: xp, weight: wp, rstd: r, N: N, C: C, accumulate: false, scratch: s)
            } } } }
        } } }
        let wc = w, xc = x
        gradientCheck(&x, analytic: dx, indices: sampleIndices(N * C), "dx") { loss($0, wc) }
        gradientCheck(&w, analytic: dw, indices: Array(0..<C), "dw") { loss(xc, $0) }
    }
}

@Suite("RoPE")
struct RoPETests {
    @Test func matchesRotateHalfFormula() {
        let D = 8, N = 5, heads = 2, stride = 20, offset = 3
        let rope = RoPE(headDim: D, maxPositions: 64, theta: 10000)
        let x = randomFloats(N * stride, seed: 20)
        let pos: [Int32] = [0, 1, 7, 31, 63]
        var y = x
        pos.withUnsafeBufferPointer { p in y.withMutPtr { rope.apply($0, positions: p.baseAddress!, N: N, stride: stride, offset: offset, heads: heads) } }
        for n in 0..<N {
            for h in 0..<heads {
                let base = n * stride + offset + h * D
                for i in 0..<D {
                    // HF: q*cos + rotate_half(q)*sin with cos/sin of cat(freqs, freqs).
                    let f = Double(pos[n]) / pow(10000.0, Double(2 * (i % (D / 2))) / Double(D))
                    let rot = i < D / 2 ? -Double(x[base + i + D / 2]) : Double(x[base + i - D / 2])
                    let expected = Double(x[base + i]) * cos(f) + rot * sin(f)
                    #expect(abs(Double(y[base + i]) - expected) < 2e-5, "row \(n) head \(h) dim \(i)")
                }
            }
        }
        // Columns outside the heads are untouched, and the inverse restores the input.
        #expect(y[0] == x[0] && y[stride - 1] == x[stride - 1])
        pos.withUnsafeBufferPointer { p in y.withMutPtr { rope.apply($0, positions: p.baseAddress!, N: N, stride: stride, offset: offset, heads: heads, inverse: true) } }
        expectClose(y, x, atol: 1e-5, rtol: 1e-4, "inverse")
    }

    @Test func backwardIsTransposedRotation() {
        let D = 6, N = 4
        let rope = RoPE(headDim: D, maxPositions: 16, theta: 500)
        let pos: [Int32] = [3, 0, 9, 15]
        var x = randomFloats(N * D, seed: 21)
        let dy = randomFloats(N * D, seed: 22)
        var dx = dy
        pos.withUnsafeBufferPointer { p in dx.withMutPtr { rope.apply($0, positions: p.baseAddress!, N: N, stride: D, offset: 0, heads: 1, inverse: true) } }
        gradientCheck(&x, analytic: dx, indices: Array(0..<(N * D)), "drope") { x in
            var y = x
            pos.withUnsafeBufferPointer { p in y.withMutPtr { rope.apply($0, positions: p.baseAddress!, N: N, stride: D, offset: 0, heads: 1) } }
            return weightedSum(y, dy)
        }
    }
}

@Suite("SwiGLU")
struct SwiGLUTests {
    let N = 3, I = 19
    @Test func matchesNaive() {
        let gu = randomFloats(N * 2 * I, seed: 30, scale: 6)
        var fast = [Float](repeating: 0, count: N * I), naive = fast
        gu.withPtr { g in
            fast.withMutPtr { SwiGLU.forward(act: $0, gateUp: g, N: N, I: I) }
            naive.withMutPtr { SwiGLU.forwardNaive(act: $0, gateUp: g, N: N, I: I) }
        }
        expectClose(fast, naive, atol: 1e-6, rtol: 1e-5, "swiglu")
    }

    @Test func backwardMatchesFiniteDifferences() {
        var gu = randomFloats(N * 2 * I, seed: 31, scale: 3)
        let da = randomFloats(N * I, seed: 32)
        var dgu = [Float](repeating: 0, count: N * 2 * I)
        gu.withPtr { g in da.withPtr { d in dgu.withMutPtr { SwiGLU.backward(dGateUp: $0, dAct: d, gateUp: g, N: N, I: I) } } }
        gradientCheck(&gu, analytic: dgu, indices: Array(0..<(N * 2 * I)), "dgateup") { gu in
            var a = [Float](repeating: 0, count: N * I)
            gu.withPtr { g in a.withMutPtr { SwiGLU.forward(act: $0, gateUp: g, N: N, I: I) } }
            return weightedSum(a, da)
        }
    }
}

@Suite("Attention")
struct AttentionTests {
    let shape = AttentionShape(heads: 4, kvHeads: 2, headDim: 8)
    let segments = [Segment(start: 0, length: 5), Segment(start: 5, length: 1), Segment(start: 6, length: 7)]
    var N: Int { 13 }

    func run(_ qkv: [Float]) -> (out: [Float], probs: [Float]) {
        var out = [Float](repeating: 0, count: N * shape.outStride)
        var probs = [Float](repeating: 0, count: Attention.probabilityCount(segments, shape: shape))
        qkv.withPtr { q in out.withMutPtr { o in probs.withMutPtr { p in
            Attention.forward(out: o, probs: p, qkv: q, segments: segments, shape: shape) } } }
        return (out, probs)
    }

    @Test func matchesNaive() {
        let qkv = randomFloats(N * shape.qkvStride, seed: 40, scale: 2)
        var naive = [Float](repeating: 0, count: N * shape.outStride)
        qkv.withPtr { q in naive.withMutPtr { Attention.forwardNaive(out: $0, qkv: q, segments: segments, shape: shape) } }
        expectClose(run(qkv).out, naive, atol: 1e-5, rtol: 1e-4, "attention")
    }

    @Test func causalAndSegmentIsolated() {
        // Changing a later token or another segment must not change earlier outputs.
        var qkv = randomFloats(N * shape.qkvStride, seed: 41)
        let before = run(qkv).out
        for c in 0..<shape.qkvStride { qkv[4 * shape.qkvStride + c] += 1 }  // last row of segment 0
        let after = run(qkv).out
        let rowsUnchanged = (0..<4).flatMap { r in (0..<shape.outStride).map { r * shape.outStride + $0 } }
            + (5..<N).flatMap { r in (0..<shape.outStride).map { r * shape.outStride + $0 } }
        for i in rowsUnchanged { #expect(before[i] == after[i]) }
    }

    @Test func backwardMatchesFiniteDifferences() {
        var qkv = randomFloats(N * shape.qkvStride, seed: 42)
        let dOut = randomFloats(N * shape.outStride, seed: 43)
        let probs = run(qkv).probs
        var dqkv = [Float](repeating: 9, count: N * shape.qkvStride)
        var scratch = [Float](repeating: 0, count: 49)
        qkv.withPtr { q in dOut.withPtr { d in probs.withPtr { p in dqkv.withMutPtr { dq in scratch.withMutPtr { s in
            Attention.backward(dQKV: dq, dOut: d, probs: p, qkv: q, segments: segments, shape: shape, scratch: s)
        } } } } }
        gradientCheck(&qkv, analytic: dqkv, indices: sampleIndices(N * shape.qkvStride, 120), "dqkv") {
            weightedSum(run($0).out, dOut)
        }
    }

    /// Two samples sharing a 4-row prompt prefix (rows 0–3), each continuing with its own rows.
    let prefixed = [
        Segment(start: 0, length: 4),
        Segment(start: 4, length: 5, prefixStart: 0, prefixLength: 4),
        Segment(start: 9, length: 4, prefixStart: 0, prefixLength: 4),
    ]

    func runPrefixed(_ qkv: [Float]) -> (out: [Float], probs: [Float]) {
        var out = [Float](repeating: 0, count: N * shape.outStride)
        var probs = [Float](repeating: 0, count: Attention.probabilityCount(prefixed, shape: shape))
        qkv.withPtr { q in out.withMutPtr { o in probs.withMutPtr { p in
            Attention.forward(out: o, probs: p, qkv: q, segments: prefixed, shape: shape) } } }
        return (out, probs)
    }

    @Test func sharedPrefixMatchesNaiveAndSeparateSequences() {
        let qkv = randomFloats(N * shape.qkvStride, seed: 45, scale: 2)
        var naive = [Float](repeating: 0, count: N * shape.outStride)
        qkv.withPtr { q in naive.withMutPtr { Attention.forwardNaive(out: $0, qkv: q, segments: prefixed, shape: shape) } }
        let fast = runPrefixed(qkv).out
        expectClose(fast, naive, atol: 1e-5, rtol: 1e-4, "prefixed attention")
        // Sample 1 alone = prompt rows 0–3 followed by its rows 4–8, as one ordinary sequence.
        let alone = Array(qkv[0..<(9 * shape.qkvStride)])
        var out = [Float](repeating: 0, count: 9 * shape.outStride)
        var probs = [Float](repeating: 0, count: 9 * 9 * shape.heads)
        alone.withPtr { q in out.withMutPtr { o in probs.withMutPtr { p in
            Attention.forward(out: o, probs: p, qkv: q, segments: [Segment(start: 0, length: 9)], shape: shape) } } }
        expectClose(Array(fast[(4 * shape.outStride)..<(9 * shape.outStride)]), Array(out[(4 * shape.outStride)...]), atol: 1e-5, rtol: 1e-4, "vs separate")
    }

    @Test func sharedPrefixBackwardMatchesFiniteDifferences() {
        var qkv = randomFloats(N * shape.qkvStride, seed: 46)
        let dOut = randomFloats(N * shape.outStride, seed: 47)
        let probs = runPrefixed(qkv).probs
        var dqkv = [Float](repeating: 5, count: N * shape.qkvStride)
        var scratch = [Float](repeating: 0, count: Attention.scratchCount(prefixed))
        qkv.withPtr { q in dOut.withPtr { d in probs.withPtr { p in dqkv.withMutPtr { dq in scratch.withMutPtr { s in
            Attention.backward(dQKV: dq, dOut: d, probs: p, qkv: q, segments: prefixed, shape: shape, scratch: s)
        } } } } }
        gradientCheck(&qkv, analytic: dqkv, indices: sampleIndices(N * shape.qkvStride, 160), "dqkv prefixed") {
            weightedSum(runPrefixed($0).out, dOut)
        }
    }

    @Test func cachedMatchesFullAttention() {
        // One segment of 6 rows computed from a cache equals the packed forward pass.
        let T = 6, cap = 8, D = shape.headDim
        let seg = [Segment(start: 0, length: T)]
        let qkv = randomFloats(T * shape.qkvStride, seed: 44)
        var full = [Float](repeating: 0, count: T * shape.outStride)
        var probs = [Float](repeating: 0, count: Attention.probabilityCount(seg, shape: shape))
        qkv.withPtr { q in full.withMutPtr { o in probs.withMutPtr { p in Attention.forward(out: o, probs: p, qkv: q, segments: seg, shape: shape) } } }
        var keys = [Float](repeating: 0, count: shape.kvHeads * cap * D), values = keys
        for t in 0..<T {
            for g in 0..<shape.kvHeads {
                for d in 0..<D {
                    keys[(g * cap + t) * D + d] = qkv[t * shape.qkvStride + (shape.heads + g) * D + d]
                    values[(g * cap + t) * D + d] = qkv[t * shape.qkvStride + (shape.heads + shape.kvHeads + g) * D + d]
                }
            }
        }
        var out = [Float](repeating: 0, count: T * shape.outStride)
        var scratch = [Float](repeating: 0, count: T * cap)
        let slots = [Int32](repeating: 0, count: T), lengths = (1...T).map { Int32($0) }
        qkv.withPtr { q in keys.withPtr { k in values.withPtr { v in out.withMutPtr { o in scratch.withMutPtr { s in
            slots.withUnsafeBufferPointer { sl in lengths.withUnsafeBufferPointer { ln in
                Attention.cached(out: o, q: q, qStride: shape.qkvStride, keys: k, values: v, capacity: cap,
                                 slots: sl.baseAddress!, lengths: ln.baseAddress!, rows: T, shape: shape, scratch: s)
            } }
        } } } } }
        expectClose(out, full, atol: 1e-5, rtol: 1e-4, "cached")
    }

    /// The decode step's weighted sum of values gives the scalar loop's bits at every width
    /// (whole 32-column blocks, a tail, only a tail).
    @Test(arguments: [32, 64, 40, 7])
    func weightedSumMatchesTheScalarLoopBitForBit(width D: Int) {
        let L = 13
        let w = randomFloats(L, seed: 5), v = randomFloats(L * D, seed: 6)
        var expected = [Float](repeating: 0, count: D), out = [Float](repeating: .nan, count: D)
        for t in 0..<L { for d in 0..<D { expected[d] += w[t] * v[t * D + d] } }
        w.withPtr { wp in v.withPtr { vp in out.withMutPtr { Attention.weightedSum($0, weights: wp, values: vp, count: L, width: D) } } }
        #expect(out.map(\.bitPattern) == expected.map(\.bitPattern))
    }
}

@Suite("LMHead")
struct LMHeadTests {
    let N = 9, C = 12, V = 37
    let targets: [Int32] = [3, -1, 0, 36, 5, -1, 17, 17, 2]

    func forward(_ x: [Float], _ w: [Float], T: Float, chunk: Int) -> (lp: [Float], h: [Float], lse: [Float]) {
        var lp = [Float](repeating: 0, count: N), h = lp, lse = lp
        let ws = LMHeadWorkspace(chunk: chunk, vocab: V, channels: C)
        let active = targets.indices.filter { targets[$0] >= 0 }.map { Int32($0) }
        x.withPtr { xp in w.withPtr { wp in targets.withUnsafeBufferPointer { t in
            lp.withMutPtr { a in h.withMutPtr { b in lse.withMutPtr { c in
                LMHead.forward(logprob: a, entropy: b, lse: c, x: xp, weight: wp, targets: t.baseAddress!,
                               active: active, temperature: T, workspace: ws)
            } } }
        } } }
        return (lp, h, lse)
    }

    @Test(arguments: [1, 4, 256]) func matchesNaive(chunk: Int) {
        let x = randomFloats(N * C, seed: 50, scale: 2), w = randomFloats(V * C, seed: 51)
        let (lp, h, _) = forward(x, w, T: 0.7, chunk: chunk)
        let active = targets.indices.filter { targets[$0] >= 0 }
        let rowsX = active.flatMap { r in x[(r * C)..<((r + 1) * C)] }
        let naive = rowsX.withPtr { xp in w.withPtr { wp in
            LMHead.forwardNaive(x: xp, weight: wp, targets: active.map { targets[$0] }, V: V, C: C, temperature: 0.7) } }
        expectClose(active.map { lp[$0] }, naive.logprob.map(Float.init), atol: 2e-6, rtol: 1e-4, "logprob")
        expectClose(active.map { h[$0] }, naive.entropy.map(Float.init), atol: 2e-6, rtol: 1e-4, "entropy")
        #expect(lp[1] == 0 && h[5] == 0, "rows without a target stay 0")
    }

    @Test func backwardMatchesFiniteDifferences() {
        var x = randomFloats(N * C, seed: 52, scale: 2), w = randomFloats(V * C, seed: 53)
        let T: Float = 0.8
        var g = randomFloats(N, seed: 54), hw = randomFloats(N, seed: 55)
        for r in 0..<N where targets[r] < 0 { g[r] = 0; hw[r] = 0 }
        let (_, h, lse) = forward(x, w, T: T, chunk: 4)
        var dx = [Float](repeating: 0, count: N * C), dw = [Float](repeating: 0, count: V * C)
        let ws = LMHeadWorkspace(chunk: 4, vocab: V, channels: C)
        let active = targets.indices.filter { targets[$0] >= 0 }.map { Int32($0) }
        x.withPtr { xp in w.withPtr { wp in targets.withUnsafeBufferPointer { t in g.withPtr { gp in hw.withPtr { hp in
            lse.withPtr { l in h.withPtr { hh in dx.withMutPtr { dxp in dw.withMutPtr { dwp in
                LMHead.backward(dX: dxp, dWeight: dwp, dLogprob: gp, dEntropy: hp, x: xp, weight: wp,
                                targets: t.baseAddress!, lse: l, entropy: hh, active: active, temperature: T, workspace: ws)
            } } } }
        } } } } }
        func loss(_ x: [Float], _ w: [Float]) -> Double {
            let (lp, h, _) = forward(x, w, T: T, chunk: 4)
            return weightedSum(lp, g) + weightedSum(h, hw)
        }
        let wc = w, xc = x
        gradientCheck(&x, analytic: dx, indices: sampleIndices(N * C, 60), "dx") { loss($0, wc) }
        gradientCheck(&w, analytic: dw, indices: sampleIndices(V * C, 80), "dW") { loss(xc, $0) }
    }
}

@Suite("Embedding")
struct EmbeddingTests {
    @Test func lookupAndScatter() {
        let V = 5, C = 3
        let table = randomFloats(V * C, seed: 60)
        let tokens: [Int32] = [4, 0, 4]
        var out = [Float](repeating: 0, count: 3 * C)
        table.withPtr { t in tokens.withUnsafeBufferPointer { k in out.withMutPtr {
            Embedding.forward(out: $0, tokens: k.baseAddress!, table: t, N: 3, C: C, V: V) } } }
        #expect(Array(out[0..<3]) == Array(table[12..<15]) && Array(out[3..<6]) == Array(table[0..<3]))
        let dOut = randomFloats(3 * C, seed: 61)
        var dTable = [Float](repeating: 0, count: V * C)
        dOut.withPtr { d in tokens.withUnsafeBufferPointer { k in dTable.withMutPtr {
            Embedding.backward(dTable: $0, dOut: d, tokens: k.baseAddress!, N: 3, C: C) } } }
        for c in 0..<C {
            #expect(dTable[4 * C + c] == dOut[c] + dOut[6 + c])
            #expect(dTable[c] == dOut[3 + c])
            #expect(dTable[2 * C + c] == 0)
        }
    }
}

@Suite("CounterRNG")
struct CounterRNGTests {
    @Test func deterministicAndKeyed() {
        var a = CounterRNG(seed: 7, purpose: .sampling, step: 3, index: 11)
        var b = CounterRNG(seed: 7, purpose: .sampling, step: 3, index: 11)
        var c = CounterRNG(seed: 7, purpose: .sampling, step: 3, index: 12)
        var d = CounterRNG(seed: 7, purpose: .initialization, step: 3, index: 11)
        let xa = (0..<16).map { _ in a.next32() }, xb = (0..<16).map { _ in b.next32() }
        let xc = (0..<16).map { _ in c.next32() }, xd = (0..<16).map { _ in d.next32() }
        #expect(xa == xb)
        #expect(xa != xc && xa != xd)
    }

    @Test func uniformAndNormalMoments() {
        var rng = CounterRNG(seed: 1, purpose: .testing)
        let n = 200_000
        var s = 0.0, s2 = 0.0, ns = 0.0, ns2 = 0.0
        for _ in 0..<n {
            let u = Double(rng.nextUniform())
            s += u; s2 += u * u
            let z = Double(rng.nextNormal())
            ns += z; ns2 += z * z
        }
        #expect(abs(s / Double(n) - 0.5) < 0.005)
        #expect(abs(s2 / Double(n) - 1.0 / 3) < 0.005)
        #expect(abs(ns / Double(n)) < 0.01)
        #expect(abs(ns2 / Double(n) - 1) < 0.02)
    }
}

@Suite("OpenBLAS core")
struct OpenBLASCoreTests {
    @Test func picksFromFlags() {
        let info = "processor\t: 0\nflags\t\t: fpu sse4_2 avx avx2 fma avx512f avx512bw avx512dq avx512vl avx512cd\n"
        #expect(OpenBLASCore.bestCore(flags: OpenBLASCore.cpuFlags(cpuinfo: info)) == "SkylakeX")
        #expect(OpenBLASCore.bestCore(flags: ["avx", "avx2", "fma"]) == "Haswell")
        #expect(OpenBLASCore.bestCore(flags: ["avx"]) == "Sandybridge")
        #expect(OpenBLASCore.bestCore(flags: []) == "Prescott")
    }

    /// The core type is set only when OpenBLAS picked a slower one; wait policies only when the
    /// user chose none; nothing the user set is overridden.
    @Test func pendingVariablesRespectTheUser() {
        let avx512: Set<String> = ["avx512f", "avx512bw", "avx512dq", "avx512vl", "avx512cd"]
        func keys(_ env: [String: String], active: String) -> [String: String] {
            Dictionary(uniqueKeysWithValues: OpenBLASCore.pendingVariables(environment: env, flags: avx512, active: active))
        }
        #expect(keys([:], active: "Prescott") == ["OPENBLAS_CORETYPE": "SkylakeX", "OMP_WAIT_POLICY": "PASSIVE",
                                                   "OPENBLAS_THREAD_TIMEOUT": "4"])
        #expect(keys([:], active: "SkylakeX") == ["OMP_WAIT_POLICY": "PASSIVE", "OPENBLAS_THREAD_TIMEOUT": "4"])
        #expect(keys(["OPENBLAS_CORETYPE": "Haswell", "GOMP_SPINCOUNT": "1000", "OPENBLAS_THREAD_TIMEOUT": "28"],
                     active: "Haswell").isEmpty)
        #expect(keys(["OMP_WAIT_POLICY": "ACTIVE"], active: "SkylakeX") == ["OPENBLAS_THREAD_TIMEOUT": "4"])
    }
}
