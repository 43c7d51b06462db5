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
        try RunRow(run, id: id, experimentID: experimentID, rlhubVersion: RLHubVersion.string,
                   host: ProcessIdentity.hostName, status: status, created: Self.now()).insert(db)
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
            let run = try RunHolder.filter(RunRow.Columns.id == id).fetchOne(db)
            if let holder = run?.liveProcess, holder.host != me.host || (holder.pid != me.pid && holder.pid != parent) {
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
        let escaped = idOrPrefix.replacingOccurrences(of: "%", with: "\\%").replacingOccurrences(of: "_", with: "\\_")
        let matches = try read { db in
            try RunRecord.fetchAll(db, sql: Self.runSelect + " WHERE r.id = ? OR (length(?) >= 4 AND r.id LIKE ? || '%' ESCAPE '\\') LIMIT 2",
                                   arguments: [idOrPrefix, idOrPrefix, escaped])
        }
        if let exact = matches.first(where: { $0.id == idOrPrefix }) { return exact }
        guard matches.count == 1 else {
            throw InputError(file: "run", field: idOrPrefix, message: matches.isEmpty ? "no such run in the store" : "ambiguous prefix; give more characters")
        }
        return matches[0]
    }

    /// Runs with this config hash, newest first (the runner's skip/resume check).
    public func runs(configHash: String) throws -> [RunRecord] {
        try read { db in
            try RunRecord.fetchAll(db, sql: Self.runSelect + " WHERE r.config_hash = ? ORDER BY r.created DESC, r.id",
                                   arguments: [configHash])
        }
    }

    /// Runs selected by a `--where` / `--sort` / `--limit` query (default: every run, by
    /// creation time).
    public func runs(_ query: RunQuery = RunQuery()) throws -> [RunRecord] {
        try runs(whereSQL: query.filter.sql, arguments: query.filter.arguments, orderSQL: query.order.sql,
                 orderArguments: query.order.arguments, limit: query.limit)
    }

    /// The finished runs of experiment `name` that `filter` selects, in the order they were
    /// created; insertion order breaks ties of the millisecond creation time, so a grid's runs
    /// come in spec order (what a report compares).
    public func finishedRuns(experiment name: String, matching filter: RunFilter = .all) throws -> [RunRecord] {
        var arguments = filter.arguments  // the filter's placeholders come first
        arguments += [name]
        return try runs(
            whereSQL: "(\(filter.sql)) AND r.experiment_id = (SELECT id FROM experiments WHERE name = ?) AND r.status = 'finished'",
            arguments: arguments, orderSQL: "r.created, r.pk")
    }

    /// How many runs of experiment `name` are finished, and their latest creation and end times.
    public func finishedRunsStamp(experiment name: String) throws -> FinishedRunsStamp {
        try read { db in
            let row = try Row.fetchOne(db, sql: """
                SELECT count(*), max(r.created), max(r.ended) FROM runs r
                WHERE r.experiment_id = (SELECT id FROM experiments WHERE name = ?) AND r.status = 'finished'
                """, arguments: [name])
            return FinishedRunsStamp(count: row?[0] ?? 0, lastCreated: row?[1], lastEnded: row?[2])
        }
    }

    /// The names of the store's experiments, sorted.
    public func experimentNames() throws -> [String] {
        try read { db in try String.fetchAll(db, sql: "SELECT name FROM experiments ORDER BY name") }
    }

    /// What a release publishes of each of its runs, in the release's order (creation, then id).
    public func runSummaries(release name: String) throws -> [RunSummary] {
        try read { db in
            try RunSummary.fetchAll(db, sql: Self.runSelect + """
                 JOIN release_runs m ON m.run = r.pk JOIN releases rel ON rel.id = m.release
                WHERE rel.name = ? ORDER BY r.created, r.id
                """, arguments: [name])
        }
    }

    /// Runs selected by a compiled filter (`whereSQL` over `runs r`), ordered and limited.
    func runs(whereSQL: String, arguments: StatementArguments = [], orderSQL: String = "r.created, r.id",
              orderArguments: StatementArguments = [], limit: Int? = nil) throws -> [RunRecord] {
        var sql = Self.runSelect + " WHERE (\(whereSQL)) ORDER BY \(orderSQL)"
        var args = arguments
        args += orderArguments
        if let limit {
            sql += " LIMIT ?"
            args += [limit]
        }
        return try read { db in try RunRecord.fetchAll(db, sql: sql, arguments: args) }
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

    /// Every column of `runs r`, the experiment's name as `experiment` and `steps_done` as
    /// `steps`: what ``RunRecord`` and ``RunSummary`` decode from.
    static let runSelect = """
        SELECT r.*, (SELECT name FROM experiments e WHERE e.id = r.experiment_id) AS experiment, r.steps_done AS steps
        FROM runs r
        """
}
