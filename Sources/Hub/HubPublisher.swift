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
        var blobFiles: [String: HubFile] = [:]
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
                    blobFiles[url!] = HubFile(sha256: c.sha256, bytes: c.bytes)
                }
                checkpoints.append(HubCheckpoint(step: c.step, sha256: c.sha256, bytes: c.bytes, url: url))
            }
            runs.append(HubRun(summary: run, checkpoints: checkpoints))
        }
        let entry = HubRelease(
            name: name, notes: record.notes, filter: record.filter, created: record.created, rlhubVersion: record.rlhubVersion,
            schemaVersion: record.schemaVersion, store: HubStoreFile(path: storePath, sha256: storeSHA, bytes: storeBytes), runs: runs)

        // The new index: this release replaced, the others kept; files are what the releases name.
        index.releases.removeAll { $0.name == name }
        index.releases.append(entry)
        index.releases.sort { ($0.created, $0.name) < ($1.created, $1.name) }
        index.generator = RLHubVersion.string
        index.format = HubIndex.currentFormat
        var files: [String: HubFile] = [:]
        for release in index.releases {
            files[release.store.path] = release.store.file
            for run in release.runs {
                for c in run.checkpoints {
                    if let url = c.url { files[url] = HubFile(sha256: c.sha256, bytes: c.bytes) }
                }
            }
        }
        index.files = files
        try index.validate(source: dir + "/" + HubIndex.fileName)
        try AtomicFile.write(try index.encoded(), to: dir + "/" + HubIndex.fileName)
        return index
    }

    /// The index of the hub folder `dir`, or nil when it has none yet.
    public static func readIndex(_ dir: String) throws -> HubIndex? {
        let path = dir + "/" + HubIndex.fileName
        guard let data = FileManager.default.contents(atPath: path) else { return nil }
        return try HubIndex.decode(data, source: path)
    }

    /// Copies a verified archive of the store to `target` (kept when already there and intact).
    static func copyBlob(store: RunStore, sha256: String, to target: String) throws {
        if FileManager.default.fileExists(atPath: target), (try? StreamingSHA256.hash(file: target).sha256) == sha256 { return }
        let source = try store.blobs.verifiedPath(sha256: sha256)
        try FileManager.default.createDirectory(atPath: (target as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try AtomicFile.replace(target) { temp in
            do { try FileManager.default.copyItem(atPath: source, toPath: temp) } catch {
                throw InputError(file: target, message: "cannot copy the archive: \(error.localizedDescription)")
            }
            guard try StreamingSHA256.hash(file: temp).sha256 == sha256 else {
                throw InputError(file: source, message: "archive changed while it was copied")
            }
        }
    }
}
