// rlhub — one stored run trained to its end: the orchestration that grid workers (`CellWorker`)
// and `rlhub train` share.
import Foundation
import Generator
import LM
import RLHubCore
import Store
import Trainer

/// Trains a run the store holds and records it there as it goes: its status (running in this
/// process, then finished — or failed with a one-line reason), its steps done, every metric and
/// rollout sample (``StoreMetricSink``, one transaction per step), the held-out scores of each
/// evaluation, and the final checkpoint (model, tokenizer and trainer state, no optimizer moments)
/// as an archive.
///
/// Resume: the trainer writes `step-N` checkpoints into ``checkpoints``; a run restarted from one
/// first drops the metrics, scores and samples the store holds past it, so the stored curve equals
/// that of an uninterrupted run.
public struct RunTraining {
    public let store: RunStore
    /// The run's id in the store (state queued, failed or running in a process gone, or claimed by
    /// this process's parent grid).
    public let run: String
    public let config: TrainConfig
    /// Folder of the run's `step-N` trainer checkpoints.
    public let checkpoints: String
    /// Where the final checkpoint is written before it is archived into the store (then removed).
    public let finalScratch: String
    /// Makes a second sink that gets every metric and sample the store does (`rlhub train`'s
    /// metrics.jsonl), flushed after the store; called once this process holds the run, so a run
    /// held elsewhere is refused before the sink truncates anything.
    public var makeMirror: (() throws -> MetricSink)?

    public init(
        store: RunStore, run: String, config: TrainConfig, checkpoints: String, finalScratch: String,
        makeMirror: (() throws -> MetricSink)? = nil
    ) {
        self.store = store
        self.run = run
        self.config = config
        self.checkpoints = checkpoints
        self.finalScratch = finalScratch
        self.makeMirror = makeMirror
    }

    /// Marks the run running in this process, trains it from `resumeFrom` (or step 0) to its last
    /// step, stores the final checkpoint, runs `beforeFinishing` (nothing is marked finished that
    /// has not been written) and marks the run finished. Any error marks it failed and is rethrown.
    ///
    /// - Parameters:
    ///   - parent: the grid process that claimed the run for this worker (see
    ///     ``RunStore/markRunning(_:threads:parent:)``); a run any other live process holds is
    ///     refused before anything is written.
    ///   - loadModel: loads the starting model (called once the run is marked running, so a model
    ///     that fails to load fails the run).
    ///   - baseReference: how a LoRA run's checkpoints name their base (its starting model), e.g. a
    ///     store checkpoint by content hash (``ModelResolver/contentReference(_:)``); nil: the
    ///     run's model reference as written.
    ///   - resumeFrom: the `step-N` checkpoint to continue from.
    ///   - progress: (step, metrics) after every step.
    /// - Returns: the trainer, at the run's last step.
    @discardableResult
    public func train(
        threads: Int, parent: Int32? = nil, loadModel: () throws -> LoadedModel,
        baseReference: (() throws -> String)? = nil, resumeFrom: (step: Int, path: String)?,
        progress: (Int, [String: Double]) -> Void = { _, _ in }, beforeFinishing: (RLTrainer) throws -> Void = { _ in }
    ) throws -> RLTrainer {
        try store.markRunning(run, threads: threads, parent: parent)
        do {
            try FileManager.default.createDirectory(atPath: checkpoints, withIntermediateDirectories: true)
            let loaded = try loadModel()
            try store.truncateMetrics(run: run, after: resumeFrom?.step ?? -1)
            let storeSink = StoreMetricSink(store: store, run: run)
            let sink: MetricSink = try makeMirror.map { MetricSinkPair(first: storeSink, second: try $0()) } ?? storeSink
            let trainer = try RLTrainer(config: config, loaded: loaded, sink: sink)
            if config.lora != nil, let baseReference { trainer.baseReference = try baseReference() }
            if let resumeFrom { try trainer.resume(from: resumeFrom.path) }
            let (store, run) = (self.store, self.run)
            var scoreError: Error? = nil
            trainer.onEvaluation = { step, summary in
                do { try store.addScores(run: run, Self.scores(summary, step: step)) } catch { scoreError = error }
            }
            try trainer.train(checkpointRoot: checkpoints) { step, metrics in
                try? store.setStepsDone(run, step)
                progress(step, metrics)
            }
            if let scoreError { throw scoreError }
            try? FileManager.default.removeItem(atPath: finalScratch)
            try Self.writeFinal(trainer, to: finalScratch)
            try store.addCheckpoint(run: run, step: trainer.step, folder: finalScratch)
            try? FileManager.default.removeItem(atPath: finalScratch)
            try store.setStepsDone(run, trainer.step)
            try beforeFinishing(trainer)
            try store.markFinished(run)
            return trainer
        } catch {
            try? store.markFailed(run, error: oneLineReason(error))
            throw error
        }
    }

    /// A held-out evaluation as the store's test scores: accuracy and mean reward with their 95% CIs.
    static func scores(_ s: EvaluationSummary, step: Int) -> [ScoreRecord] {
        [
            ScoreRecord(step: step, split: "test", metric: "accuracy", value: s.accuracy, episodes: s.episodes,
                        ciLow: s.accuracy_ci.first, ciHigh: s.accuracy_ci.last),
            ScoreRecord(step: step, split: "test", metric: "mean_reward", value: s.mean_reward, episodes: s.episodes,
                        ciLow: s.mean_reward_ci.first, ciHigh: s.mean_reward_ci.last),
        ]
    }

    /// The stored final checkpoint: the trainer's checkpoint without the optimizer moments
    /// (a third of the size; enough to evaluate, compare and start new runs from; a LoRA run's is
    /// its adapter).
    static func writeFinal(_ trainer: RLTrainer, to folder: String) throws {
        try trainer.saveFinal(to: folder)
    }
}

/// Sends every metric and sample to two sinks; flushes them in order.
final class MetricSinkPair: MetricSink {
    let first: MetricSink
    let second: MetricSink

    init(first: MetricSink, second: MetricSink) {
        self.first = first
        self.second = second
    }

    func log(step: Int, metrics: [String: Double]) {
        first.log(step: step, metrics: metrics)
        second.log(step: step, metrics: metrics)
    }

    func logSamples(step: Int, samples: [RolloutSample]) {
        first.logSamples(step: step, samples: samples)
        second.logSamples(step: step, samples: samples)
    }

    func flush() throws {
        try first.flush()
        try second.flush()
    }
}
