// rlhub — the training forward and backward passes of the decoder, over a packed batch.
//
// Block l (as in HF LlamaDecoderLayer):
//   h   = x + o_proj(attn(rope(qkv(rms₁(x)))))
//   x'  = h + down(silu(gate(rms₂(h))) ⊙ up(rms₂(h)))
// then logprob/entropy = LMHead(rms_f(x_L)). Backward visits the same steps in reverse, each
// kernel's backward next to its forward in Tensor/Kernels.
import Tensor

/// Per-row results of ``LlamaModel/forward(_:temperature:)``.
public struct ForwardResult: Sendable {
    /// log π(target | prefix) per packed row (0 where the row has no target).
    public var logprobs: [Float]
    /// Entropy of the next-token distribution per packed row (0 where no target).
    public var entropies: [Float]
}

/// Why: the state that backward needs from the forward call that preceded it.
final class TrainingState {
    var activations: TrainingActivations?
    var batch: TrainingBatch?
    var active: [Int32] = []
    var temperature: Float = 1
}

extension LlamaModel {
    private var training: TrainingState {
        if let s = trainingStateStorage { return s }
        let s = TrainingState()
        trainingStateStorage = s
        return s
    }

    /// Runs the decoder over `batch`, saving activations for ``backward(dLogprobs:dEntropies:)``.
    /// Log-probs and entropies are of `softmax(z / temperature)`.
    @discardableResult
    public func forward(_ batch: TrainingBatch, temperature: Float = 1) -> ForwardResult {
        let st = training
        let N = batch.rowCount
        let P = batch.attentionPairs
        let old = st.activations
        if old == nil || old!.capacity < N || old!.pairCapacity < P || old!.attnScratch.count < batch.attentionScratch {
            let capacity = max(N, old?.capacity ?? 0)
            let pairs = max(P, old?.pairCapacity ?? 0)
            let scratch = max(batch.attentionScratch, old?.attnScratch.count ?? 0)
            st.activations = nil  // free the old arena before allocating the larger one
            st.activations = TrainingActivations(
                config: config, capacity: capacity, pairCapacity: pairs, scratchCount: scratch)
        }
        guard let a = st.activations else { fatalError("unreachable") }
        st.batch = batch
        st.active = batch.activeRows
        st.temperature = temperature

        let C = config.hiddenSize, I = config.intermediateSize, L = config.numHiddenLayers
        let shape = attentionShape
        let QKV = shape.qkvStride, AO = shape.outStride, NP = config.numAttentionHeads * a.pairCapacity
        let eps = config.rmsNormEps
        let lowPrecision = lowPrecisionWeights(trainingPrecision)
        /// The bf16 copy of the weight at `offset` when training in bf16.
        func b(_ offset: Int) -> UnsafePointer<BFloat16>? { lowPrecision.map { $0 + offset } }
        // LoRA: each adapted product adds s·(x·Aᵀ)·Bᵀ right after the frozen x·Wᵀ.
        let lora = activeAdapters
        let loraU = lora?.workspace(rows: N).u
        func adapt(_ l: Int, _ product: BlockProduct, _ out: UnsafeMutablePointer<Float>, _ stride: Int, _ inp: UnsafePointer<Float>) {
            if let lora, let loraU { lora.forward(layer: l, product: product, out: out, outStride: stride, inp: inp, N: N, u: loraU) }
        }
        batch.tokens.withUnsafeBufferPointer { tok in
            batch.positions.withUnsafeBufferPointer { pos in
                Embedding.forward(
                    out: a.residual.pointer, tokens: tok.baseAddress!, table: w(layout.embed),
                    N: N, C: C, V: config.vocabSize)
                for l in 0..<L {
                    let lw = layout.layers[l]
                    let (x, xn1, qkv, ao, h, xn2, gu, act) = a.layer(l, rows: N, config: config)
                    let xNext = a.residual.pointer + (l + 1) * N * C
                    RMSNorm.forward(
                        out: xn1, rstd: a.rstd1.pointer + l * N, inp: x, weight: w(lw.inputNorm),
                        N: N, C: C, eps: eps)
                    Matmul.forward(out: qkv, inp: xn1, weight: w(lw.qkv), weightBF16: b(lw.qkv), N: N, I: C, O: QKV)
                    adapt(l, .qkv, qkv, QKV, xn1)
                    rope.apply(qkv, positions: pos.baseAddress!, N: N, stride: QKV, offset: 0, heads: shape.heads)
                    rope.apply(
                        qkv, positions: pos.baseAddress!, N: N, stride: QKV,
                        offset: shape.heads * shape.headDim, heads: shape.kvHeads)
                    Attention.forward(
                        out: ao, probs: a.probs.pointer + l * NP, qkv: qkv, segments: batch.segments,
                        shape: shape)
                    h.update(from: x, count: N * C)
                    Matmul.forward(out: h, inp: ao, weight: w(lw.o), weightBF16: b(lw.o), N: N, I: AO, O: C, accumulate: true)
                    adapt(l, .o, h, C, ao)
                    RMSNorm.forward(
                        out: xn2, rstd: a.rstd2.pointer + l * N, inp: h, weight: w(lw.postNorm),
                        N: N, C: C, eps: eps)
                    Matmul.forward(out: gu, inp: xn2, weight: w(lw.gateUp), weightBF16: b(lw.gateUp), N: N, I: C, O: 2 * I)
                    adapt(l, .gateUp, gu, 2 * I, xn2)
                    SwiGLU.forward(act: act, gateUp: gu, N: N, I: I)
                    xNext.update(from: h, count: N * C)
                    Matmul.forward(out: xNext, inp: act, weight: w(lw.down), weightBF16: b(lw.down), N: N, I: I, O: C, accumulate: true)
                    adapt(l, .down, xNext, C, act)
                }
                RMSNorm.forward(
                    out: a.finalNorm.pointer, rstd: a.rstdFinal.pointer,
                    inp: a.residual.pointer + L * N * C, weight: w(layout.finalNorm), N: N, C: C, eps: eps)
                a.logprob.pointer.update(repeating: 0, count: N)
                a.entropy.pointer.update(repeating: 0, count: N)
                batch.targets.withUnsafeBufferPointer { tgt in
                    LMHead.forward(
                        logprob: a.logprob.pointer, entropy: a.entropy.pointer, lse: a.lse.pointer,
                        x: a.finalNorm.pointer, weight: w(layout.lmHead), weightBF16: b(layout.lmHead),
                        targets: tgt.baseAddress!, active: st.active, temperature: temperature, workspace: a.head)
                }
            }
        }
        return ForwardResult(
            logprobs: Array(UnsafeBufferPointer(start: a.logprob.pointer, count: N)),
            entropies: Array(UnsafeBufferPointer(start: a.entropy.pointer, count: N)))
    }

    /// The final hidden states (after the last RMSNorm) of the last forward pass, (N, C) row-major:
    /// the input of a value head on the same trunk.
    public var finalHiddenStates: UnsafePointer<Float> {
        guard let a = trainingStateStorage?.activations else {
            preconditionFailure("finalHiddenStates: call forward(_:) first")
        }
        return UnsafePointer(a.finalNorm.pointer)
    }

    /// Accumulates ∂L/∂θ into ``gradients`` given ∂L/∂logprob (and optionally ∂L/∂entropy) per
    /// packed row of the batch of the last ``forward(_:temperature:)``.
    /// - Parameter dHidden: optional ∂L/∂(final hidden states), (N, C) — e.g. from a value head.
    /// - precondition: `forward` was called with the batch these gradients belong to.
    public func backward(dLogprobs: [Float], dEntropies: [Float]? = nil, dHidden: [Float]? = nil) {
        let st = training
        guard let a = st.activations, let batch = st.batch else {
            preconditionFailure("LlamaModel.backward: call forward(_:) with the same batch first")
        }
        let N = batch.rowCount
        precondition(dLogprobs.count == N, "backward: dLogprobs has \(dLogprobs.count) rows, batch has \(N)")
        precondition(dEntropies == nil || dEntropies!.count == N, "backward: dEntropies size mismatch")
        let C = config.hiddenSize, I = config.intermediateSize, L = config.numHiddenLayers
        let shape = attentionShape
        let QKV = shape.qkvStride, AO = shape.outStride, NP = config.numAttentionHeads * a.pairCapacity
        // With LoRA adapters on, the base is frozen: no base gradient is computed (nil dWeight),
        // and each adapted product adds its adapters' part of ∂L/∂x after the frozen one.
        let lora = activeAdapters
        let loraWorkspace = lora?.workspace(rows: N)
        if let lora { _ = lora.gradients } else { _ = gradients }  // allocate before use
        func g(_ offset: Int) -> UnsafeMutablePointer<Float>? { lora == nil ? gradients.pointer + offset : nil }
        func adaptBack(
            _ l: Int, _ product: BlockProduct, _ dInp: UnsafeMutablePointer<Float>, _ dOut: UnsafePointer<Float>,
            _ stride: Int, _ inp: UnsafePointer<Float>
        ) {
            if let lora, let ws = loraWorkspace {
                lora.backward(
                    layer: l, product: product, dInp: dInp, dOut: dOut, dOutStride: stride, inp: inp, N: N,
                    u: ws.u, du: ws.du)
            }
        }
        // The same bf16 weights as the forward (the parameters do not change in between).
        let lowPrecision = lowPrecisionWeights(trainingPrecision)
        func b(_ offset: Int) -> UnsafePointer<BFloat16>? { lowPrecision.map { $0 + offset } }
        let dRes = a.dResidual.pointer, dNorm = a.dNorm.pointer

        a.dFinal.pointer.update(repeating: 0, count: N * C)
        batch.targets.withUnsafeBufferPointer { tgt in
            dLogprobs.withUnsafeBufferPointer { dlp in
                dEntropies.withOptionalPointer { dent in
                    LMHead.backward(
                        dX: a.dFinal.pointer, dWeight: g(layout.lmHead), dLogprob: dlp.baseAddress!,
                        dEntropy: dent, x: a.finalNorm.pointer, weight: w(layout.lmHead), weightBF16: b(layout.lmHead),
                        targets: tgt.baseAddress!, lse: a.lse.pointer, entropy: a.entropy.pointer,
                        active: st.active, temperature: st.temperature, workspace: a.head)
                }
            }
        }
        if let dHidden {
            precondition(dHidden.count == N * C, "backward: dHidden must be (N, C)")
            for i in 0..<(N * C) { a.dFinal.pointer[i] += dHidden[i] }
        }
        RMSNorm.backward(
            dInp: dRes, dWeight: g(layout.finalNorm), dOut: a.dFinal.pointer,
            inp: a.residual.pointer + L * N * C, weight: w(layout.finalNorm), rstd: a.rstdFinal.pointer,
            N: N, C: C, accumulate: false, scratch: a.normScratch.pointer)
        batch.positions.withUnsafeBufferPointer { pos in
            for l in stride(from: L - 1, through: 0, by: -1) {
                let lw = layout.layers[l]
                let (x, xn1, qkv, ao, h, xn2, gu, act) = a.layer(l, rows: N, config: config)
                // x' = h + down(act): dh = dx' (kept in dRes), dact = dx'·W_down
                Matmul.backward(
                    dInp: a.dAct.pointer, dWeight: g(lw.down), dOut: dRes, inp: act, weight: w(lw.down), weightBF16: b(lw.down),
                    N: N, I: I, O: C)
                adaptBack(l, .down, a.dAct.pointer, dRes, C, act)
                SwiGLU.backward(dGateUp: a.dGateUp.pointer, dAct: a.dAct.pointer, gateUp: gu, N: N, I: I)
                Matmul.backward(
                    dInp: dNorm, dWeight: g(lw.gateUp), dOut: a.dGateUp.pointer, inp: xn2,
                    weight: w(lw.gateUp), weightBF16: b(lw.gateUp), N: N, I: C, O: 2 * I)
                adaptBack(l, .gateUp, dNorm, a.dGateUp.pointer, 2 * I, xn2)
                RMSNorm.backward(
                    dInp: dRes, dWeight: g(lw.postNorm), dOut: dNorm, inp: h, weight: w(lw.postNorm),
                    rstd: a.rstd2.pointer + l * N, N: N, C: C, accumulate: true,
                    scratch: a.normScratch.pointer)
                // h = x + o_proj(ao): dx = dh, dao = dh·W_o
                Matmul.backward(
                    dInp: a.dAttnOut.pointer, dWeight: g(lw.o), dOut: dRes, inp: ao, weight: w(lw.o), weightBF16: b(lw.o),
                    N: N, I: AO, O: C)
                adaptBack(l, .o, a.dAttnOut.pointer, dRes, C, ao)
                Attention.backward(
                    dQKV: a.dQKV.pointer, dOut: a.dAttnOut.pointer, probs: a.probs.pointer + l * NP,
                    qkv: qkv, segments: batch.segments, shape: shape, scratch: a.attnScratch.pointer)
                rope.apply(
                    a.dQKV.pointer, positions: pos.baseAddress!, N: N, stride: QKV, offset: 0,
                    heads: shape.heads, inverse: true)
                rope.apply(
                    a.dQKV.pointer, positions: pos.baseAddress!, N: N, stride: QKV,
                    offset: shape.heads * shape.headDim, heads: shape.kvHeads, inverse: true)
                Matmul.backward(
                    dInp: dNorm, dWeight: g(lw.qkv), dOut: a.dQKV.pointer, inp: xn1, weight: w(lw.qkv), weightBF16: b(lw.qkv),
                    N: N, I: C, O: QKV)
                adaptBack(l, .qkv, dNorm, a.dQKV.pointer, QKV, xn1)
                RMSNorm.backward(
                    dInp: dRes, dWeight: g(lw.inputNorm), dOut: dNorm, inp: x, weight: w(lw.inputNorm),
                    rstd: a.rstd1.pointer + l * N, N: N, C: C, accumulate: true,
                    scratch: a.normScratch.pointer)
            }
        }
        if let dTable = g(layout.embed) {
            batch.tokens.withUnsafeBufferPointer { tok in
                Embedding.backward(dTable: dTable, dOut: dRes, tokens: tok.baseAddress!, N: N, C: C)
            }
        }
    }

    /// Bytes held by the saved activations of the largest batch seen so far.
    public var activationBytes: Int { trainingStateStorage?.activations?.byteCount ?? 0 }

    /// Frees the saved activations (e.g. before switching from training to generation).
    public func releaseActivations() { trainingStateStorage = nil }
}

extension Optional where Wrapped == [Float] {
    func withOptionalPointer<R>(_ body: (UnsafePointer<Float>?) -> R) -> R {
        switch self {
        case .none: return body(nil)
        case .some(let array): return array.withUnsafeBufferPointer { body($0.baseAddress) }
        }
    }
}
