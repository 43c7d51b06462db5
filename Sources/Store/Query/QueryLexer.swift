// rlhub — the lexer of the store's query language (`--where`, `--sort`): characters to tokens, each
// with the 1-based column where it starts, so that every error can point at the bad token.
import GRDB
import RLHubCore

/// One token of a `--where` or `--sort` expression.
struct QueryToken: Sendable, Equatable {
    enum Kind: Sendable, Equatable {
        /// A bare name, `[A-Za-z_][A-Za-z0-9_]*`: a keyword (`and`, `in`, …) or a run field (`algo`).
        case word(String)
        /// A dotted field `head.tail` (`config.opt.beta`, `final.reward/mean`); the tail starts at
        /// column `tailColumn` and is checked by ``RunField/resolve(_:source:)``.
        case dotted(head: String, tail: String, tailColumn: Int)
        /// A quoted string, with doubled quotes already undone.
        case string(String)
        /// An integer (`Int64`) or a real (`Double`).
        case number(DatabaseValue)
        /// One of `= != <> < <= > >= ( ) , -`.
        case symbol(String)
        /// The end of the input (its column is one past the last character).
        case end
    }

    var kind: Kind
    /// 1-based, counted in characters.
    var column: Int
    /// The token as the user wrote it.
    var text: String

    /// Whether the token is the keyword `keyword` (given in lower case; keywords ignore case).
    func isKeyword(_ keyword: String) -> Bool {
        if case .word(let word) = kind { return word.lowercased() == keyword }
        return false
    }

    func isSymbol(_ symbol: String) -> Bool { kind == .symbol(symbol) }

    /// The token for a message: `'text'` (shortened, invisible characters spelled out) or `the end`.
    var described: String {
        if kind == .end { return "the end" }
        var shown = text.count > 24 ? String(text.prefix(24)) + "…" : text
        shown = QueryLexer.visible(shown)
        switch kind {
        case .string: return shown
        default: return "'\(shown)'"
        }
    }
}

/// Splits a query into ``QueryToken``s.
///
/// - Whitespace separates tokens and is otherwise ignored.
/// - A name starts with a letter or `_` and continues with letters, digits and `_`. A name directly
///   followed by `.` is a dotted field, whose tail runs to the next whitespace or one of
///   `= ! < > ( ) , ' "`: so `final.reward/mean>0.5` is a field, `>` and `0.5`, while `-` and `/`
///   stay inside the tail (`final.loss-1` is the metric `loss-1`).
/// - A number is `-`? digits (`.` digits?)? (`e` [+-]? digits)?, or starts with `.` (`-.5`); a
///   number directly followed by a letter, digit, `_` or `.` (`1.2.3`, `5x`) is an error. Integers
///   that fit 64 bits stay integers; the rest are reals.
/// - Strings are quoted with `'` or `"`; the quote itself is written twice inside (`'it''s'`).
/// - `-` not followed by a digit or `.digit` is a symbol (the descending mark of `--sort`).
enum QueryLexer {
    /// Characters that end the tail of a dotted field.
    static let tailStops: Set<Character> = ["=", "!", "<", ">", "(", ")", ",", "'", "\""]

    static func isNameStart(_ c: Character) -> Bool { c.isASCII && (c.isLetter || c == "_") }
    static func isNameCharacter(_ c: Character) -> Bool {
        c.isASCII && (c.isLetter || c.isNumber || c == "_")
    }
    static func isDigit(_ c: Character) -> Bool { c >= "0" && c <= "9" }

    /// A character as a message shows it: printable ASCII and letters as is, the rest as `U+XXXX`.
    static func visible(_ c: Character) -> String {
        if c.isASCII, let v = c.asciiValue, v >= 0x20, v < 0x7F { return String(c) }
        if !c.isASCII, c.isLetter || c.isNumber || c.isPunctuation || c.isSymbol { return String(c) }
        return c.unicodeScalars.map { "U+" + String($0.value, radix: 16, uppercase: true) }
            .joined(separator: " ")
    }

    /// A string as a message shows it, character by character as ``visible(_:)-(Character)``.
    static func visible(_ s: String) -> String { s.map { visible($0) }.joined() }

    /// The tokens of `text`, ending with a `.end` token.
    ///
    /// - Parameter source: the flag named in errors (`--where`, `--sort`).
    /// - Throws: ``InputError`` at the column of an unterminated string, a malformed number or a
    ///   character outside the language.
    static func tokens(_ text: String, source: String) throws(InputError) -> [QueryToken] {
        let chars = Array(text)
        var tokens: [QueryToken] = []
        var i = 0
        func error(_ index: Int, _ message: String) -> InputError {
            InputError(file: source, field: "column \(index + 1)", message: message)
        }
        func at(_ k: Int) -> Character? { k < chars.count ? chars[k] : nil }

        while i < chars.count {
            let c = chars[i]
            let start = i
            if c.isWhitespace {
                i += 1
                continue
            }
            // 1. Names and dotted fields.
            if isNameStart(c) {
                while let d = at(i), isNameCharacter(d) { i += 1 }
                let head = String(chars[start..<i])
                if at(i) == "." {
                    i += 1
                    let tailStart = i
                    while let d = at(i), !d.isWhitespace, !tailStops.contains(d) { i += 1 }
                    let tail = String(chars[tailStart..<i])
                    tokens.append(QueryToken(
                        kind: .dotted(head: head, tail: tail, tailColumn: tailStart + 1),
                        column: start + 1, text: String(chars[start..<i])))
                } else {
                    tokens.append(QueryToken(kind: .word(head), column: start + 1, text: head))
                }
                continue
            }
            // 2. Numbers.
            let next = at(i + 1).map(isDigit) ?? false
            let startsNumber = isDigit(c) || ((c == "-" || c == ".") && next)
                || (c == "-" && at(i + 1) == "." && (at(i + 2).map(isDigit) ?? false))
            if startsNumber {
                var isInteger = true
                if c == "-" { i += 1 }
                while let d = at(i), isDigit(d) { i += 1 }
                if at(i) == "." {
                    isInteger = false
                    i += 1
                    while let d = at(i), isDigit(d) { i += 1 }
                }
                if at(i) == "e" || at(i) == "E" {
                    var k = i + 1
                    if at(k) == "+" || at(k) == "-" { k += 1 }
                    if let d = at(k), isDigit(d) {
                        isInteger = false
                        i = k
                        while let d = at(i), isDigit(d) { i += 1 }
                    }
                }
                if let d = at(i), isNameCharacter(d) || d == "." {
                    while let d = at(i), isNameCharacter(d) || d == "." || d == "-" { i += 1 }
                    throw error(start, "malformed number '\(String(chars[start..<i]))'")
                }
                let literal = String(chars[start..<i])
                let value: DatabaseValue
                if isInteger, let n = Int64(literal) {
                    value = n.databaseValue
                } else if let x = Double(literal), x.isFinite {
                    value = x.databaseValue
                } else {
                    throw error(start, "number '\(literal)' is out of range")
                }
                tokens.append(QueryToken(kind: .number(value), column: start + 1, text: literal))
                continue
            }
            // 3. Strings.
            if c == "'" || c == "\"" {
                var value = ""
                i += 1
                while true {
                    guard let d = at(i) else {
                        throw error(
                            start, "unterminated string (a quote inside a string is written twice: 'it''s')")
                    }
                    i += 1
                    if d == c {
                        if at(i) == c {
                            value.append(c)
                            i += 1
                            continue
                        }
                        break
                    }
                    value.append(d)
                }
                let literal = String(chars[start..<i])
                tokens.append(QueryToken(kind: .string(value), column: start + 1, text: literal))
                continue
            }
            // 4. Operators and punctuation.
            let pair = at(i + 1).map { String(c) + String($0) } ?? ""
            if pair == "==" { throw error(start, "'==' is not an operator; use '='") }
            if ["<=", ">=", "<>", "!="].contains(pair) {
                tokens.append(QueryToken(kind: .symbol(pair), column: start + 1, text: pair))
                i += 2
                continue
            }
            if "=<>(),-".contains(c) {
                tokens.append(QueryToken(kind: .symbol(String(c)), column: start + 1, text: String(c)))
                i += 1
                continue
            }
            if c == "!" { throw error(start, "unexpected character '!' (did you mean '!='?)") }
            throw error(start, "unexpected character '\(visible(c))'")
        }
        tokens.append(QueryToken(kind: .end, column: chars.count + 1, text: ""))
        return tokens
    }
}
