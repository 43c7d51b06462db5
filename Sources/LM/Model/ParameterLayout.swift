// rlhub — one flat arena for all parameters (and, with the same offsets, gradients and AdamW
// moments), as in llm.c. Tensors keep their Hugging Face names and [out, in] shapes.
//
// Per layer the order is: input_layernorm, q_proj, k_proj, v_proj, o_proj,
// post_attention_layernorm, gate_proj, up_proj, down_proj. Because q/k/v (and gate/up) are
// adjacent row-major [out, in] blocks, they form one [(NH+2NKV)·D, C] (and [2I, C]) matrix:
// one matmul computes all three projections.

/// Where each named tensor lives in the flat arena.
public struct ParameterLayout: Sendable {
    /// One tensor of the arena.
    public struct Entry: Sendable, Equatable {
        /// Hugging Face name, e.g. `model.layers.0.self_attn.q_proj.weight`.
        public let name: String
        /// Shape, outermost first (`[out, in]` for matrices).
        public let shape: [Int]
        /// Offset in floats from the start of the arena.
        public let offset: Int
        public var count: Int { shape.reduce(1, *) }
        /// Matrices get weight decay; norm gains do not.
        public var decays: Bool { shape.count == 2 }
    }

    /// Offsets of one decoder block's tensors.
    public struct Layer: Sendable {
        public let inputNorm: Int, qkv: Int, o: Int, postNorm: Int, gateUp: Int, down: Int
    }

    public let entries: [Entry]
    public let layers: [Layer]
    public let embed: Int
    public let finalNorm: Int
    /// Offset of the LM head: the embedding when tied.
    public let lmHead: Int
    public let totalCount: Int

    public init(config: LlamaConfig) {
        let C = config.hiddenSize, I = config.intermediateSize, D = config.headDim
        let NH = config.numAttentionHeads, NKV = config.numKeyValueHeads, V = config.vocabSize
        var entries: [Entry] = []
        var offset = 0
        func add(_ name: String, _ shape: [Int]) -> Int {
            let start = offset
            entries.append(Entry(name: name, shape: shape, offset: start))
            offset += shape.reduce(1, *)
            return start
        }
        embed = add("model.embed_tokens.weight", [V, C])
        var layers: [Layer] = []
        for l in 0..<config.numHiddenLayers {
            let p = "model.layers.\(l)."
            let inNorm = add(p + "input_layernorm.weight", [C])
            let q = add(p + "self_attn.q_proj.weight", [NH * D, C])
            _ = add(p + "self_attn.k_proj.weight", [NKV * D, C])
            _ = add(p + "self_attn.v_proj.weight", [NKV * D, C])
            let o = add(p + "self_attn.o_proj.weight", [C, NH * D])
            let postNorm = add(p + "post_attention_layernorm.weight", [C])
            let gate = add(p + "mlp.gate_proj.weight", [I, C])
            _ = add(p + "mlp.up_proj.weight", [I, C])
            let down = add(p + "mlp.down_proj.weight", [C, I])
            layers.append(Layer(inputNorm: inNorm, qkv: q, o: o, postNorm: postNorm, gateUp: gate, down: down))
        }
        finalNorm = add("model.norm.weight", [C])
        lmHead = config.tieWordEmbeddings ? embed : add("lm_head.weight", [V, C])
        self.entries = entries
        self.layers = layers
        totalCount = offset
    }

    /// The entry with this name, if any.
    public func entry(named name: String) -> Entry? { entries.first { $0.name == name } }
}
