// rlhub — the training loop: rollout → rewards → advantages → ppo_epochs × mini-batches of
// micro-batched updates (algorithms.md §9), for every preset (RL objectives, DPO, SFT).
//
// One step, in order:
//   1. play episodes (Rollout.swift), or replay gold demonstrations for SFT;
//   2. shape rewards (overlong) and masks (overlong filter);
//   3. score the rollouts without gradient when the objective needs old/reference log-probs or
//      values (off-policy epochs, KL, PPO's critic) — and only then;
//   4. advantages over the whole rollout batch;
//   5. for each epoch and mini-batch: zero gradients, forward + objective + backward per
//      micro-batch with the mini-batch's global normalisers, clip, AdamW (skipped when the
//      mini-batch has no loss tokens).
import RLAlgorithms
import Foundation
import Generator
import LM
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
        runner = EpisodeRunner(model: loaded.model, tokenizer: loaded.tokenizer, template: loaded.chatTemplate)
        optimizer = AdamW(
            layout: loaded.model.layout,
            config: AdamWConfig(weightDecay: Float(config.algorithm.weightDecay)))
        if config.algorithm.needsReferenceModel {
            let ref = LlamaModel(config: loaded.model.config)
            ref.copyParameters(from: loaded.model)
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
        state = TrainerState(step: 0, optimizerStep: 0, valueOptimizerStep: nil, problemCursor: 0, configHash: config.hash)
        let tok = loaded.tokenizer
        endTokens = Set([tok.eosTokenID, tok.id(for: "<|im_end|>"), tok.id(for: "<|endoftext|>")].compactMap { $0 })
    }

    // MARK: - One step

    /// Runs optimizer step `step + 1` and returns its metrics (also sent to the sink).
    @discardableResult
    public func runStep() throws -> [String: Double] {
        let s = state.step + 1
        let a = config.algorithm
        let t0 = Date()
        let rollout = a.objective == .sft ? try collectDemonstrations(step: s) : try collectRollouts(step: s)
        var metrics = rollout.metrics
        metrics["time/generate_s"] = rollout.seconds
        metrics.merge(rolloutStatistics(rollout.trajectories)) { $1 }
        let t1 = Date()
        var rb = RolloutBatch(rollout.trajectories, endTokens: endTokens)
        var updateMetrics: [String: Double] = [:]
        if rb.rows > 0 && rb.columns > 0 {
            switch a.objective {
            case .dpo: updateMetrics = try updateDPO(&rb, step: s)
            case .rl, .sft: updateMetrics = try updatePolicy(&rb, step: s, rolloutMetrics: metrics)
            }
        } else {
            updateMetrics["skipped"] = 1
        }
        metrics.merge(updateMetrics) { $1 }
        let t2 = Date()
        metrics["time/update_s"] = t2.timeIntervalSince(t1)
        metrics["time/step_s"] = t2.timeIntervalSince(t0)
        let tokens = rollout.trajectories.reduce(0) { $0 + $1.tokens.count }
        metrics["perf/tokens_per_s"] = Double(tokens) / max(1e-9, t2.timeIntervalSince(t0))
        state.step = s
        state.optimizerStep = optimizer.step
        state.valueOptimizerStep = critic.map { $0.optimizerStep }
        sink.log(step: s, metrics: metrics)
        return metrics
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

    // MARK: - RL and SFT updates

    func updatePolicy(_ rb: inout RolloutBatch, step s: Int, rolloutMetrics: [String: Double]) throws -> [String: Double] {
        let a = config.algorithm
        let B = rb.rows, T = rb.columns
        let tau = Float(a.temperature)
        let all = Array(0..<B)
        var metrics = rolloutMetrics
        var base = try PolicyBatch(
            rows: B, columns: T, mask: rb.mask, logprobs: rb.rolloutLogprobs, rewards: rb.rewards,
            groupIDs: rb.groupIDs, responseLengths: rb.responseLengths)
        if a.objective == .rl {
            if a.overlongPenalty > 0 {
                rb.rewards = OverlongShaping.shapedRewards(
                    batch: base, maxLength: a.maxNewTokens, buffer: a.overlongBuffer, factor: a.overlongPenalty)
            }
            if a.overlongFilter { rb.mask = OverlongShaping.filteredMask(batch: base, truncated: rb.truncated) }
        }
        // 3. Scoring pass (no gradient), only when something needs it.
        let offPolicy = a.ppoEpochs > 1 || a.miniBatches > 1
        let needsOld = a.objective == .rl && (offPolicy || critic != nil || a.klInReward)
        let needsRef = a.objective == .rl && reference != nil
        var old: [Double]? = nil, ref: [Double]? = nil, oldValues: [Double]? = nil
        let scoreStart = Date()
        if needsOld || needsRef {
            var oldGrid = [Double](), refGrid = [Double](), valueGrid = [Double]()
            for micro in rb.microBatches(all, maxTokens: config.microBatchTokens) {
                let tb = rb.trainingBatch(micro)
                if needsOld {
                    let r = model.forward(tb, temperature: tau)
                    oldGrid += rb.grid(r.logprobs, batch: tb, rows: micro)
                    if let critic {
                        let cells = rb.responseRows(batch: tb, rows: micro)
                        let batch = critic.sharesPolicyTrunk ? tb : rb.trainingBatch(micro, scored: false)
                        valueGrid += critic.values(batch: batch, cells: cells)
                    }
                }
                if let reference, needsRef {
                    let r = reference.forward(tb, temperature: tau)
                    refGrid += rb.grid(r.logprobs, batch: tb, rows: micro)
                }
            }
            if needsOld { old = oldGrid }
            if needsRef { ref = refGrid }
            if critic != nil { oldValues = valueGrid }
        }
        metrics["time/score_s"] = Date().timeIntervalSince(scoreStart)
        base = try PolicyBatch(
            rows: B, columns: T, mask: rb.mask, logprobs: old ?? rb.rolloutLogprobs, oldLogprobs: old,
            refLogprobs: ref, rolloutLogprobs: rb.rolloutLogprobs, values: oldValues, oldValues: oldValues,
            rewards: rb.rewards, groupIDs: rb.groupIDs, responseLengths: rb.responseLengths)
        // 4. Advantages over the whole batch.
        let advantages = a.objective == .rl ? Advantages.compute(for: base, config: a) : nil
        // The rollout's reward statistics (before shaping) stay; the estimator adds the rest.
        if let advantages { metrics.merge(advantages.metrics) { kept, _ in kept } }
        if let oldValues, let returns = advantages?.returns {
            metrics["value/explained_variance"] = Self.explainedVariance(values: oldValues, returns: returns, mask: rb.mask)
        }
        // 5. Epochs × mini-batches × micro-batches; rows that carry no gradient are left out (InertRows.swift).
        let inert = advantages.map { adv in
            skipsInertRows && InertRows.skippable(a, hasCritic: critic != nil)
                ? InertRows.find(advantages: adv.values, mask: rb.mask, rows: B, columns: T) : [Bool](repeating: false, count: B)
        } ?? [Bool](repeating: false, count: B)
        let minis = a.miniBatches
        var perUpdate: [[String: Double]] = []
        var optimizerSteps = 0, skipped = 0
        var gradNorm = 0.0
        for _ in 0..<a.ppoEpochs {
            for mb in 0..<minis {
                let mini = Array(all[(B * mb / minis)..<(B * (mb + 1) / minis)])
                if mini.isEmpty { continue }
                let miniBatch = base.selecting(rows: mini)
                let normalizer = AggregationNormalizer(miniBatch, lengthNorm: a.lengthNorm)
                if normalizer.isEmpty {
                    skipped += 1
                    continue
                }
                model.zeroGradients()
                var merged: [String: Double] = [:]
                let computed = mini.filter { !inert[$0] }
                for micro in rb.microBatches(computed, maxTokens: config.microBatchTokens) {
                    let tb = rb.trainingBatch(micro)
                    let r = model.forward(tb, temperature: tau)
                    let lp = rb.grid(r.logprobs, batch: tb, rows: micro)
                    let ent = rb.grid(r.entropies, batch: tb, rows: micro)
                    let pick = { (x: [Double]?) in x.map { PolicyBatch.gather($0, rows: micro, columns: T) } }
                    let microMask = PolicyBatch.gather(rb.mask, rows: micro, columns: T)
                    // The shared head's values join the policy objective (vf_coef·L_v); a separate
                    // critic trains on L_v alone below.
                    var cells: [Int] = []
                    var values: [Double]? = nil
                    if let critic {
                        cells = rb.responseRows(batch: tb, rows: micro)
                        if critic.sharesPolicyTrunk { values = critic.values(batch: tb, cells: cells) }
                    }
                    var dLogprobs: [Double], dEntropies: [Double]? = nil, dValues: [Double]? = nil
                    var m: [String: Double]
                    if a.objective == .sft {
                        let res = SFT.evaluate(logprobs: lp, mask: microMask, totalTokens: normalizer.tokens)
                        (dLogprobs, m) = (res.dLogprobs, res.metrics)
                        m["loss/total"] = res.loss
                    } else {
                        let pb = try PolicyBatch(
                            rows: micro.count, columns: T, mask: microMask, logprobs: lp, oldLogprobs: pick(old),
                            refLogprobs: pick(ref), rolloutLogprobs: a.tisLevel == .none ? nil : pick(rb.rolloutLogprobs),
                            values: values, oldValues: pick(oldValues), entropies: ent,
                            rewards: micro.map { rb.rewards[$0] }, groupIDs: micro.map { rb.groupIDs[$0] },
                            responseLengths: micro.map { rb.responseLengths[$0] })
                        let adv = advantages!.selecting(rows: micro, columns: T)
                        let res = PolicyObjective.evaluate(
                            pb, advantages: adv.values, returns: adv.returns, config: a, normalizer: normalizer)
                        (dLogprobs, dEntropies, dValues, m) = (res.dLogprobs, res.dEntropies, res.dValues, res.metrics)
                        if let critic, !critic.sharesPolicyTrunk, let returns = adv.returns, let vOld = pick(oldValues) {
                            let own = critic.trainOnValueLoss(
                                batch: rb.trainingBatch(micro, scored: false), cells: cells, policyBatch: pb,
                                oldValues: vOld, returns: returns, config: a, normalizer: normalizer)
                            m.merge(own) { $0 + $1 }
                        }
                    }
                    var dHidden: [Float]? = nil
                    if let critic, critic.sharesPolicyTrunk, let dValues {
                        dHidden = critic.backward(batch: tb, cells: cells, dValues: dValues)
                    }
                    model.backward(
                        dLogprobs: rb.packed(dLogprobs, batch: tb, rows: micro),
                        dEntropies: dEntropies.map { rb.packed($0, batch: tb, rows: micro) }, dHidden: dHidden)
                    merged = PolicyObjective.mergeMetrics(merged, m)
                }
                if computed.count < mini.count {
                    let computedTokens = zip(mini, miniBatch.rowLossTokens).reduce(0) { $0 + (inert[$1.0] ? 0 : $1.1) }
                    InertRows.rescale(&merged, allTokens: normalizer.tokens, computedTokens: computedTokens)
                    if computed.isEmpty { merged = ["loss/total": 0, "loss/policy": 0, "tokens": 0, "rows/nonempty": 0] }
                }
                if a.objective == .rl { merged["rows/inert"] = Double(mini.count - computed.count) }
                gradNorm = GradientClipping.clip(model.gradients, maxNorm: a.maxGradNorm)
                let lr = learningRate(s)
                optimizer.update(parameters: model.parameters, gradients: model.gradients, lr: Float(lr))
                critic?.update(headLR: Float(lr * config.valueLRScale), trunkLR: Float(lr))
                optimizerSteps += 1
                perUpdate.append(merged)
            }
        }
        // Objective metrics: summed over a mini-batch's micro-batches, averaged over the updates
        // that report them (an update whose rows were all inert has no entropy, for instance).
        for key in Set(perUpdate.flatMap(\.keys)) {
            let reported = perUpdate.compactMap { $0[key] }
            metrics[key] = reported.reduce(0, +) / Double(reported.count)
        }
        metrics["grad_norm"] = gradNorm
        metrics["lr"] = learningRate(s)
        metrics["optimizer_steps"] = Double(optimizerSteps)
        metrics["skipped"] = Double(skipped)
        return metrics
    }
}
