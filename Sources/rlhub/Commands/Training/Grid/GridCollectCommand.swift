// rlhub grid collect — the grid's finished Slurm run bundles, ingested into the store.
import ArgumentParser
import Experiments
import Foundation
import LM
import RLHubCore
import Store
import Tensor

extension GridCommand {
    struct Collect: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Ingest the grid's finished Slurm run bundles into the store (idempotent).")
        @OptionGroup var storeOptions: StoreOptions
        @Argument(help: "Spec file.") var spec: String
        @Option(help: "Slurm work folder (default: STORE/slurm).") var workdir: String?
        @Flag(help: "First wait until none of the grid's tasks is queued or running.") var wait = false

        func run() throws {
            let spec = try ExperimentSpec.load(self.spec)
            let store = try storeOptions.open(create: true)
            let dir = workdir ?? SlurmExecutor.defaultWorkdir(store: store)
            let executor = SlurmExecutor(store: store, plan: try GridPlan.make(spec, store: store),
                                         options: SlurmOptions(workdir: dir, threads: 1, executable: ""))
            if wait {
                _ = try executor.run(submitFirst: false)
            }
            let ingested = try executor.collect()
            print("collected \(ingested.count) run\(ingested.count == 1 ? "" : "s")" + (ingested.isEmpty ? "" : ": " + ingested.joined(separator: ", ")))
        }
    }
}
