// rlhub pull — releases from a hub folder or URL into the store.
import ArgumentParser
import Foundation
import Hub
import LM
import Store

struct PullCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pull",
        abstract: "Pull releases (runs, curves, scores, checkpoints) from a hub folder or URL into the store.",
        discussion: """
            SOURCE is a hub folder, the http(s):// URL of a published hub folder, or the base URL of an `rlhub serve`. \
            Every file is verified against the index's SHA-256 before anything enters the store; an interrupted \
            download resumes on the next pull. Pulled checkpoints are model REFs: hub:RELEASE/RUN[@STEP] or sha256:HEX.
            Examples:
              rlhub pull baselines/
              rlhub pull http://127.0.0.1:8080 --release baselines-v1 --run 3f2a
              rlhub eval --model hub:baselines-v1/3f2a --task add:digits=1
            """)
    @OptionGroup var storeOptions: StoreOptions
    @Argument(help: "Hub folder or URL.") var source: String
    @Option(help: "Only this release (default: every release of the hub).") var release: String?
    @Option(name: .customLong("run"), help: "Only this run's checkpoints (id or prefix), with its release's metadata.") var runID: String?
    @Option(help: "Only the checkpoint archive with this SHA-256, with its release's metadata.") var checkpoint: String?
    @Flag(help: "Runs, curves and scores only: no checkpoint archive.") var metadataOnly = false
    @OptionGroup var output: FormatOptions<TableOrJSON>

    func validate() throws {
        if runID != nil && checkpoint != nil { throw ValidationError("--run and --checkpoint exclude each other") }
    }

    func run() async throws {
        let store = try storeOptions.open(create: true)
        var puller = HubPuller(store: store, source: try hubSource(source))
        let reporter = TransferReporter()
        puller.log = { reporter.line($0) }
        puller.progress = { reporter.progress($0, $1, $2) }
        let request = PullRequest(release: release, run: runID, checkpoint: checkpoint, metadataOnly: metadataOnly)
        let started = Date()
        let summary = try await puller.pull(request)
        let seconds = Date().timeIntervalSince(started)
        if output.format == .json {
            struct Shown: Encodable {
                var releases: [String]; var runs_imported: Int; var runs_present: Int
                var blobs_added: [String]; var blobs_present: [String]; var bytes_downloaded: Int64; var seconds: Double
            }
            try printJSON(Shown(
                releases: summary.releases.map(\.release), runs_imported: summary.releases.reduce(0) { $0 + $1.imported.count },
                runs_present: summary.releases.reduce(0) { $0 + $1.alreadyPresent.count }, blobs_added: summary.blobsAdded,
                blobs_present: summary.blobsPresent, bytes_downloaded: summary.bytesDownloaded, seconds: seconds))
            return
        }
        let rate = seconds > 0 ? Double(summary.bytesDownloaded) / seconds : 0
        print("pulled \(summary.releases.map(\.release).joined(separator: ", ")) from \(source): "
              + "\(summary.releases.reduce(0) { $0 + $1.imported.count }) runs imported, "
              + "\(summary.blobsAdded.count) checkpoints added (\(summary.blobsPresent.count) already here), "
              + "\(formatBytes(summary.bytesDownloaded)) in \(String(format: "%.1f", seconds)) s (\(formatBytes(Int64(rate)))/s)")
    }
}
