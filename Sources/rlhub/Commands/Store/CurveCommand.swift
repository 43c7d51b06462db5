// rlhub curve — one metric of a run, step by step.
import ArgumentParser
import Foundation
import LM
import RLHubCore
import Store

struct CurveCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "curve", abstract: "One metric of a run, step by step.",
        discussion: "Example: rlhub curve 3fa2c1 --metric reward/mean --every 10 --format csv")
    @OptionGroup var storeOptions: StoreOptions
    @Argument(help: "Run id.") var runID: String
    @Option(help: "Metric name (see `rlhub show RUN`).") var metric: String
    @Option(help: "Keep every N-th point (and the last).") var every: Int = 1
    @OptionGroup var output: FormatOptions<ListingFormats>

    func run() throws {
        guard every >= 1 else { throw InputError(file: "--every", message: "must be ≥ 1, got \(every)") }
        let store = try storeOptions.open()
        let r = try store.run(runID)
        let points = try store.curve(run: r.id, metric: metric, every: every)
        if points.isEmpty {
            let names = try store.metricNames(run: r.id)
            throw InputError(file: "--metric", field: metric, message: "not logged by run \(r.id) (metrics: \(names.joined(separator: ", ")))")
        }
        Listing(columns: ["step", metric], rows: points.map { [.int($0.step), $0.value.cell] }).print(output.format)
    }
}
