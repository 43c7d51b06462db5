// rlhub grid — run a declared grid of algorithms × tasks × seeds into the store; status; the
// hidden worker verb each cell runs in; verify.
import ArgumentParser
import Experiments
import Foundation
import LM
import RLHubCore
import Store
import Tensor

struct GridCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "grid", abstract: "Run a declared grid (experiments/NAME.yaml) into the store; resumable.",
        discussion: """
            Example: rlhub grid experiments/baseline.yaml --jobs 2
            Cells already finished in the store (same config hash, same source hash: rlhub doctor) are skipped; interrupted
            or failed cells resume from their last checkpoint. Ctrl-C stops the workers; run the same
            command again to continue. Logs: STORE/logs/RUN.log.
            On a cluster: rlhub grid SPEC --executor slurm --wait  (one sbatch array, one task per cell;
            logs in STORE/slurm/logs/JOB_INDEX.log; results come home as run bundles).
            """,
        subcommands: [Run.self, Status.self, Collect.self, Cancel.self],
        defaultSubcommand: Run.self)

    struct Run: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "run", abstract: "Run the grid's unfinished cells (the default).")
        @OptionGroup var storeOptions: StoreOptions
        @Argument(help: "Spec file (experiments/NAME.yaml).") var spec: String
        @Option(help: "Cells at once (default: 1 per core).") var jobs: Int?
        @Option(help: "Threads per cell (default: cores / jobs).") var threads: Int?
        @Option(help: "Only cells whose key matches (glob, comma-separated), e.g. 'grpo/*'.") var only: String?
        @Option(help: "Extra attempts for a failed cell.") var retries: Int = 1
        @Flag(help: "List the cells and their state; run nothing.") var dryRun = false
        @Option(help: "local (worker processes here) or slurm (one sbatch array job).") var executor: Executor = .local
        @OptionGroup var slurm: SlurmArguments
        @Flag(help: "slurm: follow the array job until every task ended, collecting results.") var wait = false

        func run() throws {
            if executor == .slurm { return try runOnSlurm() }
            let cores = ProcessInfo.processInfo.activeProcessorCount
            let jobs = jobs ?? cores
            guard jobs >= 1 else { throw InputError(file: "--jobs", message: "must be ≥ 1, got \(jobs)") }
            let threads = threads ?? max(1, cores / jobs)
            guard threads >= 1, threads * jobs <= max(cores, jobs) else {
                throw InputError(file: "--threads", message: "\(threads) threads × \(jobs) jobs exceeds the \(cores) cores")
            }
            guard retries >= 0 else { throw InputError(file: "--retries", message: "must be ≥ 0") }
            guard let (spec, store, plan) = try plannedCells() else { return }
            let exe = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
            FileHandle.standardError.write(Data("""
                rlhub grid \(spec.name): \(plan.cells.count) cells, \(jobs) job\(jobs == 1 ? "" : "s") × \(threads) thread\(threads == 1 ? "" : "s"), store \(storeOptions.directory)
                code \(plan.codeVersion)

                """.utf8))
            let executor = LocalExecutor(
                store: store, plan: plan, options: GridOptions(jobs: jobs, threads: threads, retries: retries, executable: exe),
                view: GridProgressView())
            let outcome = try executor.run()
            if outcome.interrupted { Foundation.exit(130) }
            if !outcome.failed.isEmpty || !outcome.blocked.isEmpty {
                throw RunFailure(message: "grid \(spec.name): \(outcome.failed.count) cells failed, \(outcome.blocked.count) blocked: "
                    + outcome.failed.map { "\($0.cell) (\($0.error))" }.joined(separator: "; "))
            }
        }

        /// The spec, store and plan of the cells to run; nil after `--dry-run` printed them.
        func plannedCells() throws -> (ExperimentSpec, RunStore, GridPlan)? {
            let spec = try ExperimentSpec.load(self.spec)
            do { try ModelResolver.check(spec.model) } catch let error as InputError {
                throw InputError(file: self.spec, field: "model", message: error.description)
            }
            let store = try storeOptions.open(create: true)
            let plan = try GridPlan.make(spec, store: store).selecting(only)
            if plan.cells.isEmpty { throw InputError(file: "--only", field: only ?? "", message: "matches no cell of \(spec.name)") }
            if dryRun {
                GridStatusTable.print(plan: plan, store: store, format: .table)
                return nil
            }
            return (spec, store, plan)
        }

        func runOnSlurm() throws {
            let threads = threads ?? 1
            guard threads >= 1 else { throw InputError(file: "--threads", message: "must be ≥ 1") }
            guard let (spec, store, plan) = try plannedCells() else { return }
            let executor = SlurmExecutor(store: store, plan: plan, options: try slurm.options(store: store, threads: threads))
            FileHandle.standardError.write(Data("""
                rlhub grid \(spec.name) on Slurm: \(plan.cells.count) cells, \(threads) thread\(threads == 1 ? "" : "s") per task, store \(storeOptions.directory), work folder \(executor.options.workdir)
                code \(plan.codeVersion)

                """.utf8))
            if !wait {
                if let job = try executor.submit() {
                    print("submitted Slurm array job \(job); follow with: rlhub grid status \(self.spec)")
                } else {
                    print("nothing to run: every cell is finished in the store, or submitted by another process")
                }
                return
            }
            let outcome = try executor.run()
            if !outcome.failed.isEmpty || !outcome.blocked.isEmpty {
                throw RunFailure(message: "grid \(spec.name): \(outcome.failed.count) cells failed, \(outcome.blocked.count) blocked: "
                    + outcome.failed.map { "\($0.cell) (\($0.error))" }.joined(separator: "; "))
            }
        }
    }

    enum Executor: String, ExpressibleByArgument, CaseIterable { case local, slurm }

    struct Status: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "The grid's cells and their state: the store merged with Slurm's (ingests finished bundles).")
        @OptionGroup var storeOptions: StoreOptions
        @Argument(help: "Spec file.") var spec: String
        @Option(help: "table, csv or json.") var format: ListingFormat = .table
        @Option(help: "Slurm work folder (default: STORE/slurm).") var workdir: String?

        func run() throws {
            let spec = try ExperimentSpec.load(self.spec)
            let store = try storeOptions.open(create: true)
            let plan = try GridPlan.make(spec, store: store)
            let dir = workdir ?? SlurmExecutor.defaultWorkdir(store: store)
            guard FileManager.default.fileExists(atPath: dir + "/submissions.json") else {
                GridStatusTable.print(plan: plan, store: store, format: format)
                return
            }
            let executor = SlurmExecutor(store: store, plan: plan, options: SlurmOptions(workdir: dir, threads: 1, executable: ""))
            let rows = try executor.status()
            Listing(columns: ["cell", "state", "run", "steps", "slurm_task", "log", "config_hash"], rows: rows.map { r in
                [.text(r.cell.key), .text(r.state), r.run.cell, .text("\(r.stepsDone)/\(r.cell.config.steps)"), r.task.cell, r.log.cell,
                 .text(String(r.cell.configHash.prefix(12)))]
            }).print(format)
        }
    }

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

/// sbatch settings of `rlhub grid --executor slurm`.
struct SlurmArguments: ParsableArguments {
    @Option(help: "slurm: partition (sbatch --partition).") var partition: String?
    @Option(help: "slurm: time limit per task, HH:MM:SS.") var time: String?
    @Option(help: "slurm: CPUs per task (default: --threads).") var cpusPerTask: Int?
    @Option(help: "slurm: memory per task, e.g. 4G.") var mem: String?
    @Option(help: "slurm: at most K tasks at once (--array=…%K).") var maxParallel: Int?
    @Option(help: "slurm: an extra sbatch argument (repeatable).") var sbatchArg: [String] = []
    @Option(help: "slurm: work folder on the shared file system (default: STORE/slurm).") var workdir: String?

    func options(store: RunStore, threads: Int) throws -> SlurmOptions {
        if let maxParallel, maxParallel < 1 { throw InputError(file: "--max-parallel", message: "must be ≥ 1") }
        if let cpusPerTask, cpusPerTask < 1 { throw InputError(file: "--cpus-per-task", message: "must be ≥ 1") }
        let exe = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        let dir = workdir ?? SlurmExecutor.defaultWorkdir(store: store)
        return SlurmOptions(workdir: URL(fileURLWithPath: dir).standardizedFileURL.path, threads: threads, partition: partition,
                            time: time, cpusPerTask: cpusPerTask, mem: mem, maxParallel: maxParallel, sbatchArgs: sbatchArg,
                            executable: exe)
    }
}

enum GridStatusTable {
    static func print(plan: GridPlan, store: RunStore, format: ListingFormat) {
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

struct VerifyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify", abstract: "Re-run a stored run from its stored config and compare bit for bit.",
        discussion: "Example: rlhub verify 3fa2c1 --steps 5   (exit 1 and the first divergence when they differ)")
    @OptionGroup var storeOptions: StoreOptions
    @Argument(help: "Run id.") var runID: String
    @Option(help: "Only the first K steps (default: the whole run, including the final checkpoint hash).") var steps: Int?

    func run() throws {
        let store = try storeOptions.open()
        let scratch = NSTemporaryDirectory() + "rlhub-verify-\(getpid())"
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        let r = try RunVerifier.verify(store: store, run: runID, steps: steps, scratch: scratch)
        var line = "verify \(r.run): \(r.steps) steps, \(r.pointsCompared) metric points"
        if let c = r.checkpoint { line += ", final checkpoint sha256 \(c.stored.prefix(16))… " + (c.stored == c.recomputed ? "identical" : "differs (recomputed \(c.recomputed.prefix(16))…)") }
        print(line)
        let (storedCode, currentCode) = r.codeVersions
        let codeNote = storedCode == currentCode ? "" : " (stored by code \(CodeVersion(recorded: storedCode).abbreviated), re-run by \(CodeVersion(recorded: currentCode).abbreviated))"
        if let d = r.firstDivergence {
            throw RunFailure(message: "verify \(r.run)\(codeNote): first divergence at step \(d.step), \(d.metric): stored \(d.stored.map { "\($0)" } ?? "missing"), recomputed \(d.recomputed.map { "\($0)" } ?? "missing")")
        }
        if !r.matches { throw RunFailure(message: "verify \(r.run)\(codeNote): final checkpoint differs") }
        print("identical")
    }
}
