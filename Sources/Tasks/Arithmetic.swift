// rlhub — exact rational arithmetic and a small recursive-descent expression parser, shared by
// the `countdown` verifier and the `calc` tool.
//
// Grammar (whitespace between tokens is ignored):
//   expr   := term (('+' | '-') term)*
//   term   := factor (('*' | '/') factor)*
//   factor := number | '(' expr ')' | '-' factor      ('-' factor only with allowUnaryMinus)
//   number := digits ('.' digits)?                    (fraction only with allowDecimals)
// Values are exact fractions of Int64 with every operation overflow-checked, so an expression
// either evaluates exactly or fails with a reason; nothing traps.

/// An exact fraction `num/den` in lowest terms with `den > 0`.
struct Rational: Equatable, Sendable, CustomStringConvertible {
    let num: Int64
    let den: Int64

    /// `nil` when `den == 0` or normalising overflows.
    init?(_ num: Int64, _ den: Int64 = 1) {
        guard den != 0, num != .min, den != .min else { return nil }
        let g = Rational.gcd(num.magnitude, den.magnitude)
        let sign: Int64 = den < 0 ? -1 : 1
        self.num = sign * num / Int64(g)
        self.den = sign * den / Int64(g)
    }

    static func gcd(_ a: UInt64, _ b: UInt64) -> UInt64 {
        var (x, y) = (a, b)
        while y != 0 { (x, y) = (y, x % y) }
        return max(x, 1)
    }

    var isInteger: Bool { den == 1 }

    func adding(_ o: Rational) -> Rational? {
        guard let a = Rational.mul(num, o.den), let b = Rational.mul(o.num, den), let d = Rational.mul(den, o.den)
        else { return nil }
        let (s, overflow) = a.addingReportingOverflow(b)
        return overflow ? nil : Rational(s, d)
    }

    func negated() -> Rational? { Rational(-num, den) }

    func subtracting(_ o: Rational) -> Rational? { o.negated().flatMap { adding($0) } }

    func multiplying(_ o: Rational) -> Rational? {
        // Cross-cancel first so that products of reduced fractions overflow less often.
        let g1 = Int64(Rational.gcd(num.magnitude, o.den.magnitude))
        let g2 = Rational.gcd(o.num.magnitude, den.magnitude)
        guard let n = Rational.mul(num / g1, o.num / Int64(g2)), let d = Rational.mul(den / Int64(g2), o.den / g1)
        else { return nil }
        return Rational(n, d)
    }

    /// `nil` on division by zero or overflow.
    func dividing(by o: Rational) -> Rational? {
        guard o.num != 0, let inverse = Rational(o.den, o.num) else { return nil }
        return multiplying(inverse)
    }

    private static func mul(_ a: Int64, _ b: Int64) -> Int64? {
        let (p, overflow) = a.multipliedReportingOverflow(by: b)
        return overflow ? nil : p
    }

    /// `42`, `-2.5` (when the decimal terminates within 17 places) or `7/3`.
    var description: String {
        if den == 1 { return String(num) }
        var d = den
        while d % 2 == 0 { d /= 2 }
        while d % 5 == 0 { d /= 5 }
        guard d == 1, den <= 100_000_000_000_000_000 else { return "\(num)/\(den)" }
        var rest = num.magnitude % den.magnitude
        var fraction = ""
        while rest != 0 && fraction.count < 17 {
            rest *= 10
            fraction += String(rest / den.magnitude)
            rest %= den.magnitude
        }
        guard rest == 0 else { return "\(num)/\(den)" }
        return (num < 0 ? "-" : "") + String(num.magnitude / den.magnitude) + "." + fraction
    }
}

/// Why an expression did not evaluate (the text is what the `calc` tool reports).
enum ExpressionError: Error, Equatable, CustomStringConvertible {
    case syntax(String)
    case divisionByZero
    case overflow
    case tooDeep

    var description: String {
        switch self {
        case .syntax(let why): return "invalid expression (\(why))"
        case .divisionByZero: return "division by zero"
        case .overflow: return "number too large"
        case .tooDeep: return "too many nested parentheses"
        }
    }
}

/// Recursive-descent evaluator for the grammar at the top of this file.
struct ExpressionParser {
    /// A parsed expression: its exact value and the literals it used, in order.
    struct Result: Equatable {
        var value: Rational
        /// Literal numbers as normalised digit strings (integer literals only are tracked by
        /// `countdown`, which disallows decimals).
        var literals: [String]
    }

    var allowUnaryMinus = false
    var allowDecimals = false
    /// Longest accepted input and deepest parenthesis nesting (adversarial inputs fail, not trap).
    var maxLength = 1_000
    var maxDepth = 64

    private var bytes: [UInt8] = []
    private var pos = 0
    private var depth = 0
    private var literals: [String] = []

    init(allowUnaryMinus: Bool = false, allowDecimals: Bool = false) {
        self.allowUnaryMinus = allowUnaryMinus
        self.allowDecimals = allowDecimals
    }

    /// Evaluates the whole of `text`.
    mutating func evaluate(_ text: String) throws(ExpressionError) -> Result {
        bytes = Array(text.utf8)
        pos = 0
        depth = 0
        literals = []
        guard bytes.count <= maxLength else { throw .syntax("longer than \(maxLength) characters") }
        let value = try expr()
        skipSpace()
        guard pos == bytes.count else { throw .syntax("unexpected '\(rest())'") }
        return Result(value: value, literals: literals)
    }

    private mutating func expr() throws(ExpressionError) -> Rational {
        var value = try term()
        while let op = peek(), op == 0x2B || op == 0x2D {
            pos += 1
            let rhs = try term()
            guard let v = op == 0x2B ? value.adding(rhs) : value.subtracting(rhs) else { throw .overflow }
            value = v
        }
        return value
    }

    private mutating func term() throws(ExpressionError) -> Rational {
        var value = try factor()
        while let op = peek(), op == 0x2A || op == 0x2F {
            pos += 1
            let rhs = try factor()
            if op == 0x2F && rhs.num == 0 { throw .divisionByZero }
            guard let v = op == 0x2A ? value.multiplying(rhs) : value.dividing(by: rhs) else { throw .overflow }
            value = v
        }
        return value
    }

    private mutating func factor() throws(ExpressionError) -> Rational {
        guard let c = peek() else { throw .syntax("unexpected end") }
        if c == 0x28 {
            depth += 1
            guard depth <= maxDepth else { throw .tooDeep }
            pos += 1
            let value = try expr()
            guard peek() == 0x29 else { throw .syntax("missing ')'") }
            pos += 1
            depth -= 1
            return value
        }
        if c == 0x2D && allowUnaryMinus {
            depth += 1
            guard depth <= maxDepth else { throw .tooDeep }
            pos += 1
            guard let v = try factor().negated() else { throw .overflow }
            depth -= 1
            return v
        }
        guard AnswerText.isDigit(c) else { throw .syntax("unexpected '\(rest())'") }
        return try number()
    }

    private mutating func number() throws(ExpressionError) -> Rational {
        let start = pos
        while pos < bytes.count && AnswerText.isDigit(bytes[pos]) { pos += 1 }
        let whole = BigInteger(unsignedDigits: String(decoding: bytes[start..<pos], as: UTF8.self))
        var fraction: [UInt8] = []
        if allowDecimals, pos + 1 < bytes.count, bytes[pos] == 0x2E, AnswerText.isDigit(bytes[pos + 1]) {
            pos += 1
            let f = pos
            while pos < bytes.count && AnswerText.isDigit(bytes[pos]) { pos += 1 }
            fraction = Array(bytes[f..<pos])
            while fraction.last == 0x30 { fraction.removeLast() }
        }
        literals.append(whole.description + (fraction.isEmpty ? "" : "." + String(decoding: fraction, as: UTF8.self)))
        let digits = whole.digits.count + fraction.count
        guard digits <= 18, let n = Int64(whole.description + String(decoding: fraction, as: UTF8.self)) else {
            throw .overflow
        }
        var den: Int64 = 1
        for _ in fraction { den *= 10 }
        guard let v = Rational(n, den) else { throw .overflow }
        return v
    }

    /// Next non-space byte (not consumed).
    private mutating func peek() -> UInt8? {
        skipSpace()
        return pos < bytes.count ? bytes[pos] : nil
    }

    private mutating func skipSpace() {
        while pos < bytes.count && AnswerText.isSpace(bytes[pos]) { pos += 1 }
    }

    private func rest() -> String {
        // Echoed into tool messages, which stay ASCII.
        let shown = bytes[pos..<min(bytes.count, pos + 8)].map { $0 < 0x20 || $0 > 0x7E ? UInt8(ascii: "?") : $0 }
        return String(decoding: shown, as: UTF8.self)
    }
}
