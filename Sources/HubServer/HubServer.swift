// rlhub — `rlhub serve`: a store's releases as a hub (`/hub/`, what `rlhub pull URL` reads), a
// read-only JSON API (`/api/…`), a small web UI, and `PUT /api/push/…` for `rlhub push`.
//
// Hummingbird 2 over HTTP/1.1, bound to loopback unless told otherwise. On start every release of
// the store is published into `STORE/hub/` (`HubPublisher`, all checkpoints); pushes publish theirs
// when imported.
import Foundation
import Hub
import Hummingbird
import Logging
import NIOCore
import RLHubCore
import Store

/// The server behind `rlhub serve`.
///
/// ```swift
/// let server = try HubServer(configuration: ServeConfiguration(storeDirectory: ".rlhub", port: 0))
/// try await server.run { url in print("listening on \(url)") }   // until SIGINT or SIGTERM
/// ```
public struct HubServer: Sendable {
    public let configuration: ServeConfiguration
    let state: HubState

    /// Opens the store and publishes its releases into `STORE/hub/`.
    ///
    /// - Throws: ``InputError`` when the store folder holds no store, or a release cannot be
    ///   published (a missing or corrupted archive).
    public init(configuration: ServeConfiguration) throws {
        guard FileManager.default.fileExists(atPath: configuration.storeDirectory + "/store.sqlite") else {
            throw InputError(file: configuration.storeDirectory, message: "no store here (run a grid or pull a release first, or pass --store)")
        }
        self.configuration = configuration
        state = HubState(configuration: configuration, store: try RunStore(directory: configuration.storeDirectory))
        try state.publishAll()
        PushStaging.removeAbandoned(in: configuration.incomingDirectory)
    }

    /// The releases the hub serves.
    public var releases: [String] { state.index.index.releases.map(\.name) }

    /// Serves until the process receives SIGINT or SIGTERM. `onListening` receives the base URL
    /// (with the port actually bound, when the configuration asked for port 0).
    public func run(onListening: @escaping @Sendable (String) -> Void) async throws {
        var logger = Logger(label: "rlhub.serve")
        logger.logLevel = .warning
        let host = configuration.host
        let app = Application(
            router: makeRouter(),
            configuration: ApplicationConfiguration(address: .hostname(host, port: configuration.port), serverName: "rlhub"),
            onServerRunning: { channel in
                let port = channel.localAddress?.port ?? 0
                let shown = host.contains(":") ? "[\(host)]" : host
                onListening("http://\(shown):\(port)")
            },
            logger: logger)
        try await app.runService()
    }

    func makeRouter() -> Router<BasicRequestContext> {
        let router = Router(context: BasicRequestContext.self)
        let state = self.state
        router.add(middleware: HubFilesMiddleware(state: state))
        router.add(middleware: PushReceiverMiddleware(state: state))
        addAPIRoutes(to: router, state: state)
        let reports = ReportCache(state: state)
        router.get("/") { request, _ in
            await page { try WebPages.runs(state, QueryParameters(request.uri.query)) }
        }
        router.get("/runs/:id") { _, context in
            await page { try WebPages.run(state, id: try context.parameters.require("id")) }
        }
        router.get("/runs/:id/samples") { request, context in
            await page { try SamplePages.page(state, id: try context.parameters.require("id"), QueryParameters(request.uri.query)) }
        }
        router.get("/compare") { request, _ in
            await page { try WebPages.compare(state, QueryParameters(request.uri.query)) }
        }
        router.get("/releases") { _, _ in
            await page { try WebPages.releases(state) }
        }
        router.get("/reports") { _, _ in await page { try reports.listing() } }
        router.get("/reports/:experiment") { _, context in
            await page {
                let raw = try context.parameters.require("experiment")
                let name = raw.removingPercentEncoding ?? raw
                return Reply.bytes(try await reports.page(experiment: name), type: "text/html; charset=utf-8")
            }
        }
        return router
    }
}

/// A page's work, with failures shown as a small HTML page (400 / 404 / 500).
func page(_ body: () async throws -> Response) async -> Response {
    do { return try await body() } catch {
        let failed = Reply.failure(error)
        let message = (error as? InputError)?.description ?? "\(error)"
        return Reply.html(HTMLPage.render(title: "Error", body: "<h1>Error</h1>\n<p class=\"error\">\(HTMLPage.e(message))</p>\n"), status: failed.status)
    }
}
