// rlhub — `reverse`: reverse a word of lowercase letters ("reverse abcde" → "edcba").
import RLHubCore

/// `reverse:length=5`: prompt `reverse hello`, answer `olleh`.
///
/// Strict replies are exactly the reversed word. With `lenient` the last run of ASCII letters in
/// the reply is taken (`The reverse is "olleh".`). Comparison is case-sensitive; a reply is
/// well-formed when the compared word is all lowercase letters.
public struct ReverseTask: RLTask {
    static let declaredParameters = [
        TaskParameter("length", .integer(1...20), default: "5", "letters in the word"),
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
        let key = "reverse:length=\(length)"
        // 26^length words: enumerated up to length 3.
        let size = length <= 3 ? (0..<length).reduce(1) { r, _ in r * 26 } : 0
        source = length <= 3 ? ProblemSource(enumerated: size, key: key) : ProblemSource(sampledWithKey: key)
    }

    public var name: String { "reverse" }
    public var maxTurns: Int { 1 }
    public var maxNewTokensHint: Int { length + 8 }
    public var rewardDescription: String {
        "1 if the reply (\(lenient ? "its last word" : "whole")) is the word reversed, "
            + "else \(TaskParameters.render(formatReward)) for a lowercase word, else 0"
    }

    public func problemCount(_ split: Split) -> Int? { source.count(split) }

    public func problemKey(split: Split, index: Int) -> String { "reverse " + problem(split, index) }

    public func makeEnvironment(split: Split, index: Int) -> any Environment {
        let word = problem(split, index)
        let reversed = String(word.reversed())
        let lenient = lenient
        return SingleTurnEnvironment(prompt: "reverse " + word, expected: reversed, formatReward: formatReward) {
            reply in
            let text = AnswerText.clean(reply)
            let answer = lenient ? AnswerText.lastWord(in: text) ?? "" : text
            guard !answer.isEmpty, answer.utf8.allSatisfy(AnswerText.isLower) else { return .malformed }
            return Verdict(correct: answer == reversed, wellFormed: true, parsed: answer)
        }
    }

    public func goldDemonstration(split: Split, index: Int, seed: UInt64) -> [ChatMessage] {
        let word = problem(split, index)
        return [
            ChatMessage(role: "user", content: "reverse " + word),
            ChatMessage(role: "assistant", content: String(word.reversed())),
        ]
    }

    // MARK: - Problems

    private func problem(_ split: Split, _ index: Int) -> String {
        if source.isEnumerated {
            var id = source.id(split, index)
            var letters: [UInt8] = []
            for _ in 0..<length {
                letters.append(0x61 + UInt8(id % 26))
                id /= 26
            }
            return String(decoding: letters, as: UTF8.self)
        }
        return source.sample(
            split, index, canonical: { $0 },
            generate: { rng in
                String(decoding: (0..<length).map { _ in 0x61 + UInt8(rng.below(26)) }, as: UTF8.self)
            })
    }
}
