// rlhub — the token draws of one decode step, made on all cores.
//
// Why: softmax and the cumulative walk over SmolLM2's 49,152-token vocabulary for the 64 rows of a
// rollout took one core about 8% of a bf16 decode step while the other core waited. Each row's
// token is a pure function of its logits and its uniform (keyed by seed, step, prompt, sample and
// position) or its scripted token, so splitting the rows between threads gives the same tokens
// and log-probs as one thread.
import Tensor

/// What to draw for one logit row.
enum DrawRequest {
    /// Sample with this uniform in [0, 1).
    case sample(u: Float)
    /// Teacher forcing: this scripted token, with the model's log-prob of it.
    case forced(Int32)
}

/// Per-thread samplers and the results of the last ``draw(_:logits:_:)``.
final class ParallelDraws {
    /// One sampler (its scratch) per thread.
    private let samplers: [Sampler]
    /// `drawn[k]`: the token of the k-th request of the last draw.
    private(set) var drawn: [SampledToken]

    init(vocabularySize: Int, rows: Int) {
        samplers = (0..<parallelChunkCount(Int.max)).map { _ in Sampler(vocabularySize: vocabularySize) }
        drawn = [SampledToken](repeating: SampledToken(token: 0, logprob: 0), count: rows)
    }

    /// Serves `requests[k]` from the logit row `logits(k)`; results in ``drawn``, in request order.
    func draw(_ requests: [DrawRequest], logits: (Int) -> UnsafePointer<Float>, _ p: SamplingParameters) {
        if drawn.count < requests.count {
            drawn += [SampledToken](repeating: SampledToken(token: 0, logprob: 0), count: requests.count - drawn.count)
        }
        let chunks = min(samplers.count, parallelChunkCount(requests.count, minPerThread: 8))
        drawn.withUnsafeMutableBufferPointer { out in
            nonisolated(unsafe) let out = out
            parallelChunks(requests.count, chunks: chunks) { chunk, range in
                let sampler = samplers[chunk]
                for k in range {
                    switch requests[k] {
                    case .sample(let u):
                        out[k] = sampler.sample(logits(k), p, u: u)
                    case .forced(let token):
                        out[k] = SampledToken(token: token, logprob: sampler.logprob(of: token, logits(k), temperature: p.temperature))
                    }
                }
            }
        }
    }
}
