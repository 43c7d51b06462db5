// rlhub — a content-addressed folder of checkpoint archives: each blob is named by the SHA-256 of
// its bytes, so identical checkpoints are stored once and any tampering is detected on read.
import Foundation
import RLHubCore

#if canImport(Glibc)
    import Glibc
#endif

/// Checkpoint archives stored by SHA-256 under `root/sha256/ab/<64 hex>.tar.zst`.
///
/// Writes are atomic (temporary name, fsync of the file and its folder, rename) and idempotent.
/// Every read goes through ``verifiedPath(sha256:)``, which re-hashes the blob, so a blob that was
/// truncated or altered on disk is never used. Hashes are validated before they touch a path, so a
/// hash from a database or a hub cannot name a file outside the store.
///
/// ```swift
/// let blobs = BlobStore(root: ".rlhub/blobs")
/// let (sha, bytes) = try blobs.putFolder("runs/r1/step-100")
/// try blobs.extract(sha256: sha, into: "/tmp/step-100")
/// ```
public struct BlobStore: Sendable {
    /// The store's folder, e.g. `.rlhub/blobs`.
    public let root: String

    /// Absolute bound on the bytes ``extract(sha256:into:maxTotalBytes:maxEntries:)`` writes:
    /// 20 GiB, the weights of the largest model rlhub loads (4·10⁹ Float32 parameters) and more.
    public static let defaultMaxTotalBytes: Int64 = 20 << 30
    /// How many times its own size an archive may expand to (above ``expansionAllowance``):
    /// zstd shrinks trained Float32 weights by a few percent only, so 16× is generous for a
    /// checkpoint and stops a small "zip bomb" long before it fills the cache.
    public static let maxExpansionRatio: Int64 = 16
    /// Bytes any archive may expand to whatever its size: 64 MiB (tokenizers, configs).
    public static let expansionAllowance: Int64 = 64 << 20

    /// The default bound on the bytes extracted from an archive of `archiveBytes`:
    /// ``expansionAllowance`` + ``maxExpansionRatio`` × its size, at most ``defaultMaxTotalBytes``.
    public static func extractionLimit(archiveBytes: Int64) -> Int64 {
        let (scaled, overflow) = max(0, archiveBytes).multipliedReportingOverflow(by: maxExpansionRatio)
        return overflow ? defaultMaxTotalBytes : min(defaultMaxTotalBytes, expansionAllowance + scaled)
    }

    /// ``extractionLimit(archiveBytes:)`` of the archive file at `path`.
    public static func extractionLimit(archive path: String) throws(InputError) -> Int64 {
        extractionLimit(archiveBytes: try fileSize(path))
    }
    /// Default bound on the entries ``extract(sha256:into:maxTotalBytes:maxEntries:)`` accepts.
    public static let defaultMaxEntries = 100_000

    /// A store rooted at `root`; folders are created on the first put.
    public init(root: String) {
        self.root = root
    }

    // MARK: - Addresses

    /// Refuses anything but 64 lowercase hex characters (no path injection through a hash).
    ///
    /// - Throws: ``InputError`` naming the bad value, e.g.
    ///   `"../x": not a SHA-256 digest (expected 64 lowercase hex characters)`.
    public static func validate(sha256: String) throws(InputError) {
        let isHex = sha256.utf8.allSatisfy {
            (0x30...0x39).contains($0) || (0x61...0x66).contains($0)
        }
        guard sha256.utf8.count == 64, isHex else {
            let shown = sha256.count > 80 ? String(sha256.prefix(80)) + "…" : sha256
            throw InputError(
                file: shown.debugDescription,
                message: "not a SHA-256 digest (expected 64 lowercase hex characters)")
        }
    }

    /// `sha256/ab/<hex>.tar.zst`, the blob's path relative to ``root``.
    public func relativePath(sha256: String) throws(InputError) -> String {
        try Self.validate(sha256: sha256)
        return "sha256/\(sha256.prefix(2))/\(sha256).tar.zst"
    }

    /// The blob's path (whether or not it exists); reads use ``verifiedPath(sha256:)`` instead.
    public func path(sha256: String) throws(InputError) -> String {
        root + "/" + (try relativePath(sha256: sha256))
    }

    /// Whether a blob with this hash is present (not verified).
    public func contains(sha256: String) throws(InputError) -> Bool {
        fileTypeBits(try path(sha256: sha256)) == S_IFREG
    }

    // MARK: - Reading

    /// The blob's path after re-hashing it: the only way blobs are read.
    ///
    /// - Throws: ``InputError`` when the blob is missing, or `<path>: sha256 mismatch: expected …,
    ///   got …` when it was altered or truncated.
    public func verifiedPath(sha256: String) throws(InputError) -> String {
        let path = try path(sha256: sha256)
        guard fileTypeBits(path) == S_IFREG else {
            throw InputError(file: path, message: "no such blob in \(root)")
        }
        let actual = try StreamingSHA256.hash(file: path).sha256
        guard actual == sha256 else {
            throw InputError(
                file: path, message: "sha256 mismatch: expected \(sha256), got \(actual)")
        }
        return path
    }

    /// Verifies the blob, then extracts it safely into the new folder `target`
    /// (see ``CheckpointArchive/extract(archive:into:maxTotalBytes:maxEntries:)``); without
    /// `maxTotalBytes` the bound is ``extractionLimit(archiveBytes:)`` of the blob's size.
    public func extract(
        sha256: String, into target: String, maxTotalBytes: Int64? = nil,
        maxEntries: Int = defaultMaxEntries
    ) throws(InputError) {
        let path = try verifiedPath(sha256: sha256)
        let limit: Int64
        if let maxTotalBytes { limit = maxTotalBytes } else { limit = try Self.extractionLimit(archive: path) }
        try CheckpointArchive.extract(archive: path, into: target, maxTotalBytes: limit, maxEntries: maxEntries)
    }

    // MARK: - Writing

    /// Copies `file` into the store under its SHA-256 (hashed while copying, 1 MiB at a time).
    ///
    /// Idempotent: when the blob is already present and intact the copy is dropped; a present blob
    /// that fails verification is replaced.
    ///
    /// - Returns: the blob's hash and size.
    @discardableResult
    public func put(file: String) throws(InputError) -> (sha256: String, bytes: Int64) {
        do { return try put(file: file, verifiedBy: { _, _ in }) } catch let error as InputError { throw error } catch {
            throw InputError(file: file, message: "\(error)")
        }
    }

    /// Copies `file` to a temporary name in the store (hashing it), runs `verify(copy, sha256)`
    /// on that private copy, and installs it as a blob only when `verify` returns: a file that
    /// fails its check (an archive that does not extract) never enters the store, and changing
    /// `file` meanwhile cannot change what was checked.
    ///
    /// - Returns: the blob's hash and size.
    @discardableResult
    public func put(file: String, verifiedBy verify: (_ copy: String, _ sha256: String) throws -> Void) throws -> (sha256: String, bytes: Int64) {
        let temp = try temporaryFile(tag: "put")
        let fd = open(temp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard fd >= 0 else {
            throw InputError(file: temp, message: "cannot create: \(errnoText())")
        }
        let result: (sha256: String, bytes: Int64)
        do throws(InputError) {
            result = try StreamingSHA256.copy(file: file, to: (fd, temp))
        } catch {
            close(fd)
            unlink(temp)
            throw error
        }
        do {
            try syncAndClose(fd, path: temp)
            try verify(temp, result.sha256)
            try install(temp, sha256: result.sha256)
        } catch {
            unlink(temp)
            throw error
        }
        return result
    }

    /// Moves `file` into the store under its SHA-256 (hashed on the way; renamed, not copied),
    /// e.g. a verified download in `STORE/cache`. A file on another file system is copied by
    /// ``put(file:)`` instead, then removed.
    ///
    /// - Returns: the blob's hash and size.
    @discardableResult
    public func move(file: String) throws(InputError) -> (sha256: String, bytes: Int64) {
        let result = try StreamingSHA256.hash(file: file)
        let fd = open(file, O_RDONLY | O_CLOEXEC)
        if fd >= 0 { fsync(fd); close(fd) }
        do throws(InputError) {
            try install(file, sha256: result.sha256)
        } catch {
            let copied = try put(file: file)
            unlink(file)
            return copied
        }
        return result
    }

    /// Packs `folder` with ``CheckpointArchive/pack(folder:to:)`` and stores the archive (moved
    /// in, not copied).
    ///
    /// - Returns: the archive's hash and size; the same folder content always gives the same hash.
    @discardableResult
    public func putFolder(_ folder: String) throws(InputError) -> (sha256: String, bytes: Int64) {
        let temp = try temporaryFile(tag: "pack")
        do throws(InputError) {
            try CheckpointArchive.pack(folder: folder, to: temp)
            let result = try StreamingSHA256.hash(file: temp)
            try install(temp, sha256: result.sha256)
            return result
        } catch {
            unlink(temp)
            throw error
        }
    }

    /// A fresh temporary name under `root/sha256` (same file system as the blobs).
    private func temporaryFile(tag: String) throws(InputError) -> String {
        let folder = root + "/sha256"
        try makeFolders(folder)
        return temporarySibling(of: folder + "/blob", tag: tag)
    }

    /// Renames the fsynced `temp` to the blob's path and fsyncs its folder; if an intact blob is
    /// already there, `temp` is removed instead.
    private func install(_ temp: String, sha256: String) throws(InputError) {
        let destination = try path(sha256: sha256)
        if fileTypeBits(destination) == S_IFREG,
            (try? StreamingSHA256.hash(file: destination).sha256) == sha256
        {
            unlink(temp)
            return
        }
        let folder = splitParent(destination).folder
        let created = fileTypeBits(folder) == nil
        try makeFolders(folder)
        guard rename(temp, destination) == 0 else {
            throw InputError(
                file: destination, message: "cannot rename \(temp) into place: \(errnoText())")
        }
        try syncFolder(folder)
        if created { try syncFolder(splitParent(folder).folder) }
    }
}
