// rlhub checkpoints — the stored checkpoint archives of one run, or of all.
import ArgumentParser
import Foundation
import LM
import Store

struct CheckpointsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "checkpoints", abstract: "Stored checkpoint archives (of one run, or all).",
        discussion: "Example: rlhub checkpoints 3fa2c1   (use one as --model run:3fa2c1 or sha256:HEX)")
    @OptionGroup var storeOptions: StoreOptions
    @Argument(help: "Run id.") var runID: String?
    @OptionGroup var output: FormatOptions<ListingFormats>

    func run() throws {
        let store = try storeOptions.open()
        let id = try runID.map { try store.run($0).id }
        Listing(columns: ["run", "step", "sha256", "bytes", "path"],
                rows: try store.checkpoints(run: id).map { [.text($0.run), .int($0.step), .text($0.sha256), .int(Int($0.bytes)), .text($0.path)] })
            .print(output.format)
    }
}
