// rlhub — `guess`: multi-turn number guessing with higher/lower feedback.
import RLHubCore

/// `guess:max=100,turns=10`: find a hidden integer in 1...max.
///
/// Conversation: `user` prompt → `assistant` `50` → `user` `higher` → `assistant` `75` → … The
/// episode ends on the correct guess (no feedback message is sent then), on a malformed reply
/// (reward 0) or after `turns` guesses. Reward on success after k guesses: 1 when k is at most
/// the guesses binary search needs in the worst case (`b = floor(log2(max)) + 1`, so the
/// binary-search gold demonstration always earns 1), else `max(0.1, 1 - 0.1·(k - b))`. A failure
/// with every guess well-formed earns the format reward. Guesses out of range get feedback like
/// any other; huge numbers are compared as digit strings.
public struct GuessTask: RLTask {
    static let declaredParameters = [
        TaskParameter("max", .integer(2...10_000), default: "100", "the hidden number is in 1...max"),
        TaskParameter("turns", .integer(1...50), default: "10", "most guesses (at least what binary search needs)"),
        TaskParameter.lenient, TaskParameter.format,
    ]

    public let parameters: TaskParameters
    public let formatReward: Double
    let maxNumber: Int
    let turns: Int
    let lenient: Bool
    /// Guesses binary search needs in the worst case.
    let binarySearchTurns: Int
    private let source: ProblemSource

    init(_ parameters: TaskParameters) throws(InputError) {
        self.parameters = parameters
        maxNumber = parameters.int("max")
        turns = parameters.int("turns")
        lenient = parameters.flag("lenient")
        formatReward = parameters.double("format")
        binarySearchTurns = Int.bitWidth - maxNumber.leadingZeroBitCount
        guard turns >= binarySearchTurns else {
            throw InputError(
                file: "--task", field: "guess",
                message: "turns=\(turns) is below the \(binarySearchTurns) guesses binary search needs for "
                    + "max=\(maxNumber); use turns>=\(binarySearchTurns) or a smaller max")
        }
        source = ProblemSource(enumerated: maxNumber, key: "guess:max=\(maxNumber)")
    }

    public var name: String { "guess" }
    public var maxTurns: Int { turns }
    public var maxNewTokensHint: Int { String(maxNumber).count + 8 }
    public var rewardDescription: String {
        let b = binarySearchTurns
        return "on success after k guesses: 1 if k <= \(b), else max(0.1, 1 - 0.1*(k - \(b))); "
            + "failure: \(TaskParameters.render(formatReward)) if every guess was a number, else 0"
    }

    var prompt: String { "Guess my number from 1 to \(maxNumber). I say higher or lower. Reply with a number." }

    public func problemCount(_ split: Split) -> Int? { source.count(split) }

    public func problemKey(split: Split, index: Int) -> String { "1-\(maxNumber):\(secret(split, index))" }

    public func makeEnvironment(split: Split, index: Int) -> any Environment {
        GuessEnvironment(
            secret: secret(split, index), prompt: prompt, maxTurns: turns, binarySearchTurns: binarySearchTurns,
            lenient: lenient, formatReward: formatReward)
    }

    /// Binary search over 1...max (guess the midpoint, rounding down).
    public func goldDemonstration(split: Split, index: Int, seed: UInt64) -> [ChatMessage] {
        let secret = secret(split, index)
        var messages = [ChatMessage(role: "user", content: prompt)]
        var (low, high) = (1, maxNumber)
        while true {
            let guess = (low + high) / 2
            messages.append(ChatMessage(role: "assistant", content: String(guess)))
            if guess == secret { return messages }
            messages.append(ChatMessage(role: "user", content: guess < secret ? "higher" : "lower"))
            if guess < secret { low = guess + 1 } else { high = guess - 1 }
        }
    }

    /// Reward for success after `turn` guesses.
    static func successReward(turn: Int, binarySearchTurns: Int) -> Double {
        turn <= binarySearchTurns ? 1 : max(0.1, 1 - 0.1 * Double(turn - binarySearchTurns))
    }

    private func secret(_ split: Split, _ index: Int) -> Int { source.id(split, index) + 1 }
}

/// One game of `guess`.
struct GuessEnvironment: Environment {
    let secret: Int
    let prompt: String
    let maxTurns: Int
    let binarySearchTurns: Int
    let lenient: Bool
    let formatReward: Double
    private var turn = 0
    private var started = false

    init(secret: Int, prompt: String, maxTurns: Int, binarySearchTurns: Int, lenient: Bool, formatReward: Double) {
        self.secret = secret
        self.prompt = prompt
        self.maxTurns = maxTurns
        self.binarySearchTurns = binarySearchTurns
        self.lenient = lenient
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
        let text = AnswerText.clean(action)
        var info = ["turn": String(turn), "expected": String(secret)]
        guard let guess = lenient ? AnswerText.lastInteger(in: text) : BigInteger(text) else {
            started = false
            info["outcome"] = Outcome.malformed
            info["parsed"] = ""
            return StepResult(observation: nil, reward: 0, done: true, info: info)
        }
        info["parsed"] = guess.description
        let target = BigInteger(secret)
        if guess == target {
            started = false
            info["outcome"] = Outcome.correct
            let reward = GuessTask.successReward(turn: turn, binarySearchTurns: binarySearchTurns)
            return StepResult(observation: nil, reward: reward, done: true, info: info)
        }
        if turn >= maxTurns {
            started = false
            info["outcome"] = Outcome.timeout
            return StepResult(observation: nil, reward: formatReward, done: true, info: info)
        }
        let feedback = guess < target ? "higher" : "lower"
        info["outcome"] = Outcome.ongoing
        info["feedback"] = feedback
        return StepResult(
            observation: [ChatMessage(role: "user", content: feedback)], reward: 0, done: false, info: info)
    }
}
