// rlhub — supervised fine-tuning loss, the warm start before RL (algorithms.md §8.1).
//
// Next-token maximum likelihood on demonstrations (Ouyang et al., "Training Language Models to
// Follow Instructions with Human Feedback", arXiv 2203.02155, SFT stage); TRL `SFTTrainer`
// (`completion_only_loss`).
//
//   L = −(1/N) Σ_{i,t} m[i,t]·lp[i,t]        token mean over completion / assistant tokens only
//   ∂L/∂lp[i,t] = −m[i,t]/N
//
// N is global over the optimiser batch (pass `totalTokens` when micro-batching); N = 0 → loss 0,
// gradients 0, step skipped.
import Foundation

/// Value, gradient and flag of the SFT loss.
public struct SFTResult: Sendable, Equatable {
    /// −(1/N) Σ m·lp (this micro-batch's share when `totalTokens` is the global N).
    public var loss: Double
    /// ∂L/∂lp ([B*T], exactly 0 where m = 0).
    public var dLogprobs: [Double]
    /// True when N = 0: do not step the optimizer.
    public var skipped: Bool
    /// `loss/sft`, `tokens`, `skipped`.
    public var metrics: [String: Double]
}

/// Token-mean negative log-likelihood.
public enum SFT {
    /// - Parameters:
    ///   - logprobs: lp, any layout ([B*T] or packed).
    ///   - mask: m, same size.
    ///   - totalTokens: global N over the optimiser batch; nil → N of this call.
    public static func evaluate(logprobs: [Double], mask: [Double], totalTokens: Int? = nil) -> SFTResult {
        precondition(logprobs.count == mask.count, "SFT.evaluate: \(logprobs.count) log-probs for \(mask.count) mask entries")
        let local = mask.reduce(0) { $0 + ($1 != 0 ? 1 : 0) }
        let N = totalTokens ?? local
        var grad = [Double](repeating: 0, count: mask.count)
        guard N > 0 else {
            return SFTResult(loss: 0, dLogprobs: grad, skipped: true, metrics: ["loss/sft": 0, "tokens": 0, "skipped": 1])
        }
        var loss = 0.0
        for k in mask.indices where mask[k] != 0 {
            loss -= logprobs[k] / Double(N)
            grad[k] = -1 / Double(N)
        }
        return SFTResult(
            loss: loss, dLogprobs: grad, skipped: false,
            metrics: ["loss/sft": loss, "tokens": Double(local), "skipped": 0])
    }
}
