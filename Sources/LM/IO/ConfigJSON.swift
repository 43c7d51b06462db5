// rlhub — HF `config.json` read strictly: one parse (StrictJSON), a repeated key refused, every
// field's type checked and named. JSONDecoder accepted a duplicate key, dropped a string
// `eos_token_id: "2"` silently and named no field for 1e300 or 128.5 where an integer belongs.
import Foundation
import RLHubCore

extension LlamaConfig {
    /// The largest `config.json` read: 1 MiB (real ones are about 1 KiB).
    public static let maxConfigJSONBytes = 1 << 20

    /// Decodes a Hugging Face `config.json` of a Llama model; unknown keys are ignored (HF writes
    /// many), known ones must have their JSON type. Not validated: see ``validate(file:)``.
    ///
    /// - Throws: ``InputError`` naming `path` and the field (or byte offset), e.g.
    ///   `config.json: num_hidden_layers: must be an integer, got the number 128.5`.
    public static func decodeHuggingFace(_ data: Data, path: String) throws(InputError) -> LlamaConfig {
        guard data.count <= maxConfigJSONBytes else {
            throw InputError(file: path, message: "\(data.count) bytes; config.json is limited to \(maxConfigJSONBytes) bytes")
        }
        let root = try StrictJSON.parse(data, path: path)
        guard case .object(let members) = root else {
            throw InputError(file: path, message: "must be a JSON object, got \(root.kind)")
        }
        var fields: [String: StrictJSON] = [:]
        for (key, value) in members {
            guard fields.updateValue(value, forKey: key) == nil else {
                throw InputError(file: path, field: key, message: "appears twice")
            }
        }
        let reader = ConfigFields(fields: fields, path: path)
        if let type = try reader.string("model_type"), type != "llama" {
            throw InputError(file: path, field: "model_type", message: "'\(type)' is not supported (only llama)")
        }
        let heads = try reader.requiredInt("num_attention_heads")
        let hidden = try reader.requiredInt("hidden_size")
        return LlamaConfig(
            hiddenSize: hidden, intermediateSize: try reader.requiredInt("intermediate_size"),
            numHiddenLayers: try reader.requiredInt("num_hidden_layers"), numAttentionHeads: heads,
            numKeyValueHeads: try reader.int("num_key_value_heads") ?? heads,
            headDim: try reader.int("head_dim") ?? (heads > 0 ? hidden / heads : 0),
            rmsNormEps: Float(try reader.double("rms_norm_eps") ?? 1e-6),
            ropeTheta: try reader.double("rope_theta") ?? 10000, vocabSize: try reader.requiredInt("vocab_size"),
            tieWordEmbeddings: try reader.bool("tie_word_embeddings") ?? false,
            maxPositionEmbeddings: try reader.int("max_position_embeddings") ?? 2048,
            initializerRange: Float(try reader.double("initializer_range") ?? 0.02),
            bosTokenID: try reader.tokenID("bos_token_id"), eosTokenID: try reader.tokenID("eos_token_id"),
            padTokenID: try reader.tokenID("pad_token_id"))
    }
}

/// Typed reads of `config.json` members; a present member of the wrong type is an error naming
/// it, an absent one (or `null`) is nil.
private struct ConfigFields {
    let fields: [String: StrictJSON]
    let path: String

    func wrong(_ key: String, _ expected: String, _ value: StrictJSON) -> InputError {
        InputError(file: path, field: key, message: "must be \(expected), got \(value.kind)")
    }

    func present(_ key: String) -> StrictJSON? {
        guard let value = fields[key], !value.isNull else { return nil }
        return value
    }

    func int(_ key: String) throws(InputError) -> Int? {
        guard let value = present(key) else { return nil }
        guard let int = value.int else { throw wrong(key, "an integer", value) }
        return int
    }

    func requiredInt(_ key: String) throws(InputError) -> Int {
        guard let int = try int(key) else { throw InputError(file: path, field: key, message: "required field missing") }
        return int
    }

    func double(_ key: String) throws(InputError) -> Double? {
        guard let value = present(key) else { return nil }
        guard let double = value.double, double.isFinite else { throw wrong(key, "a finite number", value) }
        return double
    }

    func bool(_ key: String) throws(InputError) -> Bool? {
        guard let value = present(key) else { return nil }
        guard let bool = value.bool else { throw wrong(key, "true or false", value) }
        return bool
    }

    func string(_ key: String) throws(InputError) -> String? {
        guard let value = present(key) else { return nil }
        guard let string = value.string else { throw wrong(key, "a string", value) }
        return string
    }

    /// HF allows a list of ids (`eos_token_id: [2, 3]`); generation stops on the first.
    func tokenID(_ key: String) throws(InputError) -> Int? {
        guard let value = present(key) else { return nil }
        if let id = value.int { return id }
        guard let list = value.array, !list.isEmpty else { throw wrong(key, "an integer or a non-empty list of integers", value) }
        guard let first = list[0].int, list.allSatisfy({ $0.int != nil }) else {
            throw wrong(key, "an integer or a non-empty list of integers", value)
        }
        return first
    }
}
