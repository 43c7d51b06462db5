// rlhub — a batch of sequences packed back to back for the training forward pass.
import Tensor

/// Sequences that start with the same prompt (a group of samples): the prompt's rows are
/// computed once and every continuation attends to them.
public struct SequenceGroup: Sendable, Equatable {
    public var prefix: [Int32]
    public var continuations: [[Int32]]
    /// First position whose next token is scored (e.g. prompt length − 1 in RL).
    public var scoreFrom: Int
    public init(prefix: [Int32], continuations: [[Int32]], scoreFrom: Int) {
        self.prefix = prefix
        self.continuations = continuations
        self.scoreFrom = scoreFrom
    }
}

/// Sequences packed into rows (no padding), with the next-token target of every row.
///
/// Row r at position t of a sequence predicts the sequence's token t+1; `targets[r] = -1` where
/// there is no next token or the caller does not need its log-prob (e.g. prompt positions in
/// RL), and those rows skip the LM head entirely.
///
/// With groups, the rows of a shared prompt (all but its last token) are packed once; each
/// continuation's segment starts with the prompt's last token (it predicts the continuation's
/// first token, which differs per sample) and attends to the shared rows.
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
    /// Per sequence: where its positions live (shared prefix rows, then its own rows).
    private var layout: [(prefixStart: Int, ownStart: Int, ownFirstPosition: Int)] = []

    /// Independent sequences.
    /// - Parameters:
    ///   - sequences: token ids; each sequence non-empty.
    ///   - scoreFrom: per sequence, the first position whose next token is scored (default 0).
    public init(sequences: [[Int32]], scoreFrom: [Int]? = nil) {
        for (s, seq) in sequences.enumerated() {
            precondition(!seq.isEmpty, "TrainingBatch: sequence \(s) is empty")
            appendOwn(seq, from: 0, positionOffset: 0, scoreFrom: scoreFrom?[s] ?? 0, prefix: nil)
        }
    }

    /// Groups of sequences sharing a prompt; sequence k is the k-th continuation over all groups.
    public init(groups: [SequenceGroup]) {
        for g in groups {
            let P = g.prefix.count
            if g.continuations.count < 2 || P < 2 {
                for c in g.continuations {
                    precondition(P + c.count > 0, "TrainingBatch: empty sequence")
                    appendOwn(g.prefix + c, from: 0, positionOffset: 0, scoreFrom: g.scoreFrom, prefix: nil)
                }
                continue
            }
            // Shared rows: prefix[0 ..< P-1].
            let shared = tokens.count
            for t in 0..<(P - 1) {
                tokens.append(g.prefix[t])
                positions.append(Int32(t))
                targets.append(t >= g.scoreFrom ? g.prefix[t + 1] : -1)
            }
            segments.append(Segment(start: shared, length: P - 1))
            for c in g.continuations {
                appendOwn(g.prefix + c, from: P - 1, positionOffset: P - 1, scoreFrom: g.scoreFrom, prefix: (shared, P - 1))
            }
        }
    }

    /// Appends positions `from...` of `full` as one segment (attending to `prefix` rows if given).
    private mutating func appendOwn(
        _ full: [Int32], from first: Int, positionOffset: Int, scoreFrom: Int, prefix: (start: Int, length: Int)?
    ) {
        let start = tokens.count
        for t in first..<full.count {
            tokens.append(full[t])
            positions.append(Int32(t))
            targets.append(t + 1 < full.count && t >= scoreFrom ? full[t + 1] : -1)
        }
        segments.append(Segment(
            start: start, length: full.count - first, prefixStart: prefix?.start ?? 0, prefixLength: prefix?.length ?? 0))
        layout.append((prefix?.start ?? start, start, first))
    }

    /// Number of packed rows N.
    public var rowCount: Int { tokens.count }
    /// Σ T·(P+T) over segments (attention work and saved probabilities per head).
    public var attentionPairs: Int { segments.reduce(0) { $0 + $1.length * ($1.prefixLength + $1.length) } }
    /// Floats of attention backward scratch.
    public var attentionScratch: Int { Attention.scratchCount(segments) }
    /// Longest segment.
    public var maxLength: Int { segments.map(\.length).max() ?? 0 }
    /// Number of sequences.
    public var sequenceCount: Int { layout.count }
    /// Rows that have a target, in order.
    public var activeRows: [Int32] { targets.indices.filter { targets[$0] >= 0 }.map { Int32($0) } }
    /// Row index of position `t` of sequence `s` (its log-prob predicts token t+1). Positions
    /// inside a shared prompt map to the shared row.
    public func row(sequence s: Int, position t: Int) -> Int {
        let l = layout[s]
        return t < l.ownFirstPosition ? l.prefixStart + t : l.ownStart + t - l.ownFirstPosition
    }
}
