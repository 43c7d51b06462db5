// rlhub — a Llama-architecture GGUF file as a trainable LlamaModel (Float32, HF layout).
//
// llama.cpp's converter stores tensors under its own names and permutes the rows of attn_q and
// attn_k so that its adjacent-pair RoPE equals HF's rotate_half RoPE. For head h (of n), head
// dimension D, i < D/2 and j ∈ {0, 1} the converter wrote
//     gguf[h·D + 2i + j] = hf[h·D + j·D/2 + i]
// (rows of the [out, in] matrix), and loading undoes exactly that, so the model runs with the
// same rotate_half RoPE as every HF-layout model and reproduces HF's logits.
import Foundation
import RLHubCore
import Tensor

public enum GGUFModel {
    /// GGUF name of every HF tensor of a layer-`l` block (and the global tensors).
    static func ggufName(forHF name: String) -> String? {
        let global = [
            "model.embed_tokens.weight": "token_embd.weight", "model.norm.weight": "output_norm.weight",
            "lm_head.weight": "output.weight",
        ]
        if let g = global[name] { return g }
        let parts = name.split(separator: ".")
        guard parts.count >= 5, parts[0] == "model", parts[1] == "layers", let l = Int(parts[2]) else { return nil }
        let rest = parts[3...].joined(separator: ".")
        let layer = [
            "input_layernorm.weight": "attn_norm.weight", "self_attn.q_proj.weight": "attn_q.weight",
            "self_attn.k_proj.weight": "attn_k.weight", "self_attn.v_proj.weight": "attn_v.weight",
            "self_attn.o_proj.weight": "attn_output.weight", "post_attention_layernorm.weight": "ffn_norm.weight",
            "mlp.gate_proj.weight": "ffn_gate.weight", "mlp.up_proj.weight": "ffn_up.weight",
            "mlp.down_proj.weight": "ffn_down.weight",
        ]
        return layer[rest].map { "blk.\(l).\($0)" }
    }

    /// The model's configuration from `llama.*` and `tokenizer.ggml.*` metadata.
    public static func config(of file: GGUFFile) throws(InputError) -> LlamaConfig {
        let arch = try file.requiredString("general.architecture")
        guard arch == "llama" else {
            throw InputError(file: file.path, field: "general.architecture", message: "'\(arch)' is not supported (only llama)")
        }
        let heads = try file.requiredInt("llama.attention.head_count")
        let hidden = try file.requiredInt("llama.embedding_length")
        let vocab = file.int("llama.vocab_size") ?? file.stringArray("tokenizer.ggml.tokens")?.count ?? 0
        var config = LlamaConfig(
            hiddenSize: hidden, intermediateSize: try file.requiredInt("llama.feed_forward_length"),
            numHiddenLayers: try file.requiredInt("llama.block_count"), numAttentionHeads: heads,
            numKeyValueHeads: file.int("llama.attention.head_count_kv") ?? heads,
            headDim: file.int("llama.attention.key_length") ?? file.int("llama.rope.dimension_count")
                ?? (heads > 0 ? hidden / heads : 0),
            rmsNormEps: file.float("llama.attention.layer_norm_rms_epsilon") ?? 1e-5,
            ropeTheta: file.double("llama.rope.freq_base") ?? 10000, vocabSize: vocab,
            tieWordEmbeddings: file.tensors["output.weight"] == nil,
            maxPositionEmbeddings: file.int("llama.context_length") ?? 2048)
        config.bosTokenID = file.int("tokenizer.ggml.bos_token_id")
        config.eosTokenID = file.int("tokenizer.ggml.eos_token_id")
        config.padTokenID = file.int("tokenizer.ggml.padding_token_id")
        if file.metadata["llama.rope.scaling.type"] != nil {
            throw InputError(file: file.path, field: "llama.rope.scaling.type", message: "RoPE scaling is not supported")
        }
        do { try config.validate(file: file.path) } catch {
            // Name the metadata key the file holds, not the config.json field it became.
            throw InputError(file: error.file, field: metadataKey[error.field] ?? error.field, message: error.message)
        }
        return config
    }

    /// The `llama.*` key each validated config field comes from.
    static let metadataKey = [
        "hidden_size": "llama.embedding_length", "intermediate_size": "llama.feed_forward_length",
        "num_hidden_layers": "llama.block_count", "num_attention_heads": "llama.attention.head_count",
        "num_key_value_heads": "llama.attention.head_count_kv", "head_dim": "llama.attention.key_length",
        "vocab_size": "llama.vocab_size", "max_position_embeddings": "llama.context_length",
        "rms_norm_eps": "llama.attention.layer_norm_rms_epsilon", "rope_theta": "llama.rope.freq_base",
        "bos_token_id": "tokenizer.ggml.bos_token_id", "eos_token_id": "tokenizer.ggml.eos_token_id",
        "pad_token_id": "tokenizer.ggml.padding_token_id",
    ]

    /// Loads weights (dequantised to Float32), tokenizer and chat template.
    public static func load(path: String) throws(InputError) -> LoadedModel {
        let file = try GGUFFile(path: path)
        let config = try config(of: file)
        // Every tensor is checked against the metadata before the model is allocated, so a wild
        // metadata value cannot size the allocation.
        let layout = ParameterLayout(config: config)
        for entry in layout.entries {
            guard let gname = ggufName(forHF: entry.name), let info = file.tensors[gname] else {
                throw InputError(file: path, field: ggufName(forHF: entry.name) ?? entry.name, message: "tensor missing")
            }
            guard info.rowMajorShape == entry.shape else {
                throw InputError(
                    file: path, field: gname,
                    message: "shape \(info.rowMajorShape) does not match the metadata (expected \(entry.shape) for \(entry.name))")
            }
        }
        let model = LlamaModel(config: config)
        for entry in layout.entries {
            let gname = ggufName(forHF: entry.name)!
            let out = UnsafeMutableBufferPointer(start: model.parameters.pointer + entry.offset, count: entry.count)
            try file.copyFloats(gname, into: out)
            if gname.hasSuffix("attn_q.weight") {
                unpermuteRows(out, heads: config.numAttentionHeads, headDim: config.headDim, columns: entry.shape[1])
            } else if gname.hasSuffix("attn_k.weight") {
                unpermuteRows(out, heads: config.numKeyValueHeads, headDim: config.headDim, columns: entry.shape[1])
            }
        }
        model.parameters.markModified()
        let tokenizer = try loadTokenizer(file: file)
        let template = try file.string("tokenizer.chat_template").map { source throws(InputError) in
            try ChatTemplate(jinjaSource: source, path: path)
        }
        return LoadedModel(model: model, tokenizer: tokenizer, source: path, chatTemplate: template)
    }

    /// The byte-level BPE tokenizer of the file's `tokenizer.ggml.*` metadata.
    public static func loadTokenizer(file: GGUFFile) throws(InputError) -> ByteLevelBPETokenizer {
        let kind = try file.requiredString("tokenizer.ggml.model")
        guard kind == "gpt2" else {
            throw InputError(
                file: file.path, field: "tokenizer.ggml.model",
                message: "'\(kind)' tokenizers are not supported (only gpt2 byte-level BPE)")
        }
        return try ByteLevelBPETokenizer(
            ggufTokens: try required(file.stringArray("tokenizer.ggml.tokens"), "tokenizer.ggml.tokens", file),
            merges: try required(file.stringArray("tokenizer.ggml.merges"), "tokenizer.ggml.merges", file),
            tokenTypes: (file.intArray("tokenizer.ggml.token_type") ?? []).map { Int32(truncatingIfNeeded: $0) },
            bos: file.int("tokenizer.ggml.bos_token_id").map(Int32.init(truncatingIfNeeded:)),
            eos: file.int("tokenizer.ggml.eos_token_id").map(Int32.init(truncatingIfNeeded:)),
            pad: file.int("tokenizer.ggml.padding_token_id").map(Int32.init(truncatingIfNeeded:)),
            unk: file.int("tokenizer.ggml.unknown_token_id").map(Int32.init(truncatingIfNeeded:)),
            pre: file.string("tokenizer.ggml.pre") ?? "gpt2", path: file.path)
    }

    private static func required<T>(_ value: T?, _ key: String, _ file: GGUFFile) throws(InputError) -> T {
        guard let value else { throw InputError(file: file.path, field: key, message: "required metadata missing") }
        return value
    }

    /// Undoes llama.cpp's q/k row permutation in place (see the file comment).
    static func unpermuteRows(_ w: UnsafeMutableBufferPointer<Float>, heads: Int, headDim D: Int, columns: Int) {
        let copy = Array(w)
        let half = D / 2
        for h in 0..<heads {
            for i in 0..<half {
                for j in 0..<2 {
                    let src = (h * D + 2 * i + j) * columns
                    let dst = (h * D + j * half + i) * columns
                    for c in 0..<columns { w[dst + c] = copy[src + c] }
                }
            }
        }
    }
}
