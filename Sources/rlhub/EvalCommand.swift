// rlhub eval — held-out accuracy, unbiased pass@k and mean length of a model on a task, with a
// 95% confidence interval over problems.
import ArgumentParser
import Foundation
import Generator
import LM
import RLHubCore
import Store
import Tasks

struct EvalCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "eval",
        abstract: "Evaluate a model on a task's held-out problems: accuracy, pass@k, mean length, 95% CI.",
        discussion: """
            Example: rlhub eval --model preset:tiny --task add:digits=2 --episodes 200
            Each of the --episodes test problems is played --k times (default temperature: 0 for
            k = 1, else 1). --record RUN stores accuracy and mean reward (with their CIs) as test
            scores of RUN at its steps_done. Tasks: \(TaskRegistry.names.joined(separator: ", ")),
            and external environments: rg:NAME (reasoning-gym), py:FILE.py, cmd:PROGRAM (docs/environments.md).
            """)

    @Option(help: "Model reference: preset:NAME, a Hugging Face folder or a .gguf file.") var model: String
    @Option(help: "Task spec, e.g. add:digits=3.") var task: String
    @Option(help: "Held-out problems to play.") var episodes = 100
    @Option(help: "Samples per problem (pass@k).") var k = 1
    @Option(help: "Sampling temperature (default 0 for k = 1, 1 otherwise).") var temperature: Float?
    @Option(help: "New tokens per assistant turn (default: the task's hint).") var maxNewTokens: Int?
    @Option(help: "Seed of sampling and of preset initialisation.") var seed: UInt64 = 0
    @Flag(help: "Print JSON.") var json = false
    @Option(help: "Write the trajectories as JSON Lines to this file.") var dump: String?
    @Option(help: "Store the result as test scores of this run (id or prefix) at its steps_done.")
    var record: String?
    @OptionGroup var compute: ComputeOptions
    @OptionGroup var storeOptions: StoreOptions

    func run() throws {
        try compute.apply()
        guard episodes > 0 else { throw InputError(file: "--episodes", message: "must be positive") }
        guard k > 0 else { throw InputError(file: "--k", message: "must be positive") }
        let rlTask = try TaskRegistry.make(task)
        // --record: an unknown run fails before the evaluation, not after it.
        let recordStore = try record.map { id in
            let store = try storeOptions.open()
            _ = try store.run(id)
            return store
        }
        let loaded = try loadModel(model, seed: seed, store: storeOptions)
        let report = try HeldOutEvaluation.run(
            loaded: loaded, task: rlTask, episodes: episodes, k: k,
            temperature: temperature ?? (k == 1 ? 0 : 1), maxNewTokens: maxNewTokens, seed: seed)
        if let dump { try Trajectory.writeJSONL(report.trajectories, to: dump) }
        if let record, let recordStore { try Self.record(report.summary, run: record, store: recordStore) }
        if json { return try printJSON(report.summary) }
        let s = report.summary
        print("task \(s.task) · \(s.problems) held-out problems × \(s.k) samples · temperature \(s.temperature)")
        print(String(format: "accuracy     %.4f  (95%% CI %.4f – %.4f)", s.accuracy, s.accuracy_ci[0], s.accuracy_ci[1]))
        print(String(format: "mean reward  %.4f  (95%% CI %.4f – %.4f)", s.mean_reward, s.mean_reward_ci[0], s.mean_reward_ci[1]))
        print(String(format: "pass@%d       %.4f", s.k, s.pass_at_k))
        print(String(format: "mean length  %.1f tokens", s.mean_length))
    }

    /// Stores `accuracy` and `mean_reward` with their 95% CIs as split `test` scores of the run at
    /// its `steps_done` (replacing scores at that step). A released run refuses: the store throws
    /// ``InputError`` (exit 2).
    static func record(_ s: EvaluationSummary, run ref: String, store: RunStore) throws {
        let run = try store.run(ref)
        try store.addScores(run: run.id, [
            ScoreRecord(step: run.stepsDone, split: "test", metric: "accuracy", value: s.accuracy,
                        episodes: s.episodes, ciLow: s.accuracy_ci[0], ciHigh: s.accuracy_ci[1]),
            ScoreRecord(step: run.stepsDone, split: "test", metric: "mean_reward", value: s.mean_reward,
                        episodes: s.episodes, ciLow: s.mean_reward_ci[0], ciHigh: s.mean_reward_ci[1]),
        ])
    }
}
