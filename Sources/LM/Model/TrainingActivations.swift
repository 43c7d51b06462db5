// rlhub — the saved activations of one training forward pass, allocated once per capacity.
import Tensor

/// Buffers for a forward pass over up to `capacity` packed rows, reused across calls.
///
/// Shape key: N rows, C width, L layers, QKV = (NH+2NKV)·D, I MLP width, P = Σ T·(prefix+T).
final class TrainingActivations {
    let capacity: Int
    let pairCapacity: Int
    /// (L+1, N, C) block inputs; the last one is the final residual.
    let residual: FloatBuffer
    /// (L, N, C) residual after attention.
    let mid: FloatBuffer
    /// (L, N, C) inputs of q/k/v and of gate/up (after RMSNorm).
    let norm1: FloatBuffer, norm2: FloatBuffer
    /// (L, N) reciprocal RMS of the two norms.
    let rstd1: FloatBuffer, rstd2: FloatBuffer
    /// (L, N, QKV) projections, RoPE applied to q and k.
    let qkv: FloatBuffer
    /// (L, P) attention probabilities.
    let probs: FloatBuffer
    /// (L, N, NH·D) attention outputs before o_proj.
    let attnOut: FloatBuffer
    /// (L, N, 2I) gate and up pre-activations; (L, N, I) SwiGLU outputs.
    let gateUp: FloatBuffer, act: FloatBuffer
    /// (N, C) final norm output and (N) its rstd.
    let finalNorm: FloatBuffer, rstdFinal: FloatBuffer
    /// (N) per-row log-prob, entropy, log-sum-exp.
    let logprob: FloatBuffer, entropy: FloatBuffer, lse: FloatBuffer
    // Backward scratch.
    let dResidual: FloatBuffer, dNorm: FloatBuffer, dAttnOut: FloatBuffer
    let dQKV: FloatBuffer, dGateUp: FloatBuffer, dAct: FloatBuffer, dFinal: FloatBuffer
    let attnScratch: FloatBuffer, normScratch: FloatBuffer
    let head: LMHeadWorkspace

    init(config: LlamaConfig, capacity N: Int, pairCapacity P: Int, scratchCount: Int) {
        let C = config.hiddenSize, L = config.numHiddenLayers, I = config.intermediateSize
        let QKV = (config.numAttentionHeads + 2 * config.numKeyValueHeads) * config.headDim
        let AO = config.numAttentionHeads * config.headDim
        capacity = N
        pairCapacity = P
        residual = FloatBuffer(count: (L + 1) * N * C)
        mid = FloatBuffer(count: L * N * C)
        norm1 = FloatBuffer(count: L * N * C)
        norm2 = FloatBuffer(count: L * N * C)
        rstd1 = FloatBuffer(count: L * N)
        rstd2 = FloatBuffer(count: L * N)
        qkv = FloatBuffer(count: L * N * QKV)
        probs = FloatBuffer(count: L * config.numAttentionHeads * P)
        attnOut = FloatBuffer(count: L * N * AO)
        gateUp = FloatBuffer(count: L * N * 2 * I)
        act = FloatBuffer(count: L * N * I)
        finalNorm = FloatBuffer(count: N * C)
        rstdFinal = FloatBuffer(count: N)
        logprob = FloatBuffer(count: N)
        entropy = FloatBuffer(count: N)
        lse = FloatBuffer(count: N)
        dResidual = FloatBuffer(count: N * C)
        dNorm = FloatBuffer(count: N * C)
        dAttnOut = FloatBuffer(count: N * AO)
        dQKV = FloatBuffer(count: N * QKV)
        dGateUp = FloatBuffer(count: N * 2 * I)
        dAct = FloatBuffer(count: N * I)
        dFinal = FloatBuffer(count: N * C)
        attnScratch = FloatBuffer(count: scratchCount)
        normScratch = FloatBuffer(count: RMSNorm.maxChunks * C)
        head = LMHeadWorkspace(chunk: 256, vocab: config.vocabSize, channels: C)
    }

    /// Bytes held (for memory reports).
    var byteCount: Int {
        [residual, mid, norm1, norm2, rstd1, rstd2, qkv, probs, attnOut, gateUp, act, finalNorm,
         rstdFinal, logprob, entropy, lse, dResidual, dNorm, dAttnOut, dQKV, dGateUp, dAct, dFinal,
         attnScratch, normScratch].reduce(0) { $0 + $1.count * 4 }
    }

    /// Saved tensors of layer `l` for a batch of N rows: block input x, rms₁(x), qkv, attention
    /// output, residual after attention h, rms₂(h), gate/up pre-activations, SwiGLU output.
    func layer(_ l: Int, rows N: Int, config: LlamaConfig) -> (
        x: UnsafeMutablePointer<Float>, xn1: UnsafeMutablePointer<Float>, qkv: UnsafeMutablePointer<Float>,
        attnOut: UnsafeMutablePointer<Float>, h: UnsafeMutablePointer<Float>, xn2: UnsafeMutablePointer<Float>,
        gateUp: UnsafeMutablePointer<Float>, act: UnsafeMutablePointer<Float>
    ) {
        let C = config.hiddenSize, I = config.intermediateSize
        let QKV = (config.numAttentionHeads + 2 * config.numKeyValueHeads) * config.headDim
        let AO = config.numAttentionHeads * config.headDim
        return (
            residual.pointer + l * N * C, norm1.pointer + l * N * C, qkv.pointer + l * N * QKV,
            attnOut.pointer + l * N * AO, mid.pointer + l * N * C, norm2.pointer + l * N * C,
            gateUp.pointer + l * N * 2 * I, act.pointer + l * N * I
        )
    }
}
