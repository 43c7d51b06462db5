// rlhub — the store: one SQLite database (WAL) beside a folder of content-addressed archives.
import Foundation
import GRDB
import RLHubCore

/// Runs, metrics, scores, checkpoints, releases and tags of one store folder
/// (`store.sqlite` + `blobs/`), safe to open from many processes at once.
///
/// Writers use `BEGIN IMMEDIATE` with a busy timeout, so concurrent processes queue for the write
/// lock instead of failing with "database is locked" (a deferred transaction that upgrades from
/// read to write cannot wait and fails at once). Opening the store marks runs whose process died
/// as failed, keeping every metric they committed.
///
/// ```swift
/// let store = try RunStore(directory: ".rlhub")
/// let id = try store.createRun(newRun)
/// try store.markRunning(id)
/// try store.appendMetrics(run: id, records: [(1, ["reward/mean": 0.5])])
/// try store.markFinished(id)
/// ```
public final class RunStore: @unchecked Sendable {
    /// The store folder (nil for an in-memory store).
    public let directory: String?
    /// The database; all access goes through the methods of this class.
    let db: any DatabaseWriter
    /// Checkpoint archives, content-addressed.
    public let blobs: BlobStore
    /// Metric name → id, filled lazily (names are never deleted, so the cache cannot go stale).
    private var metricIDs: [String: Int64] = [:]
    private let lock = NSLock()

    /// Seconds a writer waits for another process's write transaction before giving up.
    public static let busyTimeout: TimeInterval = 60

    /// How a store folder is opened.
    public enum Access: Sendable {
        /// Many processes at once (WAL, a connection pool): the central store.
        case shared
        /// One writing process (rollback journal, `journal_mode=DELETE`): a run bundle on a shared
        /// file system, where WAL's shared memory is not available.
        case singleWriter
        /// Reading only (no migration, no stale-run check): e.g. watching a bundle being written.
        case readOnly
    }

    /// Opens (creating if needed) the store in `directory`, migrates it, and fails stale runs.
    public init(directory: String, access: Access = .shared) throws {
        let fm = FileManager.default
        if access != .readOnly {
            try fm.createDirectory(atPath: directory + "/blobs", withIntermediateDirectories: true)
        }
        var config = Self.configuration(journal: access == .shared ? "WAL" : "DELETE")
        config.label = directory
        config.readonly = access == .readOnly
        let path = directory + "/store.sqlite"
        // Two processes opening a new store at once would both try to migrate it: the first
        // open (and migration) of each process is serialised by an advisory lock beside it.
        let lockFD = access == .readOnly ? -1 : open(directory + "/.open.lock", O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        if lockFD >= 0 { flock(lockFD, LOCK_EX) }
        defer { if lockFD >= 0 { flock(lockFD, LOCK_UN); close(lockFD) } }
        do {
            db = try Self.openDatabase(path: path, access: access, configuration: config)
        } catch let error as DatabaseError {
            throw InputError(file: path, message: "cannot open the store: \(error.message ?? "\(error.resultCode)")" + Self.freeSpaceNote(directory))
        }
        self.directory = directory
        blobs = BlobStore(root: directory + "/blobs")
        // Left for a later open when it cannot be written now (a full disk).
        if access != .readOnly { _ = try? failStaleRuns() }
    }

    /// The database of `path`, migrated unless read-only. On a full file system SQLite cannot
    /// create a WAL store's shared-memory index, so a shared store that fails to open for that
    /// reason is opened once more with its index in this process's memory (exclusive locking):
    /// it reads, and writes fail naming the full disk, instead of not opening at all.
    static func openDatabase(path: String, access: Access, configuration: Configuration) throws -> any DatabaseWriter {
        do {
            let db: any DatabaseWriter = access == .shared
                ? try DatabasePool(path: path, configuration: configuration)
                : try DatabaseQueue(path: path, configuration: configuration)
            if access != .readOnly { try prepareSchema(db) }
            return db
        } catch let error as DatabaseError where access == .shared && [.SQLITE_IOERR, .SQLITE_FULL].contains(error.resultCode.primaryResultCode) {
            var exclusive = Self.configuration(journal: "WAL", exclusive: true)
            exclusive.label = configuration.label
            let queue = try DatabaseQueue(path: path, configuration: exclusive)
            guard try queue.read({ try StoreSchema.migrator.hasCompletedMigrations($0) }) else { throw error }
            return queue
        }
    }

    /// ` (N bytes free on its file system)` when that is little, else "".
    static func freeSpaceNote(_ directory: String) -> String {
        var info = statvfs()
        guard statvfs(directory, &info) == 0 else { return "" }
        let free = UInt64(info.f_bavail) * UInt64(info.f_frsize)
        return free < 1 << 20 ? " (\(free) bytes free on its file system)" : ""
    }

    /// A store that lives in memory (tests); its blobs go to `blobRoot`.
    public init(inMemoryWithBlobsAt blobRoot: String) throws {
        db = try DatabaseQueue(configuration: Self.configuration())
        directory = nil
        blobs = BlobStore(root: blobRoot)
        try Self.prepareSchema(db)
    }

    /// The store folder chosen by `--store`, else `RLHUB_STORE`, else `.rlhub`.
    public static func defaultDirectory(flag: String?) -> String {
        flag ?? ProcessInfo.processInfo.environment["RLHUB_STORE"].flatMap { $0.isEmpty ? nil : $0 } ?? ".rlhub"
    }

    /// `exclusive`: the connection keeps the database locked and a WAL store's index in memory
    /// (the full-disk fallback of ``openDatabase(path:access:configuration:)``).
    static func configuration(journal: String = "WAL", exclusive: Bool = false) -> Configuration {
        var config = Configuration()
        config.foreignKeysEnabled = true
        config.busyMode = .timeout(busyTimeout)
        config.prepareDatabase { db in
            if exclusive { try db.execute(sql: "PRAGMA locking_mode = EXCLUSIVE") }
            // NORMAL is durable in WAL mode across process crashes (only power loss can drop the
            // last transactions), and several times faster than FULL for small commits. A
            // rollback journal needs FULL for the same guarantee.
            if journal == "DELETE" {
                if !db.configuration.readonly { try db.execute(sql: "PRAGMA journal_mode = DELETE") }
                try db.execute(sql: "PRAGMA synchronous = FULL")
            } else {
                try db.execute(sql: "PRAGMA synchronous = NORMAL")
            }
        }
        return config
    }

    /// Migrates and records the schema version, writing only when something changes, so that a
    /// store on a full disk still opens for reading.
    static func prepareSchema(_ db: any DatabaseWriter) throws {
        let migrator = StoreSchema.migrator
        if try !db.read({ db in try migrator.hasCompletedMigrations(db) }) {
            try migrator.migrate(db)
        }
        let recorded = try db.read { db in try String.fetchOne(db, sql: "SELECT value FROM store_info WHERE key = 'schema_version'") }
        if recorded != "\(StoreSchema.version)" {
            try db.write { db in
                try db.execute(
                    sql: "INSERT INTO store_info(key, value) VALUES ('schema_version', ?), ('created_by', ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value WHERE key = 'schema_version'",
                    arguments: ["\(StoreSchema.version)", RLHubVersion.string])
            }
        }
    }

    /// Runs an IMMEDIATE write transaction (waits for the write lock up to ``busyTimeout``).
    /// Not API: callers outside the Store module use the named methods of this class (the tests
    /// reach it through `@_spi(StoreInternals) import Store` to set up states no method makes).
    @_spi(StoreInternals)
    public func write<T>(_ body: (Database) throws -> T) throws -> T {
        try write(rollingBack: false, body)
    }

    /// ``write(_:)`` whose transaction is rolled back when `rollingBack` is set: every statement
    /// and check runs, nothing is kept.
    func write<T>(rollingBack: Bool, _ body: (Database) throws -> T) throws -> T {
        do {
            return try db.writeWithoutTransaction { db in
                var result: T?
                try db.inTransaction(.immediate) {
                    result = try body(db)
                    return rollingBack ? .rollback : .commit
                }
                return result!
            }
        } catch let error as UnknownStoredValue {
            throw error.inputError(store: storePath)
        } catch let error as DatabaseError where [.SQLITE_FULL, .SQLITE_IOERR].contains(error.resultCode.primaryResultCode) {
            throw StoreWriteFailure(
                description: "\(storePath): cannot write: \(error.message ?? "\(error.resultCode)")" + (directory.map(Self.freeSpaceNote) ?? ""))
        }
    }

    /// Reads from a consistent snapshot (any SQL over the schema of ``StoreSchema``).
    /// Not API, as ``write(_:)``. A value this rlhub does not know (``UnknownStoredValue``) is
    /// reported naming the store file.
    @_spi(StoreInternals)
    public func read<T>(_ body: (Database) throws -> T) throws -> T {
        do {
            return try db.read { db in try body(db) }
        } catch let error as UnknownStoredValue {
            throw error.inputError(store: storePath)
        }
    }

    /// `DIR/store.sqlite`, or `in-memory store`: what errors name.
    var storePath: String { directory.map { $0 + "/store.sqlite" } ?? "in-memory store" }

    /// Marks `running` runs of this host whose process is gone as failed. Their committed metrics,
    /// scores and checkpoints stay; the runner resumes them from their last checkpoint.
    @discardableResult
    public func failStaleRuns() throws -> [String] {
        let running = try read { db in
            try RunHolder.filter(RunRow.Columns.status == RunStatus.running.rawValue).fetchAll(db)
        }
        var failed: [String] = []
        for run in running {
            guard let holder = run.process else { continue }
            if !holder.isAlive {
                let (id, pid) = (run.id, holder.pid)
                try write { db in
                    try db.execute(
                        sql: "UPDATE runs SET status = 'failed', ended = ?, error = ?, pid = NULL WHERE id = ? AND status = 'running'",
                        arguments: [Self.now(), "process \(pid) on \(holder.host) ended without finishing the run", id])
                }
                failed.append(id)
            }
        }
        return failed
    }

    /// A metric name's id, created on first use.
    func metricID(_ name: String, _ db: Database) throws -> Int64 {
        if let id = lock.withLock({ metricIDs[name] }) { return id }
        try db.execute(sql: "INSERT OR IGNORE INTO metric_names(name) VALUES (?)", arguments: [name])
        let id = try Int64.fetchOne(db, sql: "SELECT id FROM metric_names WHERE name = ?", arguments: [name])!
        lock.withLock { metricIDs[name] = id }
        return id
    }

    /// The primary key of run `id`, or an InputError naming it.
    func runKey(_ id: String, _ db: Database) throws -> Int64 {
        guard let pk = try RunRow.select(RunRow.Columns.pk, as: Int64.self).filter(RunRow.Columns.id == id).fetchOne(db) else {
            throw InputError(file: "run", field: id, message: "no such run in the store")
        }
        return pk
    }

    /// UTC time with milliseconds, ISO 8601; sorts as text.
    static func now() -> String {
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        f.timeZone = TimeZone(identifier: "UTC")
        return f.string(from: Date())
    }

    /// Runs `PRAGMA integrity_check`; "ok" when the file is sound.
    public func integrityCheck() throws -> String {
        try read { db in try String.fetchAll(db, sql: "PRAGMA integrity_check").joined(separator: "; ") }
    }

    /// SQLite's version (for `rlhub doctor`).
    public func sqliteVersion() throws -> String {
        try read { db in try String.fetchOne(db, sql: "SELECT sqlite_version()") ?? "" }
    }
}

/// A write the store's file system refused (full, or an I/O error), on one line with the path and
/// what SQLite said; nothing of the transaction was kept.
public struct StoreWriteFailure: Error, CustomStringConvertible {
    public var description: String
}

extension UnknownStoredValue {
    /// `STORE/store.sqlite: runs.status: unknown value 'paused' (this rlhub knows queued, …)`.
    func inputError(store path: String) -> InputError {
        InputError(file: path, field: "\(table).\(column)", message: message)
    }
}

/// Maps a refused write (a frozen released run) to a clear error.
extension DatabaseError {
    var isFrozenRun: Bool { (message ?? "").contains("part of a release") }
}
