// rlhub grid-worker — the hidden verb each grid cell runs in (a worker process, or a Slurm task).
import ArgumentParser
import Experiments
import Foundation
import LM
import RLHubCore
import Store
import Tensor

/// The process a grid starts for one cell (not for users; hidden from help).
struct GridWorkerCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "grid-worker", abstract: "Run one stored run (started by `rlhub grid`).", shouldDisplay: false)
    @OptionGroup var storeOptions: StoreOptions
    @Option(name: .customLong("run"), help: "Run id.") var runID: String?
    @Option(help: "Threads.") var threads: Int = 1
    @Option(help: "Exit when this process (the grid) is gone.") var parent: Int32?
    @Option(help: "Run the bundle in this folder (a Slurm array task); its run is the folder's name.") var bundle: String?

    func run() throws {
        if let parent { Self.exitWithParent(parent) }
        ComputeThreads.set(threads)
        if let bundle {
            // The bundle's own store (rollback journal: it may sit on NFS); sealed when finished.
            let runID = URL(fileURLWithPath: bundle).lastPathComponent
            let store = try RunStore(directory: bundle, access: .singleWriter)
            let worker = CellWorker(store: store, workRoot: bundle + "/work")
            let progress = ProgressLine(total: try CellWorker.config(of: try store.run(runID)).steps)
            try worker.run(runID, threads: threads) { step, metrics in progress.report(step: step, metrics: metrics) }
            try RunBundle.seal(bundle, run: runID)
            return
        }
        guard let runID else { throw InputError(file: "--run", message: "give --run ID or --bundle DIR") }
        let store = try storeOptions.open()
        let worker = CellWorker(store: store, workRoot: CellWorker.defaultWorkRoot(store: store))
        let progress = ProgressLine(total: try CellWorker.config(of: try store.run(runID)).steps)
        try worker.run(runID, threads: threads, parent: parent) { step, metrics in progress.report(step: step, metrics: metrics) }
    }

    /// Kills this worker when the grid process dies (even by SIGKILL), so no orphan keeps
    /// writing while a new grid resumes the cell.
    static func exitWithParent(_ parent: Int32) {
        let thread = Thread {
            while true {
                if getppid() != parent { kill(getpid(), SIGKILL) }
                Thread.sleep(forTimeInterval: 0.25)
            }
        }
        thread.start()
    }
}
