// rlhub report — an experiment's report from the store: index.html, README.md, data.csv.
import ArgumentParser
import Evaluation
import Experiments
import Foundation
import LM
import RLHubCore
import Store

struct ReportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Write an experiment's report (HTML, Markdown, CSV) from the store.",
        discussion: """
            Example: rlhub report experiments/smoke.yaml --out reports/smoke

            SPEC_OR_EXPERIMENT is a spec file (its name, algorithm and task order and description \
            are used) or the name of an experiment in the store (then the spec stored with it is). The report compares the finished \
            runs of the experiment (warm-up cells aside, their mean score shown as the starting \
            point): learning curves of held-out test accuracy per task (mean with a 95% band), \
            IQM / mean / median / optimality gap with 95% stratified bootstrap intervals (2,000 \
            resamples, seed 0), performance profiles, P(A > B) for every pair, final scores, the \
            gain over the warm start (each run's final minus its step-0 score, paired by seed, \
            Student-t 95%), compute per run (CPU seconds, tokens generated and trained) and run \
            provenance. A spec's `report: {metrics: [NAME, ...]}` adds those training metrics \
            (docs/metrics.md): per task over training steps (mean with a 95% band, not clipped) and \
            each run's mean per algorithm and task (mean over runs, Student-t 95%). The same store \
            gives byte-identical files.
            """)

    @OptionGroup var storeOptions: StoreOptions
    @Argument(help: "Experiment spec file, or an experiment name in the store.") var specOrExperiment: String
    @Option(help: "Output folder (default: reports/NAME).") var out: String?
    @Option(name: .customLong("where"), help: "Filter expression over the experiment's runs (see `rlhub runs --help`).")
    var filter: String?
    @Option(help: "EMA weight in [0, 1) applied to each run's learning curve (default 0: none).") var smoothing: Double = 0
    @Option(help: "At most N points per learning curve.") var points: Int = 200
    @OptionGroup var compute: ComputeOptions

    func run() throws {
        try compute.apply()
        guard smoothing >= 0 && smoothing < 1 else {
            throw InputError(file: "--smoothing", message: "must be in [0, 1), got \(smoothing)")
        }
        guard points >= 2 else { throw InputError(file: "--points", message: "must be at least 2, got \(points)") }
        var options = StoreReport.Options(smoothing: smoothing, curvePoints: points)
        let name: String
        var isDirectory: ObjCBool = false
        let store = try storeOptions.open()
        if FileManager.default.fileExists(atPath: specOrExperiment, isDirectory: &isDirectory), !isDirectory.boolValue {
            let spec = try ExperimentSpec.load(specOrExperiment)
            name = spec.name
            options = spec.reportOptions(options)
        } else {
            name = specOrExperiment
            options = ExperimentSpec.reportOptions(store: store, experiment: name, options)
        }
        let runFilter = try filter.map { try RunFilter(where: $0) }
        let data = try StoreReport.build(store: store, experiment: name, filter: runFilter, options: options)
        let folder = out ?? "reports/\(name)"
        try ReportWriter.write(data, to: folder)
        print(folder)
    }
}
