// rlhub — verifiable tasks: the environment and task protocols every task implements.
//
// Shape after TRL's `environment_factory` and RAGEN's `BaseEnv`: an environment owns its problem
// and its reward; the generator (another target) renders the messages with a chat template,
// samples the assistant turns, and masks observation tokens out of the loss
// (algorithms.md §10). Nothing here knows about tokens.
import RLHubCore

/// Which side of the deterministic train/test partition a problem comes from.
///
/// The partition is a function of each problem's canonical form (``RLTask/problemKey(split:index:)``),
/// so no test problem is ever served as a training problem, for any index.
public enum Split: String, Sendable, CaseIterable, Codable {
    case train
    case test
}

/// What the environment answers to one assistant turn.
public struct StepResult: Sendable, Equatable {
    /// Messages to append after the assistant turn (role `user` for game feedback, `tool` for tool
    /// results), or `nil` when the episode is over.
    public var observation: [ChatMessage]?
    /// Reward for this turn. Every task pays its whole outcome on the final turn and 0 before, so
    /// the sum of turn rewards is the trajectory reward `R_i`.
    public var reward: Double
    /// `true` when the episode is over; `step` must not be called again before `reset`.
    public var done: Bool
    /// Diagnostics for logs (never shown to the model). Keys used by all tasks: `outcome`
    /// (see ``Outcome``), `turn` (1-based assistant turn), `parsed` (the answer as understood, if
    /// any) and `expected` (the reference answer, on the final turn).
    public var info: [String: String]

    public init(observation: [ChatMessage]?, reward: Double, done: Bool, info: [String: String] = [:]) {
        self.observation = observation
        self.reward = reward
        self.done = done
        self.info = info
    }
}

/// Values of `StepResult.info["outcome"]`.
public enum Outcome {
    /// Final answer verified correct (reward 1, or the turn-scaled reward of `guess`).
    public static let correct = "correct"
    /// Well-formed final answer that is wrong (reward = the task's format reward).
    public static let wrong = "wrong"
    /// Unparseable answer or action; the episode ends with reward 0.
    public static let malformed = "malformed"
    /// The turn limit was reached without success: the format reward in `guess` and `frozenlake`
    /// (every turn was well-formed, or the episode would have ended as malformed), 0 in `calc`
    /// (no answer was given).
    public static let timeout = "timeout"
    /// `frozenlake`: the player fell into a hole (the format reward).
    public static let hole = "hole"
    /// Not final: the episode continues (feedback or tool result in the observation).
    public static let ongoing = "ongoing"
}

/// A (possibly multi-turn) episode on one fixed problem; the environment owns the reward.
///
/// ```swift
/// var env = task.makeEnvironment(split: .train, index: 7)
/// var messages = env.reset(seed: 0)            // [user prompt]
/// while true {
///     let reply = policy(messages)              // assistant text, end marker optional
///     messages.append(ChatMessage(role: "assistant", content: reply))
///     let result = env.step(reply)
///     if result.done { print(result.reward); break }
///     messages += result.observation ?? []
/// }
/// ```
public protocol Environment: Sendable {
    /// Starts (or restarts) the episode and returns the first messages (a `user` prompt).
    ///
    /// The problem is fixed when the environment is made; `seed` only drives stochastic dynamics
    /// (slippery `frozenlake`). Samples of one GRPO group should share the seed.
    mutating func reset(seed: UInt64) -> [ChatMessage]
    /// Scores one assistant turn (its text, with or without a trailing end marker such as
    /// `<|im_end|>`).
    ///
    /// - precondition: ``reset(seed:)`` was called and the episode is not done.
    mutating func step(_ action: String) -> StepResult
}

/// A family of verifiable problems: a generator of environments plus gold demonstrations.
///
/// Problems are a pure function of (``spec``, split, index); there is no global random state.
public protocol RLTask: Sendable {
    /// Registry name, such as `add`.
    var name: String { get }
    /// Every parameter of the task, resolved (defaults filled in).
    var parameters: TaskParameters { get }
    /// Most assistant turns in one episode (1 for single-turn tasks).
    var maxTurns: Int { get }
    /// New-token budget per assistant turn that fits the gold answer under the character
    /// tokenizer, with slack for the end marker. Chatty models need a larger budget.
    var maxNewTokensHint: Int { get }
    /// One line saying how the reward is computed.
    var rewardDescription: String { get }
    /// Reward paid for a well-formed but wrong final answer (0 = format reward off).
    var formatReward: Double { get }
    /// Distinct problems in `split`: exact for small enumerated spaces, `nil` for spaces that are
    /// sampled because they are too large to enumerate (indices then never run out, and repeats
    /// are as rare as in sampling with replacement).
    func problemCount(_ split: Split) -> Int?
    /// Canonical form of problem `index` of `split`: equal keys mean the same problem, and the
    /// split is a function of the key.
    func problemKey(split: Split, index: Int) -> String
    /// A fresh environment for problem `index` of `split` (indices wrap for enumerated spaces).
    ///
    /// - precondition: `index >= 0`.
    func makeEnvironment(split: Split, index: Int) -> any Environment
    /// The whole gold conversation (prompt, assistant turns, observations) that earns reward 1.0
    /// when its assistant turns are replayed through `makeEnvironment(...).reset(seed: seed)`.
    /// Only slippery `frozenlake` depends on `seed`.
    func goldDemonstration(split: Split, index: Int, seed: UInt64) -> [ChatMessage]
    /// The episodes of one batch (the default plays one ``makeEnvironment(split:index:)`` each;
    /// an external environment answers the whole batch in one message).
    func makeEnvironmentBatch() -> any EnvironmentBatch
    /// ``goldDemonstration(split:index:seed:)`` of several problems at once.
    ///
    /// - Throws: ``InputError`` when the task cannot give one (an external environment that fails
    ///   or provides no answer for a problem).
    func goldDemonstrations(split: Split, indices: [Int], seed: UInt64) throws(InputError) -> [[ChatMessage]]
}

extension RLTask {
    /// Canonical spec: `name:key=value,...` with keys sorted and defaults filled in (hash this to
    /// identify a configuration).
    public var spec: String { parameters.canonicalSpec(taskName: name) }

    /// Whether a well-formed wrong answer earns a partial reward.
    public var hasFormatReward: Bool { formatReward > 0 }

    public func makeEnvironmentBatch() -> any EnvironmentBatch { LocalEnvironmentBatch(task: self) }

    public func goldDemonstrations(split: Split, indices: [Int], seed: UInt64) throws(InputError) -> [[ChatMessage]] {
        indices.map { goldDemonstration(split: split, index: $0, seed: seed) }
    }

    /// The gold conversation for `reset(seed: 0)`; see ``goldDemonstration(split:index:seed:)``.
    public func goldDemonstration(split: Split, index: Int) -> [ChatMessage] {
        goldDemonstration(split: split, index: index, seed: 0)
    }

    /// Plays one episode with `policy` (given the conversation so far, returns the next assistant
    /// text) and returns the whole conversation and outcome. Used for evaluation and to check
    /// gold demonstrations.
    public func runEpisode(
        split: Split, index: Int, seed: UInt64, policy: ([ChatMessage]) -> String
    ) -> Episode {
        var env = makeEnvironment(split: split, index: index)
        var messages = env.reset(seed: seed)
        var total = 0.0
        for turn in 1...maxTurns {
            let reply = policy(messages)
            messages.append(ChatMessage(role: "assistant", content: reply))
            let result = env.step(reply)
            total += result.reward
            if result.done {
                return Episode(messages: messages, reward: total, turns: turn, info: result.info)
            }
            messages += result.observation ?? []
        }
        preconditionFailure("\(name): environment not done after maxTurns (\(maxTurns)) turns")
    }
}

/// One finished episode (see ``RLTask/runEpisode(split:index:seed:policy:)``).
public struct Episode: Sendable, Equatable {
    /// Prompt, assistant turns and observations, in order.
    public var messages: [ChatMessage]
    /// Sum of the turn rewards.
    public var reward: Double
    /// Assistant turns taken.
    public var turns: Int
    /// `info` of the final step.
    public var info: [String: String]
}

// MARK: - Shared single-turn environment

/// What a verifier concluded about one answer.
struct Verdict: Sendable {
    var correct: Bool
    /// Parsed in the expected format (earns the format reward when wrong).
    var wellFormed: Bool
    /// The answer as understood, for `info["parsed"]`.
    var parsed: String

    static let malformed = Verdict(correct: false, wellFormed: false, parsed: "")
}

/// Prompt once, verify once: `add`, `sort`, `reverse`, `countdown`.
struct SingleTurnEnvironment: Environment {
    let prompt: [ChatMessage]
    let expected: String
    let formatReward: Double
    let verify: @Sendable (String) -> Verdict
    private var started = false

    init(prompt: String, expected: String, formatReward: Double, verify: @escaping @Sendable (String) -> Verdict) {
        self.prompt = [ChatMessage(role: "user", content: prompt)]
        self.expected = expected
        self.formatReward = formatReward
        self.verify = verify
    }

    mutating func reset(seed: UInt64) -> [ChatMessage] {
        started = true
        return prompt
    }

    mutating func step(_ action: String) -> StepResult {
        precondition(started, "call reset(seed:) before step(_:), and not again after done")
        started = false
        let verdict = verify(action)
        return finalResult(verdict, formatReward: formatReward, turn: 1, expected: expected)
    }
}

/// The final `StepResult` for a verdict: 1 if correct, the format reward if only well-formed.
func finalResult(
    _ verdict: Verdict, formatReward: Double, turn: Int, expected: String, correctReward: Double = 1
) -> StepResult {
    let outcome = verdict.correct ? Outcome.correct : verdict.wellFormed ? Outcome.wrong : Outcome.malformed
    let reward = verdict.correct ? correctReward : verdict.wellFormed ? formatReward : 0
    return StepResult(
        observation: nil, reward: reward, done: true,
        info: ["outcome": outcome, "turn": String(turn), "parsed": verdict.parsed, "expected": expected])
}
