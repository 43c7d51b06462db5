// rlhub — a played episode, token-exact, as the trainer consumes it (algorithms.md §10).
import Foundation
import LM
import RLHubCore

/// A run of tokens that one party produced: the policy (trained) or the environment (masked).
public struct TokenSpan: Codable, Sendable, Equatable {
    public enum Source: String, Codable, Sendable { case prompt, policy, environment }
    public var start: Int
    public var length: Int
    public var source: Source
    /// Policy version (optimizer step) that sampled the span; nil for prompt/environment tokens.
    public var policyVersion: Int?
}

/// One episode of a task: the conversation, its exact tokens, the loss mask and the rewards.
///
/// `tokens` is the full sequence the model saw; generated tokens are never re-tokenised. The loss
/// mask is 1 exactly on tokens the policy sampled (including each turn's end token) and 0 on the
/// prompt, on environment/tool observations and on template tokens the runner inserted.
public struct Trajectory: Codable, Sendable, Equatable {
    public var task: String
    public var split: String
    public var problem: Int
    /// Episodes of the same problem share a group id (the unit of group advantage estimators).
    public var groupID: Int
    public var sample: Int
    /// The conversation in OpenAI chat format (system/user/assistant/tool).
    public var messages: [ChatMessage]
    public var tokens: [Int32]
    /// 1 on policy-sampled tokens, 0 elsewhere (same length as `tokens`).
    public var lossMask: [UInt8]
    /// Sampler log-prob of each token (0 where the mask is 0).
    public var samplerLogprobs: [Float]
    public var spans: [TokenSpan]
    /// Reward returned by each environment step.
    public var turnRewards: [Double]
    /// The episode's reward: the sum of its turn rewards.
    public var reward: Double
    public var turns: Int
    /// `done` (the environment ended it), `turn_limit`, `token_budget`.
    public var finishReason: String
    /// The task's verdict on the last turn (`correct`, `wrong`, `malformed`, …), if it gave one.
    public var outcome: String? = nil

    /// Index of the first policy token (the prompt is everything before it).
    public var promptLength: Int { lossMask.firstIndex(of: 1) ?? tokens.count }
    /// Number of policy tokens.
    public var responseLength: Int { lossMask.reduce(0) { $0 + Int($1) } }
    /// Positions of the last token of each policy turn, in order: where each entry of
    /// ``turnRewards`` was earned (one per turn the environment judged).
    public var policyTurnEnds: [Int] {
        spans.filter { $0.source == .policy && $0.length > 0 }.map { $0.start + $0.length - 1 }
    }
    /// Tokens of the longest policy turn (the whole response for a single turn): what a per-turn
    /// limit such as `max_new_tokens` bounds.
    public var longestTurnLength: Int {
        spans.filter { $0.source == .policy }.map(\.length).max() ?? 0
    }
}

extension Trajectory {
    /// Writes trajectories as JSON Lines (one object per line, keys sorted).
    public static func writeJSONL(_ items: [Trajectory], to path: String) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        var data = Data()
        for t in items {
            data.append(try encoder.encode(t))
            data.append(0x0A)
        }
        try AtomicFile.write(data, to: path)
    }

    /// Reads JSON Lines written by ``writeJSONL(_:to:)``; errors name the line.
    public static func readJSONL(_ path: String) throws(InputError) -> [Trajectory] {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw InputError(file: path, message: "cannot read file")
        }
        var out: [Trajectory] = []
        for (i, line) in data.split(separator: 0x0A).enumerated() where !line.isEmpty {
            do {
                let t = try JSONDecoder().decode(Trajectory.self, from: Data(line))
                guard t.tokens.count == t.lossMask.count, t.tokens.count == t.samplerLogprobs.count else {
                    throw InputError(file: path, field: "line \(i + 1)", message: "tokens, lossMask and samplerLogprobs differ in length")
                }
                out.append(t)
            } catch let e as InputError {
                throw e
            } catch {
                throw InputError(file: path, field: "line \(i + 1)", message: "not a trajectory object")
            }
        }
        return out
    }
}
