// rlhub — around the steps: held-out evaluation, checkpoints on a schedule, exact resume.
import RLAlgorithms
import Foundation
import Generator
import LM
import RLHubCore
import Tasks

extension RLTrainer {
    /// Greedy evaluation on `eval_episodes` held-out problems: `eval/accuracy`, `eval/mean_reward`,
    /// `eval/response_length`, logged at the current step.
    @discardableResult
    public func evaluate() throws -> [String: Double] {
        guard config.evalEpisodes > 0 else { return [:] }
        let report = try HeldOutEvaluation.run(
            loaded: loaded, task: task, episodes: config.evalEpisodes, k: 1, temperature: 0,
            maxNewTokens: config.algorithm.maxNewTokens, seed: UInt64(config.algorithm.seed), tokenBudget: config.tokenBudget,
            runner: runner)
        var m: [String: Double] = [
            "eval/accuracy": report.summary.accuracy, "eval/mean_reward": report.summary.mean_reward,
            "eval/response_length": report.summary.mean_length,
        ]
        if config.evalK > 1 {
            // pass@k needs k different samples per problem: sampled at the training temperature.
            let sampled = try HeldOutEvaluation.run(
                loaded: loaded, task: task, episodes: config.evalEpisodes, k: config.evalK,
                temperature: Float(config.algorithm.temperature), maxNewTokens: config.algorithm.maxNewTokens,
                seed: UInt64(config.algorithm.seed), tokenBudget: config.tokenBudget, runner: runner)
            m["eval/pass_at_k"] = sampled.summary.pass_at_k
        }
        sink.log(step: state.step, metrics: m)
        recordEvaluationSamples(report.trajectories)
        onEvaluation?(state.step, report.summary)
        return m
    }

    /// Writes a checkpoint folder (model in HF layout, or a LoRA run's adapter in PEFT's, +
    /// optimizer + trainer state).
    public func saveCheckpoint(to folder: String) throws {
        let weights: HFCheckpoint.Weights = if let adapters = model.adapters, let baseHash {
            .adapters(adapters, baseReference: baseReference, baseHash: baseHash)
        } else {
            .model
        }
        try TrainerCheckpoint.save(
            to: folder, loaded: loaded, weights: weights, optimizer: optimizer, critic: critic, state: state,
            resolvedConfig: config.canonicalJSON())
    }

    /// Writes the run's final model: a checkpoint without the optimizer state (a model REF; a LoRA
    /// run's is its adapter, in PEFT's layout, with its base's reference and hash).
    public func saveFinal(to folder: String) throws {
        try saveCheckpoint(to: folder)
        try FileManager.default.removeItem(atPath: folder + "/optimizer.safetensors")
    }

    /// Restores a checkpoint written by ``saveCheckpoint(to:)`` of a run with the same config.
    public func resume(from folder: String) throws {
        let restored = try TrainerCheckpoint.restore(from: folder, into: model, optimizer: optimizer, critic: critic)
        guard restored.configHash == state.configHash else {
            throw InputError(
                file: folder + "/trainer_state.json", field: "configHash",
                message: "the checkpoint belongs to another configuration (\(restored.configHash.prefix(12)) ≠ \(state.configHash.prefix(12)))")
        }
        state = restored
    }

    /// The steps of a run, with evaluations and checkpoints on schedule.
    /// - Parameters:
    ///   - checkpointRoot: folder for `step-N` checkpoints (nil = none).
    ///   - onCheckpoint: called with (step, folder) after each checkpoint is written (and metrics flushed).
    ///   - stopAfter: stop after this step (`rlhub verify` of the first K steps); the evaluation
    ///     and checkpoint schedule stays that of the whole run.
    ///   - report: called after each step with its metrics.
    public func train(
        checkpointRoot: String?, stopAfter: Int? = nil, onCheckpoint: ((Int, String) throws -> Void)? = nil,
        report: (Int, [String: Double]) -> Void
    ) throws {
        if state.step == 0 {
            report(0, try evaluate())
            try sink.flush()
        }
        while state.step < min(config.steps, stopAfter ?? config.steps) {
            let metrics = try runStep()
            let s = state.step
            var all = metrics
            if s == config.steps || (config.evalEvery > 0 && s % config.evalEvery == 0) {
                all.merge(try evaluate()) { $1 }
            }
            if let root = checkpointRoot,
               s == config.steps || (config.checkpointEvery > 0 && s % config.checkpointEvery == 0) {
                try sink.flush()
                try saveCheckpoint(to: root + "/step-\(s)")
                try TrainerCheckpoint.pruneOlder(in: root, keeping: s)
                try onCheckpoint?(s, root + "/step-\(s)")
            }
            try sink.flush()
            report(s, all)
        }
    }
}

extension TrainerCheckpoint {
    /// The latest `step-N` checkpoint under `root`, if any.
    public static func latest(in root: String) -> (step: Int, path: String)? {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: root)) ?? []
        let steps = names.compactMap { $0.hasPrefix("step-") ? Int($0.dropFirst(5)) : nil }
        guard let best = steps.max() else { return nil }
        return (best, root + "/step-\(best)")
    }

    /// Removes `step-N` folders older than `keeping` (the latest one is enough to resume).
    static func pruneOlder(in root: String, keeping: Int) throws {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: root)) ?? []
        for name in names where name.hasPrefix("step-") {
            if let n = Int(name.dropFirst(5)), n < keeping {
                try FileManager.default.removeItem(atPath: root + "/" + name)
            }
        }
    }
}
