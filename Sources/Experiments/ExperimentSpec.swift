// rlhub — experiment specs: a declared grid of algorithms × tasks × seeds, read from YAML.
import Foundation
import LM
import RLHubCore
import Yams

/// A declared grid (`experiments/NAME.yaml`):
///
/// ```yaml
/// name: baseline
/// description: GRPO family vs PPO on tiny after a shared SFT warm-up
/// model: preset:tiny                 # any model REF
/// warmup:                            # optional: run once per task and seed, reused by every algorithm
///   algo: sft
///   steps: 400
///   set: {lr: 2e-3, prompts_per_step: 64}
///   seed: 0                          # optional: one warm-up per task (this seed), shared by all seeds
/// set: {max_new_tokens: 8, token_budget: 128}   # keys of `rlhub train --set`, for every cell
/// steps: 40                          # optimizer steps per cell
/// evaluation: {every: 10, episodes: 100, k: 4}   # k > 1 adds eval/pass_at_k (sampled)
/// checkpoints: {every: 10}
/// algorithms:                        # a preset name, or {name, preset, set}
///   - grpo
///   - {name: dapo, preset: dapo, set: {overlong_buffer: 4}}
/// tasks:                             # a task spec, or {name, task, set, steps, warmup}
///   - add:digits=2
///   - {name: lake, task: "frozenlake:size=3", steps: 30, warmup: {steps: 150, set: {lr: 3e-3}}}
/// seeds: [0, 1, 2]
/// report:                            # optional: what `rlhub report` adds to held-out accuracy
///   metrics: [entropy, response_length/mean]   # training metrics (docs/metrics.md) per step and per run
/// ```
///
/// Settings apply in this order, later ones winning: the preset, the spec's `set`, the task's
/// `set`, the algorithm's `set`, then `steps` (the task's, else the spec's), `evaluation` and
/// `checkpoints`. A warm-up takes the spec's `set`, the task's `set`, the warm-up's `set`, then the
/// task's `warmup.set`; its steps are the task's `warmup.steps`, else the warm-up's.
///
/// `report` changes no cell (no config or group hash): `report.metrics` names per-step training
/// metrics the report shows beside held-out accuracy, each over training steps per task and as
/// the mean over a run's steps per algorithm and task.
public struct ExperimentSpec: Sendable, Equatable {
    /// One algorithm axis entry.
    public struct Algorithm: Sendable, Equatable {
        /// Label in cell names and reports (defaults to the preset).
        public var name: String
        public var preset: String
        public var set: [Assignment]
    }

    /// One task axis entry.
    public struct Task: Sendable, Equatable {
        /// Label in cell names and reports (defaults to the task's name, e.g. `add`).
        public var name: String
        /// Task spec as given (`add:digits=2`).
        public var spec: String
        public var set: [Assignment]
        /// Optimizer steps of this task's cells (nil: the spec's `steps`).
        public var steps: Int? = nil
        /// Steps of this task's warm-ups (nil: the warm-up's `steps`).
        public var warmupSteps: Int? = nil
        /// Settings of this task's warm-ups, after the warm-up's own `set`.
        public var warmupSet: [Assignment] = []
    }

    /// The shared warm-up stage.
    public struct Warmup: Sendable, Equatable {
        public var algo: String
        public var steps: Int
        public var set: [Assignment]
        /// When set, one warm-up per task, trained with this seed, is the warm start of every
        /// seed's cells (the seeds then vary the RL stage only); nil: one warm-up per task and seed.
        public var seed: Int? = nil
    }

    /// `key=value` with where it was written, for errors.
    public struct Assignment: Sendable, Equatable {
        public var key: String
        public var value: String
        public var line: Int
        public var column: Int
    }

    public var name: String
    public var description: String
    public var model: String
    public var warmup: Warmup?
    public var set: [Assignment]
    public var steps: Int
    public var evalEvery: Int
    public var evalEpisodes: Int
    /// Samples per problem for pass@k (1 = greedy accuracy only).
    public var evalK: Int
    public var checkpointEvery: Int
    public var algorithms: [Algorithm]
    public var tasks: [Task]
    public var seeds: [Int]
    /// Training metrics the report shows (`report: {metrics: [...]}`), in the order given.
    public var reportMetrics: [String] = []
    /// The file's text (stored with the experiment) and where it came from.
    public var text: String
    public var path: String
}

extension ExperimentSpec {
    static let topKeys = ["name", "description", "model", "warmup", "set", "steps", "evaluation", "checkpoints",
                          "algorithms", "tasks", "seeds", "report"]

    /// Reads and validates a spec file; errors name the file, line and column.
    public static func load(_ path: String) throws -> ExperimentSpec {
        try parse(try BoundedYAML.read(path), path: path)
    }

    /// Parses spec text (`path` only names the source in errors).
    public static func parse(_ text: String, path: String) throws -> ExperimentSpec {
        let reader = SpecReader(path: path)
        let root: Node
        do {
            guard let node = try BoundedYAML.compose(text, path: path) else { throw reader.error(nil, "the spec is empty") }
            root = node
        } catch let error as YamlError {
            throw InputError(file: path, message: "not valid YAML: " + Self.yamlMessage(error))
        }
        let top = try reader.mapping(root, allowed: topKeys, context: "spec")
        guard let nameNode = top["name"] else { throw reader.error(root, "missing key 'name'") }
        let name = try reader.string(nameNode)
        guard !name.isEmpty, name.allSatisfy({ $0.isLetter || $0.isNumber || "-_.".contains($0) }) else {
            throw reader.error(nameNode, "name: use letters, digits, '-', '_' and '.'")
        }
        guard let algorithmsNode = top["algorithms"] else { throw reader.error(root, "missing key 'algorithms'") }
        guard let tasksNode = top["tasks"] else { throw reader.error(root, "missing key 'tasks'") }
        let evaluation = try top["evaluation"].map { try reader.mapping($0, allowed: ["every", "episodes", "k"], context: "evaluation") } ?? [:]
        let checkpoints = try top["checkpoints"].map { try reader.mapping($0, allowed: ["every"], context: "checkpoints") } ?? [:]
        var spec = ExperimentSpec(
            name: name,
            description: try top["description"].map(reader.string) ?? "",
            model: try top["model"].map(reader.string) ?? "preset:tiny",
            warmup: nil,
            set: try top["set"].map(reader.assignments) ?? [],
            steps: try top["steps"].map { try reader.int($0, min: 1) } ?? 100,
            evalEvery: try evaluation["every"].map { try reader.int($0, min: 0) } ?? 10,
            evalEpisodes: try evaluation["episodes"].map { try reader.int($0, min: 0) } ?? 100,
            evalK: try evaluation["k"].map { try reader.int($0, min: 1) } ?? 1,
            checkpointEvery: try checkpoints["every"].map { try reader.int($0, min: 0) } ?? 0,
            algorithms: [], tasks: [], seeds: [0], text: text, path: path)
        if let w = top["warmup"] {
            let m = try reader.mapping(w, allowed: ["algo", "steps", "set", "seed"], context: "warmup")
            spec.warmup = Warmup(
                algo: try m["algo"].map(reader.string) ?? "sft",
                steps: try m["steps"].map { try reader.int($0, min: 1) } ?? 100,
                set: try m["set"].map(reader.assignments) ?? [],
                seed: try m["seed"].map { try reader.int($0, min: 0) })
        }
        for node in try reader.sequence(algorithmsNode, context: "algorithms") {
            if let preset = node.scalar?.string {
                spec.algorithms.append(Algorithm(name: preset, preset: preset, set: []))
            } else {
                let m = try reader.mapping(node, allowed: ["name", "preset", "set"], context: "algorithm")
                guard let preset = try m["preset"].map(reader.string) ?? m["name"].map(reader.string) else {
                    throw reader.error(node, "an algorithm needs 'preset' (or 'name' naming a preset)")
                }
                spec.algorithms.append(Algorithm(
                    name: try m["name"].map(reader.string) ?? preset, preset: preset, set: try m["set"].map(reader.assignments) ?? []))
            }
        }
        for node in try reader.sequence(tasksNode, context: "tasks") {
            if let taskSpec = node.scalar?.string {
                spec.tasks.append(Task(name: Self.taskLabel(taskSpec), spec: taskSpec, set: []))
            } else {
                let m = try reader.mapping(node, allowed: ["name", "task", "set", "steps", "warmup"], context: "task")
                guard let taskNode = m["task"] else { throw reader.error(node, "a task needs 'task' (a task spec such as add:digits=2)") }
                let taskSpec = try reader.string(taskNode)
                var task = Task(
                    name: try m["name"].map(reader.string) ?? Self.taskLabel(taskSpec), spec: taskSpec,
                    set: try m["set"].map(reader.assignments) ?? [], steps: try m["steps"].map { try reader.int($0, min: 1) })
                if let w = m["warmup"] {
                    guard top["warmup"] != nil else { throw reader.error(w, "a task's 'warmup' needs the spec's 'warmup'") }
                    let wm = try reader.mapping(w, allowed: ["steps", "set"], context: "task warmup")
                    task.warmupSteps = try wm["steps"].map { try reader.int($0, min: 1) }
                    task.warmupSet = try wm["set"].map(reader.assignments) ?? []
                }
                spec.tasks.append(task)
            }
        }
        if let seeds = top["seeds"] {
            spec.seeds = try reader.sequence(seeds, context: "seeds").map { try reader.int($0, min: 0) }
        }
        if let report = top["report"] { spec.reportMetrics = try Self.reportMetrics(report, reader: reader) }
        for (label, names) in [("algorithms", spec.algorithms.map(\.name)), ("tasks", spec.tasks.map(\.name)), ("seeds", spec.seeds.map(String.init))] {
            if names.isEmpty { throw reader.error(top[label] ?? root, "\(label): needs at least one entry") }
            if let dup = Self.firstDuplicate(names) {
                throw reader.error(top[label] ?? root, "\(label): '\(dup)' appears twice (give entries distinct names)")
            }
        }
        try SpecValidation.check(spec, reader: reader, top: top)
        return spec
    }

    /// `report: {metrics: [NAME, ...]}`: distinct, non-empty metric names in file order.
    static func reportMetrics(_ node: Node, reader: SpecReader) throws -> [String] {
        let report = try reader.mapping(node, allowed: ["metrics"], context: "report")
        guard let list = report["metrics"] else { return [] }
        var names: [String] = []
        for item in try reader.sequence(list, context: "report: metrics") {
            guard let name = item.scalar?.string else {
                throw reader.error(item, "report: metrics: expected a metric name such as entropy (docs/metrics.md)")
            }
            let trimmed = name.trimmingCharacters(in: .whitespaces)
            guard !trimmed.isEmpty else { throw reader.error(item, "report: metrics: a metric name is empty") }
            guard !names.contains(trimmed) else { throw reader.error(item, "report: metrics: '\(trimmed)' appears twice") }
            names.append(trimmed)
        }
        return names
    }

    /// `add:digits=2` → `add`.
    static func taskLabel(_ spec: String) -> String {
        String(spec.split(separator: ":", maxSplits: 1).first ?? Substring(spec)).trimmingCharacters(in: .whitespaces)
    }

    static func firstDuplicate(_ names: [String]) -> String? {
        var seen = Set<String>()
        for n in names where !seen.insert(n).inserted { return n }
        return nil
    }

    static func yamlMessage(_ error: YamlError) -> String {
        String(String(describing: error).split(separator: "\n").first ?? "")
    }
}
