// rlhub — the model configuration, mirroring Hugging Face's `config.json` for LlamaForCausalLM.
import Foundation
import RLHubCore

/// Hyper-parameters of a Llama-style decoder, with the key names of HF `config.json`.
///
/// ```swift
/// let config = try LlamaConfig.preset("tiny")
/// let model = LlamaModel(config: config, seed: 0)
/// ```
public struct LlamaConfig: Codable, Sendable, Equatable {
    /// Model width C (`hidden_size`).
    public var hiddenSize: Int
    /// MLP width I (`intermediate_size`).
    public var intermediateSize: Int
    /// Decoder blocks L (`num_hidden_layers`).
    public var numHiddenLayers: Int
    /// Query heads NH (`num_attention_heads`).
    public var numAttentionHeads: Int
    /// Key/value heads NKV (`num_key_value_heads`); divides NH.
    public var numKeyValueHeads: Int
    /// Head dimension D (`head_dim`); defaults to C / NH.
    public var headDim: Int
    /// RMSNorm epsilon (`rms_norm_eps`).
    public var rmsNormEps: Float
    /// RoPE base θ (`rope_theta`).
    public var ropeTheta: Double
    /// Vocabulary V (`vocab_size`).
    public var vocabSize: Int
    /// Whether the LM head shares the embedding matrix (`tie_word_embeddings`).
    public var tieWordEmbeddings: Bool
    /// Longest sequence the RoPE tables cover (`max_position_embeddings`).
    public var maxPositionEmbeddings: Int
    /// Std of the normal initialisation (`initializer_range`).
    public var initializerRange: Float
    /// Special ids (`bos_token_id`, `eos_token_id`, `pad_token_id`).
    public var bosTokenID: Int?
    public var eosTokenID: Int?
    public var padTokenID: Int?

    enum CodingKeys: String, CodingKey {
        case hiddenSize = "hidden_size"
        case intermediateSize = "intermediate_size"
        case numHiddenLayers = "num_hidden_layers"
        case numAttentionHeads = "num_attention_heads"
        case numKeyValueHeads = "num_key_value_heads"
        case headDim = "head_dim"
        case rmsNormEps = "rms_norm_eps"
        case ropeTheta = "rope_theta"
        case vocabSize = "vocab_size"
        case tieWordEmbeddings = "tie_word_embeddings"
        case maxPositionEmbeddings = "max_position_embeddings"
        case initializerRange = "initializer_range"
        case bosTokenID = "bos_token_id"
        case eosTokenID = "eos_token_id"
        case padTokenID = "pad_token_id"
        // Written for transformers, ignored on read:
        case architectures, modelType = "model_type", hiddenAct = "hidden_act"
        case torchDtype = "torch_dtype", attentionBias = "attention_bias", mlpBias = "mlp_bias"
        case ropeScaling = "rope_scaling", pretrainingTP = "pretraining_tp", useCache = "use_cache"
    }

    public init(
        hiddenSize: Int, intermediateSize: Int, numHiddenLayers: Int, numAttentionHeads: Int,
        numKeyValueHeads: Int, headDim: Int? = nil, rmsNormEps: Float = 1e-5,
        ropeTheta: Double = 10000, vocabSize: Int, tieWordEmbeddings: Bool = true,
        maxPositionEmbeddings: Int = 2048, initializerRange: Float = 0.02,
        bosTokenID: Int? = nil, eosTokenID: Int? = nil, padTokenID: Int? = nil
    ) {
        self.hiddenSize = hiddenSize
        self.intermediateSize = intermediateSize
        self.numHiddenLayers = numHiddenLayers
        self.numAttentionHeads = numAttentionHeads
        self.numKeyValueHeads = numKeyValueHeads
        self.headDim = headDim ?? (numAttentionHeads > 0 ? hiddenSize / numAttentionHeads : 0)
        self.rmsNormEps = rmsNormEps
        self.ropeTheta = ropeTheta
        self.vocabSize = vocabSize
        self.tieWordEmbeddings = tieWordEmbeddings
        self.maxPositionEmbeddings = maxPositionEmbeddings
        self.initializerRange = initializerRange
        self.bosTokenID = bosTokenID
        self.eosTokenID = eosTokenID
        self.padTokenID = padTokenID
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        hiddenSize = try c.decode(Int.self, forKey: .hiddenSize)
        intermediateSize = try c.decode(Int.self, forKey: .intermediateSize)
        numHiddenLayers = try c.decode(Int.self, forKey: .numHiddenLayers)
        numAttentionHeads = try c.decode(Int.self, forKey: .numAttentionHeads)
        numKeyValueHeads =
            try c.decodeIfPresent(Int.self, forKey: .numKeyValueHeads) ?? numAttentionHeads
        headDim =
            try c.decodeIfPresent(Int.self, forKey: .headDim)
            ?? (numAttentionHeads > 0 ? hiddenSize / numAttentionHeads : 0)
        rmsNormEps = try c.decodeIfPresent(Float.self, forKey: .rmsNormEps) ?? 1e-6
        ropeTheta = try c.decodeIfPresent(Double.self, forKey: .ropeTheta) ?? 10000
        vocabSize = try c.decode(Int.self, forKey: .vocabSize)
        tieWordEmbeddings = try c.decodeIfPresent(Bool.self, forKey: .tieWordEmbeddings) ?? false
        maxPositionEmbeddings =
            try c.decodeIfPresent(Int.self, forKey: .maxPositionEmbeddings) ?? 2048
        initializerRange = try c.decodeIfPresent(Float.self, forKey: .initializerRange) ?? 0.02
        bosTokenID = try Self.decodeTokenID(c, .bosTokenID)
        eosTokenID = try Self.decodeTokenID(c, .eosTokenID)
        padTokenID = try Self.decodeTokenID(c, .padTokenID)
    }

    /// HF allows `eos_token_id` to be a list; the first entry is the one generation stops on.
    private static func decodeTokenID(
        _ c: KeyedDecodingContainer<CodingKeys>, _ key: CodingKeys
    ) throws -> Int? {
        if let one = try? c.decodeIfPresent(Int.self, forKey: key) { return one }
        if let many = try? c.decodeIfPresent([Int].self, forKey: key) { return many.first }
        return nil
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(["LlamaForCausalLM"], forKey: .architectures)
        try c.encode("llama", forKey: .modelType)
        try c.encode("silu", forKey: .hiddenAct)
        try c.encode("float32", forKey: .torchDtype)
        try c.encode(false, forKey: .attentionBias)
        try c.encode(false, forKey: .mlpBias)
        try c.encodeNil(forKey: .ropeScaling)
        try c.encode(1, forKey: .pretrainingTP)
        try c.encode(true, forKey: .useCache)
        try c.encode(hiddenSize, forKey: .hiddenSize)
        try c.encode(intermediateSize, forKey: .intermediateSize)
        try c.encode(numHiddenLayers, forKey: .numHiddenLayers)
        try c.encode(numAttentionHeads, forKey: .numAttentionHeads)
        try c.encode(numKeyValueHeads, forKey: .numKeyValueHeads)
        try c.encode(headDim, forKey: .headDim)
        try c.encode(rmsNormEps, forKey: .rmsNormEps)
        try c.encode(ropeTheta, forKey: .ropeTheta)
        try c.encode(vocabSize, forKey: .vocabSize)
        try c.encode(tieWordEmbeddings, forKey: .tieWordEmbeddings)
        try c.encode(maxPositionEmbeddings, forKey: .maxPositionEmbeddings)
        try c.encode(initializerRange, forKey: .initializerRange)
        try c.encodeIfPresent(bosTokenID, forKey: .bosTokenID)
        try c.encodeIfPresent(eosTokenID, forKey: .eosTokenID)
        try c.encodeIfPresent(padTokenID, forKey: .padTokenID)
    }

    /// Checks the shape arithmetic; the error names the offending `config.json` field.
    public func validate(file: String = "config.json") throws(InputError) {
        func bad(_ field: String, _ message: String) -> InputError {
            InputError(file: file, field: field, message: message)
        }
        let shape = [
            ("hidden_size", hiddenSize), ("intermediate_size", intermediateSize),
            ("num_hidden_layers", numHiddenLayers), ("num_attention_heads", numAttentionHeads),
            ("num_key_value_heads", numKeyValueHeads), ("head_dim", headDim),
            ("vocab_size", vocabSize), ("max_position_embeddings", maxPositionEmbeddings),
        ]
        for (name, value) in shape where value <= 0 {
            throw bad(name, "must be positive, got \(value)")
        }
        // Bounds first, so that no product below can overflow and nothing is sized by a wild value.
        for (name, value) in shape where value > Self.upperBounds[name]! {
            throw bad(name, "\(value) exceeds rlhub's limit of \(Self.upperBounds[name]!)")
        }
        if numAttentionHeads % numKeyValueHeads != 0 {
            throw bad(
                "num_key_value_heads",
                "must divide num_attention_heads (\(numAttentionHeads)), got \(numKeyValueHeads)")
        }
        if headDim % 2 != 0 { throw bad("head_dim", "must be even for rotary embeddings, got \(headDim)") }
        if numAttentionHeads * headDim != hiddenSize {
            throw bad(
                "num_attention_heads",
                "num_attention_heads (\(numAttentionHeads)) × head_dim (\(headDim)) must equal hidden_size (\(hiddenSize))")
        }
        if !(rmsNormEps > 0) || !rmsNormEps.isFinite { throw bad("rms_norm_eps", "must be positive and finite, got \(rmsNormEps)") }
        if !(ropeTheta > 0) || !ropeTheta.isFinite { throw bad("rope_theta", "must be positive and finite, got \(ropeTheta)") }
        if !(initializerRange >= 0) || !initializerRange.isFinite {
            throw bad("initializer_range", "must be ≥ 0 and finite, got \(initializerRange)")
        }
        for (name, id) in [("bos_token_id", bosTokenID), ("eos_token_id", eosTokenID), ("pad_token_id", padTokenID)] {
            if let id, id < 0 || id >= vocabSize {
                throw bad(name, "\(id) is outside the vocabulary (vocab_size \(vocabSize))")
            }
        }
        let params = ParameterLayout(config: self).totalCount
        if params > Self.maxParameters {
            throw bad("hidden_size", "model too large (\(params) parameters; rlhub's limit is \(Self.maxParameters))")
        }
    }

    /// The largest value each shape field may take. Checked before any size is computed from
    /// them, so every product of these fields fits an `Int` and nothing is allocated for a wild
    /// value (one flipped bit in a file). Llama 3.1 405B (C 16384, I 53248, 126 layers, 128
    /// heads, V 128256, 131072 positions) fits; the RoPE tables stay ≤ 256 MiB.
    public static let upperBounds: [String: Int] = [
        "hidden_size": 1 << 16, "intermediate_size": 1 << 18, "num_hidden_layers": 1024,
        "num_attention_heads": 1024, "num_key_value_heads": 1024, "head_dim": 512,
        "vocab_size": 1 << 21, "max_position_embeddings": 1 << 17,
    ]

    /// The most parameters a model may have: 4·10⁹ (16 GB of Float32 weights before gradients and
    /// AdamW moments).
    public static let maxParameters = 4_000_000_000

    // MARK: - Presets

    /// Names accepted by ``preset(_:)``.
    public static let presetNames = ["tiny", "smollm2-135m"]

    /// A named architecture: `tiny` (≈1M parameters, character vocabulary) or `smollm2-135m`
    /// (SmolLM2-135M's shape: 30 layers, C 576, 9/3 heads, I 1536, V 49152, tied, θ 100000).
    public static func preset(_ name: String) throws(InputError) -> LlamaConfig {
        switch name {
        case "tiny":
            let vocab = CharTokenizer.standard.vocabularySize
            return LlamaConfig(
                hiddenSize: 128, intermediateSize: 384, numHiddenLayers: 5, numAttentionHeads: 4,
                numKeyValueHeads: 2, rmsNormEps: 1e-5, ropeTheta: 10000, vocabSize: vocab,
                tieWordEmbeddings: true, maxPositionEmbeddings: 512,
                bosTokenID: Int(CharTokenizer.bos), eosTokenID: Int(CharTokenizer.eos),
                padTokenID: Int(CharTokenizer.pad))
        case "smollm2-135m":
            return LlamaConfig(
                hiddenSize: 576, intermediateSize: 1536, numHiddenLayers: 30, numAttentionHeads: 9,
                numKeyValueHeads: 3, rmsNormEps: 1e-5, ropeTheta: 100000, vocabSize: 49152,
                tieWordEmbeddings: true, maxPositionEmbeddings: 8192, initializerRange: 0.041666668,
                bosTokenID: 1, eosTokenID: 2, padTokenID: 2)
        default:
            throw InputError(
                file: "--preset", field: name,
                message: "unknown preset; valid presets: \(presetNames.joined(separator: ", "))")
        }
    }
}
