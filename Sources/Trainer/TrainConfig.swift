// rlhub — one training run's resolved configuration: the algorithm's hyper-parameters plus the
// run-level settings (task, model, budgets, schedules). Printed resolved at the start of a run
// and hashed (canonical JSON, SHA-256) to identify it.
import RLAlgorithms
import Crypto
import Foundation
import LM
import Tensor

/// Everything that determines a run (with the code version and thread count).
public struct TrainConfig: Codable, Sendable, Equatable {
    /// Preset name the run started from (`grpo`, `ppo`, `sft`, …).
    public var algo: String
    /// Hyper-parameters (the preset's, after `--config` and `--set`).
    public var algorithm: AlgorithmConfig
    /// Canonical task spec, e.g. `add:digits=2,format=0,lenient=false`.
    public var task: String
    /// Model reference the run starts from.
    public var model: String
    /// Optimizer steps, default 100.
    public var steps: Int = 100
    /// Held-out evaluation every N steps (and at the start and end); 0 = start and end only.
    public var evalEvery: Int = 10
    /// Held-out problems per evaluation (greedy), default 100.
    public var evalEpisodes: Int = 100
    /// Samples per held-out problem for `eval/pass_at_k` (unbiased pass@k at the sampling
    /// temperature); 1 = greedy accuracy only, default 1.
    public var evalK: Int = 1
    /// Checkpoint every N steps (and at the end); 0 = at the end only.
    public var checkpointEvery: Int = 0
    /// Tokens per episode, prompt and observations included (KV-cache capacity), default 512.
    public var tokenBudget: Int = 512
    /// Packed tokens per micro-batch (activation memory), default 4096.
    public var microBatchTokens: Int = 4096
    /// Learning-rate schedule over `steps`, default constant (TRL's default is linear decay).
    public var lrSchedule: LearningRateSchedule = .constant
    /// The PPO value head's learning rate as a multiple of `lr`, default 10: critics usually
    /// learn faster than the actor (OpenRLHF's examples: critic 9e-6, actor 5e-7), and Adam makes
    /// `vf_coef` irrelevant to the head's own step size. A separate critic's trunk trains at `lr`
    /// itself (SeparateCritic.swift).
    public var valueLRScale: Double = 10
    /// Precision of the sampler's matrix products (rollouts and held-out evaluation), default fp32.
    /// bf16 rounds the products' inputs to bf16 (fp32 accumulation): 2–4× faster where the CPU has
    /// AVX512_BF16, and a real sampler/trainer mismatch for TIS to correct when `train_dtype` is fp32.
    public var rolloutDType: GEMM.Precision = .fp32
    /// Precision of the trainer's matrix products (log-prob recomputes, forward and backward), default
    /// fp32. bf16 is mixed precision: bf16 product inputs, fp32 accumulation, master weights,
    /// gradients, AdamW, log-softmax and entropy.
    public var trainDType: GEMM.Precision = .fp32
    /// Rollout samples (RolloutSamples.swift) are recorded at every N-th training step and at
    /// every evaluation; 0 = none. nil stands for the default, 10, and is left out of the
    /// canonical JSON, so configs written before the key existed keep their hash.
    public var samplesEveryOverride: Int? = nil
    /// Trajectories recorded per sampled step and per evaluation; nil = the default, 4.
    public var samplesPerStepOverride: Int? = nil

    /// LoRA (LoRAAdapters.swift): the adapters' rank r; nil = full fine-tuning. With a rank, only the
    /// adapters train (the base is frozen and is the KL reference with the adapters off).
    public var loraRank: Int? = nil
    /// LoRA's α (scale s = α / r); nil = PEFT's default, 8.
    public var loraAlphaOverride: Double? = nil
    /// The projections LoRA adapts; nil = PEFT's default for Llama, q_proj and v_proj.
    public var loraTargetsOverride: [LoRATarget]? = nil

    /// `lora_alpha`'s default: 8 (PEFT's `LoraConfig`).
    public static let defaultLoRAAlpha = 8.0
    /// `lora_targets`' default: q_proj, v_proj (PEFT's default `target_modules` for Llama).
    public static let defaultLoRATargets: [LoRATarget] = [.q, .v]
    /// The run's LoRA configuration, or nil for full fine-tuning.
    public var lora: LoRAConfig? {
        loraRank.map {
            LoRAConfig(rank: $0, alpha: loraAlphaOverride ?? Self.defaultLoRAAlpha, targets: loraTargetsOverride ?? Self.defaultLoRATargets)
        }
    }

    /// `samples_every`'s default: 10 (the default `eval_every`).
    public static let defaultSamplesEvery = 10
    /// `samples_per_step`'s default: 4.
    public static let defaultSamplesPerStep = 4
    /// Training steps between recorded samples (0 = none): `samples_every`.
    public var samplesEvery: Int { samplesEveryOverride ?? Self.defaultSamplesEvery }
    /// Samples per recorded step: `samples_per_step`.
    public var samplesPerStep: Int { samplesPerStepOverride ?? Self.defaultSamplesPerStep }

    enum CodingKeys: String, CodingKey {
        case algo, algorithm, task, model, steps
        case evalEvery = "eval_every", evalEpisodes = "eval_episodes", evalK = "eval_k", checkpointEvery = "checkpoint_every"
        case tokenBudget = "token_budget", microBatchTokens = "micro_batch_tokens", lrSchedule = "lr_schedule"
        case valueLRScale = "value_lr_scale"
        case rolloutDType = "rollout_dtype", trainDType = "train_dtype"
        case samplesEveryOverride = "samples_every", samplesPerStepOverride = "samples_per_step"
        case loraRank = "lora_rank", loraAlphaOverride = "lora_alpha", loraTargetsOverride = "lora_targets"
    }

    /// Run-level keys settable with `--set` (the algorithm's keys are the rest).
    public static let runKeys = [
        "steps", "eval_every", "eval_episodes", "eval_k", "checkpoint_every", "token_budget", "micro_batch_tokens", "lr_schedule",
        "value_lr_scale", "rollout_dtype", "train_dtype", "samples_every", "samples_per_step",
        "lora_rank", "lora_alpha", "lora_targets",
    ]

    public init(algo: String, algorithm: AlgorithmConfig, task: String, model: String) {
        self.algo = algo
        self.algorithm = algorithm
        self.task = task
        self.model = model
    }

    /// Decodes a stored config; keys added after a run was stored take their defaults (what it ran).
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        algo = try c.decode(String.self, forKey: .algo)
        algorithm = try c.decode(AlgorithmConfig.self, forKey: .algorithm)
        task = try c.decode(String.self, forKey: .task)
        model = try c.decode(String.self, forKey: .model)
        steps = try c.decode(Int.self, forKey: .steps)
        evalEvery = try c.decode(Int.self, forKey: .evalEvery)
        evalEpisodes = try c.decode(Int.self, forKey: .evalEpisodes)
        evalK = try c.decode(Int.self, forKey: .evalK)
        checkpointEvery = try c.decode(Int.self, forKey: .checkpointEvery)
        tokenBudget = try c.decode(Int.self, forKey: .tokenBudget)
        microBatchTokens = try c.decode(Int.self, forKey: .microBatchTokens)
        lrSchedule = try c.decode(LearningRateSchedule.self, forKey: .lrSchedule)
        valueLRScale = try c.decode(Double.self, forKey: .valueLRScale)
        rolloutDType = try c.decodeIfPresent(GEMM.Precision.self, forKey: .rolloutDType) ?? .fp32
        trainDType = try c.decodeIfPresent(GEMM.Precision.self, forKey: .trainDType) ?? .fp32
        samplesEveryOverride = try c.decodeIfPresent(Int.self, forKey: .samplesEveryOverride)
        samplesPerStepOverride = try c.decodeIfPresent(Int.self, forKey: .samplesPerStepOverride)
        loraRank = try c.decodeIfPresent(Int.self, forKey: .loraRank)
        loraAlphaOverride = try c.decodeIfPresent(Double.self, forKey: .loraAlphaOverride)
        loraTargetsOverride = try c.decodeIfPresent([LoRATarget].self, forKey: .loraTargetsOverride)
    }

    /// Applies `key=value`: run-level keys here, the rest to the algorithm.
    public mutating func set(_ assignment: String) throws(ConfigError) {
        guard let eq = assignment.firstIndex(of: "=") else {
            throw ConfigError(file: "--set", field: assignment, message: "expected key=value")
        }
        let key = String(assignment[..<eq]).trimmingCharacters(in: .whitespaces)
        let value = String(assignment[assignment.index(after: eq)...]).trimmingCharacters(in: .whitespaces)
        func int() throws(ConfigError) -> Int {
            guard let v = Int(value), v >= 0 else {
                throw ConfigError(file: "--set", field: key, message: "must be a non-negative integer, got '\(value)'")
            }
            return v
        }
        switch key {
        case "steps": steps = try int()
        case "eval_every": evalEvery = try int()
        case "eval_episodes": evalEpisodes = try int()
        case "eval_k":
            let k = try int()
            guard k >= 1 else { throw ConfigError(file: "--set", field: key, message: "must be ≥ 1, got \(k)") }
            evalK = k
        case "checkpoint_every": checkpointEvery = try int()
        case "token_budget": tokenBudget = try int()
        case "micro_batch_tokens": microBatchTokens = try int()
        case "value_lr_scale":
            guard let v = Double(value), v > 0 else {
                throw ConfigError(file: "--set", field: key, message: "must be a positive number, got '\(value)'")
            }
            valueLRScale = v
        // The default is stored as nil (absent from the canonical JSON): the same run, the same hash.
        case "samples_every":
            let v = try int()
            samplesEveryOverride = v == Self.defaultSamplesEvery ? nil : v
        case "samples_per_step":
            let v = try int()
            samplesPerStepOverride = v == Self.defaultSamplesPerStep ? nil : v
        case "lora_rank", "lora_alpha", "lora_targets": try setLoRA(key, value)
        case "lr_schedule":
            guard let s = LearningRateSchedule(rawValue: value) else {
                throw ConfigError(
                    file: "--set", field: key,
                    message: "'\(value)' is not a schedule; valid: \(LearningRateSchedule.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            lrSchedule = s
        case "rollout_dtype", "train_dtype":
            guard let p = GEMM.Precision(rawValue: value) else {
                throw ConfigError(
                    file: "--set", field: key,
                    message: "'\(value)' is not a precision; valid: \(GEMM.Precision.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            if key == "rollout_dtype" { rolloutDType = p } else { trainDType = p }
        default: try algorithm.set(key, to: value)
        }
    }

    /// Checks the whole configuration; messages say what to change.
    public func validate() throws(ConfigError) {
        try algorithm.validate()
        if steps < 1 { throw ConfigError(file: "--set", field: "steps", message: "must be ≥ 1") }
        if tokenBudget < 16 { throw ConfigError(file: "--set", field: "token_budget", message: "must be ≥ 16") }
        for (key, value) in [("steps", steps), ("eval_episodes", evalEpisodes), ("eval_k", evalK), ("token_budget", tokenBudget),
                             ("micro_batch_tokens", microBatchTokens), ("samples_per_step", samplesPerStep)] where value > Self.upperBounds[key]! {
            throw ConfigError(file: "--set", field: key, message: "must be ≤ \(Self.upperBounds[key]!), got \(value)")
        }
        for (key, p) in [("rollout_dtype", rolloutDType), ("train_dtype", trainDType)] where p == .bf16 {
            if let reason = GEMM.bf16Unavailable { throw ConfigError(file: "--set", field: key, message: "bf16: \(reason)") }
        }
        try validateLoRA()
        if microBatchTokens < tokenBudget {
            throw ConfigError(
                file: "--set", field: "micro_batch_tokens",
                message: "must be ≥ token_budget (\(tokenBudget)) so one episode fits a micro-batch")
        }
    }

    /// The largest value of each run-level size (checked by ``validate()`` before anything is
    /// sized by it): steps ≤ 10⁸, eval_episodes ≤ 10⁶, eval_k ≤ 1024, token_budget ≤ 131072
    /// (rlhub's longest context), micro_batch_tokens ≤ 2²⁰, samples_per_step ≤ 64.
    public static let upperBounds: [String: Int] = [
        "steps": 100_000_000, "eval_episodes": 1_000_000, "eval_k": 1024, "token_budget": 1 << 17,
        "micro_batch_tokens": 1 << 20, "samples_per_step": 64, "lora_rank": 4096,
    ]

    /// Canonical JSON (sorted keys): what the config hash covers.
    public func canonicalJSON() -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return (try? encoder.encode(self)) ?? Data()
    }

    /// SHA-256 of ``canonicalJSON()`` in hex.
    public var hash: String {
        SHA256.hash(data: canonicalJSON()).map { String(format: "%02x", $0) }.joined()
    }

    /// Indented JSON for printing at the start of a run.
    public func prettyJSON() -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted]
        return String(decoding: (try? encoder.encode(self)) ?? Data(), as: UTF8.self)
    }
}
