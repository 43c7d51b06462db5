// rlhub — evaluation scores and checkpoint archives of runs.
import Foundation
import GRDB
import RLHubCore

extension RunStore {
    /// Stores (or replaces) evaluation results of a run at a step.
    public func addScores(run id: String, _ scores: [ScoreRecord]) throws {
        try write { db in
            let pk = try runKey(id, db)
            for s in scores {
                do {
                    try db.execute(
                        sql: """
                            INSERT OR REPLACE INTO scores(run, step, split, metric, value, episodes, ci_low, ci_high)
                            VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                            """,
                        arguments: [pk, s.step, s.split, s.metric, s.value, s.episodes, s.ciLow, s.ciHigh])
                } catch let e as DatabaseError where e.isFrozenRun {
                    throw InputError(file: "run", field: id, message: "is part of a release and cannot change")
                }
            }
        }
    }

    /// Scores of a run by step, split, metric.
    public func scores(run id: String) throws -> [ScoreRecord] {
        try read { db in
            let pk = try runKey(id, db)
            return try ScoreRecord.fetchAll(db, sql: """
                SELECT step, split, metric, value, episodes, ci_low, ci_high FROM scores WHERE run = ?
                ORDER BY step, split, metric
                """, arguments: [pk])
        }
    }

    /// Packs a checkpoint folder into a content-addressed archive and records it for the run at
    /// `step` (the blob is durable before the row that points at it is committed).
    @discardableResult
    public func addCheckpoint(run id: String, step: Int, folder: String) throws -> CheckpointRecord {
        let (sha, bytes) = try blobs.putFolder(folder)
        return try recordCheckpoint(run: id, step: step, sha256: sha, bytes: bytes)
    }

    /// Records an archive that is already in the blob store.
    @discardableResult
    public func recordCheckpoint(run id: String, step: Int, sha256: String, bytes: Int64) throws -> CheckpointRecord {
        let path = "blobs/" + (try blobs.relativePath(sha256: sha256))
        let created = Self.now()
        try write { db in
            let pk = try runKey(id, db)
            do {
                try db.execute(
                    sql: "INSERT OR REPLACE INTO checkpoints(run, step, sha256, bytes, format, path, created) VALUES (?, ?, ?, ?, 'tar.zst', ?, ?)",
                    arguments: [pk, step, sha256, bytes, path, created])
            } catch let e as DatabaseError where e.isFrozenRun {
                throw InputError(file: "run", field: id, message: "is part of a release and cannot change")
            }
        }
        return CheckpointRecord(run: id, step: step, sha256: sha256, bytes: bytes, format: "tar.zst", path: path, created: created)
    }

    /// Checkpoints of one run (or of every run), by run creation then step.
    public func checkpoints(run id: String? = nil) throws -> [CheckpointRecord] {
        try read { db in
            var sql = "SELECT r.id AS run, c.step, c.sha256, c.bytes, c.format, c.path, c.created FROM checkpoints c JOIN runs r ON r.pk = c.run"
            var args: StatementArguments = []
            if let id {
                sql += " WHERE c.run = ?"
                args = [try runKey(id, db)]
            }
            sql += " ORDER BY r.created, r.id, c.step"
            return try CheckpointRecord.fetchAll(db, sql: sql, arguments: args)
        }
    }
}
