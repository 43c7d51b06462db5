// rlhub push — a release of the store uploaded to an `rlhub serve`.
import ArgumentParser
import Evaluation
import Experiments
import Foundation
import Hub
import HubServer
import LM
import Store

struct PushCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "push",
        abstract: "Upload a release of the store to an `rlhub serve` (which verifies, imports and publishes it).",
        discussion: """
            The token is read from --token-file or RLHUB_TOKEN and sent as `Authorization: Bearer …`. Archives the \
            server already has are not uploaded. Exit status 1 when the server refuses the push. Example:
              rlhub push baselines-v1 --to http://127.0.0.1:8080 --token-file ~/.rlhub-token
            """)
    @OptionGroup var storeOptions: StoreOptions
    @Argument(help: "Release name.") var release: String
    @Option(help: "Base URL of the server.") var to: String
    @Option(help: "File holding the push token (else RLHUB_TOKEN).") var tokenFile: String?
    @OptionGroup var output: FormatOptions<TableOrJSON>

    func run() async throws {
        let token = try tokenFile.map(PushTokenText.read(file:)) ?? ProcessInfo.processInfo.environment["RLHUB_TOKEN"] ?? ""
        let store = try storeOptions.open()
        var pusher = try HubPusher(store: store, server: to, token: token, tokenSource: tokenFile ?? "RLHUB_TOKEN")
        pusher.log = { line in FileHandle.standardError.write(Data((line + "\n").utf8)) }
        let started = Date()
        let summary: PushSummary
        do {
            summary = try await pusher.push(release: release)
        } catch let refused as PushRefused {
            throw RunFailure(message: "push of \(release) to \(to) refused: \(refused.message) (HTTP \(refused.status))")
        }
        if output.format == .json {
            print(summary.serverSummary.trimmingCharacters(in: .whitespacesAndNewlines))
            return
        }
        let seconds = Date().timeIntervalSince(started)
        print("pushed \(release) to \(to): \(summary.uploaded.count) files uploaded (\(formatBytes(summary.bytesUploaded))), "
              + "\(summary.skipped.count) archives already there, in \(String(format: "%.1f", seconds)) s"
              + (summary.status == 200 ? " (the server already had this release)" : ""))
    }
}
