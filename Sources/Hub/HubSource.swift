// rlhub — where a pull reads a hub from: a folder, or HTTP (a published folder on any web server or
// object store, or an `rlhub serve`).
import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import RLHubCore
import Store

/// A hub to read: its index and its files, by relative path.
public protocol HubSource: Sendable {
    /// How the source is named in messages and recorded as the pulled release's `source`.
    var description: String { get }
    /// The bytes of `index.json`.
    func index() async throws -> Data
    /// Appends the bytes of `path` from offset `partialBytes` to the open file `fd`, writing at most
    /// `expected.bytes` in all, and calls `progress` with the bytes the file holds as they arrive.
    /// Returns the bytes the file holds afterwards. Throws ``HubTransientError`` for failures worth
    /// a retry (the next attempt resumes where this stopped).
    func download(_ path: String, expected: HubFile, to fd: Int32, partialBytes: Int64,
                  progress: @Sendable (Int64) -> Void) async throws -> Int64
}

/// A failure a retry may cure: a refused or dropped connection, a timeout, a 5xx or 429 answer.
public struct HubTransientError: Error, CustomStringConvertible {
    public var description: String
}

/// Opens the source named by a `pull` argument: `http://` or `https://` URLs are read over HTTP;
/// anything else is a folder.
public func hubSource(_ argument: String) throws -> any HubSource {
    if argument.hasPrefix("http://") || argument.hasPrefix("https://") {
        return try HTTPHubSource(base: argument)
    }
    var isDir: ObjCBool = false
    guard FileManager.default.fileExists(atPath: argument, isDirectory: &isDir), isDir.boolValue else {
        throw InputError(file: argument, message: "not a hub folder or an http(s):// URL")
    }
    return FolderHubSource(root: argument)
}

/// A hub folder on this machine (or a mounted file system).
public struct FolderHubSource: HubSource {
    public let root: String
    public var description: String { root }

    public func index() async throws -> Data {
        let path = root + "/" + HubIndex.fileName
        guard let data = FileManager.default.contents(atPath: path) else {
            throw InputError(file: path, message: "no hub index here (publish one with `rlhub publish RELEASE --to \(root)`)")
        }
        return data
    }

    public func download(_ path: String, expected: HubFile, to fd: Int32, partialBytes: Int64,
                         progress: @Sendable (Int64) -> Void) async throws -> Int64 {
        let source = root + "/" + path
        let input = open(source, O_RDONLY | O_CLOEXEC)
        guard input >= 0 else { throw InputError(file: source, message: "missing from the hub: \(String(cString: strerror(errno)))") }
        defer { close(input) }
        guard lseek(input, off_t(partialBytes), SEEK_SET) == off_t(partialBytes) else {
            throw InputError(file: source, message: "shorter than the index says")
        }
        var total = partialBytes
        var buffer = [UInt8](repeating: 0, count: 1 << 20)
        while true {
            let n = buffer.withUnsafeMutableBytes { read(input, $0.baseAddress, $0.count) }
            if n < 0 { throw HubTransientError(description: "\(source): read failed: \(String(cString: strerror(errno)))") }
            if n == 0 { break }
            total += Int64(n)
            guard total <= expected.bytes else { throw InputError(file: source, message: "larger than the \(expected.bytes) bytes the index says") }
            try buffer.withUnsafeBytes { try writeAll(fd, $0.baseAddress!, n, file: source) }
            progress(total)
        }
        return total
    }
}

/// A hub over HTTP(S), read with AsyncHTTPClient. `base` is the URL of the hub folder (the one
/// holding `index.json`) or the base URL of an `rlhub serve`, which serves its hub under `/hub/`.
public final class HTTPHubSource: HubSource, @unchecked Sendable {
    /// The URL given by the user.
    public let base: String
    /// The hub folder's URL, without a trailing slash; found by ``index()``.
    private var root: String
    private let lock = NSLock()
    /// Seconds a request may take before it is retried.
    public var timeout: TimeAmount = .seconds(120)
    /// Bytes gathered before each write to the partial file.
    static let writeBytes = 1 << 20
    /// The largest index accepted (a hostile server could send an endless one).
    public static let maxIndexBytes = 64 << 20

    public var description: String { base }

    public init(base: String) throws {
        var trimmed = base
        if trimmed.hasSuffix("/" + HubIndex.fileName) { trimmed.removeLast(HubIndex.fileName.count + 1) }
        while trimmed.hasSuffix("/") { trimmed.removeLast() }
        guard URL(string: trimmed)?.host != nil else { throw InputError(file: base, message: "not a URL with a host") }
        self.base = base
        root = trimmed
    }

    public func index() async throws -> Data {
        let candidates = [root, root + "/hub"]
        for (i, candidate) in candidates.enumerated() {
            var request = HTTPClientRequest(url: candidate + "/" + HubIndex.fileName)
            request.headers.add(name: "Accept", value: "application/json")
            let response: HTTPClientResponse
            do { response = try await HTTPClient.shared.execute(request, timeout: timeout) } catch {
                throw HubTransientError(description: "\(candidate)/\(HubIndex.fileName): \(error)")
            }
            if response.status == .notFound, i + 1 < candidates.count { continue }
            try Self.check(response.status, url: candidate + "/" + HubIndex.fileName)
            let body: ByteBuffer
            do { body = try await response.body.collect(upTo: Self.maxIndexBytes) } catch {
                throw HubTransientError(description: "\(candidate)/\(HubIndex.fileName): \(error)")
            }
            lock.withLock { root = candidate }
            return Data(body.readableBytesView)
        }
        throw InputError(file: base, message: "no hub index at \(root)/\(HubIndex.fileName) or \(root)/hub/\(HubIndex.fileName)")
    }

    public func download(_ path: String, expected: HubFile, to fd: Int32, partialBytes: Int64,
                         progress: @Sendable (Int64) -> Void) async throws -> Int64 {
        let url = lock.withLock { root } + "/" + path
        var request = HTTPClientRequest(url: url)
        if partialBytes > 0 { request.headers.add(name: "Range", value: "bytes=\(partialBytes)-") }
        let response: HTTPClientResponse
        do { response = try await HTTPClient.shared.execute(request, timeout: timeout) } catch {
            throw HubTransientError(description: "\(url): \(error)")
        }
        var total = partialBytes
        switch response.status {
        case .partialContent:
            // `Content-Range: bytes START-END/SIZE` must start where the partial file ends.
            let range = response.headers.first(name: "Content-Range") ?? ""
            guard range.hasPrefix("bytes \(partialBytes)-") else {
                throw HubTransientError(description: "\(url): answered range '\(range)' to a request from byte \(partialBytes)")
            }
        case .ok:
            // The server ignored the range: start over.
            guard ftruncate(fd, 0) == 0, lseek(fd, 0, SEEK_SET) == 0 else {
                throw InputError(file: url, message: "cannot restart the partial download: \(String(cString: strerror(errno)))")
            }
            total = 0
        case .rangeNotSatisfiable where partialBytes == expected.bytes:
            return partialBytes
        default:
            try Self.check(response.status, url: url)
            throw InputError(file: url, message: "unexpected HTTP status \(response.status.code)")
        }
        // Chunks arrive in tens of kilobytes: they are gathered into 1 MiB writes.
        var pending = ByteBuffer()
        pending.reserveCapacity(Self.writeBytes)
        var written = total
        func flush() throws {
            guard pending.readableBytes > 0 else { return }
            try pending.withUnsafeReadableBytes { try writeAll(fd, $0.baseAddress!, $0.count, file: url) }
            written += Int64(pending.readableBytes)
            pending.clear()
            progress(written)
        }
        do {
            defer { try? flush() }
            for try await var chunk in response.body {
                total += Int64(chunk.readableBytes)
                guard total <= expected.bytes else {
                    pending.clear()
                    throw InputError(file: url, message: "larger than the \(expected.bytes) bytes the index says")
                }
                pending.writeBuffer(&chunk)
                if pending.readableBytes >= Self.writeBytes { try flush() }
            }
            try flush()
        } catch let error as InputError {
            throw error
        } catch {
            throw HubTransientError(description: "\(url): transfer cut after \(total) of \(expected.bytes) bytes: \(error)")
        }
        return written
    }

    /// Maps an HTTP status to success, a transient error or a one-line input error.
    static func check(_ status: HTTPResponseStatus, url: String) throws {
        switch status.code {
        case 200, 206: return
        case 408, 425, 429, 500...599: throw HubTransientError(description: "\(url): HTTP \(status.code) \(status.reasonPhrase)")
        case 404: throw InputError(file: url, message: "not found (HTTP 404)")
        default: throw InputError(file: url, message: "HTTP \(status.code) \(status.reasonPhrase)")
        }
    }
}

/// Writes all `count` bytes (retrying short writes).
func writeAll(_ fd: Int32, _ pointer: UnsafeRawPointer, _ count: Int, file: String) throws {
    var offset = 0
    while offset < count {
        let n = write(fd, pointer + offset, count - offset)
        if n < 0 {
            if errno == EINTR { continue }
            throw InputError(file: file, message: "cannot write the download: \(String(cString: strerror(errno)))")
        }
        offset += n
    }
}
