// rlhub — `publish` and `pull`: releases as static hub folders, and back into a store.
import ArgumentParser
import Dispatch
import Foundation
import Hub
import LM
import Store

struct PublishCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "publish",
        abstract: "Write a release as a static hub folder (index.json, the release's store, checkpoint archives).",
        discussion: """
            The folder can be served by any web server or object store and pulled with `rlhub pull`. Other releases \
            already published in it stay. Example:
              rlhub release create baselines-v1 --where "experiment = 'baseline'"
              rlhub publish baselines-v1 --to baselines --checkpoints "seed = 0"
            """)
    @OptionGroup var storeOptions: StoreOptions
    @Argument(help: "Release name.") var release: String
    @Option(help: "Hub folder to write (created when missing).") var to: String
    @Option(help: "Publish checkpoint archives only of the release's runs matching this --where filter (default: all); the others keep their hashes in the index.")
    var checkpoints: String?

    func run() throws {
        let store = try storeOptions.open()
        var selected: Set<String>? = nil
        if let text = checkpoints {
            let filter = try RunFilter(where: text)
            let inRelease = Set(try store.release(release).runs)
            selected = Set(try store.runs(RunQuery(filter: filter)).map(\.id)).intersection(inRelease)
        }
        let index = try HubPublisher.publish(store: store, release: release, to: to, checkpointRuns: selected)
        let entry = try index.release(release, in: to)
        let archives = entry.runs.flatMap(\.checkpoints).filter { $0.url != nil }
        let bytes = index.files.values.reduce(Int64(0)) { $0 + $1.bytes }
        print("published \(release) to \(to): \(entry.runs.count) runs, \(archives.count) checkpoint archives; hub holds \(index.releases.count) release(s), \(formatBytes(bytes))")
    }
}

struct PullCommand: ParsableCommand {
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
    @Option(help: "table or json.") var format: OutputFormat = .table

    func validate() throws {
        if runID != nil && checkpoint != nil { throw ValidationError("--run and --checkpoint exclude each other") }
    }

    func run() throws {
        let store = try storeOptions.open(create: true)
        var configured = HubPuller(store: store, source: try hubSource(source))
        let reporter = TransferReporter()
        configured.log = { reporter.line($0) }
        configured.progress = { reporter.progress($0, $1, $2) }
        let puller = configured
        let request = PullRequest(release: release, run: runID, checkpoint: checkpoint, metadataOnly: metadataOnly)
        let started = Date()
        let summary = try blockingAsync { try await puller.pull(request) }
        let seconds = Date().timeIntervalSince(started)
        if format == .json {
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

/// Progress of downloads on stderr: a redrawn line on a terminal, one line per finished file otherwise.
final class TransferReporter: @unchecked Sendable {
    private let tty = isatty(STDERR_FILENO) == 1
    private let lock = NSLock()
    private var lastDraw = Date.distantPast
    private var started: [String: Date] = [:]

    func line(_ text: String) {
        lock.withLock { FileHandle.standardError.write(Data(((tty ? "\r\u{1B}[K" : "") + text + "\n").utf8)) }
    }

    func progress(_ path: String, _ done: Int64, _ total: Int64) {
        lock.withLock {
            let now = Date()
            let start = started[path] ?? now
            started[path] = start
            let name = (path as NSString).lastPathComponent.prefix(24)
            let rate = Double(done) / max(now.timeIntervalSince(start), 1e-3)
            if tty {
                guard done == total || now.timeIntervalSince(lastDraw) > 0.2 else { return }
                lastDraw = now
                let eta = rate > 0 ? Double(total - done) / rate : 0
                FileHandle.standardError.write(Data("\r\u{1B}[K\(name)  \(formatBytes(done))/\(formatBytes(total))  \(formatBytes(Int64(rate)))/s  ETA \(Int(eta)) s".utf8))
                if done == total { FileHandle.standardError.write(Data("\n".utf8)) }
            } else if done == total {
                FileHandle.standardError.write(Data("\(path): \(formatBytes(total)) verified\n".utf8))
            }
        }
    }
}

/// `1.5 MB`-style sizes (powers of 1000).
func formatBytes(_ bytes: Int64) -> String {
    let units = ["B", "kB", "MB", "GB", "TB"]
    var value = Double(bytes), unit = 0
    while value >= 1000, unit + 1 < units.count { value /= 1000; unit += 1 }
    return unit == 0 ? "\(bytes) B" : String(format: "%.1f %@", value, units[unit])
}

/// Runs async work from a synchronous command and returns its result (the main thread waits; the
/// work runs on the cooperative pool).
func blockingAsync<T: Sendable>(_ body: @escaping @Sendable () async throws -> T) throws -> T {
    let box = AsyncResultBox<T>()
    let done = DispatchSemaphore(value: 0)
    Task.detached {
        do { box.result = .success(try await body()) } catch { box.result = .failure(error) }
        done.signal()
    }
    done.wait()
    return try box.result!.get()
}

/// The result of work started by ``blockingAsync(_:)``, written once by the task before it signals.
private final class AsyncResultBox<T>: @unchecked Sendable {
    var result: Result<T, any Error>?
}
