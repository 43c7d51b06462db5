// rlhub — `PUT /api/push/RELEASE/PATH`: the server side of `rlhub push`.
//
// A push uploads the files of a release's hub folder one by one (its store subset and the
// checkpoint archives the server lacks) into `STORE/incoming/RELEASE/SESSION/`, then its
// `index.json`. SESSION comes from the `Rlhub-Push-Session` header (32 hex digits, one per
// `rlhub push`), so overlapping pushes of one release never share, or remove, each other's files;
// a session with no upload for a day is removed (`PushStaging`).
// The index triggers the import: every file the release names is verified against the index's
// SHA-256 (an archive the store already holds need not be uploaded), the staging folder is pulled
// like any hub folder (`HubPuller`: one transaction, nothing stored on any error), the release is
// published into `STORE/hub/`, and the answer is 201 with a summary.
//
// Every request is authorised first, with nothing written before: no token configured → 403
// (push disabled), a missing or wrong bearer token → 401. Paths are checked with `HubPath`, and
// each upload is bounded by `ServeConfiguration.maxUploadBytes` (413).
import Foundation
import Hub
import Hummingbird
import RLHubCore
import Store

struct PushReceiverMiddleware<Context: RequestContext>: RouterMiddleware {
    let state: HubState

    static var prefix: String { "/api/push/" }
    /// The largest index accepted.
    static var maxIndexBytes: Int { 64 << 20 }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let raw = request.uri.path
        guard raw.hasPrefix(Self.prefix) else { return try await next(request, context) }
        // 1. Authorisation, before anything else is looked at.
        guard let token = state.configuration.pushToken else {
            return Reply.error(.forbidden, "push is disabled on this server (start `rlhub serve` with --push-token-file or RLHUB_PUSH_TOKEN)")
        }
        let header = request.headers[.authorization] ?? ""
        guard header.hasPrefix("Bearer "), token.matches(header.dropFirst("Bearer ".count)) else {
            var response = Reply.error(.unauthorized, header.isEmpty ? "push needs a bearer token (--token-file or RLHUB_TOKEN)" : "wrong push token")
            response.headers[.wwwAuthenticate] = "Bearer realm=\"rlhub push\""
            return response
        }
        guard request.method == .put else {
            var response = Reply.error(.methodNotAllowed, "push uses PUT")
            response.headers[.allow] = "PUT"
            return response
        }
        // 2. The release and the path.
        let rest = String(raw.dropFirst(Self.prefix.count))
        guard let slash = rest.firstIndex(of: "/") else { return Reply.error(.badRequest, "expected /api/push/RELEASE/PATH") }
        let release = String(rest[..<slash]), path = String(rest[rest.index(after: slash)...])
        do {
            try HubPath.validateReleaseName(release, source: "push")
            guard HubFilesMiddleware<Context>.isPlainRelativePath(path), !path.isEmpty else {
                throw InputError(file: "push", field: "path", message: "'\(path.prefix(120))' is not a hub path")
            }
            let staging = try stagingDirectory(release, request: request)
            if path == HubIndex.fileName {
                return try await finish(release: release, staging: staging, request: request)
            }
            try HubPath.validate(path, source: "push", field: "path")
            if path.hasPrefix("releases/"), path != HubPath.releaseStore(release) {
                throw InputError(file: "push", field: "path", message: "release \(release) may only upload \(HubPath.releaseStore(release))")
            }
            return try await receive(path: path, into: staging, request: request)
        } catch let error as UploadTooLarge {
            return Reply.error(.contentTooLarge, error.message)
        } catch {
            return Reply.failure(error)
        }
    }

    /// Streams one file into the staging folder (under a temporary name, renamed when complete). An
    /// archive's hash is its name, so it is checked at once.
    private func receive(path: String, into staging: String, request: Request) async throws -> Response {
        let limit = state.configuration.maxUploadBytes
        if let declared = request.headers[.contentLength].flatMap({ Int64($0) }), declared > limit {
            throw UploadTooLarge(message: "\(path): \(declared) bytes exceed the server's limit of \(limit)")
        }
        let target = staging + "/" + path
        // Another push's cleanup may remove `incoming/RELEASE/` between the creation of the
        // parents and of the leaf: try again (each attempt creates whatever is missing).
        for attempt in 1...3 {
            do {
                try FileManager.default.createDirectory(atPath: (target as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
                break
            } catch where attempt < 3 { continue }
        }
        let temp = target + ".upload-\(UUID().uuidString)"
        let fd = open(temp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw InputError(file: path, message: "cannot stage the upload: \(String(cString: strerror(errno)))") }
        var total: Int64 = 0
        do {
            defer { close(fd) }
            for try await buffer in request.body {
                total += Int64(buffer.readableBytes)
                guard total <= limit else { throw UploadTooLarge(message: "\(path): more than the server's limit of \(limit) bytes") }
                try buffer.withUnsafeReadableBytes { try writeAll(fd, $0, file: path) }
            }
            fsync(fd)
        } catch {
            unlink(temp)
            throw error
        }
        let hashed = try StreamingSHA256.hash(file: temp)
        if path.hasPrefix("blobs/") {
            let expected = String((path as NSString).lastPathComponent.dropLast(".tar.zst".count))
            guard hashed.sha256 == expected else {
                unlink(temp)
                throw InputError(file: path, message: "content has sha256 \(hashed.sha256.prefix(16))…, not the one its name says; refused")
            }
        }
        guard rename(temp, target) == 0 else {
            unlink(temp)
            throw InputError(file: path, message: "cannot stage the upload: \(String(cString: strerror(errno)))")
        }
        // The session's own time is what `PushStaging` ages; uploads land in subfolders, so mark it.
        utimes(staging, nil)
        return try Reply.json(Staged(path: path, bytes: hashed.bytes, sha256: hashed.sha256), status: .created)
    }

    /// Verifies the staged files against the pushed index, imports the release, publishes it.
    private func finish(release: String, staging: String, request: Request) async throws -> Response {
        let body = try await request.body.collect(upTo: Self.maxIndexBytes)
        let pushed = try HubIndex.decode(Data(body.readableBytesView), source: "pushed index.json")
        let entry = try pushed.release(release, in: "pushed index.json")

        // Only this release, and every file it names: staged and intact, or (an archive) already here.
        var files: [String: HubFile] = [entry.store.path: HubFile(sha256: entry.store.sha256, bytes: entry.store.bytes)]
        for archive in entry.publishedArchives.values { files[archive.url] = HubFile(sha256: archive.sha256, bytes: archive.bytes) }  // checkpoints and LoRA bases
        for (path, file) in files.sorted(by: { $0.key < $1.key }) {
            let staged = staging + "/" + path
            if FileManager.default.fileExists(atPath: staged) {
                let got = try StreamingSHA256.hash(file: staged)
                guard got.sha256 == file.sha256, got.bytes == file.bytes else {
                    unlink(staged)
                    return Reply.error(.unprocessableContent, "\(path): sha256 \(got.sha256.prefix(16))… (\(got.bytes) bytes) differs from the index; refused, nothing imported (upload it again)")
                }
            } else if !(path.hasPrefix("blobs/") && ((try? state.store.blobs.verifiedPath(sha256: file.sha256)) != nil)) {
                return Reply.error(.badRequest, "\(path): not uploaded (PUT it before index.json)")
            }
        }
        var index = HubIndex(releases: [entry], files: files)
        index.format = pushed.format
        try AtomicFile.write(try index.encoded(), to: staging + "/" + HubIndex.fileName)

        let state = self.state
        let summary: PullSummary
        do {
            summary = try await state.maintenance.run {
                let source = try hubSource(staging)
                let pulled = try await HubPuller(store: state.store, source: source).pull(PullRequest(release: release))
                try state.publish(release)
                return pulled
            }
        } catch let error as InputError {
            let conflict = error.message.contains("differs") || error.message.contains("conflict")
            // The staging folder is this server's business, not the client's.
            return Reply.error(conflict ? .conflict : .badRequest, error.description.replacingOccurrences(of: staging, with: "the pushed release"))
        }
        try? FileManager.default.removeItem(atPath: staging)
        PushStaging.removeAbandoned(in: state.configuration.incomingDirectory)
        let result = summary.releases.first
        return try Reply.json(Pushed(
            release: release, runs_imported: result?.imported ?? [], runs_present: result?.alreadyPresent ?? [],
            release_was_present: result?.releaseWasPresent ?? false, blobs_added: summary.blobsAdded,
            blobs_present: summary.blobsPresent, url: "/hub/" + HubPath.releaseStore(release)),
            status: (result?.releaseWasPresent ?? false) ? .ok : .created)
    }

    /// `STORE/incoming/RELEASE/SESSION`: a push's own staging folder (`default` for a client
    /// that sends no session).
    private func stagingDirectory(_ release: String, request: Request) throws -> String {
        var session = "default"
        let header = HubPusher.sessionHeader
        if let given = request.headers.first(where: { $0.name.canonicalName == header.lowercased() })?.value {
            guard given.utf8.count == 32, given.utf8.allSatisfy({ (48...57).contains($0) || (97...102).contains($0) }) else {
                throw InputError(file: "push", field: header, message: "expected 32 lowercase hex digits")
            }
            session = given
        }
        return state.configuration.incomingDirectory + "/" + release + "/" + session
    }
}

/// Push staging folders nobody finished: a client that died between its uploads and its index
/// leaves `incoming/RELEASE/SESSION/` behind.
enum PushStaging {
    /// How long a session may stay unfinished before it counts as abandoned.
    static let abandonedAfter: TimeInterval = 24 * 3600

    /// Removes the session folders under `incoming` whose last upload is more than
    /// ``abandonedAfter`` ago (each upload stamps its session folder's time), and release folders
    /// left empty. Runs when the server starts and after every finished push.
    static func removeAbandoned(in incoming: String, now: Date = Date()) {
        let fm = FileManager.default
        for release in (try? fm.contentsOfDirectory(atPath: incoming)) ?? [] {
            let releaseDir = incoming + "/" + release
            for session in (try? fm.contentsOfDirectory(atPath: releaseDir)) ?? [] {
                let dir = releaseDir + "/" + session
                guard let changed = (try? fm.attributesOfItem(atPath: dir))?[.modificationDate] as? Date,
                      now.timeIntervalSince(changed) > abandonedAfter else { continue }
                try? fm.removeItem(atPath: dir)
            }
            rmdir(releaseDir)
        }
    }
}

/// The answer to one staged file.
struct Staged: Encodable { var path: String; var bytes: Int64; var sha256: String }

/// The answer to a pushed index: what the import did.
struct Pushed: Encodable {
    var release: String; var runs_imported: [String]; var runs_present: [String]; var release_was_present: Bool
    var blobs_added: [String]; var blobs_present: [String]; var url: String
}

/// An upload over the configured bound (413).
struct UploadTooLarge: Error {
    var message: String
}

/// Writes every byte of `buffer` to `fd`.
func writeAll(_ fd: Int32, _ buffer: UnsafeRawBufferPointer, file: String) throws {
    var offset = 0
    while offset < buffer.count {
        let n = write(fd, buffer.baseAddress! + offset, buffer.count - offset)
        if n < 0 {
            if errno == EINTR { continue }
            throw InputError(file: file, message: "cannot write: \(String(cString: strerror(errno)))")
        }
        offset += n
    }
}
