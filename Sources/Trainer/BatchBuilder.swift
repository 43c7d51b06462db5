// rlhub — trajectories as the algorithms see them (a right-padded [B, T] response grid) and as
// the model sees them (packed sequences), with the index map between the two.
//
// Row i's response starts at its prompt length P_i; response column t is absolute position
// P_i + t, whose log-prob comes from the logits at position P_i + t − 1 (algorithms.md §0).
import RLAlgorithms
import Foundation
import Generator
import LM

/// One rollout batch in both layouts.
struct RolloutBatch {
    let trajectories: [Trajectory]
    /// B rows, T response columns.
    let rows: Int, columns: Int
    let promptLengths: [Int]
    /// [B*T] loss mask, sampler log-probs.
    var mask: [Double]
    let rolloutLogprobs: [Double]
    var rewards: [Double]
    let groupIDs: [Int]
    let responseLengths: [Int]
    /// Whether the episode ended without an end-of-turn token (cut by a budget).
    let truncated: [Bool]
    /// Tokens of each row's longest policy turn (its response, for a single-turn task).
    let longestTurnLengths: [Int]

    init(_ trajectories: [Trajectory], endTokens: Set<Int32>) {
        self.trajectories = trajectories
        rows = trajectories.count
        promptLengths = trajectories.map(\.promptLength)
        columns = zip(trajectories, promptLengths).map { $0.tokens.count - $1 }.max() ?? 0
        var mask = [Double](repeating: 0, count: rows * columns)
        var roll = mask
        for (i, t) in trajectories.enumerated() {
            let P = promptLengths[i]
            for c in 0..<(t.tokens.count - P) {
                mask[i * columns + c] = Double(t.lossMask[P + c])
                roll[i * columns + c] = Double(t.samplerLogprobs[P + c])
            }
        }
        self.mask = mask
        rolloutLogprobs = roll
        rewards = trajectories.map(\.reward)
        groupIDs = trajectories.map(\.groupID)
        responseLengths = trajectories.map(\.responseLength)
        longestTurnLengths = trajectories.map(\.longestTurnLength)
        truncated = trajectories.map { t in
            guard let last = t.tokens.indices.last(where: { t.lossMask[$0] == 1 }) else { return false }
            // Cut by the per-turn limit or the token budget: the policy never closed its turn.
            return !endTokens.contains(t.tokens[last])
        }
    }

    /// Turn rewards at the ends of their policy turns (bi-level GAE; TurnRewards.swift). [B*T].
    func turnRewardShifts() -> [Double] {
        TurnRewards.extraTokenRewards(
            turnEnds: zip(trajectories, promptLengths).map { t, P in t.policyTurnEnds.map { $0 - P } },
            turnRewards: trajectories.map(\.turnRewards), mask: mask, rows: rows, columns: columns)
    }

    /// The packed model batch of `rowIndices` (log-probs from position P_i − 1 on; none when
    /// `scored` is false, e.g. for a separate critic, so the LM head is skipped — the rows are the
    /// same). Consecutive rows of one group share their prompt's rows (computed once, attended to
    /// by each sample).
    func trainingBatch(_ rowIndices: [Int], scored: Bool = true) -> TrainingBatch {
        var groups: [SequenceGroup] = []
        var lastGroup = -1
        for i in rowIndices {
            let t = trajectories[i], P = promptLengths[i]
            let prompt = Array(t.tokens[0..<P]), rest = Array(t.tokens[P...])
            if groupIDs[i] == lastGroup, let g = groups.last, g.prefix == prompt {
                groups[groups.count - 1].continuations.append(rest)
            } else {
                groups.append(SequenceGroup(prefix: prompt, continuations: [rest], scoreFrom: scored ? max(0, P - 1) : Int.max))
                lastGroup = groupIDs[i]
            }
        }
        return TrainingBatch(groups: groups)
    }

    /// Scatters per-row packed values (log-probs, entropies, values) into the [b, T] grid of
    /// `rowIndices`; entries outside the response stay 0.
    func grid(_ packed: [Float], batch: TrainingBatch, rows rowIndices: [Int]) -> [Double] {
        var out = [Double](repeating: 0, count: rowIndices.count * columns)
        for (k, i) in rowIndices.enumerated() {
            let P = promptLengths[i], n = trajectories[i].tokens.count - P
            for c in 0..<n { out[k * columns + c] = Double(packed[batch.row(sequence: k, position: P + c - 1)]) }
        }
        return out
    }

    /// Gathers a [b, T] gradient grid back to packed rows (the model's backward input).
    func packed(_ grid: [Double], batch: TrainingBatch, rows rowIndices: [Int]) -> [Float] {
        var out = [Float](repeating: 0, count: batch.rowCount)
        for (k, i) in rowIndices.enumerated() {
            let P = promptLengths[i], n = trajectories[i].tokens.count - P
            // += : a shared prompt row receives the gradients of every sample that reads it.
            for c in 0..<n { out[batch.row(sequence: k, position: P + c - 1)] += Float(grid[k * columns + c]) }
        }
        return out
    }

    /// Packed row indices of every response position of `rowIndices` (for the value head).
    func responseRows(batch: TrainingBatch, rows rowIndices: [Int]) -> [Int] {
        var out: [Int] = []
        for (k, i) in rowIndices.enumerated() {
            let P = promptLengths[i]
            for c in 0..<columns { out.append(c < trajectories[i].tokens.count - P ? batch.row(sequence: k, position: P + c - 1) : -1) }
        }
        return out
    }

    /// Splits `rowIndices` into micro-batches of at most `maxTokens` packed tokens, in order.
    func microBatches(_ rowIndices: [Int], maxTokens: Int) -> [[Int]] {
        var out: [[Int]] = [], current: [Int] = [], tokens = 0
        for i in rowIndices {
            let n = trajectories[i].tokens.count
            if !current.isEmpty && tokens + n > maxTokens {
                out.append(current)
                current = []
                tokens = 0
            }
            current.append(i)
            tokens += n
        }
        if !current.isEmpty { out.append(current) }
        return out
    }
}
