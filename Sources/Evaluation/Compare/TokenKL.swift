// rlhub — per-token KL divergence between two models' next-token distributions, teacher-forced
// on the same token sequences.
//
//   KL(A‖B)_t = Σ_v p_A(v | x_<t) · (log p_A(v | x_<t) − log p_B(v | x_<t)),   p = softmax(logits)
//
// over the full vocabulary (no temperature, no truncation), with log-softmax and the sum taken
// in Float64. Logits come from `LlamaModel.extend` (the KV-cache forward), so several
// sequences are packed into one call per model, one cache slot each.
import Foundation
import LM

/// Mean and max of the per-token KL(A‖B) over the compared tokens.
public struct TokenKLSummary: Codable, Sendable, Equatable {
    /// Mean over tokens of KL(A‖B) in nats.
    public var mean: Double
    /// Largest per-token KL(A‖B).
    public var max: Double
    /// Number of compared tokens.
    public var tokens: Int
    /// Number of sequences they came from.
    public var sequences: Int

    public init(perToken: [[Double]]) {
        let all = perToken.joined()
        tokens = all.count
        sequences = perToken.count
        mean = all.isEmpty ? 0 : all.reduce(0, +) / Double(all.count)
        max = all.max() ?? 0
    }
}

/// KL(A‖B) of the next-token distributions of two models on teacher-forced sequences.
public enum TokenKL {
    /// KL(softmax(p) ‖ softmax(q)) of two logit rows, in Float64:
    /// `Σ_v e^{p_v − lse(p)} · ((p_v − lse(p)) − (q_v − lse(q)))`. Never negative (clamped at 0
    /// against rounding).
    public static func divergence(_ p: UnsafePointer<Float>, _ q: UnsafePointer<Float>, count V: Int) -> Double {
        let lseP = logSumExp(p, V), lseQ = logSumExp(q, V)
        var kl = 0.0
        for v in 0..<V {
            let lp = Double(p[v]) - lseP
            kl += exp(lp) * (lp - (Double(q[v]) - lseQ))
        }
        return Swift.max(0, kl)
    }

    /// Per-token KL(A‖B) for each sequence at the given rows.
    ///
    /// `rows[s]` are indices into `sequences[s]`: row `r` compares the distributions of the token
    /// that follows position `r` (the response token at `r + 1`). Sequences are packed, one KV
    /// slot each, into chunks of at most `maxTokens` tokens and `maxLogitFloats / V` logit rows
    /// (a longer sequence gets a chunk of its own).
    /// - precondition: the models share vocabulary size; every row is inside its sequence.
    public static func perToken(
        a: LlamaModel, b: LlamaModel, sequences: [[Int32]], rows: [[Int]],
        maxTokens: Int = 4096, maxLogitFloats: Int = 1 << 24
    ) -> [[Double]] {
        precondition(sequences.count == rows.count, "one row list per sequence")
        precondition(a.config.vocabSize == b.config.vocabSize, "KL needs the same vocabulary")
        let V = a.config.vocabSize
        let maxRows = Swift.max(1, maxLogitFloats / V)
        var out: [[Double]] = []
        var start = 0
        while start < sequences.count {
            // 1. Take sequences while the chunk stays within both bounds.
            var end = start, tokens = 0, logitRows = 0
            while end < sequences.count {
                let t = sequences[end].count, r = rows[end].count
                if end > start && (tokens + t > maxTokens || logitRows + r > maxRows) { break }
                tokens += t
                logitRows += r
                end += 1
            }
            out += chunk(a: a, b: b, sequences: Array(sequences[start..<end]), rows: Array(rows[start..<end]))
            start = end
        }
        return out
    }

    /// ``perToken(a:b:sequences:rows:maxTokens:maxLogitFloats:)`` summarised.
    public static func summary(a: LlamaModel, b: LlamaModel, sequences: [[Int32]], rows: [[Int]]) -> TokenKLSummary {
        TokenKLSummary(perToken: perToken(a: a, b: b, sequences: sequences, rows: rows))
    }

    // MARK: - Non public

    /// One packed forward per model over a chunk of sequences.
    private static func chunk(a: LlamaModel, b: LlamaModel, sequences: [[Int32]], rows: [[Int]]) -> [[Double]] {
        let V = a.config.vocabSize
        var tokens: [Int32] = [], slots: [Int32] = [], logitRows: [Int] = []
        for (s, seq) in sequences.enumerated() {
            for r in rows[s] {
                precondition(r >= 0 && r < seq.count, "KL row \(r) outside a sequence of \(seq.count) tokens")
                logitRows.append(tokens.count + r)
            }
            tokens += seq
            slots += [Int32](repeating: Int32(s), count: seq.count)
        }
        if logitRows.isEmpty { return rows.map { _ in [] } }
        let capacity = sequences.map(\.count).max() ?? 1
        func logits(_ m: LlamaModel) -> [Float] {
            let cache = KVCache(config: m.config, slots: sequences.count, capacity: capacity)
            let p = m.extend(cache: cache, tokens: tokens, slots: slots, logitRows: logitRows)
            // Copied out: A and B may be the same model object, whose workspace the second call reuses.
            return Array(UnsafeBufferPointer(start: p, count: logitRows.count * V))
        }
        let la = logits(a), lb = logits(b)
        var out: [[Double]] = []
        var k = 0
        la.withUnsafeBufferPointer { pa in
            lb.withUnsafeBufferPointer { pb in
                guard let pa = pa.baseAddress, let pb = pb.baseAddress else { return }
                for r in rows {
                    out.append(r.indices.map { i in divergence(pa + (k + i) * V, pb + (k + i) * V, count: V) })
                    k += r.count
                }
            }
        }
        return out
    }

    /// log Σ_v e^{x_v} in Float64, shifted by the max.
    private static func logSumExp(_ x: UnsafePointer<Float>, _ V: Int) -> Double {
        var m = -Double.infinity
        for v in 0..<V { m = Swift.max(m, Double(x[v])) }
        var s = 0.0
        for v in 0..<V { s += exp(Double(x[v]) - m) }
        return m + log(s)
    }
}
