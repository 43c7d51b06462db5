// rlhub — `/hub/…`: the published hub folder as static files, for `rlhub pull http://HOST:PORT`.
//
// Only `index.json` and the paths the index lists (which `HubPath.validate` accepts) are served;
// the request path is read raw, before any router or decoding, and anything that is not a plain
// relative path (`..`, `%`, `\`, `//`, a leading `/`) is refused with 400. Responses carry a strong
// ETag (the file's SHA-256 from the index), honour `If-None-Match` (304) and single `Range`
// requests (206, or 416 past the end), and `HEAD` answers the headers alone.
import Foundation
import Hub
import Hummingbird

struct HubFilesMiddleware<Context: RequestContext>: RouterMiddleware {
    let state: HubState
    let fileIO = FileIO()

    /// The URL prefix of the hub.
    static var prefix: String { "/hub/" }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let raw = request.uri.path
        guard raw == "/hub" || raw.hasPrefix(Self.prefix) else { return try await next(request, context) }
        guard request.method == .get || request.method == .head else {
            var response = Reply.error(.methodNotAllowed, "the hub is read-only (push with `rlhub push`)")
            response.headers[.allow] = "GET, HEAD"
            return response
        }
        let relative = raw == "/hub" ? "" : String(raw.dropFirst(Self.prefix.count))
        guard Self.isPlainRelativePath(relative) else {
            return Reply.error(.badRequest, "'\(relative.prefix(120))' is not a hub path")
        }
        let snapshot = state.index
        let file: (size: Int64, etag: String, type: String, cache: String, path: String?)
        if relative == HubIndex.fileName || relative.isEmpty {
            file = (Int64(snapshot.data.count), snapshot.etag, "application/json", "no-cache", nil)
        } else {
            guard (try? HubPath.validate(relative, source: "request", field: "path")) != nil,
                  let listed = snapshot.index.files[relative] else {
                return Reply.error(.notFound, "no file '\(relative.prefix(120))' in this hub")
            }
            let isBlob = relative.hasPrefix("blobs/")
            file = (listed.bytes, "\"\(listed.sha256)\"", isBlob ? "application/zstd" : "application/vnd.sqlite3",
                    isBlob ? "public, max-age=31536000, immutable" : "no-cache", state.configuration.hubDirectory + "/" + relative)
        }
        let (size, etag, filePath) = (file.size, file.etag, file.path)

        var headers = HTTPFields()
        headers[.eTag] = etag
        headers[.acceptRanges] = "bytes"
        headers[.contentType] = file.type
        headers[.cacheControl] = file.cache
        if Self.matches(request.headers[values: .ifNoneMatch], etag: etag) {
            return Response(status: .notModified, headers: headers)
        }
        var range = ByteRangeRequest(header: request.headers[.range], size: size)
        if let ifRange = request.headers[.ifRange], ifRange != etag { range = .whole }
        var status = HTTPResponse.Status.ok
        var bytes: ClosedRange<Int64>? = size > 0 ? 0...(size - 1) : nil
        switch range {
        case .whole:
            break
        case .partial(let r):
            status = .partialContent
            bytes = r
            headers[.contentRange] = "bytes \(r.lowerBound)-\(r.upperBound)/\(size)"
        case .unsatisfiable:
            headers[.contentRange] = "bytes */\(size)"
            headers[.contentLength] = "0"
            return Response(status: .rangeNotSatisfiable, headers: headers)
        }
        let length = bytes.map { $0.upperBound - $0.lowerBound + 1 } ?? 0
        headers[.contentLength] = String(length)
        if request.method == .head || length == 0 { return Response(status: status, headers: headers) }
        let body: ResponseBody
        if let filePath {
            body = try await fileIO.loadFile(path: filePath, range: Int(bytes!.lowerBound)...Int(bytes!.upperBound), context: context)
        } else {
            body = ResponseBody(byteBuffer: ByteBuffer(bytes: snapshot.data[Int(bytes!.lowerBound)...Int(bytes!.upperBound)]))
        }
        return Response(status: status, headers: headers, body: body)
    }

    /// True for `a/b/c` made of letters, digits, `-`, `_` and `.` segments, none of them `.` or `..`
    /// (and for the empty path, the hub's root).
    static func isPlainRelativePath(_ path: String) -> Bool {
        if path.isEmpty { return true }
        guard path.utf8.count <= 512 else { return false }
        for segment in path.split(separator: "/", omittingEmptySubsequences: false) {
            guard !segment.isEmpty, segment != ".", segment != "..",
                  segment.unicodeScalars.allSatisfy({ $0.isASCII && (CharacterSet.alphanumerics.contains($0) || "-_.".unicodeScalars.contains($0)) })
            else { return false }
        }
        return true
    }

    /// Whether an `If-None-Match` header (possibly several, comma-separated, weak or `*`) names `etag`.
    static func matches(_ values: [String], etag: String) -> Bool {
        for value in values {
            for tag in value.split(separator: ",") {
                var t = tag.trimmingCharacters(in: .whitespaces)
                if t == "*" { return true }
                if t.hasPrefix("W/") { t.removeFirst(2) }
                if t == etag { return true }
            }
        }
        return false
    }
}
