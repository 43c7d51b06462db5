// rlhub — `calc`: arithmetic with a calculator tool (`<calc>expr</calc>`), after TRL's
// tool-calling environments and verifiers' ToolEnv.
import RLHubCore

/// `calc:digits=2,style=expr,turns=3`: compute a three-operand expression or word problem, with
/// a calculator.
///
/// Prompt: `Compute 37*24-15. Use <calc>expr</calc> if needed, then reply Answer: N.` (or a word
/// problem in place of `Compute …`). Each assistant turn is one of:
/// * a final answer: `Answer: N` (or `answer is N`, `\boxed{N}`; or a reply that is only a number)
///   outside any calc tags: verified, episode over. N may be an integer, a decimal or a fraction;
///   it is compared exactly.
/// * otherwise a tool call: the first `<calc>…</calc>` is evaluated exactly (integers, decimals,
///   + - * /, parentheses, unary minus) and the environment answers with a `tool` message holding
///   only the result (`873`, `2.5`, `7/3`) or `error: …` (also for a missing `</calc>`). A call on
///   the last allowed turn ends the episode with reward 0.
/// * otherwise malformed: reward 0, episode over.
///
/// Gold demonstration: `<calc>37*24-15</calc>` → tool `873` → `Answer: 873`.
public struct CalcTask: RLTask {
    static let declaredParameters = [
        TaskParameter("digits", .integer(1...6), default: "2", "digits of each operand"),
        TaskParameter("style", .choice(["expr", "word"]), default: "expr", "bare expression or word problem"),
        TaskParameter("turns", .integer(2...10), default: "3", "most assistant turns (tool calls + answer)"),
        TaskParameter.format,
    ]

    public let parameters: TaskParameters
    public let formatReward: Double
    let digits: Int
    let wordProblems: Bool
    let turns: Int
    private let source: ProblemSource

    init(_ parameters: TaskParameters) {
        self.parameters = parameters
        digits = parameters.int("digits")
        wordProblems = parameters.string("style") == "word"
        turns = parameters.int("turns")
        formatReward = parameters.double("format")
        source = ProblemSource(sampledWithKey: "calc:digits=\(digits),style=\(parameters.string("style"))")
    }

    public var name: String { "calc" }
    public var maxTurns: Int { turns }
    public var maxNewTokensHint: Int { 13 + 3 * digits + 4 + 8 }
    public var rewardDescription: String {
        "1 if the final Answer equals the exact result; a wrong number: \(TaskParameters.render(formatReward)); "
            + "no answer within \(turns) turns or malformed: 0"
    }

    struct Problem {
        var question: String
        var expression: String
        var answer: Int64
        var canonical: String
        var prompt: String { question + " Use <calc>expr</calc> if needed, then reply Answer: N." }
    }

    public func problemCount(_ split: Split) -> Int? { nil }

    public func problemKey(split: Split, index: Int) -> String { problem(split, index).canonical }

    public func makeEnvironment(split: Split, index: Int) -> any Environment {
        let p = problem(split, index)
        return CalcEnvironment(prompt: p.prompt, answer: p.answer, maxTurns: turns, formatReward: formatReward)
    }

    public func goldDemonstration(split: Split, index: Int, seed: UInt64) -> [ChatMessage] {
        let p = problem(split, index)
        return [
            ChatMessage(role: "user", content: p.prompt),
            ChatMessage(role: "assistant", content: "<calc>\(p.expression)</calc>"),
            ChatMessage(role: "tool", content: String(p.answer)),
            ChatMessage(role: "assistant", content: "Answer: \(p.answer)"),
        ]
    }

    // MARK: - Problems

    /// Word problems over operands a, b, c, with the expression they ask for.
    private static let templates: [@Sendable (Int64, Int64, Int64) -> (text: String, expression: String)] = [
        { a, b, c in ("\(a) boxes hold \(b) pens each. \(c) pens are lost. How many pens are left?", "\(a)*\(b)-\(c)")
        },
        { a, b, c in ("\(a) people pay \(b) dollars each, plus a \(c) dollar fee. What is the total?", "\(a)*\(b)+\(c)")
        },
        { a, b, c in
            ("Ann has \(a) coins and gets \(b) bags of \(c) coins. How many coins does she have?", "\(a)+\(b)*\(c)")
        },
        { a, b, c in
            ("There are \(a) red and \(b) blue boxes with \(c) balls each. How many balls?", "(\(a)+\(b))*\(c)")
        },
    ]

    private func problem(_ split: Split, _ index: Int) -> Problem {
        source.sample(split, index, canonical: \.canonical) { rng in generate(&rng) }
    }

    private func generate(_ rng: inout SplitMix64) -> Problem? {
        func operand() -> Int64 {
            digits == 1 ? Int64(rng.int(in: 2...9)) : Int64(rng.int(in: pow10(digits - 1)...(pow10(digits) - 1)))
        }
        let (a, b, c) = (operand(), operand(), operand())
        let question: String
        let expression: String
        let canonical: String
        if wordProblems {
            let t = rng.below(CalcTask.templates.count)
            (question, expression) = CalcTask.templates[t](a, b, c)
            canonical = "word\(t):\(a),\(b),\(c)"
        } else {
            // Two operators from + - *, grouped left or right, parentheses only where needed.
            let ops: [(symbol: String, precedence: Int)] = [("+", 1), ("-", 1), ("*", 2)]
            let (o1, o2) = (ops[rng.below(3)], ops[rng.below(3)])
            if rng.below(2) == 0 {
                let left = o1.precedence < o2.precedence ? "(\(a)\(o1.symbol)\(b))" : "\(a)\(o1.symbol)\(b)"
                expression = left + o2.symbol + String(c)
            } else {
                let parens = o2.precedence < o1.precedence || (o2.precedence == o1.precedence && o1.symbol == "-")
                let right = parens ? "(\(b)\(o2.symbol)\(c))" : "\(b)\(o2.symbol)\(c)"
                expression = String(a) + o1.symbol + right
            }
            question = "Compute \(expression)."
            canonical = expression
        }
        var parser = ExpressionParser()
        guard let value = try? parser.evaluate(expression).value, value.isInteger, !wordProblems || value.num >= 0
        else { return nil }
        return Problem(question: question, expression: expression, answer: value.num, canonical: canonical)
    }
}

/// One calculator conversation.
struct CalcEnvironment: Environment {
    let prompt: String
    let answer: Int64
    let maxTurns: Int
    let formatReward: Double
    private var turn = 0
    private var started = false

    init(prompt: String, answer: Int64, maxTurns: Int, formatReward: Double) {
        self.prompt = prompt
        self.answer = answer
        self.maxTurns = maxTurns
        self.formatReward = formatReward
    }

    mutating func reset(seed: UInt64) -> [ChatMessage] {
        turn = 0
        started = true
        return [ChatMessage(role: "user", content: prompt)]
    }

    mutating func step(_ action: String) -> StepResult {
        precondition(started, "call reset(seed:) before step(_:), and not again after done")
        turn += 1
        let reply = CalcReply(AnswerText.clean(action))
        if let final = reply.answer {
            started = false
            let correct = final.value.map { $0 == Rational(answer) } ?? false
            let verdict = Verdict(correct: correct, wellFormed: true, parsed: final.text)
            return finalResult(verdict, formatReward: formatReward, turn: turn, expected: String(answer))
        }
        guard let call = reply.call else {
            started = false
            return finalResult(.malformed, formatReward: formatReward, turn: turn, expected: String(answer))
        }
        var info = ["turn": String(turn), "call": call.expression ?? ""]
        if turn >= maxTurns {
            started = false
            info["outcome"] = Outcome.timeout
            info["expected"] = String(answer)
            return StepResult(observation: nil, reward: 0, done: true, info: info)
        }
        info["outcome"] = Outcome.ongoing
        return StepResult(
            observation: [ChatMessage(role: "tool", content: call.result)], reward: 0, done: false, info: info)
    }
}

/// An assistant turn of `calc`, split into its first tool call and its final answer.
struct CalcReply {
    struct Call {
        /// Text between the tags (`nil` when `</calc>` is missing).
        var expression: String?
        /// The tool message: the exact value or `error: …`.
        var result: String
    }

    struct Answer {
        var text: String
        /// `nil` when the number does not fit an Int64 fraction (then it is simply wrong).
        var value: Rational?
    }

    var call: Call?
    var answer: Answer?

    private static let open = Array("<calc>".utf8)
    private static let close = Array("</calc>".utf8)

    init(_ text: String) {
        let bytes = Array(text.utf8)
        // Text outside the tags; an unclosed <calc> swallows the rest.
        var outside: [UInt8] = []
        var i = 0
        while i < bytes.count {
            guard let o = AnswerText.firstOffset(of: CalcReply.open, in: bytes, from: i) else {
                outside += bytes[i...]
                break
            }
            outside += bytes[i..<o]
            let contentStart = o + CalcReply.open.count
            guard let c = AnswerText.firstOffset(of: CalcReply.close, in: bytes, from: contentStart) else {
                if call == nil { call = Call(expression: nil, result: "error: missing </calc>") }
                break
            }
            if call == nil {
                let expression = String(decoding: bytes[contentStart..<c], as: UTF8.self).trimmingASCIIWhitespace()
                var parser = ExpressionParser(allowUnaryMinus: true, allowDecimals: true)
                let result: String
                do { result = try parser.evaluate(expression).value.description } catch { result = "error: \(error)" }
                call = Call(expression: expression, result: result)
            }
            i = c + CalcReply.close.count
        }
        answer = CalcReply.findAnswer(outside)
    }

    /// The number after the last `answer` (`Answer: 42`, `the answer is 42`) or `\boxed{` that is
    /// followed by one; else the whole text if it is a number.
    static func findAnswer(_ bytes: [UInt8]) -> Answer? {
        let lower = bytes.map { $0 >= 0x41 && $0 <= 0x5A ? $0 + 0x20 : $0 }
        var candidates: [Int] = []
        for marker in ["answer", "\\boxed{"] {
            let m = Array(marker.utf8)
            var from = 0
            while let at = AnswerText.firstOffset(of: m, in: lower, from: from) {
                candidates.append(at + m.count)
                from = at + 1
            }
        }
        for start in candidates.sorted(by: >) {
            var j = start
            func skip() {
                while j < lower.count, [0x20, 0x09, 0x0A, 0x3A, 0x2A, 0x3D, 0x24].contains(lower[j]) { j += 1 }
            }
            skip()
            if j + 2 < lower.count, lower[j] == 0x69, lower[j + 1] == 0x73, !AnswerText.isLetter(lower[j + 2]) {
                j += 2  // "is"
                skip()
            }
            if let number = number(in: bytes, at: j) { return number.answer }
        }
        let whole = String(decoding: bytes, as: UTF8.self).trimmingASCIIWhitespace()
        if let number = number(in: Array(whole.utf8), at: 0), number.end == whole.utf8.count { return number.answer }
        return nil
    }

    /// A number at `start`: sign, digits with optional `,ddd` groups, then `.digits` or `/digits`.
    private static func number(in b: [UInt8], at start: Int) -> (answer: Answer, end: Int)? {
        var j = start
        var negative = false
        if j < b.count, b[j] == 0x2D || b[j] == 0x2B {
            negative = b[j] == 0x2D
            j += 1
        }
        let digitsStart = j
        var digits: [UInt8] = []
        while j < b.count && AnswerText.isDigit(b[j]) {
            digits.append(b[j])
            j += 1
        }
        guard !digits.isEmpty else { return nil }
        while j + 4 <= b.count, b[j] == 0x2C, b[j + 1...j + 3].allSatisfy(AnswerText.isDigit),
            j + 4 == b.count || !AnswerText.isDigit(b[j + 4])
        {
            digits += b[j + 1...j + 3]
            j += 4
        }
        var numerator = BigInteger(unsignedDigits: String(decoding: digits, as: UTF8.self))
        var denominator = BigInteger(1)
        if j + 1 < b.count, b[j] == 0x2E || b[j] == 0x2F, AnswerText.isDigit(b[j + 1]) {
            let isFraction = b[j] == 0x2F
            j += 1
            var more: [UInt8] = []
            while j < b.count && AnswerText.isDigit(b[j]) {
                more.append(b[j])
                j += 1
            }
            if isFraction {
                denominator = BigInteger(unsignedDigits: String(decoding: more, as: UTF8.self))
            } else {
                numerator = BigInteger(unsignedDigits: String(decoding: digits + more, as: UTF8.self))
                denominator = BigInteger(unsignedDigits: "1" + String(repeating: "0", count: more.count))
            }
        }
        let text = (negative ? "-" : "") + String(decoding: b[digitsStart..<j], as: UTF8.self)
        var value: Rational?
        if numerator.digits.count <= 18, denominator.digits.count <= 18, let n = Int64(numerator.description),
            let d = Int64(denominator.description)
        {
            value = Rational(negative ? -n : n, d)
        }
        return (Answer(text: text, value: value), j)
    }
}
