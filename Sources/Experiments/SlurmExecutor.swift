// rlhub — runs a grid's cells as one Slurm array job: one array task per cell, each writing a run
// bundle on the shared file system (never the central store), ingested here when sealed.
//
// Layout of the work folder (default STORE/slurm, shared with the compute nodes):
//   bundles/RUN/        one run bundle per cell (see RunBundle), kept after ingestion for audit
//   logs/JOB_INDEX.log  each array task's output
//   jobs/JOB.sh         the submitted batch scripts
//   submissions.json    which Slurm job and array index hold which run, and the end states seen
import Foundation
import LM
import RLHubCore
import Store

/// Options of `rlhub grid --executor slurm`.
public struct SlurmOptions: Sendable {
    public var workdir: String
    public var threads: Int
    public var partition: String?
    public var time: String?
    public var cpusPerTask: Int?
    public var mem: String?
    /// At most this many array tasks at once (`--array=0-N%K`).
    public var maxParallel: Int?
    /// Passed to sbatch as they are.
    public var sbatchArgs: [String]
    /// The rlhub binary the array tasks run (on the shared file system).
    public var executable: String

    public init(workdir: String, threads: Int, partition: String? = nil, time: String? = nil, cpusPerTask: Int? = nil,
                mem: String? = nil, maxParallel: Int? = nil, sbatchArgs: [String] = [], executable: String) {
        self.workdir = workdir
        self.threads = threads
        self.partition = partition
        self.time = time
        self.cpusPerTask = cpusPerTask
        self.mem = mem
        self.maxParallel = maxParallel
        self.sbatchArgs = sbatchArgs
        self.executable = executable
    }
}

/// One `sbatch --array` submission: array index i runs `runs[i]`.
public struct SlurmSubmission: Codable, Sendable {
    public var job: String
    public var runs: [String]
    public var cells: [String]
    public var submitted: String
    /// End states seen for array indices (Slurm forgets finished jobs after MinJobAge).
    public var ended: [String: String]
}

/// A cell's state merged from the store, its bundle and Slurm.
public struct SlurmCellStatus: Sendable {
    public var cell: GridCell
    public var run: String?
    /// pending, running, finished, failed, cancelled, or not submitted
    public var state: String
    /// `JOB_INDEX`, when submitted.
    public var task: String?
    public var log: String?
    public var stepsDone: Int
}

/// Talks to sbatch / squeue / scontrol / scancel (`SLURM_CONF` from the environment).
enum SlurmCommand {
    static func run(_ tool: String, _ args: [String]) throws -> (status: Int32, out: String, err: String) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = [tool] + args
        let out = Pipe(), err = Pipe()
        p.standardOutput = out
        p.standardError = err
        p.standardInput = FileHandle.nullDevice
        do { try p.run() } catch {
            throw InputError(file: tool, message: "cannot run \(tool): \(error) (is Slurm installed? scripts/slurm-local.sh up)")
        }
        let o = out.fileHandleForReading.readDataToEndOfFile()
        let e = err.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return (p.terminationStatus, String(decoding: o, as: UTF8.self), String(decoding: e, as: UTF8.self))
    }

    /// Array index → Slurm state (PENDING, RUNNING, COMPLETED, CANCELLED, FAILED, TIMEOUT, …) of a
    /// job, from `scontrol show job -o` (no accounting database needed); nil when Slurm no longer
    /// knows the job.
    static func arrayStates(job: String) throws -> [Int: String]? {
        let r = try run("scontrol", ["show", "job", job, "-o"])
        if r.status != 0 {
            if r.err.contains("Invalid job id") { return nil }
            throw InputError(file: "scontrol", message: r.err.trimmingCharacters(in: .whitespacesAndNewlines))
        }
        var states: [Int: String] = [:]
        for line in r.out.split(separator: "\n") {
            var fields: [String: String] = [:]
            for word in line.split(separator: " ") {
                guard let eq = word.firstIndex(of: "=") else { continue }
                fields[String(word[..<eq])] = String(word[word.index(after: eq)...])
            }
            guard let ids = fields["ArrayTaskId"], let state = fields["JobState"] else { continue }
            for i in expand(ids) { states[i] = state }
        }
        return states
    }

    /// `0-3%2`, `1,4-5` → indices.
    static func expand(_ text: String) -> [Int] {
        let body = text.split(separator: "%").first.map(String.init) ?? text
        var out: [Int] = []
        for part in body.split(separator: ",") {
            let ends = part.split(separator: "-").compactMap { Int($0) }
            if ends.count == 2 { out += Array(ends[0]...ends[1]) } else if let one = ends.first { out.append(one) }
        }
        return out
    }
}

/// Submits, watches, collects and cancels a grid on Slurm. Shares the cell logic with
/// ``LocalExecutor`` (``GridPlan``: expansion, hashing, skip, resume); only where cells run differs.
public final class SlurmExecutor {
    let store: RunStore
    var plan: GridPlan
    public let options: SlurmOptions
    let view: GridProgressView

    public init(store: RunStore, plan: GridPlan, options: SlurmOptions, view: GridProgressView = GridProgressView()) {
        self.store = store
        self.plan = plan
        self.options = options
        self.view = view
    }

    /// The default work folder: `STORE/slurm`.
    public static func defaultWorkdir(store: RunStore) -> String {
        (store.directory ?? NSTemporaryDirectory()) + "/slurm"
    }

    var bundles: String { options.workdir + "/bundles" }
    var submissionsPath: String { options.workdir + "/submissions.json" }
    func logPath(_ task: String) -> String { options.workdir + "/logs/\(task).log" }

    // MARK: - Bookkeeping

    func loadSubmissions() throws -> [SlurmSubmission] {
        guard let data = FileManager.default.contents(atPath: submissionsPath) else { return [] }
        do { return try JSONDecoder().decode([SlurmSubmission].self, from: data) } catch {
            throw InputError(file: submissionsPath, message: "cannot read: \(error)")
        }
    }

    func saveSubmissions(_ subs: [SlurmSubmission]) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted]
        try AtomicFile.write(try encoder.encode(subs), to: submissionsPath)
    }

    /// Run → (task `JOB_INDEX`, Slurm state or nil when unknown) of its latest submission; end
    /// states seen are recorded, since Slurm forgets finished jobs.
    func taskStates() throws -> [String: (task: String, state: String?)] {
        var subs = try loadSubmissions()
        var out: [String: (String, String?)] = [:]
        var changed = false
        for k in subs.indices {
            let live = subs[k].runs.indices.contains { subs[k].ended[String($0)] == nil }
            let states = live ? try SlurmCommand.arrayStates(job: subs[k].job) : nil
            for (i, run) in subs[k].runs.enumerated() {
                var state = subs[k].ended[String(i)] ?? states?[i]
                if state == nil && live && states == nil { state = "GONE" }  // forgotten by Slurm: ended
                if let s = state, !["PENDING", "RUNNING", "CONFIGURING", "COMPLETING", "SUSPENDED", "REQUEUED"].contains(s),
                   subs[k].ended[String(i)] == nil {
                    subs[k].ended[String(i)] = s
                    changed = true
                }
                out[run] = ("\(subs[k].job)_\(i)", state)
            }
        }
        if changed { try saveSubmissions(subs) }
        return out
    }

    static func isLive(_ state: String?) -> Bool {
        guard let state else { return false }
        return ["PENDING", "RUNNING", "CONFIGURING", "COMPLETING", "SUSPENDED", "REQUEUED"].contains(state)
    }

    // MARK: - Collect

    /// Ingests every sealed bundle of this grid not yet in the store; returns the runs ingested.
    @discardableResult
    public func collect() throws -> [String] {
        var done: [String] = []
        for state in plan.states {
            guard let run = state.runID else { continue }
            if case .finished = state { continue }
            let dir = bundles + "/" + run
            guard RunBundle.isSealed(dir) else { continue }
            if case .ingested = try store.ingestBundle(at: dir) { done.append(run) }
        }
        if !done.isEmpty { try refresh() }
        return done
    }

    func refresh() throws {
        let states = try plan.cells.map { try GridPlan.state(of: $0, store: store, codeVersion: plan.codeVersion) }
        plan.states = states
    }

    // MARK: - Status

    /// Every cell with its merged state (ingests sealed bundles first).
    public func status() throws -> [SlurmCellStatus] {
        try collect()
        let tasks = try taskStates()
        return try plan.cells.indices.map { i in
            let cell = plan.cells[i], state = plan.states[i]
            let run = state.runID
            let task = run.flatMap { tasks[$0] }
            var label: String
            var steps = run.flatMap { try? store.run($0).stepsDone } ?? 0
            if case .finished = state { label = "finished" }
            else if let task {
                switch task.state ?? "GONE" {
                case "PENDING", "REQUEUED", "CONFIGURING": label = "pending"
                case "RUNNING", "COMPLETING", "SUSPENDED": label = "running"
                case "CANCELLED": label = "cancelled"
                default: label = "failed"
                }
                if let run, let bundle = try? RunStore(directory: bundles + "/" + run, access: .readOnly),
                   let r = try? bundle.run(run) { steps = r.stepsDone }
            } else { label = "not submitted" }
            _ = try run.map { try self.markEnded($0, label: label, task: task?.task) }
            return SlurmCellStatus(cell: cell, run: run, state: label, task: task?.task, log: task.map { logPath($0.task) }, stepsDone: steps)
        }
    }

    /// A cancelled or failed task leaves its central run failed (resumable) with the reason.
    func markEnded(_ run: String, label: String, task: String?) throws {
        guard label == "cancelled" || label == "failed", let task else { return }
        let r = try store.run(run)
        guard r.status == .queued || r.status == .running else { return }
        try store.markFailed(run, error: "Slurm task \(task) \(label) (log: \(logPath(task))); run the grid again to resume")
    }

    // MARK: - Submit

    /// Submits the grid's unfinished cells whose warm-ups are finished as one array job; returns
    /// the job id (nil when nothing needs to run).
    ///
    /// - Throws: ``InputError`` when a cell is already queued or running in Slurm (naming the job).
    public func submit() throws -> String? {
        let spec = plan.spec
        try store.upsertExperiment(name: spec.name, specText: spec.text, specHash: GridExpansion.specHash(spec.text))
        try collect()
        let tasks = try taskStates()
        for (i, state) in plan.states.enumerated() {
            if let run = state.runID, let t = tasks[run], Self.isLive(t.state) {
                throw InputError(file: "slurm", field: plan.cells[i].key,
                                 message: "already \(t.state!.lowercased()) in Slurm job \(t.task) (run \(run)); wait for it, or `rlhub grid cancel` it first")
            }
        }
        let finishedHashes = Set(plan.cells.indices.filter { if case .finished = plan.states[$0] { true } else { false } }.map { plan.cells[$0].configHash })
        // Each cell is claimed in one transaction (RunStore.claimCell, as the local executor does:
        // same config hash and source hash), so of two submissions of one spec into one store at
        // once only one creates or takes a cell's run; the other skips the cell.
        var claimed: [(run: String, cell: GridCell)] = []
        defer { for c in claimed { try? store.releaseClaim(c.run) } }
        for (i, state) in plan.states.enumerated() {
            let cell = plan.cells[i]
            if case .finished = state { continue }
            if let dep = cell.dependsOn, !finishedHashes.contains(dep) { continue }  // next wave
            switch try store.claimCell(newRun(cell)) {
            case .claimed(let run): claimed.append((run, cell))
            case .finished, .heldElsewhere: continue
            }
        }
        // A submission that saved its job before we claimed has released its runs to `queued`
        // (which a claim takes over): read the submissions again, after the claims, and leave
        // the runs a live task already holds.
        let live = try taskStates().filter { Self.isLive($0.value.state) }
        let submitting = claimed.filter { live[$0.run] == nil }
        for c in submitting { try prepareBundle(run: c.run, cell: c.cell) }
        guard !submitting.isEmpty else {
            try refresh()
            return nil
        }
        let job = try sbatch(runs: submitting.map(\.run), cells: submitting.map(\.cell.key))
        try refresh()
        return job
    }

    /// Creates the bundle of a run (or keeps the one a cancelled task left, to resume from it);
    /// the warm-up checkpoint a cell starts from is copied in so the node resolves `cell:HASH`.
    func prepareBundle(run: String, cell: GridCell) throws {
        let dir = bundles + "/" + run
        if FileManager.default.fileExists(atPath: dir + "/store.sqlite") { return }
        try AtomicFile.replace(dir) { temp in
            try FileManager.default.createDirectory(atPath: temp, withIntermediateDirectories: true)
            let bundle = try RunStore(directory: temp, access: .singleWriter)
            let record = try store.run(run)
            if let dep = cell.dependsOn,
               let warm = try store.runs(configHash: dep).first(where: { $0.status == .finished && plan.codeVersion.isSameCode(asRecorded: $0.codeVersion) }) {
                try bundle.insertRun(copying: warm, status: .finished)
                for c in try store.checkpoints(run: warm.id) {
                    _ = try bundle.blobs.put(file: try store.blobs.path(sha256: c.sha256))
                    try bundle.recordCheckpoint(run: warm.id, step: c.step, sha256: c.sha256, bytes: c.bytes)
                }
            }
            try bundle.insertRun(copying: record, status: .queued)
        }
    }

    func sbatch(runs: [String], cells: [String]) throws -> String {
        let fm = FileManager.default
        for d in ["logs", "jobs", "bundles"] { try fm.createDirectory(atPath: options.workdir + "/" + d, withIntermediateDirectories: true) }
        let workdir = URL(fileURLWithPath: options.workdir).standardizedFileURL.path
        let script = """
            #!/bin/bash
            # rlhub grid \(plan.spec.name): one array task per cell; each writes WORKDIR/bundles/RUN.
            RUNS=(\(runs.joined(separator: " ")))
            RUN=${RUNS[$SLURM_ARRAY_TASK_ID]}
            exec '\(options.executable)' grid-worker --bundle '\(workdir)/bundles/'"$RUN" --threads \(options.threads)

            """
        let scriptPath = options.workdir + "/jobs/\(plan.spec.name)-\(Int(Date().timeIntervalSince1970 * 1000)).sh"
        try AtomicFile.write(Data(script.utf8), to: scriptPath)
        var args = ["--parsable", "--job-name=rlhub-\(plan.spec.name)",
                    "--array=0-\(runs.count - 1)" + (options.maxParallel.map { "%\($0)" } ?? ""),
                    "--output=\(workdir)/logs/%A_%a.log", "--cpus-per-task=\(options.cpusPerTask ?? options.threads)"]
        if let p = options.partition { args.append("--partition=\(p)") }
        if let t = options.time { args.append("--time=\(t)") }
        if let m = options.mem { args.append("--mem=\(m)") }
        args += options.sbatchArgs
        args.append(scriptPath)
        let r = try SlurmCommand.run("sbatch", args)
        guard r.status == 0, let job = r.out.split(separator: "\n").first.map({ String($0.split(separator: ";")[0]) }), !job.isEmpty else {
            throw RunFailureText(message: "sbatch failed: \(r.err.trimmingCharacters(in: .whitespacesAndNewlines))")
        }
        var subs = try loadSubmissions()
        subs.append(SlurmSubmission(job: job, runs: runs, cells: cells, submitted: ISO8601DateFormatter().string(from: Date()), ended: [:]))
        try saveSubmissions(subs)
        return job
    }

    func newRun(_ cell: GridCell) -> NewRun {
        NewRun(
            experiment: plan.spec.name, cell: cell.key, algo: cell.algorithm, task: cell.task, model: plan.spec.model,
            seed: cell.seed, configJSON: String(decoding: cell.config.canonicalJSON(), as: UTF8.self),
            configHash: cell.configHash, groupHash: cell.groupHash, threads: options.threads)
    }

    // MARK: - Wait, cancel

    /// Submits (when `submitFirst`), then follows the grid until no task is queued or running,
    /// ingesting bundles as they are sealed and submitting later waves (cells after their warm-up).
    public func run(submitFirst: Bool = true) throws -> GridOutcome {
        var outcome = GridOutcome()
        let skipped = Set(plan.cells.indices.filter { if case .finished = plan.states[$0] { true } else { false } }.map { plan.cells[$0].key })
        outcome.skipped = skipped.sorted()
        if submitFirst, let job = try submit() { view.event("submitted Slurm array job \(job) (\(pendingCount()) cells)") }
        var seen: [String: String] = [:]
        var resubmitted = false
        while true {
            let rows = try status()
            for row in rows where seen[row.cell.key] != row.state {
                if seen[row.cell.key] != nil || row.state != "not submitted" {
                    if !(skipped.contains(row.cell.key) && row.state == "finished") {
                        view.event("\(row.state) \(row.cell.key) (run \(row.run ?? "-")\(row.task.map { ", task \($0)" } ?? ""))")
                    }
                }
                seen[row.cell.key] = row.state
            }
            let live = rows.filter { $0.state == "pending" || $0.state == "running" }
            let running = rows.filter { $0.state == "running" }.compactMap { row -> (GridCell, RunRecord, [(name: String, finalStep: Int, finalValue: Double?, bestStep: Int?, bestValue: Double?, count: Int)])? in
                guard let run = row.run, var r = try? store.run(run) else { return nil }
                r.stepsDone = row.stepsDone
                return (row.cell, r, [])
            }
            view.update(running: running, done: rows.filter { $0.state == "finished" }.count,
                        failed: rows.filter { $0.state == "failed" || $0.state == "cancelled" }.count, total: rows.count, eta: nil)
            if live.isEmpty {
                // A later wave (cells whose warm-up has just finished)?
                if !resubmitted, rows.contains(where: { $0.state == "not submitted" && $0.run == nil }), let job = try submit() {
                    view.event("submitted Slurm array job \(job) (next wave)")
                    continue
                }
                for row in rows {
                    switch row.state {
                    case "finished": if !skipped.contains(row.cell.key) { outcome.finished.append(row.cell.key) }
                    case "not submitted": outcome.blocked.append(row.cell.key)
                    default: outcome.failed.append((row.cell.key, row.run ?? "-", "Slurm task \(row.task ?? "?") \(row.state) (log: \(row.log ?? "-"))"))
                    }
                }
                resubmitted = true
                view.finish(plan: plan, outcome: outcome)
                return outcome
            }
            Thread.sleep(forTimeInterval: 0.5)
        }
    }

    func pendingCount() -> Int { plan.states.filter { if case .finished = $0 { false } else { true } }.count }

    /// Cancels this grid's queued and running tasks (`scancel JOB_INDEX`); returns the tasks.
    public func cancel() throws -> [String] {
        let tasks = try taskStates()
        var cancelled: [String] = []
        for state in plan.states {
            guard let run = state.runID, let t = tasks[run], Self.isLive(t.state) else { continue }
            let r = try SlurmCommand.run("scancel", [t.task])
            guard r.status == 0 else { throw RunFailureText(message: "scancel \(t.task): \(r.err)") }
            cancelled.append(t.task)
        }
        return cancelled
    }
}

/// A failure of Slurm itself (sbatch refused, scancel failed).
public struct RunFailureText: Error, CustomStringConvertible {
    public var message: String
    public var description: String { message }
}
