// rlhub — `rlhub push RELEASE --to URL`: a release of the local store uploaded to an `rlhub serve`.
//
// The release is published into a temporary hub folder first (the same bytes `rlhub publish`
// writes), then each of its files is PUT to `URL/api/push/RELEASE/<path>` — archives the server
// already serves (`HEAD URL/hub/<path>` answers 200) are skipped — and the index last, which makes
// the server verify everything, import the release and publish it. Every request carries
// `Authorization: Bearer TOKEN`.
import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import RLHubCore
import Store

/// A push the server refused or could not complete (HTTP status and its one-line reason).
public struct PushRefused: Error, CustomStringConvertible {
    public var status: Int
    public var message: String
    public var description: String { "push refused (HTTP \(status)): \(message)" }
}

/// What a push did.
public struct PushSummary: Sendable, Equatable {
    /// Files uploaded (relative hub paths) and their bytes in all.
    public var uploaded: [String] = []
    public var bytesUploaded: Int64 = 0
    /// Archives the server already had.
    public var skipped: [String] = []
    /// The server's answer to the index: its JSON summary.
    public var serverSummary: String = ""
    /// 201 when the release was imported, 200 when the server already had it.
    public var status: Int = 0
}

/// The form of a push token, shared by `rlhub push` and `rlhub serve`: printable ASCII without
/// spaces, so it goes into an HTTP header as it is. Errors never quote the token.
public enum PushTokenText {
    /// The longest token file read: 4 KiB.
    public static let maxFileBytes = 4096

    /// The token held by `file` (surrounding whitespace and a final newline ignored).
    /// - Throws: ``InputError`` naming `file`: unreadable (with the OS error), too large, or not a token.
    public static func read(file: String) throws(InputError) -> String {
        let data = try BoundedFile.read(file, limit: maxFileBytes)
        let token = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        try check(token, source: file)
        return token
    }

    /// - Throws: ``InputError`` naming `source` (never the token) when `token` holds a character
    ///   outside printable ASCII or a space, e.g. a second line.
    public static func check(_ token: String, source: String) throws(InputError) {
        if let bad = token.unicodeScalars.firstIndex(where: { !($0.value > 0x20 && $0.value < 0x7f) }) {
            let position = token.unicodeScalars.distance(from: token.unicodeScalars.startIndex, to: bad)
            throw InputError(
                file: source,
                message: "a push token is printable ASCII without spaces or line breaks (character \(position + 1) is not); the token is not shown")
        }
    }
}

/// Uploads releases to an `rlhub serve`.
///
/// ```swift
/// let summary = try await HubPusher(store: store, server: "http://127.0.0.1:8080", token: token)
///     .push(release: "baselines-v1")
/// ```
public struct HubPusher: Sendable {
    public let store: RunStore
    /// The server's base URL, without a trailing slash.
    public let server: String
    public let token: String
    /// Called with one line per file.
    public var log: @Sendable (String) -> Void = { _ in }
    /// Seconds a request may take.
    public var timeout: TimeAmount = .seconds(3600)

    /// - Throws: ``InputError`` naming `--to` when `server` is not an http(s) URL with a host, or
    ///   naming `tokenSource` when `token` is not a token's form (``PushTokenText``).
    public init(store: RunStore, server: String, token: String, tokenSource: String = "token") throws {
        try PushTokenText.check(token, source: tokenSource)
        var base = server
        while base.hasSuffix("/") { base.removeLast() }
        guard base.hasPrefix("http://") || base.hasPrefix("https://"), URL(string: base)?.host != nil else {
            throw InputError(file: "--to", message: "'\(server)' is not the http(s):// URL of an `rlhub serve`")
        }
        self.store = store
        self.server = base
        self.token = token
    }

    /// Publishes `release` into a temporary folder and uploads it.
    ///
    /// - Throws: ``InputError`` for an unknown release; ``PushRefused`` when the server refuses a
    ///   request (no push token configured: 403; missing or wrong token: 401; a file that does not
    ///   verify: 422) or cannot be reached.
    @discardableResult
    public func push(release: String) async throws -> PushSummary {
        _ = try store.release(release)
        let session = UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased()
        let temp = NSTemporaryDirectory() + "rlhub-push-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        defer { try? FileManager.default.removeItem(atPath: temp) }
        let index = try HubPublisher.publish(store: store, release: release, to: temp)
        let entry = try index.release(release, in: temp)
        var files = [entry.store.path]
        // The checkpoints, in the index's order, then the LoRA bases they bring.
        var seen = Set<String>()
        for run in entry.runs { for c in run.checkpoints { if let url = c.url, seen.insert(url).inserted { files.append(url) } } }
        for base in entry.bases ?? [] where seen.insert(base.url).inserted { files.append(base.url) }

        var summary = PushSummary()
        for path in files {
            if path.hasPrefix("blobs/"), try await serverHas(path) {
                summary.skipped.append(path)
                log("\(path): already on the server")
                continue
            }
            let size = index.files[path]?.bytes ?? 0
            let (status, text) = try await put(path: path, release: release, session: session, body: .stream(FileChunks(path: temp + "/" + path), length: .known(size)))
            guard (200..<300).contains(status) else { throw PushRefused(status: status, message: Self.reason(text)) }
            summary.uploaded.append(path)
            summary.bytesUploaded += size
            log("\(path): \(size) bytes uploaded")
        }
        let indexData = try Data(contentsOf: URL(fileURLWithPath: temp + "/" + HubIndex.fileName))
        let (status, text) = try await put(path: HubIndex.fileName, release: release, session: session, body: .bytes(ByteBuffer(bytes: indexData)))
        guard (200..<300).contains(status) else { throw PushRefused(status: status, message: Self.reason(text)) }
        summary.status = status
        summary.serverSummary = text
        return summary
    }

    /// Whether the server's hub already serves `path` (HEAD answers 200).
    func serverHas(_ path: String) async throws -> Bool {
        var request = HTTPClientRequest(url: server + "/hub/" + path)
        request.method = .HEAD
        do {
            let response = try await HTTPClient.shared.execute(request, timeout: .seconds(60))
            return response.status == .ok
        } catch {
            throw PushRefused(status: 0, message: "\(server): \(error)")
        }
    }

    /// The header naming one push: the server stages each session's uploads apart.
    public static let sessionHeader = "Rlhub-Push-Session"

    /// PUTs one file of the push `session` (the server stages each session apart).
    func put(path: String, release: String, session: String, body: HTTPClientRequest.Body) async throws -> (Int, String) {
        var request = HTTPClientRequest(url: "\(server)/api/push/\(release)/\(path)")
        request.method = .PUT
        if !token.isEmpty { request.headers.add(name: "Authorization", value: "Bearer \(token)") }
        request.headers.add(name: Self.sessionHeader, value: session)
        request.body = body
        do {
            let response = try await HTTPClient.shared.execute(request, timeout: timeout)
            let text = try await response.body.collect(upTo: 1 << 20)
            return (Int(response.status.code), String(buffer: text))
        } catch {
            throw PushRefused(status: 0, message: redacted("\(server): \(error)"))
        }
    }

    /// `text` with the token replaced by `<token>` (a transport error may quote the request's headers).
    func redacted(_ text: String) -> String {
        token.isEmpty ? text : text.replacingOccurrences(of: token, with: "<token>")
    }

    /// The `error` of a JSON answer, else the text itself (one line).
    static func reason(_ text: String) -> String {
        if let object = try? JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any], let error = object["error"] as? String {
            return error
        }
        return String(text.replacingOccurrences(of: "\n", with: " ").prefix(300))
    }
}

/// A file read in 1 MiB chunks, as an upload body.
struct FileChunks: AsyncSequence, Sendable {
    typealias Element = ByteBuffer
    let path: String

    struct AsyncIterator: AsyncIteratorProtocol {
        let fd: Int32
        let path: String

        mutating func next() async throws -> ByteBuffer? {
            guard fd >= 0 else { throw InputError(file: path, message: "cannot read: \(String(cString: strerror(errno)))") }
            var buffer = ByteBuffer()
            buffer.reserveCapacity(1 << 20)
            let n = buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: 1 << 20) { pointer in
                Swift.max(0, read(fd, pointer.baseAddress, 1 << 20))
            }
            if n == 0 { close(fd); return nil }
            return buffer
        }
    }

    func makeAsyncIterator() -> AsyncIterator {
        AsyncIterator(fd: open(path, O_RDONLY | O_CLOEXEC), path: path)
    }
}
