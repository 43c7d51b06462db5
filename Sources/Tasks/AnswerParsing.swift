// rlhub — answer extraction shared by the verifiers.
//
// Policy (every verifier): work on UTF-8 bytes; only ASCII `0`-`9` are digits (fullwidth or
// Arabic-Indic digits are not numbers); text from the first end marker on is dropped; leading
// and trailing ASCII whitespace is ignored. Integers have any length (digit strings, no overflow),
// `-0` equals `0`, and leading zeros are ignored.

/// Cleaning and token scanning over assistant replies.
enum AnswerText {
    /// End-of-turn markers a generator may leave in the text; everything from the first is dropped.
    static let endMarkers = ["<|im_end|>", "<|endoftext|>", "<|eot_id|>", "</s>"]

    /// The reply before the first end marker, without surrounding whitespace.
    static func clean(_ reply: String) -> String {
        var bytes = Array(reply.utf8)
        for marker in endMarkers {
            if let at = firstOffset(of: Array(marker.utf8), in: bytes) { bytes.removeSubrange(at...) }
        }
        return String(decoding: bytes, as: UTF8.self).trimmingASCIIWhitespace()
    }

    /// Byte offset of the first occurrence of `needle` in `haystack`.
    static func firstOffset(of needle: [UInt8], in haystack: [UInt8], from start: Int = 0) -> Int? {
        guard !needle.isEmpty, haystack.count >= needle.count else { return nil }
        var i = start
        while i + needle.count <= haystack.count {
            if haystack[i] == needle[0] && haystack[i..<i + needle.count].elementsEqual(needle) { return i }
            i += 1
        }
        return nil
    }

    static func isDigit(_ b: UInt8) -> Bool { b >= 0x30 && b <= 0x39 }
    static func isLower(_ b: UInt8) -> Bool { b >= 0x61 && b <= 0x7A }
    static func isLetter(_ b: UInt8) -> Bool { isLower(b) || (b >= 0x41 && b <= 0x5A) }
    static func isSpace(_ b: UInt8) -> Bool { b == 0x20 || (b >= 0x09 && b <= 0x0D) }

    /// The last number in `text`: optional sign (only where it cannot be a binary minus), digits
    /// with optional `,ddd` groups, optional `.digits`. Returns the token's text.
    static func lastNumberToken(in text: String) -> String? {
        let b = Array(text.utf8)
        var last: Range<Int>?
        var i = 0
        while i < b.count {
            guard isDigit(b[i]) else {
                i += 1
                continue
            }
            var start = i
            var j = i
            while j < b.count && isDigit(b[j]) { j += 1 }
            // Thousands groups: ",ddd" not followed by another digit.
            while j + 4 <= b.count, b[j] == 0x2C, isDigit(b[j + 1]), isDigit(b[j + 2]), isDigit(b[j + 3]),
                j + 4 == b.count || !isDigit(b[j + 4])
            {
                j += 4
            }
            if j + 1 < b.count, b[j] == 0x2E, isDigit(b[j + 1]) {
                j += 1
                while j < b.count && isDigit(b[j]) { j += 1 }
            }
            // A sign counts when it does not follow an operand (so "12-5" ends in 5, not -5).
            if start > 0, b[start - 1] == 0x2D || b[start - 1] == 0x2B {
                let before: UInt8? = start >= 2 ? b[start - 2] : nil
                if before.map({ !(isDigit($0) || isLetter($0) || $0 == 0x29) }) ?? true { start -= 1 }
            }
            last = start..<j
            i = j
        }
        return last.map { String(decoding: b[$0], as: UTF8.self) }
    }

    /// The last integer in `text` (a number token whose fraction, if any, is all zeros).
    static func lastInteger(in text: String) -> BigInteger? {
        guard let token = lastNumberToken(in: text) else { return nil }
        var t = token.filter { $0 != "," }
        if let dot = t.firstIndex(of: ".") {
            guard t[t.index(after: dot)...].allSatisfy({ $0 == "0" }) else { return nil }
            t = String(t[..<dot])
        }
        return BigInteger(t)
    }

    /// The last maximal run of ASCII letters in `text`.
    static func lastWord(in text: String) -> String? {
        let b = Array(text.utf8)
        var j = b.count
        while j > 0 && !isLetter(b[j - 1]) { j -= 1 }
        guard j > 0 else { return nil }
        var i = j
        while i > 0 && isLetter(b[i - 1]) { i -= 1 }
        return String(decoding: b[i..<j], as: UTF8.self)
    }
}

extension String {
    /// Drops leading and trailing ASCII whitespace (space, tab, LF, VT, FF, CR).
    func trimmingASCIIWhitespace() -> String {
        let bytes = Array(utf8)
        var lo = 0
        var hi = bytes.count
        while lo < hi && AnswerText.isSpace(bytes[lo]) { lo += 1 }
        while hi > lo && AnswerText.isSpace(bytes[hi - 1]) { hi -= 1 }
        return String(decoding: bytes[lo..<hi], as: UTF8.self)
    }
}

// MARK: - Integers of any length

/// A decimal integer of any length (sign and digits, normalised: no leading zeros, no `-0`).
struct BigInteger: Equatable, Comparable, Sendable, CustomStringConvertible {
    let negative: Bool
    /// ASCII digits, most significant first; `[0x30]` for zero.
    let digits: [UInt8]

    /// Parses `[+-]?[0-9]+` exactly (ASCII only); `nil` for anything else.
    init?(_ text: some StringProtocol) {
        var b = Array(text.utf8)
        var negative = false
        if let first = b.first, first == 0x2D || first == 0x2B {
            negative = first == 0x2D
            b.removeFirst()
        }
        guard !b.isEmpty, b.allSatisfy(AnswerText.isDigit) else { return nil }
        let firstNonZero = b.firstIndex { $0 != 0x30 } ?? b.count - 1
        let digits = Array(b[firstNonZero...])
        self.digits = digits
        self.negative = negative && digits != [0x30]
    }

    init(_ value: Int) {
        self.init(unsignedDigits: String(value.magnitude), negative: value < 0)
    }

    /// From a non-negative digit string known to be valid.
    init(unsignedDigits: String, negative: Bool = false) {
        let b = Array(unsignedDigits.utf8)
        let firstNonZero = b.firstIndex { $0 != 0x30 } ?? b.count - 1
        digits = Array(b[firstNonZero...])
        self.negative = negative && digits != [0x30]
    }

    var description: String { (negative ? "-" : "") + String(decoding: digits, as: UTF8.self) }

    static func < (a: BigInteger, b: BigInteger) -> Bool {
        if a.negative != b.negative { return a.negative }
        let magnitudeLess =
            a.digits.count != b.digits.count
            ? a.digits.count < b.digits.count : a.digits.lexicographicallyPrecedes(b.digits)
        let equal = a.digits == b.digits
        return a.negative ? (!magnitudeLess && !equal) : magnitudeLess
    }

    /// Sum of two non-negative digit strings (schoolbook, any length).
    static func addDigits(_ x: String, _ y: String) -> String {
        let a = Array(x.utf8.reversed())
        let b = Array(y.utf8.reversed())
        var out: [UInt8] = []
        var carry: UInt8 = 0
        for i in 0..<max(a.count, b.count) {
            let s = (i < a.count ? a[i] - 0x30 : 0) + (i < b.count ? b[i] - 0x30 : 0) + carry
            out.append(0x30 + s % 10)
            carry = s / 10
        }
        if carry > 0 { out.append(0x30 + carry) }
        return String(decoding: out.reversed(), as: UTF8.self)
    }
}
