// rlhub — the incremental forward pass over a KV cache (prefill and decode are one operation).
//
// `extend` appends new tokens to any number of cache slots at once: the new rows of all slots are
// packed into one matrix for every projection (one sgemm per weight), and each row attends to its
// own slot's cached positions 0…p. A prompt prefill is many rows of one slot; a decode step is
// one row for each of many slots.
import Tensor

/// Scratch buffers for ``LlamaModel/extend(cache:tokens:slots:logitRows:)``, grown on demand.
final class InferenceWorkspace {
    let rows: Int
    let capacity: Int
    let x: FloatBuffer, xn: FloatBuffer, qkv: FloatBuffer, attn: FloatBuffer
    let gateUp: FloatBuffer, act: FloatBuffer, rstd: FloatBuffer, scores: FloatBuffer
    var logits: FloatBuffer
    var positions: [Int32], lengths: [Int32]

    init(config: LlamaConfig, rows: Int, capacity: Int, logitRows: Int) {
        let C = config.hiddenSize, I = config.intermediateSize
        let QKV = (config.numAttentionHeads + 2 * config.numKeyValueHeads) * config.headDim
        self.rows = rows
        self.capacity = capacity
        x = FloatBuffer(count: rows * C)
        xn = FloatBuffer(count: rows * C)
        qkv = FloatBuffer(count: rows * QKV)
        attn = FloatBuffer(count: rows * config.numAttentionHeads * config.headDim)
        gateUp = FloatBuffer(count: rows * 2 * I)
        act = FloatBuffer(count: rows * I)
        rstd = FloatBuffer(count: rows)
        scores = FloatBuffer(count: rows * capacity)
        logits = FloatBuffer(count: max(1, logitRows) * config.vocabSize)
        positions = [Int32](repeating: 0, count: rows)
        lengths = [Int32](repeating: 0, count: rows)
    }
}

extension LlamaModel {
    /// Appends `tokens` to the cache and returns a pointer to the logits of the requested rows.
    ///
    /// - Parameters:
    ///   - cache: the KV cache; `cache.lengths` grow by the number of tokens per slot.
    ///   - tokens: new tokens, grouped by slot in order (the rows of one slot must be in sequence
    ///     order; slots may interleave).
    ///   - slots: the slot of each token.
    ///   - logitRows: indices into `tokens` whose next-token logits are wanted (e.g. the last row
    ///     of each prompt). Logits are written row after row, `vocab_size` floats each.
    /// - Returns: pointer to `logitRows.count × vocab_size` floats, valid until the next call.
    @discardableResult
    public func extend(
        cache: KVCache, tokens: [Int32], slots: [Int32], logitRows: [Int]
    ) -> UnsafeMutablePointer<Float> {
        let N = tokens.count
        precondition(slots.count == N, "extend: \(N) tokens but \(slots.count) slots")
        let C = config.hiddenSize, I = config.intermediateSize, V = config.vocabSize
        let shape = attentionShape
        let QKV = shape.qkvStride, AO = shape.outStride, D = shape.headDim
        var ws = inferenceStorage
        if ws == nil || ws!.rows < N || ws!.capacity < cache.capacity || ws!.logits.count < logitRows.count * V {
            ws = InferenceWorkspace(
                config: config, rows: max(N, ws?.rows ?? 0), capacity: max(cache.capacity, ws?.capacity ?? 0),
                logitRows: max(logitRows.count, (ws?.logits.count ?? 0) / V))
            inferenceStorage = ws
        }
        guard let ws else { fatalError("unreachable") }

        // Absolute position of every new row; the cache grows as rows are appended.
        for r in 0..<N {
            let s = Int(slots[r])
            precondition(s >= 0 && s < cache.slots, "extend: slot \(s) out of range")
            let p = cache.lengths[s]
            precondition(Int(p) < cache.capacity, "extend: slot \(s) is full (\(cache.capacity) positions)")
            ws.positions[r] = p
            ws.lengths[r] = p + 1
            cache.lengths[s] = p + 1
        }
        let eps = config.rmsNormEps
        // bf16 sampling reads the weights packed for oneDNN (the plain bf16 copy only where oneDNN
        // has no packed layout).
        // With LoRA adapters on, generation reads the merged weights (W + s·B·A).
        let arena = inferenceWeights()
        func w(_ offset: Int) -> UnsafeMutablePointer<Float> { arena.pointer + offset }
        let packed = inferencePrecision == .bf16 ? packedInferenceWeights(of: arena) : nil
        let lowPrecision = packed == nil && inferencePrecision == .bf16 ? bf16Parameters(of: arena) : nil
        func b(_ offset: Int) -> UnsafePointer<BFloat16>? { lowPrecision.map { $0 + offset } }
        func pk(_ offset: Int) -> PackedBF16Matrix? { packed?[offset] }
        tokens.withUnsafeBufferPointer { tok in
            Embedding.forward(out: ws.x.pointer, tokens: tok.baseAddress!, table: w(layout.embed), N: N, C: C, V: V)
        }
        ws.positions.withUnsafeBufferPointer { pos in
            ws.lengths.withUnsafeBufferPointer { len in
                for l in 0..<config.numHiddenLayers {
                    let lw = layout.layers[l]
                    RMSNorm.forward(
                        out: ws.xn.pointer, rstd: ws.rstd.pointer, inp: ws.x.pointer, weight: w(lw.inputNorm),
                        N: N, C: C, eps: eps)
                    Matmul.forward(out: ws.qkv.pointer, inp: ws.xn.pointer, weight: w(lw.qkv), weightBF16: b(lw.qkv), packed: pk(lw.qkv), N: N, I: C, O: QKV)
                    rope.apply(ws.qkv.pointer, positions: pos.baseAddress!, N: N, stride: QKV, offset: 0, heads: shape.heads)
                    rope.apply(
                        ws.qkv.pointer, positions: pos.baseAddress!, N: N, stride: QKV,
                        offset: shape.heads * D, heads: shape.kvHeads)
                    // Store the new keys and values in their slots.
                    let kBase = cache.keys.pointer + l * cache.layerStride
                    let vBase = cache.values.pointer + l * cache.layerStride
                    for r in 0..<N {
                        let s = Int(slots[r]), p = Int(pos[r])
                        let row = ws.qkv.pointer + r * QKV
                        for g in 0..<shape.kvHeads {
                            let dst = ((s * shape.kvHeads + g) * cache.capacity + p) * D
                            (kBase + dst).update(from: row + (shape.heads + g) * D, count: D)
                            (vBase + dst).update(from: row + (shape.heads + shape.kvHeads + g) * D, count: D)
                        }
                    }
                    slots.withUnsafeBufferPointer { sl in
                        Attention.cached(
                            out: ws.attn.pointer, q: ws.qkv.pointer, qStride: QKV, keys: kBase, values: vBase,
                            capacity: cache.capacity, slots: sl.baseAddress!, lengths: len.baseAddress!,
                            rows: N, shape: shape, scratch: ws.scores.pointer)
                    }
                    Matmul.forward(out: ws.x.pointer, inp: ws.attn.pointer, weight: w(lw.o), weightBF16: b(lw.o), packed: pk(lw.o), N: N, I: AO, O: C, accumulate: true)
                    RMSNorm.forward(
                        out: ws.xn.pointer, rstd: ws.rstd.pointer, inp: ws.x.pointer, weight: w(lw.postNorm),
                        N: N, C: C, eps: eps)
                    Matmul.forward(out: ws.gateUp.pointer, inp: ws.xn.pointer, weight: w(lw.gateUp), weightBF16: b(lw.gateUp), packed: pk(lw.gateUp), N: N, I: C, O: 2 * I)
                    SwiGLU.forward(act: ws.act.pointer, gateUp: ws.gateUp.pointer, N: N, I: I)
                    Matmul.forward(out: ws.x.pointer, inp: ws.act.pointer, weight: w(lw.down), weightBF16: b(lw.down), packed: pk(lw.down), N: N, I: I, O: C, accumulate: true)
                }
            }
        }
        // Final norm and LM head only for the rows whose logits are wanted.
        let M = logitRows.count
        for (k, r) in logitRows.enumerated() {
            precondition(r >= 0 && r < N, "extend: logit row \(r) out of range")
            (ws.xn.pointer + k * C).update(from: ws.x.pointer + r * C, count: C)
        }
        RMSNorm.forward(
            out: ws.xn.pointer, rstd: ws.rstd.pointer, inp: ws.xn.pointer, weight: w(layout.finalNorm),
            N: M, C: C, eps: eps)
        Matmul.forward(out: ws.logits.pointer, inp: ws.xn.pointer, weight: w(layout.lmHead), weightBF16: b(layout.lmHead), packed: pk(layout.lmHead), N: M, I: C, O: V)
        return ws.logits.pointer
    }
}
