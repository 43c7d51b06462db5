// rlhub publish — a release written as a static hub folder.
import ArgumentParser
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
            already published in it stay. A published LoRA adapter brings its base checkpoint archive (each base once), also when \
            --checkpoints leaves the base's run out. Example:
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
        let result = try HubPublisher.publication(store: store, release: release, to: to, checkpointRuns: selected)
        let index = result.index
        let entry = try index.release(release, in: to)
        let archives = entry.runs.flatMap(\.checkpoints).filter { $0.url != nil }
        let bytes = index.files.values.reduce(Int64(0)) { $0 + $1.bytes }
        print("published \(release) to \(to): \(entry.runs.count) runs, \(archives.count) checkpoint archives, \(result.basesAdded.count) LoRA base archive(s) added; hub holds \(index.releases.count) release(s), \(formatBytes(bytes))")
        for (adapter, reference) in result.basesMissing {
            print("note: adapter sha256:\(adapter.prefix(16))… has base \(reference), which is not an archive of this store: published without it (users provide that base)")
        }
    }
}
