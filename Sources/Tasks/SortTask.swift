// rlhub — `sort`: sort a list of digits ("sort 31415" → "11345").
import RLHubCore

/// `sort:length=5`: prompt `sort 31415`, answer `11345`.
///
/// Strict replies are the sorted digits, either run together (`11345`) or as single digits
/// separated by spaces, commas or semicolons, optionally in brackets (`[1, 1, 3, 4, 5]`); nothing
/// else. With `lenient` the last run of digits and separators in the reply is taken
/// (`Sorted: 1, 1, 3, 4, 5.`).
public struct SortTask: RLTask {
    static let declaredParameters = [
        TaskParameter("length", .integer(1...20), default: "5", "digits in the list"),
        TaskParameter.lenient, TaskParameter.format,
    ]

    public let parameters: TaskParameters
    public let formatReward: Double
    let length: Int
    let lenient: Bool
    private let source: ProblemSource

    init(_ parameters: TaskParameters) {
        self.parameters = parameters
        length = parameters.int("length")
        lenient = parameters.flag("lenient")
        formatReward = parameters.double("format")
        let key = "sort:length=\(length)"
        // 10^length lists: enumerated up to length 4.
        source = length <= 4 ? ProblemSource(enumerated: pow10(length), key: key) : ProblemSource(sampledWithKey: key)
    }

    public var name: String { "sort" }
    public var maxTurns: Int { 1 }
    public var maxNewTokensHint: Int { 2 * length + 8 }
    public var rewardDescription: String {
        "1 if the reply (\(lenient ? "its last digit list" : "whole")) is the digits in ascending order, "
            + "else \(TaskParameters.render(formatReward)) for a well-formed digit list, else 0"
    }

    public func problemCount(_ split: Split) -> Int? { source.count(split) }

    public func problemKey(split: Split, index: Int) -> String { "sort " + problem(split, index) }

    public func makeEnvironment(split: Split, index: Int) -> any Environment {
        let digits = problem(split, index)
        let sorted = String(digits.sorted())
        let lenient = lenient
        return SingleTurnEnvironment(prompt: "sort " + digits, expected: sorted, formatReward: formatReward) { reply in
            let text = AnswerText.clean(reply)
            guard let list = SortTask.parseDigitList(lenient ? SortTask.lastDigitList(in: text) : text) else {
                return .malformed
            }
            let parsed = String(decoding: list, as: UTF8.self)
            return Verdict(correct: parsed == sorted, wellFormed: true, parsed: parsed)
        }
    }

    public func goldDemonstration(split: Split, index: Int, seed: UInt64) -> [ChatMessage] {
        let digits = problem(split, index)
        return [
            ChatMessage(role: "user", content: "sort " + digits),
            ChatMessage(role: "assistant", content: String(digits.sorted())),
        ]
    }

    // MARK: - Verifier

    /// `11345`, `1 1 3 4 5`, `1,1,3,4,5` or `[1, 1, 3, 4, 5]` → the digits; `nil` otherwise
    /// (including multi-digit items such as `11 345`).
    static func parseDigitList(_ text: String) -> [UInt8]? {
        var b = Array(text.utf8)[...]
        if b.count >= 2, (b.first == 0x5B && b.last == 0x5D) || (b.first == 0x28 && b.last == 0x29) {
            b = b.dropFirst().dropLast()
        }
        guard !b.isEmpty else { return nil }
        if b.allSatisfy(AnswerText.isDigit) { return Array(b) }
        var out: [UInt8] = []
        var previousWasDigit = false
        for c in b {
            if AnswerText.isDigit(c) {
                if previousWasDigit { return nil }
                out.append(c)
                previousWasDigit = true
            } else if isSeparator(c) {
                previousWasDigit = false
            } else {
                return nil
            }
        }
        return out.isEmpty ? nil : out
    }

    /// The last run of digits and separators that contains a digit, separators trimmed.
    static func lastDigitList(in text: String) -> String {
        let b = Array(text.utf8)
        guard let end = b.lastIndex(where: AnswerText.isDigit) else { return "" }
        var start = end
        while start > 0 && (AnswerText.isDigit(b[start - 1]) || isSeparator(b[start - 1])) { start -= 1 }
        while isSeparator(b[start]) { start += 1 }
        return String(decoding: b[start...end], as: UTF8.self)
    }

    private static func isSeparator(_ c: UInt8) -> Bool { c == 0x20 || c == 0x2C || c == 0x3B || c == 0x09 }

    // MARK: - Problems

    private func problem(_ split: Split, _ index: Int) -> String {
        if source.isEnumerated {
            let id = String(source.id(split, index))
            return String(repeating: "0", count: length - id.count) + id
        }
        return source.sample(
            split, index, canonical: { $0 },
            generate: { rng in
                String((0..<length).map { _ in Character(String(rng.below(10))) })
            })
    }
}
