// rlhub — a Llama-style decoder: parameters in one flat arena, gradients beside them.
import Foundation
import Tensor

/// The transformer's weights (and, once training starts, gradients) plus the fixed tables.
///
/// The numeric state has one owner — the training loop or the generator — so the class is
/// `@unchecked Sendable` only to be handed between tasks, never used from two at once.
public final class LlamaModel: @unchecked Sendable {
    public let config: LlamaConfig
    public let layout: ParameterLayout
    /// All parameters, laid out by ``layout``.
    public let parameters: FloatBuffer
    /// Gradients with the same layout, allocated on first use.
    public private(set) lazy var gradients = FloatBuffer(count: layout.totalCount)
    /// Rotary tables for `max_position_embeddings` positions.
    public let rope: RoPE
    /// Saved activations of the last training forward pass (see LlamaTraining.swift).
    var trainingStateStorage: TrainingState?
    /// Buffers of the incremental (KV-cache) forward pass (see LlamaInference.swift).
    var inferenceStorage: InferenceWorkspace?
    /// Precision of the matrix products of generation (``extend(cache:tokens:slots:logitRows:)``):
    /// the sampler's (`rollout_dtype`).
    public var inferencePrecision: GEMM.Precision = .fp32
    /// Precision of the matrix products of ``forward(_:temperature:)`` and ``backward(dLogprobs:dEntropies:dHidden:)``:
    /// the trainer's (`train_dtype`). bf16 is mixed precision: fp32 master weights, gradients and optimizer.
    public var trainingPrecision: GEMM.Precision = .fp32
    /// bf16 copies of weight arenas (``parameters``; with adapters also the merged arena generation
    /// reads), each with the arena it was converted from — held, so that a later arena can never
    /// pass for it — and that arena's version.
    var bf16Storage: [(arena: FloatBuffer, buffer: BFloat16Buffer, version: Int)] = []
    /// The sampler's bf16 weights in oneDNN's packed layout, by parameter offset, and the arena and
    /// version they were packed from.
    var packedStorage: (matrices: [Int: PackedBF16Matrix], arena: FloatBuffer, version: Int)?
    /// LoRA adapters (LoRAAdapters.swift). While ``adaptersEnabled``, every projection they target
    /// computes `x·(W + s·B·A)ᵀ`, the base is frozen, and the training backward computes the
    /// adapters' gradients only (``LoRAAdapters/gradients``; ``gradients`` stays unallocated).
    public var adapters: LoRAAdapters? {
        didSet {
            // Copies derived from the merged arena go with it (the packed matrices are kept, to be
            // repacked from whichever arena generation reads next).
            mergedStorage = nil
            bf16Storage.removeAll { $0.arena !== parameters }
            if let packed = packedStorage, packed.arena !== parameters { packedStorage = (packed.matrices, parameters, -1) }
        }
    }
    /// Off: the model computes its base (a LoRA run's KL reference is the same weights, adapters off).
    public var adaptersEnabled = true
    /// The adapters when they are on.
    var activeAdapters: LoRAAdapters? { adaptersEnabled ? adapters : nil }
    /// The arena generation reads with active adapters (adapted projections merged) and the
    /// versions of base and adapters it was merged from.
    var mergedStorage: (buffer: FloatBuffer, baseVersion: Int, adapterVersion: Int)?
    var attentionShape: AttentionShape {
        AttentionShape(heads: config.numAttentionHeads, kvHeads: config.numKeyValueHeads, headDim: config.headDim)
    }

    /// A model with all parameters zero (to be loaded into).
    public init(config: LlamaConfig) {
        self.config = config
        layout = ParameterLayout(config: config)
        parameters = FloatBuffer(count: layout.totalCount)
        rope = RoPE(headDim: config.headDim, maxPositions: config.maxPositionEmbeddings, theta: config.ropeTheta)
    }

    /// A randomly initialised model, as HF's `_init_weights` does: matrices ~ N(0, initializer_range²),
    /// norm gains 1. Each tensor draws from its own counter-based stream keyed by (seed, tensor index).
    public convenience init(config: LlamaConfig, seed: UInt64) {
        self.init(config: config)
        let std = config.initializerRange
        for (t, entry) in layout.entries.enumerated() {
            let p = parameters.pointer + entry.offset
            if entry.shape.count == 1 {
                p.update(repeating: 1, count: entry.count)
                continue
            }
            let n = entry.count
            parallelChunks(n, minPerThread: 1 << 16) { _, range in
                // One stream per 4096-element block: independent of the thread count.
                var block = -1
                var rng = CounterRNG(seed: seed, purpose: .initialization, step: UInt64(t), index: 0)
                for i in range {
                    if i / 4096 != block {
                        block = i / 4096
                        rng = CounterRNG(seed: seed, purpose: .initialization, step: UInt64(t), index: UInt64(block))
                        for _ in 0..<(i % 4096) { _ = rng.nextNormal() }
                    }
                    p[i] = rng.nextNormal() * std
                }
            }
        }
    }

    /// Number of parameters (tied LM head counted once).
    public var parameterCount: Int { layout.totalCount }

    /// Pointer to a parameter tensor by offset.
    @inline(__always) func w(_ offset: Int) -> UnsafeMutablePointer<Float> { parameters.pointer + offset }
    /// The bf16 weights for products of `precision`, or nil in fp32 (offsets as ``w(_:)``).
    @inline(__always) func lowPrecisionWeights(_ precision: GEMM.Precision) -> UnsafePointer<BFloat16>? {
        precision == .bf16 ? bf16Parameters() : nil
    }
    /// Pointer to a gradient tensor by offset.
    @inline(__always) func g(_ offset: Int) -> UnsafeMutablePointer<Float> { gradients.pointer + offset }

    /// Sets all gradients to zero (backward accumulates).
    public func zeroGradients() { gradients.zero() }

    /// Copies the parameters of `other` (same config) into this model.
    public func copyParameters(from other: LlamaModel) {
        precondition(other.layout.totalCount == layout.totalCount, "copyParameters: shapes differ")
        parameters.pointer.update(from: other.parameters.pointer, count: layout.totalCount)
        parameters.markModified()
    }

    /// The bf16 copy of an arena (``parameters`` unless given; same layout), converted again
    /// whenever the arena changed since the last conversion (``FloatBuffer/version``: once per
    /// optimizer step, not per call).
    func bf16Parameters(of arena: FloatBuffer? = nil) -> UnsafePointer<BFloat16> {
        let arena = arena ?? parameters
        let index = bf16Storage.firstIndex { $0.arena === arena }
        if let index, bf16Storage[index].version == arena.version { return UnsafePointer(bf16Storage[index].buffer.pointer) }
        let copy = index.map { bf16Storage[$0].buffer } ?? BFloat16Buffer(count: layout.totalCount)
        BFloat16Conversion.convert(arena.pointer, to: copy.pointer, count: layout.totalCount)
        if let index { bf16Storage[index].version = arena.version } else { bf16Storage.append((arena, copy, arena.version)) }
        return UnsafePointer(copy.pointer)
    }

    /// The weights generation reads: ``parameters``, or with active adapters a copy in which every
    /// adapted projection is merged (PEFT's merge, W + s·B·A), merged again when base or adapters
    /// changed (once per optimizer step). Merging costs 2·r·in·out FLOPs per adapter, once; the
    /// adapter path would cost 2·r·(in + out) per token of every decode step.
    func inferenceWeights() -> FloatBuffer {
        guard let lora = activeAdapters else { return parameters }
        if let m = mergedStorage, m.baseVersion == parameters.version, m.adapterVersion == lora.parameters.version {
            return m.buffer
        }
        let merged = mergedStorage?.buffer ?? FloatBuffer(count: layout.totalCount)
        if mergedStorage?.baseVersion != parameters.version {
            merged.pointer.update(from: parameters.pointer, count: layout.totalCount)
        }
        let r = lora.config.rank, scale = lora.config.scale
        for ad in lora.adapters {
            LoRA.merge(
                merged: merged.pointer + ad.baseWeight, weight: parameters.pointer + ad.baseWeight,
                a: lora.parameters.pointer + ad.a, b: lora.parameters.pointer + ad.b,
                I: ad.inFeatures, O: ad.outFeatures, r: r, scale: scale)
        }
        merged.markModified()
        mergedStorage = (merged, parameters.version, lora.parameters.version)
        return merged
    }

    /// Folds the adapters into the parameters (W ← W + s·B·A, PEFT's `merge_and_unload`) and drops
    /// them: the model then computes what it computed with them, as one weight per projection.
    public func mergeAdapters() {
        guard let lora = adapters else { return }
        for ad in lora.adapters {
            LoRA.merge(
                merged: parameters.pointer + ad.baseWeight, weight: parameters.pointer + ad.baseWeight,
                a: lora.parameters.pointer + ad.a, b: lora.parameters.pointer + ad.b,
                I: ad.inFeatures, O: ad.outFeatures, r: lora.config.rank, scale: lora.config.scale)
        }
        parameters.markModified()
        adapters = nil
    }

    /// The matrices of generation (q/k/v, o, gate/up, down of every layer, the LM head) of `arena`
    /// in bf16, packed for oneDNN, repacked when the arena changed; nil where oneDNN has no packed
    /// layout (generation then uses the plain bf16 copy).
    func packedInferenceWeights(of arena: FloatBuffer) -> [Int: PackedBF16Matrix]? {
        if let (matrices, packedFrom, version) = packedStorage, packedFrom === arena, version == arena.version {
            return matrices
        }
        var matrices = packedStorage?.matrices ?? [:]
        if matrices.isEmpty {
            let C = config.hiddenSize, I = config.intermediateSize, s = attentionShape
            var shapes = [(layout.lmHead, config.vocabSize, C)]
            for lw in layout.layers {
                shapes += [(lw.qkv, s.qkvStride, C), (lw.o, C, s.outStride), (lw.gateUp, 2 * I, C), (lw.down, C, I)]
            }
            for (offset, rows, cols) in shapes {
                guard let m = OneDNN.packedMatrix(rows: rows, cols: cols) else { return nil }
                matrices[offset] = m
            }
        }
        for (offset, m) in matrices { OneDNN.pack(arena.pointer + offset, into: m) }
        packedStorage = (matrices, arena, arena.version)
        return matrices
    }

    /// Bytes of the bf16 weight copies (0 until a bf16 product has run).
    public var bf16WeightBytes: Int {
        bf16Storage.reduce(0) { $0 + $1.buffer.byteCount }
            + (packedStorage?.matrices.values.reduce(0) { $0 + $1.byteCount } ?? 0)
    }

    /// FLOPs of one forward pass over `tokens` tokens whose `logitRows` rows need the LM head,
    /// with `attentionPairs` = Σ T² over sequences (matmuls only: 2 per multiply-add).
    public func forwardFLOPs(tokens: Int, logitRows: Int, attentionPairs: Int) -> Double {
        let C = Double(config.hiddenSize), I = Double(config.intermediateSize)
        let D = Double(config.headDim), NH = Double(config.numAttentionHeads)
        let NKV = Double(config.numKeyValueHeads), L = Double(config.numHiddenLayers)
        let perToken = 2 * (C * (NH + 2 * NKV) * D + NH * D * C + 3 * C * I)
        let attention = 2 * 2 * NH * D * Double(attentionPairs)
        return L * (Double(tokens) * perToken + attention)
            + 2 * Double(logitRows) * C * Double(config.vocabSize)
    }
}
