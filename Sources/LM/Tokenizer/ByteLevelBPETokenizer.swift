// rlhub — GPT-2-style byte-level BPE tokenizer (SmolLM2, GPT-2, Llama 3 vocabularies), matching
// llama.cpp's tokenizer for the supported pre-tokenizer kinds.
import RLHubCore

/// The kind of a vocabulary entry, with the numeric values of GGUF `tokenizer.ggml.token_type`.
public enum BPETokenType: Int32, Sendable, CaseIterable {
    case undefined = 0
    case normal = 1
    /// The unknown token: matched as a special string, rendered like ``control``.
    case unknown = 2
    /// Special tokens such as `<|im_start|>`: parsed from text only with `parseSpecial`,
    /// dropped by `decode(skipSpecial: true)`.
    case control = 3
    /// Added tokens that are always matched as whole strings and decoded verbatim.
    case userDefined = 4
    case unused = 5
    case byte = 6
}

/// A byte-level BPE tokenizer: text → UTF-8 bytes → words (``BPEPreTokenizer``) → BPE merges by
/// rank over GPT-2's byte alphabet.
///
/// Special tokens (``BPETokenType/control``, ``BPETokenType/unknown`` and
/// ``BPETokenType/userDefined``) are cut out of the text as whole strings before pre-tokenization,
/// longest first (llama.cpp's order); control and unknown tokens only when `parseSpecial` is true.
/// `encode` never adds BOS/EOS.
///
/// ``token(for:)`` and ``id(for:)`` use the vocabulary's own spelling (`"Ġthe"` for `" the"`).
public struct ByteLevelBPETokenizer: Tokenizer {
    /// Vocabulary entries in id order, as spelled in the model file.
    public let tokens: [String]
    /// The type of each entry.
    public let tokenTypes: [BPETokenType]
    public let preTokenizer: BPEPreTokenizer
    public let bosTokenID: Int32?
    public let eosTokenID: Int32?
    public let padTokenID: Int32?
    public let unknownTokenID: Int32?
    /// Whole words found in the vocabulary skip the merges (Llama 3, HF `ignore_merges`).
    public let ignoreMerges: Bool

    public var vocabularySize: Int { tokens.count }

    /// Ids that end generation: EOS plus the end-of-turn/end-of-text tokens llama.cpp treats as
    /// end-of-generation when present (`<|im_end|>`, `<|endoftext|>`, `<|eot_id|>`, ...).
    /// For SmolLM2 this is `[0, 2]` (`<|endoftext|>`, `<|im_end|>`).
    public let endOfGenerationIDs: Set<Int32>

    /// Token strings llama.cpp recognises as end-of-generation (`llama-vocab.cpp`).
    static let endOfGenerationStrings: Set<String> = [
        "<|eot_id|>", "<|im_end|>", "<|end|>", "<end_of_turn>", "<|endoftext|>", "<|eom_id|>", "<EOT>",
        "<|end_of_text|>", "<end_of_utterance>",
    ]

    let tables: Tables

    /// Immutable lookup tables shared by copies of the tokenizer.
    final class Tables: Sendable {
        /// Exact token string → id.
        let idOfToken: [String: Int32]
        /// Raw bytes → id for every entry spelled in the byte alphabet.
        let idOfBytes: [[UInt8]: Int32]
        /// Id of each single byte, -1 if the vocabulary lacks it.
        let idOfByte: [Int32]
        /// (left id << 32 | right id) → (rank << 32 | merged id).
        let merges: [UInt64: UInt64]
        /// Special strings in matching order (longest first).
        let specials: [Special]
        /// Decoded bytes of every id: `pieceBytes[pieceStart[i]..<pieceStart[i+1]]`.
        let pieceBytes: [UInt8]
        let pieceStart: [Int32]
        /// Whether `decode(skipSpecial: true)` drops the id (control and unknown).
        let isSkippable: [Bool]

        init(
            idOfToken: [String: Int32], idOfBytes: [[UInt8]: Int32], idOfByte: [Int32],
            merges: [UInt64: UInt64], specials: [Special], pieceBytes: [UInt8], pieceStart: [Int32],
            isSkippable: [Bool]
        ) {
            self.idOfToken = idOfToken
            self.idOfBytes = idOfBytes
            self.idOfByte = idOfByte
            self.merges = merges
            self.specials = specials
            self.pieceBytes = pieceBytes
            self.pieceStart = pieceStart
            self.isSkippable = isSkippable
        }
    }

    struct Special: Sendable {
        var bytes: [UInt8]
        var id: Int32
        /// Control or unknown: only matched when `parseSpecial` is true.
        var needsParseSpecial: Bool
        var lstrip: Bool
        var rstrip: Bool
    }

    /// Field names used in error messages, per source format.
    struct Fields {
        var tokens = "tokens"
        var merges = "merges"
        var tokenTypes = "token_types"
        var bos = "bos"
        var eos = "eos"
        var pad = "pad"
        var unk = "unk"
    }

    /// Builds a tokenizer from plain arrays.
    ///
    /// - Parameters:
    ///   - tokens: vocabulary in id order, byte-level spelling (`"Ġthe"`).
    ///   - merges: `"left right"` pairs, highest priority first.
    ///   - tokenTypes: one per token, or empty for all ``BPETokenType/normal``.
    ///   - source: where the data came from, for error messages.
    /// - Throws: ``InputError`` naming the bad field (for example `merges[12]`).
    public init(
        tokens: [String], merges: [String], tokenTypes: [BPETokenType], bos: Int32?, eos: Int32?,
        pad: Int32?, unk: Int32?, preTokenizer: BPEPreTokenizer, source: String = "<tokenizer>"
    ) throws(InputError) {
        try self.init(
            tokens: tokens, merges: merges, tokenTypes: tokenTypes, bos: bos, eos: eos, pad: pad, unk: unk,
            preTokenizer: preTokenizer, ignoreMerges: preTokenizer == .llama3, specialFlags: [:],
            source: source, fields: Fields())
    }

    /// Builds a tokenizer from GGUF metadata arrays (`tokenizer.ggml.*`).
    ///
    /// - Parameters:
    ///   - ggufTokens: `tokenizer.ggml.tokens`.
    ///   - merges: `tokenizer.ggml.merges`.
    ///   - tokenTypes: `tokenizer.ggml.token_type` (empty if absent).
    ///   - pre: `tokenizer.ggml.pre` (`gpt2`/`gpt-2`, `smollm`/`starcoder`, `llama-bpe`/`llama3`).
    ///   - path: the GGUF file, for error messages.
    public init(
        ggufTokens: [String], merges: [String], tokenTypes: [Int32], bos: Int32?, eos: Int32?, pad: Int32?,
        unk: Int32?, pre: String, path: String
    ) throws(InputError) {
        guard let kind = BPEPreTokenizer(ggufPre: pre) else {
            throw InputError(
                file: path, field: "tokenizer.ggml.pre",
                message:
                    "pre-tokenizer \(Self.quoted(pre)) not supported (supported: gpt2, gpt-2, smollm, starcoder, llama-bpe, llama3)")
        }
        var types: [BPETokenType] = []
        types.reserveCapacity(tokenTypes.count)
        for (i, raw) in tokenTypes.enumerated() {
            guard let t = BPETokenType(rawValue: raw) else {
                throw InputError(
                    file: path, field: "tokenizer.ggml.token_type[\(i)]", message: "unknown token type \(raw)")
            }
            types.append(t)
        }
        var fields = Fields()
        fields.tokens = "tokenizer.ggml.tokens"
        fields.merges = "tokenizer.ggml.merges"
        fields.tokenTypes = "tokenizer.ggml.token_type"
        fields.bos = "tokenizer.ggml.bos_token_id"
        fields.eos = "tokenizer.ggml.eos_token_id"
        fields.pad = "tokenizer.ggml.padding_token_id"
        fields.unk = "tokenizer.ggml.unknown_token_id"
        try self.init(
            tokens: ggufTokens, merges: merges, tokenTypes: types, bos: bos, eos: eos, pad: pad, unk: unk,
            preTokenizer: kind, ignoreMerges: kind == .llama3, specialFlags: [:], source: path, fields: fields)
    }

    /// The designated initializer: validates everything and builds the lookup tables.
    /// `specialFlags[id]` gives (lstrip, rstrip) for special tokens that have them.
    init(
        tokens: [String], merges: [String], tokenTypes: [BPETokenType], bos: Int32?, eos: Int32?, pad: Int32?,
        unk: Int32?, preTokenizer: BPEPreTokenizer, ignoreMerges: Bool, specialFlags: [Int32: (Bool, Bool)],
        source: String, fields: Fields
    ) throws(InputError) {
        guard !tokens.isEmpty else {
            throw InputError(file: source, field: fields.tokens, message: "vocabulary is empty")
        }
        guard tokens.count < Int(Int32.max) else {
            throw InputError(file: source, field: fields.tokens, message: "too many tokens (\(tokens.count))")
        }
        let types: [BPETokenType]
        if tokenTypes.isEmpty {
            types = Array(repeating: .normal, count: tokens.count)
        } else if tokenTypes.count == tokens.count {
            types = tokenTypes
        } else {
            throw InputError(
                file: source, field: fields.tokenTypes,
                message: "has \(tokenTypes.count) entries but there are \(tokens.count) tokens")
        }
        for (value, field) in [(bos, fields.bos), (eos, fields.eos), (pad, fields.pad), (unk, fields.unk)] {
            if let v = value, v < 0 || Int(v) >= tokens.count {
                throw InputError(
                    file: source, field: field, message: "id \(v) out of range 0..<\(tokens.count)")
            }
        }

        var idOfToken: [String: Int32] = [:]
        idOfToken.reserveCapacity(tokens.count)
        var idOfBytes: [[UInt8]: Int32] = [:]
        idOfBytes.reserveCapacity(tokens.count)
        var pieceBytes: [UInt8] = []
        pieceBytes.reserveCapacity(tokens.count * 8)
        var pieceStart: [Int32] = [0]
        pieceStart.reserveCapacity(tokens.count + 1)
        var isSkippable: [Bool] = []
        isSkippable.reserveCapacity(tokens.count)
        var specials: [Special] = []
        for (i, token) in tokens.enumerated() {
            let id = Int32(i)
            if let first = idOfToken.updateValue(id, forKey: token) {
                throw InputError(
                    file: source, field: "\(fields.tokens)[\(i)]",
                    message: "duplicate token \(Self.quoted(token)) (also id \(first))")
            }
            let raw = ByteLevelMapping.decode(token)
            if let raw { idOfBytes[raw] = id }
            let type = types[i]
            switch type {
            case .control, .unknown, .userDefined:
                pieceBytes.append(contentsOf: token.utf8)
                if !token.isEmpty {
                    let flags = specialFlags[id] ?? (false, false)
                    specials.append(
                        Special(
                            bytes: Array(token.utf8), id: id, needsParseSpecial: type != .userDefined,
                            lstrip: flags.0, rstrip: flags.1))
                }
            default:
                if let raw {
                    pieceBytes.append(contentsOf: raw)
                } else {
                    // Not in the byte alphabet: decode what can be, keep the rest as UTF-8.
                    for scalar in token.unicodeScalars {
                        let v = Int(scalar.value)
                        if v < ByteLevelMapping.byteOfScalar.count, ByteLevelMapping.byteOfScalar[v] >= 0 {
                            pieceBytes.append(UInt8(ByteLevelMapping.byteOfScalar[v]))
                        } else {
                            pieceBytes.append(contentsOf: String(scalar).utf8)
                        }
                    }
                }
            }
            isSkippable.append(type == .control || type == .unknown)
            pieceStart.append(Int32(pieceBytes.count))
        }
        // llama.cpp sorts by length only; ties keep id order here.
        specials.sort { $0.bytes.count != $1.bytes.count ? $0.bytes.count > $1.bytes.count : $0.id < $1.id }

        var idOfByte = [Int32](repeating: -1, count: 256)
        for b in 0..<256 {
            idOfByte[b] = idOfBytes[[UInt8(b)]] ?? -1
        }

        var mergeTable: [UInt64: UInt64] = [:]
        mergeTable.reserveCapacity(merges.count)
        for (rank, merge) in merges.enumerated() {
            let chars = Array(merge.unicodeScalars)
            // The separator is the first space after the first character (a part is never empty).
            guard chars.count >= 3, let sep = chars.indices.dropFirst().first(where: { chars[$0] == " " }),
                sep < chars.count - 1
            else {
                throw InputError(
                    file: source, field: "\(fields.merges)[\(rank)]",
                    message: "expected two tokens separated by one space, got \(Self.quoted(merge))")
            }
            var leftView = String.UnicodeScalarView()
            leftView.append(contentsOf: chars[..<sep])
            var rightView = String.UnicodeScalarView()
            rightView.append(contentsOf: chars[(sep + 1)...])
            let left = String(leftView), right = String(rightView)
            guard let l = idOfToken[left], let r = idOfToken[right] else {
                throw InputError(
                    file: source, field: "\(fields.merges)[\(rank)]",
                    message: "\(Self.quoted(idOfToken[left] == nil ? left : right)) is not in the vocabulary")
            }
            guard let m = idOfToken[left + right] else {
                throw InputError(
                    file: source, field: "\(fields.merges)[\(rank)]",
                    message: "merged token \(Self.quoted(left + right)) is not in the vocabulary")
            }
            let key = UInt64(UInt32(bitPattern: l)) << 32 | UInt64(UInt32(bitPattern: r))
            if mergeTable[key] == nil {  // the first (highest-priority) occurrence wins
                mergeTable[key] = UInt64(rank) << 32 | UInt64(UInt32(bitPattern: m))
            }
        }

        self.tokens = tokens
        self.tokenTypes = types
        self.preTokenizer = preTokenizer
        self.bosTokenID = bos
        self.eosTokenID = eos
        self.padTokenID = pad
        self.unknownTokenID = unk
        self.ignoreMerges = ignoreMerges
        var stop = Set(Self.endOfGenerationStrings.compactMap { idOfToken[$0] })
        if let eos { stop.insert(eos) }
        self.endOfGenerationIDs = stop
        self.tables = Tables(
            idOfToken: idOfToken, idOfBytes: idOfBytes, idOfByte: idOfByte, merges: mergeTable,
            specials: specials, pieceBytes: pieceBytes, pieceStart: pieceStart, isSkippable: isSkippable)
    }

    // MARK: - Tokenizer

    public func token(for id: Int32) -> String? {
        id >= 0 && Int(id) < tokens.count ? tokens[Int(id)] : nil
    }

    public func id(for token: String) -> Int32? { tables.idOfToken[token] }

    public func encode(_ text: String, parseSpecial: Bool) -> [Int32] {
        var text = text
        return text.withUTF8 { encode(utf8: $0, parseSpecial: parseSpecial) }
    }

    /// Encodes raw UTF-8 bytes. Invalid sequences are pre-tokenized as U+FFFD (as llama.cpp
    /// does) but their own bytes are encoded, so `decode` gives them back.
    public func encode(utf8 bytes: UnsafeBufferPointer<UInt8>, parseSpecial: Bool) -> [Int32] {
        var session = BPEEncodeSession(tokenizer: self, bytes: bytes)
        for fragment in partitionSpecials(bytes, parseSpecial: parseSpecial) {
            switch fragment {
            case .token(let id): session.output.append(id)
            case .text(let start, let end): session.encodeText(start: start, end: end)
            }
        }
        return session.output
    }

    public func decode(_ ids: [Int32], skipSpecial: Bool) -> String {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(ids.count * 4)
        for id in ids { appendBytes(of: id, skipSpecial: skipSpecial, to: &bytes) }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Appends the bytes `id` decodes to (nothing for out-of-range ids or skipped specials).
    public func appendBytes(of id: Int32, skipSpecial: Bool, to bytes: inout [UInt8]) {
        guard id >= 0, Int(id) < tokens.count else { return }
        if skipSpecial && tables.isSkippable[Int(id)] { return }
        let s = Int(tables.pieceStart[Int(id)]), e = Int(tables.pieceStart[Int(id) + 1])
        bytes.append(contentsOf: tables.pieceBytes[s..<e])
    }

    /// GPT-2's byte-level spelling of raw bytes, as vocabulary entries are written
    /// (`" the"` → `"Ġthe"`).
    public static func byteLevelSpelling(of bytes: some Sequence<UInt8>) -> String {
        ByteLevelMapping.encode(bytes)
    }

    /// The raw bytes of a byte-level spelling, `nil` if it has a character outside GPT-2's byte
    /// alphabet. (Printable ASCII spells itself, so `<|im_start|>` gives its own bytes.)
    public static func rawBytes(ofByteLevelSpelling token: String) -> [UInt8]? {
        ByteLevelMapping.decode(token)
    }

    /// Byte values without a token of their own. `encode` drops them, as llama.cpp does (they still
    /// separate their neighbours; HF `tokenizers` drops them before merging instead), so text
    /// containing them does not round-trip. SmolLM2 lacks 0x04, 0x06,
    /// 0x13, 0x14, 0x16, 0x1D, 0xF1 and 0xF2 (lead byte of U+40000–U+BFFFF), besides the bytes that
    /// never occur in UTF-8 (0xC0, 0xC1, 0xF5–0xFF).
    public var unrepresentableBytes: [UInt8] {
        (0..<256).filter { tables.idOfByte[$0] < 0 }.map { UInt8($0) }
    }

    /// The raw bytes one id decodes to.
    public func bytes(for id: Int32) -> [UInt8] {
        var out: [UInt8] = []
        appendBytes(of: id, skipSpecial: false, to: &out)
        return out
    }

    /// Whether `id` is a control or unknown token (dropped by `decode(skipSpecial: true)`).
    public func isSpecial(_ id: Int32) -> Bool {
        id >= 0 && Int(id) < tokens.count && tables.isSkippable[Int(id)]
    }

    // MARK: - Special tokens

    enum Fragment: Equatable {
        case text(Int, Int)
        case token(Int32)
    }

    /// Cuts special-token strings out of the text, as llama.cpp's `tokenizer_st_partition`: for each
    /// special (longest first), every remaining text fragment is searched left to right.
    func partitionSpecials(_ bytes: UnsafeBufferPointer<UInt8>, parseSpecial: Bool) -> [Fragment] {
        guard !bytes.isEmpty else { return [] }
        var fragments: [Fragment] = [.text(0, bytes.count)]
        @inline(__always) func isSpace(_ b: UInt8) -> Bool { b == 0x20 || (b >= 0x09 && b <= 0x0D) }
        for special in tables.specials {
            if special.needsParseSpecial && !parseSpecial { continue }
            let first = special.bytes[0]
            let n = special.bytes.count
            var found = false
            var next: [Fragment] = []
            for fragment in fragments {
                guard case .text(var start, let end) = fragment else {
                    next.append(fragment)
                    continue
                }
                // Find occurrences of the special in bytes[start..<end].
                var i = start
                while i + n <= end {
                    if bytes[i] != first {
                        i += 1
                        continue
                    }
                    var match = true
                    var k = 1
                    while k < n {
                        if bytes[i + k] != special.bytes[k] {
                            match = false
                            break
                        }
                        k += 1
                    }
                    if !match {
                        i += 1
                        continue
                    }
                    found = true
                    var leftEnd = i
                    if special.lstrip { while leftEnd > start && isSpace(bytes[leftEnd - 1]) { leftEnd -= 1 } }
                    if leftEnd > start { next.append(.text(start, leftEnd)) }
                    next.append(.token(special.id))
                    start = i + n
                    if special.rstrip { while start < end && isSpace(bytes[start]) { start += 1 } }
                    i = start
                }
                if start < end { next.append(.text(start, end)) }
            }
            if found { fragments = next }
        }
        return fragments
    }
}

/// Per-call encoding state: scratch buffers and a cache of words already encoded.
struct BPEEncodeSession {
    let tokenizer: ByteLevelBPETokenizer
    let tables: ByteLevelBPETokenizer.Tables
    let bytes: UnsafeBufferPointer<UInt8>
    var output: [Int32] = []
    var cps: [UInt32] = []
    var cls: [UInt8] = []
    var offsets: [Int32] = []
    var ends: [Int32] = []
    var cache: [[UInt8]: (Int32, Int32)] = [:]
    var cacheIDs: [Int32] = []
    var bpe = BPEWorkspace()

    init(tokenizer: ByteLevelBPETokenizer, bytes: UnsafeBufferPointer<UInt8>) {
        self.tokenizer = tokenizer
        self.tables = tokenizer.tables
        self.bytes = bytes
        output.reserveCapacity(bytes.count / 3 + 4)
    }

    /// Pre-tokenizes and encodes `bytes[start..<end]`.
    mutating func encodeText(start: Int, end: Int) {
        decodeScalars(start: start, end: end)
        ends.removeAll(keepingCapacity: true)
        let count = cps.count
        cps.withUnsafeBufferPointer { cpsBuf in
            cls.withUnsafeBufferPointer { clsBuf in
                PreTokenizerSplit.split(
                    kind: tokenizer.preTokenizer, cps: cpsBuf, cls: clsBuf, start: 0, end: count, ends: &ends)
            }
        }
        var wordStart = 0
        for i in 0..<ends.count {
            let wordEnd = Int(ends[i])
            encodeWord(from: Int(offsets[wordStart]), to: Int(offsets[wordEnd]))
            wordStart = wordEnd
        }
    }

    /// Fills `cps`, `cls` and `offsets` (byte offset of each code point, plus the end) for a range
    /// of the input. Invalid UTF-8 bytes become U+FFFD one byte at a time.
    private mutating func decodeScalars(start: Int, end: Int) {
        cps.removeAll(keepingCapacity: true)
        cls.removeAll(keepingCapacity: true)
        offsets.removeAll(keepingCapacity: true)
        var i = start
        let b = bytes
        while i < end {
            offsets.append(Int32(i))
            let b0 = UInt32(b[i])
            var cp: UInt32 = 0xFFFD
            var len = 1
            if b0 < 0x80 {
                cp = b0
            } else if b0 & 0xE0 == 0xC0, i + 1 < end, b[i + 1] & 0xC0 == 0x80 {
                cp = (b0 & 0x1F) << 6 | UInt32(b[i + 1] & 0x3F)
                len = 2
            } else if b0 & 0xF0 == 0xE0, i + 2 < end, b[i + 1] & 0xC0 == 0x80, b[i + 2] & 0xC0 == 0x80 {
                cp = (b0 & 0x0F) << 12 | UInt32(b[i + 1] & 0x3F) << 6 | UInt32(b[i + 2] & 0x3F)
                len = 3
            } else if b0 & 0xF8 == 0xF0, i + 3 < end, b[i + 1] & 0xC0 == 0x80, b[i + 2] & 0xC0 == 0x80,
                b[i + 3] & 0xC0 == 0x80
            {
                cp = (b0 & 0x07) << 18 | UInt32(b[i + 1] & 0x3F) << 12 | UInt32(b[i + 2] & 0x3F) << 6
                    | UInt32(b[i + 3] & 0x3F)
                len = 4
            }
            cps.append(cp)
            cls.append(BPECharClass.of(cp))
            i += len
        }
        offsets.append(Int32(end))
    }

    /// Encodes one word, `bytes[start..<end]`.
    private mutating func encodeWord(from start: Int, to end: Int) {
        if end - start == 1 {
            let id = tables.idOfByte[Int(bytes[start])]
            if id >= 0 { output.append(id) }
            return
        }
        let key = Array(UnsafeBufferPointer(rebasing: bytes[start..<end]))
        if tokenizer.ignoreMerges, let id = tables.idOfBytes[key] {
            output.append(id)
            return
        }
        if let (s, n) = cache[key] {
            output.append(contentsOf: cacheIDs[Int(s)..<Int(s + n)])
            return
        }
        let s = Int32(cacheIDs.count)
        bpe.run(bytes: UnsafeBufferPointer(rebasing: bytes[start..<end]), tables: tables, into: &cacheIDs)
        let n = Int32(cacheIDs.count) - s
        cache[key] = (s, n)
        output.append(contentsOf: cacheIDs[Int(s)..<Int(s + n)])
    }
}

/// BPE merging of one word with a min-heap of candidate pairs ordered by (rank, position), the
/// order llama.cpp and HF `tokenizers` use.
struct BPEWorkspace {
    var ids: [Int32] = []
    var prev: [Int32] = []
    var next: [Int32] = []
    /// Heap entries: rank << 32 | left position, with the pair's ids alongside.
    var heapKeys: [UInt64] = []
    var heapPairs: [UInt64] = []

    mutating func run(bytes: UnsafeBufferPointer<UInt8>, tables: ByteLevelBPETokenizer.Tables, into out: inout [Int32]) {
        let n = bytes.count
        guard n >= 2 else {
            if n == 1, tables.idOfByte[Int(bytes[0])] >= 0 { out.append(tables.idOfByte[Int(bytes[0])]) }
            return
        }
        ids.removeAll(keepingCapacity: true)
        prev.removeAll(keepingCapacity: true)
        next.removeAll(keepingCapacity: true)
        heapKeys.removeAll(keepingCapacity: true)
        heapPairs.removeAll(keepingCapacity: true)
        for i in 0..<n {
            ids.append(tables.idOfByte[Int(bytes[i])])
            prev.append(Int32(i - 1))
            next.append(i + 1 < n ? Int32(i + 1) : -1)
        }
        for i in 0..<(n - 1) { push(left: i, right: i + 1, tables: tables) }
        while let (key, pair) = pop() {
            let left = Int(key & 0xFFFF_FFFF)
            let right = Int(next[left])
            let leftID = Int32(bitPattern: UInt32(pair >> 32))
            let rightID = Int32(bitPattern: UInt32(pair & 0xFFFF_FFFF))
            // Stale entry: one side has been merged since it was pushed.
            guard right >= 0, ids[left] == leftID, ids[right] == rightID else { continue }
            let merged = tables.merges[pair]!
            ids[left] = Int32(bitPattern: UInt32(merged & 0xFFFF_FFFF))
            ids[right] = -2  // dead
            let after = next[right]
            next[left] = after
            if after >= 0 { prev[Int(after)] = Int32(left) }
            if prev[left] >= 0 { push(left: Int(prev[left]), right: left, tables: tables) }
            if after >= 0 { push(left: left, right: Int(after), tables: tables) }
        }
        var i = 0
        while i >= 0 && i < n {
            if ids[i] >= 0 { out.append(ids[i]) }
            i = Int(next[i])
        }
    }

    @inline(__always)
    private mutating func push(left: Int, right: Int, tables: ByteLevelBPETokenizer.Tables) {
        let l = ids[left], r = ids[right]
        guard l >= 0, r >= 0 else { return }
        let pair = UInt64(UInt32(bitPattern: l)) << 32 | UInt64(UInt32(bitPattern: r))
        guard let merged = tables.merges[pair] else { return }
        let key = (merged >> 32) << 32 | UInt64(left)
        heapKeys.append(key)
        heapPairs.append(pair)
        var c = heapKeys.count - 1
        while c > 0 {
            let p = (c - 1) / 2
            if heapKeys[p] <= heapKeys[c] { break }
            heapKeys.swapAt(p, c)
            heapPairs.swapAt(p, c)
            c = p
        }
    }

    private mutating func pop() -> (UInt64, UInt64)? {
        guard let top = heapKeys.first else { return nil }
        let topPair = heapPairs[0]
        let lastKey = heapKeys.removeLast()
        let lastPair = heapPairs.removeLast()
        if !heapKeys.isEmpty {
            heapKeys[0] = lastKey
            heapPairs[0] = lastPair
            var p = 0
            let count = heapKeys.count
            while true {
                let l = 2 * p + 1
                if l >= count { break }
                var c = l
                if l + 1 < count && heapKeys[l + 1] < heapKeys[l] { c = l + 1 }
                if heapKeys[p] <= heapKeys[c] { break }
                heapKeys.swapAt(p, c)
                heapPairs.swapAt(p, c)
                p = c
            }
        }
        return (top, topPair)
    }
}
