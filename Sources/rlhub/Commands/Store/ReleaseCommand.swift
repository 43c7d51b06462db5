// rlhub release create / list / show — named, immutable sets of finished runs.
import ArgumentParser
import Foundation
import LM
import Store

struct ReleaseCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "release", abstract: "Freeze runs as a named release; list and show releases.",
        subcommands: [Create.self, List.self, Show.self])

    struct Create: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Freeze the finished runs matching --where as release NAME (immutable).",
            discussion: "Example: rlhub release create baselines-v1 --where \"experiment = 'baseline'\" --notes 'first baselines'")
        @OptionGroup var storeOptions: StoreOptions
        @Argument(help: "Release name.") var name: String
        @Option(name: .customLong("where"), help: "Filter expression (default: every finished run).") var filter: String?
        @Option(help: "Notes.") var notes: String = ""

        func run() throws {
            let store = try storeOptions.open()
            let f = try filter.map { try RunFilter(where: $0) }
            let r = try store.createRelease(name: name, filter: f, notes: notes)
            print("release \(r.name): \(r.runs.count) runs frozen")
        }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List releases.")
        @OptionGroup var storeOptions: StoreOptions
        @OptionGroup var output: FormatOptions<ListingFormats>
        func run() throws {
            let store = try storeOptions.open()
            Listing(columns: ["name", "runs", "created", "rlhub_version", "schema", "filter", "notes"],
                    rows: try store.releases().map { [.text($0.name), .int($0.runs.count), .text($0.created), .text($0.rlhubVersion),
                                                       .int($0.schemaVersion), $0.filter.cell, .text($0.notes)] }).print(output.format)
        }
    }

    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show one release and its runs.")
        @OptionGroup var storeOptions: StoreOptions
        @Argument(help: "Release name.") var name: String
        @OptionGroup var output: FormatOptions<TableOrJSON>
        func run() throws {
            let store = try storeOptions.open()
            let r = try store.release(name)
            if output.format == .json { try printJSON(r); return }
            print("release \(r.name) · \(r.runs.count) runs · created \(r.created) · rlhub \(r.rlhubVersion) · schema \(r.schemaVersion)")
            if let f = r.filter { print("filter: \(f)") }
            if !r.notes.isEmpty { print("notes: \(r.notes)") }
            for id in r.runs {
                let run = try store.run(id)
                print("  \(run.id)  \(run.algo)  \(run.task)  seed \(run.seed)  \(run.configHash.prefix(12))")
            }
        }
    }
}
