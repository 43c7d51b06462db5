// rlhub — `countdown`: reach a target from given numbers with + - * / (TinyZero's countdown
// task, verified by exact evaluation instead of `eval`).
import RLHubCore

/// `countdown:count=3,max=10`: prompt `Make 16 from 3 5 2 with + - * /, each number at most
/// once.`, answer `(3+5)*2`.
///
/// Problems are made by building a random expression over 2...count of the given numbers (no
/// negative or fractional intermediate values), so a solution always exists; the gold
/// demonstration is that expression. The verifier parses the reply with ``ExpressionParser``
/// (integers, + - * /, parentheses; no unary minus) in exact rational arithmetic and checks that
/// every literal is one of the given numbers, each used at most as often as it is given, and that
/// the value is the target. A trailing `= N` is allowed when N is the target. With `lenient` the
/// last line is taken, anything up to its last `:` dropped, surrounding `*`, `` ` `` and `$`
/// stripped, and `×`/`÷` read as `*`/`/`.
public struct CountdownTask: RLTask {
    static let declaredParameters = [
        TaskParameter("count", .integer(3...4), default: "3", "numbers given"),
        TaskParameter("max", .integer(2...100), default: "10", "largest number given (numbers are 1...max)"),
        TaskParameter.lenient, TaskParameter.format,
    ]

    /// Largest target generated.
    static let maxTarget = 999

    public let parameters: TaskParameters
    public let formatReward: Double
    let count: Int
    let maxNumber: Int
    let lenient: Bool
    private let source: ProblemSource

    init(_ parameters: TaskParameters) {
        self.parameters = parameters
        count = parameters.int("count")
        maxNumber = parameters.int("max")
        lenient = parameters.flag("lenient")
        formatReward = parameters.double("format")
        source = ProblemSource(sampledWithKey: "countdown:count=\(count),max=\(maxNumber)")
    }

    public var name: String { "countdown" }
    public var maxTurns: Int { 1 }
    public var maxNewTokensHint: Int { count * String(maxNumber).count + 3 * count + 8 }
    public var rewardDescription: String {
        "1 if the expression uses only the given numbers (each at most once) and equals the target, "
            + "else \(TaskParameters.render(formatReward)) for a parseable expression, else 0"
    }

    struct Problem {
        /// In the order shown.
        var numbers: [Int]
        var target: Int
        var solution: String
        var canonical: String { numbers.sorted().map(String.init).joined(separator: ",") + "->" + String(target) }
        var prompt: String {
            let shown = numbers.map(String.init).joined(separator: " ")
            return "Make \(target) from \(shown) with + - * /, each number at most once."
        }
    }

    public func problemCount(_ split: Split) -> Int? { nil }

    public func problemKey(split: Split, index: Int) -> String { problem(split, index).canonical }

    public func makeEnvironment(split: Split, index: Int) -> any Environment {
        let p = problem(split, index)
        let lenient = lenient
        return SingleTurnEnvironment(prompt: p.prompt, expected: p.solution, formatReward: formatReward) { reply in
            CountdownTask.verify(reply, numbers: p.numbers, target: p.target, lenient: lenient)
        }
    }

    public func goldDemonstration(split: Split, index: Int, seed: UInt64) -> [ChatMessage] {
        let p = problem(split, index)
        return [ChatMessage(role: "user", content: p.prompt), ChatMessage(role: "assistant", content: p.solution)]
    }

    // MARK: - Verifier

    static func verify(_ reply: String, numbers: [Int], target: Int, lenient: Bool) -> Verdict {
        var text = AnswerText.clean(reply)
        if lenient { text = relax(text) }
        // Optional "= target" claim.
        let sides = text.split(separator: "=", omittingEmptySubsequences: false)
        guard sides.count <= 2 else { return .malformed }
        let expression = String(sides[0]).trimmingASCIIWhitespace()
        var parser = ExpressionParser()
        guard let result = try? parser.evaluate(expression) else { return .malformed }
        if sides.count == 2 {
            guard let claim = BigInteger(String(sides[1]).trimmingASCIIWhitespace()) else { return .malformed }
            guard claim == BigInteger(target) else { return Verdict(correct: false, wellFormed: true, parsed: text) }
        }
        var available = numbers.map(String.init)
        for literal in result.literals {
            guard let i = available.firstIndex(of: literal) else {
                return Verdict(correct: false, wellFormed: true, parsed: expression)
            }
            available.remove(at: i)
        }
        let correct = result.value == Rational(Int64(target))
        return Verdict(correct: correct, wellFormed: true, parsed: expression)
    }

    /// Lenient pre-processing: last non-empty line, after its last `:`, without markdown wrappers.
    static func relax(_ text: String) -> String {
        var line = text.split(whereSeparator: \.isNewline).last.map(String.init) ?? ""
        if let colon = line.lastIndex(of: ":") { line = String(line[line.index(after: colon)...]) }
        line = line.replacing("×", with: "*").replacing("÷", with: "/")
        // An expression starts with a digit or "(" and ends with a digit or ")", so stray
        // markdown and punctuation at either end can go.
        var b = Array(line.utf8)[...]
        func isWrapper(_ c: UInt8) -> Bool { AnswerText.isSpace(c) || c == 0x2A || c == 0x60 || c == 0x24 || c == 0x2E }
        while let f = b.first, isWrapper(f) { b = b.dropFirst() }
        while let l = b.last, isWrapper(l) { b = b.dropLast() }
        return String(decoding: b, as: UTF8.self)
    }

    // MARK: - Problems

    private indirect enum Node {
        case number(Int)
        case binary(UInt8, Node, Node)

        var precedence: Int {
            switch self {
            case .number: return 3
            case .binary(let op, _, _): return op == 0x2B || op == 0x2D ? 1 : 2
            }
        }

        /// Text with only the parentheses precedence requires.
        var text: String {
            guard case .binary(let op, let l, let r) = self else {
                if case .number(let n) = self { return String(n) }
                return ""
            }
            let left = l.precedence < precedence ? "(\(l.text))" : l.text
            let rightNeedsParens =
                r.precedence < precedence || (r.precedence == precedence && (op == 0x2D || op == 0x2F))
            let right = rightNeedsParens ? "(\(r.text))" : r.text
            return left + String(UnicodeScalar(op)) + right
        }
    }

    private func problem(_ split: Split, _ index: Int) -> Problem {
        source.sample(split, index, canonical: \.canonical) { rng in generate(&rng) }
    }

    /// One candidate, or `nil` when the random expression breaks a rule (then the next attempt).
    private func generate(_ rng: inout SplitMix64) -> Problem? {
        let numbers = (0..<count).map { _ in rng.int(in: 1...maxNumber) }
        // Fisher-Yates, then use the first k numbers.
        var order = Array(0..<count)
        for i in stride(from: count - 1, to: 0, by: -1) { order.swapAt(i, rng.below(i + 1)) }
        let k = rng.int(in: 2...count)
        var items: [(node: Node, value: Int)] = order.prefix(k).map { (.number(numbers[$0]), numbers[$0]) }
        while items.count > 1 {
            let b = items.remove(at: rng.below(items.count))
            let a = items.remove(at: rng.below(items.count))
            let ops: [UInt8] = [0x2B, 0x2D, 0x2A, 0x2F]
            let op = ops[rng.below(4)]
            let value: Int
            switch op {
            case 0x2B: value = a.value + b.value
            case 0x2D: value = a.value - b.value
            case 0x2A: value = a.value * b.value
            default:
                guard b.value != 0, a.value % b.value == 0 else { return nil }
                value = a.value / b.value
            }
            guard value >= 0 else { return nil }
            items.append((.binary(op, a.node, b.node), value))
        }
        let target = items[0].value
        guard target >= 1, target <= CountdownTask.maxTarget, !numbers.contains(target) else { return nil }
        return Problem(numbers: numbers, target: target, solution: items[0].node.text)
    }
}
