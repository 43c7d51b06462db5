// rlhub serve — a store's releases as a hub, its runs as an API and web pages, and pushes.
import ArgumentParser
import Evaluation
import Experiments
import Foundation
import Hub
import HubServer
import LM
import RLHubCore
import Store

struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Serve the store: its releases as a hub (for `rlhub pull URL`), a JSON API, web pages, and pushes.",
        discussion: """
            Every release of the store is published into STORE/hub/ at start and served under /hub/ (Range, ETag). \
            Pages: / (runs, with a --where filter box), /runs/ID, /compare?runs=A,B, /releases, /reports/EXPERIMENT. \
            API: /api/runs?where=…&sort=…&limit=N, /api/runs/ID[/curve?metric=M&every=N|/scores|/samples?step=N], /api/checkpoints?run=ID, \
            /api/releases. Pushes (`rlhub push`) need a token: --push-token-file FILE or RLHUB_PUSH_TOKEN; without one, push \
            is disabled. The server listens on loopback unless --host names another address; --port 0 picks a free port. \
            The URL is printed on stderr. Example:
              rlhub serve --port 8080 --push-token-file ~/.rlhub-token
            """)
    @OptionGroup var storeOptions: StoreOptions
    @Option(help: "Address to listen on (default: loopback only).") var host: String = "127.0.0.1"
    @Option(help: "TCP port (0: any free port).") var port: Int = 8080
    @Option(help: "File holding the bearer token that `rlhub push` must present (else RLHUB_PUSH_TOKEN; none: push disabled).")
    var pushTokenFile: String?
    @Option(help: "Largest file a push may upload, in MiB.") var maxUploadMib: Int = 16 << 10

    func run() async throws {
        var token: PushToken? = nil
        if let file = pushTokenFile {
            token = try PushToken.read(file: file)
        } else if let env = ProcessInfo.processInfo.environment["RLHUB_PUSH_TOKEN"], !env.isEmpty {
            token = try PushToken(env, source: "RLHUB_PUSH_TOKEN")
        }
        guard maxUploadMib > 0 else { throw InputError(file: "--max-upload-mib", message: "must be positive, got \(maxUploadMib)") }
        var configuration = try ServeConfiguration(
            storeDirectory: storeOptions.directory, host: host, port: port, pushToken: token,
            maxUploadBytes: Int64(maxUploadMib) << 20)
        configuration.reportOptions = { store, experiment in ExperimentSpec.reportOptions(store: store, experiment: experiment) }
        let server = try HubServer(configuration: configuration)
        let releases = server.releases
        let push = token == nil ? "push disabled" : "push enabled"
        let storeDirectory = configuration.storeDirectory
        try await server.run { url in
            FileHandle.standardError.write(Data("rlhub serve: listening on \(url) (store \(storeDirectory), \(releases.count) release(s) under \(url)/hub/, \(push))\n".utf8))
        }
    }
}
