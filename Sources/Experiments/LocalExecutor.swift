// rlhub — runs a grid's cells as worker processes on this machine.
import Foundation
import LM
import Store

/// How a grid runs locally.
public struct GridOptions: Sendable {
    /// Cells at once.
    public var jobs: Int
    /// Compute threads per worker (jobs × threads never exceeds the cores).
    public var threads: Int
    /// Extra attempts for a failed cell (each resumes from its last checkpoint).
    public var retries: Int
    /// The rlhub binary that runs `grid-worker`.
    public var executable: String

    public init(jobs: Int, threads: Int, retries: Int, executable: String) {
        self.jobs = jobs
        self.threads = threads
        self.retries = retries
        self.executable = executable
    }
}

/// What a grid invocation did.
public struct GridOutcome: Sendable {
    public var finished: [String] = []
    public var skipped: [String] = []
    public var failed: [(cell: String, run: String, error: String)] = []
    public var blocked: [String] = []
    public var interrupted = false
}

/// Set by the SIGINT/SIGTERM handler; read by the scheduling loop.
nonisolated(unsafe) private var interruptSignal: Int32 = 0

/// Schedules cells (warm-ups before the cells that start from them), starts workers, retries
/// failures, and keeps the progress view up to date. A cell's failure never stops the others.
public final class LocalExecutor {
    let store: RunStore
    var plan: GridPlan
    let options: GridOptions
    let view: GridProgressView

    public init(store: RunStore, plan: GridPlan, options: GridOptions, view: GridProgressView) {
        self.store = store
        self.plan = plan
        self.options = options
        self.view = view
    }

    struct Worker {
        var cell: Int
        var run: String
        var process: Process
        var started: Date
    }

    /// Runs every unfinished cell; returns when all are finished, failed or blocked, or after
    /// an interrupt (workers stopped, their runs left resumable).
    public func run() throws -> GridOutcome {
        let spec = plan.spec
        try store.upsertExperiment(name: spec.name, specText: spec.text, specHash: GridExpansion.specHash(spec.text))
        var outcome = GridOutcome()
        var runIDs: [String?] = plan.states.map(\.runID)
        var done = Set<String>()  // config hashes finished
        var pending: [Int] = []
        var waitingOnOthers: [Int] = []
        for (i, state) in plan.states.enumerated() {
            switch state {
            case .finished:
                done.insert(plan.cells[i].configHash)
                outcome.skipped.append(plan.cells[i].key)
            case .running: waitingOnOthers.append(i)
            // Runs are created or taken only when a worker starts (`claimCell`), so that two grids
            // on one store never run a cell twice.
            case .resumable, .new: pending.append(i)
            }
        }
        var attempts = [Int](repeating: 0, count: plan.cells.count)
        var failedHashes = Set<String>()
        var workers: [Worker] = []
        var durations: [TimeInterval] = []
        interruptSignal = 0
        let previousInt = signal(SIGINT) { interruptSignal = $0 }
        let previousTerm = signal(SIGTERM) { interruptSignal = $0 }
        defer {
            signal(SIGINT, previousInt)
            signal(SIGTERM, previousTerm)
        }
        let logDir = (store.directory ?? NSTemporaryDirectory()) + "/logs"
        try FileManager.default.createDirectory(atPath: logDir, withIntermediateDirectories: true)

        while !pending.isEmpty || !workers.isEmpty || !waitingOnOthers.isEmpty {
            if interruptSignal != 0 {
                for w in workers where w.process.isRunning { kill(w.process.processIdentifier, SIGTERM) }
                for w in workers {
                    w.process.waitUntilExit()
                    try? store.markFailed(w.run, error: "interrupted (signal \(interruptSignal)); run the grid again to resume")
                }
                outcome.interrupted = true
                view.finish(plan: plan, outcome: outcome)
                return outcome
            }
            // Collect finished workers.
            var still: [Worker] = []
            for w in workers {
                if w.process.isRunning { still.append(w); continue }
                let cell = plan.cells[w.cell]
                let status = try store.run(w.run).status
                if w.process.terminationStatus == 0 && status == .finished {
                    done.insert(cell.configHash)
                    outcome.finished.append(cell.key)
                    durations.append(Date().timeIntervalSince(w.started))
                    view.event("finished \(cell.key) (run \(w.run), \(Self.duration(Date().timeIntervalSince(w.started))))")
                } else {
                    if status == .running { try? store.markFailed(w.run, error: "worker exited with status \(w.process.terminationStatus)") }
                    attempts[w.cell] += 1
                    // The worker may not have been able to record why (a full disk): say what is known.
                    let recorded = (try? store.run(w.run).error) ?? nil
                    let error = recorded.flatMap { $0.isEmpty ? nil : $0 }
                        ?? "worker exited with status \(w.process.terminationStatus) without recording a reason (see \(logDir)/\(w.run).log)"
                    if attempts[w.cell] <= options.retries {
                        view.event("failed \(cell.key) (attempt \(attempts[w.cell])): \(error) — retrying from its last checkpoint")
                        pending.insert(w.cell, at: 0)
                    } else {
                        failedHashes.insert(cell.configHash)
                        outcome.failed.append((cell.key, w.run, error))
                        view.event("failed \(cell.key): \(error) (log: \(logDir)/\(w.run).log)")
                    }
                }
            }
            workers = still
            // Cells running in other processes: wait until they end.
            waitingOnOthers = try waitingOnOthers.filter { i in
                guard let id = runIDs[i] else { return false }
                let run = try store.run(id)
                switch run.status {
                case .finished:
                    done.insert(plan.cells[i].configHash)
                    outcome.skipped.append(plan.cells[i].key)
                    return false
                case .running:
                    if try store.failStaleRuns().contains(id) { pending.append(i); return false }
                    return true
                default:
                    pending.append(i)
                    return false
                }
            }
            // Cells whose warm-up failed cannot run.
            pending = pending.filter { i in
                guard let dep = plan.cells[i].dependsOn, failedHashes.contains(dep) else { return true }
                outcome.blocked.append(plan.cells[i].key)
                return false
            }
            // Start what is ready.
            while workers.count < options.jobs,
                  let k = pending.firstIndex(where: { plan.cells[$0].dependsOn.map(done.contains) ?? true }) {
                let i = pending.remove(at: k)
                let id: String
                switch try store.claimCell(newRun(plan.cells[i])) {
                case .claimed(let run): id = run
                case .finished(let run):
                    runIDs[i] = run
                    done.insert(plan.cells[i].configHash)
                    outcome.skipped.append(plan.cells[i].key)
                    continue
                case .heldElsewhere(let run):
                    runIDs[i] = run
                    waitingOnOthers.append(i)
                    continue
                }
                runIDs[i] = id
                let process = Process()
                process.executableURL = URL(fileURLWithPath: options.executable)
                process.arguments = ["grid-worker", "--store", store.directory ?? "", "--run", id,
                                     "--threads", "\(options.threads)", "--parent", "\(getpid())"]
                do { try start(process, log: "\(logDir)/\(id).log") } catch {
                    try? store.markFailed(id, error: "cannot start the worker: \(error)")
                    throw error
                }
                workers.append(Worker(cell: i, run: id, process: process, started: Date()))
                view.event("started \(plan.cells[i].key) (run \(id), \(options.threads) thread\(options.threads == 1 ? "" : "s"))")
            }
            if workers.isEmpty && waitingOnOthers.isEmpty && !pending.isEmpty {
                // Nothing can start: every pending cell waits on a warm-up outside this selection.
                outcome.blocked += pending.map { plan.cells[$0].key }
                pending.removeAll()
            }
            let remaining = pending.count + workers.count + waitingOnOthers.count
            let mean = durations.isEmpty ? nil : durations.reduce(0, +) / Double(durations.count)
            view.update(
                running: try workers.map { w in (plan.cells[w.cell], try store.run(w.run), try store.metricSummaries(run: w.run)) },
                done: outcome.finished.count + outcome.skipped.count, failed: outcome.failed.count + outcome.blocked.count,
                total: plan.cells.count, eta: mean.map { $0 * Double(remaining) / Double(max(1, options.jobs)) })
            if !workers.isEmpty || !waitingOnOthers.isEmpty { Thread.sleep(forTimeInterval: 0.5) }
        }
        view.finish(plan: plan, outcome: outcome)
        return outcome
    }

    /// Starts a worker with stdout and stderr appended to `log`.
    func start(_ process: Process, log logPath: String) throws {
        if !FileManager.default.fileExists(atPath: logPath) { FileManager.default.createFile(atPath: logPath, contents: nil) }
        let log = try FileHandle(forWritingTo: URL(fileURLWithPath: logPath))
        defer { try? log.close() }
        try log.seekToEnd()
        process.standardOutput = log
        process.standardError = log
        process.standardInput = FileHandle.nullDevice
        try process.run()
    }

    func newRun(_ cell: GridCell) -> NewRun {
        NewRun(
            experiment: plan.spec.name, cell: cell.key, algo: cell.algorithm, task: cell.task, model: plan.spec.model,
            seed: cell.seed, configJSON: String(decoding: cell.config.canonicalJSON(), as: UTF8.self),
            configHash: cell.configHash, groupHash: cell.groupHash, threads: options.threads)
    }

    /// `42s`, `3m07s`-style durations for progress lines (`rlhub train` uses it too).
    public static func duration(_ s: TimeInterval) -> String {
        let t = Int(s.rounded())
        return t >= 3600 ? "\(t / 3600)h\(t % 3600 / 60)m" : t >= 60 ? "\(t / 60)m\(t % 60)s" : "\(t)s"
    }
}
