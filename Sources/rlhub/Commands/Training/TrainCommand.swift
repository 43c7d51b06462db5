// rlhub train — one training run: an algorithm preset on a task from a model, in a run folder of its
// own and recorded in the store like a grid cell.
import RLAlgorithms
import ArgumentParser
import Experiments
import Foundation
import Generator
import LM
import RLHubCore
import Store
import Tasks
import Trainer
import Yams

struct TrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Train a model on a task with an RL algorithm (or SFT/DPO); DIR/final is the last checkpoint.",
        discussion: """
            Example: rlhub train --algo grpo --task add:digits=2 --model preset:tiny --steps 50 \\
                       --set lr=1e-3 --set group_size=8 --out runs/grpo-add
            Every key is listed by `rlhub train --help-config`. A run folder holds config.json,
            metrics.jsonl, checkpoints/step-N (resumable with --resume), final/ (a model REF) and run.json
            (the run's id and store). The run is also recorded in the store, as a grid's cells are,
            under experiment `train` (or --experiment NAME) with cell ALGO/TASK/seedN: metrics, rollout
            samples, held-out scores and the final checkpoint, for `rlhub runs`, `show`, `curve`, `samples`,
            `check`, `verify` and `--model run:ID`.
            """)

    @Option(help: "Algorithm preset.") var algo: AlgorithmPreset?
    @Option(help: "Task spec, e.g. add:digits=2.") var task: String?
    @Option(help: "Model reference to start from.") var model: String?
    @Option(help: "Optimizer steps.") var steps: Int?
    @Option(help: "Seed (sampling, data order, and preset initialisation).") var seed: Int?
    @Option(name: .customLong("set"), help: "Override a config key (repeatable): key=value.")
    var assignments: [String] = []
    @Option(help: "YAML or JSON file of config keys (algo, task, model and any key of --help-config).")
    var config: String?
    @Option(help: "Run folder (default runs/TASK__ALGO__seedS__TIME).") var out: String?
    @Flag(help: "Continue the run in --out from its latest checkpoint.") var resume = false
    @Option(help: "Experiment a new run is recorded under in the store (a resumed run keeps its own).") var experiment: String = StandaloneRun.defaultExperiment
    @Flag(help: "List every config key with its default and meaning, then exit.") var helpConfig = false
    @OptionGroup var compute: ComputeOptions
    @OptionGroup var storeOptions: StoreOptions

    func run() throws {
        if helpConfig {
            print(AlgorithmConfig.helpText())
            print("\nRun keys: " + TrainConfig.runKeys.joined(separator: ", "))
            return
        }
        let threads = try compute.apply()
        // Everything that can reject bad input happens before the run folder or the store is touched.
        try StandaloneRun.checkExperimentName(experiment)
        let resolved = try resolvedConfig()
        let loaded = try startingModel(resolved)
        let runDir = out ?? "runs/\(resolved.task.split(separator: ":").first ?? "task")__\(resolved.algo)__seed\(resolved.algorithm.seed)__\(Self.timestamp())"
        let checkpoints = runDir + "/checkpoints"
        let (recorded, resumeFrom) = try runFolderState(runDir, checkpoints: checkpoints)
        let store = try recorded.map { try $0.openStore(flag: storeOptions.store, runDir: runDir) } ?? storeOptions.open(create: true)
        if let recorded, try store.run(recorded.run).status == .finished {
            return try reportFinished(recorded.run, runDir: runDir, store: store)
        }

        // The run folder and the store's run (a new one, or the one run.json names).
        try FileManager.default.createDirectory(atPath: checkpoints, withIntermediateDirectories: true)
        try resolved.canonicalJSON().write(to: URL(fileURLWithPath: runDir + "/config.json"))
        let runID = try recorded?.run ?? StandaloneRun.create(in: store, experiment: experiment, config: resolved, threads: threads)
        if recorded == nil {
            if resume { FileHandle.standardError.write(Data("\(runDir) has no run.json (made before rlhub recorded train runs): the store's run starts at the resumed step\n".utf8)) }
            try RecordedRun(run: runID, store: store.directory ?? storeOptions.directory).write(runDir: runDir)
        }
        FileHandle.standardError.write(Data("""
            rlhub train · \(resolved.algo) on \(resolved.task) from \(resolved.model) · \(threads) threads
            config hash \(resolved.hash)
            \(resolved.prettyJSON())
            run folder \(runDir)\(resumeFrom.map { " (resuming after step \($0.step))" } ?? "")
            store run \(runID) in \(store.directory ?? storeOptions.directory) (experiment \(try store.run(runID).experiment ?? experiment))

            """.utf8))

        // Trained as a grid cell is, with metrics.jsonl beside the store; DIR/final before "finished".
        let keepThrough = resumeFrom?.step ?? (resume ? 0 : nil)
        let training = RunTraining(
            store: store, run: runID, config: resolved, checkpoints: checkpoints, finalScratch: runDir + "/stored-final",
            makeMirror: { try JSONLMetricSink(path: runDir + "/metrics.jsonl", keepThrough: keepThrough) })
        let progress = ProgressLine(total: resolved.steps, start: resumeFrom?.step ?? 0)
        let final = runDir + "/final"
        try training.train(
            threads: threads, loadModel: { loaded },
            baseReference: { try ModelResolver(store: store).contentReference(resolved.model) }, resumeFrom: resumeFrom,
            progress: { step, metrics in progress.report(step: step, metrics: metrics) },
            beforeFinishing: { trainer in
                progress.finish()
                if FileManager.default.fileExists(atPath: final) { try FileManager.default.removeItem(atPath: final) }
                try trainer.saveFinal(to: final)
            })
        print(final)
    }

    /// The model the run starts from, checked against the run's token budget.
    func startingModel(_ config: TrainConfig) throws -> LoadedModel {
        let loaded = try loadModel(config.model, seed: UInt64(config.algorithm.seed), store: storeOptions)
        guard config.tokenBudget <= loaded.model.config.maxPositionEmbeddings else {
            throw ConfigError(
                file: "--set", field: "token_budget",
                message: "\(config.tokenBudget) exceeds the model's \(loaded.model.config.maxPositionEmbeddings) positions")
        }
        return loaded
    }

    /// With --resume: the folder's run.json (nil for a folder made before rlhub recorded train runs)
    /// and its latest checkpoint. Without: nothing, after checking the folder holds no run yet.
    func runFolderState(_ runDir: String, checkpoints: String) throws -> (RecordedRun?, (step: Int, path: String)?) {
        guard resume else {
            if FileManager.default.fileExists(atPath: runDir + "/metrics.jsonl") {
                throw InputError(file: "--out", field: runDir, message: "already holds a run; use --resume to continue it or another --out")
            }
            return (nil, nil)
        }
        guard out != nil else { throw InputError(file: "--resume", message: "needs --out DIR of the run to continue") }
        let recorded = try RecordedRun.read(runDir: runDir)
        let resumeFrom = TrainerCheckpoint.latest(in: checkpoints)
        if resumeFrom == nil { FileHandle.standardError.write(Data("no checkpoint in \(checkpoints): starting from step 0\n".utf8)) }
        return (recorded, resumeFrom)
    }

    /// The run's config: the preset of --algo (or the config file's `algo`), then the file's keys,
    /// then --set, --steps and --seed, validated.
    func resolvedConfig() throws -> TrainConfig {
        var fileKeys: [(String, String)] = []
        if let config { fileKeys = try Self.readConfigFile(config) }
        func fromFile(_ key: String) -> String? { fileKeys.last { $0.0 == key }?.1 }
        let preset: AlgorithmPreset
        if let algo {
            preset = algo
        } else if let name = fromFile("algo"), let config {
            do { preset = try AlgorithmPreset.parse(name, key: "algo") } catch { throw ConfigError(file: config, field: "algo", message: error.message) }
        } else {
            throw InputError(file: "--algo", message: "required (a preset: \(AlgorithmPreset.validNames))")
        }
        guard let taskSpec = task ?? fromFile("task") else { throw InputError(file: "--task", message: "required, e.g. add:digits=2") }
        guard let modelRef = model ?? fromFile("model") else { throw InputError(file: "--model", message: "required, e.g. preset:tiny") }
        var resolved = TrainConfig(
            algo: preset.rawValue, algorithm: preset.config, task: try TaskRegistry.canonicalSpec(taskSpec), model: modelRef)
        for (key, value) in fileKeys where !["algo", "task", "model"].contains(key) { try resolved.set("\(key)=\(value)") }
        for a in assignments { try resolved.set(a) }
        if let steps { resolved.steps = steps }
        if let seed { try resolved.set("seed=\(seed)") }
        try resolved.validate()
        return resolved
    }

    /// `--resume` of a run the store already holds as finished: nothing to train; DIR/final is
    /// written from the stored final checkpoint when it is missing.
    func reportFinished(_ runID: String, runDir: String, store: RunStore) throws {
        let final = runDir + "/final"
        FileHandle.standardError.write(Data("run \(runID) is already finished in \(store.directory ?? storeOptions.directory)\n".utf8))
        if !FileManager.default.fileExists(atPath: final) {
            let resolved = try ModelResolver(store: store).resolve("run:" + runID)
            try HFCheckpoint.save(try ModelLoader.load(resolved, seed: 0), to: final)
        }
        print(final)
    }

    /// `key: value` pairs of a YAML (or JSON) mapping, in file order.
    static func readConfigFile(_ path: String) throws -> [(String, String)] {
        let text = try BoundedYAML.read(path)
        let node: Node?
        do { node = try BoundedYAML.compose(text, path: path) } catch let error as YamlError {
            throw InputError(file: path, message: "not valid YAML: \(String(describing: error).split(separator: "\n").first ?? "")")
        }
        guard let mapping = node?.mapping else { throw InputError(file: path, message: "must be a mapping of config keys") }
        var out: [(String, String)] = []
        for (k, v) in mapping {
            guard let key = k.string else { throw InputError(file: path, message: "keys must be strings") }
            guard let value = v.scalar?.string else {
                throw InputError(file: path, field: key, message: "must be a single value (line \(v.mark?.line ?? 0))")
            }
            out.append((key, value))
        }
        return out
    }

    static func timestamp() -> String {
        let f = DateFormatter()
        f.dateFormat = "yyyyMMdd-HHmmss"
        f.timeZone = TimeZone(identifier: "UTC")
        return f.string(from: Date())
    }
}
