// rlhub — rollout samples in the store (schema v3): one row per recorded trajectory, its summary in
// columns (what `rlhub samples --where` filters on) and the whole sample as zstd-compressed JSON.
//
// Size budget: a step's samples of one kind are kept, in order, while their compressed bytes total
// at most ``RunStore/sampleBudgetPerStep`` (256 KiB); the rest of that step's are dropped, and a
// sample is never cut. With the defaults (4 samples every 10 steps and at every evaluation) a run
// of S steps evaluated every E holds 4·(⌊S/10⌋ + ⌊S/E⌋ + 1) samples — a few kilobytes each for
// the task models (docs/metrics.md has the measured share of a release).
import Foundation
import GRDB

/// One recorded trajectory as the store keeps it: the columns a filter can test and the sample's
/// JSON (the Trainer's `RolloutSample`, which the store does not interpret).
public struct StoredSample: Sendable, Equatable {
    public var step: Int
    /// `train` or `eval`.
    public var kind: String
    /// Order of the sample within its step and kind.
    public var position: Int
    public var problem: Int
    public var group: Int
    public var sample: Int
    public var reward: Double
    /// Mean advantage over the policy's tokens (training samples of RL objectives).
    public var advantage: Double?
    /// Largest |log π_θ_old − log π_sampler| over the policy's tokens (training samples).
    public var logprobGap: Double?
    public var outcome: String?
    public var finishReason: String
    public var truncated: Bool
    public var turns: Int
    public var promptTokens: Int
    public var responseTokens: Int
    /// The sample's JSON, uncompressed.
    public var json: Data

    public init(
        step: Int, kind: String, position: Int, problem: Int, group: Int, sample: Int, reward: Double, advantage: Double?,
        logprobGap: Double?, outcome: String?, finishReason: String, truncated: Bool, turns: Int, promptTokens: Int,
        responseTokens: Int, json: Data
    ) {
        self.step = step
        self.kind = kind
        self.position = position
        self.problem = problem
        self.group = group
        self.sample = sample
        self.reward = reward
        self.advantage = advantage
        self.logprobGap = logprobGap
        self.outcome = outcome
        self.finishReason = finishReason
        self.truncated = truncated
        self.turns = turns
        self.promptTokens = promptTokens
        self.responseTokens = responseTokens
        self.json = json
    }
}

/// The recorded samples of one step and kind.
public struct SampleStep: Sendable, Equatable, Codable {
    public var step: Int
    public var kind: String
    public var samples: Int

    public init(step: Int, kind: String, samples: Int) {
        self.step = step
        self.kind = kind
        self.samples = samples
    }
}

extension RunStore {
    /// Compressed bytes of one step's samples of one kind, at most: 256 KiB.
    public static let sampleBudgetPerStep = 256 << 10
    /// Largest decompressed sample read back (64 MiB): a pulled store is not trusted.
    public static let sampleReadLimit = 64 << 20

    /// Stores the samples of `step` (positions are their order) in one transaction, within
    /// ``sampleBudgetPerStep``; returns how many were kept. Samples logged again for a step and
    /// kind replace the old ones (a resumed run records them again).
    @discardableResult
    public func appendSamples(run id: String, step: Int, kind: String, samples: [StoredSample]) throws -> Int {
        var frames: [Data] = []
        var total = 0
        for s in samples {
            let frame = try ZstdData.compress(s.json)
            if total + frame.count > Self.sampleBudgetPerStep { break }
            total += frame.count
            frames.append(frame)
        }
        try write { db in
            let pk = try runKey(id, db)
            try db.execute(sql: "DELETE FROM rollout_samples WHERE run = ? AND step = ? AND kind = ?", arguments: [pk, step, kind])
            for (position, (s, frame)) in zip(samples, frames).enumerated() {
                try db.execute(
                    sql: """
                        INSERT INTO rollout_samples(run, step, kind, position, problem, group_id, sample, reward, advantage,
                            logprob_gap, outcome, finish_reason, truncated, turns, prompt_tokens, response_tokens, raw_bytes, data)
                        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                        """,
                    arguments: [
                        pk, step, kind, position, s.problem, s.group, s.sample, s.reward.isFinite ? s.reward : nil,
                        s.advantage.flatMap { $0.isFinite ? $0 : nil }, s.logprobGap.flatMap { $0.isFinite ? $0 : nil },
                        s.outcome, s.finishReason, s.truncated, s.turns, s.promptTokens, s.responseTokens, s.json.count, frame,
                    ])
            }
        }
        return frames.count
    }

    /// The steps (and kinds) at which a run recorded samples, in step order (train before eval).
    public func sampleSteps(run id: String) throws -> [SampleStep] {
        try read { db in
            let pk = try runKey(id, db)
            return try Row.fetchAll(db, sql: """
                SELECT step, kind, count(*) FROM rollout_samples WHERE run = ? GROUP BY step, kind ORDER BY step, kind DESC
                """, arguments: [pk]).map { SampleStep(step: $0[0], kind: $0[1], samples: $0[2]) }
        }
    }

    /// A run's samples (at `step` only, when given) that `filter` selects, in (step, kind, position)
    /// order, decompressed.
    public func samples(run id: String, step: Int? = nil, filter: SampleFilter = .all) throws -> [StoredSample] {
        let rows = try read { db -> [Row] in
            let pk = try runKey(id, db)
            var sql = "SELECT * FROM rollout_samples s WHERE s.run = ? AND (\(filter.sql))"
            var arguments: StatementArguments = [pk]
            arguments += filter.arguments
            if let step {
                sql += " AND s.step = ?"
                arguments += [step]
            }
            return try Row.fetchAll(db, sql: sql + " ORDER BY s.step, s.kind DESC, s.position", arguments: arguments)
        }
        return try rows.map { row in
            let frame: Data = row["data"]
            let json = try ZstdData.decompress(frame, limit: Self.sampleReadLimit)
            return StoredSample(
                step: row["step"], kind: row["kind"], position: row["position"], problem: row["problem"], group: row["group_id"],
                sample: row["sample"], reward: row["reward"] ?? .nan, advantage: row["advantage"], logprobGap: row["logprob_gap"],
                outcome: row["outcome"], finishReason: row["finish_reason"], truncated: row["truncated"], turns: row["turns"],
                promptTokens: row["prompt_tokens"], responseTokens: row["response_tokens"], json: json)
        }
    }

    /// Compressed and uncompressed bytes of a run's samples (all runs when nil), and their count.
    public func sampleBytes(run id: String? = nil) throws -> (samples: Int, compressed: Int, raw: Int) {
        try read { db in
            var sql = "SELECT count(*), coalesce(sum(length(data)), 0), coalesce(sum(raw_bytes), 0) FROM rollout_samples"
            var arguments: StatementArguments = []
            if let id {
                sql += " WHERE run = ?"
                arguments = [try runKey(id, db)]
            }
            let row = try Row.fetchOne(db, sql: sql, arguments: arguments)!
            return (row[0], row[1], row[2])
        }
    }
}
