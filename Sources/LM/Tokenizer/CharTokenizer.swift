// rlhub — the character-level tokenizer of the small task models (preset `tiny`).
import Foundation
import RLHubCore

/// One token per character: five special tokens, newline, tab and printable ASCII.
///
/// Ids: 0 `<|pad|>`, 1 `<|endoftext|>` (bos), 2 `<|im_end|>` (eos, ends a chat turn),
/// 3 `<|im_start|>`, 4 `<|unk|>`, then `\n`, `\t`, and the characters 0x20–0x7E.
/// It is saved as a Hugging Face `tokenizer.json` (BPE model with no merges, `Fuse` decoder), so
/// `transformers.AutoTokenizer` loads it and encodes text to the same ids.
public struct CharTokenizer: Tokenizer, Equatable {
    public static let pad: Int32 = 0, bos: Int32 = 1, eos: Int32 = 2, imStart: Int32 = 3, unk: Int32 = 4
    public static let specialTokens = ["<|pad|>", "<|endoftext|>", "<|im_end|>", "<|im_start|>", "<|unk|>"]

    /// The vocabulary every `tiny` model uses.
    public static let standard = CharTokenizer(
        characters: ["\n", "\t"] + (0x20...0x7E).map { String(UnicodeScalar(UInt8($0))) })

    /// Token strings by id (specials first).
    public let vocabulary: [String]
    private let index: [String: Int32]

    public init(characters: [String]) {
        vocabulary = Self.specialTokens + characters
        var index: [String: Int32] = [:]
        for (i, t) in vocabulary.enumerated() { index[t] = Int32(i) }
        self.index = index
    }

    public var vocabularySize: Int { vocabulary.count }
    public var bosTokenID: Int32? { Self.bos }
    public var eosTokenID: Int32? { Self.eos }
    public var padTokenID: Int32? { Self.pad }

    public func encode(_ text: String, parseSpecial: Bool) -> [Int32] {
        var ids: [Int32] = []
        ids.reserveCapacity(text.unicodeScalars.count)
        var rest = Substring(text)
        outer: while let first = rest.unicodeScalars.first {
            if parseSpecial && first == "<" {
                for (i, s) in Self.specialTokens.enumerated() where rest.hasPrefix(s) {
                    ids.append(Int32(i))
                    rest = rest.dropFirst(s.count)
                    continue outer
                }
            }
            ids.append(index[String(first)] ?? Self.unk)
            rest = Substring(rest.unicodeScalars.dropFirst())
        }
        return ids
    }

    public func decode(_ ids: [Int32], skipSpecial: Bool) -> String {
        var out = ""
        for id in ids {
            guard id >= 0 && Int(id) < vocabulary.count else { continue }
            if skipSpecial && Int(id) < Self.specialTokens.count { continue }
            out += vocabulary[Int(id)]
        }
        return out
    }

    public func token(for id: Int32) -> String? {
        id >= 0 && Int(id) < vocabulary.count ? vocabulary[Int(id)] : nil
    }

    public func id(for token: String) -> Int32? { index[token] }

    // MARK: - Hugging Face tokenizer.json

    /// The `tokenizer.json` text (tokenizers ≥ 0.13 format).
    public func huggingFaceJSON() throws -> Data {
        var vocab: [String: Int] = [:]
        for (i, t) in vocabulary.enumerated() { vocab[t] = i }
        let added: [[String: Any]] = Self.specialTokens.enumerated().map { i, s in
            ["id": i, "content": s, "single_word": false, "lstrip": false, "rstrip": false,
             "normalized": false, "special": true]
        }
        let json: [String: Any] = [
            "version": "1.0", "truncation": NSNull(), "padding": NSNull(),
            "added_tokens": added, "normalizer": NSNull(), "pre_tokenizer": NSNull(),
            "post_processor": NSNull(), "decoder": ["type": "Fuse"],
            "model": [
                "type": "BPE", "dropout": NSNull(), "unk_token": "<|unk|>",
                "continuing_subword_prefix": NSNull(), "end_of_word_suffix": NSNull(),
                "fuse_unk": false, "byte_fallback": false, "ignore_merges": false,
                "vocab": vocab, "merges": [String](),
            ] as [String: Any],
        ]
        return try JSONSerialization.data(withJSONObject: json, options: [.sortedKeys, .prettyPrinted])
    }

    /// `tokenizer_config.json` for transformers (special tokens and the ChatML template).
    public func huggingFaceConfigJSON(chatTemplate: String) throws -> Data {
        let json: [String: Any] = [
            "tokenizer_class": "PreTrainedTokenizerFast", "bos_token": "<|endoftext|>",
            "eos_token": "<|im_end|>", "pad_token": "<|pad|>", "unk_token": "<|unk|>",
            "model_max_length": 512, "clean_up_tokenization_spaces": false,
            "chat_template": chatTemplate,
        ]
        return try JSONSerialization.data(withJSONObject: json, options: [.sortedKeys, .prettyPrinted])
    }

    /// Loads a `tokenizer.json` written by ``huggingFaceJSON()`` (BPE without merges).
    public static func load(huggingFaceJSON data: Data, path: String) throws(InputError) -> CharTokenizer {
        // StrictJSON, not JSONSerialization: on Linux the latter reads the ids 0 and 1 as Bool.
        let root = try StrictJSON.parseObject(data, path: path)
        guard let entries = root["model"]?.object?["vocab"]?.object else {
            throw InputError(file: path, field: "model.vocab", message: "missing or not a string→int map")
        }
        var vocab: [String: Int] = [:]
        for (token, id) in entries {
            guard let id = id.int else {
                throw InputError(file: path, field: "model.vocab", message: "id of \(token.debugDescription) is not an integer")
            }
            vocab[token] = id
        }
        let ordered = vocab.sorted { $0.value < $1.value }
        for (i, pair) in ordered.enumerated() where pair.value != i {
            throw InputError(file: path, field: "model.vocab", message: "ids are not 0..<\(vocab.count) (gap at \(i))")
        }
        let tokens = ordered.map(\.key)
        guard tokens.count >= specialTokens.count, Array(tokens.prefix(specialTokens.count)) == specialTokens else {
            throw InputError(file: path, field: "model.vocab", message: "not an rlhub character vocabulary (special tokens differ)")
        }
        return CharTokenizer(characters: Array(tokens.dropFirst(specialTokens.count)))
    }
}
