// The store's sink keeps rollout samples (compressed, read back equal), and a sample stays within
// the documented size: ≤ 32 bytes per token once compressed, even with log-probs of full entropy.
import Experiments
import Foundation
import LM
import RLHubCore
import Store
import Testing
import Trainer

@Suite struct SampleSinkTests {
    /// A sample of `n` tokens: a 16-token prompt, then policy tokens with pseudo-random log-probs
    /// (every digit of a Float32 carries information: the worst case for compression).
    static func sample(tokens n: Int, kind: RolloutSample.Kind = .train, seed: UInt64 = 7) -> RolloutSample {
        var state = seed
        func uniform() -> Float {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return Float(state >> 40) / Float(1 << 24)
        }
        let mask = (0..<n).map { $0 < 16 ? UInt8(0) : UInt8(1) }
        let tokens = (0..<n).map { _ in Int32(uniform() * 256) }
        let sampler = mask.map { $0 == 1 ? -5 * uniform() : 0 }
        let policy = zip(mask, sampler).map { $0 == 1 ? $1 + 0.01 * (uniform() - 0.5) : 0 }
        let advantages = mask.map { $0 == 1 ? Float(0.8660254) : 0 }
        return RolloutSample(
            kind: kind, task: "add:digits=1", problem: 3, group: 12, sample: 1,
            messages: [ChatMessage(role: "user", content: "What is 3 + 4?"), ChatMessage(role: "assistant", content: "7")],
            tokens: tokens, pieces: tokens.map { String(UnicodeScalar(UInt8(32 + $0 % 90))) }, lossMask: mask,
            samplerLogprobs: sampler, policyLogprobs: kind == .train ? policy : nil, advantages: kind == .train ? advantages : nil,
            reward: 1, outcome: "correct", finishReason: "done", truncated: false, turns: 1)
    }

    /// Documented in docs/metrics.md (Rollout samples): compressed bytes per token, at most.
    static let bytesPerToken = 32

    @Test(arguments: [64, 512, 4096])
    func aSampleStaysWithinItsBudget(_ n: Int) throws {
        let s = Self.sample(tokens: n)
        let frame = try ZstdData.compress(try s.encoded())
        #expect(frame.count <= Self.bytesPerToken * n + 1024, "\(n) tokens: \(frame.count) bytes compressed")
        // The per-step budget then holds at least 4 samples of 2,048 tokens.
        #expect(4 * Self.bytesPerToken * 2048 <= RunStore.sampleBudgetPerStep)
    }

    @Test func theStoreSinkKeepsSamples() throws {
        let store = try RunStore(inMemoryWithBlobsAt: NSTemporaryDirectory() + "sink-\(UUID())")
        let id = try store.createRun(NewRun(
            experiment: nil, cell: "grpo/add/seed0", algo: "grpo", task: "add:digits=1", model: "preset:tiny", seed: 0,
            configJSON: "{}", configHash: "h", groupHash: "g", threads: 1))
        let sink = StoreMetricSink(store: store, run: id)
        let logged = [Self.sample(tokens: 40, seed: 1), Self.sample(tokens: 50, kind: .eval, seed: 2), Self.sample(tokens: 60, seed: 3)]
        sink.logSamples(step: 10, samples: logged)
        sink.log(step: 10, metrics: ["reward/mean": 0.5])
        try sink.flush()
        let stored = try store.samples(run: id)
        #expect(stored.map { "\($0.kind) \($0.position)" } == ["train 0", "train 1", "eval 0"])
        #expect(try stored.map { try RolloutSample.decode($0.json) } == [logged[0], logged[2], logged[1]])
        let first = stored[0]
        #expect(first.promptTokens == 16 && first.responseTokens == 24 && first.advantage == Double(Float(0.8660254)))
        #expect(first.logprobGap.map { $0 > 0 && $0 <= 0.005 } == true && stored[2].logprobGap == nil)
        #expect(try store.curve(run: id, metric: "reward/mean").count == 1)
    }
}
