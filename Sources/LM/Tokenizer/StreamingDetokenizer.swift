// rlhub — incremental decoding of generated ids that never splits a UTF-8 sequence.

/// Decodes ids one at a time and returns only newly completed text.
///
/// A multi-byte character split across tokens (common for emoji and CJK) is held back until its
/// last byte arrives. The concatenation of all ``push(_:)`` results and ``finish()`` equals
/// `tokenizer.decode(ids, skipSpecial:)` for the same ids.
///
/// ```swift
/// var stream = StreamingDetokenizer(tokenizer: tok)
/// for id in generated { print(stream.push(id), terminator: "") }
/// print(stream.finish())
/// ```
public struct StreamingDetokenizer: Sendable {
    public let tokenizer: any Tokenizer
    public let skipSpecial: Bool
    private var pending: [UInt8] = []

    public init(tokenizer: any Tokenizer, skipSpecial: Bool = false) {
        self.tokenizer = tokenizer
        self.skipSpecial = skipSpecial
    }

    /// Adds one id and returns the text completed by it (possibly empty).
    public mutating func push(_ id: Int32) -> String {
        tokenizer.appendBytes(of: id, skipSpecial: skipSpecial, to: &pending)
        let cut = Self.completePrefixLength(pending)
        guard cut > 0 else { return "" }
        let text = String(decoding: pending[..<cut], as: UTF8.self)
        pending.removeFirst(cut)
        return text
    }

    /// Returns whatever is held back (incomplete sequences become U+FFFD) and resets the stream.
    public mutating func finish() -> String {
        defer { pending.removeAll() }
        return String(decoding: pending, as: UTF8.self)
    }

    /// The length of the prefix that can be decoded now: everything except a trailing lead byte
    /// and the continuation bytes after it, if they do not yet complete the sequence. Cutting just
    /// before a lead (non-continuation) byte never changes how a lossy UTF-8 decoder reads either
    /// side, so streamed text equals the one-shot decode.
    static func completePrefixLength(_ bytes: [UInt8]) -> Int {
        let n = bytes.count
        var i = n - 1
        // Find the last non-continuation byte among the last four.
        while i >= 0 && i >= n - 4 && bytes[i] & 0xC0 == 0x80 { i -= 1 }
        guard i >= 0 && i >= n - 4 else { return n }
        let lead = bytes[i]
        let needed: Int
        switch lead {
        case 0xC2...0xDF: needed = 2
        case 0xE0...0xEF: needed = 3
        case 0xF0...0xF4: needed = 4
        default: needed = 1
        }
        return n - i < needed ? i : n
    }
}
