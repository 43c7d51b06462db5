// rlhub runs — the stored runs, filtered by a --where expression, sorted and limited.
import ArgumentParser
import Foundation
import LM
import Store

struct RunsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "runs", abstract: "List stored runs, filtered and sorted.",
        discussion: """
            Example: rlhub runs --where "algo in ('grpo', 'dapo') and final.reward/mean > 0.5" --sort -final.eval/accuracy
            Fields: id algo task model seed status experiment cell created started ended config_hash group_hash
            code_version host threads steps release, config.<path>, final.<metric>, best.<metric>,
            score.<metric> (held-out), tag.<key>. Operators: = != < <= > >= in (…) not in like is null; and or not ( ).
            """)
    @OptionGroup var storeOptions: StoreOptions
    @Option(name: .customLong("where"), help: "Filter expression.") var filter: String?
    @Option(parsing: .unconditional, help: "Sort key: KEY, -KEY or \"KEY desc\" (comma-separated).") var sort: String?
    @Option(help: "At most N runs.") var limit: Int?
    @OptionGroup var output: FormatOptions<ListingFormats>

    func run() throws {
        let store = try storeOptions.open()
        let query = try RunQuery(where: filter, sort: sort, limit: limit)
        let rows = try RunListRow.rows(store: store, runs: try store.runs(query)).map { r -> [ListingValue?] in
            [.text(r.id), r.experiment.cell, .text(r.algo), .text(r.task), .int(r.seed), .text(r.status),
             .int(r.steps), r.reward.cell, r.evalAccuracy.cell, .text(r.configHash), .text(r.code), .text(r.created)]
        }
        Listing(columns: RunListRow.columns, rows: rows).print(output.format)
    }
}
