// rlhub — PPO's critic as the trainer drives it, whichever network it is (`critic` key,
// Algorithms/CriticKind.swift): values for the response cells of a micro-batch, the value-loss
// gradient, one optimizer step per mini-batch, and the state a checkpoint keeps.
//
// Cells are packed rows of the micro-batch's TrainingBatch, one per response column of the
// [b, T] grid (RolloutBatch.responseRows: column t of row i reads position P_i + t − 1, the
// state before token t, as the log-prob does); −1 marks padding and gets V = 0.
import LM
import RLAlgorithms
import Tensor

/// The critic of a PPO run.
protocol Critic: AnyObject {
    /// Whether the value loss is part of the policy's objective (vf_coef·L_v through the policy's
    /// trunk) rather than the critic's own.
    var sharesPolicyTrunk: Bool { get }
    /// V per cell. The shared critic reads the hidden states of the policy forward over `batch`
    /// that just ran; a separate critic runs its own forward (and keeps it for ``backward``).
    func values(batch: TrainingBatch, cells: [Int]) -> [Double]
    /// Accumulates the critic's gradients from ∂L/∂V per cell (entries 0 where nothing flows);
    /// returns ∂L/∂(policy's final hidden states) when the trunk is shared, else nil.
    func backward(batch: TrainingBatch, cells: [Int], dValues: [Double]) -> [Float]?
    /// One optimizer step (after each mini-batch): the value head at `headLR`, a separate trunk at
    /// `trunkLR`; then zeroed gradients.
    func update(headLR: Float, trunkLR: Float)
    /// Buffers a checkpoint saves and restores, by name in `optimizer.safetensors`.
    var checkpointBuffers: [(name: String, buffer: FloatBuffer)] { get }
    /// AdamW steps taken (bias correction), saved in the trainer state.
    var optimizerStep: Int { get }
    func restore(optimizerStep: Int)
}

/// A linear value head on the policy's own final hidden states (`critic: shared`).
final class SharedCritic: Critic {
    let head: ValueHead
    unowned let policy: LlamaModel

    init(policy: LlamaModel) {
        self.policy = policy
        head = ValueHead(channels: policy.config.hiddenSize)
    }

    var sharesPolicyTrunk: Bool { true }

    func values(batch: TrainingBatch, cells: [Int]) -> [Double] {
        head.values(hidden: policy.finalHiddenStates, rows: cells)
    }

    func backward(batch: TrainingBatch, cells: [Int], dValues: [Double]) -> [Float]? {
        head.backward(hidden: policy.finalHiddenStates, rows: cells, dValues: dValues, totalRows: batch.rowCount)
    }

    func update(headLR: Float, trunkLR: Float) { head.update(lr: headLR) }

    var checkpointBuffers: [(name: String, buffer: FloatBuffer)] { head.checkpointBuffers }
    var optimizerStep: Int { head.optimizer.step }
    func restore(optimizerStep: Int) { head.optimizer.restore(step: optimizerStep) }
}

extension Critic {
    /// One micro-batch of a critic that is trained on its own loss (`sharesPolicyTrunk` false):
    /// V, then L_v = ½·agg(ℓ_v) (ValueLoss, no vf_coef) and its backward. Returns the metrics the
    /// policy objective reports for a shared head — `loss/value` (here L_v itself),
    /// `value/clipfrac`, `value/mean` — additive over the mini-batch's micro-batches.
    /// - Parameters:
    ///   - policyBatch: the micro-batch's rows (mask and aggregation weights).
    ///   - oldValues, returns: V_old (scoring pass) and Ret of those rows, [b*T].
    func trainOnValueLoss(
        batch: TrainingBatch, cells: [Int], policyBatch pb: PolicyBatch, oldValues: [Double], returns: [Double],
        config: AlgorithmConfig, normalizer: AggregationNormalizer
    ) -> [String: Double] {
        let v = values(batch: batch, cells: cells)
        let loss = ValueLoss.evaluate(
            values: v, oldValues: oldValues, returns: returns, batch: pb, clip: config.valueClip,
            aggregation: config.lossAgg, normalizer: normalizer)
        _ = backward(batch: batch, cells: cells, dValues: loss.dValues)
        var mean = 0.0
        if normalizer.tokens > 0 {
            for k in v.indices where pb.mask[k] != 0 { mean += v[k] }
            mean /= Double(normalizer.tokens)
        }
        return ["loss/value": loss.loss, "value/clipfrac": loss.clipFraction, "value/mean": mean]
    }
}
