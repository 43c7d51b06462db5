// rlhub — a run as the store knows it.
import Foundation
import RLHubCore

/// Lifecycle of a run: queued → running → finished | failed. A failed or interrupted run can run
/// again (resume), which moves it back to running.
public enum RunStatus: String, Sendable, Codable, CaseIterable {
    case queued, running, finished, failed

    /// Decodes the stored text; a status this rlhub does not know (a newer rlhub wrote it, or the
    /// file was edited) is an error naming `runs.status` and the value, never a guess.
    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        guard let status = RunStatus(rawValue: text) else {
            throw UnknownStoredValue(table: "runs", column: "status", value: text, known: Self.allCases.map(\.rawValue))
        }
        self = status
    }
}

/// A value in a store's column that this rlhub does not know, e.g. `runs.status = 'paused'`.
/// The store reports it as an `InputError` naming its file.
public struct UnknownStoredValue: Error, CustomStringConvertible, Sendable {
    public var table: String
    public var column: String
    public var value: String
    /// The values this rlhub knows.
    public var known: [String]

    public var description: String { "\(table).\(column): " + message }

    var message: String { "unknown value '\(value.prefix(80))' (this rlhub knows \(known.joined(separator: ", ")))" }
}

/// What a caller provides to create a run; the store adds id, host, process and timestamps.
public struct NewRun: Sendable {
    public var experiment: String?
    public var cell: String?
    public var algo: String
    public var task: String
    public var model: String
    public var seed: Int
    /// The fully resolved config in canonical JSON (sorted keys).
    public var configJSON: String
    public var configHash: String
    /// Hash of the config without its seed: runs that differ only by seed share it.
    public var groupHash: String
    public var codeVersion: CodeVersion
    public var threads: Int

    public init(
        experiment: String? = nil, cell: String? = nil, algo: String, task: String, model: String, seed: Int,
        configJSON: String, configHash: String, groupHash: String, codeVersion: CodeVersion = .current, threads: Int
    ) {
        self.experiment = experiment
        self.cell = cell
        self.algo = algo
        self.task = task
        self.model = model
        self.seed = seed
        self.configJSON = configJSON
        self.configHash = configHash
        self.groupHash = groupHash
        self.codeVersion = codeVersion
        self.threads = threads
    }
}

/// One row of the `runs` table, as listings and `rlhub show` print it. Decoded from the row by
/// its column names (the coding keys); `experiment` is the name of the run's experiment.
public struct RunRecord: Sendable, Codable, Equatable {
    public var id: String
    public var experiment: String?
    public var cell: String?
    public var algo: String
    public var task: String
    public var model: String
    public var seed: Int
    public var configHash: String
    public var groupHash: String
    public var codeVersion: String
    public var codeDirty: Bool
    public var rlhubVersion: String
    public var host: String
    public var threads: Int
    public var status: RunStatus
    public var stepsDone: Int
    public var created: String
    public var started: String?
    public var ended: String?
    public var error: String?
    public var configJSON: String

    enum CodingKeys: String, CodingKey {
        case id, experiment, cell, algo, task, model, seed, host, threads, status, created, started, ended, error
        case configHash = "config_hash", groupHash = "group_hash", codeVersion = "code_version"
        case codeDirty = "code_dirty", rlhubVersion = "rlhub_version", stepsDone = "steps_done"
        case configJSON = "config_json"
    }
}

/// What a release publishes of a run: what ran (algorithm, task, model, seed, configuration and
/// code) and how far it got. Decoded from the same `runs` row as ``RunRecord`` (the store's
/// run), with `steps` for `steps_done`; a hub's index lists each released run by it.
public struct RunSummary: Sendable, Codable, Equatable {
    public var id: String
    public var experiment: String?
    public var cell: String?
    public var algo: String
    public var task: String
    public var model: String
    public var seed: Int
    public var configHash: String
    public var groupHash: String
    public var codeVersion: String
    /// Optimizer steps the run completed.
    public var steps: Int

    enum CodingKeys: String, CodingKey {
        case id, experiment, cell, algo, task, model, seed, steps
        case configHash = "config_hash", groupHash = "group_hash", codeVersion = "code_version"
    }
}

/// The finished runs of an experiment as a caller can tell that they changed: their count and
/// their latest creation and end times (a report is built again when this differs).
public struct FinishedRunsStamp: Sendable, Hashable {
    public var count: Int
    public var lastCreated: String?
    public var lastEnded: String?
}

/// One stored evaluation result.
public struct ScoreRecord: Sendable, Codable, Equatable {
    public var step: Int
    public var split: String
    public var metric: String
    public var value: Double
    public var episodes: Int
    public var ciLow: Double?
    public var ciHigh: Double?

    public init(step: Int, split: String, metric: String, value: Double, episodes: Int, ciLow: Double? = nil, ciHigh: Double? = nil) {
        self.step = step
        self.split = split
        self.metric = metric
        self.value = value
        self.episodes = episodes
        self.ciLow = ciLow
        self.ciHigh = ciHigh
    }

    enum CodingKeys: String, CodingKey {
        case step, split, metric, value, episodes
        case ciLow = "ci_low", ciHigh = "ci_high"
    }
}

/// One stored checkpoint archive of a run.
public struct CheckpointRecord: Sendable, Codable, Equatable {
    public var run: String
    public var step: Int
    public var sha256: String
    public var bytes: Int64
    public var format: String
    /// Path of the blob relative to the store folder.
    public var path: String
    public var created: String
}

/// A frozen set of runs.
public struct ReleaseRecord: Sendable, Codable, Equatable {
    public var name: String
    public var notes: String
    public var filter: String?
    public var created: String
    public var rlhubVersion: String
    public var schemaVersion: Int
    public var source: String?
    public var runs: [String]

    enum CodingKeys: String, CodingKey {
        case name, notes, filter, created, source, runs
        case rlhubVersion = "rlhub_version", schemaVersion = "schema_version"
    }
}
