// rlhub grid status — the grid's cells and their state (the store merged with Slurm's).
import ArgumentParser
import Experiments
import Foundation
import LM
import RLHubCore
import Store
import Tensor

extension GridCommand {
    struct Status: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "The grid's cells and their state: the store merged with Slurm's (ingests finished bundles).")
        @OptionGroup var storeOptions: StoreOptions
        @Argument(help: "Spec file.") var spec: String
        @OptionGroup var output: FormatOptions<ListingFormats>
        @Option(help: "Slurm work folder (default: STORE/slurm).") var workdir: String?

        func run() throws {
            let spec = try ExperimentSpec.load(self.spec)
            let store = try storeOptions.open(create: true)
            let plan = try GridPlan.make(spec, store: store)
            let dir = workdir ?? SlurmExecutor.defaultWorkdir(store: store)
            guard FileManager.default.fileExists(atPath: dir + "/submissions.json") else {
                GridStatusTable.print(plan: plan, store: store, format: output.format)
                return
            }
            let executor = SlurmExecutor(store: store, plan: plan, options: SlurmOptions(workdir: dir, threads: 1, executable: ""))
            let rows = try executor.status()
            Listing(columns: ["cell", "state", "run", "steps", "slurm_task", "log", "config_hash"], rows: rows.map { r in
                [.text(r.cell.key), .text(r.state), r.run.cell, .text("\(r.stepsDone)/\(r.cell.config.steps)"), r.task.cell, r.log.cell,
                 .text(String(r.cell.configHash.prefix(12)))]
            }).print(output.format)
        }
    }
}

enum GridStatusTable {
    static func print(plan: GridPlan, store: RunStore, format: OutputFormat) {
        var rows: [[ListingValue?]] = []
        for (cell, state) in zip(plan.cells, plan.states) {
            let run = state.runID.flatMap { try? store.run($0) }
            let summaries = state.runID.flatMap { try? store.metricSummaries(run: $0) } ?? []
            func final(_ name: String) -> ListingValue? { summaries.first { $0.name == name }?.finalValue.cell }
            rows.append([.text(cell.key), .text(state.label), state.runID.cell, .text("\(run?.stepsDone ?? 0)/\(cell.config.steps)"),
                         final("reward/mean"), final("eval/accuracy"), .text(String(cell.configHash.prefix(12))), run?.error.cell])
        }
        Listing(columns: ["cell", "state", "run", "steps", "reward", "eval_accuracy", "config_hash", "error"], rows: rows).print(format)
    }
}
