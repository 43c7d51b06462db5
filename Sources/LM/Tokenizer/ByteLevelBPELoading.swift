// rlhub — loading a byte-level BPE tokenizer from a Hugging Face `tokenizer.json` folder.
import Foundation

/// A parsed JSON value, from a small strict parser: Foundation's `JSONSerialization` on Linux
/// bridges the numbers 0 and 1 to `Bool` and drops a U+FEFF at the start of a string, and
/// `JSONDecoder` into an enum like this one is about 20 times slower on a 50k-token vocabulary.
enum TokenizerJSON: Sendable {
    case null
    case bool(Bool)
    case int(Int)
    case double(Double)
    case string(String)
    case array([TokenizerJSON])
    case object([String: TokenizerJSON])

    static func parse(_ data: Data, path: String) throws(InputError) -> [String: TokenizerJSON] {
        let result: Result<TokenizerJSON, TokenizerJSONParser.Failure> = data.withUnsafeBytes { raw in
            var parser = TokenizerJSONParser(bytes: raw.bindMemory(to: UInt8.self))
            do throws(TokenizerJSONParser.Failure) {
                return .success(try parser.parseDocument())
            } catch {
                return .failure(error)
            }
        }
        switch result {
        case .failure(let failure):
            throw InputError(file: path, offset: failure.offset, message: "not valid JSON: \(failure.message)")
        case .success(.object(let object)):
            return object
        case .success:
            throw InputError(file: path, message: "expected a JSON object at the top level")
        }
    }

    var isNull: Bool { if case .null = self { return true } else { return false } }
    var string: String? { if case .string(let s) = self { return s } else { return nil } }
    var bool: Bool? { if case .bool(let b) = self { return b } else { return nil } }
    var array: [TokenizerJSON]? { if case .array(let a) = self { return a } else { return nil } }
    var object: [String: TokenizerJSON]? { if case .object(let o) = self { return o } else { return nil } }
    var int: Int? {
        switch self {
        case .int(let i): return i
        case .double(let d) where d.rounded() == d && abs(d) < 1e15: return Int(d)
        default: return nil
        }
    }
    var double: Double? {
        switch self {
        case .int(let i): return Double(i)
        case .double(let d): return d
        default: return nil
        }
    }

    /// A short description for error messages.
    var summary: String {
        switch self {
        case .null: return "null"
        case .bool(let b): return String(b)
        case .int(let i): return String(i)
        case .double(let d): return String(d)
        case .string(let s): return ByteLevelBPETokenizer.quoted(s)
        case .array(let a): return "an array of \(a.count)"
        case .object(let o): return o["type"]?.string.map { "type \($0)" } ?? "an object"
        }
    }
}

/// A recursive-descent JSON parser over UTF-8 bytes (RFC 8259; nesting limited to 256 levels).
struct TokenizerJSONParser {
    struct Failure: Error {
        var offset: Int
        var message: String
    }

    let bytes: UnsafeBufferPointer<UInt8>
    var pos = 0
    var depth = 0

    init(bytes: UnsafeBufferPointer<UInt8>) { self.bytes = bytes }

    mutating func parseDocument() throws(Failure) -> TokenizerJSON {
        if bytes.count >= 3 && bytes[0] == 0xEF && bytes[1] == 0xBB && bytes[2] == 0xBF { pos = 3 }  // BOM
        let value = try parseValue()
        skipWhitespace()
        guard pos == bytes.count else { throw fail("unexpected data after the JSON value") }
        return value
    }

    private func fail(_ message: String) -> Failure { Failure(offset: pos, message: message) }

    private mutating func skipWhitespace() {
        while pos < bytes.count, bytes[pos] == 0x20 || bytes[pos] == 0x0A || bytes[pos] == 0x0D || bytes[pos] == 0x09 {
            pos += 1
        }
    }

    private mutating func parseValue() throws(Failure) -> TokenizerJSON {
        skipWhitespace()
        guard pos < bytes.count else { throw fail("unexpected end of input") }
        switch bytes[pos] {
        case UInt8(ascii: "{"): return try parseObject()
        case UInt8(ascii: "["): return try parseArray()
        case UInt8(ascii: "\""): return .string(try parseString())
        case UInt8(ascii: "t"): try literal("true"); return .bool(true)
        case UInt8(ascii: "f"): try literal("false"); return .bool(false)
        case UInt8(ascii: "n"): try literal("null"); return .null
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return try parseNumber()
        default: throw fail("unexpected character")
        }
    }

    private mutating func literal(_ word: StaticString) throws(Failure) {
        let n = word.utf8CodeUnitCount
        guard pos + n <= bytes.count else { throw fail("unexpected end of input") }
        for i in 0..<n where bytes[pos + i] != word.utf8Start[i] { throw fail("invalid literal") }
        pos += n
    }

    private mutating func enter() throws(Failure) {
        depth += 1
        guard depth <= 256 else { throw fail("nesting deeper than 256 levels") }
    }

    private mutating func parseObject() throws(Failure) -> TokenizerJSON {
        try enter()
        defer { depth -= 1 }
        pos += 1
        var object: [String: TokenizerJSON] = [:]
        skipWhitespace()
        if pos < bytes.count, bytes[pos] == UInt8(ascii: "}") {
            pos += 1
            return .object(object)
        }
        while true {
            skipWhitespace()
            guard pos < bytes.count, bytes[pos] == UInt8(ascii: "\"") else { throw fail("expected a string key") }
            let key = try parseString()
            skipWhitespace()
            guard pos < bytes.count, bytes[pos] == UInt8(ascii: ":") else { throw fail("expected ':'") }
            pos += 1
            object[key] = try parseValue()  // a repeated key keeps the last value
            skipWhitespace()
            guard pos < bytes.count else { throw fail("unexpected end of input") }
            if bytes[pos] == UInt8(ascii: ",") {
                pos += 1
            } else if bytes[pos] == UInt8(ascii: "}") {
                pos += 1
                return .object(object)
            } else {
                throw fail("expected ',' or '}'")
            }
        }
    }

    private mutating func parseArray() throws(Failure) -> TokenizerJSON {
        try enter()
        defer { depth -= 1 }
        pos += 1
        var array: [TokenizerJSON] = []
        skipWhitespace()
        if pos < bytes.count, bytes[pos] == UInt8(ascii: "]") {
            pos += 1
            return .array(array)
        }
        while true {
            array.append(try parseValue())
            skipWhitespace()
            guard pos < bytes.count else { throw fail("unexpected end of input") }
            if bytes[pos] == UInt8(ascii: ",") {
                pos += 1
            } else if bytes[pos] == UInt8(ascii: "]") {
                pos += 1
                return .array(array)
            } else {
                throw fail("expected ',' or ']'")
            }
        }
    }

    private mutating func parseString() throws(Failure) -> String {
        pos += 1  // opening quote
        let start = pos
        // Fast path: no escapes.
        while pos < bytes.count {
            let b = bytes[pos]
            if b == UInt8(ascii: "\"") {
                let s = try utf8String(start, pos)
                pos += 1
                return s
            }
            if b == UInt8(ascii: "\\") { break }
            if b < 0x20 { throw fail("control character in string") }
            pos += 1
        }
        var out: [UInt8] = Array(bytes[start..<pos])
        while pos < bytes.count {
            let b = bytes[pos]
            if b == UInt8(ascii: "\"") {
                pos += 1
                return try out.withUnsafeBufferPointer { buffer throws(Failure) in
                    try validatedString(buffer, offset: start)
                }
            }
            if b < 0x20 { throw fail("control character in string") }
            if b != UInt8(ascii: "\\") {
                out.append(b)
                pos += 1
                continue
            }
            guard pos + 1 < bytes.count else { throw fail("unexpected end of input") }
            let e = bytes[pos + 1]
            pos += 2
            switch e {
            case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): out.append(e)
            case UInt8(ascii: "b"): out.append(0x08)
            case UInt8(ascii: "f"): out.append(0x0C)
            case UInt8(ascii: "n"): out.append(0x0A)
            case UInt8(ascii: "r"): out.append(0x0D)
            case UInt8(ascii: "t"): out.append(0x09)
            case UInt8(ascii: "u"):
                var scalar = try hex4()
                if (0xD800...0xDBFF).contains(scalar), pos + 1 < bytes.count, bytes[pos] == UInt8(ascii: "\\"),
                    bytes[pos + 1] == UInt8(ascii: "u")
                {
                    let save = pos
                    pos += 2
                    let low = try hex4()
                    if (0xDC00...0xDFFF).contains(low) {
                        scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                    } else {
                        pos = save
                    }
                }
                // Lone surrogates (Python writes them) become U+FFFD.
                out.append(contentsOf: String(Unicode.Scalar(scalar) ?? "\u{FFFD}").utf8)
            default:
                throw fail("invalid escape")
            }
        }
        throw fail("unterminated string")
    }

    private mutating func hex4() throws(Failure) -> UInt32 {
        guard pos + 4 <= bytes.count else { throw fail("unexpected end of input") }
        var v: UInt32 = 0
        for _ in 0..<4 {
            let c = bytes[pos]
            let d: UInt8
            switch c {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): d = c - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): d = c - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): d = c - UInt8(ascii: "A") + 10
            default: throw fail("invalid \\u escape")
            }
            v = v << 4 | UInt32(d)
            pos += 1
        }
        return v
    }

    private func utf8String(_ start: Int, _ end: Int) throws(Failure) -> String {
        try validatedString(UnsafeBufferPointer(rebasing: bytes[start..<end]), offset: start)
    }

    /// The string of `utf8`, or a failure if it is not valid UTF-8 (without `String(validating:)`,
    /// which needs macOS 15).
    private func validatedString(_ utf8: UnsafeBufferPointer<UInt8>, offset: Int) throws(Failure) -> String {
        let s = String(decoding: utf8, as: UTF8.self)
        guard s.utf8.elementsEqual(utf8) else { throw Failure(offset: offset, message: "string is not valid UTF-8") }
        return s
    }

    private mutating func parseNumber() throws(Failure) -> TokenizerJSON {
        let start = pos
        var isInteger = true
        if bytes[pos] == UInt8(ascii: "-") { pos += 1 }
        func digits(_ p: inout Int) -> Int {
            let s = p
            while p < bytes.count, bytes[p] >= UInt8(ascii: "0"), bytes[p] <= UInt8(ascii: "9") { p += 1 }
            return p - s
        }
        let intStart = pos
        let intDigits = digits(&pos)
        guard intDigits > 0 else { throw fail("invalid number") }
        if intDigits > 1 && bytes[intStart] == UInt8(ascii: "0") { throw fail("leading zero in number") }
        if pos < bytes.count, bytes[pos] == UInt8(ascii: ".") {
            pos += 1
            isInteger = false
            guard digits(&pos) > 0 else { throw fail("invalid number") }
        }
        if pos < bytes.count, bytes[pos] == UInt8(ascii: "e") || bytes[pos] == UInt8(ascii: "E") {
            pos += 1
            isInteger = false
            if pos < bytes.count, bytes[pos] == UInt8(ascii: "+") || bytes[pos] == UInt8(ascii: "-") { pos += 1 }
            guard digits(&pos) > 0 else { throw fail("invalid number") }
        }
        let text = String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<pos]), as: UTF8.self)
        if isInteger, let i = Int(text) { return .int(i) }
        guard let d = Double(text), d.isFinite else { throw Failure(offset: start, message: "number out of range") }
        return .double(d)
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
            let object = try TokenizerJSON.parse(try readFile(configPath), path: configPath)
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
        let root = try TokenizerJSON.parse(data, path: path)

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
