// rlhub — plays a task's environments with the policy, batched over the KV cache, and records
// token-exact trajectories (algorithms.md §10).
//
// Every slot of the cache is one episode. Each loop iteration feeds every unfinished episode its
// next input — the token it just sampled, or the tokens of the environment's reply — in one
// packed forward pass, then samples one token per episode that is in a policy turn. A turn ends
// on the end-of-turn token or the per-turn budget; the texts of every turn that ended in an
// iteration go to the task's `EnvironmentBatch` in one call (one message for an external
// environment), and each reply is appended as ChatML tokens with loss mask 0. Generated tokens
// are never re-tokenised.
import Foundation
import LM
import RLHubCore
import Tasks
import Tensor

/// What to play.
public struct EpisodeRequest: Sendable {
    public var split: Split = .train
    /// Problem indices of the split; each is played `samplesPerProblem` times (one group).
    public var problems: [Int]
    public var samplesPerProblem: Int = 1
    public var sampling = SamplingParameters()
    /// New tokens per policy turn.
    public var maxNewTokensPerTurn: Int = 64
    /// Turn limit (default: the task's).
    public var maxTurns: Int?
    /// Total tokens per episode, prompt and observations included (the KV-cache capacity).
    public var tokenBudget: Int = 512
    public var seed: UInt64 = 0
    /// Training step (part of the sampling key) and the policy version recorded on spans.
    public var step: Int = 0
    /// Group id of `problems[0]`; group ids are unique across a training run's batches.
    public var firstGroupID: Int = 0
    /// Teacher forcing: per problem, the assistant turns to play instead of sampling (e.g. a gold
    /// demonstration). Each turn is encoded and closed with `<|im_end|>`; log-probs are still
    /// the model's. Used for SFT data with the exact tokens and masks of RL episodes.
    public var scriptedTurns: [[String]]?

    public init(problems: [Int]) { self.problems = problems }
}

/// Plays episodes of a task; keeps its KV cache between calls.
public final class EpisodeRunner {
    public let model: LlamaModel
    public let tokenizer: any Tokenizer
    public let template: ChatTemplate
    private var cache: KVCache?
    private let endOfTurn: Set<Int32>
    private let imEnd: Int32?
    /// Wall-clock seconds spent in environment calls (reset, step, close) by this runner: for an
    /// external environment, the protocol's overhead on top of model compute.
    public private(set) var environmentSeconds = 0.0

    public init(model: LlamaModel, tokenizer: any Tokenizer, template: ChatTemplate) {
        self.model = model
        self.tokenizer = tokenizer
        self.template = template
        imEnd = tokenizer.id(for: "<|im_end|>")
        endOfTurn = Set([tokenizer.eosTokenID, imEnd, tokenizer.id(for: "<|endoftext|>")].compactMap { $0 })
    }

    /// Per-episode state while playing.
    private struct Slot {
        var trajectory: Trajectory
        var turnTokens: [Int32] = []
        var input: [Int32] = []
        var active = true
        var generated = 0
        /// Remaining forced tokens of the current turn, and the turns after it.
        var script: [[Int32]]?
        /// A turn that ended and waits for the environment: its text, the last token, whether
        /// that token ended the turn, whether the token budget is used up.
        var pending: (text: String, token: Int32, endOfTurn: Bool, outOfBudget: Bool)?
    }

    /// Plays `request` on `task` and returns one trajectory per (problem, sample), in order.
    public func run(_ task: any RLTask, _ request: EpisodeRequest) throws(InputError) -> [Trajectory] {
        try request.sampling.validate()
        let n = request.samplesPerProblem
        guard n >= 1 else { throw InputError(file: "group_size", message: "must be ≥ 1") }
        let budget = request.tokenBudget
        guard budget <= model.config.maxPositionEmbeddings else {
            throw InputError(file: "token_budget", message: "\(budget) exceeds the model's \(model.config.maxPositionEmbeddings) positions")
        }
        let maxTurns = request.maxTurns ?? task.maxTurns
        let V = model.config.vocabSize
        let (S, overflow) = request.problems.count.multipliedReportingOverflow(by: n)
        guard !overflow else { throw InputError(file: "group_size", message: "\(request.problems.count) problems × \(n) samples overflow") }
        // S environments and trajectories come first: refuse a count whose cache could never fit.
        try KVCache.checkFits(config: model.config, slots: S, capacity: 1, setting: "prompts_per_step × group_size")

        // 1. Reset every environment; samples of one problem share the first observation.
        var environments = task.makeEnvironmentBatch()
        defer { timed { environments.close() } }
        let firsts = try timed { () throws(InputError) in
            try environments.reset(request.problems.flatMap { problem in
                [EpisodeStart](repeating: EpisodeStart(split: request.split, index: problem, seed: request.seed), count: n)
            })
        }
        var slots: [Slot] = []
        var prompts: [[Int32]] = []
        for (k, problem) in request.problems.enumerated() {
            for sample in 0..<n {
                let first = firsts[k * n + sample]
                if sample == 0 {
                    let ids = tokenizer.encode(template.render(first, addGenerationPrompt: true))
                    guard ids.count < budget else {
                        throw InputError(file: "token_budget", message: "the prompt of problem \(problem) has \(ids.count) tokens, budget \(budget)")
                    }
                    prompts.append(ids)
                }
                let prompt = prompts[k]
                let t = Trajectory(
                    task: task.spec, split: request.split.rawValue, problem: problem,
                    groupID: request.firstGroupID + k, sample: sample, messages: first, tokens: prompt,
                    lossMask: [UInt8](repeating: 0, count: prompt.count),
                    samplerLogprobs: [Float](repeating: 0, count: prompt.count),
                    spans: [TokenSpan(start: 0, length: prompt.count, source: .prompt, policyVersion: nil)],
                    turnRewards: [], reward: 0, turns: 0, finishReason: "turn_limit")
                var slot = Slot(trajectory: t)
                if let turns = request.scriptedTurns?[k] {
                    slot.script = turns.map { tokenizer.encode($0, parseSpecial: false) + (imEnd.map { [$0] } ?? []) }
                }
                slots.append(slot)
            }
        }
        // The KV cache holds a whole episode: the token budget, or for a single turn no more than
        // the longest prompt plus one reply (the budget is sized for multi-turn episodes: 512
        // positions × 64 slots are 1.5 GB for SmolLM2, where an 8 × 8 × 32-token step needs 0.2).
        let longestPrompt = prompts.map(\.count).max() ?? 0
        let capacity = maxTurns == 1 ? min(budget, longestPrompt + request.maxNewTokensPerTurn + 1) : budget
        if cache == nil || cache!.slots < S || cache!.capacity < capacity {
            cache = nil
            try KVCache.checkFits(config: model.config, slots: S, capacity: capacity, setting: "prompts_per_step × group_size")
            cache = KVCache(config: model.config, slots: S, capacity: capacity)
        }
        guard let cache else { return [] }
        cache.resetAll()

        // 2. Prefill each prompt once, then share it with the group's other slots.
        var packed: [Int32] = [], owner: [Int32] = [], lastRows: [Int] = []
        for (k, p) in prompts.enumerated() {
            packed += p
            owner += [Int32](repeating: Int32(k * n), count: p.count)
            lastRows.append(packed.count - 1)
        }
        var logits = model.extend(cache: cache, tokens: packed, slots: owner, logitRows: lastRows)
        var rowOfSlot = (0..<S).map { $0 / n }
        for s in 0..<S where s % n != 0 { cache.copySlot(from: (s / n) * n, to: s) }
        let draws = ParallelDraws(vocabularySize: V, rows: S)

        // 3. Sample, step environments, feed replies, until every episode ends.
        while true {
            var ended: [Int] = []
            let drawing = (0..<S).filter { slots[$0].active }
            let requests = drawing.map { drawRequest(&slots[$0], request) }
            let step = UnsafePointer(logits), rowOf = rowOfSlot
            draws.draw(requests, logits: { step + rowOf[drawing[$0]] * V }, request.sampling)
            for (k, s) in drawing.enumerated() {
                record(draws.drawn[k], in: &slots[s], request)
                if slots[s].pending != nil { ended.append(s) }
            }
            if !ended.isEmpty {
                let results = try timed { () throws(InputError) in
                    try environments.step(ended.map { (episode: $0, text: slots[$0].pending!.text) })
                }
                for (s, result) in zip(ended, results) { apply(result, to: &slots[s], request, maxTurns: maxTurns) }
            }
            var tokens: [Int32] = [], owners: [Int32] = [], rows: [Int] = []
            rowOfSlot = [Int](repeating: -1, count: S)
            for s in 0..<S where slots[s].active {
                tokens += slots[s].input
                owners += [Int32](repeating: Int32(s), count: slots[s].input.count)
                rowOfSlot[s] = rows.count
                rows.append(tokens.count - 1)
                slots[s].input = []
            }
            if rows.isEmpty { break }
            logits = model.extend(cache: cache, tokens: tokens, slots: owners, logitRows: rows)
        }
        return slots.map(\.trajectory)
    }

    /// `body`'s value, its wall-clock time added to ``environmentSeconds``.
    private func timed<T, E: Error>(_ body: () throws(E) -> T) throws(E) -> T {
        let start = DispatchTime.now().uptimeNanoseconds
        defer { environmentSeconds += Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9 }
        return try body()
    }

    /// What to draw next for an episode: its scripted token (teacher forcing, consumed here) or a
    /// sample with the uniform keyed by (seed, step, group, sample, position).
    private func drawRequest(_ slot: inout Slot, _ r: EpisodeRequest) -> DrawRequest {
        if var script = slot.script, let turn = script.first, let forced = turn.first {
            script[0].removeFirst()
            if script[0].isEmpty { script.removeFirst() }
            slot.script = script
            return .forced(forced)
        }
        let t = slot.trajectory
        return .sample(u: samplingUniform(seed: r.seed, step: r.step, prompt: t.groupID, sample: t.sample, position: slot.generated))
    }

    /// Appends a drawn token to an episode; at the end of a turn records the turn's text as
    /// `pending` for the environment.
    private func record(_ drawn: SampledToken, in slot: inout Slot, _ r: EpisodeRequest) {
        var t = slot.trajectory
        defer { slot.trajectory = t }
        slot.generated += 1
        if t.spans.last?.source != .policy {
            t.spans.append(TokenSpan(start: t.tokens.count, length: 0, source: .policy, policyVersion: r.step))
        }
        t.tokens.append(drawn.token)
        t.lossMask.append(1)
        t.samplerLogprobs.append(drawn.logprob)
        t.spans[t.spans.count - 1].length += 1
        slot.turnTokens.append(drawn.token)
        let endOfTurn = self.endOfTurn.contains(drawn.token)
        let outOfBudget = t.tokens.count >= r.tokenBudget
        if !endOfTurn && !outOfBudget && slot.turnTokens.count < r.maxNewTokensPerTurn {
            slot.input = [drawn.token]
            return
        }
        // The turn is over: the environment judges the text (with the other ended turns).
        let text = tokenizer.decode(slot.turnTokens, skipSpecial: true)
        slot.turnTokens = []
        t.messages.append(ChatMessage(role: "assistant", content: text))
        slot.pending = (text, drawn.token, endOfTurn, outOfBudget)
    }

    /// Records the environment's verdict on a pending turn and queues its reply (or ends the episode).
    private func apply(_ result: StepResult, to slot: inout Slot, _ r: EpisodeRequest, maxTurns: Int) {
        guard let (_, token, endOfTurn, outOfBudget) = slot.pending else { return }
        slot.pending = nil
        var t = slot.trajectory
        defer { slot.trajectory = t }
        t.turnRewards.append(result.reward)
        t.outcome = result.info["outcome"] ?? t.outcome
        t.reward += result.reward
        t.turns += 1
        if result.done || t.turns >= maxTurns || outOfBudget {
            t.finishReason = result.done ? "done" : (outOfBudget ? "token_budget" : "turn_limit")
            slot.active = false
            return
        }
        // Queue the reply: close the turn if the policy did not, then the observation in ChatML.
        let observation = result.observation ?? []
        t.messages += observation
        var reply = endOfTurn ? "\n" : "<|im_end|>\n"
        for m in observation { reply += "<|im_start|>\(m.role)\n\(m.content)<|im_end|>\n" }
        reply += "<|im_start|>assistant\n"
        let ids = tokenizer.encode(reply, parseSpecial: true)
        if t.tokens.count + ids.count >= r.tokenBudget {
            t.finishReason = "token_budget"
            slot.active = false
            return
        }
        t.spans.append(TokenSpan(start: t.tokens.count, length: ids.count, source: .environment, policyVersion: nil))
        t.tokens += ids
        t.lossMask += [UInt8](repeating: 0, count: ids.count)
        t.samplerLogprobs += [Float](repeating: 0, count: ids.count)
        slot.input = [token] + ids
    }
}
