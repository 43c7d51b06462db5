// The training loop: every preset runs and reports finite metrics, resume is bit-exact, empty
// batches skip the update, bad configurations are one-line errors.
import RLAlgorithms
import Foundation
import Generator
import LM
import RLHubCore
import Tasks
import Tensor
import Testing
import Trainer

/// A small run: tiny model, 2-digit addition, 4 prompts × 4 samples.
func smallConfig(_ preset: AlgorithmPreset, task: String = "add:digits=2", steps: Int = 2) throws -> TrainConfig {
    var c = TrainConfig(algo: preset.rawValue, algorithm: preset.config, task: try TaskRegistry.canonicalSpec(task), model: "preset:tiny")
    c.steps = steps
    c.evalEpisodes = 8
    c.evalEvery = 0
    c.tokenBudget = 128
    c.microBatchTokens = 256
    for a in ["prompts_per_step=4", "max_new_tokens=8", "lr=1e-3", "seed=3"] { try c.set(a) }
    if preset != .ppo && preset != .sft { try c.set("group_size=4") }
    if preset == .ppo { try c.set("prompts_per_step=8") }
    if preset == .gspo { try c.set("mini_batches=2") }
    if preset == .dapo { try c.set("overlong_buffer=4") }
    return c
}

func tinyModel(seed: UInt64 = 0) throws -> LoadedModel { try ModelLoader.load("preset:tiny", seed: seed) }

@Suite("Trainer", .serialized)
struct TrainerTests {
    @Test(arguments: AlgorithmPreset.allCases)
    func everyPresetRunsWithFiniteMetrics(_ preset: AlgorithmPreset) throws {
        let sink = MemoryMetricSink()
        let loaded = try tinyModel()
        let before = loaded.model.parameters.array
        // A non-trivial reward signal: multi-turn guess for PPO's critic, addition otherwise.
        let trainer = try RLTrainer(config: try smallConfig(preset), loaded: loaded, sink: sink)
        for _ in 0..<2 { try trainer.runStep() }
        #expect(trainer.step == 2)
        let last = try #require(sink.records.last?.metrics)
        for (k, v) in last { #expect(v.isFinite, "\(preset): \(k) = \(v)") }
        #expect(last["time/step_s"] != nil && last["rollout/episodes"] != nil)
        #expect(last["reward/mean"] != nil || last["rollout/episodes"] == 0)
        // Something was learned from (parameters moved), unless every update was legitimately skipped.
        let moved = zip(before, loaded.model.parameters.array).contains { $0 != $1 }
        let updates = sink.records.reduce(0.0) { $0 + ($1.metrics["optimizer_steps"] ?? ($1.metrics["dpo/pairs"].map { $0 > 0 ? 1 : 0 } ?? 0)) }
        #expect(moved == (updates > 0) || preset == .sft && moved, "\(preset): moved \(moved), updates \(updates)")
    }

    /// GRPO; PPO for its separate critic (trunk, head and their moments are in the checkpoint);
    /// RLOO with the adaptive KL controller (its β is in the trainer state).
    /// And LoRA runs: GRPO with KL against the base (adapters off), PPO with its separate critic
    /// (a full trunk of its own) and with a shared value head on the adapted trunk.
    @Test(arguments: [
        "grpo", "ppo", "rloo kl_target=0.001", "grpo lora_rank=4 lora_targets=all-linear kl_coef=0.05 entropy_coef=0.5",
        "ppo lora_rank=4 entropy_coef=0.5", "ppo lora_rank=4 critic=shared entropy_coef=0.5",
    ])
    func resumeIsBitExact(_ variant: String) throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("resume-\(UUID())").path
        let words = variant.split(separator: " ").map(String.init)
        var config = try smallConfig(try AlgorithmPreset.parse(words[0], key: "preset"), steps: 4)
        for setting in words.dropFirst() { try config.set(setting) }
        config.checkpointEvery = 2
        // Uninterrupted.
        let a = try tinyModel()
        let sinkA = MemoryMetricSink()
        try RLTrainer(config: config, loaded: a, sink: sinkA).train(checkpointRoot: root + "/a") { _, _ in }
        // Two steps, a checkpoint, a fresh process state, two more steps.
        var half = config
        half.steps = 2
        let b1 = try tinyModel()
        let sinkB = MemoryMetricSink()
        let first = try RLTrainer(config: config, loaded: b1, sink: sinkB)
        try first.runStep()
        try first.runStep()
        try first.saveCheckpoint(to: root + "/b/step-2")
        // A new process loads the run's starting model (also the KL reference) and then the checkpoint.
        let b2 = try tinyModel()
        let second = try RLTrainer(config: config, loaded: b2, sink: sinkB)
        try second.resume(from: root + "/b/step-2")
        #expect(second.step == 2)
        try second.runStep()
        try second.runStep()
        let same = bitEqual(b2.model.parameters.array, a.model.parameters.array)
        #expect(same, "final weights differ after resume")
        if config.lora != nil {
            // The random tiny model earns no reward: the entropy bonus moves the adapters (B leaves 0).
            let adapters = try #require(a.model.adapters)
            #expect(adapters.adapters.contains { ad in (0..<(ad.outFeatures * 4)).contains { adapters.parameters[ad.b + $0] != 0 } })
            let same = bitEqual(b2.model.adapters!.parameters.array, adapters.parameters.array)
            #expect(same, "final adapters differ after resume")
        }
        let stepsA = sinkA.records.filter { $0.step >= 1 && $0.metrics["reward/mean"] != nil }
        let stepsB = sinkB.records.filter { $0.metrics["reward/mean"] != nil }
        #expect(stepsA.count == 4 && stepsB.count == 4)
        if config.algorithm.klTarget != nil {
            let betas = Set(stepsA.compactMap { $0.metrics["kl/coef"] })
            #expect(betas.count == 4, "the adaptive β changes every step: \(betas)")
        }
        for (x, y) in zip(stepsA, stepsB) {
            for key in x.metrics.keys where !key.hasPrefix("time/") && !key.hasPrefix("perf/") {
                #expect(x.metrics[key] == y.metrics[key], "step \(x.step) \(key): \(x.metrics[key]!) vs \(y.metrics[key] ?? .nan)")
            }
        }
        // A checkpoint of another configuration is refused.
        var other = config
        try other.set("lr=5e-4")
        let wrong = try RLTrainer(config: other, loaded: try tinyModel(), sink: MemoryMetricSink())
        #expect(throws: InputError.self) { try wrong.resume(from: root + "/b/step-2") }
    }

    /// LoRA: the base never moves, the adapters do; AdamW's state is the adapters' size; with B = 0
    /// at the start the policy is its reference (KL exactly 0 at step 1); the final checkpoint is a
    /// PEFT adapter folder that loads back (base + adapter) to the trained policy, bit for bit.
    @Test func loraTrainsTheAdaptersOnly() throws {
        var config = try smallConfig(.grpo, steps: 3)
        // The random tiny model earns no reward: the entropy bonus gives the adapters a gradient.
        for s in ["lora_rank=4", "lora_alpha=8", "lora_targets=q_proj+v_proj+down_proj", "kl_coef=0.1", "lr=1e-2", "entropy_coef=0.5"] {
            try config.set(s)
        }
        let loaded = try tinyModel()
        let base = loaded.model.parameters.array
        let sink = MemoryMetricSink()
        let trainer = try RLTrainer(config: config, loaded: loaded, sink: sink)
        let adapters = try #require(loaded.model.adapters)
        #expect(adapters.config == LoRAConfig(rank: 4, alpha: 8, targets: [.q, .v, .down]))
        #expect(trainer.trainedParameterCount == adapters.parameterCount && trainer.optimizerStateBytes == 8 * adapters.parameterCount)
        let start = adapters.parameters.array
        for _ in 0..<3 { try trainer.runStep() }
        #expect(bitEqual(loaded.model.parameters.array, base), "the base moved")
        #expect(adapters.parameters.array != start, "the adapters did not move")
        let kl = sink.records.compactMap { $0.metrics["kl/ref"] }
        #expect(kl.first == 0 && kl.dropFirst().contains { $0 != 0 }, "KL per step \(kl)")
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("lora-final-\(UUID())").path
        try trainer.saveFinal(to: folder)
        #expect(LoRACheckpoint.isAdapterFolder(folder) && !FileManager.default.fileExists(atPath: folder + "/model.safetensors"))
        let back = try ModelLoader.load(folder, seed: 0)
        let batch = TrainingBatch(sequences: [[1, 5, 9, 2, 7], [4, 22, 0]])
        #expect(bitEqual(back.model.forward(batch).logprobs, loaded.model.forward(batch).logprobs))
        // A run started from that adapter starts from the adapted model (merged), not the base.
        var next = try smallConfig(.grpo, steps: 1)
        next.model = folder
        let merged = try ModelLoader.load(folder, seed: 0)
        _ = try RLTrainer(config: next, loaded: merged, sink: MemoryMetricSink())
        #expect(merged.model.adapters == nil)
        let worst = zip(merged.model.forward(batch).logprobs, loaded.model.forward(batch).logprobs).map { abs($0 - $1) }.max()!
        #expect(worst < 1e-5, "merged start differs by \(worst)")
    }

    /// SFT's log-probs are the model's own (τ = 1): the sampling temperature changes nothing, and
    /// setting it is warned about.
    @Test func sftIgnoresTheSamplingTemperature() throws {
        var runs: [[Float]] = []
        var warnings: [String] = []
        for temperature in ["1", "0.5"] {
            var config = try smallConfig(.sft)
            try config.set("temperature=\(temperature)")
            let loaded = try tinyModel()
            let trainer = try RLTrainer(config: config, loaded: loaded, sink: MemoryMetricSink())
            trainer.onWarning = { warnings.append($0) }
            try trainer.runStep()
            runs.append(loaded.model.parameters.array)
        }
        let same = bitEqual(runs[0], runs[1])
        #expect(same)
        #expect(warnings == ["temperature has no effect: SFT's log-probs are taken at τ = 1"])
    }

    /// Dynamic sampling that runs out of rounds trains on the groups it kept, and says so: a
    /// metric every such step and one warning line per run.
    @Test func dynamicSamplingOutOfRoundsIsReported() throws {
        // The random model never adds 2-digit numbers: every group is uniform and dropped.
        var config = try smallConfig(.dapo, steps: 2)
        try config.set("max_resample_rounds=2")
        let sink = MemoryMetricSink()
        let trainer = try RLTrainer(config: config, loaded: try tinyModel(), sink: sink)
        var warnings: [String] = []
        trainer.onWarning = { warnings.append($0) }
        try trainer.runStep()
        try trainer.runStep()
        for record in sink.records {
            #expect(record.metrics["dynamic_sampling/exhausted"] == 1)
            #expect(record.metrics["dynamic_sampling/rounds"] == 2)
            #expect((record.metrics["dynamic_sampling/kept_groups"] ?? 99) < 4)
        }
        #expect(warnings.filter { $0.contains("dynamic sampling ran out of rounds at step 1") }.count == 1)
        #expect(!warnings.contains { $0.contains("at step 2") })
    }

    @Test func emptyBatchesSkipTheOptimizerStep() throws {
        // Every completion is cut at one token and the overlong filter masks all of them.
        var config = try smallConfig(.grpo)
        // Near-greedy sampling: the random model's first token is not an end-of-turn token.
        for a in ["max_new_tokens=1", "overlong_filter=true", "kl_coef=0", "temperature=0.01"] { try config.set(a) }
        let loaded = try tinyModel()
        let before = loaded.model.parameters.array
        let sink = MemoryMetricSink()
        let trainer = try RLTrainer(config: config, loaded: loaded, sink: sink)
        try trainer.runStep()
        let same = bitEqual(loaded.model.parameters.array, before)
        #expect(same)
        #expect(sink.records.last?.metrics["optimizer_steps"] == 0)
        #expect(sink.records.last?.metrics["skipped"] == 1)
    }

    @Test func badConfigurationsAreOneLineErrors() throws {
        var c = try smallConfig(.grpo)
        func expectError(_ assignment: String, mentions: String) {
            var copy = c
            do {
                try copy.set(assignment)
                try copy.validate()
                Issue.record("\(assignment) was accepted")
            } catch {
                #expect(String(describing: error).contains(mentions), "\(assignment): \(error)")
                #expect(!String(describing: error).contains("\n"))
            }
        }
        expectError("group_size=1", mentions: "group_size")
        expectError("clip_high=-0.1", mentions: "clip_high")
        expectError("temprature=0.5", mentions: "temperature")  // did-you-mean
        expectError("loss_agg=token-sum", mentions: "token-mean")  // lists the valid names
        expectError("steps=abc", mentions: "steps")
        expectError("micro_batch_tokens=16", mentions: "token_budget")
        expectError("rollout_dtype=fp16", mentions: "bf16")  // lists the valid precisions
        expectError("tis_level=mask", mentions: "token_mask")
        expectError("tis_cap_low=1.5", mentions: "tis_cap_low")
        expectError("lora_alpha=16", mentions: "lora_rank")  // LoRA keys need a rank
        expectError("lora_targets=qkv_proj", mentions: "q_proj")  // lists the projections
        expectError("lora_rank=5000", mentions: "lora_rank")
        if GEMM.bf16Unavailable != nil { expectError("train_dtype=bf16", mentions: "bf16") }
        c.tokenBudget = 100_000
        #expect(throws: (any Error).self) { try RLTrainer(config: c, loaded: try tinyModel(), sink: MemoryMetricSink()) }
    }

    @Test func configHashIsStableAndSensitive() throws {
        let a = try smallConfig(.dapo)
        var b = try smallConfig(.dapo)
        #expect(a.hash == b.hash && a.hash.count == 64)
        try b.set("seed=4")
        #expect(a.hash != b.hash)
        let decoded = try JSONDecoder().decode(TrainConfig.self, from: a.canonicalJSON())
        #expect(decoded == a && decoded.hash == a.hash)
        // Every config records its precisions; one stored before the keys existed reads as fp32.
        let text = String(decoding: a.canonicalJSON(), as: UTF8.self)
        #expect(text.contains("\"rollout_dtype\":\"fp32\"") && text.contains("\"train_dtype\":\"fp32\""))
        let older = text.replacingOccurrences(of: ",\"rollout_dtype\":\"fp32\"", with: "")
            .replacingOccurrences(of: "\"train_dtype\":\"fp32\",", with: "")
        #expect(!older.contains("dtype"))
        #expect(try JSONDecoder().decode(TrainConfig.self, from: Data(older.utf8)) == a)
        // LoRA keys are absent without a rank; PEFT's defaults and the targets' order do not change the hash.
        #expect(!text.contains("lora"))
        var lora1 = a, lora2 = a
        for s in ["lora_rank=8"] { try lora1.set(s) }
        for s in ["lora_rank=8", "lora_alpha=8", "lora_targets=v_proj+q_proj"] { try lora2.set(s) }
        #expect(lora1.hash == lora2.hash && lora1.hash != a.hash)
        try lora2.set("lora_targets=all-linear")
        #expect(lora2.hash != lora1.hash && lora2.lora?.targets == LoRATarget.allCases)
        #expect(try JSONDecoder().decode(TrainConfig.self, from: lora2.canonicalJSON()) == lora2)
    }

    /// A bf16 sampler with an fp32 trainer: lp_old is recomputed even on-policy, the gap is logged,
    /// and the run is bit-reproducible (same config, seed and threads, twice).
    @Test(.enabled(if: GEMM.bf16Unavailable == nil, "no bf16 matmul on this CPU"))
    func bf16SamplerLogsTheMismatchAndReproduces() throws {
        var c = try smallConfig(.grpo, task: "add:digits=1,lenient=true")
        try c.set("rollout_dtype=bf16")
        try c.set("tis_level=token_mask")
        func run() throws -> ([Float], [String: Double]) {
            let loaded = try tinyModel()
            let sink = MemoryMetricSink()
            let trainer = try RLTrainer(config: c, loaded: loaded, sink: sink)
            while trainer.step < c.steps { try trainer.runStep() }
            return (loaded.model.parameters.array, sink.records.last?.metrics ?? [:])
        }
        let (p1, m1) = try run(), (p2, m2) = try run()
        #expect(bitEqual(p1, p2))
        let gap = try #require(m1["mismatch/logp_abs_mean"])
        #expect(gap > 0 && gap < 0.05, "mean |Δ log p| \(gap)")
        #expect((m1["mismatch/logp_abs_max"] ?? 0) >= gap && (m1["mismatch/k3"] ?? -1) >= 0)
        #expect(m1["tis/weight_mean"] != nil)
        let untimed = { (m: [String: Double]) in m.filter { !$0.key.hasPrefix("time/") && !$0.key.hasPrefix("perf/") } }
        #expect(untimed(m1) == untimed(m2))
    }
}

/// Array equality outside `#expect`: a failing `#expect(a == b)` on million-element arrays makes
/// Swift Testing compute a diff that takes minutes.
func bitEqual(_ a: [Float], _ b: [Float]) -> Bool { a == b }
