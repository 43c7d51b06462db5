// rlhub — pre-tokenization for byte-level BPE: GPT-2's byte↔unicode mapping, Unicode character
// classes and hand-written equivalents of the GPT-2, SmolLM and Llama-3 split regexes.

/// How text is split into words before BPE merges are applied.
///
/// The behaviour follows llama.cpp (`llama-vocab.cpp`, `unicode.cpp`) for the matching
/// `tokenizer.ggml.pre` values, which in turn reproduce the HF `tokenizers` pre-tokenizers:
///
/// - ``gpt2``: `'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+`
///   (GGUF `gpt-2`, HF `ByteLevel(use_regex: true)`).
/// - ``smollm``: every `\p{N}` code point is first split off on its own (HF
///   `Digits(individual_digits: true)`), then the GPT-2 regex runs inside each piece
///   (GGUF `smollm`, `starcoder`).
/// - ``llama3``: `(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}|
///   ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+` (GGUF `llama-bpe`, `llama3`), with
///   whole-word vocabulary hits taking precedence over merges.
public enum BPEPreTokenizer: String, Sendable, CaseIterable {
    case gpt2
    case smollm
    case llama3

    /// The kind for a GGUF `tokenizer.ggml.pre` value, `nil` if not supported.
    public init?(ggufPre: String) {
        switch ggufPre {
        case "gpt2", "gpt-2": self = .gpt2
        case "smollm", "starcoder": self = .smollm
        case "llama3", "llama-bpe": self = .llama3
        default: return nil
        }
    }

    /// The words `text` is split into before BPE (for debugging and tests).
    public func split(_ text: String) -> [String] {
        let scalars = Array(text.unicodeScalars)
        let cps = scalars.map(\.value)
        let cls = cps.map(BPECharClass.of)
        var ends: [Int32] = []
        cps.withUnsafeBufferPointer { c in
            cls.withUnsafeBufferPointer { k in
                PreTokenizerSplit.split(kind: self, cps: c, cls: k, start: 0, end: cps.count, ends: &ends)
            }
        }
        var words: [String] = []
        var start = 0
        for end in ends {
            var view = String.UnicodeScalarView()
            view.append(contentsOf: scalars[start..<Int(end)])
            words.append(String(view))
            start = Int(end)
        }
        return words
    }
}

/// GPT-2's reversible mapping of the 256 byte values to printable code points.
enum ByteLevelMapping {
    /// `scalarOfByte[b]` is the code point that byte `b` is written as in token strings.
    static let scalarOfByte: [UInt32] = {
        var table = [UInt32](repeating: 0, count: 256)
        var next: UInt32 = 256
        for b in 0..<256 {
            let printable = (0x21...0x7E).contains(b) || (0xA1...0xAC).contains(b) || (0xAE...0xFF).contains(b)
            if printable {
                table[b] = UInt32(b)
            } else {
                table[b] = next
                next += 1
            }
        }
        return table
    }()

    /// Inverse of ``scalarOfByte``: `byteOfScalar[cp]` for `cp < 324`, -1 where unmapped.
    static let byteOfScalar: [Int16] = {
        var table = [Int16](repeating: -1, count: 324)
        for (b, s) in scalarOfByte.enumerated() { table[Int(s)] = Int16(b) }
        return table
    }()

    /// The byte-level string of raw bytes (what a vocabulary entry looks like).
    static func encode<S: Sequence>(_ bytes: S) -> String where S.Element == UInt8 {
        var s = String.UnicodeScalarView()
        for b in bytes { s.append(Unicode.Scalar(scalarOfByte[Int(b)])!) }
        return String(s)
    }

    /// Raw bytes of a byte-level token string, `nil` if it contains a code point outside the
    /// mapping.
    static func decode(_ token: String) -> [UInt8]? {
        var out: [UInt8] = []
        out.reserveCapacity(token.utf8.count)
        for scalar in token.unicodeScalars {
            let v = Int(scalar.value)
            guard v < byteOfScalar.count, byteOfScalar[v] >= 0 else { return nil }
            out.append(UInt8(byteOfScalar[v]))
        }
        return out
    }
}

/// Character classes the split regexes need, as bit flags.
enum BPECharClass {
    static let letter: UInt8 = 1
    static let number: UInt8 = 2
    static let whitespace: UInt8 = 4

    private static let ascii: [UInt8] = (0..<128).map { slowClass(UInt32($0)) }

    @inline(__always)
    static func of(_ cp: UInt32) -> UInt8 {
        cp < 128 ? ascii[Int(cp)] : slowClass(cp)
    }

    static func slowClass(_ cp: UInt32) -> UInt8 {
        guard let scalar = Unicode.Scalar(cp) else { return 0 }
        let props = scalar.properties
        if props.isWhitespace { return whitespace }
        switch props.generalCategory {
        case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter:
            return letter
        case .decimalNumber, .letterNumber, .otherNumber:
            return number
        default:
            return 0
        }
    }
}

/// Splits one fragment of code points into words. Boundaries are appended to `ends` as code point
/// indices (exclusive end of each word, in order); pieces never cross `start..<end`.
enum PreTokenizerSplit {
    static func split(
        kind: BPEPreTokenizer, cps: UnsafeBufferPointer<UInt32>, cls: UnsafeBufferPointer<UInt8>,
        start: Int, end: Int, ends: inout [Int32]
    ) {
        switch kind {
        case .gpt2:
            gpt2(cps: cps, cls: cls, start: start, end: end, ends: &ends)
        case .llama3:
            llama3(cps: cps, cls: cls, start: start, end: end, ends: &ends)
        case .smollm:
            // First regex `\p{N}`: every number code point is its own piece.
            var pieceStart = start
            var i = start
            while i < end {
                if cls[i] & BPECharClass.number != 0 {
                    if pieceStart < i {
                        gpt2(cps: cps, cls: cls, start: pieceStart, end: i, ends: &ends)
                    }
                    ends.append(Int32(i + 1))
                    pieceStart = i + 1
                }
                i += 1
            }
            if pieceStart < end {
                gpt2(cps: cps, cls: cls, start: pieceStart, end: end, ends: &ends)
            }
        }
    }

    private static let apostrophe: UInt32 = 0x27
    private static let space: UInt32 = 0x20

    /// `'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+`
    static func gpt2(
        cps: UnsafeBufferPointer<UInt32>, cls: UnsafeBufferPointer<UInt8>, start: Int, end: Int,
        ends: inout [Int32]
    ) {
        let L = BPECharClass.letter, N = BPECharClass.number, W = BPECharClass.whitespace
        @inline(__always) func classAt(_ p: Int) -> UInt8? { p < end ? cls[p] : nil }
        var pos = start
        while pos < end {
            let cp = cps[pos]
            // Contractions (lower-case ASCII only, as in the original regex).
            if cp == apostrophe && pos + 1 < end {
                let n1 = cps[pos + 1]
                if n1 == 0x73 || n1 == 0x74 || n1 == 0x6D || n1 == 0x64 {  // s t m d
                    pos += 2
                    ends.append(Int32(pos))
                    continue
                }
                if pos + 2 < end {
                    let n2 = cps[pos + 2]
                    if (n1 == 0x72 && n2 == 0x65) || (n1 == 0x76 && n2 == 0x65) || (n1 == 0x6C && n2 == 0x6C) {
                        pos += 3
                        ends.append(Int32(pos))
                        continue
                    }
                }
            }
            // ` ?X+` for X in letters, numbers, other (not whitespace, letter or number).
            let lead = cp == space ? classAt(pos + 1) : cls[pos]
            if let c = lead {
                var run: UInt8 = 0xFF
                if c & L != 0 { run = L } else if c & N != 0 { run = N } else if c & W == 0 { run = 0 }
                if run != 0xFF {
                    if cp == space { pos += 1 }
                    if run == 0 {
                        while pos < end && cls[pos] & (L | N | W) == 0 { pos += 1 }
                    } else {
                        while pos < end && cls[pos] & run != 0 { pos += 1 }
                    }
                    ends.append(Int32(pos))
                    continue
                }
            }
            // Whitespace: `\s+(?!\S)` leaves the last one for the next word if one follows.
            var n = 0
            while pos + n < end && cls[pos + n] & W != 0 { n += 1 }
            if n > 1 && pos + n < end {
                pos += n - 1
            } else if n > 0 {
                pos += n
            } else {
                pos += 1
            }
            ends.append(Int32(pos))
        }
    }

    /// The Llama-3 regex (see ``BPEPreTokenizer/llama3``).
    static func llama3(
        cps: UnsafeBufferPointer<UInt32>, cls: UnsafeBufferPointer<UInt8>, start: Int, end: Int,
        ends: inout [Int32]
    ) {
        let L = BPECharClass.letter, N = BPECharClass.number, W = BPECharClass.whitespace
        @inline(__always) func lower(_ c: UInt32) -> UInt32 { (c >= 0x41 && c <= 0x5A) ? c + 32 : c }
        @inline(__always) func isCRLF(_ c: UInt32) -> Bool { c == 0x0D || c == 0x0A }
        var pos = start
        while pos < end {
            let cp = cps[pos]
            let c = cls[pos]
            if cp == apostrophe && pos + 1 < end {
                let n1 = lower(cps[pos + 1])
                if n1 == 0x73 || n1 == 0x74 || n1 == 0x6D || n1 == 0x64 {
                    pos += 2
                    ends.append(Int32(pos))
                    continue
                }
                if pos + 2 < end {
                    let n2 = lower(cps[pos + 2])
                    if (n1 == 0x72 && n2 == 0x65) || (n1 == 0x76 && n2 == 0x65) || (n1 == 0x6C && n2 == 0x6C) {
                        pos += 3
                        ends.append(Int32(pos))
                        continue
                    }
                }
            }
            // `[^\r\n\p{L}\p{N}]?\p{L}+`
            if !isCRLF(cp) && c & N == 0 {
                if c & L != 0 || (pos + 1 < end && cls[pos + 1] & L != 0) {
                    pos += 1
                    while pos < end && cls[pos] & L != 0 { pos += 1 }
                    ends.append(Int32(pos))
                    continue
                }
            }
            // `\p{N}{1,3}`
            if c & N != 0 {
                var count = 0
                while pos < end && cls[pos] & N != 0 && count < 3 {
                    pos += 1
                    count += 1
                }
                ends.append(Int32(pos))
                continue
            }
            // ` ?[^\s\p{L}\p{N}]+[\r\n]*`
            let lead: UInt8? = cp == space ? (pos + 1 < end ? cls[pos + 1] : nil) : c
            if let l = lead, l & (L | N | W) == 0 {
                if cp == space { pos += 1 }
                while pos < end && cls[pos] & (L | N | W) == 0 { pos += 1 }
                while pos < end && isCRLF(cps[pos]) { pos += 1 }
                ends.append(Int32(pos))
                continue
            }
            var n = 0
            var lastNewline = -1
            while pos + n < end && cls[pos + n] & W != 0 {
                if isCRLF(cps[pos + n]) { lastNewline = pos + n + 1 }
                n += 1
            }
            if lastNewline >= 0 {
                pos = lastNewline  // `\s*[\r\n]+`
            } else if n > 1 && pos + n < end {
                pos += n - 1  // `\s+(?!\S)`
            } else if n > 0 {
                pos += n  // `\s+`
            } else {
                pos += 1
            }
            ends.append(Int32(pos))
        }
    }
}
