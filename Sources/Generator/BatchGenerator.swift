// rlhub — batched generation over the KV cache: n samples for each of several prompts.
//
// 1. Prefill every prompt once, all prompts packed into one forward pass (slot p·n).
// 2. Copy each prompt's cache into the other n−1 slots of its group (the prefix is shared,
//    not recomputed).
// 3. Decode all unfinished slots together, one token per slot per step, until each hits a stop
//    token, a stop string or the token budget.
// Each draw uses the uniform keyed by (seed, step, prompt, sample, position), so completions do
// not depend on batch size, order or thread count.
import Foundation
import LM
import RLHubCore
import Tensor

/// What to generate.
public struct GenerationRequest: Sendable {
    public var prompts: [[Int32]]
    /// Samples per prompt (the group size of group estimators).
    public var samplesPerPrompt: Int = 1
    public var maxNewTokens: Int = 64
    public var sampling = SamplingParameters()
    /// Generation ends after any of these (it is included in the completion).
    public var stopTokens: Set<Int32> = []
    /// Generation ends once the decoded completion contains any of these.
    public var stopStrings: [String] = []
    public var seed: UInt64 = 0
    /// Training step (part of the sampling key).
    public var step: Int = 0
    /// Index of `prompts[0]` in a larger batch (part of the sampling key), so that splitting a
    /// batch into several calls gives the same completions.
    public var firstPromptIndex: Int = 0

    public init(prompts: [[Int32]]) { self.prompts = prompts }
}

/// Why a completion ended.
public enum FinishReason: String, Codable, Sendable {
    case stopToken = "stop", stopString = "stop_string", length
}

/// One sampled continuation.
public struct Completion: Sendable, Equatable {
    public var prompt: Int
    public var sample: Int
    public var tokens: [Int32]
    /// log softmax(z/τ) of each sampled token.
    public var logprobs: [Float]
    public var finishReason: FinishReason
}

/// Generates completions for a model; keeps its KV cache between calls.
public final class BatchGenerator {
    public let model: LlamaModel
    public let tokenizer: any Tokenizer
    private var cache: KVCache?

    public init(model: LlamaModel, tokenizer: any Tokenizer) {
        self.model = model
        self.tokenizer = tokenizer
    }

    /// Runs `request`; `onToken(slot, token)` is called as tokens are produced (for streaming).
    public func generate(
        _ request: GenerationRequest, onToken: ((Int, Int32) -> Void)? = nil
    ) throws(InputError) -> [Completion] {
        try request.sampling.validate()
        let n = request.samplesPerPrompt, P = request.prompts.count
        guard n >= 1 else { throw InputError(file: "--n", message: "must be ≥ 1, got \(n)") }
        guard request.maxNewTokens >= 1 else { throw InputError(file: "--max-tokens", message: "must be ≥ 1") }
        let V = model.config.vocabSize
        for (i, p) in request.prompts.enumerated() {
            if p.isEmpty { throw InputError(file: "prompt \(i)", message: "is empty") }
            if let bad = p.first(where: { $0 < 0 || Int($0) >= V }) {
                throw InputError(file: "prompt \(i)", message: "token \(bad) outside the vocabulary (\(V))")
            }
        }
        let longest = request.prompts.map(\.count).max() ?? 0
        let capacity = longest + request.maxNewTokens
        guard capacity <= model.config.maxPositionEmbeddings else {
            throw InputError(
                file: "--max-tokens",
                message: "prompt (\(longest)) + new tokens (\(request.maxNewTokens)) exceed the model's \(model.config.maxPositionEmbeddings) positions")
        }
        let (slots, overflow) = P.multipliedReportingOverflow(by: n)
        guard !overflow else { throw InputError(file: "--n", message: "\(P) prompts × \(n) samples overflow") }
        if cache == nil || cache!.slots < slots || cache!.capacity < capacity {
            cache = nil
            try KVCache.checkFits(config: model.config, slots: slots, capacity: capacity, setting: "--n")
            cache = KVCache(config: model.config, slots: slots, capacity: capacity)
        }
        guard let cache else { return [] }
        cache.resetAll()

        var completions = (0..<slots).map {
            Completion(prompt: $0 / n, sample: $0 % n, tokens: [], logprobs: [], finishReason: .length)
        }
        let draws = ParallelDraws(vocabularySize: V, rows: slots)
        // 1. Prefill all prompts in one pass.
        var tokens: [Int32] = [], slotOf: [Int32] = [], lastRows: [Int] = []
        for (p, prompt) in request.prompts.enumerated() {
            tokens += prompt
            slotOf += [Int32](repeating: Int32(p * n), count: prompt.count)
            lastRows.append(tokens.count - 1)
        }
        var logits = model.extend(cache: cache, tokens: tokens, slots: slotOf, logitRows: lastRows)
        // 2. Share each prompt's prefix with its group, and draw every slot's first token.
        for s in 0..<slots where s % n != 0 { cache.copySlot(from: (s / n) * n, to: s) }
        var active: [Int] = []
        var next: [Int32] = []
        let prefill = UnsafePointer(logits)
        draws.draw((0..<slots).map { uniform(completions[$0], request) }, logits: { prefill + ($0 / n) * V }, request.sampling)
        for s in 0..<slots where record(&completions[s], draws.drawn[s], request, onToken, slot: s) {
            active.append(s)
            next.append(completions[s].tokens.last ?? 0)
        }
        // 3. Decode the unfinished slots together.
        while !active.isEmpty {
            logits = model.extend(
                cache: cache, tokens: next, slots: active.map { Int32($0) }, logitRows: Array(0..<active.count))
            let step = UnsafePointer(logits)
            draws.draw(active.map { uniform(completions[$0], request) }, logits: { step + $0 * V }, request.sampling)
            var stillActive: [Int] = [], stillNext: [Int32] = []
            for (k, s) in active.enumerated()
            where record(&completions[s], draws.drawn[k], request, onToken, slot: s) {
                stillActive.append(s)
                stillNext.append(completions[s].tokens.last ?? 0)
            }
            active = stillActive
            next = stillNext
        }
        return completions
    }

    /// The draw of `c`'s next token: its uniform, keyed by (seed, step, prompt, sample, position).
    private func uniform(_ c: Completion, _ r: GenerationRequest) -> DrawRequest {
        .sample(u: samplingUniform(
            seed: r.seed, step: r.step, prompt: r.firstPromptIndex + c.prompt, sample: c.sample, position: c.tokens.count))
    }

    /// Appends the drawn token `t` to `c`; returns whether the completion continues.
    private func record(
        _ c: inout Completion, _ t: SampledToken, _ r: GenerationRequest,
        _ onToken: ((Int, Int32) -> Void)?, slot: Int
    ) -> Bool {
        c.tokens.append(t.token)
        c.logprobs.append(t.logprob)
        onToken?(slot, t.token)
        if r.stopTokens.contains(t.token) {
            c.finishReason = .stopToken
            return false
        }
        if !r.stopStrings.isEmpty {
            let text = tokenizer.decode(c.tokens, skipSpecial: true)  // as vLLM: specials are not text
            if r.stopStrings.contains(where: { text.contains($0) }) {
                c.finishReason = .stopString
                return false
            }
        }
        if c.tokens.count >= r.maxNewTokens {
            c.finishReason = .length
            return false
        }
        return true
    }
}
