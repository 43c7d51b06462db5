// rlhub — a batch of sequences packed back to back for the training forward pass.
import Tensor

/// Sequences packed into rows (no padding), with the next-token target of every row.
///
/// Row r of sequence s at position t predicts token t+1 of s; `targets[r] = -1` where there is no
/// next token or the caller does not need its log-prob (e.g. prompt positions in RL), and those
/// rows skip the LM head entirely.
///
/// ```swift
/// let batch = TrainingBatch(sequences: [[1, 5, 6, 2], [1, 7, 2]])
/// // logprob rows: 0→5, 1→6, 2→2 (row 3 has no target); 4→7, 5→2
/// ```
public struct TrainingBatch: Sendable {
    public private(set) var tokens: [Int32] = []
    public private(set) var targets: [Int32] = []
    public private(set) var positions: [Int32] = []
    public private(set) var segments: [Segment] = []

    /// - Parameters:
    ///   - sequences: token ids; each sequence non-empty.
    ///   - scoreFrom: per sequence, the first position whose next token is scored (default 0):
    ///     the log-prob of token t is computed only for `t ≥ scoreFrom + 1`.
    public init(sequences: [[Int32]], scoreFrom: [Int]? = nil) {
        for (s, seq) in sequences.enumerated() {
            precondition(!seq.isEmpty, "TrainingBatch: sequence \(s) is empty")
            let first = scoreFrom?[s] ?? 0
            segments.append(Segment(start: tokens.count, length: seq.count))
            for t in 0..<seq.count {
                tokens.append(seq[t])
                positions.append(Int32(t))
                targets.append(t + 1 < seq.count && t >= first ? seq[t + 1] : -1)
            }
        }
    }

    /// Number of packed rows N.
    public var rowCount: Int { tokens.count }
    /// Σ T² over sequences (attention work).
    public var attentionPairs: Int { segments.reduce(0) { $0 + $1.length * $1.length } }
    /// Longest sequence.
    public var maxLength: Int { segments.map(\.length).max() ?? 0 }
    /// Rows that have a target, in order.
    public var activeRows: [Int32] { targets.indices.filter { targets[$0] >= 0 }.map { Int32($0) } }
    /// Row index of position `t` of sequence `s` (its log-prob predicts token t+1).
    public func row(sequence s: Int, position t: Int) -> Int { segments[s].start + t }
}
