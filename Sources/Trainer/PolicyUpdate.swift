// rlhub — one RL or SFT update (algorithms.md §9), in the stages of RLTrainer.swift's header,
// one function per stage:
//   2. shape rewards and masks (overlong punishment and filter)         shapeRewards
//   3. score without gradient, only when something needs it            scoreRollouts
//      and the rollout batch as the algorithms read it                  policyBatch
//   4. advantages over the whole batch; the adaptive KL coefficient     estimateAdvantages
//   5. per mini-batch: forward + objective + backward per micro-batch   accumulateGradients
//                                                                       (backpropagate, one micro-batch)
//   6. clip and optimizer step                                          takeOptimizerStep
// updatePolicy runs them; optimize runs 5 and 6 for every epoch and mini-batch.
//
// PPO's critic enters in three places: the scoring pass records V_old (stage 3); a critic on the
// policy's trunk (`critic: shared`) adds vf_coef·L_v to the policy objective and sends its
// gradient back through the trunk; a separate critic trains on L_v alone beside it (stage 5).
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
        var algorithm = config.algorithm
        if let beta = state.klCoef { algorithm.klCoef = beta }
        return algorithm
    }

    /// Stages 2–6 for the RL and SFT objectives; returns the update's metrics.
    /// - Parameter greedyRewards: ReMax's baseline, the greedy response's reward per row.
    func updatePolicy(_ rollouts: inout RolloutBatch, step: Int, greedyRewards: [Double]?) throws -> [String: Double] {
        let algorithm = stepAlgorithm
        var metrics: [String: Double] = [:]
        if algorithm.objective == .rl { shapeRewards(&rollouts, algorithm) }
        let scoreStart = Date()
        let scores = scoreRollouts(rollouts, algorithm)
        metrics["time/score_s"] = Date().timeIntervalSince(scoreStart)
        let batch = try policyBatch(rollouts, scores: scores, algorithm)
        if let old = scores.old {
            metrics.merge(SamplerMismatch.metrics(old: old, rollout: rollouts.rolloutLogprobs, mask: rollouts.mask, cap: algorithm.tisCap)) { $1 }
        }
        let advantages = algorithm.objective == .rl
            ? estimateAdvantages(batch, algorithm, greedyRewards: greedyRewards, into: &metrics) : nil
        recordTrainingSamples(step: step, rollouts, scores: scores, advantages: advantages)
        let inert = inertRows(advantages, rollouts, algorithm)
        let outcome = try optimize(
            rollouts, batch, advantages: advantages, onPolicy: scores.old == nil, inert: inert, step: step, algorithm)
        // Objective metrics: summed over a mini-batch's micro-batches, averaged over the updates
        // that report them (an update whose rows were all inert has no entropy, for instance).
        for key in Set(outcome.objectiveMetrics.flatMap(\.keys)) {
            let reported = outcome.objectiveMetrics.compactMap { $0[key] }
            metrics[key] = reported.reduce(0, +) / Double(reported.count)
        }
        metrics["grad_norm"] = outcome.gradNorm
        metrics["lr"] = learningRate(step)
        metrics["optimizer_steps"] = Double(outcome.optimizerSteps)
        metrics["skipped"] = Double(outcome.skipped)
        return metrics
    }

    /// Stages 5 and 6 for every epoch and mini-batch: the mini-batch's gradient, then one optimizer
    /// step — none for a mini-batch without loss tokens (no Adam moment or weight-decay update).
    func optimize(
        _ rollouts: RolloutBatch, _ batch: PolicyBatch, advantages: Advantages?, onPolicy: Bool, inert: [Bool],
        step: Int, _ algorithm: AlgorithmConfig
    ) throws -> OptimizationOutcome {
        var outcome = OptimizationOutcome()
        for _ in 0..<algorithm.ppoEpochs {
            for part in 0..<algorithm.miniBatches {
                let rows = Self.miniBatchRows(part: part, of: algorithm.miniBatches, rows: rollouts.rows)
                if rows.isEmpty { continue }
                let normalizer = AggregationNormalizer(batch.selecting(rows: rows), lengthNorm: algorithm.lengthNorm)
                if normalizer.isEmpty {
                    outcome.skipped += 1
                    continue
                }
                let update = MiniBatchUpdate(rows: rows, normalizer: normalizer, inert: inert)
                var objectiveMetrics = try accumulateGradients(
                    update, rollouts, batch, advantages: advantages, onPolicy: onPolicy, algorithm)
                if algorithm.objective == .rl { objectiveMetrics["rows/inert"] = Double(update.inertCount) }
                outcome.gradNorm = takeOptimizerStep(step: step, algorithm)
                outcome.optimizerSteps += 1
                outcome.objectiveMetrics.append(objectiveMetrics)
            }
        }
        return outcome
    }

    /// Rows ⌊B·j/k⌋ ..< ⌊B·(j+1)/k⌋ of a batch of B rows: mini-batch j of k.
    static func miniBatchRows(part j: Int, of k: Int, rows B: Int) -> [Int] {
        Array((B * j / k)..<(B * (j + 1) / k))
    }

    // MARK: 2. Shaping

    /// DAPO's soft overlong punishment on the rewards (per policy turn, OverlongShaping.swift) and
    /// the overlong filter on the mask.
    func shapeRewards(_ rollouts: inout RolloutBatch, _ algorithm: AlgorithmConfig) {
        if algorithm.overlongPenalty > 0 {
            rollouts.rewards = OverlongShaping.shapedRewards(
                rewards: rollouts.rewards, turnLengths: rollouts.longestTurnLengths, maxLength: algorithm.maxNewTokens,
                buffer: algorithm.overlongBuffer, factor: algorithm.overlongPenalty)
        }
        if algorithm.overlongFilter {
            rollouts.mask = OverlongShaping.filteredMask(rollouts.mask, columns: rollouts.columns, truncated: rollouts.truncated)
        }
    }

    // MARK: 3. Scoring pass

    /// Old log-probs, reference log-probs and the critic's values, without gradient — each only
    /// when the objective needs it (RL only: SFT needs none of them).
    func scoreRollouts(_ rollouts: RolloutBatch, _ algorithm: AlgorithmConfig) -> RolloutScores {
        let offPolicy = algorithm.ppoEpochs > 1 || algorithm.miniBatches > 1
        // A sampler at another precision than the trainer draws from a different distribution: lp_old
        // is recomputed so that TIS and the mismatch metrics see the gap (lp_old := lp_roll hides it).
        let samplerDiffers = config.rolloutDType != config.trainDType
        let needsOld = algorithm.objective == .rl && (offPolicy || critic != nil || algorithm.klInReward || samplerDiffers)
        let needsReference = algorithm.objective == .rl && hasReference
        guard needsOld || needsReference else { return RolloutScores() }
        var old = [Double](), referenceLogprobs = [Double](), values = [Double]()
        for rows in rollouts.microBatches(Array(0..<rollouts.rows), maxTokens: config.microBatchTokens) {
            let input = rollouts.trainingBatch(rows)
            if needsOld {
                old += rollouts.grid(model.forward(input, temperature: trainingTemperature).logprobs, batch: input, rows: rows)
                if let critic { values += criticValues(critic, rows: rows, policyInput: input, rollouts) }
            }
            if needsReference {
                referenceLogprobs += rollouts.grid(
                    logprobsUnderReference(input, temperature: trainingTemperature), batch: input, rows: rows)
            }
        }
        return RolloutScores(
            old: needsOld ? old : nil, reference: needsReference ? referenceLogprobs : nil,
            values: critic != nil ? values : nil)
    }

    /// V of the micro-batch `rows` right after the policy's forward pass over `policyInput`: a
    /// shared head reads that pass's hidden states; a separate critic runs its own forward pass
    /// over the same rows, without the LM head.
    func criticValues(_ critic: any Critic, rows: [Int], policyInput: TrainingBatch, _ rollouts: RolloutBatch) -> [Double] {
        let cells = rollouts.responseRows(batch: policyInput, rows: rows)
        let criticInput = critic.sharesPolicyTrunk ? policyInput : rollouts.trainingBatch(rows, scored: false)
        return critic.values(batch: criticInput, cells: cells)
    }

    /// The rollout batch in the algorithms' layout, built once per update: lp = lp_old when the
    /// scoring pass ran (else the sampler's lp_roll), lp_ref, lp_roll, V_old, the outcome rewards
    /// and, for bi-level GAE, the turn rewards. Every micro-batch selects its rows from it and
    /// swaps in its own forward pass (``PolicyBatch/afterForwardPass(logprobs:entropies:values:onPolicy:)``).
    func policyBatch(_ rollouts: RolloutBatch, scores: RolloutScores, _ algorithm: AlgorithmConfig) throws -> PolicyBatch {
        try PolicyBatch(
            rows: rollouts.rows, columns: rollouts.columns, mask: rollouts.mask,
            logprobs: scores.old ?? rollouts.rolloutLogprobs, oldLogprobs: scores.old, refLogprobs: scores.reference,
            rolloutLogprobs: rollouts.rolloutLogprobs, oldValues: scores.values, rewards: rollouts.rewards,
            tokenRewards: algorithm.biLevelGAE ? rollouts.turnRewardShifts() : nil, groupIDs: rollouts.groupIDs,
            responseLengths: rollouts.responseLengths)
    }

    // MARK: 4. Advantages and the adaptive KL coefficient

    /// Advantages of the whole batch (compute them before splitting into mini-batches), the
    /// critic's explained variance, and one step of the adaptive KL controller.
    func estimateAdvantages(
        _ batch: PolicyBatch, _ algorithm: AlgorithmConfig, greedyRewards: [Double]?, into metrics: inout [String: Double]
    ) -> Advantages {
        let advantages = Advantages.compute(for: batch, config: algorithm, greedyRewards: greedyRewards)
        metrics.merge(advantages.metrics) { $1 }
        if let values = batch.oldValues, let returns = advantages.returns {
            metrics["value/explained_variance"] = Self.explainedVariance(values: values, returns: returns, mask: batch.mask)
        }
        if let target = config.algorithm.klTarget {
            metrics["kl/coef"] = algorithm.klCoef
            var controller = AdaptiveKLController(initialCoef: algorithm.klCoef, target: target, horizon: algorithm.klHorizon)
            controller.update(currentKL: Self.meanSequenceKL(batch, estimator: algorithm.klEstimator), steps: batch.rows)
            state.klCoef = controller.coef
        }
        return advantages
    }

    /// κ of the adaptive controller: the mean over rows (with loss tokens) of each row's token-mean
    /// k(lp_old, lp_ref) (verl `apply_kl_penalty`'s `current_kl`).
    static func meanSequenceKL(_ batch: PolicyBatch, estimator: KLEstimator) -> Double {
        let tokenKL = KLPenalty.tokenKL(batch: batch, estimator: estimator)
        let T = batch.columns
        var total = 0.0, rows = 0
        for i in 0..<batch.rows {
            let n = (0..<T).reduce(0.0) { $0 + batch.mask[i * T + $1] }
            guard n > 0 else { continue }
            total += (0..<T).reduce(0.0) { $0 + tokenKL[i * T + $1] } / n
            rows += 1
        }
        return rows > 0 ? total / Double(rows) : 0
    }

    /// Rows that carry no gradient under `algorithm` (InertRows.swift); none when skipping is off.
    func inertRows(_ advantages: Advantages?, _ rollouts: RolloutBatch, _ algorithm: AlgorithmConfig) -> [Bool] {
        guard let advantages, skipsInertRows, InertRows.skippable(algorithm, hasCritic: critic != nil) else {
            return [Bool](repeating: false, count: rollouts.rows)
        }
        return InertRows.find(advantages: advantages.values, mask: rollouts.mask, rows: rollouts.rows, columns: rollouts.columns)
    }

    // MARK: 5. Micro-batch gradients

    /// Accumulates the gradient of one mini-batch's objective over its micro-batches (gradients
    /// are zeroed first) and returns the objective's metrics summed over them.
    /// - Parameter onPolicy: no scoring pass ran, so lp_old is each forward pass's own lp.
    func accumulateGradients(
        _ update: MiniBatchUpdate, _ rollouts: RolloutBatch, _ batch: PolicyBatch, advantages: Advantages?,
        onPolicy: Bool, _ algorithm: AlgorithmConfig
    ) throws -> [String: Double] {
        zeroTrainedGradients()
        var summed: [String: Double] = [:]
        for rows in rollouts.microBatches(update.computedRows, maxTokens: config.microBatchTokens) {
            let objectiveMetrics = try backpropagate(
                microBatch: rows, of: update, rollouts, batch, advantages: advantages, onPolicy: onPolicy, algorithm)
            summed = PolicyObjective.mergeMetrics(summed, objectiveMetrics)
        }
        return accountingForInertRows(summed, update, batch)
    }

    /// One micro-batch: the policy's forward pass, the objective's gradient with respect to its
    /// outputs (the policy objective with its critic, or SFT's likelihood), and the backward pass,
    /// which adds to the gradients of the mini-batch's earlier micro-batches. Returns the
    /// objective's metrics.
    func backpropagate(
        microBatch rows: [Int], of update: MiniBatchUpdate, _ rollouts: RolloutBatch, _ batch: PolicyBatch,
        advantages: Advantages?, onPolicy: Bool, _ algorithm: AlgorithmConfig
    ) throws -> [String: Double] {
        let input = rollouts.trainingBatch(rows)
        let forward = model.forward(input, temperature: trainingTemperature)
        let pass = ForwardPass(
            rows: rows, input: input, output: forward, logprobs: rollouts.grid(forward.logprobs, batch: input, rows: rows))
        let gradient = if let advantages {
            try policyGradient(pass, update, rollouts, batch, advantages: advantages, onPolicy: onPolicy, algorithm)
        } else {
            supervisedGradient(pass, update, batch)
        }
        model.backward(
            dLogprobs: rollouts.packed(gradient.dLogprobs, batch: input, rows: rows),
            dEntropies: gradient.dEntropies.map { rollouts.packed($0, batch: input, rows: rows) },
            dHidden: gradient.dHidden)
        return gradient.metrics
    }

    /// The policy objective (PolicyObjective.swift) of one micro-batch and its critic's part: a
    /// shared head's values join the objective (vf_coef·L_v) and its gradient flows back into the
    /// policy's final hidden states; a separate critic takes its own value-loss step here.
    func policyGradient(
        _ pass: ForwardPass, _ update: MiniBatchUpdate, _ rollouts: RolloutBatch, _ batch: PolicyBatch,
        advantages: Advantages, onPolicy: Bool, _ algorithm: AlgorithmConfig
    ) throws -> MicroBatchGradient {
        let cells = critic != nil ? rollouts.responseRows(batch: pass.input, rows: pass.rows) : []
        let sharedHeadValues = sharedCritic?.values(batch: pass.input, cells: cells)
        let current = try batch.selecting(rows: pass.rows).afterForwardPass(
            logprobs: pass.logprobs, entropies: rollouts.grid(pass.output.entropies, batch: pass.input, rows: pass.rows),
            values: sharedHeadValues, onPolicy: onPolicy)
        let selected = advantages.selecting(rows: pass.rows, columns: batch.columns)
        let objective = PolicyObjective.evaluate(
            current, advantages: selected.values, returns: selected.returns, config: algorithm, normalizer: update.normalizer)
        var gradient = MicroBatchGradient(
            dLogprobs: objective.dLogprobs, dEntropies: objective.dEntropies, metrics: objective.metrics)
        if let separateCritic, let returns = selected.returns, let oldValues = current.oldValues {
            let valueMetrics = separateCritic.trainOnValueLoss(
                batch: rollouts.trainingBatch(pass.rows, scored: false), cells: cells, policyBatch: current,
                oldValues: oldValues, returns: returns, config: algorithm, normalizer: update.normalizer)
            gradient.metrics.merge(valueMetrics) { $0 + $1 }
        }
        if let sharedCritic, let dValues = objective.dValues {
            gradient.dHidden = sharedCritic.backward(batch: pass.input, cells: cells, dValues: dValues)
        }
        return gradient
    }

    /// SFT's token-mean negative log-likelihood of one micro-batch over the mini-batch's tokens.
    func supervisedGradient(_ pass: ForwardPass, _ update: MiniBatchUpdate, _ batch: PolicyBatch) -> MicroBatchGradient {
        let result = SFT.evaluate(
            logprobs: pass.logprobs, mask: batch.selecting(rows: pass.rows).mask, totalTokens: update.normalizer.tokens)
        var metrics = result.metrics
        metrics["loss/total"] = result.loss
        return MicroBatchGradient(dLogprobs: result.dLogprobs, dEntropies: nil, metrics: metrics)
    }

    /// PPO's critic when it is a value head on the policy's trunk (`critic: shared`).
    var sharedCritic: (any Critic)? { critic?.sharesPolicyTrunk == true ? critic : nil }
    /// PPO's critic when it is a network of its own, trained on its own value loss (`critic: separate`).
    var separateCritic: (any Critic)? { critic?.sharesPolicyTrunk == false ? critic : nil }

    /// The mini-batch's summed metrics when rows were left out (InertRows.swift): token means
    /// become means over the tokens that were computed; with no row computed, the update's
    /// losses and counts are 0.
    func accountingForInertRows(_ metrics: [String: Double], _ update: MiniBatchUpdate, _ batch: PolicyBatch) -> [String: Double] {
        guard update.inertCount > 0 else { return metrics }
        if update.computedRows.isEmpty { return ["loss/total": 0, "loss/policy": 0, "tokens": 0, "rows/nonempty": 0] }
        let lossTokens = batch.selecting(rows: update.rows).rowLossTokens
        let computedTokens = zip(update.rows, lossTokens).reduce(0) { $0 + (update.inert[$1.0] ? 0 : $1.1) }
        var rescaled = metrics
        InertRows.rescale(&rescaled, allTokens: update.normalizer.tokens, computedTokens: computedTokens)
        return rescaled
    }

    // MARK: 6. Optimizer step

    /// Clips the accumulated gradient, steps AdamW (and the critic's optimizer); returns the
    /// gradient norm before clipping.
    func takeOptimizerStep(step: Int, _ algorithm: AlgorithmConfig) -> Double {
        let gradNorm = GradientClipping.clip(trainedGradients, maxNorm: algorithm.maxGradNorm)
        let lr = learningRate(step)
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

/// The policy's forward pass over one micro-batch, its outputs on the [b, T] response grid.
struct ForwardPass {
    /// The micro-batch's rows of the rollout batch.
    let rows: [Int]
    /// The packed sequences the model ran on.
    let input: TrainingBatch
    /// The model's outputs in the packed layout.
    let output: ForwardResult
    /// lp on the [b, T] grid.
    let logprobs: [Double]
}

/// ∂L/∂(the policy's outputs) of one micro-batch, and the objective's metrics.
struct MicroBatchGradient {
    /// ∂L/∂lp, [b*T].
    var dLogprobs: [Double]
    /// ∂L/∂H, [b*T], when the entropy bonus is on.
    var dEntropies: [Double]?
    /// ∂L/∂(final hidden states) from a value head on the policy's trunk.
    var dHidden: [Float]? = nil
    var metrics: [String: Double]
}

/// What the optimizer steps of one update did.
struct OptimizationOutcome {
    /// Each optimizer step's objective metrics (summed over its micro-batches).
    var objectiveMetrics: [[String: Double]] = []
    var optimizerSteps = 0
    /// Mini-batches without loss tokens (no optimizer step).
    var skipped = 0
    /// ‖g‖ before clipping, of the last optimizer step.
    var gradNorm = 0.0
}
