// rlhub scores — the held-out evaluation scores of a run.
import ArgumentParser
import Foundation
import LM
import Store

struct ScoresCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "scores", abstract: "Held-out evaluation scores of a run.", discussion: "Example: rlhub scores 3fa2c1")
    @OptionGroup var storeOptions: StoreOptions
    @Argument(help: "Run id.") var runID: String
    @OptionGroup var output: FormatOptions<ListingFormats>

    func run() throws {
        let store = try storeOptions.open()
        let r = try store.run(runID)
        Listing(columns: ["step", "split", "metric", "value", "ci_low", "ci_high", "episodes"],
                rows: try store.scores(run: r.id).map { [.int($0.step), .text($0.split), .text($0.metric), .double($0.value), $0.ciLow.cell, $0.ciHigh.cell, .int($0.episodes)] })
            .print(output.format)
    }
}
