// rlhub — building responses: JSON, HTML, one-line JSON errors; query strings as browsers send them.
import Foundation
import Hummingbird
import RLHubCore
import Store

enum Reply {
    /// Sorted-key JSON of `value` (non-finite numbers as `null`).
    static func json<T: Encodable>(_ value: T, status: HTTPResponse.Status = .ok) throws -> Response {
        var data = try OutputJSON.encode(value, pretty: false)
        data.append(0x0a)
        return bytes(data, type: "application/json", status: status)
    }

    /// `{"error": "…"}` with a one-line message.
    static func error(_ status: HTTPResponse.Status, _ message: String) -> Response {
        let line = message.replacingOccurrences(of: "\n", with: " ")
        return (try? json(["error": line], status: status)) ?? Response(status: status)
    }

    /// The error of a failed request: bad input (400, or 404 when it names something missing),
    /// anything else 500.
    static func failure(_ error: any Error) -> Response {
        if let input = error as? InputError {
            let missing = input.message.hasPrefix("no such") || input.message.contains("not logged by")
            return Self.error(missing ? .notFound : .badRequest, input.description)
        }
        return Self.error(.internalServerError, "\(error)")
    }

    static func html(_ page: String, status: HTTPResponse.Status = .ok) -> Response {
        bytes(Data(page.utf8), type: "text/html; charset=utf-8", status: status)
    }

    static func bytes(_ data: Data, type: String, status: HTTPResponse.Status = .ok, headers extra: HTTPFields = [:]) -> Response {
        var headers = extra
        headers[.contentType] = type
        headers[.cacheControl] = headers[.cacheControl] ?? "no-cache"
        return Response(status: status, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(bytes: data)))
    }
}

/// The parameters of a query string: `+` is a space, `%XX` a byte; a name may repeat.
struct QueryParameters {
    private(set) var pairs: [(String, String)] = []

    init(_ query: String?) {
        for part in (query ?? "").split(separator: "&", omittingEmptySubsequences: true) {
            let kv = part.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            func decode(_ s: Substring) -> String {
                let spaced = s.replacingOccurrences(of: "+", with: " ")
                return spaced.removingPercentEncoding ?? spaced
            }
            pairs.append((decode(kv[0]), kv.count > 1 ? decode(kv[1]) : ""))
        }
    }

    /// The first value of `name`; nil when absent or empty.
    subscript(_ name: String) -> String? {
        pairs.first { $0.0 == name && !$0.1.isEmpty }?.1
    }

    /// Every value of `name`, in order.
    func all(_ name: String) -> [String] { pairs.filter { $0.0 == name }.map(\.1) }

    /// `name` as a positive integer.
    ///
    /// - Throws: ``InputError`` naming the parameter when it is not one.
    func positiveInt(_ name: String) throws -> Int? {
        guard let text = self[name] else { return nil }
        guard let value = Int(text), value >= 1 else {
            throw InputError(file: name, message: "must be a positive integer, got '\(text.prefix(40))'")
        }
        return value
    }

    /// `name` as an integer ≥ 0 (a step), or nil when absent.
    func nonNegativeInt(_ name: String) throws -> Int? {
        guard let text = self[name] else { return nil }
        guard let value = Int(text), value >= 0 else {
            throw InputError(file: name, message: "must be a non-negative integer, got '\(text.prefix(40))'")
        }
        return value
    }
}

/// Percent-encodes `text` for a URL query value.
func queryEscape(_ text: String) -> String {
    let allowed = CharacterSet(charactersIn: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~/")
    return text.addingPercentEncoding(withAllowedCharacters: allowed) ?? ""
}
