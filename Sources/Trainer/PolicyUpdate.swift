// rlhub — one RL or SFT update (algorithms.md §9), in the stages of RLTrainer.swift's header:
//   2. shape rewards and masks (overlong punishment and filter)         shapeRewards
//   3. score without gradient, only when something needs it            scoreRollouts
//   4. advantages over the whole batch; the adaptive KL coefficient     estimateAdvantages
//   5. per mini-batch: forward + objective + backward per micro-batch   accumulateGradients
//   6. clip and optimizer step                                          takeOptimizerStep
import RLAlgorithms
import Foundation
import Generator
import LM
import Tensor

/// What the scoring pass computed, as [B*T] grids; nil where nothing needed it.
struct RolloutScores {
    /// lp_old: the policy's log-probs before the update (off-policy epochs, PPO, KL in the reward).
    var old: [Double]?
    /// lp_ref: the reference model's log-probs (KL).
    var reference: [Double]?
    /// V_old: the critic's values at rollout (PPO).
    var values: [Double]?
}

extension RLTrainer {
    /// The temperature of training log-probs: RL's ratios compare the sampler's softmax(z/τ) with
    /// the trainer's, so they use the sampling τ; SFT and DPO are likelihoods of the model itself,
    /// τ = 1 (algorithms.md §8), whatever `temperature` says.
    var trainingTemperature: Float { config.algorithm.objective == .rl ? Float(config.algorithm.temperature) : 1 }

    /// The algorithm settings of the current step: the configured ones, with β from the adaptive
    /// KL controller when `kl_target` is set.
    var stepAlgorithm: AlgorithmConfig {
        var a = config.algorithm
        if let beta = state.klCoef { a.klCoef = beta }
        return a
    }

    /// Stages 2–6 for the RL and SFT objectives; returns the update's metrics.
    /// - Parameter greedyRewards: ReMax's baseline, the greedy response's reward per row.
    func updatePolicy(_ rb: inout RolloutBatch, step s: Int, greedyRewards: [Double]?) throws -> [String: Double] {
        let a = stepAlgorithm
        let B = rb.rows
        var metrics: [String: Double] = [:]
        if a.objective == .rl { shapeRewards(&rb, a) }
        let scoreStart = Date()
        let scores = scoreRollouts(rb, a)
        metrics["time/score_s"] = Date().timeIntervalSince(scoreStart)
        let batch = try PolicyBatch(
            rows: B, columns: rb.columns, mask: rb.mask, logprobs: scores.old ?? rb.rolloutLogprobs, oldLogprobs: scores.old,
            refLogprobs: scores.reference, rolloutLogprobs: rb.rolloutLogprobs, values: scores.values, oldValues: scores.values,
            rewards: rb.rewards, tokenRewards: a.biLevelGAE ? rb.turnRewardShifts() : nil, groupIDs: rb.groupIDs,
            responseLengths: rb.responseLengths)
        if let old = scores.old {
            metrics.merge(SamplerMismatch.metrics(old: old, rollout: rb.rolloutLogprobs, mask: rb.mask, cap: a.tisCap)) { $1 }
        }
        let advantages = a.objective == .rl ? estimateAdvantages(batch, a, greedyRewards: greedyRewards, into: &metrics) : nil
        recordTrainingSamples(step: s, rb, scores: scores, advantages: advantages)
        let inert = inertRows(advantages, rb, a)
        var perUpdate: [[String: Double]] = []
        var optimizerSteps = 0, skipped = 0
        var gradNorm = 0.0
        for _ in 0..<a.ppoEpochs {
            for part in 0..<a.miniBatches {
                let mini = Array((B * part / a.miniBatches)..<(B * (part + 1) / a.miniBatches))
                if mini.isEmpty { continue }
                let normalizer = AggregationNormalizer(batch.selecting(rows: mini), lengthNorm: a.lengthNorm)
                if normalizer.isEmpty {
                    // No loss token: no optimizer step (no Adam moment or weight-decay update).
                    skipped += 1
                    continue
                }
                let update = MiniBatchUpdate(rows: mini, normalizer: normalizer, inert: inert)
                var merged = try accumulateGradients(update, rb, batch, scores, advantages, a)
                if a.objective == .rl { merged["rows/inert"] = Double(update.inertCount) }
                gradNorm = takeOptimizerStep(s, a)
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

    // MARK: 2. Shaping

    /// DAPO's soft overlong punishment on the rewards (per policy turn, OverlongShaping.swift) and
    /// the overlong filter on the mask.
    func shapeRewards(_ rb: inout RolloutBatch, _ a: AlgorithmConfig) {
        if a.overlongPenalty > 0 {
            rb.rewards = OverlongShaping.shapedRewards(
                rewards: rb.rewards, turnLengths: rb.longestTurnLengths, maxLength: a.maxNewTokens,
                buffer: a.overlongBuffer, factor: a.overlongPenalty)
        }
        if a.overlongFilter { rb.mask = OverlongShaping.filteredMask(rb.mask, columns: rb.columns, truncated: rb.truncated) }
    }

    // MARK: 3. Scoring pass

    /// Old log-probs, reference log-probs and the critic's values, without gradient — each only
    /// when the objective needs it (RL only: SFT needs none of them).
    func scoreRollouts(_ rb: RolloutBatch, _ a: AlgorithmConfig) -> RolloutScores {
        let offPolicy = a.ppoEpochs > 1 || a.miniBatches > 1
        // A sampler at another precision than the trainer draws from a different distribution: lp_old
        // is recomputed so that TIS and the mismatch metrics see the gap (lp_old := lp_roll hides it).
        let samplerDiffers = config.rolloutDType != config.trainDType
        let needsOld = a.objective == .rl && (offPolicy || critic != nil || a.klInReward || samplerDiffers)
        let needsReference = a.objective == .rl && hasReference
        guard needsOld || needsReference else { return RolloutScores() }
        var old = [Double](), ref = [Double](), values = [Double]()
        for micro in rb.microBatches(Array(0..<rb.rows), maxTokens: config.microBatchTokens) {
            let tb = rb.trainingBatch(micro)
            if needsOld {
                old += rb.grid(model.forward(tb, temperature: trainingTemperature).logprobs, batch: tb, rows: micro)
                if let critic {
                    let cells = rb.responseRows(batch: tb, rows: micro)
                    values += critic.values(batch: critic.sharesPolicyTrunk ? tb : rb.trainingBatch(micro, scored: false), cells: cells)
                }
            }
            if needsReference {
                ref += rb.grid(referenceLogprobs(tb, temperature: trainingTemperature), batch: tb, rows: micro)
            }
        }
        return RolloutScores(old: needsOld ? old : nil, reference: needsReference ? ref : nil, values: critic != nil ? values : nil)
    }

    // MARK: 4. Advantages and the adaptive KL coefficient

    /// Advantages of the whole batch (compute them before splitting into mini-batches), the
    /// critic's explained variance, and one step of the adaptive KL controller.
    func estimateAdvantages(
        _ batch: PolicyBatch, _ a: AlgorithmConfig, greedyRewards: [Double]?, into metrics: inout [String: Double]
    ) -> Advantages {
        let advantages = Advantages.compute(for: batch, config: a, greedyRewards: greedyRewards)
        metrics.merge(advantages.metrics) { $1 }
        if let values = batch.oldValues, let returns = advantages.returns {
            metrics["value/explained_variance"] = Self.explainedVariance(values: values, returns: returns, mask: batch.mask)
        }
        if let target = config.algorithm.klTarget {
            metrics["kl/coef"] = a.klCoef
            var controller = AdaptiveKLController(initialCoef: a.klCoef, target: target, horizon: a.klHorizon)
            controller.update(currentKL: Self.meanSequenceKL(batch, estimator: a.klEstimator), steps: batch.rows)
            state.klCoef = controller.coef
        }
        return advantages
    }

    /// κ of the adaptive controller: the mean over rows (with loss tokens) of each row's token-mean
    /// k(lp_old, lp_ref) (verl `apply_kl_penalty`'s `current_kl`).
    static func meanSequenceKL(_ batch: PolicyBatch, estimator: KLEstimator) -> Double {
        let k = KLPenalty.tokenKL(batch: batch, estimator: estimator)
        let T = batch.columns
        var total = 0.0, rows = 0
        for i in 0..<batch.rows {
            let n = (0..<T).reduce(0.0) { $0 + batch.mask[i * T + $1] }
            guard n > 0 else { continue }
            total += (0..<T).reduce(0.0) { $0 + k[i * T + $1] } / n
            rows += 1
        }
        return rows > 0 ? total / Double(rows) : 0
    }

    /// Rows that carry no gradient under `a` (InertRows.swift); none when skipping is off.
    func inertRows(_ advantages: Advantages?, _ rb: RolloutBatch, _ a: AlgorithmConfig) -> [Bool] {
        guard let advantages, skipsInertRows, InertRows.skippable(a, hasCritic: critic != nil) else {
            return [Bool](repeating: false, count: rb.rows)
        }
        return InertRows.find(advantages: advantages.values, mask: rb.mask, rows: rb.rows, columns: rb.columns)
    }

    // MARK: 5. Micro-batch gradients

    /// Accumulates the gradient of one mini-batch's objective over its micro-batches (gradients
    /// are zeroed first) and returns the objective's metrics summed over them.
    func accumulateGradients(
        _ update: MiniBatchUpdate, _ rb: RolloutBatch, _ batch: PolicyBatch, _ scores: RolloutScores,
        _ advantages: Advantages?, _ a: AlgorithmConfig
    ) throws -> [String: Double] {
        let T = rb.columns
        zeroTrainedGradients()
        var merged: [String: Double] = [:]
        for micro in rb.microBatches(update.computedRows, maxTokens: config.microBatchTokens) {
            let tb = rb.trainingBatch(micro)
            let forward = model.forward(tb, temperature: trainingTemperature)
            let lp = rb.grid(forward.logprobs, batch: tb, rows: micro)
            let microBatch = batch.selecting(rows: micro)
            // The shared head's values join the policy objective (vf_coef·L_v); a separate critic
            // trains on L_v alone (below).
            let cells = critic != nil ? rb.responseRows(batch: tb, rows: micro) : []
            let values = critic.flatMap { $0.sharesPolicyTrunk ? $0.values(batch: tb, cells: cells) : nil }
            var dLogprobs: [Double], dEntropies: [Double]? = nil, dValues: [Double]? = nil
            var m: [String: Double]
            if let advantages {
                // On-policy (no scoring pass) lp_old is this forward's lp, detached: ratio 1.
                let current = try PolicyBatch(
                    rows: micro.count, columns: T, mask: microBatch.mask, logprobs: lp,
                    oldLogprobs: scores.old.map { PolicyBatch.gather($0, rows: micro, columns: T) },
                    refLogprobs: microBatch.refLogprobs, rolloutLogprobs: a.tisLevel == .none ? nil : microBatch.rolloutLogprobs,
                    values: values, oldValues: microBatch.oldValues, entropies: rb.grid(forward.entropies, batch: tb, rows: micro),
                    rewards: microBatch.rewards, groupIDs: microBatch.groupIDs, responseLengths: microBatch.responseLengths)
                let adv = advantages.selecting(rows: micro, columns: T)
                let res = PolicyObjective.evaluate(
                    current, advantages: adv.values, returns: adv.returns, config: a, normalizer: update.normalizer)
                (dLogprobs, dEntropies, dValues, m) = (res.dLogprobs, res.dEntropies, res.dValues, res.metrics)
                if let critic, !critic.sharesPolicyTrunk, let returns = adv.returns, let oldValues = microBatch.oldValues {
                    let own = critic.trainOnValueLoss(
                        batch: rb.trainingBatch(micro, scored: false), cells: cells, policyBatch: current,
                        oldValues: oldValues, returns: returns, config: a, normalizer: update.normalizer)
                    m.merge(own) { $0 + $1 }
                }
            } else {
                let res = SFT.evaluate(logprobs: lp, mask: microBatch.mask, totalTokens: update.normalizer.tokens)
                (dLogprobs, m) = (res.dLogprobs, res.metrics)
                m["loss/total"] = res.loss
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
        if update.inertCount > 0 {
            let miniBatch = batch.selecting(rows: update.rows)
            let computedTokens = zip(update.rows, miniBatch.rowLossTokens).reduce(0) { $0 + (update.inert[$1.0] ? 0 : $1.1) }
            InertRows.rescale(&merged, allTokens: update.normalizer.tokens, computedTokens: computedTokens)
            if update.computedRows.isEmpty { merged = ["loss/total": 0, "loss/policy": 0, "tokens": 0, "rows/nonempty": 0] }
        }
        return merged
    }

    // MARK: 6. Optimizer step

    /// Clips the accumulated gradient, steps AdamW (and the critic's optimizer); returns the
    /// gradient norm before clipping.
    func takeOptimizerStep(_ s: Int, _ a: AlgorithmConfig) -> Double {
        let gradNorm = GradientClipping.clip(trainedGradients, maxNorm: a.maxGradNorm)
        let lr = learningRate(s)
        optimizer.update(parameters: trainedParameters, gradients: trainedGradients, lr: Float(lr))
        critic?.update(headLR: Float(lr * config.valueLRScale), trunkLR: Float(lr))
        return gradNorm
    }
}

/// The rows of one optimizer step and the denominators of its loss.
struct MiniBatchUpdate {
    /// The mini-batch's rows of the rollout batch.
    let rows: [Int]
    /// Its global normalisers (every row counts, computed or not).
    let normalizer: AggregationNormalizer
    /// Per rollout row: true when it carries no gradient and is not computed.
    let inert: [Bool]
    /// The rows whose forward and backward passes run.
    var computedRows: [Int] { rows.filter { !inert[$0] } }
    /// Rows left out.
    var inertCount: Int { rows.count - computedRows.count }
}
