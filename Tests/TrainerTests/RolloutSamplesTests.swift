// Rollout samples: recorded on schedule with one entry per token in every array, the trainer's
// log-probs beside the sampler's, advantages as the update used them, no effect on the run, and
// the config hash of runs that keep the defaults unchanged.
import RLAlgorithms
import Foundation
import Generator
import LM
import RLHubCore
import Tasks
import Testing
import Trainer

@Suite("Rollout samples", .serialized)
struct RolloutSamplesTests {
    /// GRPO on tiny, 4 steps, evaluated every 2, samples every 2.
    static func config(_ preset: AlgorithmPreset = .grpo, _ extra: [String] = []) throws -> TrainConfig {
        var c = try smallConfig(preset, steps: 4)
        c.evalEvery = 2
        for s in ["samples_every=2"] + extra { try c.set(s) }
        return c
    }

    static func run(_ config: TrainConfig) throws -> (MemoryMetricSink, [Float]) {
        let sink = MemoryMetricSink()
        let loaded = try tinyModel()
        try RLTrainer(config: config, loaded: loaded, sink: sink).train(checkpointRoot: nil) { _, _ in }
        return (sink, loaded.model.parameters.array)
    }

    @Test func samplesAreRecordedOnSchedule() throws {
        let (sink, _) = try Self.run(try Self.config())
        let train = sink.samples.filter { $0.samples.first?.kind == .train }
        let eval = sink.samples.filter { $0.samples.first?.kind == .eval }
        #expect(train.map(\.step) == [2, 4] && train.allSatisfy { $0.samples.count == 4 })
        #expect(eval.map(\.step) == [0, 2, 4] && eval.allSatisfy { $0.samples.count == 4 })
        // Rows ⌊j·16/4⌋ = 0, 4, 8, 12 of 4 groups of 4: one per group, the first of each.
        #expect(train[0].samples.map(\.sample) == [0, 0, 0, 0] && Set(train[0].samples.map(\.group)).count == 4)
        // Evaluation samples are the first held-out problems, greedy, every time.
        #expect(eval.allSatisfy { $0.samples.map(\.problem) == [0, 1, 2, 3] })
        for s in train.flatMap(\.samples) {
            try s.validate()
            let policy = try #require(s.policyLogprobs), advantages = try #require(s.advantages)
            var response: [Float] = []
            for t in s.tokens.indices {
                if s.lossMask[t] == 0 {
                    #expect(policy[t] == 0 && advantages[t] == 0 && s.samplerLogprobs[t] == 0)
                } else {
                    response.append(advantages[t])
                    // Same weights, same temperature: the trainer's forward agrees with the sampler's
                    // KV-cache decoding up to float rounding.
                    #expect(abs(policy[t] - s.samplerLogprobs[t]) < 1e-3, "token \(t): \(policy[t]) vs \(s.samplerLogprobs[t])")
                }
            }
            // GRPO: one advantage for the whole response.
            #expect(Set(response).count == 1, "\(response)")
            #expect(s.maxLogprobGap.map { $0 < 1e-3 } == true)
        }
        for s in eval.flatMap(\.samples) {
            #expect(s.policyLogprobs == nil && s.advantages == nil && s.kind == .eval)
        }
    }

    /// PPO scores the rollouts before its epochs: the samples carry those log-probs and GAE's
    /// per-token advantages.
    @Test func ppoSamplesCarryTheScoringPass() throws {
        let (sink, _) = try Self.run(try Self.config(.ppo))
        let train = sink.samples.filter { $0.samples.first?.kind == .train }.flatMap(\.samples)
        #expect(train.count == 8)
        let perToken = train.contains { s in
            let a = s.tokens.indices.filter { s.lossMask[$0] == 1 }.map { s.advantages![$0] }
            return Set(a).count > 1
        }
        #expect(perToken, "GAE gives each token its own advantage")
    }

    @Test func recordingSamplesDoesNotChangeTheRun() throws {
        let (with, a) = try Self.run(try Self.config(.grpo, ["samples_every=1", "samples_per_step=16"]))
        let (without, b) = try Self.run(try Self.config(.grpo, ["samples_every=0"]))
        #expect(without.samples.isEmpty && with.samples.count == 4 + 3)
        #expect(a == b, "same parameters")
        for (x, y) in zip(with.records, without.records) {
            #expect(x.step == y.step)
            for (name, v) in x.metrics where !name.hasPrefix("time/") && !name.hasPrefix("perf/") {
                #expect(v.bitPattern == y.metrics[name]?.bitPattern, "\(name) at \(x.step)")
            }
        }
    }

    /// DPO records its training samples too (no advantages; the policy's log-probs before the
    /// step), and recording them leaves the run bit-identical.
    @Test func dpoStepsRecordSamplesWithoutChangingTheRun() throws {
        let (with, a) = try Self.run(try Self.config(.dpo, ["samples_every=1"]))
        let (without, b) = try Self.run(try Self.config(.dpo, ["samples_every=0"]))
        let train = with.samples.filter { $0.samples.first?.kind == .train }
        #expect(train.map(\.step) == [1, 2, 3, 4] && train.allSatisfy { $0.samples.count == 4 })
        for s in train.flatMap(\.samples) {
            try s.validate()
            #expect(s.advantages == nil && s.policyLogprobs != nil)
        }
        #expect(a == b, "same parameters")
        for (x, y) in zip(with.records, without.records) {
            for (name, v) in x.metrics where !name.hasPrefix("time/") && !name.hasPrefix("perf/") {
                #expect(v.bitPattern == y.metrics[name]?.bitPattern, "\(name) at \(x.step)")
            }
        }
    }

    @Test func defaultsKeepTheConfigHash() throws {
        let base = try smallConfig(.grpo)
        let json = String(decoding: base.canonicalJSON(), as: UTF8.self)
        #expect(!json.contains("samples_"), "defaults are left out of the canonical JSON")
        var same = base
        try same.set("samples_every=10")
        try same.set("samples_per_step=4")
        #expect(same.hash == base.hash)
        var other = base
        try other.set("samples_every=5")
        #expect(other.hash != base.hash && other.samplesEvery == 5)
        let decoded = try JSONDecoder().decode(TrainConfig.self, from: other.canonicalJSON())
        #expect(decoded == other && decoded.samplesPerStep == 4)
        var tooMany = base
        try tooMany.set("samples_per_step=65")
        #expect(throws: ConfigError.self) { try tooMany.validate() }
    }

    @Test func samplesRoundTripThroughJSON() throws {
        let (sink, _) = try Self.run(try Self.config())
        let s = try #require(sink.samples.first { $0.step == 2 }?.samples.first)
        #expect(try RolloutSample.decode(s.encoded()) == s)
        var broken = s
        broken.pieces.removeLast()
        #expect(throws: InputError.self) { try RolloutSample.decode(broken.encoded()) }
        var infinite = s
        infinite.samplerLogprobs[0] = -.infinity
        #expect(try RolloutSample.decode(infinite.encoded()).samplerLogprobs[0] == -.infinity)
    }
}
