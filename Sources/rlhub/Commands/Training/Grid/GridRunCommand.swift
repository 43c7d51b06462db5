// rlhub grid run — the grid's unfinished cells, as local worker processes or one Slurm array job.
import ArgumentParser
import Experiments
import Foundation
import LM
import RLHubCore
import Store
import Tensor

extension GridCommand {
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
