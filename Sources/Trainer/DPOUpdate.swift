// rlhub — online DPO (Rafailov et al. 2023; algorithms.md §8.2) on verifier-scored samples.
//
// For each problem's group of samples, the best-rewarded completion is "chosen" and the worst
// "rejected" (groups whose rewards are all equal give no pair). With sequence log-probs
// LP = Σ_t m·lp under the policy and the frozen reference (the starting model):
//   L = mean over pairs of ℓ(β·[(LP_w − LP_w^ref) − (LP_l − LP_l^ref)])
// and ∂L/∂lp[i,t] = m[i,t]·∂L/∂LP_i, which the model's backward takes per token.
import RLAlgorithms
import Foundation
import Generator
import LM

extension RLTrainer {
    /// One DPO step: the preference pairs of the rollout batch, the loss's gradient over micro-batches
    /// of whole pairs, then clip and AdamW. Skipped (no optimizer step) without a pair.
    func updateDPO(_ rollouts: inout RolloutBatch, step: Int) throws -> [String: Double] {
        let algorithm = config.algorithm
        // The step's samples (when due): DPO has no advantages; the policy's log-probs are π_θ_old's.
        recordTrainingSamples(step: step, rollouts, scores: RolloutScores(), advantages: nil)
        let pairs = Self.preferencePairs(rollouts)
        guard !pairs.isEmpty, hasReference else { return ["skipped": 1, "dpo/pairs": 0] }
        // Micro-batches of whole pairs.
        let longest = rollouts.trajectories.map(\.tokens.count).max() ?? 1
        let pairsPerMicroBatch = max(1, config.microBatchTokens / max(1, 2 * longest))
        zeroTrainedGradients()
        var metrics: [String: Double] = [:]
        var start = 0
        while start < pairs.count {
            let chunk = Array(pairs[start..<min(pairs.count, start + pairsPerMicroBatch)])
            let chunkMetrics = backpropagatePreferences(
                chunk, weight: Double(chunk.count) / Double(pairs.count), rollouts, algorithm)
            for (key, value) in chunkMetrics { metrics[key, default: 0] += value }
            start += chunk.count
        }
        let gradNorm = GradientClipping.clip(trainedGradients, maxNorm: algorithm.maxGradNorm)
        optimizer.update(parameters: trainedParameters, gradients: trainedGradients, lr: Float(learningRate(step)))
        metrics["grad_norm"] = gradNorm
        metrics["lr"] = learningRate(step)
        metrics["dpo/pairs"] = Double(pairs.count)
        return metrics
    }

    /// (chosen row, rejected row) per group whose rewards differ, in group order: the
    /// best-rewarded sample (the first among equals) and the worst (the last among equals).
    static func preferencePairs(_ rollouts: RolloutBatch) -> [(chosen: Int, rejected: Int)] {
        let rewards = rollouts.rewards
        var pairs: [(chosen: Int, rejected: Int)] = []
        let groups = Dictionary(grouping: 0..<rollouts.rows, by: { rollouts.groupIDs[$0] }).sorted { $0.key < $1.key }
        for (_, rows) in groups {
            guard let best = rows.max(by: { rewards[$0] < rewards[$1] || (rewards[$0] == rewards[$1] && $0 > $1) }),
                let worst = rows.min(by: { rewards[$0] < rewards[$1] || (rewards[$0] == rewards[$1] && $0 < $1) }),
                rewards[best] > rewards[worst]
            else { continue }
            pairs.append((best, worst))
        }
        return pairs
    }

    /// One micro-batch of pairs: sequence log-probs LP = Σ_t m·lp under the reference and the
    /// policy, the DPO loss of the chunk, and the backward pass of ∂L/∂lp[i,t] = m[i,t]·∂L/∂LP_i.
    /// `weight` (the chunk's share of the pairs) turns the chunk's mean into its part of the mean
    /// over all pairs; the returned metrics carry it too, so they add up over chunks.
    func backpropagatePreferences(
        _ chunk: [(chosen: Int, rejected: Int)], weight: Double, _ rollouts: RolloutBatch, _ algorithm: AlgorithmConfig
    ) -> [String: Double] {
        let T = rollouts.columns
        let temperature = trainingTemperature  // 1: DPO's log-probs are the model's own (algorithms.md §8.2)
        let rows = chunk.flatMap { [$0.chosen, $0.rejected] }
        func sequenceLogprobs(_ grid: [Double]) -> [Double] {
            rows.enumerated().map { k, i in (0..<T).reduce(0.0) { $0 + grid[k * T + $1] * rollouts.mask[i * T + $1] } }
        }
        let input = rollouts.trainingBatch(rows)
        // The reference first: with LoRA it is the policy's own forward pass with the adapters off.
        let referenceLP = sequenceLogprobs(
            rollouts.grid(logprobsUnderReference(input, temperature: temperature), batch: input, rows: rows))
        let policyLP = sequenceLogprobs(
            rollouts.grid(model.forward(input, temperature: temperature).logprobs, batch: input, rows: rows))
        let dpoPairs = chunk.indices.map { k in
            DPOPair(
                policyChosen: policyLP[2 * k], policyRejected: policyLP[2 * k + 1],
                referenceChosen: referenceLP[2 * k], referenceRejected: referenceLP[2 * k + 1],
                chosenTokens: rollouts.responseLengths[chunk[k].chosen], rejectedTokens: rollouts.responseLengths[chunk[k].rejected])
        }
        let result = DPO.evaluate(
            pairs: dpoPairs, beta: algorithm.dpoBeta, variant: algorithm.dpoVariant, labelSmoothing: algorithm.labelSmoothing)
        var dLogprobs = [Double](repeating: 0, count: rows.count * T)
        for k in chunk.indices {
            for (slot, dSequence) in [(2 * k, result.dPolicyChosen[k]), (2 * k + 1, result.dPolicyRejected[k])] {
                let i = rows[slot]
                for t in 0..<T { dLogprobs[slot * T + t] = dSequence * weight * rollouts.mask[i * T + t] }
            }
        }
        model.backward(dLogprobs: rollouts.packed(dLogprobs, batch: input, rows: rows))
        return result.metrics.mapValues { $0 * weight }
    }
}
