// rlhub — one stored run, executed: the body of a grid worker process (and of `rlhub verify`).
import Crypto
import Foundation
import Generator
import LM
import Store
import Trainer

/// Runs (or resumes) a run that the store already holds in state queued/failed.
///
/// Resume: the worker keeps `step-N` checkpoints in `WORK/RUNID/checkpoints`; a restarted run
/// continues from the latest one after dropping the metrics and scores logged after it, so the
/// stored curve equals that of an uninterrupted run. The final checkpoint (model, tokenizer,
/// trainer state — no optimizer moments) goes into the store's blobs; the work folder is then
/// removed.
public struct CellWorker {
    public let store: RunStore
    public let workRoot: String

    public init(store: RunStore, workRoot: String) {
        self.store = store
        self.workRoot = workRoot
    }

    /// The default work folder of a store: `STORE/work`.
    public static func defaultWorkRoot(store: RunStore) -> String {
        (store.directory ?? NSTemporaryDirectory()) + "/work"
    }

    /// The stored config of a run, checked against its hash. The stored text is the canonical
    /// JSON the hash was computed from, so its own SHA-256 is checked first: a run stored before
    /// a config key was added still verifies (the new key decodes to its old behaviour), while
    /// re-encoding it would add the key and change the hash.
    public static func config(of run: RunRecord) throws -> TrainConfig {
        let config: TrainConfig
        do { config = try JSONDecoder().decode(TrainConfig.self, from: Data(run.configJSON.utf8)) } catch {
            throw InputError(file: "run", field: run.id, message: "stored config does not decode: \(error)")
        }
        if config.hash == run.configHash { return config }
        let storedTextHash = StreamingSHA256.hex(SHA256.hash(data: Data(run.configJSON.utf8)))
        guard storedTextHash == run.configHash else {
            throw InputError(file: "run", field: run.id, message: "stored config does not match its hash \(run.configHash.prefix(12))")
        }
        // Decoding drops keys this binary does not know (a run stored by newer code): that would
        // be another config under the old hash, so every stored key must survive the round trip.
        let stored = try? JSONSerialization.jsonObject(with: Data(run.configJSON.utf8))
        let known = try? JSONSerialization.jsonObject(with: config.canonicalJSON())
        if let unknown = unknownKeys(stored, known).first {
            throw InputError(file: "run", field: run.id, message: "stored config has '\(unknown)', which this rlhub does not know (stored by newer code)")
        }
        return config
    }

    /// Key paths of `stored` that `known` lacks, object by object.
    static func unknownKeys(_ stored: Any?, _ known: Any?, path: String = "") -> [String] {
        guard let s = stored as? [String: Any] else { return [] }
        let k = known as? [String: Any] ?? [:]
        return s.keys.sorted().flatMap { key -> [String] in
            let here = path.isEmpty ? key : path + "." + key
            guard let inner = k[key] else { return [here] }
            return unknownKeys(s[key], inner, path: here)
        }
    }

    /// Trains run `id` to the end; `progress` gets (step, metrics) after every step.
    ///
    /// `parent` is the grid that claimed the run for this worker; a run that any other live
    /// process holds is refused before anything is written.
    public func run(_ id: String, threads: Int, parent: Int32? = nil, progress: (Int, [String: Double]) -> Void = { _, _ in }) throws {
        let record = try store.run(id)
        guard record.status != .finished else { return }
        let config = try Self.config(of: record)
        try store.markRunning(record.id, threads: threads, parent: parent)
        let work = workRoot + "/" + record.id
        let checkpoints = work + "/checkpoints"
        do { try FileManager.default.createDirectory(atPath: checkpoints, withIntermediateDirectories: true) } catch {
            try? store.markFailed(record.id, error: oneLineReason(error))
            throw error
        }
        do {
            let resumeFrom = TrainerCheckpoint.latest(in: checkpoints)
            try store.truncateMetrics(run: record.id, after: resumeFrom?.step ?? -1)
            let sink = StoreMetricSink(store: store, run: record.id)
            let (trainer, _) = try ModelResolver(store: store).trainer(for: config, sink: sink)
            if let resumeFrom { try trainer.resume(from: resumeFrom.path) }
            let store = self.store
            var scoreError: Error? = nil
            trainer.onEvaluation = { step, s in
                do {
                    try store.addScores(run: record.id, [
                        ScoreRecord(step: step, split: "test", metric: "accuracy", value: s.accuracy, episodes: s.episodes,
                                    ciLow: s.accuracy_ci.first, ciHigh: s.accuracy_ci.last),
                        ScoreRecord(step: step, split: "test", metric: "mean_reward", value: s.mean_reward, episodes: s.episodes,
                                    ciLow: s.mean_reward_ci.first, ciHigh: s.mean_reward_ci.last),
                    ])
                } catch { scoreError = error }
            }
            try trainer.train(checkpointRoot: checkpoints) { step, metrics in
                try? store.setStepsDone(record.id, step)
                progress(step, metrics)
            }
            if let scoreError { throw scoreError }
            let final = work + "/final"
            try? FileManager.default.removeItem(atPath: final)
            try Self.writeFinal(trainer, to: final)
            try store.addCheckpoint(run: record.id, step: trainer.step, folder: final)
            try store.setStepsDone(record.id, trainer.step)
            try store.markFinished(record.id)
            try? FileManager.default.removeItem(atPath: work)
        } catch {
            try? store.markFailed(record.id, error: oneLineReason(error))
            throw error
        }
    }

    /// The stored final checkpoint: the trainer's checkpoint without the optimizer moments
    /// (a third of the size; enough to evaluate, compare and start new runs from).
    static func writeFinal(_ trainer: RLTrainer, to folder: String) throws {
        try trainer.saveFinal(to: folder)
    }
}
