// No key is silently ignored: for every key `rlhub train --help-config` lists, one short run on
// `tiny` with the key's value changed (in a configuration where the key matters) differs from
// the unchanged run in what the key is documented to change — the rollout, the advantages, the
// update, a metric, the evaluations or the checkpoints. Combinations where a key cannot matter
// are refused or warned about in one line (cases below too). A key added to AlgorithmConfig.Key
// or TrainConfig.runKeys without a case here fails `everyKeyHasACase`. The table of cases is
// docs/settings.md (RLHUB_WRITE_DOCS=1 rewrites it; `settingsTableIsCurrent` checks it).
//
// The suite also plays every preset (and ReMax, CISPO, GMPO) on every task for two steps, so
// that no preset × task combination can crash.
import RLAlgorithms
import Foundation
import Generator
import LM
import Tasks
import Tensor
import Testing
import Trainer

/// The task of the suite's runs: the random `tiny` model answers 1-digit sums right about 6 % of
/// the time with lenient parsing, so most 8-sample groups are mixed and advantages are non-zero.
let effectTask = "add:digits=1,lenient=true"

/// The multi-turn task of the suite: guesses in 1…3 with lenient parsing, so the random model
/// plays several turns and sometimes wins (PPO's critic and bi-level GAE need a reward to see).
let effectMultiTurnTask = "guess:lenient=true,max=3"

/// What a key is documented to change, as the suite observes it.
enum SettingEffect: Sendable {
    /// The played trajectories (tokens) of some step.
    case rollout
    /// The advantage statistics (`adv/*`, `returns/mean`) of some step.
    case advantages
    /// The policy's parameters after the run.
    case update
    /// The named metric at some step (its value, or whether it is logged at all).
    case metric(String)
    /// The held-out evaluations (how many, of how many episodes).
    case evaluation
    /// When checkpoints are written.
    case checkpoints
    /// How many steps run.
    case steps
    /// Which rollout samples are recorded (steps and counts; RolloutSamples.swift).
    case samples
    /// Nothing the run computes, beyond rounding: the loss and gradient norm agree to 1e-6.
    case roundingOnly
    /// The changed configuration is refused by validation with a message containing this text.
    case refused(String)
    /// The changed run warns once with a message containing this text.
    case warned(String)

    var label: String {
        switch self {
        case .rollout: "the rollout (sampled tokens)"
        case .advantages: "the advantages"
        case .update: "the update (parameters)"
        case .metric(let name): "metric `\(name)`"
        case .evaluation: "the held-out evaluations"
        case .checkpoints: "the checkpoint schedule"
        case .steps: "the number of steps"
        case .samples: "the recorded rollout samples"
        case .roundingOnly: "memory only (loss and gradient norm equal to rounding)"
        case .refused(let text): "refused: “\(text)”"
        case .warned(let text): "warning: “\(text)”"
        }
    }
}

/// One key, changed from its value in `base` to `changed`, and what must follow.
struct SettingCase: Sendable, CustomTestStringConvertible {
    let key: String
    var preset: AlgorithmPreset = .grpo
    var task: String = effectTask
    var steps = 1
    /// Settings that make the key matter (applied before the change, to both runs).
    var base: [String] = []
    let changed: String
    let effect: SettingEffect
    /// Where the effect is implemented.
    let file: String

    var testDescription: String { "\(key)=\(changed) [\(effect.label)]" }
}

extension SettingCase {
    // swift-format-ignore
    static let all: [SettingCase] = [
        // Objective, estimator, loss.
        .init(key: "objective", changed: "dpo", effect: .metric("dpo/pairs"), file: "Trainer/RLTrainer.swift"),
        .init(key: "estimator", changed: "rloo", effect: .advantages, file: "Algorithms/AdvantageEstimator.swift"),
        .init(key: "estimator", changed: "remax", effect: .advantages, file: "Trainer/Rollout.swift"),
        .init(key: "policy_loss", changed: "gspo", effect: .update, file: "Algorithms/PolicyObjective.swift"),
        .init(key: "loss_agg", changed: "seq-mean-token-mean", effect: .update, file: "Algorithms/LossAggregation.swift"),
        .init(key: "loss_norm_constant", base: ["loss_agg=seq-mean-token-sum-norm"], changed: "64", effect: .metric("grad_norm"), file: "Algorithms/LossAggregation.swift"),
        .init(key: "loss_norm_constant", changed: "64", effect: .warned("loss_norm_constant has no effect"), file: "Algorithms/AlgorithmConfig+Effects.swift"),
        // Rollout.
        .init(key: "prompts_per_step", changed: "2", effect: .rollout, file: "Trainer/Rollout.swift"),
        .init(key: "group_size", changed: "4", effect: .rollout, file: "Trainer/Rollout.swift"),
        .init(key: "max_new_tokens", changed: "4", effect: .rollout, file: "Generator/EpisodeRunner.swift"),
        .init(key: "temperature", changed: "0.5", effect: .rollout, file: "Generator/Sampler.swift"),
        .init(key: "seed", changed: "2", effect: .rollout, file: "Trainer/Rollout.swift"),
        // Optimisation.
        .init(key: "lr", changed: "5e-4", effect: .update, file: "Trainer/PolicyUpdate.swift"),
        .init(key: "weight_decay", changed: "0.5", effect: .update, file: "LM/Training/AdamW.swift"),
        .init(key: "max_grad_norm", changed: "0.001", effect: .update, file: "LM/Training/GradientClipping.swift"),
        .init(key: "warmup_steps", changed: "5", effect: .metric("lr"), file: "LM/Training/LearningRateSchedule.swift"),
        .init(key: "ppo_epochs", changed: "2", effect: .metric("optimizer_steps"), file: "Trainer/PolicyUpdate.swift"),
        .init(key: "mini_batches", changed: "2", effect: .metric("optimizer_steps"), file: "Trainer/PolicyUpdate.swift"),
        // Clipping: only off-policy (more than one gradient step per rollout batch).
        .init(key: "clip_low", base: ["ppo_epochs=3", "lr=1e-2"], changed: "0.01", effect: .update, file: "Algorithms/PPOClip.swift"),
        .init(key: "clip_high", base: ["ppo_epochs=3", "lr=1e-2"], changed: "0.01", effect: .update, file: "Algorithms/PPOClip.swift"),
        .init(key: "clip_high", changed: "0.28", effect: .warned("the ratio is exactly 1"), file: "Algorithms/AlgorithmConfig+Effects.swift"),
        .init(key: "dual_clip", base: ["ppo_epochs=3", "lr=1e-2"], changed: "1.0001", effect: .update, file: "Algorithms/PPOClip.swift"),
        // KL.
        .init(key: "kl_coef", steps: 2, changed: "0.1", effect: .metric("loss/kl"), file: "Algorithms/PolicyObjective.swift"),
        .init(key: "kl_in_reward", base: ["kl_coef=0.1"], changed: "true", effect: .metric("kl/in_reward"), file: "Algorithms/AdvantageEstimator.swift"),
        .init(key: "kl_estimator", steps: 2, base: ["kl_coef=0.1"], changed: "k1", effect: .metric("kl/ref"), file: "Algorithms/KL.swift"),
        .init(key: "kl_estimator", base: ["kl_coef=0"], changed: "k1", effect: .warned("kl_coef is 0"), file: "Algorithms/AlgorithmConfig+Effects.swift"),
        .init(key: "kl_target", steps: 2, base: ["kl_coef=0.1", "kl_in_reward=true"], changed: "0.01", effect: .metric("kl/coef"), file: "Trainer/PolicyUpdate.swift"),
        .init(key: "kl_target", base: ["kl_coef=0.1"], changed: "0.01", effect: .refused("reward form"), file: "Algorithms/AlgorithmConfig.swift"),
        .init(key: "kl_target", base: ["kl_coef=0", "kl_in_reward=true"], changed: "0.01", effect: .refused("kl_coef > 0"), file: "Algorithms/AlgorithmConfig.swift"),
        .init(key: "kl_horizon", steps: 2, base: ["kl_coef=0.1", "kl_in_reward=true", "kl_target=0.01"], changed: "100", effect: .metric("kl/coef"), file: "Algorithms/KL.swift"),
        // Entropy, advantages.
        .init(key: "entropy_coef", changed: "0.01", effect: .metric("loss/entropy"), file: "Algorithms/PolicyObjective.swift"),
        .init(key: "scale_rewards", changed: "none", effect: .advantages, file: "Algorithms/GRPO.swift"),
        .init(key: "std_eps", changed: "0.5", effect: .advantages, file: "Algorithms/GRPO.swift"),
        .init(key: "gamma", base: ["estimator=reinforce_plus_plus"], changed: "0.5", effect: .advantages, file: "Algorithms/ReinforcePlusPlus.swift"),
        .init(key: "gamma", changed: "0.5", effect: .warned("gamma has no effect"), file: "Algorithms/AlgorithmConfig+Effects.swift"),
        .init(key: "lam", preset: .ppo, task: effectMultiTurnTask, changed: "0.5", effect: .advantages, file: "Algorithms/GAE.swift"),
        .init(key: "bi_level_gae", preset: .ppo, task: effectMultiTurnTask, changed: "true", effect: .advantages, file: "Algorithms/GAE.swift"),
        .init(key: "turn_gamma", preset: .ppo, task: effectMultiTurnTask, base: ["bi_level_gae=true"], changed: "0.5", effect: .advantages, file: "Algorithms/GAE.swift"),
        // Critic.
        .init(key: "vf_coef", preset: .ppo, task: effectMultiTurnTask, base: ["critic=shared"], changed: "0.5", effect: .metric("loss/value"), file: "Algorithms/PolicyObjective.swift"),
        .init(key: "value_clip", preset: .ppo, task: effectMultiTurnTask, changed: "0.001", effect: .metric("value/clipfrac"), file: "Algorithms/ValueLoss.swift"),
        .init(key: "critic", preset: .ppo, task: effectMultiTurnTask, changed: "shared", effect: .update, file: "Trainer/Critic.swift"),
        // Off-policy correction.
        .init(key: "tis_level", changed: "none", effect: .metric("tis/weight_mean"), file: "Algorithms/TruncatedImportanceSampling.swift"),
        .init(key: "tis_cap", base: ["tis_level=none"], changed: "3", effect: .warned("tis_level is none"), file: "Algorithms/AlgorithmConfig+Effects.swift"),
        .init(key: "tis_cap_low", base: ["tis_level=token_mask", "rollout_dtype=bf16"], changed: "0.9999", effect: .metric("tis/clip_frac"), file: "Algorithms/TruncatedImportanceSampling.swift"),
        .init(key: "tis_cap_low", changed: "0.5", effect: .warned("not a masking level"), file: "Algorithms/AlgorithmConfig+Effects.swift"),
        // GRPO++.
        .init(key: "dynamic_sampling", changed: "true", effect: .metric("dynamic_sampling/rounds"), file: "Trainer/Rollout.swift"),
        .init(key: "max_resample_rounds", base: ["dynamic_sampling=true", "prompts_per_step=8"], changed: "1", effect: .metric("dynamic_sampling/rounds"), file: "Algorithms/DynamicSampling.swift"),
        .init(key: "overlong_filter", changed: "true", effect: .metric("tokens"), file: "Trainer/PolicyUpdate.swift"),
        .init(key: "overlong_buffer", base: ["overlong_penalty=1", "overlong_buffer=2"], changed: "6", effect: .advantages, file: "Algorithms/OverlongShaping.swift"),
        .init(key: "overlong_penalty", base: ["overlong_buffer=4"], changed: "1", effect: .advantages, file: "Algorithms/OverlongShaping.swift"),
        // DPO.
        .init(key: "dpo_beta", preset: .dpo, changed: "0.5", effect: .update, file: "Algorithms/DPO.swift"),
        .init(key: "dpo_variant", preset: .dpo, changed: "ipo", effect: .update, file: "Algorithms/DPO.swift"),
        .init(key: "label_smoothing", preset: .dpo, base: ["dpo_variant=cdpo"], changed: "0.2", effect: .update, file: "Algorithms/DPO.swift"),
        .init(key: "label_smoothing", preset: .dpo, changed: "0.2", effect: .refused("cdpo"), file: "Algorithms/AlgorithmConfig.swift"),
        // Run keys.
        .init(key: "steps", changed: "2", effect: .steps, file: "Trainer/TrainerRun.swift"),
        .init(key: "eval_every", steps: 2, base: ["eval_episodes=4"], changed: "1", effect: .evaluation, file: "Trainer/TrainerRun.swift"),
        .init(key: "eval_episodes", base: ["eval_episodes=4"], changed: "6", effect: .evaluation, file: "Generator/HeldOutEvaluation.swift"),
        .init(key: "eval_k", base: ["eval_episodes=4"], changed: "2", effect: .metric("eval/pass_at_k"), file: "Trainer/TrainerRun.swift"),
        .init(key: "checkpoint_every", steps: 2, changed: "1", effect: .checkpoints, file: "Trainer/TrainerRun.swift"),
        .init(key: "token_budget", task: effectMultiTurnTask, changed: "192", effect: .rollout, file: "Generator/EpisodeRunner.swift"),
        .init(key: "micro_batch_tokens", changed: "128", effect: .roundingOnly, file: "Trainer/BatchBuilder.swift"),
        .init(key: "lr_schedule", steps: 2, changed: "linear", effect: .metric("lr"), file: "LM/Training/LearningRateSchedule.swift"),
        .init(key: "value_lr_scale", preset: .ppo, task: effectMultiTurnTask, steps: 2, changed: "1", effect: .metric("value/mean"), file: "Trainer/PolicyUpdate.swift"),
        // Precision (bf16 cases are refused, as the key documents, on a CPU without a bf16 matmul).
        .init(key: "rollout_dtype", changed: "bf16", effect: .metric("mismatch/logp_abs_mean"), file: "Trainer/PolicyUpdate.swift"),
        .init(key: "train_dtype", changed: "bf16", effect: .update, file: "LM/Model/LlamaTraining.swift"),
        .init(key: "samples_every", steps: 2, changed: "1", effect: .samples, file: "Trainer/RolloutSamples.swift"),
        .init(key: "samples_per_step", steps: 2, base: ["samples_every=1"], changed: "2", effect: .samples, file: "Trainer/RolloutSamples.swift"),
        // LoRA: the base stops moving; α scales the adapters' gradient; the targets add adapters.
        .init(key: "lora_rank", changed: "4", effect: .update, file: "LM/Model/LoRAAdapters.swift"),
        .init(key: "lora_alpha", base: ["lora_rank=4"], changed: "16", effect: .metric("grad_norm"), file: "LM/Model/LoRAAdapters.swift"),
        .init(key: "lora_targets", base: ["lora_rank=4"], changed: "all-linear", effect: .metric("grad_norm"), file: "LM/Model/LoRAAdapters.swift"),
    ]
}

/// The suite's run settings: `tiny`, 4 prompts × 8 samples of at most 8 tokens, 4 held-out problems.
func effectConfig(_ preset: AlgorithmPreset, task: String, steps: Int, _ settings: [String]) throws -> TrainConfig {
    var c = TrainConfig(algo: preset.rawValue, algorithm: preset.config, task: try TaskRegistry.canonicalSpec(task), model: "preset:tiny")
    c.steps = steps
    c.evalEvery = 0
    c.evalEpisodes = 0  // the evaluation cases set it
    c.tokenBudget = 128
    c.microBatchTokens = 512
    for a in ["prompts_per_step=4", "max_new_tokens=8", "lr=1e-3", "seed=1"] { try c.set(a) }
    try c.set(preset == .ppo ? "prompts_per_step=8" : "group_size=8")
    if preset == .gspo { try c.set("mini_batches=2") }
    if preset == .dapo { try c.set("overlong_buffer=4") }
    for s in settings { try c.set(s) }
    return c
}

/// Everything a short run shows of itself.
final class ObservedRun {
    var trajectories: [[Trajectory]] = []
    var records: [(step: Int, metrics: [String: Double])] = []
    var parameters: [Float] = []
    var warnings: [String] = []
    var evaluations: [EvaluationSummary] = []
    var checkpoints: [Int] = []
    /// (step, kind, count) of every recorded batch of rollout samples.
    var samples: [String] = []

    /// Trains `config` on a fresh `tiny` (initialised from the run's seed, as `rlhub train` does)
    /// and records what it did.
    /// - Parameter checkpoints: write checkpoints on the run's schedule (into a temporary folder).
    init(_ config: TrainConfig, checkpoints: Bool = false) throws {
        let loaded = try ModelLoader.load("preset:tiny", seed: UInt64(config.algorithm.seed))
        let sink = MemoryMetricSink()
        let trainer = try RLTrainer(config: config, loaded: loaded, sink: sink)
        trainer.onRollout = { [unowned self] in self.trajectories.append($1) }
        trainer.onWarning = { [unowned self] in self.warnings.append($0) }
        trainer.onEvaluation = { [unowned self] in self.evaluations.append($1) }
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("effects-\(UUID())").path
        defer { try? FileManager.default.removeItem(atPath: root) }
        try trainer.train(checkpointRoot: checkpoints ? root : nil, onCheckpoint: { [unowned self] s, _ in self.checkpoints.append(s) }) { _, _ in }
        records = sink.records
        samples = sink.samples.map { "\($0.step) \($0.samples.first?.kind.rawValue ?? "-") \($0.samples.count)" }
        parameters = loaded.model.parameters.array
    }

    /// Values of `name` by step (training records only; evaluations are separate records).
    func series(_ name: String) -> [Int: Double] {
        var out: [Int: Double] = [:]
        for r in records where r.metrics["rollout/episodes"] != nil || r.metrics["dpo/pairs"] != nil {
            if let v = r.metrics[name] { out[r.step] = v }
        }
        return out
    }
}

@Suite("Settings effects")
struct SettingsEffectTests {
    @Test(arguments: SettingCase.all)
    func keyHasItsDocumentedEffect(_ c: SettingCase) throws {
        if let reason = GEMM.bf16Unavailable, (c.base + [c.changed]).contains(where: { $0.hasSuffix("bf16") }) {
            // This CPU refuses bf16 settings in one line; the documented effect needs one that has them.
            var config = try effectConfig(c.preset, task: c.task, steps: c.steps, [])
            let error = #expect(throws: ConfigError.self) {
                for a in c.base + ["\(c.key)=\(c.changed)"] { try config.set(a) }
                try config.validate()
            }
            #expect(error.map { "\($0)" }?.contains("bf16") == true, "\(reason)")
            return
        }
        let base = try effectConfig(c.preset, task: c.task, steps: c.steps, c.base)
        try base.validate()
        var changed = base
        if case .refused(let text) = c.effect {
            let error = #expect(throws: ConfigError.self) {
                try changed.set("\(c.key)=\(c.changed)")
                try changed.validate()
            }
            let message = error.map { "\($0)" } ?? ""
            #expect(message.contains(text) && message.contains(c.key) && !message.contains("\n"), "\(message)")
            return
        }
        try changed.set("\(c.key)=\(c.changed)")
        #expect(changed.hash != base.hash, "\(c.key): the changed value must change the config hash")
        let checkpoints = c.key == "checkpoint_every"
        let a = try ObservedRun(base, checkpoints: checkpoints), b = try ObservedRun(changed, checkpoints: checkpoints)
        switch c.effect {
        case .rollout:
            let differs = a.trajectories.map { $0.map(\.tokens) } != b.trajectories.map { $0.map(\.tokens) }
            #expect(differs, "same rollout")
        case .advantages:
            let keys = ["adv/mean", "adv/std", "adv/min", "adv/max", "returns/mean"]
            #expect(keys.contains { a.series($0) != b.series($0) }, "advantages equal: \(keys.map { a.series($0) })")
            #expect(keys.contains { a.series($0).values.contains { $0 != 0 } }, "the unchanged run must have non-zero advantages")
        case .update:
            let differs = a.parameters != b.parameters
            #expect(differs, "same parameters after the run")
        case .metric(let name):
            #expect(a.series(name) != b.series(name) || evaluationMetric(name, a) != evaluationMetric(name, b), "\(name): \(a.series(name))")
        case .evaluation:
            #expect(a.evaluations.map { [$0.episodes, $0.problems] } != b.evaluations.map { [$0.episodes, $0.problems] })
        case .checkpoints:
            #expect(a.checkpoints != b.checkpoints, "\(a.checkpoints)")
        case .steps:
            #expect(a.series("rollout/episodes").count != b.series("rollout/episodes").count)
        case .samples:
            #expect(a.samples != b.samples, "\(a.samples)")
        case .roundingOnly:
            for name in ["loss/total", "grad_norm"] {
                let x = a.series(name), y = b.series(name)
                #expect(x.keys == y.keys && !x.isEmpty)
                for (step, v) in x { #expect(abs(v - y[step]!) <= 1e-6 * max(1, abs(v)), "\(name) at \(step): \(v) vs \(y[step]!)") }
            }
        case .warned(let text):
            let added = b.warnings.filter { !a.warnings.contains($0) }
            #expect(added.count == 1 && added[0].contains(text) && added[0].contains(c.key), "\(b.warnings)")
        case .refused: break
        }
    }

    /// A metric that is logged with the evaluations (pass@k) rather than the steps.
    private func evaluationMetric(_ name: String, _ run: ObservedRun) -> [Double] {
        run.records.compactMap { $0.metrics[name] }
    }

    @Test func everyKeyHasACase() {
        let covered = Set(SettingCase.all.map(\.key))
        let keys = AlgorithmConfig.Key.allCases.map(\.rawValue) + TrainConfig.runKeys
        let missing = keys.filter { !covered.contains($0) }
        #expect(missing.isEmpty, "keys without a settings-effect case: \(missing)")
        #expect(covered.isSubset(of: Set(keys)), "cases for unknown keys: \(covered.subtracting(keys))")
    }

    @Test func settingsTableIsCurrent() throws {
        let path = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../docs/settings.md").standardized.path
        let table = SettingCase.markdownTable()
        if ProcessInfo.processInfo.environment["RLHUB_WRITE_DOCS"] == "1" {
            try table.write(toFile: path, atomically: true, encoding: .utf8)
        }
        let current = (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
        #expect(current == table, "docs/settings.md is out of date: run RLHUB_WRITE_DOCS=1 swift test --filter settingsTableIsCurrent")
    }

    /// Every preset, and the estimators and losses no preset uses, on every task for two steps:
    /// finite metrics and no crash (multi-turn and tool use included).
    @Test(arguments: TaskRegistry.names)
    func everyPresetRunsOnEveryTask(_ task: String) throws {
        let variants: [(AlgorithmPreset, [String])] =
            AlgorithmPreset.allCases.map { ($0, []) }
            + [(.grpo, ["estimator=remax"]), (.grpo, ["policy_loss=cispo"]), (.grpo, ["policy_loss=gmpo", "clip_low=0.4", "clip_high=0.4"])]
        for (preset, settings) in variants {
            // A smaller batch than the effect cases: this test is about running, not about signal.
            let size = preset == .ppo ? ["prompts_per_step=4"] : ["prompts_per_step=2", "group_size=4"]
            let config = try effectConfig(preset, task: task == "add" ? effectTask : task, steps: 2, size + settings)
            let run = try ObservedRun(config)
            let steps = run.records.filter { $0.metrics["time/step_s"] != nil }
            #expect(steps.count == 2, "\(preset.rawValue) \(settings) on \(task)")
            for r in steps {
                for (k, v) in r.metrics { #expect(v.isFinite, "\(preset.rawValue) \(settings) on \(task): step \(r.step) \(k) = \(v)") }
            }
        }
    }
}

extension SettingCase {
    /// docs/settings.md: every case as a table row.
    static func markdownTable() -> String {
        var lines = [
            "# What each setting changes",
            "",
            "Generated from `Tests/TrainerTests/SettingsEffectTests.swift` (`RLHUB_WRITE_DOCS=1 swift test --filter settingsTableIsCurrent`).",
            "Each row is a test case of `SettingsEffectTests.keyHasItsDocumentedEffect`: one short run of `preset:tiny`",
            "with the key changed, against the same run without the change, must differ in what the row names",
            "(or the change must be refused or warned about). Every key of `rlhub train --help-config` has at",
            "least one row; the suite fails for a key that has none.",
            "",
            "| key | change | in (preset, task, other settings) | changes | where (Sources/) |",
            "|---|---|---|---|---|",
        ]
        for c in all {
            let context = ([c.preset.rawValue, "`\(c.task)`"] + c.base.map { "`\($0)`" } + (c.steps > 1 ? ["\(c.steps) steps"] : []))
                .joined(separator: ", ")
            lines.append("| `\(c.key)` | `\(c.changed)` | \(context) | \(c.effect.label) | `\(c.file)` |")
        }
        return lines.joined(separator: "\n") + "\n"
    }
}
