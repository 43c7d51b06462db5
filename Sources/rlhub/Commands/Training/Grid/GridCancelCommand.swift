// rlhub grid cancel — the grid's queued and running Slurm tasks, cancelled.
import ArgumentParser
import Experiments
import Foundation
import LM
import RLHubCore
import Store
import Tensor

extension GridCommand {
    struct Cancel: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Cancel the grid's queued and running Slurm tasks.")
        @OptionGroup var storeOptions: StoreOptions
        @Argument(help: "Spec file.") var spec: String
        @Option(help: "Slurm work folder (default: STORE/slurm).") var workdir: String?

        func run() throws {
            let spec = try ExperimentSpec.load(self.spec)
            let store = try storeOptions.open(create: true)
            let dir = workdir ?? SlurmExecutor.defaultWorkdir(store: store)
            let executor = SlurmExecutor(store: store, plan: try GridPlan.make(spec, store: store),
                                         options: SlurmOptions(workdir: dir, threads: 1, executable: ""))
            let tasks = try executor.cancel()
            print(tasks.isEmpty ? "nothing queued or running" : "cancelled " + tasks.joined(separator: " "))
        }
    }
}
