// rlhub — one stored run, executed: the body of a grid worker process (and of `rlhub verify`).
import Crypto
import Foundation
import Generator
import LM
import RLHubCore
import Store
import Trainer

/// Runs (or resumes) a run that the store already holds in state queued/failed: a grid cell.
///
/// The worker keeps the run's `step-N` checkpoints in `WORK/RUNID/checkpoints` and resumes from
/// the latest one; ``RunTraining`` (shared with `rlhub train`) does the rest. The work folder is
/// removed once the run is finished.
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

    /// Trains run `id` to the end (``RunTraining``, with its checkpoints in `WORK/RUNID`);
    /// `progress` gets (step, metrics) after every step.
    ///
    /// `parent` is the grid that claimed the run for this worker; a run that any other live
    /// process holds is refused before anything is written.
    public func run(_ id: String, threads: Int, parent: Int32? = nil, progress: (Int, [String: Double]) -> Void = { _, _ in }) throws {
        let record = try store.run(id)
        guard record.status != .finished else { return }
        let config = try Self.config(of: record)
        let work = workRoot + "/" + record.id
        let training = RunTraining(
            store: store, run: record.id, config: config, checkpoints: work + "/checkpoints", finalScratch: work + "/final")
        let store = self.store
        try training.train(
            threads: threads, parent: parent,
            loadModel: { try ModelResolver(store: store).load(config.model, seed: UInt64(config.algorithm.seed)) },
            baseReference: { try ModelResolver(store: store).contentReference(config.model) },
            resumeFrom: TrainerCheckpoint.latest(in: training.checkpoints), progress: progress)
        try? FileManager.default.removeItem(atPath: work)
    }
}
