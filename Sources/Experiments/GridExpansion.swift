// rlhub — a spec expands into cells: one resolved training config per (algorithm, task, seed),
// plus the warm-up runs they start from.
import RLAlgorithms
import Crypto
import Foundation
import LM
import Tasks
import Trainer

/// One unit of work of a grid: a fully resolved training run.
public struct GridCell: Sendable, Equatable {
    /// `algorithm/task/seedN`, or `warmup/task/seedN`.
    public var key: String
    public var algorithm: String
    public var task: String
    public var seed: Int
    public var config: TrainConfig
    /// SHA-256 of the canonical config JSON: the identity of the run across stores.
    public var configHash: String
    /// Hash of the config with the seed (and the seed's warm-up) taken out: runs that differ
    /// only by seed share it; reports group by it.
    public var groupHash: String
    /// Config hash of the warm-up cell this cell starts from.
    public var dependsOn: String?
    public var isWarmup: Bool { dependsOn == nil && key.hasPrefix("warmup/") }
}

/// Model reference of a cell that starts from another cell's final checkpoint: resolved by the
/// runner to that run's archive in the store (see ``ModelResolver``).
public enum CellModelReference {
    public static let prefix = "cell:"
    public static func make(_ configHash: String) -> String { prefix + configHash }
}

public enum GridExpansion {
    /// Every cell of the spec: warm-ups first (by task, seed), then algorithm × task × seed in
    /// the spec's order.
    public static func cells(_ spec: ExperimentSpec) throws -> [GridCell] {
        var out: [GridCell] = []
        var warmups: [String: GridCell] = [:]
        if let w = spec.warmup {
            for task in spec.tasks {
                // A warm-up with its own seed is trained once per task and shared by every seed.
                for seed in w.seed.map({ [$0] }) ?? spec.seeds {
                    let config = try resolveWarmup(spec, task: task, seed: seed)
                    let cell = GridCell(
                        key: "warmup/\(task.name)/seed\(seed)", algorithm: config.algo, task: task.name, seed: seed, config: config,
                        configHash: config.hash, groupHash: groupHash(config, model: config.model), dependsOn: nil)
                    for user in w.seed == nil ? [seed] : spec.seeds { warmups["\(task.name)/\(user)"] = cell }
                    out.append(cell)
                }
            }
        }
        for algorithm in spec.algorithms {
            for task in spec.tasks {
                for seed in spec.seeds {
                    let warmup = warmups["\(task.name)/\(seed)"]
                    let model = warmup.map { CellModelReference.make($0.configHash) } ?? spec.model
                    let config = try resolve(spec, algorithm: algorithm, task: task, seed: seed, model: model)
                    let groupModel = warmup.map { "warmup-group:" + $0.groupHash } ?? spec.model
                    out.append(GridCell(
                        key: "\(algorithm.name)/\(task.name)/seed\(seed)", algorithm: algorithm.name, task: task.name, seed: seed,
                        config: config, configHash: config.hash, groupHash: groupHash(config, model: groupModel),
                        dependsOn: warmup?.configHash))
                }
            }
        }
        return out
    }

    /// The resolved config of one algorithm cell.
    static func resolve(_ spec: ExperimentSpec, algorithm: ExperimentSpec.Algorithm, task: ExperimentSpec.Task, seed: Int, model: String) throws -> TrainConfig {
        guard let preset = AlgorithmPreset(rawValue: algorithm.preset) else {
            throw ConfigError(file: spec.path, field: "preset", message: "unknown preset '\(algorithm.preset)'")
        }
        var config = TrainConfig(algo: preset.rawValue, algorithm: preset.config, task: try TaskRegistry.canonicalSpec(task.spec), model: model)
        for a in spec.set + task.set + algorithm.set { try apply(a, to: &config) }
        config.steps = task.steps ?? spec.steps
        config.evalEvery = spec.evalEvery
        config.evalEpisodes = spec.evalEpisodes
        config.evalK = spec.evalK
        config.checkpointEvery = spec.checkpointEvery
        try config.set("seed=\(seed)")
        try config.validate()
        return config
    }

    /// The resolved config of the warm-up of one task and seed (shared `set` and the task's
    /// `set` apply; evaluation at the end only).
    static func resolveWarmup(_ spec: ExperimentSpec, task: ExperimentSpec.Task, seed: Int) throws -> TrainConfig {
        guard let w = spec.warmup, let preset = AlgorithmPreset(rawValue: w.algo) else {
            throw ConfigError(file: spec.path, field: "warmup", message: "unknown preset")
        }
        var config = TrainConfig(algo: preset.rawValue, algorithm: preset.config, task: try TaskRegistry.canonicalSpec(task.spec), model: spec.model)
        for a in spec.set + task.set + w.set + task.warmupSet { try apply(a, to: &config) }
        config.steps = task.warmupSteps ?? w.steps
        config.evalEvery = 0
        config.evalEpisodes = spec.evalEpisodes
        config.checkpointEvery = spec.checkpointEvery
        try config.set("seed=\(seed)")
        try config.validate()
        return config
    }

    static func apply(_ a: ExperimentSpec.Assignment, to config: inout TrainConfig) throws {
        let runKeys: Set<String> = ["steps", "eval_every", "eval_episodes", "eval_k", "checkpoint_every"]
        if runKeys.contains(a.key) {
            throw AssignmentError(assignment: a, error: ConfigError(field: a.key, message: "set it with the spec's steps, evaluation or checkpoints keys"))
        }
        do { try config.set("\(a.key)=\(a.value)") } catch { throw AssignmentError(assignment: a, error: error) }
    }

    /// SHA-256 of the canonical config with seed 0 and `model` in place of the model reference.
    public static func groupHash(_ config: TrainConfig, model: String) -> String {
        var c = config
        c.algorithm.seed = 0
        c.model = model
        return c.hash
    }

    /// SHA-256 hex of a spec's text (stored with the experiment).
    public static func specHash(_ text: String) -> String {
        SHA256.hash(data: Data(text.utf8)).map { String(format: "%02x", $0) }.joined()
    }
}
