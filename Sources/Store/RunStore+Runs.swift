// rlhub — creating runs and moving them through their lifecycle.
import Foundation
import GRDB
import RLHubCore

extension RunStore {
    /// Registers an experiment spec (name unique); a changed spec text replaces the stored one.
    @discardableResult
    public func upsertExperiment(name: String, specText: String, specHash: String) throws -> Int64 {
        try write { db in
            try db.execute(
                sql: """
                    INSERT INTO experiments(name, spec_text, spec_hash, created) VALUES (?, ?, ?, ?)
                    ON CONFLICT(name) DO UPDATE SET spec_text = excluded.spec_text, spec_hash = excluded.spec_hash
                    """,
                arguments: [name, specText, specHash, Self.now()])
            return try Int64.fetchOne(db, sql: "SELECT id FROM experiments WHERE name = ?", arguments: [name])!
        }
    }

    /// The spec text stored for experiment `name` (grids store theirs; a pulled release carries
    /// its experiments'), nil when the store has no such experiment.
    public func experimentSpecText(_ name: String) throws -> String? {
        try read { db in try String.fetchOne(db, sql: "SELECT spec_text FROM experiments WHERE name = ?", arguments: [name]) }
    }

    /// Creates a run in state `queued` and returns its id (12 hex digits, random, so that runs
    /// pulled from other stores never collide with local ones).
    public func createRun(_ run: NewRun, status: RunStatus = .queued) throws -> String {
        try write { db in try insertRun(run, status: status, db) }
    }

    /// Inserts `run` inside the caller's transaction; returns its new id.
    func insertRun(_ run: NewRun, status: RunStatus, _ db: Database) throws -> String {
        var rng = SystemRandomNumberGenerator()
        let id = String((0..<6).map { _ in String(format: "%02x", UInt8.random(in: 0...255, using: &rng)) }.joined())
        var experimentID: Int64? = nil
        if let name = run.experiment {
            experimentID = try Int64.fetchOne(db, sql: "SELECT id FROM experiments WHERE name = ?", arguments: [name])
            if experimentID == nil {
                throw InputError(file: "experiment", field: name, message: "not registered in the store")
            }
        }
        try db.execute(
            sql: """
                INSERT INTO runs(id, experiment_id, cell, algo, task, model, seed, config_json, config_hash,
                    group_hash, code_version, code_dirty, rlhub_version, host, threads, status, created)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """,
            arguments: [
                id, experimentID, run.cell, run.algo, run.task, run.model, run.seed, run.configJSON,
                run.configHash, run.groupHash, run.codeVersion.description, run.codeVersion.dirty,
                RLHubVersion.string, ProcessIdentity.hostName, run.threads, status.rawValue, Self.now(),
            ])
        return id
    }

    /// Marks the run as running in this process (so a crash is detected on the next open).
    ///
    /// A run that a live process other than this one and `parent` holds is refused, in the same
    /// transaction: a grid claims a cell's run (``claimCell(_:)``) and hands it to the worker it
    /// starts, and no other process may run it meanwhile.
    /// - Throws: ``InputError`` naming the run and the process that holds it.
    public func markRunning(_ id: String, threads: Int? = nil, parent: Int32? = nil) throws {
        let me = ProcessIdentity.current
        try write { db in
            _ = try runKey(id, db)
            let row = try Row.fetchOne(db, sql: "SELECT status, host, pid, pid_start FROM runs WHERE id = ?", arguments: [id])!
            if let holder = Self.liveHolder(row), holder.host != me.host || (holder.pid != me.pid && holder.pid != parent) {
                throw InputError(file: "run", field: id, message: "is running in process \(holder.pid) on \(holder.host)")
            }
            try Self.setRunning(id, threads: threads, db)
        }
    }

    /// Sets `id` running in this process (inside the caller's transaction).
    static func setRunning(_ id: String, threads: Int?, _ db: Database) throws {
        let me = ProcessIdentity.current
        do {
            try db.execute(
                sql: """
                    UPDATE runs SET status = 'running', pid = ?, pid_start = ?, host = ?, threads = coalesce(?, threads),
                        started = coalesce(started, ?), ended = NULL, error = NULL WHERE id = ?
                    """,
                arguments: [me.pid, me.startTime, me.host, threads, now(), id])
        } catch let e as DatabaseError where e.isFrozenRun {
            throw InputError(file: "run", field: id, message: "is part of a release and cannot change")
        }
    }

    /// The live process holding a `running` run (a row with status, host, pid, pid_start), nil
    /// when the run is not running or its process is gone.
    static func liveHolder(_ row: Row) -> ProcessIdentity? {
        guard (row["status"] as String) == RunStatus.running.rawValue, let pid: Int32 = row["pid"] else { return nil }
        let holder = ProcessIdentity(host: row["host"], pid: pid, startTime: row["pid_start"] ?? "")
        return holder.isAlive ? holder : nil
    }

    /// Records how many optimizer steps the run has completed (progress views read it).
    public func setStepsDone(_ id: String, _ steps: Int) throws {
        try update(id, "UPDATE runs SET steps_done = ? WHERE id = ?", [steps, id])
    }

    /// Marks the run finished.
    public func markFinished(_ id: String) throws {
        try update(id, "UPDATE runs SET status = 'finished', ended = ?, pid = NULL, error = NULL WHERE id = ?", [Self.now(), id])
    }

    /// Marks the run failed with a one-line reason.
    public func markFailed(_ id: String, error: String) throws {
        let line = error.replacingOccurrences(of: "\n", with: " ")
        try update(id, "UPDATE runs SET status = 'failed', ended = ?, pid = NULL, error = ? WHERE id = ?", [Self.now(), line, id])
    }

    private func update(_ id: String, _ sql: String, _ arguments: StatementArguments) throws {
        try write { db in
            _ = try runKey(id, db)
            do { try db.execute(sql: sql, arguments: arguments) } catch let e as DatabaseError where e.isFrozenRun {
                throw InputError(file: "run", field: id, message: "is part of a release and cannot change")
            }
        }
    }

    /// The run with this id (or a unique prefix of at least 4 characters).
    public func run(_ idOrPrefix: String) throws -> RunRecord {
        let rows = try read { db in
            try Row.fetchAll(db, sql: Self.runSelect + " WHERE r.id = ? OR (length(?) >= 4 AND r.id LIKE ? || '%' ESCAPE '\\') LIMIT 2",
                             arguments: [idOrPrefix, idOrPrefix, idOrPrefix.replacingOccurrences(of: "%", with: "\\%").replacingOccurrences(of: "_", with: "\\_")])
        }
        if let exact = rows.first(where: { ($0["id"] as String) == idOrPrefix }) { return Self.record(exact) }
        guard rows.count == 1 else {
            throw InputError(file: "run", field: idOrPrefix, message: rows.isEmpty ? "no such run in the store" : "ambiguous prefix; give more characters")
        }
        return Self.record(rows[0])
    }

    /// Runs with this config hash, newest first (the runner's skip/resume check).
    public func runs(configHash: String) throws -> [RunRecord] {
        try read { db in
            try Row.fetchAll(db, sql: Self.runSelect + " WHERE r.config_hash = ? ORDER BY r.created DESC, r.id",
                             arguments: [configHash]).map(Self.record)
        }
    }

    /// Runs selected by a `--where` / `--sort` / `--limit` query.
    public func runs(_ query: RunQuery) throws -> [RunRecord] {
        try runs(whereSQL: query.filter.sql, arguments: query.filter.arguments, orderSQL: query.order.sql,
                 orderArguments: query.order.arguments, limit: query.limit)
    }

    /// Runs selected by a compiled filter (`whereSQL` over `runs r`), ordered and limited.
    public func runs(whereSQL: String = "1", arguments: StatementArguments = [], orderSQL: String = "r.created, r.id",
                     orderArguments: StatementArguments = [], limit: Int? = nil) throws -> [RunRecord] {
        var sql = Self.runSelect + " WHERE (\(whereSQL)) ORDER BY \(orderSQL)"
        var args = arguments
        args += orderArguments
        if let limit {
            sql += " LIMIT ?"
            args += [limit]
        }
        return try read { db in try Row.fetchAll(db, sql: sql, arguments: args).map(Self.record) }
    }

    /// Sets (or replaces) a tag of a run; tags may change on released runs.
    public func tag(_ id: String, key: String, value: String) throws {
        try write { db in
            let pk = try runKey(id, db)
            try db.execute(sql: "INSERT INTO tags(run, key, value) VALUES (?, ?, ?) ON CONFLICT(run, key) DO UPDATE SET value = excluded.value",
                           arguments: [pk, key, value])
        }
    }

    /// Tags of a run, by key.
    public func tags(_ id: String) throws -> [(key: String, value: String)] {
        try read { db in
            let pk = try runKey(id, db)
            return try Row.fetchAll(db, sql: "SELECT key, value FROM tags WHERE run = ? ORDER BY key", arguments: [pk]).map { ($0["key"], $0["value"]) }
        }
    }

    static let runSelect = """
        SELECT r.*, (SELECT name FROM experiments e WHERE e.id = r.experiment_id) AS experiment FROM runs r
        """

    static func record(_ row: Row) -> RunRecord {
        RunRecord(
            id: row["id"], experiment: row["experiment"], cell: row["cell"], algo: row["algo"], task: row["task"],
            model: row["model"], seed: row["seed"], configHash: row["config_hash"], groupHash: row["group_hash"],
            codeVersion: row["code_version"], codeDirty: row["code_dirty"], rlhubVersion: row["rlhub_version"],
            host: row["host"], threads: row["threads"], status: RunStatus(rawValue: row["status"]) ?? .failed,
            stepsDone: row["steps_done"], created: row["created"], started: row["started"], ended: row["ended"],
            error: row["error"], configJSON: row["config_json"])
    }
}
