// rlhub — the training loop: rollout → rewards → advantages → ppo_epochs × mini-batches of
// micro-batched updates (algorithms.md §9), for every preset (RL objectives, DPO, SFT).
//
// One step, in order:
//   1. play episodes (Rollout.swift), or replay gold demonstrations for SFT; ReMax also decodes
//      each prompt greedily for its baseline;
//   2. shape rewards (overlong, per policy turn) and masks (overlong filter);
//   3. score the rollouts without gradient when the objective needs old/reference log-probs or
//      values (off-policy epochs, KL, PPO's critic) — and only then;
//   4. advantages over the whole rollout batch; the adaptive KL controller's next β;
//   5. for each epoch and mini-batch: zero gradients, forward + objective + backward per
//      micro-batch with the mini-batch's global normalisers;
//   6. clip, AdamW (skipped when the mini-batch has no loss tokens).
// Stages 2–6 are PolicyUpdate.swift (DPOUpdate.swift for DPO).
import RLAlgorithms
import Foundation
import Generator
import LM
import RLHubCore
import Tasks
import Tensor

/// Trains one run. Owns the policy, its optimizer, the optional reference model and PPO's critic.
public final class RLTrainer {
    public let config: TrainConfig
    public let loaded: LoadedModel
    var model: LlamaModel { loaded.model }
    let reference: LlamaModel?
    let task: any RLTask
    let runner: EpisodeRunner
    let optimizer: AdamW
    /// A LoRA run's base (its starting model, adapters off): SHA-256 of its parameters, recorded
    /// with every checkpoint; nil when every parameter trains.
    let baseHash: String?
    /// How a LoRA checkpoint names its base: the run's model reference unless the caller knows a
    /// better one (a grid worker records a store checkpoint by its content hash, `sha256:HEX`).
    public var baseReference: String
    /// PPO's critic (``Critic``): a head on the policy's trunk or a separate copy (`critic` key).
    let critic: (any Critic)?
    public let sink: MetricSink
    var state: TrainerState
    let endTokens: Set<Int32>

    /// Optimizer steps completed.
    public var step: Int { state.step }
    /// Whether rows that carry no gradient are left out of the update (InertRows.swift), default
    /// true. The update is the same either way; false computes every row (to check that, or to
    /// time the full update).
    public var skipsInertRows = true
    /// Called with (step, summary) after every held-out evaluation (the store records scores).
    public var onEvaluation: ((Int, EvaluationSummary) -> Void)?
    /// Called with (step, trajectories) after each step's rollouts are played, before the update.
    public var onRollout: ((Int, [Trajectory]) -> Void)?
    /// Receives one-line warnings about the run (each kind once per run); default: standard error.
    public var onWarning: (String) -> Void = { FileHandle.standardError.write(Data("warning: \($0)\n".utf8)) }
    /// Kinds of warning already given.
    var warningsGiven: Set<String> = []

    /// - Throws: ``ConfigError`` / ``InputError`` for a bad configuration or task.
    public init(config: TrainConfig, loaded: LoadedModel, sink: MetricSink) throws {
        try config.validate()
        self.config = config
        self.loaded = loaded
        self.sink = sink
        task = try TaskRegistry.make(config.task)
        guard config.tokenBudget <= loaded.model.config.maxPositionEmbeddings else {
            throw ConfigError(
                file: "--set", field: "token_budget",
                message: "\(config.tokenBudget) exceeds the model's \(loaded.model.config.maxPositionEmbeddings) positions")
        }
        // The sampler (rollouts, evaluation) and the trainer run their products at their own precisions.
        loaded.model.inferencePrecision = config.rolloutDType
        loaded.model.trainingPrecision = config.trainDType
        runner = EpisodeRunner(model: loaded.model, tokenizer: loaded.tokenizer, template: loaded.chatTemplate)
        let adamW = AdamWConfig(weightDecay: Float(config.algorithm.weightDecay))
        // A run that starts from a LoRA checkpoint starts from that model merged: its base.
        loaded.model.mergeAdapters()
        baseHash = config.lora == nil ? nil : LoRACheckpoint.parameterHash(loaded.model)
        baseReference = config.model
        if let lora = config.lora {
            // LoRA: the adapters alone train (AdamW's moments are theirs, decayed as PEFT + HF
            // Trainer decay them: every adapter matrix), and the base with the adapters off is the reference.
            let adapters = LoRAAdapters(for: loaded.model, config: lora, seed: UInt64(config.algorithm.seed))
            loaded.model.adapters = adapters
            optimizer = AdamW(count: adapters.parameterCount, decayRanges: [0..<adapters.parameterCount], config: adamW)
        } else {
            optimizer = AdamW(layout: loaded.model.layout, config: adamW)
        }
        if config.algorithm.needsReferenceModel && config.lora == nil {
            let ref = LlamaModel(config: loaded.model.config)
            ref.copyParameters(from: loaded.model)
            ref.trainingPrecision = config.trainDType
            reference = ref
        } else {
            reference = nil
        }
        if config.algorithm.needsValueHead {
            switch config.algorithm.critic {
            case .shared: critic = SharedCritic(policy: loaded.model)
            case .separate:
                critic = SeparateCritic(
                    copying: loaded.model, weightDecay: Float(config.algorithm.weightDecay),
                    maxGradNorm: config.algorithm.maxGradNorm)
            }
        } else {
            critic = nil
        }
        state = TrainerState(
            step: 0, optimizerStep: 0, valueOptimizerStep: nil, problemCursor: 0, configHash: config.hash,
            klCoef: config.algorithm.klTarget != nil ? config.algorithm.klCoef : nil)
        let tok = loaded.tokenizer
        endTokens = Set([tok.eosTokenID, tok.id(for: "<|im_end|>"), tok.id(for: "<|endoftext|>")].compactMap { $0 })
    }

    // MARK: - What trains: every parameter, or with LoRA the adapters only

    /// Number of trained parameters (the adapters' with LoRA).
    public var trainedParameterCount: Int { trainedParameters.count }
    /// Bytes of the policy optimizer's state (AdamW's two moments).
    public var optimizerStateBytes: Int { (optimizer.m.count + optimizer.v.count) * 4 }

    /// The weights the optimizer updates.
    var trainedParameters: FloatBuffer { model.adapters?.parameters ?? model.parameters }
    /// Their gradients, accumulated by `model.backward`.
    var trainedGradients: FloatBuffer { model.adapters?.gradients ?? model.gradients }
    /// Zeroes ``trainedGradients`` (backward accumulates).
    func zeroTrainedGradients() {
        if let adapters = model.adapters { adapters.zeroGradients() } else { model.zeroGradients() }
    }
    /// Whether the objective has a frozen reference to score against (KL, DPO).
    var hasReference: Bool { reference != nil || (model.adapters != nil && config.algorithm.needsReferenceModel) }
    /// Log-probs of `batch` under the frozen reference: the starting model's copy, or with LoRA the
    /// policy's own weights with the adapters off (no second copy of the model exists). Overwrites
    /// the policy's saved activations in the LoRA case: call it before the policy's forward.
    func logprobsUnderReference(_ batch: TrainingBatch, temperature: Float) -> [Float] {
        if let reference { return reference.forward(batch, temperature: temperature).logprobs }
        precondition(hasReference, "referenceLogprobs: the objective has no reference")
        model.adaptersEnabled = false
        defer { model.adaptersEnabled = true }
        return model.forward(batch, temperature: temperature).logprobs
    }

    // MARK: - One step

    /// Runs optimizer step `step + 1` and returns its metrics (also sent to the sink).
    @discardableResult
    public func runStep() throws -> [String: Double] {
        let step = state.step + 1
        let algorithm = config.algorithm
        for (key, message) in algorithm.ineffectiveSettings() { warnOnce(key.rawValue, message) }
        let t0 = Date()
        let rollout = algorithm.objective == .sft ? try collectDemonstrations(step: step) : try collectRollouts(step: step)
        onRollout?(step, rollout.trajectories)
        var metrics = rollout.metrics
        metrics["time/generate_s"] = rollout.seconds
        metrics.merge(rolloutStatistics(rollout.trajectories)) { $1 }
        let t1 = Date()
        var rollouts = RolloutBatch(rollout.trajectories, endTokens: endTokens)
        var updateMetrics: [String: Double] = [:]
        if rollouts.rows > 0 && rollouts.columns > 0 {
            switch algorithm.objective {
            case .dpo: updateMetrics = try updateDPO(&rollouts, step: step)
            case .rl, .sft: updateMetrics = try updatePolicy(&rollouts, step: step, greedyRewards: rollout.greedyRewards)
            }
        } else {
            updateMetrics["skipped"] = 1
        }
        // The rollout's reward statistics (before shaping) stay; the update adds the rest.
        metrics.merge(updateMetrics) { rollout, _ in rollout }
        let t2 = Date()
        metrics["time/update_s"] = t2.timeIntervalSince(t1)
        metrics["time/step_s"] = t2.timeIntervalSince(t0)
        let tokens = rollout.trajectories.reduce(0) { $0 + $1.tokens.count }
        metrics["perf/tokens_per_s"] = Double(tokens) / max(1e-9, t2.timeIntervalSince(t0))
        state.step = step
        state.optimizerStep = optimizer.step
        state.valueOptimizerStep = critic.map { $0.optimizerStep }
        sink.log(step: step, metrics: metrics)
        return metrics
    }

    /// Gives warning `kind` (`message`) the first time in this run only.
    func warnOnce(_ kind: String, _ message: String) {
        guard warningsGiven.insert(kind).inserted else { return }
        onWarning(message)
    }

    /// Reward, accuracy and length statistics of the played episodes.
    func rolloutStatistics(_ ts: [Trajectory]) -> [String: Double] {
        guard !ts.isEmpty else { return ["rollout/episodes": 0] }
        let n = Double(ts.count)
        let mean = ts.reduce(0) { $0 + $1.reward } / n
        let variance = ts.reduce(0) { $0 + ($1.reward - mean) * ($1.reward - mean) } / max(1, n - 1)
        return [
            "rollout/episodes": n, "reward/mean": mean, "reward/std": variance.squareRoot(),
            "accuracy": Double(ts.filter { $0.outcome == "correct" }.count) / n,
            "response_length/mean": ts.reduce(0) { $0 + Double($1.responseLength) } / n,
            "turns/mean": ts.reduce(0) { $0 + Double($1.turns) } / n,
        ]
    }

    /// 1 − Var(R − V)/Var(R) over loss tokens: how much of the return the critic predicts (CleanRL's
    /// `explained_variance`); 1 is perfect, ≤ 0 no better than a constant.
    static func explainedVariance(values: [Double], returns: [Double], mask: [Double]) -> Double {
        var n = 0.0, sr = 0.0, sr2 = 0.0, sd = 0.0, sd2 = 0.0
        for k in mask.indices where mask[k] != 0 {
            let d = returns[k] - values[k]
            n += 1
            sr += returns[k]
            sr2 += returns[k] * returns[k]
            sd += d
            sd2 += d * d
        }
        guard n > 1 else { return 0 }
        let varR = sr2 / n - (sr / n) * (sr / n)
        let varD = sd2 / n - (sd / n) * (sd / n)
        return varR > 0 ? 1 - varD / varR : 0
    }

    /// The learning rate of optimizer step `s` (1-based).
    func learningRate(_ s: Int) -> Double {
        config.lrSchedule.rate(step: s - 1, base: config.algorithm.lr, warmup: config.algorithm.warmupSteps, total: config.steps)
    }
}
