// rlhub — what `rlhub serve` is told: where the store is, where to listen, who may push.
import Evaluation
import Foundation
import Hub
import RLHubCore
import Store

/// The settings of a ``HubServer``.
///
/// ```swift
/// let config = try ServeConfiguration(storeDirectory: ".rlhub", host: "127.0.0.1", port: 0,
///                                     pushToken: PushToken.read(file: "token.txt"))
/// ```
public struct ServeConfiguration: Sendable {
    /// The store folder (holding `store.sqlite`); the hub is published into `STORE/hub/`.
    public var storeDirectory: String
    /// The address to bind: loopback unless the user names another one.
    public var host: String
    /// The TCP port; 0 lets the system choose (the chosen port is reported when listening).
    public var port: Int
    /// The bearer token pushes must present; nil disables push (every push is answered 403).
    public var pushToken: PushToken?
    /// The largest file a push may upload, in bytes (a release's store subset or one archive).
    public var maxUploadBytes: Int64

    /// The report options of an experiment's `/reports/NAME` page, from the served store and the
    /// experiment's name (the executable reads the spec stored with the experiment, as `rlhub
    /// report NAME` does); defaults otherwise.
    public var reportOptions: @Sendable (RunStore, String) -> StoreReport.Options = { _, _ in StoreReport.Options() }

    /// The default upload bound: 16 GiB per file.
    public static let defaultMaxUploadBytes: Int64 = 16 << 30

    /// - Throws: ``InputError`` naming `--port` or `--host` when out of range or empty.
    public init(storeDirectory: String, host: String = "127.0.0.1", port: Int = 8080, pushToken: PushToken? = nil,
                maxUploadBytes: Int64 = ServeConfiguration.defaultMaxUploadBytes) throws {
        guard (0...65535).contains(port) else { throw InputError(file: "--port", message: "must be in 0…65535, got \(port)") }
        guard !host.isEmpty, !host.contains(where: { $0.isWhitespace || $0 == "/" }) else {
            throw InputError(file: "--host", message: "'\(host)' is not a host name or address")
        }
        guard maxUploadBytes > 0 else { throw InputError(file: "--max-upload", message: "must be positive") }
        self.storeDirectory = storeDirectory
        self.host = host
        self.port = port
        self.pushToken = pushToken
        self.maxUploadBytes = maxUploadBytes
    }

    /// `STORE/hub`: the published hub the server serves under `/hub/`.
    public var hubDirectory: String { storeDirectory + "/hub" }
    /// `STORE/incoming`: pushed files wait here until their index arrives and they are verified.
    public var incomingDirectory: String { storeDirectory + "/incoming" }
    /// `STORE/cache/reports`: experiment reports rendered on request.
    public var reportCacheDirectory: String { storeDirectory + "/cache/reports" }
}

/// A secret that authorizes pushes, compared in constant time.
public struct PushToken: Sendable {
    private let bytes: [UInt8]

    /// The shortest token accepted.
    public static let minimumLength = 16

    /// - Throws: ``InputError`` naming `source` when the token is shorter than ``minimumLength`` or
    ///   holds whitespace or control characters.
    public init(_ text: String, source: String) throws {
        let token = text.trimmingCharacters(in: .whitespacesAndNewlines)
        guard token.utf8.count >= Self.minimumLength else {
            throw InputError(file: source, message: "a push token needs at least \(Self.minimumLength) characters (e.g. `openssl rand -hex 32`)")
        }
        try PushTokenText.check(token, source: source)
        bytes = Array(token.utf8)
    }

    /// The token in a file (surrounding whitespace and a final newline ignored).
    public static func read(file: String) throws -> PushToken {
        try PushToken(try PushTokenText.read(file: file), source: file)
    }

    /// Whether `candidate` is the token; the time taken depends only on the candidate's length.
    public func matches(_ candidate: some StringProtocol) -> Bool {
        let given = Array(candidate.utf8)
        var difference = UInt8(given.count == bytes.count ? 0 : 1)
        for i in 0..<given.count {
            difference |= given[i] ^ bytes[i % bytes.count]
        }
        return difference == 0
    }

    /// The `Authorization: Bearer …` header value for this token.
    public var authorizationHeader: String { "Bearer " + String(decoding: bytes, as: UTF8.self) }
}
