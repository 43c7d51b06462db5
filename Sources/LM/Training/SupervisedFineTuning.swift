// rlhub — supervised fine-tuning (next-token cross-entropy on demonstrations), the warm start
// of RL runs and the sanity check of the trainer core.
//
//   L = −(1/N) Σ_{i,t} m[i,t] · log π_θ(y_{i,t} | y_{i,<t})     (token-mean over N loss tokens)
//   ∂L/∂logprob[i,t] = −m[i,t] / N
// Prompt tokens (m = 0) are context only. The mean is over the whole optimizer batch even when
// it is split into micro-batches (algorithms.md §1, library rule 1).
import Foundation
import Tensor

/// One demonstration: the loss covers tokens from `promptLength` on.
public struct SFTExample: Codable, Sendable, Equatable {
    public var tokens: [Int32]
    public var promptLength: Int
    public init(tokens: [Int32], promptLength: Int = 0) {
        self.tokens = tokens
        self.promptLength = promptLength
    }
}

/// Settings of ``SFTTrainer``.
public struct SFTConfig: Codable, Sendable, Equatable {
    /// Peak learning rate, default 1e-3 (small models) — pretrained models want ~1e-5.
    public var learningRate: Double = 1e-3
    /// Schedule over ``totalSteps``, default cosine.
    public var schedule: LearningRateSchedule = .cosine
    /// Warm-up steps, default 0.
    public var warmupSteps: Int = 0
    /// Steps the schedule spans.
    public var totalSteps: Int = 100
    /// Global gradient-norm clip, default 1.0 (0 disables).
    public var maxGradNorm: Double = 1.0
    /// Upper bound on packed tokens per micro-batch (activation memory), default 4096.
    public var microBatchTokens: Int = 4096
    /// AdamW settings.
    public var adamw: AdamWConfig = AdamWConfig()
    public init() {}
}

/// Metrics of one optimizer step.
public struct SFTStepResult: Sendable {
    /// Token-mean negative log-likelihood before the update.
    public var loss: Double
    /// Gradient norm before clipping.
    public var gradNorm: Double
    public var learningRate: Double
    /// Loss tokens N.
    public var tokens: Int
}

/// Next-token cross-entropy training with micro-batching, clipping and AdamW.
public final class SFTTrainer {
    public let model: LlamaModel
    public let config: SFTConfig
    public let optimizer: AdamW

    public init(model: LlamaModel, config: SFTConfig) {
        self.model = model
        self.config = config
        optimizer = AdamW(layout: model.layout, config: config.adamw)
    }

    /// One optimizer step on `examples`. A batch without loss tokens skips the update.
    @discardableResult
    public func step(_ examples: [SFTExample]) -> SFTStepResult {
        let N = examples.reduce(0) { $0 + max(0, $1.tokens.count - max(1, $1.promptLength)) }
        let lr = config.schedule.rate(
            step: optimizer.step, base: config.learningRate, warmup: config.warmupSteps, total: config.totalSteps)
        guard N > 0 else { return SFTStepResult(loss: 0, gradNorm: 0, learningRate: lr, tokens: 0) }
        model.zeroGradients()
        var lossSum = 0.0
        for part in Self.microBatches(examples, maxTokens: config.microBatchTokens) {
            let batch = TrainingBatch(
                sequences: part.map(\.tokens), scoreFrom: part.map { max(0, $0.promptLength - 1) })
            let result = model.forward(batch)
            var g = [Float](repeating: 0, count: batch.rowCount)
            for r in 0..<batch.rowCount where batch.targets[r] >= 0 {
                g[r] = -1 / Float(N)
                lossSum -= Double(result.logprobs[r])
            }
            model.backward(dLogprobs: g)
        }
        let norm = GradientClipping.clip(model.gradients, maxNorm: config.maxGradNorm)
        optimizer.update(parameters: model.parameters, gradients: model.gradients, lr: Float(lr))
        return SFTStepResult(loss: lossSum / Double(N), gradNorm: norm, learningRate: lr, tokens: N)
    }

    /// Token-mean negative log-likelihood of `examples` under the current parameters (no update).
    public func loss(_ examples: [SFTExample]) -> Double {
        var sum = 0.0, n = 0
        for part in Self.microBatches(examples, maxTokens: config.microBatchTokens) {
            let batch = TrainingBatch(
                sequences: part.map(\.tokens), scoreFrom: part.map { max(0, $0.promptLength - 1) })
            let result = model.forward(batch)
            for r in 0..<batch.rowCount where batch.targets[r] >= 0 {
                sum -= Double(result.logprobs[r])
                n += 1
            }
        }
        return n > 0 ? sum / Double(n) : 0
    }

    /// Splits examples, in order, into groups of at most `maxTokens` packed tokens (an example
    /// longer than that forms its own group).
    public static func microBatches(_ examples: [SFTExample], maxTokens: Int) -> [[SFTExample]] {
        var groups: [[SFTExample]] = []
        var current: [SFTExample] = []
        var tokens = 0
        for e in examples {
            if !current.isEmpty && tokens + e.tokens.count > maxTokens {
                groups.append(current)
                current = []
                tokens = 0
            }
            current.append(e)
            tokens += e.tokens.count
        }
        if !current.isEmpty { groups.append(current) }
        return groups
    }
}
