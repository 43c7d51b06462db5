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
    func updateDPO(_ rb: inout RolloutBatch, step s: Int) throws -> [String: Double] {
        let a = config.algorithm
        let T = rb.columns
        let tau = trainingTemperature  // 1: DPO's log-probs are the model's own (algorithms.md §8.2)
        // Pairs: (chosen row, rejected row) per informative group, in group order.
        var pairs: [(Int, Int)] = []
        let groups = Dictionary(grouping: 0..<rb.rows, by: { rb.groupIDs[$0] }).sorted { $0.key < $1.key }
        for (_, rows) in groups {
            guard let best = rows.max(by: { rb.rewards[$0] < rb.rewards[$1] || (rb.rewards[$0] == rb.rewards[$1] && $0 > $1) }),
                  let worst = rows.min(by: { rb.rewards[$0] < rb.rewards[$1] || (rb.rewards[$0] == rb.rewards[$1] && $0 < $1) }),
                  rb.rewards[best] > rb.rewards[worst] else { continue }
            pairs.append((best, worst))
        }
        guard !pairs.isEmpty, hasReference else { return ["skipped": 1, "dpo/pairs": 0] }
        func sums(_ grid: [Double], rows: [Int]) -> [Double] {
            rows.enumerated().map { k, i in (0..<T).reduce(0.0) { $0 + grid[k * T + $1] * rb.mask[i * T + $1] } }
        }
        // Micro-batches of whole pairs.
        let maxPairsPerMicro = max(1, config.microBatchTokens / max(1, 2 * (rb.trajectories.map(\.tokens.count).max() ?? 1)))
        zeroTrainedGradients()
        var merged: [String: Double] = [:]
        var start = 0
        while start < pairs.count {
            let chunk = Array(pairs[start..<min(pairs.count, start + maxPairsPerMicro)])
            let rows = chunk.flatMap { [$0.0, $0.1] }
            let tb = rb.trainingBatch(rows)
            // The reference first: with LoRA it is the policy's own forward with the adapters off.
            let refLP = sums(rb.grid(referenceLogprobs(tb, temperature: tau), batch: tb, rows: rows), rows: rows)
            let r = model.forward(tb, temperature: tau)
            let policyLP = sums(rb.grid(r.logprobs, batch: tb, rows: rows), rows: rows)
            let dpoPairs = chunk.indices.map { k in
                DPOPair(
                    policyChosen: policyLP[2 * k], policyRejected: policyLP[2 * k + 1],
                    referenceChosen: refLP[2 * k], referenceRejected: refLP[2 * k + 1],
                    chosenTokens: rb.responseLengths[chunk[k].0], rejectedTokens: rb.responseLengths[chunk[k].1])
            }
            let res = DPO.evaluate(pairs: dpoPairs, beta: a.dpoBeta, variant: a.dpoVariant, labelSmoothing: a.labelSmoothing)
            // The evaluate mean is over this chunk; rescale to the mean over all pairs.
            let scale = Double(chunk.count) / Double(pairs.count)
            var grid = [Double](repeating: 0, count: rows.count * T)
            for k in chunk.indices {
                for (slot, d) in [(2 * k, res.dPolicyChosen[k]), (2 * k + 1, res.dPolicyRejected[k])] {
                    let i = rows[slot]
                    for t in 0..<T { grid[slot * T + t] = d * scale * rb.mask[i * T + t] }
                }
            }
            model.backward(dLogprobs: rb.packed(grid, batch: tb, rows: rows))
            for (key, value) in res.metrics { merged[key, default: 0] += value * scale }
            start += chunk.count
        }
        let gradNorm = GradientClipping.clip(trainedGradients, maxNorm: a.maxGradNorm)
        optimizer.update(parameters: trainedParameters, gradients: trainedGradients, lr: Float(learningRate(s)))
        merged["grad_norm"] = gradNorm
        merged["lr"] = learningRate(s)
        merged["dpo/pairs"] = Double(pairs.count)
        return merged
    }
}
