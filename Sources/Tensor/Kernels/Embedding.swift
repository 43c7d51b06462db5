// rlhub — token embedding lookup: out[n] = E[token[n]].
//
// Shapes: N tokens, C channels, V vocabulary. E is (V, C).
//   forward:  out[n, :] = E[tok[n], :]
//   backward: dE[tok[n], :] += dOut[n, :]   (in token order: deterministic)

/// Embedding lookup, forward and backward.
public enum Embedding {
    /// - Parameters:
    ///   - out: (N, C).
    ///   - tokens: (N), each in `0..<V`.
    ///   - table: (V, C).
    public static func forward(
        out: UnsafeMutablePointer<Float>, tokens: UnsafePointer<Int32>,
        table: UnsafePointer<Float>, N: Int, C: Int, V: Int
    ) {
        for n in 0..<N {
            let t = Int(tokens[n])
            precondition(t >= 0 && t < V, "Embedding: token \(t) outside vocabulary of \(V)")
            (out + n * C).update(from: table + t * C, count: C)
        }
    }

    /// Accumulates `dOut` rows into the rows of `dTable` named by `tokens`.
    public static func backward(
        dTable: UnsafeMutablePointer<Float>, dOut: UnsafePointer<Float>,
        tokens: UnsafePointer<Int32>, N: Int, C: Int
    ) {
        for n in 0..<N {
            let row = dTable + Int(tokens[n]) * C
            let src = dOut + n * C
            for c in 0..<C { row[c] += src[c] }
        }
    }
}
