// rlhub — loading a byte-level BPE tokenizer from a Hugging Face `tokenizer.json` folder.
import Foundation
import RLHubCore

/// `tokenizer.json` values: the LM layer's strict JSON parser (see StrictJSON.swift).
typealias TokenizerJSON = StrictJSON

extension StrictJSON {
    /// Parses a document whose top level must be an object.
    static func parseObject(_ data: Data, path: String) throws(InputError) -> [String: StrictJSON] {
        guard let object = try parse(data, path: path).object else {
            throw InputError(file: path, message: "expected a JSON object at the top level")
        }
        return object
    }

    /// A short description for error messages.
    var summary: String {
        switch self {
        case .null: return "null"
        case .bool(let b): return String(b)
        case .number(let text): return text
        case .string(let s): return ByteLevelBPETokenizer.quoted(s)
        case .array(let a): return "an array of \(a.count)"
        case .object: return object?["type"]?.string.map { "type \($0)" } ?? "an object"
        }
    }
}

extension [String: TokenizerJSON] {
    /// The value for `key`, treating JSON `null` as absent.
    fileprivate func present(_ key: String) -> TokenizerJSON? {
        guard let v = self[key], !v.isNull else { return nil }
        return v
    }
}

extension ByteLevelBPETokenizer {
    /// The Llama-3 split regex as it appears in `tokenizer.json` (the only `Split` pattern
    /// ``load(huggingFaceFolder:)`` accepts).
    public static let llama3Regex =
        "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+"

    /// Loads `tokenizer.json` from a Hugging Face model folder (plus `tokenizer_config.json` or
    /// `special_tokens_map.json`, when present, for the BOS/EOS/PAD/UNK strings).
    ///
    /// Supported: `model.type` `BPE` without byte fallback, dropout or subword affixes; no
    /// normalizer; `pre_tokenizer` `ByteLevel(use_regex: true)` (→ ``BPEPreTokenizer/gpt2``),
    /// `Sequence[Digits(individual_digits: true), ByteLevel(use_regex: true)]`
    /// (→ ``BPEPreTokenizer/smollm``) or `Sequence[Split(<Llama-3 regex>, Isolated),
    /// ByteLevel(use_regex: false)]` (→ ``BPEPreTokenizer/llama3``), always with
    /// `add_prefix_space: false`. `added_tokens` become ``BPETokenType/control`` (`special: true`)
    /// or ``BPETokenType/userDefined`` tokens; `lstrip`/`rstrip` are honoured, `single_word` is
    /// rejected. `post_processor` is ignored (`encode` never adds BOS/EOS).
    ///
    /// - Throws: ``InputError`` naming the file and field of the first problem.
    public static func load(huggingFaceFolder: String) throws(InputError) -> ByteLevelBPETokenizer {
        let folder = URL(fileURLWithPath: huggingFaceFolder)
        let path = folder.appendingPathComponent("tokenizer.json").path
        let data = try readFile(path)
        var specialStrings: [String: String] = [:]
        var specialsPath: String?
        for name in ["special_tokens_map.json", "tokenizer_config.json"] {  // the latter wins
            let configPath = folder.appendingPathComponent(name).path
            guard FileManager.default.fileExists(atPath: configPath) else { continue }
            let object = try TokenizerJSON.parseObject(try readFile(configPath), path: configPath)
            specialsPath = configPath
            for key in ["bos_token", "eos_token", "pad_token", "unk_token"] {
                guard let value = object.present(key) else { continue }
                if let s = value.string ?? value.object?["content"]?.string {
                    specialStrings[key] = s
                } else {
                    throw InputError(
                        file: configPath, field: key, message: "expected a string or an object with 'content'")
                }
            }
        }
        return try load(tokenizerJSON: data, path: path, specialStrings: specialStrings, specialsPath: specialsPath)
    }

    /// Parses the contents of a `tokenizer.json` (see ``load(huggingFaceFolder:)``).
    /// `specialStrings` maps `bos_token`/`eos_token`/`pad_token`/`unk_token` to token strings, read
    /// from `specialsPath` (named in errors; defaults to `path`).
    public static func load(
        tokenizerJSON data: Data, path: String, specialStrings: [String: String] = [:], specialsPath: String? = nil
    ) throws(InputError) -> ByteLevelBPETokenizer {
        let root = try TokenizerJSON.parseObject(data, path: path)

        // Model.
        guard let model = root["model"]?.object else {
            throw InputError(file: path, field: "model", message: "missing or not an object")
        }
        if let type = model["type"] {
            guard type.string == "BPE" else {
                throw InputError(file: path, field: "model.type", message: "expected \"BPE\", got \(type.summary)")
            }
        }
        if let fallback = model.present("byte_fallback") {
            guard fallback.bool == false else {
                throw InputError(file: path, field: "model.byte_fallback", message: "byte fallback is not supported")
            }
        }
        if let dropout = model.present("dropout") {
            guard dropout.double == 0 else {
                throw InputError(file: path, field: "model.dropout", message: "BPE dropout is not supported")
            }
        }
        for key in ["continuing_subword_prefix", "end_of_word_suffix"] {
            if let v = model.present(key), v.string != "" {
                throw InputError(file: path, field: "model.\(key)", message: "not supported for byte-level BPE")
            }
        }
        var ignoreMerges = false
        if let v = model.present("ignore_merges") {
            guard let b = v.bool else {
                throw InputError(file: path, field: "model.ignore_merges", message: "expected a boolean")
            }
            ignoreMerges = b
        }
        guard let vocab = model["vocab"]?.object else {
            throw InputError(file: path, field: "model.vocab", message: "missing or not an object")
        }
        guard let mergesValue = model["merges"]?.array else {
            throw InputError(file: path, field: "model.merges", message: "missing or not an array")
        }
        var merges: [String] = []
        merges.reserveCapacity(mergesValue.count)
        for (i, m) in mergesValue.enumerated() {
            if let s = m.string {
                merges.append(s)
            } else if let pair = m.array, pair.count == 2, let a = pair[0].string, let b = pair[1].string {
                guard !a.isEmpty, !b.isEmpty, !a.contains(" "), !b.contains(" ") else {
                    throw InputError(
                        file: path, field: "model.merges[\(i)]", message: "merge parts must be non-empty without spaces")
                }
                merges.append(a + " " + b)
            } else {
                throw InputError(
                    file: path, field: "model.merges[\(i)]", message: "expected \"a b\" or [\"a\", \"b\"]")
            }
        }

        // Normalizer, pre-tokenizer, decoder.
        if let normalizer = root.present("normalizer") {
            throw InputError(
                file: path, field: "normalizer",
                message: "normalizers are not supported for byte-level BPE (got \(normalizer.summary))")
        }
        let kind = try preTokenizerKind(root.present("pre_tokenizer"), path: path)
        if let decoder = root.present("decoder") {
            guard decoder.object?["type"]?.string == "ByteLevel" else {
                throw InputError(
                    file: path, field: "decoder", message: "expected a ByteLevel decoder, got \(decoder.summary)")
            }
        }

        // Vocabulary: model.vocab plus added_tokens, contiguous ids from 0.
        var byID: [Int: String] = [:]
        byID.reserveCapacity(vocab.count)
        for (token, value) in vocab {
            guard let id = value.int, id >= 0 else {
                throw InputError(
                    file: path, field: "model.vocab[\(quoted(token))]", message: "expected a non-negative integer id")
            }
            if let other = byID[id] {
                let (a, b) = other < token ? (other, token) : (token, other)  // deterministic message
                throw InputError(
                    file: path, field: "model.vocab[\(quoted(b))]", message: "id \(id) is also used by \(quoted(a))")
            }
            byID[id] = token
        }
        var types: [Int: BPETokenType] = [:]
        var specialFlags: [Int32: (Bool, Bool)] = [:]
        if let added = root.present("added_tokens") {
            guard let list = added.array else {
                throw InputError(file: path, field: "added_tokens", message: "expected an array")
            }
            for (i, entry) in list.enumerated() {
                let field = "added_tokens[\(i)]"
                guard let object = entry.object else {
                    throw InputError(file: path, field: field, message: "expected an object")
                }
                guard let id = object["id"]?.int, id >= 0 else {
                    throw InputError(file: path, field: "\(field).id", message: "expected a non-negative integer")
                }
                guard let content = object["content"]?.string, !content.isEmpty else {
                    throw InputError(file: path, field: "\(field).content", message: "expected a non-empty string")
                }
                func flag(_ key: String) throws(InputError) -> Bool {
                    guard let v = object.present(key) else { return false }
                    guard let b = v.bool else {
                        throw InputError(file: path, field: "\(field).\(key)", message: "expected a boolean")
                    }
                    return b
                }
                if try flag("single_word") {
                    throw InputError(
                        file: path, field: "\(field).single_word", message: "single_word tokens are not supported")
                }
                let isSpecial = try flag("special")
                let lstrip = try flag("lstrip")
                let rstrip = try flag("rstrip")
                if let existing = byID[id], existing != content {
                    throw InputError(
                        file: path, field: "\(field).id",
                        message: "id \(id) is \(quoted(existing)) in model.vocab, not \(quoted(content))")
                }
                byID[id] = content
                types[id] = isSpecial ? .control : .userDefined
                if lstrip || rstrip { specialFlags[Int32(id)] = (lstrip, rstrip) }
            }
        }
        let count = byID.count
        var tokens: [String] = []
        tokens.reserveCapacity(count)
        var tokenTypes: [BPETokenType] = []
        tokenTypes.reserveCapacity(count)
        for id in 0..<count {
            guard let token = byID[id] else {
                throw InputError(
                    file: path, field: "model.vocab",
                    message: "ids must be contiguous from 0: id \(id) is missing (\(count) tokens)")
            }
            tokens.append(token)
            tokenTypes.append(types[id] ?? .normal)
        }

        // Special ids: model.unk_token, then the config strings.
        var index: [String: Int32] = [:]
        index.reserveCapacity(count)
        for (i, t) in tokens.enumerated() { index[t] = Int32(i) }
        var ids: [String: Int32] = [:]
        if let unk = model.present("unk_token") {
            guard let s = unk.string, let id = index[s] else {
                throw InputError(file: path, field: "model.unk_token", message: "\(unk.summary) is not in the vocabulary")
            }
            ids["unk_token"] = id
        }
        for (key, s) in specialStrings.sorted(by: { $0.key < $1.key }) {
            guard let id = index[s] else {
                throw InputError(file: specialsPath ?? path, field: key, message: "\(quoted(s)) is not in the vocabulary")
            }
            ids[key] = id
        }

        var fields = Fields()
        fields.tokens = "model.vocab"
        fields.merges = "model.merges"
        fields.tokenTypes = "added_tokens"
        fields.bos = "bos_token"
        fields.eos = "eos_token"
        fields.pad = "pad_token"
        fields.unk = "unk_token"
        return try ByteLevelBPETokenizer(
            tokens: tokens, merges: merges, tokenTypes: tokenTypes, bos: ids["bos_token"], eos: ids["eos_token"],
            pad: ids["pad_token"], unk: ids["unk_token"], preTokenizer: kind, ignoreMerges: ignoreMerges,
            specialFlags: specialFlags, source: path, fields: fields)
    }

    /// Recognises the supported `pre_tokenizer` shapes.
    private static func preTokenizerKind(_ value: TokenizerJSON?, path: String) throws(InputError) -> BPEPreTokenizer {
        let field = "pre_tokenizer"
        guard let value else {
            throw InputError(file: path, field: field, message: "missing; byte-level BPE needs a ByteLevel pre-tokenizer")
        }
        guard let object = value.object, let type = object["type"]?.string else {
            throw InputError(file: path, field: field, message: "expected an object with a 'type'")
        }
        if type == "ByteLevel" {
            try checkByteLevel(object, useRegex: true, path: path, field: field)
            return .gpt2
        }
        guard type == "Sequence", let list = object["pretokenizers"]?.array else {
            throw InputError(
                file: path, field: "\(field).type",
                message: "pre-tokenizer '\(type)' not supported (expected ByteLevel or a Sequence ending in ByteLevel)")
        }
        let items = list.compactMap(\.object)
        let types = items.map { $0["type"]?.string ?? "?" }
        let expected = "expected [Digits, ByteLevel] or [Split, ByteLevel]"
        guard items.count == list.count, items.count == 2 else {
            throw InputError(
                file: path, field: "\(field).pretokenizers", message: "Sequence \(types) not supported (\(expected))")
        }
        if types == ["Digits", "ByteLevel"] {
            guard items[0]["individual_digits"]?.bool == true else {
                throw InputError(
                    file: path, field: "\(field).pretokenizers[0].individual_digits",
                    message: "only Digits(individual_digits: true) is supported")
            }
            try checkByteLevel(items[1], useRegex: true, path: path, field: "\(field).pretokenizers[1]")
            return .smollm
        }
        if types == ["Split", "ByteLevel"] {
            let split = items[0]
            guard split["pattern"]?.object?["Regex"]?.string == llama3Regex else {
                throw InputError(
                    file: path, field: "\(field).pretokenizers[0].pattern",
                    message: "only the Llama-3 split regex is supported")
            }
            guard split["behavior"]?.string == "Isolated", (split.present("invert")?.bool ?? false) == false else {
                throw InputError(
                    file: path, field: "\(field).pretokenizers[0].behavior",
                    message: "only behavior Isolated without invert is supported")
            }
            try checkByteLevel(items[1], useRegex: false, path: path, field: "\(field).pretokenizers[1]")
            return .llama3
        }
        throw InputError(
            file: path, field: "\(field).pretokenizers", message: "Sequence \(types) not supported (\(expected))")
    }

    private static func checkByteLevel(
        _ object: [String: TokenizerJSON], useRegex: Bool, path: String, field: String
    ) throws(InputError) {
        if object.present("add_prefix_space")?.bool == true {
            throw InputError(file: path, field: "\(field).add_prefix_space", message: "add_prefix_space is not supported")
        }
        let regex = object.present("use_regex")?.bool ?? true
        guard regex == useRegex else {
            throw InputError(
                file: path, field: "\(field).use_regex", message: "expected \(useRegex) for this pre-tokenizer sequence")
        }
    }

    private static func readFile(_ path: String) throws(InputError) -> Data {
        do {
            return try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            throw InputError(file: path, message: "cannot read: \(error.localizedDescription)")
        }
    }

    /// `s` in double quotes with control and invisible characters escaped (keeps messages on one line).
    static func quoted(_ s: String) -> String {
        let body = s.unicodeScalars.map { c -> String in
            let visible = c == " " || !(c.properties.isWhitespace || c.value < 0x20 || (0x7F...0x9F).contains(c.value)
                || c.properties.generalCategory == .format)
            return visible ? String(c) : c.escaped(asASCII: true)
        }
        return "\"" + body.joined() + "\""
    }
}

// MARK: - Export

extension ByteLevelBPETokenizer {
    /// The merges as `"left right"` strings in rank order (duplicates of a pair dropped).
    public var merges: [String] {
        tables.merges.map { key, value in
            (rank: value >> 32, left: Int(key >> 32), right: Int(key & 0xFFFF_FFFF))
        }
        .sorted { $0.rank < $1.rank }
        .map { tokens[$0.left] + " " + tokens[$0.right] }
    }

    /// A `tokenizer.json` (tokenizers ≥ 0.13 format) that ``load(huggingFaceFolder:)`` and HF
    /// `tokenizers` read back to the same encoding (special tokens as `added_tokens`, the
    /// pre-tokenizer in the shape listed at ``load(huggingFaceFolder:)``).
    public func huggingFaceJSON() throws -> Data {
        var vocab: [String: Int] = [:]
        for (i, t) in tokens.enumerated() { vocab[t] = i }
        var strip: [Int32: (Bool, Bool)] = [:]
        for s in tables.specials { strip[s.id] = (s.lstrip, s.rstrip) }
        let added: [[String: Any]] = tokens.indices.compactMap { i in
            let type = tokenTypes[i]
            guard type == .control || type == .unknown || type == .userDefined else { return nil }
            let (lstrip, rstrip) = strip[Int32(i)] ?? (false, false)
            return [
                "id": i, "content": tokens[i], "single_word": false, "lstrip": lstrip, "rstrip": rstrip,
                "normalized": false, "special": type != .userDefined,
            ]
        }
        let byteLevel: [String: Any] = [
            "type": "ByteLevel", "add_prefix_space": false, "trim_offsets": true,
            "use_regex": preTokenizer != .llama3,
        ]
        let preTokenizerJSON: [String: Any]
        switch preTokenizer {
        case .gpt2:
            preTokenizerJSON = byteLevel
        case .smollm:
            preTokenizerJSON = [
                "type": "Sequence", "pretokenizers": [["type": "Digits", "individual_digits": true], byteLevel],
            ]
        case .llama3:
            let split: [String: Any] = [
                "type": "Split", "pattern": ["Regex": Self.llama3Regex], "behavior": "Isolated", "invert": false,
            ]
            preTokenizerJSON = ["type": "Sequence", "pretokenizers": [split, byteLevel]]
        }
        let json: [String: Any] = [
            "version": "1.0", "truncation": NSNull(), "padding": NSNull(), "added_tokens": added,
            "normalizer": NSNull(), "pre_tokenizer": preTokenizerJSON,
            "post_processor": ["type": "ByteLevel", "add_prefix_space": true, "trim_offsets": false, "use_regex": true],
            "decoder": ["type": "ByteLevel", "add_prefix_space": true, "trim_offsets": true, "use_regex": true],
            "model": [
                "type": "BPE", "dropout": NSNull(), "unk_token": NSNull(), "continuing_subword_prefix": NSNull(),
                "end_of_word_suffix": NSNull(), "fuse_unk": false, "byte_fallback": false,
                "ignore_merges": ignoreMerges, "vocab": vocab, "merges": merges,
            ] as [String: Any],
        ]
        return try JSONSerialization.data(withJSONObject: json, options: [.sortedKeys])
    }

    /// `tokenizer_config.json` for transformers: the BOS/EOS/PAD/UNK strings and `chatTemplate`.
    public func huggingFaceConfigJSON(chatTemplate: String) throws -> Data {
        func name(_ id: Int32?) -> Any { id.flatMap { token(for: $0) } ?? NSNull() }
        let json: [String: Any] = [
            "tokenizer_class": "PreTrainedTokenizerFast", "bos_token": name(bosTokenID),
            "eos_token": name(eosTokenID), "pad_token": name(padTokenID), "unk_token": name(unknownTokenID),
            "add_prefix_space": false, "clean_up_tokenization_spaces": false, "chat_template": chatTemplate,
        ]
        return try JSONSerialization.data(withJSONObject: json, options: [.sortedKeys, .prettyPrinted])
    }
}
