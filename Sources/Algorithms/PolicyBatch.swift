// rlhub — one optimisation mini-batch of trajectories in the layout every loss reads
// (algorithms.md §0).
//
// B rows (trajectories), right-padded to T response columns, stored row-major as [B*T] Doubles:
//
//   m[i,t] ∈ {0,1}   loss mask: 1 exactly on tokens the policy sampled and that are trained
//   lp[i,t]          log π_θ(y_{i,t} | x_i, y_{i,<t})      current policy, the only input with gradient
//   lp_old, lp_ref, lp_roll                                 θ_old recompute, reference, sampler (no grad)
//   V, V_old                                                value head now / at rollout (PPO)
//   H[i,t]           entropy of the current policy at the position (entropy bonus)
//   R_i              outcome reward per row; r[i,t] optional extra token-level (e.g. turn) rewards
//   g(i)             group id (prompt uid)
//
//   n_i = Σ_t m[i,t],   N = Σ n_i,   B' = #{i : n_i > 0}
//
// Padding and observation tokens (m = 0) may hold any value (TRL pads log-probs with 1.0); every
// consumer multiplies by the mask, so nothing at m = 0 leaks into a loss or gradient.
import Foundation

/// A bad batch handed to the algorithms: wrong array sizes, non-finite values on loss tokens, or a
/// reward on a masked position. One line, naming the field.
public struct BatchError: Error, CustomStringConvertible, Sendable, Equatable {
    /// The ``PolicyBatch`` field (`mask`, `tokenRewards`, …).
    public var field: String
    /// What is wrong and what to do instead.
    public var message: String

    public init(field: String, message: String) {
        self.field = field
        self.message = message
    }

    /// `batch: field: message`.
    public var description: String { "batch: \(field): \(message)" }
}

/// One optimisation mini-batch (or micro-batch) of B trajectories right-padded to T columns.
///
/// Build it once per rollout batch for the advantage computation (with `logprobs` = the θ_old
/// recompute), then for every forward pass swap in the current log-probs with
/// ``replacingLogprobs(_:entropies:)`` and select mini/micro-batches with ``selecting(rows:)``.
///
/// ```swift
/// let batch = try PolicyBatch(rows: 2, columns: 3,
///                             mask: [1, 1, 0,  1, 1, 1],
///                             logprobs: lpOld, rewards: [1, 0], groupIDs: [7, 7])
/// let adv = Advantages.compute(for: batch, config: config)
/// ```
public struct PolicyBatch: Sendable, Equatable {
    /// B: number of rows (trajectories).
    public let rows: Int
    /// T: padded response length.
    public let columns: Int
    /// m: [B*T] loss mask, 0 or 1.
    public private(set) var mask: [Double]
    /// lp: [B*T] current log-probs (the quantity losses differentiate).
    public private(set) var logprobs: [Double]
    /// lp_old: [B*T] log-probs under θ_old (equal to ``logprobs`` on-policy).
    public private(set) var oldLogprobs: [Double]
    /// lp_ref: [B*T] reference-policy log-probs; needed only when KL is on.
    public private(set) var refLogprobs: [Double]?
    /// lp_roll: [B*T] sampler log-probs; TIS (§4.1) applies only when present.
    public private(set) var rolloutLogprobs: [Double]?
    /// V: [B*T] current value predictions (PPO).
    public private(set) var values: [Double]?
    /// V_old: [B*T] values recorded at rollout time (value clipping; GAE reads these).
    public private(set) var oldValues: [Double]?
    /// H: [B*T] current per-token entropies; required when the entropy bonus is on.
    public private(set) var entropies: [Double]?
    /// R_i: [B] outcome reward per row (placed on the last loss token of the row, §2.3).
    public private(set) var rewards: [Double]
    /// r: [B*T] optional extra token-level rewards (turn rewards, §10 rule 4); only on m = 1.
    public private(set) var tokenRewards: [Double]?
    /// g(i): [B] group id of each row (prompt uid).
    public private(set) var groupIDs: [Int]
    /// |y_i|: [B] response length in tokens, EOS included (overlong shaping); defaults to n_i.
    public private(set) var responseLengths: [Int]

    /// Checks every size and the mask/reward rules.
    /// - Parameters:
    ///   - oldLogprobs: nil → on-policy (`lp_old := lp`, §11 "on-policy shortcut").
    ///   - responseLengths: nil → n_i.
    /// - Throws: ``BatchError`` for a wrong size, a mask value other than 0/1, a non-finite
    ///   value on a loss token, or a non-zero token reward on a masked position.
    public init(
        rows: Int, columns: Int, mask: [Double], logprobs: [Double], oldLogprobs: [Double]? = nil,
        refLogprobs: [Double]? = nil, rolloutLogprobs: [Double]? = nil,
        values: [Double]? = nil, oldValues: [Double]? = nil, entropies: [Double]? = nil,
        rewards: [Double], tokenRewards: [Double]? = nil, groupIDs: [Int],
        responseLengths: [Int]? = nil
    ) throws(BatchError) {
        guard rows >= 0, columns >= 0 else {
            throw BatchError(field: "rows", message: "rows (\(rows)) and columns (\(columns)) must be ≥ 0")
        }
        let size = rows * columns
        func check(_ name: String, _ x: [Double]?, masked: Bool = true) throws(BatchError) {
            guard let x else { return }
            guard x.count == size else {
                throw BatchError(field: name, message: "has \(x.count) entries, expected B*T = \(rows)*\(columns) = \(size)")
            }
            for k in 0..<size where mask[k] != 0 && !x[k].isFinite {
                throw BatchError(field: name, message: "non-finite value \(x[k]) on loss token (row \(k / columns), column \(k % columns))")
            }
        }
        guard mask.count == size else {
            throw BatchError(field: "mask", message: "has \(mask.count) entries, expected B*T = \(rows)*\(columns) = \(size)")
        }
        if let k = mask.firstIndex(where: { $0 != 0 && $0 != 1 }) {
            throw BatchError(field: "mask", message: "value \(mask[k]) at row \(k / columns), column \(k % columns); the loss mask must be 0 or 1")
        }
        try check("logprobs", logprobs)
        try check("oldLogprobs", oldLogprobs)
        try check("refLogprobs", refLogprobs)
        try check("rolloutLogprobs", rolloutLogprobs)
        try check("values", values)
        try check("oldValues", oldValues)
        try check("entropies", entropies)
        try check("tokenRewards", tokenRewards)
        if let r = tokenRewards, let k = (0..<size).first(where: { mask[$0] == 0 && r[$0] != 0 }) {
            throw BatchError(
                field: "tokenRewards",
                message: "reward \(r[k]) at row \(k / columns), column \(k % columns) is on a masked position (m = 0); place rewards on loss tokens (the last assistant token of the turn)")
        }
        guard rewards.count == rows else {
            throw BatchError(field: "rewards", message: "has \(rewards.count) entries, expected one per row (\(rows))")
        }
        if let i = rewards.firstIndex(where: { !$0.isFinite }) {
            throw BatchError(field: "rewards", message: "row \(i) has non-finite reward \(rewards[i])")
        }
        guard groupIDs.count == rows else {
            throw BatchError(field: "groupIDs", message: "has \(groupIDs.count) entries, expected one per row (\(rows))")
        }
        if let lengths = responseLengths {
            guard lengths.count == rows else {
                throw BatchError(field: "responseLengths", message: "has \(lengths.count) entries, expected one per row (\(rows))")
            }
            if let i = lengths.firstIndex(where: { $0 < 0 }) {
                throw BatchError(field: "responseLengths", message: "row \(i) has negative length \(lengths[i])")
            }
        }
        self.rows = rows
        self.columns = columns
        self.mask = mask
        self.logprobs = logprobs
        self.oldLogprobs = oldLogprobs ?? logprobs
        self.refLogprobs = refLogprobs
        self.rolloutLogprobs = rolloutLogprobs
        self.values = values
        self.oldValues = oldValues
        self.entropies = entropies
        self.rewards = rewards
        self.tokenRewards = tokenRewards
        self.groupIDs = groupIDs
        self.responseLengths = responseLengths ?? (0..<rows).map { i in
            (0..<columns).reduce(0) { $0 + (mask[i * columns + $1] != 0 ? 1 : 0) }
        }
    }

    // MARK: - Derived counts

    /// n_i: loss tokens of row `i`.
    public func lossTokens(row i: Int) -> Int {
        var n = 0
        for t in 0..<columns where mask[i * columns + t] != 0 { n += 1 }
        return n
    }

    /// n_i for every row.
    public var rowLossTokens: [Int] { (0..<rows).map(lossTokens(row:)) }

    /// N: loss tokens in the batch.
    public var tokenCount: Int { mask.reduce(0) { $0 + ($1 != 0 ? 1 : 0) } }

    /// B': rows with at least one loss token.
    public var nonEmptyRowCount: Int { rowLossTokens.filter { $0 > 0 }.count }

    /// Column of the last loss token of row `i`, or nil when the row has none.
    public func lastLossColumn(row i: Int) -> Int? {
        (0..<columns).last { mask[i * columns + $0] != 0 }
    }

    // MARK: - Derived batches

    /// The same batch with the current policy's log-probs and entropies from a new forward pass
    /// (`entropies: nil` removes them).
    /// - precondition: sizes are B*T.
    public func replacingLogprobs(_ logprobs: [Double], entropies: [Double]? = nil) -> PolicyBatch {
        precondition(logprobs.count == rows * columns, "replacingLogprobs: \(logprobs.count) log-probs for B*T = \(rows * columns)")
        precondition(entropies == nil || entropies?.count == rows * columns, "replacingLogprobs: entropies must have B*T entries")
        var copy = self
        copy.logprobs = logprobs
        copy.entropies = entropies
        return copy
    }

    /// The same batch with new values (the value head's forward pass).
    /// - precondition: size is B*T.
    public func replacingValues(_ values: [Double]) -> PolicyBatch {
        precondition(values.count == rows * columns, "replacingValues: \(values.count) values for B*T = \(rows * columns)")
        var copy = self
        copy.values = values
        return copy
    }

    /// The batch as the objective sees it after a forward pass of the current policy over its
    /// rows: lp and H from that pass, V from a value head on the policy's trunk (nil: the
    /// objective has no value term). `onPolicy` (θ_old was not recomputed) sets lp_old := lp,
    /// detached, so every ratio is 1 (§11 "on-policy shortcut"); otherwise lp_old stays.
    /// - Throws: ``BatchError`` for a wrong size or a non-finite value on a loss token, as
    ///   ``init(rows:columns:mask:logprobs:oldLogprobs:refLogprobs:rolloutLogprobs:values:oldValues:entropies:rewards:tokenRewards:groupIDs:responseLengths:)``.
    public func afterForwardPass(
        logprobs: [Double], entropies: [Double]?, values: [Double]?, onPolicy: Bool
    ) throws(BatchError) -> PolicyBatch {
        try PolicyBatch(
            rows: rows, columns: columns, mask: mask, logprobs: logprobs, oldLogprobs: onPolicy ? nil : oldLogprobs,
            refLogprobs: refLogprobs, rolloutLogprobs: rolloutLogprobs, values: values, oldValues: oldValues,
            entropies: entropies, rewards: rewards, tokenRewards: tokenRewards, groupIDs: groupIDs,
            responseLengths: responseLengths)
    }

    /// The same batch with a new loss mask (overlong filtering, rejection sampling).
    /// Token rewards on newly masked positions are dropped.
    /// - precondition: size is B*T, entries 0 or 1.
    public func replacingMask(_ mask: [Double]) -> PolicyBatch {
        precondition(mask.count == rows * columns && mask.allSatisfy { $0 == 0 || $0 == 1 }, "replacingMask: need B*T entries of 0/1")
        var copy = self
        copy.mask = mask
        if let r = tokenRewards { copy.tokenRewards = zip(r, mask).map { $1 != 0 ? $0 : 0 } }
        return copy
    }

    /// The same batch with new outcome rewards (reward shaping, e.g. soft overlong punishment).
    /// - precondition: one reward per row.
    public func replacingRewards(_ rewards: [Double]) -> PolicyBatch {
        precondition(rewards.count == rows, "replacingRewards: \(rewards.count) rewards for \(rows) rows")
        var copy = self
        copy.rewards = rewards
        return copy
    }

    /// The rows `indices` (in that order) as a new batch: mini-batches and micro-batches.
    /// - precondition: every index is in `0..<rows`.
    public func selecting(rows indices: [Int]) -> PolicyBatch {
        func pick(_ x: [Double]?) -> [Double]? { x.map { PolicyBatch.gather($0, rows: indices, columns: columns) } }
        var copy = self
        copy.mask = PolicyBatch.gather(mask, rows: indices, columns: columns)
        copy.logprobs = PolicyBatch.gather(logprobs, rows: indices, columns: columns)
        copy.oldLogprobs = PolicyBatch.gather(oldLogprobs, rows: indices, columns: columns)
        copy.refLogprobs = pick(refLogprobs)
        copy.rolloutLogprobs = pick(rolloutLogprobs)
        copy.values = pick(values)
        copy.oldValues = pick(oldValues)
        copy.entropies = pick(entropies)
        copy.tokenRewards = pick(tokenRewards)
        copy.rewards = indices.map { rewards[$0] }
        copy.groupIDs = indices.map { groupIDs[$0] }
        copy.responseLengths = indices.map { responseLengths[$0] }
        return PolicyBatch(copy, rows: indices.count)
    }

    /// Rows `indices` of a row-major [B*T] array (advantages, returns) in that order.
    public static func gather(_ x: [Double], rows indices: [Int], columns: Int) -> [Double] {
        var out = [Double]()
        out.reserveCapacity(indices.count * columns)
        for i in indices {
            precondition(i >= 0 && (i + 1) * columns <= x.count, "gather: row \(i) out of range")
            out.append(contentsOf: x[(i * columns)..<((i + 1) * columns)])
        }
        return out
    }

    /// Copy with a new row count (fields already re-sized by the caller).
    private init(_ other: PolicyBatch, rows: Int) {
        self.rows = rows
        columns = other.columns
        mask = other.mask
        logprobs = other.logprobs
        oldLogprobs = other.oldLogprobs
        refLogprobs = other.refLogprobs
        rolloutLogprobs = other.rolloutLogprobs
        values = other.values
        oldValues = other.oldValues
        entropies = other.entropies
        rewards = other.rewards
        tokenRewards = other.tokenRewards
        groupIDs = other.groupIDs
        responseLengths = other.responseLengths
    }
}
