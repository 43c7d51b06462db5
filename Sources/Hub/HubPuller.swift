// rlhub — `rlhub pull`: releases, curves, scores and checkpoints from a hub into the local store.
//
// Everything is downloaded into `STORE/cache/hub/` first, named by its SHA-256, and verified
// before any of it enters the store: a changed byte anywhere means nothing is imported. A download
// that stops (network, Ctrl-C, kill) leaves `HEX.partial`; the next pull, from any process,
// resumes it with an HTTP `Range` request. A lock file per download keeps two processes pulling
// into one store from writing the same partial file.
import Foundation
import RLHubCore
import Store

/// What to pull from a hub.
public struct PullRequest: Sendable {
    /// Only this release (default: every release of the hub).
    public var release: String?
    /// Only this run's checkpoints (id or unique prefix), with its release's metadata.
    public var run: String?
    /// Only the checkpoint archive with this SHA-256, with its release's metadata.
    public var checkpoint: String?
    /// Releases, runs, curves and scores, but no checkpoint archive.
    public var metadataOnly = false

    public init(release: String? = nil, run: String? = nil, checkpoint: String? = nil, metadataOnly: Bool = false) {
        self.release = release
        self.run = run
        self.checkpoint = checkpoint
        self.metadataOnly = metadataOnly
    }
}

/// What a pull did.
public struct PullSummary: Sendable, Equatable {
    /// Per release: what the import did.
    public var releases: [ReleaseImport] = []
    /// Checkpoint archives added to the blob store (SHA-256), and those it already had.
    public var blobsAdded: [String] = []
    public var blobsPresent: [String] = []
    /// Bytes transferred (a resumed file counts only what this pull fetched).
    public var bytesDownloaded: Int64 = 0
}

/// Pulls releases from a ``HubSource`` into a ``RunStore``.
///
/// ```swift
/// let source = try hubSource("https://example.org/rlhub-baselines")
/// let summary = try await HubPuller(store: store, source: source).pull(PullRequest(release: "baselines-v1"))
/// ```
public struct HubPuller: Sendable {
    public let store: RunStore
    public let source: any HubSource
    /// Attempts per file before a transient failure is reported (with exponential backoff between).
    public var attempts = 6
    /// The first backoff delay, doubled after each failed attempt.
    public var firstBackoff: Duration = .milliseconds(250)
    /// Called with one line per event (file started, done, retried), for the CLI's progress.
    public var log: @Sendable (String) -> Void = { _ in }
    /// Called while a file downloads: (path, bytes so far, bytes in all).
    public var progress: @Sendable (String, Int64, Int64) -> Void = { _, _, _ in }

    public init(store: RunStore, source: any HubSource) {
        self.store = store
        self.source = source
    }

    /// Pulls what `request` names: fetch the index, download and verify the releases' store subsets
    /// and the chosen archives, then put the archives and import the releases.
    ///
    /// - Throws: ``InputError`` for an unknown release, run or checkpoint, a bad index, a file whose
    ///   hash differs from the index (nothing is imported), or a transfer that still fails after
    ///   ``attempts`` tries.
    @discardableResult
    public func pull(_ request: PullRequest) async throws -> PullSummary {
        guard let cacheRoot = store.directory.map({ $0 + "/cache/hub" }) else {
            throw InputError(file: "store", message: "pull needs a store folder (not an in-memory store)")
        }
        try FileManager.default.createDirectory(atPath: cacheRoot, withIntermediateDirectories: true)
        let indexData = try await withRetries("index.json") { try await source.index() }
        let index = try HubIndex.decode(indexData, source: source.description + "/" + HubIndex.fileName)
        let (releases, blobs) = try select(request, in: index)

        // 1. Download and verify everything first.
        var summary = PullSummary()
        var subsets: [(HubRelease, String)] = []
        for release in releases {
            let (path, fetched) = try await fetch(release.store.path, release.store.file, into: cacheRoot, suffix: ".sqlite")
            summary.bytesDownloaded += fetched
            subsets.append((release, path))
        }
        var verifiedBlobs: [(String, String)] = []
        for checkpoint in blobs {
            if try store.blobs.contains(sha256: checkpoint.sha256),
               (try? store.blobs.verifiedPath(sha256: checkpoint.sha256)) != nil {
                summary.blobsPresent.append(checkpoint.sha256)
                continue
            }
            let (path, fetched) = try await fetch(checkpoint.url!, HubFile(sha256: checkpoint.sha256, bytes: checkpoint.bytes),
                                                  into: cacheRoot, suffix: ".tar.zst")
            summary.bytesDownloaded += fetched
            verifiedBlobs.append((checkpoint.sha256, path))
        }
        // 2. Every release checked against the store (the import rolled back), so that a
        // subset that does not import leaves no archive behind.
        for (_, path) in subsets {
            try store.importRelease(from: path, source: source.description, dryRun: true)
        }
        // 3. Archives into the blob store (hashed again, moved in), then the rows. Each move
        // holds the file's download lock: another pull into this store may have moved the same
        // archive in since it was verified here, which leaves nothing to move.
        for (sha, path) in verifiedBlobs {
            let added = try Self.withLock(cacheRoot, sha) { () throws -> Bool in
                if try store.blobs.contains(sha256: sha), (try? store.blobs.verifiedPath(sha256: sha)) != nil {
                    unlink(path)
                    return false
                }
                let put = try store.blobs.move(file: path)
                guard put.sha256 == sha else { throw InputError(file: path, message: "changed after it was verified; nothing imported") }
                return true
            }
            if added { summary.blobsAdded.append(sha) } else { summary.blobsPresent.append(sha) }
        }
        for (release, path) in subsets {
            let result = try store.importRelease(from: path, source: source.description)
            summary.releases.append(result)
            log(result.releaseWasPresent
                ? "release \(release.name): already in the store"
                : "release \(release.name): \(result.imported.count) runs imported, \(result.alreadyPresent.count) already here")
        }
        return summary
    }

    /// The releases to import and the archives to fetch for `request`: the archives it names and,
    /// for LoRA adapters, the base archives the release publishes for them (recursively, once).
    func select(_ request: PullRequest, in index: HubIndex) throws -> ([HubRelease], [HubCheckpoint]) {
        let where_ = source.description
        var releases = index.releases
        if let name = request.release { releases = [try index.release(name, in: where_)] }
        guard !releases.isEmpty else { throw InputError(file: where_, message: "the hub has no release") }
        func published(_ runs: [HubRun]) -> [HubCheckpoint] { runs.flatMap { $0.checkpoints.filter { $0.url != nil } } }
        /// `archives` of `release` with their bases, as rows to fetch.
        func withBases(_ archives: [HubCheckpoint], of release: HubRelease) -> [HubCheckpoint] {
            release.withBases(archives.map { HubBaseArchive(sha256: $0.sha256, bytes: $0.bytes, url: $0.url!, base: $0.base) })
                .map { HubCheckpoint(step: 0, sha256: $0.sha256, bytes: $0.bytes, url: $0.url, base: $0.base) }
        }
        if let sha = request.checkpoint {
            try BlobStore.validate(sha256: sha)
            for release in releases {
                for run in release.runs {
                    if let c = run.checkpoints.first(where: { $0.sha256 == sha }) {
                        guard c.url != nil else {
                            throw InputError(file: where_, field: "checkpoint", message: "\(sha.prefix(16))… of run \(run.id) was not published in \(release.name) (only its metadata was)")
                        }
                        return ([release], withBases([c], of: release))
                    }
                }
            }
            throw InputError(file: where_, field: "checkpoint", message: "no checkpoint \(sha.prefix(16))… in \(request.release ?? "any release")")
        }
        if let id = request.run {
            let matches = releases.flatMap { r in r.runs.filter { $0.id == id || (id.count >= 4 && $0.id.hasPrefix(id)) }.map { (r, $0) } }
            guard let (release, run) = matches.first else {
                throw InputError(file: where_, field: "run", message: "no run '\(id)' in \(request.release ?? "any release")")
            }
            guard Set(matches.map(\.1.id)).count == 1 else {
                throw InputError(file: where_, field: "run", message: "'\(id)' is ambiguous; give more characters")
            }
            let archives = published([run])
            guard !archives.isEmpty || request.metadataOnly else {
                throw InputError(file: where_, field: "run", message: "run \(run.id)'s checkpoints were not published in \(release.name) (pull with --metadata-only for its curves and scores)")
            }
            return ([release], request.metadataOnly ? [] : withBases(archives, of: release))
        }
        if request.metadataOnly { return (releases, []) }
        var seen = Set<String>()
        return (releases, releases.flatMap { withBases(published($0.runs), of: $0) }.filter { seen.insert($0.sha256).inserted })
    }

    /// Downloads `path` into `cacheRoot/HEX.partial` (resuming one left by an earlier attempt or
    /// process), verifies it, and renames it to `HEX<suffix>`. Returns that path and the bytes
    /// transferred now.
    func fetch(_ path: String, _ file: HubFile, into cacheRoot: String, suffix: String) async throws -> (String, Int64) {
        let done = cacheRoot + "/" + file.sha256 + suffix
        func cached() -> Bool {
            FileManager.default.fileExists(atPath: done) && (try? StreamingSHA256.hash(file: done))?.sha256 == file.sha256
        }
        if cached() { return (done, 0) }
        // Another process may be fetching the same file into this store: wait for it.
        let lockFD = try Self.lock(cacheRoot, file.sha256)
        defer { Self.unlock(lockFD) }
        if cached() { return (done, 0) }
        let partial = cacheRoot + "/" + file.sha256 + ".partial"
        let fd = open(partial, O_WRONLY | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw InputError(file: partial, message: "cannot open: \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        var have = Int64(lseek(fd, 0, SEEK_END))
        if have > file.bytes { ftruncate(fd, 0); lseek(fd, 0, SEEK_SET); have = 0 }
        let start = have
        if have > 0 { log("\(path): resuming at \(have) of \(file.bytes) bytes") }
        // Each attempt resumes where the file ends (a failed one may have written part of it).
        have = try await withRetries(path) {
            let from = Int64(lseek(fd, 0, SEEK_END))
            let got = try await source.download(path, expected: file, to: fd, partialBytes: from) { [progress] in
                progress(path, $0, file.bytes)
            }
            guard got == file.bytes else {
                throw HubTransientError(description: "\(path): transfer ended after \(got) of \(file.bytes) bytes")
            }
            return got
        }
        fsync(fd)
        let got = try StreamingSHA256.hash(file: partial)
        guard got.sha256 == file.sha256, got.bytes == file.bytes else {
            unlink(partial)
            throw InputError(file: source.description + "/" + path, message: "sha256 \(got.sha256.prefix(16))… (\(got.bytes) bytes) differs from the index (\(file.sha256.prefix(16))…, \(file.bytes) bytes); refused, nothing imported")
        }
        guard rename(partial, done) == 0 else { throw InputError(file: done, message: "cannot move the download into place: \(String(cString: strerror(errno)))") }
        return (done, have - start)
    }

    /// Holds the exclusive lock of download `sha256` in `cacheRoot` (a `flock` on `HEX.lock`):
    /// one process at a time writes, renames or moves that file.
    static func lock(_ cacheRoot: String, _ sha256: String) throws(InputError) -> Int32 {
        let path = cacheRoot + "/" + sha256 + ".lock"
        let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw InputError(file: path, message: "cannot create the lock file: \(String(cString: strerror(errno)))") }
        while flock(fd, LOCK_EX) != 0 {
            guard errno == EINTR else {
                let reason = String(cString: strerror(errno))
                close(fd)
                throw InputError(file: path, message: "cannot lock: \(reason)")
            }
        }
        return fd
    }

    static func unlock(_ fd: Int32) {
        flock(fd, LOCK_UN)
        close(fd)
    }

    static func withLock<T>(_ cacheRoot: String, _ sha256: String, _ body: () throws -> T) throws -> T {
        let fd = try lock(cacheRoot, sha256)
        defer { unlock(fd) }
        return try body()
    }

    /// Runs `body`, retrying transient failures with exponential backoff, ``attempts`` times.
    func withRetries<T>(_ what: String, _ body: () async throws -> T) async throws -> T {
        var attempt = 0
        while true {
            do { return try await body() } catch let error as HubTransientError {
                attempt += 1
                guard attempt < attempts else {
                    throw InputError(file: source.description, message: "\(what): \(error) (after \(attempts) attempts; run the pull again to resume)")
                }
                let delay = firstBackoff * (1 << min(attempt - 1, 6))
                log("\(what): \(error); retrying in \(delay) (attempt \(attempt + 1) of \(attempts))")
                try await Task.sleep(for: delay)
            }
        }
    }
}
