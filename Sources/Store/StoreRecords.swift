// rlhub — the store's rows as GRDB records: a type decodes from a row by its column names (its
// coding keys) and a table row encodes to its columns, so no code maps the columns of a row by
// hand. The schema is StoreSchema's; these types only name its columns.
import Foundation
import GRDB

/// Decoded from ``RunStore/runSelect`` (`runs r` plus the experiment's name).
extension RunRecord: FetchableRecord {}

/// Decoded from ``RunStore/runSelect`` too: the columns a release publishes.
extension RunSummary: FetchableRecord {}

/// Decoded from `SELECT step, split, metric, value, episodes, ci_low, ci_high FROM scores`.
extension ScoreRecord: FetchableRecord {}

/// Decoded from `checkpoints c JOIN runs r` with the run's id as `run`.
extension CheckpointRecord: FetchableRecord {}

/// A row of the `runs` table as it is inserted: every column but the primary key and the
/// process columns (`pid`, `pid_start`), which are set when the run starts running.
struct RunRow: Codable, FetchableRecord, PersistableRecord {
    static let databaseTableName = "runs"

    var id: String
    var experimentID: Int64?
    var cell: String?
    var algo: String
    var task: String
    var model: String
    var seed: Int
    var configJSON: String
    var configHash: String
    var groupHash: String
    var codeVersion: String
    var codeDirty: Bool
    var rlhubVersion: String
    var host: String
    var threads: Int
    var status: RunStatus
    var stepsDone: Int
    var created: String
    var started: String?
    var ended: String?
    var error: String?

    enum CodingKeys: String, CodingKey {
        case id, cell, algo, task, model, seed, host, threads, status, created, started, ended, error
        case experimentID = "experiment_id", configJSON = "config_json", configHash = "config_hash"
        case groupHash = "group_hash", codeVersion = "code_version", codeDirty = "code_dirty"
        case rlhubVersion = "rlhub_version", stepsDone = "steps_done"
    }

    /// The columns queries name (`pk`, the primary key, is not a field: SQLite assigns it).
    enum Columns {
        static let pk = Column("pk")
        static let id = Column(CodingKeys.id)
        static let configHash = Column(CodingKeys.configHash)
        static let status = Column(CodingKeys.status)
        static let created = Column(CodingKeys.created)
    }
}

/// Who holds a run: its status and, while it runs, its process (`runs.host`, `pid`,
/// `pid_start`), with its code version: what the stale-run check and cell claims read.
struct RunHolder: Decodable, FetchableRecord, TableRecord {
    static let databaseTableName = "runs"

    var id: String
    var status: RunStatus
    var host: String
    var pid: Int32?
    var pidStart: String?
    var codeVersion: String

    enum CodingKeys: String, CodingKey {
        case id, status, host, pid
        case pidStart = "pid_start", codeVersion = "code_version"
    }

    /// The process recorded as running the run, if any.
    var process: ProcessIdentity? { pid.map { ProcessIdentity(host: host, pid: $0, startTime: pidStart ?? "") } }

    /// The live process holding the run: nil when the run is not `running` or its process is gone.
    var liveProcess: ProcessIdentity? {
        guard status == .running, let process, process.isAlive else { return nil }
        return process
    }
}

extension RunRow {
    /// A new run's row: no steps done, not started.
    init(_ run: NewRun, id: String, experimentID: Int64?, rlhubVersion: String, host: String, status: RunStatus, created: String) {
        self.init(
            id: id, experimentID: experimentID, cell: run.cell, algo: run.algo, task: run.task, model: run.model,
            seed: run.seed, configJSON: run.configJSON, configHash: run.configHash, groupHash: run.groupHash,
            codeVersion: run.codeVersion.description, codeDirty: run.codeVersion.dirty, rlhubVersion: rlhubVersion,
            host: host, threads: run.threads, status: status, stepsDone: 0, created: created,
            started: nil, ended: nil, error: nil)
    }

    /// The row of `run` as another store holds it, with this store's experiment key and a new
    /// status; its start, end and error are not copied (the run has not run here).
    init(copying run: RunRecord, experimentID: Int64?, status: RunStatus) {
        self.init(
            id: run.id, experimentID: experimentID, cell: run.cell, algo: run.algo, task: run.task, model: run.model,
            seed: run.seed, configJSON: run.configJSON, configHash: run.configHash, groupHash: run.groupHash,
            codeVersion: run.codeVersion, codeDirty: run.codeDirty, rlhubVersion: run.rlhubVersion, host: run.host,
            threads: run.threads, status: status, stepsDone: run.stepsDone, created: run.created,
            started: nil, ended: nil, error: nil)
    }
}
