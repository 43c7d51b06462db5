// rlhub — rollout samples: a few whole trajectories per step, with what the trainer made of them
// (advantages, its own log-probs beside the sampler's), so that a run can be read, not only
// plotted. The trainer hands them to its ``MetricSink`` (`logSamples`); the store keeps them
// compressed (Store/RunStore+Samples.swift).
//
// When: at every `samples_every`-th training step (default 10) and at every held-out evaluation.
// Which: `samples_per_step` (default 4) trajectories, at rows ⌊j·B/k⌋, j = 0 … k−1, of the step's
// B rollouts (spread over the groups; the same rows for the same batch), and the first k episodes
// of an evaluation (the same held-out problems every time, so their answers can be followed).
import RLAlgorithms
import Foundation
import Generator
import LM
import RLHubCore

/// One recorded trajectory: the conversation, its tokens, and per token the sampler's and the
/// policy's log-probabilities and the advantage the update used.
///
/// Every per-token array has one entry per element of ``tokens`` (0 on prompt and environment
/// tokens, where ``lossMask`` is 0).
public struct RolloutSample: Codable, Sendable, Equatable {
    /// Where a sample was taken.
    public enum Kind: String, Codable, Sendable, CaseIterable {
        /// A training step's rollouts (before the update of that step).
        case train
        /// A held-out evaluation (greedy), logged at the step it followed.
        case eval
    }

    public var kind: Kind
    /// The task's canonical spec.
    public var task: String
    /// Problem index in its split (train or test).
    public var problem: Int
    /// Group (the unit of group advantages) and sample index within it.
    public var group: Int
    public var sample: Int
    /// The conversation in OpenAI chat format.
    public var messages: [ChatMessage]
    /// Every token of the episode, prompt included.
    public var tokens: [Int32]
    /// The text of each token (its bytes decoded as UTF-8; a piece of a multi-byte character shows
    /// as U+FFFD), so that a page can shade tokens without the tokenizer.
    public var pieces: [String]
    /// 1 on tokens the policy sampled.
    public var lossMask: [UInt8]
    /// log π_sampler(token) as the sampler recorded it.
    public var samplerLogprobs: [Float]
    /// log π_θ_old(token): the trainer's log-prob under the policy before the step's update, at the
    /// training temperature; nil for evaluation samples.
    public var policyLogprobs: [Float]?
    /// A[i,t], the advantage of each token in the update (RL objectives); nil otherwise.
    public var advantages: [Float]?
    /// The episode's reward (after overlong shaping, for training samples).
    public var reward: Double
    /// The task's verdict on the last turn, if any.
    public var outcome: String?
    /// `done`, `turn_limit` or `token_budget`.
    public var finishReason: String
    /// The policy's last turn ended without an end-of-turn token (cut by a token limit).
    public var truncated: Bool
    public var turns: Int

    public init(
        kind: Kind, task: String, problem: Int, group: Int, sample: Int, messages: [ChatMessage], tokens: [Int32],
        pieces: [String], lossMask: [UInt8], samplerLogprobs: [Float], policyLogprobs: [Float]?, advantages: [Float]?,
        reward: Double, outcome: String?, finishReason: String, truncated: Bool, turns: Int
    ) {
        self.kind = kind
        self.task = task
        self.problem = problem
        self.group = group
        self.sample = sample
        self.messages = messages
        self.tokens = tokens
        self.pieces = pieces
        self.lossMask = lossMask
        self.samplerLogprobs = samplerLogprobs
        self.policyLogprobs = policyLogprobs
        self.advantages = advantages
        self.reward = reward
        self.outcome = outcome
        self.finishReason = finishReason
        self.truncated = truncated
        self.turns = turns
    }

    /// Tokens before the first policy token.
    public var promptTokens: Int { lossMask.firstIndex(of: 1) ?? tokens.count }
    /// Tokens the policy sampled.
    public var responseTokens: Int { lossMask.reduce(0) { $0 + Int($1) } }

    /// Mean advantage over the policy's tokens: (Σ_t m_t A_t) / Σ_t m_t; nil without advantages.
    public var meanAdvantage: Double? {
        guard let advantages, responseTokens > 0 else { return nil }
        var sum = 0.0
        for t in tokens.indices where lossMask[t] == 1 { sum += Double(advantages[t]) }
        return sum / Double(responseTokens)
    }

    /// max_t m_t · |log π_θ_old − log π_sampler|: the largest disagreement between trainer and
    /// sampler on one token (what truncated importance sampling corrects); nil without the
    /// policy's log-probs.
    public var maxLogprobGap: Double? {
        guard let policyLogprobs, responseTokens > 0 else { return nil }
        var gap = 0.0
        for t in tokens.indices where lossMask[t] == 1 {
            gap = max(gap, abs(Double(policyLogprobs[t]) - Double(samplerLogprobs[t])))
        }
        return gap
    }

    /// Checks that every per-token array has one entry per token (a stored sample is read back
    /// through this).
    public func validate() throws(InputError) {
        let n = tokens.count
        let lengths: [(String, Int?)] = [
            ("pieces", pieces.count), ("lossMask", lossMask.count), ("samplerLogprobs", samplerLogprobs.count),
            ("policyLogprobs", policyLogprobs?.count), ("advantages", advantages?.count),
        ]
        for (name, count) in lengths {
            if let count, count != n {
                throw InputError(file: "sample", field: name, message: "has \(count) entries for \(n) tokens")
            }
        }
    }

    /// How non-finite numbers (a log-prob of −∞) are written: as the strings `"-inf"`, `"inf"`, `"nan"`.
    static let nonFinite = (positive: "inf", negative: "-inf", nan: "nan")

    /// Compact JSON (sorted keys): the form the store compresses.
    public func encoded() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        encoder.nonConformingFloatEncodingStrategy = .convertToString(
            positiveInfinity: Self.nonFinite.positive, negativeInfinity: Self.nonFinite.negative, nan: Self.nonFinite.nan)
        return try encoder.encode(self)
    }

    /// Reads JSON written by ``encoded()``; the per-token arrays are checked.
    public static func decode(_ data: Data) throws(InputError) -> RolloutSample {
        let sample: RolloutSample
        let decoder = JSONDecoder()
        decoder.nonConformingFloatDecodingStrategy = .convertFromString(
            positiveInfinity: nonFinite.positive, negativeInfinity: nonFinite.negative, nan: nonFinite.nan)
        do { sample = try decoder.decode(RolloutSample.self, from: data) } catch {
            throw InputError(file: "sample", message: "not a rollout sample: \(error)")
        }
        try sample.validate()
        return sample
    }
}

extension RolloutSample {
    /// A sample of a played episode; `policyLogprobs` and `advantages` are per token of `t`.
    init(_ t: Trajectory, kind: Kind, tokenizer: any Tokenizer, truncated: Bool, reward: Double,
         policyLogprobs: [Float]?, advantages: [Float]?) {
        let pieces = t.tokens.map { id -> String in
            var bytes: [UInt8] = []
            tokenizer.appendBytes(of: id, skipSpecial: false, to: &bytes)
            return String(decoding: bytes, as: UTF8.self)
        }
        self.init(
            kind: kind, task: t.task, problem: t.problem, group: t.groupID, sample: t.sample, messages: t.messages,
            tokens: t.tokens, pieces: pieces, lossMask: t.lossMask, samplerLogprobs: t.samplerLogprobs,
            policyLogprobs: policyLogprobs, advantages: advantages, reward: reward, outcome: t.outcome,
            finishReason: t.finishReason, truncated: truncated, turns: t.turns)
    }
}

extension MetricSink {
    /// Default: samples are not kept (a sink that keeps them overrides this).
    public func logSamples(step: Int, samples: [RolloutSample]) {}
}

extension RLTrainer {
    /// Training steps at which samples are recorded: every `samples_every`-th (0 = none).
    func recordsSamples(atStep s: Int) -> Bool {
        config.samplesEvery > 0 && config.samplesPerStep > 0 && s % config.samplesEvery == 0
    }

    /// Rows ⌊j·B/k⌋, j = 0 … k−1, of a batch of B rows: k rows spread over the batch (all when B ≤ k).
    static func sampleRows(batchRows b: Int, count k: Int) -> [Int] {
        guard b > k else { return Array(0..<b) }
        return (0..<k).map { $0 * b / k }
    }

    /// Records step `s`'s samples (when it is due): called after the advantages are known and
    /// before the first gradient, so the policy's log-probs are those of π_θ_old. They are the
    /// scoring pass's when it ran (the values the objective used), else one forward pass without
    /// gradient over the sampled rows only.
    func recordTrainingSamples(step: Int, _ rollouts: RolloutBatch, scores: RolloutScores, advantages: Advantages?) {
        guard recordsSamples(atStep: step), rollouts.rows > 0 else { return }
        let rows = Self.sampleRows(batchRows: rollouts.rows, count: config.samplesPerStep)
        let T = rollouts.columns
        let policyGrid: [Double]
        if let old = scores.old {
            policyGrid = PolicyBatch.gather(old, rows: rows, columns: T)
        } else {
            let input = rollouts.trainingBatch(rows)
            policyGrid = rollouts.grid(model.forward(input, temperature: trainingTemperature).logprobs, batch: input, rows: rows)
        }
        let samples = rows.enumerated().map { k, i -> RolloutSample in
            let t = rollouts.trajectories[i], P = rollouts.promptLengths[i]
            // Response column c of the [B, T] grids is token P + c of the trajectory.
            func perToken(_ grid: [Double], row: Int) -> [Float] {
                var out = [Float](repeating: 0, count: t.tokens.count)
                for c in 0..<(t.tokens.count - P) where t.lossMask[P + c] == 1 { out[P + c] = Float(grid[row * T + c]) }
                return out
            }
            return RolloutSample(
                t, kind: .train, tokenizer: loaded.tokenizer, truncated: rollouts.truncated[i], reward: rollouts.rewards[i],
                policyLogprobs: perToken(policyGrid, row: k), advantages: advantages.map { perToken($0.values, row: i) })
        }
        sink.logSamples(step: step, samples: samples)
    }

    /// Records the first `samples_per_step` episodes of a held-out evaluation at the current step.
    func recordEvaluationSamples(_ trajectories: [Trajectory]) {
        guard config.samplesPerStep > 0, config.samplesEvery > 0, !trajectories.isEmpty else { return }
        let samples = trajectories.prefix(config.samplesPerStep).map { t in
            RolloutSample(
                t, kind: .eval, tokenizer: loaded.tokenizer, truncated: Self.isTruncated(t, endTokens: endTokens),
                reward: t.reward, policyLogprobs: nil, advantages: nil)
        }
        sink.logSamples(step: state.step, samples: Array(samples))
    }

    /// Whether the policy's last token is not an end-of-turn token (as ``RolloutBatch`` decides).
    static func isTruncated(_ t: Trajectory, endTokens: Set<Int32>) -> Bool {
        guard let last = t.tokens.indices.last(where: { t.lossMask[$0] == 1 }) else { return false }
        return !endTokens.contains(t.tokens[last])
    }
}

/// A stored sample as `rlhub samples --format json` and `GET /api/runs/ID/samples` give it: its
/// step, its position within the step, and the sample.
public struct StepSample: Encodable, Sendable {
    public var step: Int
    public var position: Int
    public var sample: RolloutSample

    public init(step: Int, position: Int, sample: RolloutSample) {
        self.step = step
        self.position = position
        self.sample = sample
    }
}
