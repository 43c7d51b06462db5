// rlhub — metric points: batched inserts, per-run summaries, curve reads.
import Foundation
import GRDB
import GRDBSQLite
import RLHubCore

extension RunStore {
    /// Appends records of named values in one transaction (the trainer's sink calls this once per
    /// flush). A point logged again at the same step replaces the old value. Non-finite values are
    /// stored as NULL. `metric_summaries` (final and best value per name) is updated in the same
    /// transaction, so `final.x` filters never see a half-written batch.
    public func appendMetrics(run id: String, records: [(step: Int, metrics: [String: Double])]) throws {
        guard !records.isEmpty else { return }
        try write { db in try insertMetrics(run: id, pk: try runKey(id, db), records: records, db) }
    }

    /// The body of ``appendMetrics(run:records:)`` inside a caller's transaction.
    func insertMetrics(run id: String, pk: Int64, records: [(step: Int, metrics: [String: Double])], _ db: Database) throws {
        do {
            // Per name: (final step, final value, best step, best value, count) of this batch.
            var batch: [Int64: (Int, Double?, Int?, Double?, Int)] = [:]
            // Names are resolved once per batch; points go in step-major order.
            var ids: [String: Int64] = [:]
            for record in records {
                for name in record.metrics.keys where ids[name] == nil { ids[name] = try metricID(name, db) }
            }
            var points: [(name: Int64, step: Int64, value: Double?, order: Int)] = []
            points.reserveCapacity(records.reduce(0) { $0 + $1.metrics.count })
            for record in records {
                for (name, raw) in record.metrics {
                    let value: Double? = raw.isFinite ? raw : nil
                    let nameID = ids[name]!
                    points.append((nameID, Int64(record.step), value, points.count))
                    var s = batch[nameID] ?? (record.step, value, nil, nil, 0)
                    if record.step >= s.0 { s.0 = record.step; s.1 = value }
                    if let v = value, s.3 == nil || v > s.3! { s.2 = record.step; s.3 = v }
                    s.4 += 1
                    batch[nameID] = s
                }
            }
            // In key order (name, step), consecutive rows land on the same B-tree leaf.
            // (A point logged twice in one batch keeps its last value: `order` breaks ties.)
            points.sort { ($0.name, $0.step, $0.order) < ($1.name, $1.step, $1.order) }
            // Points go in 64 rows per statement, bound with SQLite's C API: one VDBE program
            // per 64 rows instead of per row, and no per-point argument arrays (together ≈ 2×).
            let rowsPerStatement = 64
            var start = 0
            while start < points.count {
                let rows = min(rowsPerStatement, points.count - start)
                let statement = try db.cachedStatement(sql: Self.insertMetricsSQL(rows: rows))
                let handle = statement.sqliteStatement
                sqlite3_reset(handle)
                for r in 0..<rows {
                    let p = points[start + r]
                    let base = Int32(4 * r)
                    sqlite3_bind_int64(handle, base + 1, pk)
                    sqlite3_bind_int64(handle, base + 2, p.name)
                    sqlite3_bind_int64(handle, base + 3, p.step)
                    if let v = p.value { sqlite3_bind_double(handle, base + 4, v) } else { sqlite3_bind_null(handle, base + 4) }
                }
                let rc = sqlite3_step(handle)
                let message = rc == SQLITE_DONE ? "" : String(cString: sqlite3_errmsg(db.sqliteConnection))
                sqlite3_reset(handle)
                guard rc == SQLITE_DONE else {
                    if message.contains("part of a release") {
                        throw InputError(file: "run", field: id, message: "is part of a release and cannot change")
                    }
                    throw DatabaseError(resultCode: ResultCode(rawValue: rc), message: message)
                }
                start += rows
            }
            let upsert = try db.cachedStatement(sql: """
                INSERT INTO metric_summaries(run, name, final_step, final_value, best_step, best_value, count)
                VALUES (?, ?, ?, ?, ?, ?, ?)
                ON CONFLICT(run, name) DO UPDATE SET
                    final_value = CASE WHEN excluded.final_step >= final_step THEN excluded.final_value ELSE final_value END,
                    final_step = max(final_step, excluded.final_step),
                    best_step = CASE WHEN excluded.best_value IS NOT NULL AND (best_value IS NULL OR excluded.best_value > best_value)
                                     THEN excluded.best_step ELSE best_step END,
                    best_value = CASE WHEN excluded.best_value IS NOT NULL AND (best_value IS NULL OR excluded.best_value > best_value)
                                      THEN excluded.best_value ELSE best_value END,
                    count = count + excluded.count
                """)
            for nameID in batch.keys.sorted() {
                let s = batch[nameID]!
                try upsert.execute(arguments: [pk, nameID, s.0, s.1, s.2, s.3, s.4])
            }
        }
    }

    /// `INSERT OR REPLACE` of `rows` metric points in one statement.
    static func insertMetricsSQL(rows: Int) -> String {
        "INSERT OR REPLACE INTO metrics(run, name, step, value) VALUES "
            + Array(repeating: "(?, ?, ?, ?)", count: rows).joined(separator: ", ")
    }

    /// Deletes points, scores and samples after `step` (a resumed run logs them again) and rebuilds the
    /// run's summaries.
    public func truncateMetrics(run id: String, after step: Int) throws {
        try write { db in
            let pk = try runKey(id, db)
            try db.execute(sql: "DELETE FROM metrics WHERE run = ? AND step > ?", arguments: [pk, step])
            try db.execute(sql: "DELETE FROM scores WHERE run = ? AND step > ?", arguments: [pk, step])
            try db.execute(sql: "DELETE FROM rollout_samples WHERE run = ? AND step > ?", arguments: [pk, step])
            try db.execute(sql: "DELETE FROM metric_summaries WHERE run = ?", arguments: [pk])
            try db.execute(sql: """
                INSERT INTO metric_summaries(run, name, final_step, final_value, best_step, best_value, count)
                SELECT m.run, m.name, m.step, m.value,
                    (SELECT b.step FROM metrics b WHERE b.run = m.run AND b.name = m.name AND b.value IS NOT NULL
                        ORDER BY b.value DESC, b.step LIMIT 1),
                    (SELECT max(b.value) FROM metrics b WHERE b.run = m.run AND b.name = m.name),
                    (SELECT count(*) FROM metrics c WHERE c.run = m.run AND c.name = m.name)
                FROM metrics m
                WHERE m.run = ? AND m.step = (SELECT max(step) FROM metrics x WHERE x.run = m.run AND x.name = m.name)
                """, arguments: [pk])
        }
    }

    /// The points of one metric of a run in step order; with `every` > 1, every N-th point plus
    /// the last one (downsampling for plots).
    public func curve(run id: String, metric: String, every: Int = 1) throws -> [(step: Int, value: Double?)] {
        try read { db in
            let pk = try runKey(id, db)
            guard let nameID = try Int64.fetchOne(db, sql: "SELECT id FROM metric_names WHERE name = ?", arguments: [metric]) else {
                return []
            }
            let n = max(1, every)
            var out: [(Int, Double?)] = []
            let rows = try Row.fetchCursor(
                db, sql: "SELECT step, value FROM metrics WHERE run = ? AND name = ? ORDER BY step", arguments: [pk, nameID])
            var index = 0
            var last: (Int, Double?)? = nil
            while let row = try rows.next() {
                let point: (Int, Double?) = (row[0], row[1])
                if index % n == 0 { out.append(point); last = nil } else { last = point }
                index += 1
            }
            if let last { out.append(last) }
            return out
        }
    }

    /// Every point of a run, by step then name (what `rlhub verify` compares).
    public func allMetrics(run id: String) throws -> [(step: Int, name: String, value: Double?)] {
        try read { db in
            let pk = try runKey(id, db)
            return try Row.fetchAll(db, sql: """
                SELECT m.step, n.name, m.value FROM metrics m JOIN metric_names n ON n.id = m.name
                WHERE m.run = ? ORDER BY m.step, n.name
                """, arguments: [pk]).map { ($0[0], $0[1], $0[2]) }
        }
    }

    /// Names of the metrics a run has logged, sorted.
    public func metricNames(run id: String) throws -> [String] {
        try read { db in
            let pk = try runKey(id, db)
            return try String.fetchAll(db, sql: """
                SELECT n.name FROM metric_summaries s JOIN metric_names n ON n.id = s.name WHERE s.run = ? ORDER BY n.name
                """, arguments: [pk])
        }
    }

    /// Final and best value of every metric of a run.
    public func metricSummaries(run id: String) throws -> [(name: String, finalStep: Int, finalValue: Double?, bestStep: Int?, bestValue: Double?, count: Int)] {
        try read { db in
            let pk = try runKey(id, db)
            return try Row.fetchAll(db, sql: """
                SELECT n.name, s.final_step, s.final_value, s.best_step, s.best_value, s.count
                FROM metric_summaries s JOIN metric_names n ON n.id = s.name WHERE s.run = ? ORDER BY n.name
                """, arguments: [pk]).map { ($0[0], $0[1], $0[2], $0[3], $0[4], $0[5]) }
        }
    }
}
