// rlhub — `add`: n-digit addition, the smallest verifiable task ("12+34=" → "46").
import RLHubCore

/// `add:digits=2`: prompt `12+34=`, answer `46`; `style=question` asks
/// `What is 12 + 34? Answer with just the number.` (for chat models; the problems are the same).
///
/// Operands have exactly `digits` digits (0...9 when `digits` is 1). Sums are computed on digit
/// strings, so any `digits` works without overflow. Strict replies must be only the integer
/// (sign and leading zeros allowed, `-0` = `0`); with `lenient` the last number in the reply is
/// taken (`The answer is 46.` → 46, `1,234` → 1234).
public struct AddTask: RLTask {
    static let declaredParameters = [
        TaskParameter("digits", .integer(1...20), default: "2", "digits of each operand"),
        TaskParameter("style", .choice(["expr", "question"]), default: "expr", "prompt: 12+34= or a question"),
        TaskParameter.lenient, TaskParameter.format,
    ]

    public let parameters: TaskParameters
    public let formatReward: Double
    let digits: Int
    let lenient: Bool
    let question: Bool
    private let source: ProblemSource

    init(_ parameters: TaskParameters) {
        self.parameters = parameters
        digits = parameters.int("digits")
        lenient = parameters.flag("lenient")
        question = parameters.string("style") == "question"
        formatReward = parameters.double("format")
        let key = "add:digits=\(digits)"
        // 1 digit: 10 × 10 pairs; 2 digits: 90 × 90; more is sampled.
        let operands = digits == 1 ? 10 : 90
        source =
            digits <= 2
            ? ProblemSource(enumerated: operands * operands, key: key) : ProblemSource(sampledWithKey: key)
    }

    public var name: String { "add" }
    public var maxTurns: Int { 1 }
    public var maxNewTokensHint: Int { digits + 1 + 8 }
    public var rewardDescription: String {
        "1 if the reply is the sum (\(lenient ? "last number in the reply" : "whole reply")), "
            + "else \(TaskParameters.render(formatReward)) for a well-formed integer, else 0"
    }

    public func problemCount(_ split: Split) -> Int? { source.count(split) }

    public func problemKey(split: Split, index: Int) -> String {
        let (a, b) = problem(split, index)
        return "\(a)+\(b)"
    }

    public func makeEnvironment(split: Split, index: Int) -> any Environment {
        let (a, b) = problem(split, index)
        let sum = BigInteger(unsignedDigits: BigInteger.addDigits(a, b))
        let lenient = lenient
        let prompt = question ? "What is \(a) + \(b)? Answer with just the number." : "\(a)+\(b)="
        return SingleTurnEnvironment(prompt: prompt, expected: sum.description, formatReward: formatReward) {
            reply in
            let text = AnswerText.clean(reply)
            guard let answer = lenient ? AnswerText.lastInteger(in: text) : BigInteger(text) else { return .malformed }
            return Verdict(correct: answer == sum, wellFormed: true, parsed: answer.description)
        }
    }

    public func goldDemonstration(split: Split, index: Int, seed: UInt64) -> [ChatMessage] {
        let (a, b) = problem(split, index)
        return [
            ChatMessage(role: "user", content: "\(a)+\(b)="),
            ChatMessage(role: "assistant", content: BigInteger.addDigits(a, b)),
        ]
    }

    // MARK: - Problems

    /// Numbers with exactly `digits` digits: 0...9 for one digit, else 10^(d-1) ..< 10^d.
    private var operandCount: Int { digits == 1 ? 10 : 9 * pow10(digits - 1) }

    /// The two operands as digit strings.
    private func problem(_ split: Split, _ index: Int) -> (String, String) {
        if source.isEnumerated {
            let id = source.id(split, index)
            let low = digits == 1 ? 0 : pow10(digits - 1)
            return (String(low + id / operandCount), String(low + id % operandCount))
        }
        return source.sample(
            split, index, canonical: { "\($0.0)+\($0.1)" },
            generate: { rng in
                (randomOperand(&rng), randomOperand(&rng))
            })
    }

    private func randomOperand(_ rng: inout SplitMix64) -> String {
        var s = String(rng.int(in: 1...9))
        for _ in 1..<digits { s += String(rng.below(10)) }
        return s
    }
}

/// 10^n for small n.
func pow10(_ n: Int) -> Int {
    var v = 1
    for _ in 0..<n { v *= 10 }
    return v
}
