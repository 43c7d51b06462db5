// rlhub — the one strict JSON parser of the LM layer (safetensors headers, tokenizer.json).
import Foundation
import RLHubCore


/// A parsed JSON value. Objects keep their members in order, duplicates included, so callers can
/// report duplicates by name; numbers keep their text so integers are exact.
///
/// Why not Foundation: on Linux `JSONSerialization` bridges the numbers 0 and 1 to `Bool` and
/// drops a U+FEFF at the start of a string, and `JSONDecoder` into an enum is about 20 times
/// slower on a 50k-token vocabulary. Used by safetensors headers and `tokenizer.json`.
indirect enum StrictJSON {
    case object([(String, StrictJSON)])
    case array([StrictJSON])
    case string(String)
    case number(String)
    case bool(Bool)
    case null

    var kind: String {
        switch self {
        case .object: "an object"
        case .array: "an array"
        case .string: "a string"
        case .number(let text): "the number \(text)"
        case .bool(let value): "\(value)"
        case .null: "null"
        }
    }
}

/// A strict RFC 8259 parser over bytes; errors give the file offset of the offending byte.
struct StrictJSONReader {
    static let maxDepth = 64

    let bytes: UnsafeRawBufferPointer
    let path: String
    let fileOffset: Int
    var position = 0

    init(bytes: UnsafeRawBufferPointer, path: String, fileOffset: Int) {
        self.bytes = bytes
        self.path = path
        self.fileOffset = fileOffset
    }

    func error(_ message: String, at index: Int? = nil) -> InputError {
        InputError(file: path, offset: fileOffset + (index ?? position), message: message)
    }

    /// One value, then only whitespace (the format pads headers with spaces).
    mutating func parseDocument() throws(InputError) -> StrictJSON {
        let value = try parseValue(depth: 0)
        skipWhitespace()
        guard position == bytes.count else {
            throw error("unexpected \(describe(bytes[position])) after the JSON value")
        }
        return value
    }

    private func describe(_ byte: UInt8) -> String {
        byte >= 0x21 && byte < 0x7F
            ? "'\(Character(Unicode.Scalar(byte)))'" : "byte 0x\(String(byte, radix: 16))"
    }

    private mutating func skipWhitespace() {
        while position < bytes.count {
            switch bytes[position] {
            case 0x20, 0x09, 0x0A, 0x0D: position += 1
            default: return
            }
        }
    }

    private mutating func parseValue(depth: Int) throws(InputError) -> StrictJSON {
        guard depth < Self.maxDepth else {
            throw error("JSON nested deeper than \(Self.maxDepth) levels")
        }
        skipWhitespace()
        guard position < bytes.count else { throw error("JSON ends early") }
        switch bytes[position] {
        case UInt8(ascii: "{"): return try parseObject(depth: depth)
        case UInt8(ascii: "["): return try parseArray(depth: depth)
        case UInt8(ascii: "\""): return .string(try parseString())
        case UInt8(ascii: "t"):
            try expectLiteral("true")
            return .bool(true)
        case UInt8(ascii: "f"):
            try expectLiteral("false")
            return .bool(false)
        case UInt8(ascii: "n"):
            try expectLiteral("null")
            return .null
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return try parseNumber()
        case let byte: throw error("unexpected \(describe(byte)) where a JSON value should be")
        }
    }

    private mutating func expect(_ byte: UInt8, _ what: String) throws(InputError) {
        skipWhitespace()
        guard position < bytes.count else {
            throw error("JSON ends early, expected \(what)")
        }
        guard bytes[position] == byte else {
            throw error("expected \(what), found \(describe(bytes[position]))")
        }
        position += 1
    }

    /// Consumes `byte` (after whitespace) if it is next.
    private mutating func consume(_ byte: UInt8) -> Bool {
        skipWhitespace()
        guard position < bytes.count, bytes[position] == byte else { return false }
        position += 1
        return true
    }

    private mutating func parseObject(depth: Int) throws(InputError) -> StrictJSON {
        position += 1  // "{"
        var members: [(String, StrictJSON)] = []
        if consume(UInt8(ascii: "}")) { return .object(members) }
        repeat {
            skipWhitespace()
            guard position < bytes.count else {
                throw error("JSON ends early, expected a string key")
            }
            guard bytes[position] == UInt8(ascii: "\"") else {
                throw error("expected a string key, found \(describe(bytes[position]))")
            }
            let key = try parseString()
            try expect(UInt8(ascii: ":"), "':'")
            members.append((key, try parseValue(depth: depth + 1)))
        } while consume(UInt8(ascii: ","))
        try expect(UInt8(ascii: "}"), "',' or '}'")
        return .object(members)
    }

    private mutating func parseArray(depth: Int) throws(InputError) -> StrictJSON {
        position += 1  // "["
        var elements: [StrictJSON] = []
        if consume(UInt8(ascii: "]")) { return .array(elements) }
        repeat {
            elements.append(try parseValue(depth: depth + 1))
        } while consume(UInt8(ascii: ","))
        try expect(UInt8(ascii: "]"), "',' or ']'")
        return .array(elements)
    }

    private mutating func expectLiteral(_ literal: StaticString) throws(InputError) {
        let start = position
        let count = literal.utf8CodeUnitCount
        guard bytes.count - position >= count else { throw error("invalid literal", at: start) }
        for i in 0..<count where bytes[position + i] != literal.utf8Start[i] {
            throw error("invalid literal", at: start)
        }
        position += count
    }

    private mutating func parseNumber() throws(InputError) -> StrictJSON {
        let start = position
        func isDigit(_ index: Int) -> Bool {
            index < bytes.count && bytes[index] >= UInt8(ascii: "0")
                && bytes[index] <= UInt8(ascii: "9")
        }
        func digits() throws(InputError) {
            guard isDigit(position) else { throw error("malformed number", at: start) }
            while isDigit(position) { position += 1 }
        }
        if bytes[position] == UInt8(ascii: "-") { position += 1 }
        if position < bytes.count, bytes[position] == UInt8(ascii: "0") {
            position += 1
        } else {
            try digits()
        }
        if position < bytes.count, bytes[position] == UInt8(ascii: ".") {
            position += 1
            try digits()
        }
        if position < bytes.count, bytes[position] | 0x20 == UInt8(ascii: "e") {
            position += 1
            if position < bytes.count,
                bytes[position] == UInt8(ascii: "+") || bytes[position] == UInt8(ascii: "-")
            {
                position += 1
            }
            try digits()
        }
        let text = String(
            decoding: UnsafeRawBufferPointer(rebasing: bytes[start..<position]),
            as: UTF8.self)
        return .number(text)
    }

    private mutating func parseString() throws(InputError) -> String {
        let start = position
        position += 1  // opening quote
        var utf8: [UInt8] = []
        while true {
            guard position < bytes.count else { throw error("unterminated string", at: start) }
            let byte = bytes[position]
            switch byte {
            case UInt8(ascii: "\""):
                position += 1
                guard let text = String(validating: utf8, as: UTF8.self) else {
                    throw error("string is not valid UTF-8", at: start)
                }
                return text
            case UInt8(ascii: "\\"):
                try parseEscape(into: &utf8)
            case 0..<0x20:
                throw error("unescaped control character in string")
            default:
                utf8.append(byte)
                position += 1
            }
        }
    }

    private mutating func parseEscape(into utf8: inout [UInt8]) throws(InputError) {
        let start = position
        position += 1  // backslash
        guard position < bytes.count else { throw error("unterminated escape", at: start) }
        let byte = bytes[position]
        position += 1
        switch byte {
        case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): utf8.append(byte)
        case UInt8(ascii: "b"): utf8.append(0x08)
        case UInt8(ascii: "f"): utf8.append(0x0C)
        case UInt8(ascii: "n"): utf8.append(0x0A)
        case UInt8(ascii: "r"): utf8.append(0x0D)
        case UInt8(ascii: "t"): utf8.append(0x09)
        case UInt8(ascii: "u"):
            var code = try hex4(start)
            if code >= 0xD800 && code < 0xDC00 {
                // A high surrogate must be followed by an escaped low surrogate.
                guard bytes.count - position >= 2, bytes[position] == UInt8(ascii: "\\"),
                    bytes[position + 1] == UInt8(ascii: "u")
                else { throw error("unpaired surrogate in \\u escape", at: start) }
                position += 2
                let low = try hex4(start)
                guard low >= 0xDC00 && low < 0xE000 else {
                    throw error("unpaired surrogate in \\u escape", at: start)
                }
                code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00)
            }
            guard let scalar = Unicode.Scalar(code) else {
                throw error("unpaired surrogate in \\u escape", at: start)
            }
            UTF8.encode(scalar) { utf8.append($0) }
        default:
            throw error("invalid escape \\\(Character(Unicode.Scalar(byte)))", at: start)
        }
    }

    private mutating func hex4(_ escapeStart: Int) throws(InputError) -> UInt32 {
        guard bytes.count - position >= 4 else {
            throw error("truncated \\u escape", at: escapeStart)
        }
        var code: UInt32 = 0
        for _ in 0..<4 {
            let byte = bytes[position]
            let digit: UInt8
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = byte - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = byte - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = byte - UInt8(ascii: "A") + 10
            default: throw error("invalid hex digit in \\u escape", at: escapeStart)
            }
            code = code << 4 | UInt32(digit)
            position += 1
        }
        return code
    }
}

extension StrictJSON {
    var isNull: Bool { if case .null = self { return true } else { return false } }
    var string: String? { if case .string(let s) = self { return s } else { return nil } }
    var bool: Bool? { if case .bool(let b) = self { return b } else { return nil } }
    var array: [StrictJSON]? { if case .array(let a) = self { return a } else { return nil } }
    /// The members as a dictionary (a repeated key keeps its last value).
    var object: [String: StrictJSON]? {
        guard case .object(let members) = self else { return nil }
        return Dictionary(members, uniquingKeysWith: { _, last in last })
    }
    /// An integer: exact integer text, or an integral number below 1e15.
    var int: Int? {
        guard case .number(let text) = self else { return nil }
        if let i = Int(text) { return i }
        if let d = Double(text), d.rounded() == d, abs(d) < 1e15 { return Int(d) }
        return nil
    }
    var double: Double? { if case .number(let text) = self { return Double(text) } else { return nil } }

    /// Parses a whole document (an optional UTF-8 byte-order mark first); errors name `path` and
    /// the byte offset.
    static func parse(_ data: Data, path: String) throws(InputError) -> StrictJSON {
        let result: Result<StrictJSON, InputError> = data.withUnsafeBytes { raw in
            let bom = raw.count >= 3 && raw[0] == 0xEF && raw[1] == 0xBB && raw[2] == 0xBF ? 3 : 0
            var reader = StrictJSONReader(bytes: UnsafeRawBufferPointer(rebasing: raw[bom...]), path: path, fileOffset: bom)
            do throws(InputError) { return .success(try reader.parseDocument()) } catch { return .failure(error) }
        }
        return try result.get()
    }
}
