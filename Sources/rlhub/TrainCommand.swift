// rlhub train — one training run: an algorithm preset on a task from a model.
import RLAlgorithms
import ArgumentParser
import Experiments
import Foundation
import Generator
import LM
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
            Presets: \(AlgorithmPreset.allCases.map(\.rawValue).joined(separator: ", ")).
            Every key is listed by `rlhub train --help-config`. A run folder holds config.json,
            metrics.jsonl, checkpoints/step-N (resumable with --resume) and final/ (a model REF).
            """)

    @Option(help: "Algorithm preset.") var algo: String?
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
        var fileKeys: [(String, String)] = []
        if let config { fileKeys = try Self.readConfigFile(config) }
        func fromFile(_ key: String) -> String? { fileKeys.last { $0.0 == key }?.1 }
        guard let algo = algo ?? fromFile("algo") else { throw InputError(file: "--algo", message: "required (a preset: \(AlgorithmPreset.allCases.map(\.rawValue).joined(separator: ", ")))") }
        guard let taskSpec = task ?? fromFile("task") else { throw InputError(file: "--task", message: "required, e.g. add:digits=2") }
        guard let modelRef = model ?? fromFile("model") else { throw InputError(file: "--model", message: "required, e.g. preset:tiny") }
        let preset = try AlgorithmPreset.parse(algo, key: "--algo")
        var resolved = TrainConfig(
            algo: preset.rawValue, algorithm: preset.config, task: try TaskRegistry.canonicalSpec(taskSpec), model: modelRef)
        for (key, value) in fileKeys where !["algo", "task", "model"].contains(key) { try resolved.set("\(key)=\(value)") }
        for a in assignments { try resolved.set(a) }
        if let steps { resolved.steps = steps }
        if let seed { try resolved.set("seed=\(seed)") }
        try resolved.validate()

        // Everything that can reject bad input happens before the run folder is touched.
        let loaded = try loadModel(modelRef, seed: UInt64(resolved.algorithm.seed), store: storeOptions)
        guard resolved.tokenBudget <= loaded.model.config.maxPositionEmbeddings else {
            throw ConfigError(
                file: "--set", field: "token_budget",
                message: "\(resolved.tokenBudget) exceeds the model's \(loaded.model.config.maxPositionEmbeddings) positions")
        }
        let runDir = out ?? "runs/\(resolved.task.split(separator: ":").first ?? "task")__\(preset.rawValue)__seed\(resolved.algorithm.seed)__\(Self.timestamp())"
        let fm = FileManager.default
        let checkpoints = runDir + "/checkpoints"
        var resumeFrom: (step: Int, path: String)? = nil
        if resume {
            guard out != nil else { throw InputError(file: "--resume", message: "needs --out DIR of the run to continue") }
            resumeFrom = TrainerCheckpoint.latest(in: checkpoints)
            if resumeFrom == nil { FileHandle.standardError.write(Data("no checkpoint in \(checkpoints): starting from step 0\n".utf8)) }
        } else if fm.fileExists(atPath: runDir + "/metrics.jsonl") {
            throw InputError(file: "--out", field: runDir, message: "already holds a run; use --resume to continue it or another --out")
        }
        try fm.createDirectory(atPath: checkpoints, withIntermediateDirectories: true)
        try resolved.canonicalJSON().write(to: URL(fileURLWithPath: runDir + "/config.json"))

        let sink = try JSONLMetricSink(path: runDir + "/metrics.jsonl", keepThrough: resumeFrom?.step ?? (resume ? 0 : nil))
        let trainer = try RLTrainer(config: resolved, loaded: loaded, sink: sink)
        if let resumeFrom { try trainer.resume(from: resumeFrom.path) }
        FileHandle.standardError.write(Data("""
            rlhub train · \(preset.rawValue) on \(resolved.task) from \(modelRef) · \(threads) threads
            config hash \(resolved.hash)
            \(resolved.prettyJSON())
            run folder \(runDir)\(resumeFrom.map { " (resuming after step \($0.step))" } ?? "")

            """.utf8))
        let progress = ProgressLine(total: resolved.steps, start: trainer.step)
        try trainer.train(checkpointRoot: checkpoints) { step, metrics in progress.report(step: step, metrics: metrics) }
        progress.finish()
        let final = runDir + "/final"
        if fm.fileExists(atPath: final) { try fm.removeItem(atPath: final) }
        try trainer.saveFinal(to: final)
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

/// Step, reward, accuracy, rate and ETA: rewritten in place on a terminal, one line per step
/// otherwise (logs, CI).
final class ProgressLine {
    let total: Int
    /// The step before the first timed one; nil = the step before the first report (a resumed
    /// worker learns where it starts only then).
    var start: Int?
    var began = Date()
    let tty = isatty(STDERR_FILENO) == 1

    init(total: Int, start: Int? = nil) {
        self.total = total
        self.start = start
    }

    func report(step: Int, metrics: [String: Double]) {
        if start == nil {
            start = max(0, step - 1)
            began = Date()
        }
        let start = self.start ?? 0
        var parts = ["step \(step)/\(total)"]
        if let r = metrics["reward/mean"] { parts.append(String(format: "reward %.3f", r)) }
        if let a = metrics["accuracy"] { parts.append(String(format: "acc %.3f", a)) }
        if let e = metrics["eval/accuracy"] { parts.append(String(format: "eval %.3f", e)) }
        if let l = metrics["loss/total"] { parts.append(String(format: "loss %.4f", l)) }
        let done = step - start
        if done > 0 {
            let per = Date().timeIntervalSince(began) / Double(done)
            parts.append(String(format: "%.2f s/step", per))
            parts.append("ETA " + LocalExecutor.duration(per * Double(total - step)))
        }
        let line = parts.joined(separator: " · ")
        FileHandle.standardError.write(Data((tty ? "\r\u{1B}[2K" + line : line + "\n").utf8))
    }

    func finish() { if tty { FileHandle.standardError.write(Data("\n".utf8)) } }
}
