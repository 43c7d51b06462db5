// rlhub — model references that point into the store: `run:ID[@STEP]`, `sha256:HEX`,
// `hub:RELEASE/RUN[@STEP]` (a run of a pulled release), and the runner's `cell:CONFIGHASH` (the
// final checkpoint of the finished run with that config).
import Foundation
import LM
import RLHubCore
import Store
import Trainer

/// Turns store references into checkpoint folders (extracted once, verified, into
/// `STORE/cache/sha256/HEX`); every other reference is returned unchanged for ``ModelLoader``.
public struct ModelResolver {
    public let store: RunStore

    public init(store: RunStore) { self.store = store }

    /// A reference ``ModelLoader/load(_:seed:)`` accepts.
    public func resolve(_ ref: String) throws -> String {
        if ref.hasPrefix(CellModelReference.prefix) {
            let hash = String(ref.dropFirst(CellModelReference.prefix.count))
            let finished = try store.runs(configHash: hash).filter { $0.status == .finished }
            guard let run = finished.first(where: { CodeVersion.current.isSameCode(asRecorded: $0.codeVersion) }) ?? finished.first else {
                throw InputError(file: ref, message: "no finished run with this config hash in the store (run its warm-up cell first)")
            }
            return try checkpointFolder(run: run.id, step: nil, ref: ref)
        }
        if ref.hasPrefix("run:") {
            let body = ref.dropFirst(4)
            let parts = body.split(separator: "@", maxSplits: 1).map(String.init)
            var step: Int? = nil
            if parts.count == 2 {
                guard let s = Int(parts[1]), s >= 0 else { throw InputError(file: ref, message: "expected run:ID or run:ID@STEP") }
                step = s
            }
            let run = try store.run(parts.first ?? "")
            return try checkpointFolder(run: run.id, step: step, ref: ref)
        }
        if ref.hasPrefix("hub:") {
            return try hubCheckpoint(ref)
        }
        if ref.hasPrefix("sha256:") {
            return try extracted(sha256: String(ref.dropFirst(7)), ref: ref)
        }
        if ref.hasSuffix(".tar.zst") {
            return try extractedArchive(file: ref)
        }
        return ref
    }

    /// Loads `ref`: store references resolved, and a LoRA checkpoint's base resolved the same way.
    public func load(_ ref: String, seed: UInt64) throws -> LoadedModel {
        try ModelLoader.load(try resolve(ref), seed: seed, resolveBase: resolveBase)
    }

    /// ``resolve(_:)`` for the base a LoRA adapter names: a `sha256:HEX` base that is not in this
    /// store (a hub that published the adapter without it, or a pull of another release) is a
    /// one-line error naming the hash and how to provide it.
    public func resolveBase(_ ref: String) throws -> String {
        if ref.hasPrefix("sha256:") {
            let hex = String(ref.dropFirst("sha256:".count))
            let cached = cacheFolder(sha256: hex).map { FileManager.default.fileExists(atPath: $0) } ?? false
            if (try? BlobStore.validate(sha256: hex)) != nil, !cached, try !store.blobs.contains(sha256: hex) {
                throw InputError(
                    file: ref, message: "the LoRA adapter's base checkpoint is not in this store; pull a hub release that publishes it "
                        + "(rlhub pull SOURCE --release NAME) or add its archive (any command with --model BASE.tar.zst puts it in the store)")
            }
        }
        return try resolve(ref)
    }

    /// The trainer of a stored run: its starting model loaded, and a LoRA run's base named by
    /// ``contentReference(_:)`` in its checkpoints (a grid worker and `rlhub verify` alike, so a
    /// re-run writes the same bytes).
    public func trainer(for config: TrainConfig, sink: MetricSink) throws -> (RLTrainer, LoadedModel) {
        let loaded = try load(config.model, seed: UInt64(config.algorithm.seed))
        let trainer = try RLTrainer(config: config, loaded: loaded, sink: sink)
        if config.lora != nil { trainer.baseReference = try contentReference(config.model) }
        return (trainer, loaded)
    }

    /// `ref` as a content address when it names a checkpoint of the store (`sha256:HEX` of its
    /// archive), else unchanged: what a LoRA checkpoint records as its base, so that it resolves
    /// alike in every store holding that checkpoint (a pulled release ships the base once).
    public func contentReference(_ ref: String) throws -> String {
        let resolved = try resolve(ref)
        if let cache = store.directory.map({ $0 + "/cache/sha256/" }), resolved.hasPrefix(cache) {
            return "sha256:" + resolved.dropFirst(cache.count)
        }
        return ref
    }

    /// Checks a spec's `model:` before any cell runs (`rlhub grid`, also with `--dry-run`): files
    /// and presets as ``ModelLoader/check(_:)`` does, an archive's presence. References into the
    /// store (`cell:`, `run:`, `hub:`, `sha256:`) are left to the worker: a warm-up may create them.
    public static func check(_ ref: String) throws {
        for prefix in [CellModelReference.prefix, "run:", "hub:", "sha256:"] where ref.hasPrefix(prefix) { return }
        if ref.hasSuffix(".tar.zst") {
            guard FileManager.default.fileExists(atPath: ref) else { throw InputError(file: ref, message: "no such archive") }
            return
        }
        try ModelLoader.check(ref)
    }

    /// `hub:RELEASE/RUN[@STEP]`: a run of a release in this store (pulled, or made here), at its
    /// last checkpoint or at STEP.
    func hubCheckpoint(_ ref: String) throws -> String {
        let body = ref.dropFirst(4)
        let parts = body.split(separator: "/", maxSplits: 1).map(String.init)
        guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty else {
            throw InputError(file: ref, message: "expected hub:RELEASE/RUN or hub:RELEASE/RUN@STEP")
        }
        let runAndStep = parts[1].split(separator: "@", maxSplits: 1).map(String.init)
        var step: Int? = nil
        if runAndStep.count == 2 {
            guard let s = Int(runAndStep[1]), s >= 0 else { throw InputError(file: ref, message: "expected hub:RELEASE/RUN@STEP with a step number") }
            step = s
        }
        let release: ReleaseRecord
        do { release = try store.release(parts[0]) } catch {
            throw InputError(file: ref, message: "no release '\(parts[0])' in the store (pull it first: rlhub pull SOURCE --release \(parts[0]))")
        }
        let wanted = runAndStep[0]
        let matches = release.runs.filter { $0 == wanted || (wanted.count >= 4 && $0.hasPrefix(wanted)) }
        guard matches.count == 1 else {
            throw InputError(file: ref, message: matches.isEmpty ? "no run '\(wanted)' in release \(release.name)" : "'\(wanted)' is ambiguous in release \(release.name)")
        }
        let checkpoints = try store.checkpoints(run: matches[0])
        guard let chosen = step.map({ s in checkpoints.first { $0.step == s } }) ?? checkpoints.last else {
            let have = checkpoints.map { String($0.step) }.joined(separator: ", ")
            throw InputError(file: ref, message: step == nil ? "the run has no checkpoint" : "no checkpoint at that step (have: \(have))")
        }
        guard try store.blobs.contains(sha256: chosen.sha256) else {
            let from = release.source ?? "SOURCE"
            throw InputError(file: ref, message: "checkpoint \(chosen.sha256.prefix(16))… was not pulled; run `rlhub pull \(from) --release \(release.name) --run \(matches[0])`")
        }
        return try extracted(sha256: chosen.sha256, ref: ref)
    }

    func checkpointFolder(run: String, step: Int?, ref: String) throws -> String {
        let checkpoints = try store.checkpoints(run: run)
        guard let chosen = step.map({ s in checkpoints.first { $0.step == s } }) ?? checkpoints.last else {
            let have = checkpoints.map { String($0.step) }.joined(separator: ", ")
            throw InputError(file: ref, message: step == nil ? "the run has no checkpoint" : "no checkpoint at that step (have: \(have))")
        }
        let cached = cacheFolder(sha256: chosen.sha256).map { FileManager.default.fileExists(atPath: $0) } ?? false
        guard try cached || store.blobs.contains(sha256: chosen.sha256) else {
            // A run of a pulled release whose archive was not pulled (or not published: then
            // the release holds only its hash).
            let release = try store.releases().first { $0.runs.contains(run) }
            let how = release.map { " (pull it: rlhub pull \($0.source ?? "SOURCE") --release \($0.name) --run \(run); a release that did not publish it holds only its hash)" } ?? ""
            throw InputError(file: ref, message: "the checkpoint \(chosen.sha256.prefix(16))… of run \(run) is not in this store\(how)")
        }
        return try extracted(sha256: chosen.sha256, ref: ref)
    }

    /// `STORE/cache/sha256/HEX`, where blob `sha256` is extracted (nil for an in-memory store).
    func cacheFolder(sha256: String) -> String? { store.directory.map { $0 + "/cache/sha256/" + sha256 } }

    /// A `.tar.zst` named by path: a private copy is extracted into the cache (which checks
    /// every entry and the size bound) before it becomes a blob, so a refused archive leaves
    /// nothing in the store.
    func extractedArchive(file: String) throws -> String {
        guard store.directory != nil else { throw InputError(file: file, message: "an in-memory store has no cache folder") }
        var folder: String? = nil
        try store.blobs.put(file: file) { copy, sha256 in
            let target = cacheFolder(sha256: sha256)!
            folder = target
            if FileManager.default.fileExists(atPath: target) { return }
            try FileManager.default.createDirectory(atPath: (target as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            do {
                try CheckpointArchive.extract(
                    archive: copy, into: target, maxTotalBytes: try BlobStore.extractionLimit(archive: copy),
                    maxEntries: BlobStore.defaultMaxEntries)
            } catch let error as InputError {
                // Another process extracted the same archive first: its folder is complete.
                if FileManager.default.fileExists(atPath: target) { return }
                // The private copy's name means nothing to the user: name the file they gave.
                throw InputError(file: file, field: error.field, message: error.message)
            }
        }
        return folder!
    }

    /// The folder of blob `sha256`, extracted (after verifying its hash) on first use.
    func extracted(sha256: String, ref: String) throws -> String {
        guard let target = cacheFolder(sha256: sha256) else {
            throw InputError(file: ref, message: "an in-memory store has no cache folder")
        }
        if FileManager.default.fileExists(atPath: target) { return target }
        try FileManager.default.createDirectory(atPath: (target as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        do {
            try store.blobs.extract(sha256: sha256, into: target)
        } catch {
            // Another process extracted the same blob first: its folder is complete (renamed into place).
            if FileManager.default.fileExists(atPath: target) { return target }
            throw error
        }
        return target
    }
}
