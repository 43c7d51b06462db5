// rlhub — LM head + log-softmax + gather of the target token + entropy, in token chunks.
//
// For a row x (C) and the head W (V, C), temperature τ:
//   z = W x / τ,  lse = log Σ_j e^{z_j},  log p_j = z_j − lse
//   logprob = z_y − lse                      (y = target token)
//   H       = −Σ_j p_j log p_j = lse − Σ_j p_j z_j
// Backward, given g = ∂L/∂logprob and h = ∂L/∂H (algorithms.md §0.1):
//   ∂L/∂z_j = g (δ_{jy} − p_j) − h p_j (log p_j + H)      (then × 1/τ for the raw logits)
//   dx += (∂L/∂z)ᵀ W,   dW += (∂L/∂z) x
// The full (N, V) logits never exist: rows are processed `chunk` at a time, and backward
// recomputes a chunk's logits (one extra forward matmul of the head instead of N·V floats).
// Only rows that have a target are computed at all (prompt rows of RL batches are skipped).
// With the head's bf16 copy, its products run in bf16 (fp32 accumulation); the log-softmax, the
// entropy and their gradients stay fp32.

/// Reusable buffers for ``LMHead``: one chunk of logits and gathered rows.
public final class LMHeadWorkspace: @unchecked Sendable {
    public let chunk: Int
    public let vocab: Int
    public let channels: Int
    let logits: FloatBuffer  // (chunk, V)
    let rows: FloatBuffer  // (chunk, C) gathered inputs
    let dRows: FloatBuffer  // (chunk, C)

    /// - Parameters: chunk rows per matmul (256 keeps a 49k-vocab chunk at 50 MB).
    public init(chunk: Int = 256, vocab: Int, channels: Int) {
        self.chunk = chunk
        self.vocab = vocab
        self.channels = channels
        logits = FloatBuffer(count: chunk * vocab)
        rows = FloatBuffer(count: chunk * channels)
        dRows = FloatBuffer(count: chunk * channels)
    }
}

public enum LMHead {
    /// Computes log-prob of the target and entropy for the rows listed in `active`.
    /// - Parameters:
    ///   - logprob, entropy, lse: (N); only entries of `active` rows are written.
    ///   - x: (N, C) final hidden states.
    ///   - weight: (V, C).
    ///   - targets: (N) target ids.
    ///   - active: row indices to compute.
    public static func forward(
        logprob: UnsafeMutablePointer<Float>, entropy: UnsafeMutablePointer<Float>,
        lse: UnsafeMutablePointer<Float>, x: UnsafePointer<Float>, weight: UnsafePointer<Float>,
        weightBF16: UnsafePointer<BFloat16>? = nil,
        targets: UnsafePointer<Int32>, active: [Int32], temperature: Float,
        workspace ws: LMHeadWorkspace
    ) {
        let V = ws.vocab, C = ws.channels
        let invT = 1 / temperature
        var start = 0
        while start < active.count {
            let n = min(ws.chunk, active.count - start)
            gather(ws.rows.pointer, x, active, start, n, C)
            Matmul.forward(
                out: ws.logits.pointer, inp: ws.rows.pointer, weight: weight, weightBF16: weightBF16, N: n, I: C, O: V)
            let logits = ws.logits.pointer
            parallelChunks(n) { _, ks in
                for k in ks {
                    let r = Int(active[start + k])
                    let z = logits + k * V
                    let y = Int(targets[r])
                    precondition(y >= 0 && y < V, "LMHead: target \(y) outside vocabulary \(V)")
                    let m = FastMath.max(z, V) * invT
                    let (s, sz) = expStats(z, V, scale: invT, shift: m)
                    let l = m + log(s)
                    lse[r] = l
                    logprob[r] = z[y] * invT - l
                    entropy[r] = l - sz / s
                }
            }
            start += n
        }
    }

    /// Backward of ``forward``: accumulates into `dX` (rows of `active`) and `dWeight` (nil: a frozen
    /// head, whose weight gradient is not computed).
    /// - Parameters:
    ///   - dLogprob: (N) g per row.
    ///   - dEntropy: (N) h per row, or nil when no entropy term is trained.
    public static func backward(
        dX: UnsafeMutablePointer<Float>, dWeight: UnsafeMutablePointer<Float>?,
        dLogprob: UnsafePointer<Float>, dEntropy: UnsafePointer<Float>?,
        x: UnsafePointer<Float>, weight: UnsafePointer<Float>, weightBF16: UnsafePointer<BFloat16>? = nil,
        targets: UnsafePointer<Int32>, lse: UnsafePointer<Float>, entropy: UnsafePointer<Float>, active: [Int32],
        temperature: Float, workspace ws: LMHeadWorkspace
    ) {
        let V = ws.vocab, C = ws.channels
        let invT = 1 / temperature
        var start = 0
        while start < active.count {
            let n = min(ws.chunk, active.count - start)
            gather(ws.rows.pointer, x, active, start, n, C)
            Matmul.forward(
                out: ws.logits.pointer, inp: ws.rows.pointer, weight: weight, weightBF16: weightBF16, N: n, I: C, O: V)
            let logits = ws.logits.pointer
            parallelChunks(n) { _, ks in
                for k in ks {
                    let r = Int(active[start + k])
                    let z = logits + k * V
                    let g = dLogprob[r] * invT
                    let h = (dEntropy?[r] ?? 0) * invT
                    gradRow(z, V, invT: invT, lse: lse[r], H: entropy[r], g: g, h: h)
                    z[Int(targets[r])] += g
                }
            }
            // dRows = dZ · W ; dW += dZᵀ · rows
            Matmul.backward(
                dInp: ws.dRows.pointer, dWeight: dWeight, dOut: logits, inp: ws.rows.pointer,
                weight: weight, weightBF16: weightBF16, N: n, I: C, O: V)
            for k in 0..<n {
                let dst = dX + Int(active[start + k]) * C
                let src = ws.dRows.pointer + k * C
                for c in 0..<C { dst[c] += src[c] }
            }
            start += n
        }
    }

    /// Σ e^{scale·z_j − shift} and Σ e^{…}·scale·z_j over a row, 8 lanes in fixed order.
    @inline(__always)
    static func expStats(_ z: UnsafePointer<Float>, _ n: Int, scale: Float, shift: Float) -> (Float, Float) {
        var accE = FastMath.V(repeating: 0)
        var accEZ = FastMath.V(repeating: 0)
        var i = 0
        while i + 8 <= n {
            let zs = UnsafeRawPointer(z + i).loadUnaligned(as: FastMath.V.self) * scale
            let e = FastMath.exp(zs - shift)
            accE += e
            accEZ += e * zs
            i += 8
        }
        var s = accE.sum(), sz = accEZ.sum()
        while i < n {
            let zs = z[i] * scale
            let e = FastMath.exp(zs - shift)
            s += e
            sz += e * zs
            i += 1
        }
        return (s, sz)
    }

    /// Overwrites the row of raw logits with ∂L/∂z_raw except the +g at the target.
    @inline(__always)
    static func gradRow(
        _ z: UnsafeMutablePointer<Float>, _ n: Int, invT: Float, lse: Float, H: Float, g: Float, h: Float
    ) {
        var i = 0
        while i + 8 <= n {
            let lp = UnsafeRawPointer(z + i).loadUnaligned(as: FastMath.V.self) * invT - lse
            let p = FastMath.exp(lp)
            let d = -g * p - h * p * (lp + H)
            UnsafeMutableRawPointer(z + i).storeBytes(of: d, as: FastMath.V.self)
            i += 8
        }
        while i < n {
            let lp = z[i] * invT - lse
            let p = FastMath.exp(lp)
            z[i] = -g * p - h * p * (lp + H)
            i += 1
        }
    }

    static func gather(
        _ dst: UnsafeMutablePointer<Float>, _ x: UnsafePointer<Float>, _ active: [Int32],
        _ start: Int, _ n: Int, _ C: Int
    ) {
        for k in 0..<n { (dst + k * C).update(from: x + Int(active[start + k]) * C, count: C) }
    }

    /// Naive reference (full logits, Double): log-prob of the target and entropy for every row.
    public static func forwardNaive(
        x: UnsafePointer<Float>, weight: UnsafePointer<Float>, targets: [Int32], V: Int, C: Int,
        temperature: Float
    ) -> (logprob: [Double], entropy: [Double]) {
        var lps = [Double](), hs = [Double]()
        for (r, y) in targets.enumerated() {
            var z = [Double](repeating: 0, count: V)
            for v in 0..<V {
                var s = 0.0
                for c in 0..<C { s += Double(x[r * C + c]) * Double(weight[v * C + c]) }
                z[v] = s / Double(temperature)
            }
            let m = z.max() ?? 0
            let lse = m + _log(z.reduce(0) { $0 + _exp($1 - m) })
            lps.append(z[Int(y)] - lse)
            hs.append(z.reduce(0) { $0 - _exp($1 - lse) * ($1 - lse) })
        }
        return (lps, hs)
    }
}

@usableFromInline func _log(_ x: Double) -> Double { log(x) }

#if canImport(Glibc)
    import Glibc
#endif
