// rlhub — choosing the next token from logits: greedy, temperature, top-k, top-p, min-p.
//
// With temperature τ, p = softmax(z/τ). Truncations, applied in this order to p:
//   top-k: keep the k most probable tokens;
//   top-p (nucleus, Holtzman et al. 2020): keep the smallest set of most probable tokens whose
//          mass is ≥ top_p;
//   min-p (Nguyen et al. 2024): keep tokens with p ≥ min_p · max p.
// The kept tokens are renormalised and one is drawn with u ~ U[0,1) by walking the cumulative
// mass in a fixed order, so the draw is a pure function of u.
// The recorded log-prob is log softmax(z/τ)[token] — the un-truncated distribution that the
// trainer recomputes (algorithms.md §0: top-p/top-k are not re-applied in training).
import Foundation
import LM
import RLHubCore
import Tensor

/// How to sample; the defaults are plain sampling at temperature 1.
public struct SamplingParameters: Codable, Sendable, Equatable {
    /// τ; 0 means greedy (argmax, lowest id on ties).
    public var temperature: Float = 1
    /// Keep only the k most probable tokens (0 = off).
    public var topK: Int = 0
    /// Nucleus mass in (0, 1] (1 = off).
    public var topP: Float = 1
    /// Minimum probability relative to the most probable token, in [0, 1) (0 = off).
    public var minP: Float = 0
    public init(temperature: Float = 1, topK: Int = 0, topP: Float = 1, minP: Float = 0) {
        self.temperature = temperature
        self.topK = topK
        self.topP = topP
        self.minP = minP
    }

    /// Checks ranges; errors name the flag.
    public func validate() throws(InputError) {
        if !(temperature >= 0) { throw InputError(file: "--temperature", message: "must be ≥ 0, got \(temperature)") }
        if topK < 0 { throw InputError(file: "--top-k", message: "must be ≥ 0, got \(topK)") }
        if !(topP > 0 && topP <= 1) { throw InputError(file: "--top-p", message: "must be in (0, 1], got \(topP)") }
        if !(minP >= 0 && minP < 1) { throw InputError(file: "--min-p", message: "must be in [0, 1), got \(minP)") }
    }
}

/// A sampled token and its log-probability under softmax(z/τ).
public struct SampledToken: Sendable, Equatable {
    public var token: Int32
    public var logprob: Float
}

/// Samples tokens from logit rows; reusable scratch per instance (one per thread).
public final class Sampler {
    public let vocabularySize: Int
    private var probs: [Float]
    private var candidates: [Int32]

    public init(vocabularySize: Int) {
        self.vocabularySize = vocabularySize
        probs = [Float](repeating: 0, count: vocabularySize)
        candidates = []
        candidates.reserveCapacity(vocabularySize)
    }

    /// log softmax(z/τ)[token] — what ``sample(_:_:u:)`` records — for a token chosen elsewhere
    /// (teacher forcing). τ = 0 is treated as 1, as for greedy draws.
    public func logprob(of token: Int32, _ logits: UnsafePointer<Float>, temperature: Float) -> Float {
        let tau = temperature > 0 ? temperature : 1
        return logits[Int(token)] / tau - softmaxInPlace(logits, tau: tau).lse
    }

    /// Writes exp(z/τ − max) into `probs`; returns their sum and log Σ exp(z/τ).
    private func softmaxInPlace(_ logits: UnsafePointer<Float>, tau: Float) -> (sum: Float, lse: Float) {
        let V = vocabularySize
        let m = FastMath.max(logits, V)
        let sum = probs.withUnsafeMutableBufferPointer {
            FastMath.expShiftSum(logits, $0.baseAddress!, V, scale: 1 / tau, shift: m / tau)
        }
        return (sum, m / tau + log(sum))
    }

    /// Draws from `logits` (V floats) with uniform `u` ∈ [0, 1).
    public func sample(_ logits: UnsafePointer<Float>, _ p: SamplingParameters, u: Float) -> SampledToken {
        let V = vocabularySize
        let tau = p.temperature > 0 ? p.temperature : 1
        // Softmax(z/τ) in probs; lse for the recorded log-prob.
        let (sum, lse) = softmaxInPlace(logits, tau: tau)
        func result(_ t: Int) -> SampledToken { SampledToken(token: Int32(t), logprob: logits[t] / tau - lse) }
        if p.temperature == 0 {
            var best = 0
            for i in 1..<V where logits[i] > logits[best] { best = i }
            return result(best)
        }
        let inv = 1 / sum
        for i in 0..<V { probs[i] *= inv }
        let truncated = p.topK > 0 || p.topP < 1 || p.minP > 0
        if !truncated { return result(walk(u: u, total: 1)) }
        selectCandidates(p)
        var mass: Float = 0
        for c in candidates { mass += probs[Int(c)] }
        var acc: Float = 0
        let target = u * mass
        for c in candidates {
            acc += probs[Int(c)]
            if target < acc { return result(Int(c)) }
        }
        return result(Int(candidates.last ?? 0))
    }

    /// Inverse-CDF draw over all tokens in id order.
    private func walk(u: Float, total: Float) -> Int {
        var acc: Float = 0
        let target = u * total
        var lastNonZero = 0
        for i in 0..<vocabularySize where probs[i] > 0 {
            acc += probs[i]
            lastNonZero = i
            if target < acc { return i }
        }
        return lastNonZero
    }

    /// Fills `candidates` with the kept tokens, most probable first (ties: lower id first).
    private func selectCandidates(_ p: SamplingParameters) {
        let V = vocabularySize
        var pmax: Float = 0
        for i in 0..<V { pmax = max(pmax, probs[i]) }
        // Sort only tokens above a threshold whose mass already covers the nucleus; lower the
        // threshold until it does (exact: every excluded token is less probable than every kept one).
        var threshold = pmax * 1e-4
        while true {
            candidates.removeAll(keepingCapacity: true)
            var mass: Float = 0
            for i in 0..<V where probs[i] >= threshold {
                candidates.append(Int32(i))
                mass += probs[i]
            }
            let enoughForK = p.topK == 0 || candidates.count >= min(p.topK, V)
            if (mass >= p.topP && enoughForK) || threshold == 0 { break }
            threshold = threshold > 1e-30 ? threshold * 1e-3 : 0
        }
        candidates.sort { probs[Int($0)] != probs[Int($1)] ? probs[Int($0)] > probs[Int($1)] : $0 < $1 }
        if p.topK > 0 && candidates.count > p.topK { candidates.removeLast(candidates.count - p.topK) }
        if p.topP < 1 {
            var acc: Float = 0
            var keep = candidates.count
            for (k, c) in candidates.enumerated() {
                acc += probs[Int(c)]
                if acc >= p.topP { keep = k + 1; break }
            }
            candidates.removeLast(candidates.count - keep)
        }
        if p.minP > 0 {
            let floor = p.minP * pmax
            candidates.removeAll { probs[Int($0)] < floor }
        }
    }
}

/// The counter-based key of one sampling decision: (seed, step, prompt, sample, position).
public func samplingUniform(seed: UInt64, step: Int, prompt: Int, sample: Int, position: Int) -> Float {
    var rng = CounterRNG(
        seed: seed, purpose: .sampling, step: UInt64(step),
        index: UInt64(prompt) << 40 | UInt64(sample & 0xFFFF) << 24 | UInt64(position & 0xFF_FFFF))
    return rng.nextUniform()
}
