// rlhub check — is a run inside the band of the published seeds of its cell?
import ArgumentParser
import Evaluation
import Experiments
import Foundation
import LM
import Store
import Trainer

struct CheckCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check", abstract: "Is a run inside the band of a reference cell's seeds? Exit 1 when it is not.",
        discussion: """
            Example: rlhub pull baselines/ && rlhub grid experiments/baseline.yaml --only 'grpo/add/seed0' && \\
                     rlhub check RUN --against baselines-v1 --html check.html
            REF is RELEASE or EXPERIMENT, optionally /ALGO/TASK (default: the run's own cell without its seed); the
            reference runs are its finished runs of cell ALGO/TASK/seedN. For each step the run and the reference
            evaluated, the run's held-out test accuracy is compared with the reports' band (mean ± t·sd/√n, 95%) of
            the reference seeds. The run is inside when it is inside at the last compared step and outside at no more
            than a quarter of the steps (rounded down); also printed: the final score's percentile among the reference
            seeds.
            """)
    @OptionGroup var storeOptions: StoreOptions
    @Argument(help: "Run id (or a unique prefix of ≥ 4 characters).") var runID: String
    @Option(help: "Reference: RELEASE or EXPERIMENT[/ALGO/TASK].") var against: String
    @Option(help: "Store holding the reference (default: --store).") var referenceStore: String?
    @Option(help: "Held-out score metric. Default: accuracy.") var metric = "accuracy"
    @Option(help: "Write the verdict, chart and table as an HTML page (no script) to this file.") var html: String?
    @Option(help: "Write the chart as SVG to this file.") var svg: String?
    @OptionGroup var output: FormatOptions<TextOrJSON>

    func run() throws {
        let store = try storeOptions.open()
        let refStore = try referenceStore.map { try openExistingStore($0, flag: "--reference-store") } ?? store
        let result = try RunCheck.check(run: runID, in: store, against: against, referenceStore: refStore, metric: metric)
        if let html { try Data(result.html().utf8).write(to: URL(fileURLWithPath: html), options: .atomic) }
        if let svg { try Data(result.svg().utf8).write(to: URL(fileURLWithPath: svg), options: .atomic) }
        if output.format == .json { try printJSON(result) } else { print(result.text()) }
        if !result.inside {
            throw RunFailure(message: "run \(result.run) is outside the band of \(result.reference)")
        }
    }
}
