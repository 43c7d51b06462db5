// rlhub — `rlhub publish`: a release of the store written as a static hub folder.
import Foundation
import RLHubCore
import Store

/// Writes releases into a hub folder (see ``HubIndex`` for the layout).
///
/// Publishing is atomic for readers: the release's store subset and its archives are written under
/// temporary names and renamed into place, and `index.json`, which is what makes them visible, is
/// replaced last, the same way. A reader sees the old hub or the new one. Other releases already
/// in the folder stay listed. Publishing is deterministic: the same release gives the same bytes.
///
/// ```swift
/// let index = try HubPublisher.publish(store: store, release: "baselines-v1", to: "baselines")
/// ```
public enum HubPublisher {
    /// Publishes `release` into the hub folder `dir` (created when missing).
    ///
    /// - Parameter checkpointRuns: the runs whose checkpoint archives are published; nil publishes
    ///   all of them. Runs left out keep their checkpoint rows (hash and size) in the index, without
    ///   a URL; so do the archives of a pulled release that its hub did not publish, so a pulled
    ///   release can be served or published again.
    /// - Returns: the hub's new index.
    /// - Throws: ``InputError`` for an unknown release, a missing or corrupted archive of a release
    ///   made in this store, or a hub folder whose index this rlhub cannot read.
    @discardableResult
    public static func publish(store: RunStore, release name: String, to dir: String, checkpointRuns: Set<String>? = nil) throws -> HubIndex {
        try publication(store: store, release: name, to: dir, checkpointRuns: checkpointRuns).index
    }

    /// What ``publication(store:release:to:checkpointRuns:)`` did.
    public struct Publication: Sendable {
        /// The hub's new index.
        public var index: HubIndex
        /// Base archives published because a published LoRA adapter names them (SHA-256, each once).
        public var basesAdded: [String]
        /// Published adapters whose base is not an archive of this store: (adapter archive, base
        /// reference as the adapter records it). Users of the hub must provide those bases.
        public var basesMissing: [(adapter: String, reference: String)]
    }

    /// ``publish(store:release:to:checkpointRuns:)``, with what it did about LoRA bases.
    ///
    /// Every published archive that is a LoRA adapter (an `rlhub_base.json` naming its base as
    /// `sha256:HEX`) brings its base archive along when the store has it, recursively (a base may
    /// itself be an adapter), each archive once however many adapters share it.
    public static func publication(store: RunStore, release name: String, to dir: String, checkpointRuns: Set<String>? = nil) throws -> Publication {
        let record = try store.release(name)
        let fm = FileManager.default
        try fm.createDirectory(atPath: dir + "/releases/\(name)", withIntermediateDirectories: true)
        var index = try readIndex(dir) ?? HubIndex()

        // The store subset.
        let storePath = HubPath.releaseStore(name)
        try store.exportRelease(name, to: dir + "/" + storePath)
        let (storeSHA, storeBytes) = try StreamingSHA256.hash(file: dir + "/" + storePath)

        // Runs and their archives.
        var runs: [HubRun] = []
        var published: [String] = []  // archives, in publishing order
        for run in try store.runSummaries(release: name) {
            let id = run.id
            var checkpoints: [HubCheckpoint] = []
            for c in try store.checkpoints(run: id) {
                var url: String? = nil
                // A pulled release's archive that its hub did not publish stays listed by its hash
                // alone, as in that hub; a release made here must have all of its archives.
                let unpublishedUpstream = try record.source != nil && !store.blobs.contains(sha256: c.sha256)
                if !unpublishedUpstream, checkpointRuns?.contains(id) ?? true {
                    url = HubPath.blob(c.sha256)
                    try copyBlob(store: store, sha256: c.sha256, to: dir + "/" + url!)
                    published.append(c.sha256)
                }
                checkpoints.append(HubCheckpoint(step: c.step, sha256: c.sha256, bytes: c.bytes, url: url))
            }
            runs.append(HubRun(summary: run, checkpoints: checkpoints))
        }

        // LoRA bases: every published adapter's base archive, recursively, each once.
        var baseOf: [String: String] = [:]
        var basesAdded: [String] = [], baseBytes: [String: Int64] = [:], basesMissing: [(adapter: String, reference: String)] = []
        var isPublished = Set(published), examined = Set<String>(), queue = published
        while !queue.isEmpty {
            let sha = queue.removeFirst()
            guard examined.insert(sha).inserted, let reference = try adapterBaseReference(store: store, sha256: sha) else { continue }
            let hex = reference.hasPrefix("sha256:") ? String(reference.dropFirst("sha256:".count)) : nil
            guard let hex, (try? BlobStore.validate(sha256: hex)) != nil, try store.blobs.contains(sha256: hex) else {
                basesMissing.append((sha, reference))
                continue
            }
            baseOf[sha] = hex
            if isPublished.insert(hex).inserted {
                baseBytes[hex] = try copyBlob(store: store, sha256: hex, to: dir + "/" + HubPath.blob(hex))
                basesAdded.append(hex)
                queue.append(hex)
            }
        }
        for r in runs.indices {
            for c in runs[r].checkpoints.indices {
                let sha = runs[r].checkpoints[c].sha256
                // A base that is also a checkpoint of the release is published under its row too.
                if isPublished.contains(sha) { runs[r].checkpoints[c].url = HubPath.blob(sha) }
                runs[r].checkpoints[c].base = baseOf[sha]
            }
        }
        let bases = basesAdded.map { HubBaseArchive(sha256: $0, bytes: baseBytes[$0]!, url: HubPath.blob($0), base: baseOf[$0]) }
        let entry = HubRelease(
            name: name, notes: record.notes, filter: record.filter, created: record.created, rlhubVersion: record.rlhubVersion,
            schemaVersion: record.schemaVersion, store: HubStoreFile(path: storePath, sha256: storeSHA, bytes: storeBytes), runs: runs,
            bases: bases.isEmpty ? nil : bases)

        // The new index: this release replaced, the others kept; files are what the releases name.
        index.releases.removeAll { $0.name == name }
        index.releases.append(entry)
        index.releases.sort { ($0.created, $0.name) < ($1.created, $1.name) }
        index.generator = RLHubVersion.string
        index.format = HubIndex.currentFormat
        var files: [String: HubFile] = [:]
        for release in index.releases {
            files[release.store.path] = release.store.file
            for archive in release.publishedArchives.values {
                files[archive.url] = HubFile(sha256: archive.sha256, bytes: archive.bytes)
            }
        }
        index.files = files
        try index.validate(source: dir + "/" + HubIndex.fileName)
        try AtomicFile.write(try index.encoded(), to: dir + "/" + HubIndex.fileName)
        return Publication(index: index, basesAdded: basesAdded, basesMissing: basesMissing)
    }

    /// The base reference an archive of the store records when it is a LoRA adapter
    /// (``AdapterFolder/base(of:)``); nil otherwise. Only an adapter's archive is extracted (into a
    /// temporary folder); others are only listed.
    static func adapterBaseReference(store: RunStore, sha256: String) throws -> String? {
        let archive = try store.blobs.path(sha256: sha256)  // verified when copied; extract verifies again
        let names = Set(try CheckpointArchive.listEntries(archive: archive).map { $0.path.hasPrefix("./") ? String($0.path.dropFirst(2)) : $0.path })
        guard names.contains(AdapterFolder.configFile) else { return nil }
        let temp = NSTemporaryDirectory() + "/rlhub-publish-\(getpid())-\(sha256.prefix(16))"
        try? FileManager.default.removeItem(atPath: temp)
        defer { try? FileManager.default.removeItem(atPath: temp) }
        try store.blobs.extract(sha256: sha256, into: temp)
        do {
            return try AdapterFolder.base(of: temp).reference
        } catch {
            // Name the archive, not the temporary folder it was read from.
            throw InputError(file: "sha256:\(sha256)/" + (error.file as NSString).lastPathComponent, field: error.field, message: error.message)
        }
    }

    /// The index of the hub folder `dir`, or nil when it has none yet.
    public static func readIndex(_ dir: String) throws -> HubIndex? {
        let path = dir + "/" + HubIndex.fileName
        guard let data = FileManager.default.contents(atPath: path) else { return nil }
        return try HubIndex.decode(data, source: path)
    }

    /// Copies a verified archive of the store to `target` (kept when already there and intact).
    /// Copies the store's archive `sha256` to `target` (kept when already there); returns its bytes.
    @discardableResult
    static func copyBlob(store: RunStore, sha256: String, to target: String) throws -> Int64 {
        if FileManager.default.fileExists(atPath: target), let there = try? StreamingSHA256.hash(file: target), there.sha256 == sha256 {
            return there.bytes
        }
        let source = try store.blobs.verifiedPath(sha256: sha256)
        var bytes: Int64 = 0
        try FileManager.default.createDirectory(atPath: (target as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try AtomicFile.replace(target) { temp in
            do { try FileManager.default.copyItem(atPath: source, toPath: temp) } catch {
                throw InputError(file: target, message: "cannot copy the archive: \(error.localizedDescription)")
            }
            let copied = try StreamingSHA256.hash(file: temp)
            guard copied.sha256 == sha256 else {
                throw InputError(file: source, message: "archive changed while it was copied")
            }
            bytes = copied.bytes
        }
        return bytes
    }
}
