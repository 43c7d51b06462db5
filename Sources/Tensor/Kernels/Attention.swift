// rlhub — causal grouped-query attention (Ainslie et al. 2023) over packed sequences.
//
// Rows of several sequences are packed back to back (no padding); segment s covers rows
// [start_s, start_s + T_s). Within a segment, for query head h and its KV head g = h / (NH/NKV):
//   S = Q_h K_gᵀ · scale            (T, T), scale = 1/√D
//   P = softmax_row(S) with P[i,j] = 0 for j > i (causal)
//   O_h = P V_g                     (T, D)
// With a shared prefix of P rows, S = Q_h [K_prefix; K_g]ᵀ is (T, P+T): row i sees every prefix
// row and its own rows 0…i; the products below split along that column boundary.
// Backward, given dO_h:
//   dP = dO_h V_gᵀ,  dV_g += Pᵀ dO_h
//   dS = P ⊙ (dP − rowsum(dP ⊙ P))
//   dQ_h = scale · dS K_g,  dK_g += scale · dSᵀ Q_h
// The packed QKV row holds NH query heads, then NKV key heads, then NKV value heads (D each):
// q_proj, k_proj and v_proj weights are adjacent in the parameter arena, so one matmul makes it.

/// Causal GQA attention, forward and backward, plus the single-token decode step.
public struct AttentionShape: Sendable, Equatable {
    /// Query heads NH.
    public var heads: Int
    /// Key/value heads NKV (divides NH).
    public var kvHeads: Int
    /// Head dimension D.
    public var headDim: Int

    public init(heads: Int, kvHeads: Int, headDim: Int) {
        precondition(heads % kvHeads == 0, "Attention: heads \(heads) not a multiple of kv heads \(kvHeads)")
        self.heads = heads
        self.kvHeads = kvHeads
        self.headDim = headDim
    }

    /// Floats in one packed QKV row: (NH + 2·NKV)·D.
    public var qkvStride: Int { (heads + 2 * kvHeads) * headDim }
    /// Floats in one attention output row: NH·D.
    public var outStride: Int { heads * headDim }
    /// Query heads per KV head.
    public var group: Int { heads / kvHeads }
}

/// A run of packed rows that attend to each other causally — and, optionally, to every row of
/// a shared prefix elsewhere in the batch (the prompt of a group of samples, computed once).
public struct Segment: Sendable, Equatable {
    public var start: Int
    public var length: Int
    /// First row and number of rows of the shared prefix (0 rows: none).
    public var prefixStart: Int
    public var prefixLength: Int
    public init(start: Int, length: Int, prefixStart: Int = 0, prefixLength: Int = 0) {
        self.start = start
        self.length = length
        self.prefixStart = prefixStart
        self.prefixLength = prefixLength
    }
    /// Columns of the segment's score matrix: prefix rows, then its own rows.
    var width: Int { prefixLength + length }
}

public enum Attention {
    /// Floats of saved probabilities for these segments: Σ NH·T·(P+T).
    public static func probabilityCount(_ segments: [Segment], shape: AttentionShape) -> Int {
        segments.reduce(0) { $0 + shape.heads * $1.length * $1.width }
    }

    /// Floats of backward scratch: max T·(P+T).
    public static func scratchCount(_ segments: [Segment]) -> Int {
        segments.map { $0.length * $0.width }.max() ?? 0
    }

    /// - Parameters:
    ///   - out: (N, NH·D).
    ///   - probs: Σ NH·T² floats, saved for backward (segment by segment, head by head).
    ///   - qkv: (N, (NH+2NKV)·D) with RoPE already applied to Q and K.
    public static func forward(
        out: UnsafeMutablePointer<Float>, probs: UnsafeMutablePointer<Float>,
        qkv: UnsafePointer<Float>, segments: [Segment], shape: AttentionShape
    ) {
        let D = shape.headDim, NH = shape.heads, NKV = shape.kvHeads
        let ld = shape.qkvStride, ldo = shape.outStride
        let scale = 1 / Float(D).squareRoot()
        var pOffset = 0
        for seg in segments {
            let T = seg.length, P = seg.prefixLength, W = seg.width
            let base = qkv + seg.start * ld
            let pre = qkv + seg.prefixStart * ld
            for h in 0..<NH {
                let g = h / shape.group
                let S = probs + pOffset + h * T * W
                if P > 0 {
                    BLAS.sgemm(
                        transA: false, transB: true, M: T, N: P, K: D, alpha: scale,
                        A: base + h * D, lda: ld, B: pre + (NH + g) * D, ldb: ld, beta: 0, C: S, ldc: W)
                }
                BLAS.sgemm(
                    transA: false, transB: true, M: T, N: T, K: D, alpha: scale,
                    A: base + h * D, lda: ld, B: base + (NH + g) * D, ldb: ld,
                    beta: 0, C: S + P, ldc: W)
                causalSoftmaxRows(S, T: T, prefix: P)
                let O = out + seg.start * ldo + h * D
                if P > 0 {
                    BLAS.sgemm(
                        transA: false, transB: false, M: T, N: D, K: P, A: S, lda: W,
                        B: pre + (NH + NKV + g) * D, ldb: ld, beta: 0, C: O, ldc: ldo)
                }
                BLAS.sgemm(
                    transA: false, transB: false, M: T, N: D, K: T, A: S + P, lda: W,
                    B: base + (NH + NKV + g) * D, ldb: ld, beta: P > 0 ? 1 : 0, C: O, ldc: ldo)
            }
            pOffset += NH * T * W
        }
    }

    /// Row-wise softmax over the prefix columns and the causal part of a (T, P+T) matrix; the
    /// masked columns become 0.
    static func causalSoftmaxRows(_ S: UnsafeMutablePointer<Float>, T: Int, prefix P: Int = 0) {
        let W = P + T
        parallelChunks(T, minPerThread: 32) { _, rows in
            for i in rows {
                let row = S + i * W
                let n = P + i + 1
                let m = FastMath.max(row, n)
                let sum = FastMath.expShiftSum(row, row, n, scale: 1, shift: m)
                let inv = 1 / sum
                for j in 0..<n { row[j] *= inv }
                if n < W { (row + n).update(repeating: 0, count: W - n) }
            }
        }
    }

    /// - Parameters:
    ///   - dQKV: (N, (NH+2NKV)·D), overwritten (Q part, K part, V part).
    ///   - dOut: (N, NH·D).
    ///   - scratch: at least ``scratchCount(_:)`` floats (max T·(P+T)).
    public static func backward(
        dQKV: UnsafeMutablePointer<Float>, dOut: UnsafePointer<Float>,
        probs: UnsafePointer<Float>, qkv: UnsafePointer<Float>, segments: [Segment],
        shape: AttentionShape, scratch: UnsafeMutablePointer<Float>
    ) {
        let D = shape.headDim, NH = shape.heads, NKV = shape.kvHeads
        let ld = shape.qkvStride, ldo = shape.outStride
        let scale = 1 / Float(D).squareRoot()
        // K and V gradients accumulate over the heads of a group and over the segments that
        // share a prefix: zero them for every row first.
        let rowsTotal = segments.map { $0.start + $0.length }.max() ?? 0
        for t in 0..<rowsTotal { (dQKV + t * ld + NH * D).update(repeating: 0, count: 2 * NKV * D) }
        var pOffset = 0
        for seg in segments {
            let T = seg.length, P = seg.prefixLength, W = seg.width
            let base = qkv + seg.start * ld
            let pre = qkv + seg.prefixStart * ld
            let dBase = dQKV + seg.start * ld
            let dPre = dQKV + seg.prefixStart * ld
            for h in 0..<NH {
                let g = h / shape.group
                let S = probs + pOffset + h * T * W
                let dO = dOut + seg.start * ldo + h * D
                let dP = scratch
                if P > 0 {
                    BLAS.sgemm(
                        transA: false, transB: true, M: T, N: P, K: D, A: dO, lda: ldo,
                        B: pre + (NH + NKV + g) * D, ldb: ld, beta: 0, C: dP, ldc: W)
                    BLAS.sgemm(
                        transA: true, transB: false, M: P, N: D, K: T, A: S, lda: W, B: dO, ldb: ldo,
                        beta: 1, C: dPre + (NH + NKV + g) * D, ldc: ld)
                }
                BLAS.sgemm(
                    transA: false, transB: true, M: T, N: T, K: D, A: dO, lda: ldo,
                    B: base + (NH + NKV + g) * D, ldb: ld, beta: 0, C: dP + P, ldc: W)
                BLAS.sgemm(
                    transA: true, transB: false, M: T, N: D, K: T, A: S + P, lda: W, B: dO, ldb: ldo,
                    beta: 1, C: dBase + (NH + NKV + g) * D, ldc: ld)
                softmaxBackwardRows(dP, S, T: T, prefix: P)
                BLAS.sgemm(
                    transA: false, transB: false, M: T, N: D, K: T, alpha: scale, A: dP + P, lda: W,
                    B: base + (NH + g) * D, ldb: ld, beta: 0, C: dBase + h * D, ldc: ld)
                BLAS.sgemm(
                    transA: true, transB: false, M: T, N: D, K: T, alpha: scale, A: dP + P, lda: W,
                    B: base + h * D, ldb: ld, beta: 1, C: dBase + (NH + g) * D, ldc: ld)
                if P > 0 {
                    BLAS.sgemm(
                        transA: false, transB: false, M: T, N: D, K: P, alpha: scale, A: dP, lda: W,
                        B: pre + (NH + g) * D, ldb: ld, beta: 1, C: dBase + h * D, ldc: ld)
                    BLAS.sgemm(
                        transA: true, transB: false, M: P, N: D, K: T, alpha: scale, A: dP, lda: W,
                        B: base + h * D, ldb: ld, beta: 1, C: dPre + (NH + g) * D, ldc: ld)
                }
            }
            pOffset += NH * T * W
        }
    }

    /// dS = P ⊙ (dP − rowsum(dP ⊙ P)), in place in dP, over each row's visible columns.
    static func softmaxBackwardRows(_ dP: UnsafeMutablePointer<Float>, _ S: UnsafePointer<Float>, T: Int, prefix P: Int = 0) {
        let W = P + T
        parallelChunks(T, minPerThread: 32) { _, rows in
            for i in rows {
                let d = dP + i * W
                let p = S + i * W
                let n = P + i + 1
                let s = FastMath.dot(d, p, n)
                for j in 0..<n { d[j] = p[j] * (d[j] - s) }
                if n < W { (d + n).update(repeating: 0, count: W - n) }
            }
        }
    }

    /// Attention of single query rows over cached keys and values (prefill and decode).
    ///
    /// Row r belongs to cache slot `slots[r]` and attends to that slot's positions
    /// `0..<lengths[r]` (its own key included). Cache layout per slot and KV head g:
    /// `keys[((slot·NKV + g)·capacity + t)·D + d]`, likewise `values`.
    /// - Parameters:
    ///   - out: (N, NH·D).
    ///   - q: (N, qStride) rows with the NH query heads (RoPE applied) at column 0.
    ///   - scratch: N·capacity floats.
    public static func cached(
        out: UnsafeMutablePointer<Float>, q: UnsafePointer<Float>, qStride: Int,
        keys: UnsafePointer<Float>, values: UnsafePointer<Float>, capacity: Int,
        slots: UnsafePointer<Int32>, lengths: UnsafePointer<Int32>, rows N: Int,
        shape: AttentionShape, scratch: UnsafeMutablePointer<Float>
    ) {
        let D = shape.headDim, NH = shape.heads, NKV = shape.kvHeads, T = capacity
        let scale = 1 / Float(D).squareRoot()
        parallelChunks(N) { _, rows in
            for r in rows {
                let L = Int(lengths[r]), s = Int(slots[r])
                let sc = scratch + r * T
                for h in 0..<NH {
                    let g = h / shape.group
                    let K = keys + (s * NKV + g) * T * D
                    let V = values + (s * NKV + g) * T * D
                    let qh = q + r * qStride + h * D
                    for t in 0..<L { sc[t] = scale * FastMath.dot(qh, K + t * D, D) }
                    let m = FastMath.max(sc, L)
                    let inv = 1 / FastMath.expShiftSum(sc, sc, L, scale: 1, shift: m)
                    let o = out + r * NH * D + h * D
                    for t in 0..<L { sc[t] *= inv }
                    weightedSum(o, weights: sc, values: V, count: L, width: D)
                }
            }
        }
    }

    /// `o[d] = Σₜ w[t]·v[t·width + d]`, summed over t in order (a multiply, then an add, as the
    /// scalar loop does, so every width gives the same bits). Columns go 32 at a time in two
    /// 16-lane registers that stay in registers over t: the decode step's V products were a
    /// memory round trip per term before.
    @inlinable
    public static func weightedSum(
        _ o: UnsafeMutablePointer<Float>, weights w: UnsafePointer<Float>, values v: UnsafePointer<Float>,
        count L: Int, width D: Int
    ) {
        typealias V16 = SIMD16<Float>
        var d = 0
        while d + 32 <= D {
            var a0 = V16(repeating: 0), a1 = V16(repeating: 0)
            for t in 0..<L {
                let row = UnsafeRawPointer(v + t * D + d), wt = V16(repeating: w[t])
                a0 = a0 + wt * row.loadUnaligned(as: V16.self)
                a1 = a1 + wt * row.loadUnaligned(fromByteOffset: 64, as: V16.self)
            }
            UnsafeMutableRawPointer(o + d).storeBytes(of: a0, as: V16.self)
            UnsafeMutableRawPointer(o + d).storeBytes(of: a1, toByteOffset: 64, as: V16.self)
            d += 32
        }
        while d < D {
            var acc: Float = 0
            for t in 0..<L { acc = acc + w[t] * v[t * D + d] }
            o[d] = acc
            d += 1
        }
    }

    /// Naive reference of ``forward`` (Double, explicit loops), for tests.
    public static func forwardNaive(
        out: UnsafeMutablePointer<Float>, qkv: UnsafePointer<Float>, segments: [Segment],
        shape: AttentionShape
    ) {
        let D = shape.headDim, NH = shape.heads, NKV = shape.kvHeads
        let ld = shape.qkvStride, ldo = shape.outStride
        let scale = 1 / Double(D).squareRoot()
        for seg in segments {
            // Visible key rows of row i: the whole prefix, then the segment's rows 0…i.
            let prefixRows = Array(seg.prefixStart..<(seg.prefixStart + seg.prefixLength))
            for h in 0..<NH {
                let g = h / shape.group
                for i in 0..<seg.length {
                    let visible = prefixRows + Array(seg.start...(seg.start + i))
                    let qi = qkv + (seg.start + i) * ld + h * D
                    let scores = visible.map { r -> Double in
                        let kr = qkv + r * ld + (NH + g) * D
                        var s = 0.0
                        for d in 0..<D { s += Double(qi[d]) * Double(kr[d]) }
                        return s * scale
                    }
                    let m = scores.max() ?? 0
                    let e = scores.map { _exp($0 - m) }
                    let z = e.reduce(0, +)
                    for d in 0..<D {
                        var o = 0.0
                        for (j, r) in visible.enumerated() {
                            o += e[j] / z * Double(qkv[r * ld + (NH + NKV + g) * D + d])
                        }
                        out[(seg.start + i) * ldo + h * D + d] = Float(o)
                    }
                }
            }
        }
    }
}
