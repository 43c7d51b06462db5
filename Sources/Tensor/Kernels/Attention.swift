// rlhub — causal grouped-query attention (Ainslie et al. 2023) over packed sequences.
//
// Rows of several sequences are packed back to back (no padding); segment s covers rows
// [start_s, start_s + T_s). Within a segment, for query head h and its KV head g = h / (NH/NKV):
//   S = Q_h K_gᵀ · scale            (T, T), scale = 1/√D
//   P = softmax_row(S) with P[i,j] = 0 for j > i (causal)
//   O_h = P V_g                     (T, D)
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

/// A run of packed rows that attend to each other causally.
public struct Segment: Sendable, Equatable {
    public var start: Int
    public var length: Int
    public init(start: Int, length: Int) {
        self.start = start
        self.length = length
    }
}

public enum Attention {
    /// Floats of saved probabilities for these segments: Σ NH·T².
    public static func probabilityCount(_ segments: [Segment], shape: AttentionShape) -> Int {
        segments.reduce(0) { $0 + shape.heads * $1.length * $1.length }
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
            let T = seg.length
            let base = qkv + seg.start * ld
            for h in 0..<NH {
                let g = h / shape.group
                let S = probs + pOffset + h * T * T
                BLAS.sgemm(
                    transA: false, transB: true, M: T, N: T, K: D, alpha: scale,
                    A: base + h * D, lda: ld, B: base + (NH + g) * D, ldb: ld,
                    beta: 0, C: S, ldc: T)
                causalSoftmaxRows(S, T: T)
                BLAS.sgemm(
                    transA: false, transB: false, M: T, N: D, K: T, A: S, lda: T,
                    B: base + (NH + NKV + g) * D, ldb: ld,
                    beta: 0, C: out + seg.start * ldo + h * D, ldc: ldo)
            }
            pOffset += NH * T * T
        }
    }

    /// Row-wise softmax of the lower triangle of a (T, T) matrix; the upper triangle becomes 0.
    static func causalSoftmaxRows(_ S: UnsafeMutablePointer<Float>, T: Int) {
        parallelChunks(T, minPerThread: 32) { _, rows in
            for i in rows {
                let row = S + i * T
                let m = FastMath.max(row, i + 1)
                let sum = FastMath.expShiftSum(row, row, i + 1, scale: 1, shift: m)
                let inv = 1 / sum
                for j in 0...i { row[j] *= inv }
                if i + 1 < T { (row + i + 1).update(repeating: 0, count: T - i - 1) }
            }
        }
    }

    /// - Parameters:
    ///   - dQKV: (N, (NH+2NKV)·D), overwritten (Q part, K part, V part).
    ///   - dOut: (N, NH·D).
    ///   - scratch: at least max T² floats.
    public static func backward(
        dQKV: UnsafeMutablePointer<Float>, dOut: UnsafePointer<Float>,
        probs: UnsafePointer<Float>, qkv: UnsafePointer<Float>, segments: [Segment],
        shape: AttentionShape, scratch: UnsafeMutablePointer<Float>
    ) {
        let D = shape.headDim, NH = shape.heads, NKV = shape.kvHeads
        let ld = shape.qkvStride, ldo = shape.outStride
        let scale = 1 / Float(D).squareRoot()
        var pOffset = 0
        for seg in segments {
            let T = seg.length
            let base = qkv + seg.start * ld
            let dBase = dQKV + seg.start * ld
            // K and V gradients accumulate over the heads of a group: zero them first.
            for t in 0..<T { (dBase + t * ld + NH * D).update(repeating: 0, count: 2 * NKV * D) }
            for h in 0..<NH {
                let g = h / shape.group
                let P = probs + pOffset + h * T * T
                let dO = dOut + seg.start * ldo + h * D
                let dP = scratch
                BLAS.sgemm(
                    transA: false, transB: true, M: T, N: T, K: D, A: dO, lda: ldo,
                    B: base + (NH + NKV + g) * D, ldb: ld, beta: 0, C: dP, ldc: T)
                BLAS.sgemm(
                    transA: true, transB: false, M: T, N: D, K: T, A: P, lda: T, B: dO, ldb: ldo,
                    beta: 1, C: dBase + (NH + NKV + g) * D, ldc: ld)
                softmaxBackwardRows(dP, P, T: T)
                BLAS.sgemm(
                    transA: false, transB: false, M: T, N: D, K: T, alpha: scale, A: dP, lda: T,
                    B: base + (NH + g) * D, ldb: ld, beta: 0, C: dBase + h * D, ldc: ld)
                BLAS.sgemm(
                    transA: true, transB: false, M: T, N: D, K: T, alpha: scale, A: dP, lda: T,
                    B: base + h * D, ldb: ld, beta: 1, C: dBase + (NH + g) * D, ldc: ld)
            }
            pOffset += NH * T * T
        }
    }

    /// dS = P ⊙ (dP − rowsum(dP ⊙ P)), in place in dP, lower triangle only.
    static func softmaxBackwardRows(_ dP: UnsafeMutablePointer<Float>, _ P: UnsafePointer<Float>, T: Int) {
        parallelChunks(T, minPerThread: 32) { _, rows in
            for i in rows {
                let d = dP + i * T
                let p = P + i * T
                let s = FastMath.dot(d, p, i + 1)
                for j in 0...i { d[j] = p[j] * (d[j] - s) }
                if i + 1 < T { (d + i + 1).update(repeating: 0, count: T - i - 1) }
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
                    o.update(repeating: 0, count: D)
                    for t in 0..<L {
                        let w = sc[t] * inv
                        let v = V + t * D
                        for d in 0..<D { o[d] += w * v[d] }
                    }
                }
            }
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
            for h in 0..<NH {
                let g = h / shape.group
                for i in 0..<seg.length {
                    let qi = qkv + (seg.start + i) * ld + h * D
                    var scores = [Double](repeating: 0, count: i + 1)
                    for j in 0...i {
                        let kj = qkv + (seg.start + j) * ld + (NH + g) * D
                        var s = 0.0
                        for d in 0..<D { s += Double(qi[d]) * Double(kj[d]) }
                        scores[j] = s * scale
                    }
                    let m = scores.max() ?? 0
                    let e = scores.map { _exp($0 - m) }
                    let z = e.reduce(0, +)
                    for d in 0..<D {
                        var o = 0.0
                        for j in 0...i {
                            o += e[j] / z * Double(qkv[(seg.start + j) * ld + (NH + NKV + g) * D + d])
                        }
                        out[(seg.start + i) * ldo + h * D + d] = Float(o)
                    }
                }
            }
        }
    }
}
