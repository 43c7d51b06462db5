// rlhub — a release as a store of its own: the file a hub publishes, and how a pulled one comes in.
//
// Export copies the release's rows (runs, their experiments, metrics, summaries, scores, rollout
// samples, checkpoint rows, tags, the release itself) into a new SQLite file with the same schema, keeping every key,
// in key order, then vacuums it: the same release always gives the same bytes. Import goes the
// other way, renumbering keys into the local store, in one IMMEDIATE transaction.
import Foundation
import GRDB
import RLHubCore

/// What ``RunStore/importRelease(from:source:)`` did.
public struct ReleaseImport: Sendable, Equatable {
    public var release: String
    /// Runs whose rows were copied in.
    public var imported: [String]
    /// Runs the store already had (same id and config hash): kept as they were.
    public var alreadyPresent: [String]
    /// True when the release itself was already in the store with the same runs (nothing changed).
    public var releaseWasPresent: Bool
}

extension RunStore {
    /// Writes release `name` as a store subset at `path` (a new file; an existing one is replaced
    /// atomically). Deterministic: the same release gives the same bytes.
    public func exportRelease(_ name: String, to path: String) throws {
        let temp = path + ".\(getpid()).tmp"
        unlink(temp)
        defer { unlink(temp); unlink(temp + "-journal") }
        var config = Configuration()
        config.foreignKeysEnabled = false
        config.prepareDatabase { db in try db.execute(sql: "PRAGMA journal_mode = DELETE") }
        do {
            let out = try DatabaseQueue(path: temp, configuration: config)
            try StoreSchema.migrator.migrate(out)
            try read { src in
                guard let releaseID = try Int64.fetchOne(src, sql: "SELECT id FROM releases WHERE name = ?", arguments: [name]) else {
                    throw InputError(file: "release", field: name, message: "no such release in the store")
                }
                let runKeys = try Int64.fetchAll(src, sql: "SELECT run FROM release_runs WHERE release = ? ORDER BY run", arguments: [releaseID])
                let runList = runKeys.map(String.init).joined(separator: ",")
                try out.inDatabase { dst in
                    try dst.inTransaction {
                        try dst.execute(sql: "INSERT INTO store_info(key, value) VALUES ('schema_version', ?), ('created_by', ?)",
                                        arguments: ["\(StoreSchema.version)", "rlhub publish"])
                        let copies: [(String, String)] = [
                            ("experiments", "id IN (SELECT experiment_id FROM runs WHERE pk IN (\(runList))) ORDER BY id"),
                            ("runs", "pk IN (\(runList)) ORDER BY pk"),
                            ("metric_names", "id IN (SELECT DISTINCT name FROM metric_summaries WHERE run IN (\(runList))) ORDER BY id"),
                            ("metrics", "run IN (\(runList)) ORDER BY run, name, step"),
                            ("metric_summaries", "run IN (\(runList)) ORDER BY run, name"),
                            ("scores", "run IN (\(runList)) ORDER BY run, step, split, metric"),
                            ("rollout_samples", "run IN (\(runList)) ORDER BY run, step, kind, position"),
                            ("checkpoints", "run IN (\(runList)) ORDER BY run, step"),
                            ("tags", "run IN (\(runList)) ORDER BY run, key"),
                            ("releases", "id = \(releaseID)"),
                            ("release_runs", "release = \(releaseID) ORDER BY run"),
                        ]
                        for (table, predicate) in copies {
                            try Self.copyRows(table: table, predicate: predicate, from: src, to: dst) { column, value in
                                // The process that ran a run, and where this store pulled the
                                // release from, are of no use outside this machine (and a pulled
                                // release published again gives the first hub's bytes).
                                (table == "runs" && (column == "pid" || column == "pid_start")) || (table == "releases" && column == "source")
                                    ? .null : value
                            }
                        }
                        return .commit
                    }
                }
            }
            try out.vacuum()
            try out.close()
        } catch let error as DatabaseError {
            throw InputError(file: path, message: "cannot write the release's store: \(error.message ?? "\(error.resultCode)")")
        }
        guard rename(temp, path) == 0 else {
            throw InputError(file: path, message: "cannot move the release's store into place: \(String(cString: strerror(errno)))")
        }
    }

    /// Copies the rows of `table` matching `predicate` verbatim (same columns, same keys).
    static func copyRows(
        table: String, predicate: String, from src: Database, to dst: Database,
        transform: (String, DatabaseValue) -> DatabaseValue = { $1 }
    ) throws {
        let rows = try Row.fetchCursor(src, sql: "SELECT * FROM \(table) WHERE \(predicate)")
        var statement: Statement?
        var columns: [String] = []
        while let row = try rows.next() {
            if statement == nil {
                columns = Array(row.columnNames)
                let names = columns.map { "\"\($0)\"" }.joined(separator: ", ")
                let marks = Array(repeating: "?", count: columns.count).joined(separator: ", ")
                statement = try dst.makeStatement(sql: "INSERT INTO \(table)(\(names)) VALUES (\(marks))")
            }
            let values = zip(columns, row.databaseValues).map { transform($0, $1) }
            try statement!.execute(arguments: StatementArguments(values))
        }
    }

    /// Imports the release held by the store subset at `path` (as written by
    /// ``exportRelease(_:to:)``), as a read-only release whose `source` is `source`.
    ///
    /// Runs the store already has (same id) are kept, after checking they have the same config hash;
    /// the others are copied with their metrics, summaries, scores, checkpoint rows and tags. The
    /// whole import is one IMMEDIATE transaction: after an error nothing of it is stored.
    ///
    /// - Throws: ``InputError`` naming `path` for a file that is not a release subset, a run that
    ///   conflicts with a local run of the same id, or a local release of the same name that differs.
    ///
    /// With `dryRun` every check runs and the transaction is rolled back: a pull checks each
    /// release this way before any of its archives enters the store.
    @discardableResult
    public func importRelease(from path: String, source: String, dryRun: Bool = false) throws -> ReleaseImport {
        var config = Configuration()
        config.readonly = true
        let subset: DatabaseQueue
        do { subset = try DatabaseQueue(path: path, configuration: config) } catch let error as DatabaseError {
            throw InputError(file: path, message: "not a release store: \(error.message ?? "\(error.resultCode)")")
        }
        defer { try? subset.close() }
        return try subset.read { src in
            let releases: [Row]
            do {
                // A damaged file is refused here, before any row of it is read.
                let check = try String.fetchAll(src, sql: "PRAGMA quick_check")
                guard check == ["ok"] else {
                    throw InputError(file: path, message: "damaged release store: \(check.prefix(3).joined(separator: "; "))")
                }
                releases = try Row.fetchAll(src, sql: "SELECT * FROM releases")
            } catch let error as DatabaseError {
                throw InputError(file: path, message: "not a release store: \(error.message ?? "\(error.resultCode)")")
            }
            guard releases.count == 1, let release = releases.first else {
                throw InputError(file: path, field: "releases", message: "holds \(releases.count) releases, expected 1")
            }
            let name: String = release["name"]
            let schema: Int = release["schema_version"]
            guard schema <= StoreSchema.version else {
                throw InputError(file: path, field: "schema_version", message: "\(schema) is newer than this rlhub's store (\(StoreSchema.version)); upgrade rlhub")
            }
            let runs = try Row.fetchAll(src, sql: """
                SELECT r.*, (SELECT name FROM experiments e WHERE e.id = r.experiment_id) AS experiment_name
                FROM release_runs m JOIN runs r ON r.pk = m.run WHERE m.release = ? ORDER BY r.pk
                """, arguments: [release["id"] as Int64])
            let runIDs = runs.map { $0["id"] as String }
            return try write(rollingBack: dryRun) { db in
                // A release of that name already here: the same runs means already pulled.
                if let local = try Int64.fetchOne(db, sql: "SELECT id FROM releases WHERE name = ?", arguments: [name]) {
                    let localRuns = try String.fetchAll(db, sql: "SELECT r.id FROM release_runs m JOIN runs r ON r.pk = m.run WHERE m.release = ? ORDER BY r.id", arguments: [local])
                    guard localRuns == runIDs.sorted() else {
                        throw InputError(file: path, field: "release", message: "the store already has a different release named '\(name)'")
                    }
                    return ReleaseImport(release: name, imported: [], alreadyPresent: runIDs, releaseWasPresent: true)
                }
                var imported: [String] = [], present: [String] = []
                var nameIDs: [Int64: Int64] = [:]
                for run in runs {
                    let id: String = run["id"]
                    if let existing = try Row.fetchOne(db, sql: "SELECT config_hash, status FROM runs WHERE id = ?", arguments: [id]) {
                        guard existing["config_hash"] as String == run["config_hash"] as String else {
                            throw InputError(file: path, field: "runs[\(id)]", message: "this store has a run with the same id and another config")
                        }
                        try Self.requireSameCheckpoints(id, from: src, sourcePK: run["pk"], db, path: path)
                        present.append(id)
                        continue
                    }
                    let pk = try insertImportedRun(run, from: src, db, path: path)
                    try copyRunRows(from: src, sourcePK: run["pk"], to: db, pk: pk, nameIDs: &nameIDs)
                    imported.append(id)
                }
                try db.execute(
                    sql: "INSERT INTO releases(name, notes, filter, created, rlhub_version, schema_version, source) VALUES (?, ?, ?, ?, ?, ?, ?)",
                    arguments: [name, release["notes"], release["filter"], release["created"], release["rlhub_version"], schema, source])
                let releaseID = db.lastInsertedRowID
                try db.execute(sql: """
                    INSERT INTO release_runs(release, run) SELECT ?, pk FROM runs WHERE id IN (\(runIDs.map { _ in "?" }.joined(separator: ",")))
                    """, arguments: StatementArguments([releaseID] + runIDs.map { $0 as (any DatabaseValueConvertible) }))
                return ReleaseImport(release: name, imported: imported, alreadyPresent: present, releaseWasPresent: false)
            }
        }
    }

    /// Refuses a run this store already has when the incoming copy holds a checkpoint (step and
    /// hash) the local one lacks: the same id with other weights is another run, and importing
    /// only its archive would leave a blob no row refers to.
    private static func requireSameCheckpoints(_ id: String, from src: Database, sourcePK: Int64, _ db: Database, path: String) throws {
        let sql = "SELECT step, sha256 FROM checkpoints WHERE run = ?"
        let local = Set(try Row.fetchAll(db, sql: sql, arguments: [try Int64.fetchOne(db, sql: "SELECT pk FROM runs WHERE id = ?", arguments: [id])])
            .map { "\($0["step"] as Int) \($0["sha256"] as String)" })
        for row in try Row.fetchAll(src, sql: sql + " ORDER BY step", arguments: [sourcePK]) {
            let step: Int = row["step"], sha: String = row["sha256"]
            guard local.contains("\(step) \(sha)") else {
                throw InputError(file: path, field: "runs[\(id)]", message: "this store has the run with another checkpoint at step \(step) (incoming \(sha.prefix(16))…)")
            }
        }
    }

    /// Inserts a pulled run row (its experiment first, when this store does not have it); a
    /// value this rlhub does not know (a status) is an error naming the release store `path`.
    private func insertImportedRun(_ run: Row, from src: Database, _ db: Database, path: String) throws -> Int64 {
        var row: RunRow
        do { row = try RunRow(row: run) } catch let error as UnknownStoredValue { throw error.inputError(store: path) }
        var experimentID: Int64? = nil
        if let experiment = run["experiment_name"] as String? {
            experimentID = try Int64.fetchOne(db, sql: "SELECT id FROM experiments WHERE name = ?", arguments: [experiment])
            if experimentID == nil,
               let spec = try Row.fetchOne(src, sql: "SELECT * FROM experiments WHERE id = ?", arguments: [run["experiment_id"] as Int64?]) {
                try db.execute(sql: "INSERT INTO experiments(name, spec_text, spec_hash, created) VALUES (?, ?, ?, ?)",
                               arguments: [experiment, spec["spec_text"], spec["spec_hash"], spec["created"]])
                experimentID = db.lastInsertedRowID
            }
        }
        row.experimentID = experimentID
        try row.insert(db)
        return db.lastInsertedRowID
    }

    /// Copies one run's metric points, summaries, scores, checkpoint rows, tags and rollout samples, renumbering the
    /// run and metric-name keys into this store.
    private func copyRunRows(from src: Database, sourcePK: Int64, to db: Database, pk: Int64, nameIDs: inout [Int64: Int64]) throws {
        for row in try Row.fetchAll(src, sql: "SELECT id, name FROM metric_names WHERE id IN (SELECT name FROM metric_summaries WHERE run = ?)", arguments: [sourcePK]) {
            let sourceID: Int64 = row["id"]
            if nameIDs[sourceID] == nil {
                // Not through the cached lookup: this transaction may still roll back.
                try db.execute(sql: "INSERT OR IGNORE INTO metric_names(name) VALUES (?)", arguments: [row["name"] as String])
                nameIDs[sourceID] = try Int64.fetchOne(db, sql: "SELECT id FROM metric_names WHERE name = ?", arguments: [row["name"] as String])
            }
        }
        func local(_ name: Int64) throws -> Int64 {
            guard let id = nameIDs[name] else {
                throw InputError(file: "release store", field: "metrics", message: "a point names metric \(name), which has no summary")
            }
            return id
        }
        let insertPoint = try db.makeStatement(sql: "INSERT INTO metrics(run, name, step, value) VALUES (?, ?, ?, ?)")
        let points = try Row.fetchCursor(src, sql: "SELECT name, step, value FROM metrics WHERE run = ? ORDER BY name, step", arguments: [sourcePK])
        while let p = try points.next() {
            try insertPoint.execute(arguments: [pk, try local(p["name"]), p["step"], p["value"]])
        }
        for s in try Row.fetchAll(src, sql: "SELECT * FROM metric_summaries WHERE run = ?", arguments: [sourcePK]) {
            try db.execute(
                sql: "INSERT INTO metric_summaries(run, name, final_step, final_value, best_step, best_value, count) VALUES (?, ?, ?, ?, ?, ?, ?)",
                arguments: [pk, try local(s["name"]), s["final_step"], s["final_value"], s["best_step"], s["best_value"], s["count"]])
        }
        for s in try Row.fetchAll(src, sql: "SELECT * FROM scores WHERE run = ?", arguments: [sourcePK]) {
            try db.execute(
                sql: "INSERT INTO scores(run, step, split, metric, value, episodes, ci_low, ci_high) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                arguments: [pk, s["step"], s["split"], s["metric"], s["value"], s["episodes"], s["ci_low"], s["ci_high"]])
        }
        for c in try Row.fetchAll(src, sql: "SELECT * FROM checkpoints WHERE run = ?", arguments: [sourcePK]) {
            let sha: String = c["sha256"]
            try BlobStore.validate(sha256: sha)
            try db.execute(
                sql: "INSERT INTO checkpoints(run, step, sha256, bytes, format, path, created) VALUES (?, ?, ?, ?, ?, ?, ?)",
                arguments: [pk, c["step"], sha, c["bytes"], c["format"], "blobs/" + (try blobs.relativePath(sha256: sha)), c["created"]])
        }
        for t in try Row.fetchAll(src, sql: "SELECT key, value FROM tags WHERE run = ?", arguments: [sourcePK]) {
            try db.execute(sql: "INSERT INTO tags(run, key, value) VALUES (?, ?, ?)", arguments: [pk, t["key"], t["value"]])
        }
        // Releases exported before schema v3 have no samples table.
        if try src.tableExists("rollout_samples") {
            try Self.copySamples(from: src, sourcePK: sourcePK, to: db, pk: pk)
        }
    }

    /// Copies one run's rollout samples (bytes unchanged) into run `pk` of another store.
    static func copySamples(from src: Database, sourcePK: Int64, to db: Database, pk: Int64) throws {
        let insert = try db.makeStatement(sql: """
            INSERT INTO rollout_samples(run, step, kind, position, problem, group_id, sample, reward, advantage, logprob_gap,
                outcome, finish_reason, truncated, turns, prompt_tokens, response_tokens, raw_bytes, data)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """)
        let rows = try Row.fetchCursor(src, sql: """
            SELECT step, kind, position, problem, group_id, sample, reward, advantage, logprob_gap, outcome, finish_reason,
                truncated, turns, prompt_tokens, response_tokens, raw_bytes, data
            FROM rollout_samples WHERE run = ? ORDER BY step, kind, position
            """, arguments: [sourcePK])
        while let r = try rows.next() {
            try insert.execute(arguments: StatementArguments([pk.databaseValue] + Array(r.databaseValues)))
        }
    }
}
