// rlhub — runs as the listings show them: the JSON of `rlhub runs|show|curve --format json`, which
// `rlhub serve`'s API answers with too (one definition, so the two cannot drift apart).
import Foundation
import RLHubCore

/// One line of `rlhub runs` (and an element of `GET /api/runs`).
///
/// ```swift
/// let rows = try RunListRow.rows(store: store, runs: try store.runs(RunQuery(where: "task = 'add'", sort: nil, limit: 10)))
/// ```
public struct RunListRow: Sendable, Encodable, Equatable {
    public var id: String
    public var experiment: String?
    public var algo: String
    public var task: String
    public var seed: Int
    public var status: String
    public var steps: Int
    /// Final `reward/mean`, when logged.
    public var reward: Double?
    /// Final `eval/accuracy`, when logged.
    public var evalAccuracy: Double?
    /// The first 12 hex digits of the config hash.
    public var configHash: String
    /// The first 12 hex digits of the code version, `+` when the checkout had uncommitted changes.
    public var code: String
    public var created: String

    /// The column names, in the order the table and the JSON objects show them.
    public static let columns = ["id", "experiment", "algo", "task", "seed", "status", "steps", "reward", "eval_accuracy",
                                 "config_hash", "code", "created"]

    enum CodingKeys: String, CodingKey {
        case id, experiment, algo, task, seed, status, steps, reward, created, code
        case evalAccuracy = "eval_accuracy", configHash = "config_hash"
    }

    /// The row of `run`, with its final reward and accuracy from the store.
    public init(run r: RunRecord, summaries: [(name: String, finalStep: Int, finalValue: Double?, bestStep: Int?, bestValue: Double?, count: Int)]) {
        func final(_ name: String) -> Double? { summaries.first { $0.name == name }?.finalValue }
        id = r.id
        experiment = r.experiment
        algo = r.algo
        task = r.task
        seed = r.seed
        status = r.status.rawValue
        steps = r.stepsDone
        reward = final("reward/mean")
        evalAccuracy = final("eval/accuracy")
        configHash = String(r.configHash.prefix(12))
        code = String(r.codeVersion.prefix(12)) + (r.codeDirty ? "+" : "")
        created = r.created
    }

    /// The rows of `runs`, in their order.
    public static func rows(store: RunStore, runs: [RunRecord]) throws -> [RunListRow] {
        try runs.map { RunListRow(run: $0, summaries: try store.metricSummaries(run: $0.id)) }
    }

    /// Keys in ``columns`` order; `null` for a missing or non-finite number (JSON has no NaN).
    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(id, forKey: .id)
        try c.encode(experiment, forKey: .experiment)
        try c.encode(algo, forKey: .algo)
        try c.encode(task, forKey: .task)
        try c.encode(seed, forKey: .seed)
        try c.encode(status, forKey: .status)
        try c.encode(steps, forKey: .steps)
        try c.encode(reward.flatMap { $0.isFinite ? $0 : nil }, forKey: .reward)
        try c.encode(evalAccuracy.flatMap { $0.isFinite ? $0 : nil }, forKey: .evalAccuracy)
        try c.encode(configHash, forKey: .configHash)
        try c.encode(code, forKey: .code)
        try c.encode(created, forKey: .created)
    }
}

/// Everything stored about one run: `rlhub show RUN --format json` and `GET /api/runs/ID`.
public struct RunDetail: Sendable, Encodable {
    /// A metric's final and best value.
    public struct Summary: Sendable, Encodable, Equatable {
        public var name: String
        public var final_step: Int
        public var final: Double?
        public var best_step: Int?
        public var best: Double?
        public var points: Int
    }

    /// The run's row (its `config_json` emptied: the config is ``config``).
    public var run: RunRecord
    /// The resolved config, as JSON (not as an escaped string).
    public var config: JSONValue
    public var metrics: [Summary]
    public var scores: [ScoreRecord]
    public var checkpoints: [CheckpointRecord]
    public var tags: [String: String]
    /// The releases that hold the run.
    public var releases: [String]

    /// Reads the run `idOrPrefix` (a full id or a unique prefix of ≥ 4 characters).
    ///
    /// - Throws: ``InputError`` for an unknown or ambiguous id.
    public static func load(store: RunStore, run idOrPrefix: String) throws -> RunDetail {
        let r = try store.run(idOrPrefix)
        let config = (try? JSONDecoder().decode(JSONValue.self, from: Data(r.configJSON.utf8))) ?? .string(r.configJSON)
        var row = r
        row.configJSON = ""
        return RunDetail(
            run: row, config: config,
            metrics: try store.metricSummaries(run: r.id).map {
                Summary(name: $0.name, final_step: $0.finalStep, final: $0.finalValue, best_step: $0.bestStep, best: $0.bestValue, points: $0.count)
            },
            scores: try store.scores(run: r.id), checkpoints: try store.checkpoints(run: r.id),
            tags: Dictionary(try store.tags(r.id).map { ($0.key, $0.value) }, uniquingKeysWith: { $1 }),
            releases: try store.releases().filter { $0.runs.contains(r.id) }.map(\.name))
    }
}

/// The points of one metric: `rlhub curve --format json` and `GET /api/runs/ID/curve`, i.e.
/// `[{"step": 1, "<metric>": 0.5}, …]`.
public struct CurveRows: Sendable, Encodable {
    public var metric: String
    public var points: [(step: Int, value: Double?)]

    public init(metric: String, points: [(step: Int, value: Double?)]) {
        self.metric = metric
        self.points = points
    }

    struct Key: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }

    public func encode(to encoder: Encoder) throws {
        var list = encoder.unkeyedContainer()
        for p in points {
            var object = list.nestedContainer(keyedBy: Key.self)
            try object.encode(p.step, forKey: Key(stringValue: "step"))
            try object.encode(p.value.flatMap { $0.isFinite ? $0 : nil }, forKey: Key(stringValue: metric))
        }
    }
}

/// Any JSON value, decoded and encoded as itself (a stored config re-emitted as JSON).
public enum JSONValue: Codable, Sendable, Equatable {
    case null, bool(Bool), int(Int), number(Double), string(String), array([JSONValue]), object([String: JSONValue])

    public init(from decoder: Decoder) throws {
        let c = try decoder.singleValueContainer()
        if c.decodeNil() { self = .null }
        else if let b = try? c.decode(Bool.self) { self = .bool(b) }
        else if let i = try? c.decode(Int.self) { self = .int(i) }
        else if let d = try? c.decode(Double.self) { self = .number(d) }
        else if let s = try? c.decode(String.self) { self = .string(s) }
        else if let a = try? c.decode([JSONValue].self) { self = .array(a) }
        else { self = .object(try c.decode([String: JSONValue].self)) }
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.singleValueContainer()
        switch self {
        case .null: try c.encodeNil()
        case .bool(let b): try c.encode(b)
        case .int(let i): try c.encode(i)
        case .number(let d): try c.encode(d)
        case .string(let s): try c.encode(s)
        case .array(let a): try c.encode(a)
        case .object(let o): try c.encode(o)
        }
    }
}
