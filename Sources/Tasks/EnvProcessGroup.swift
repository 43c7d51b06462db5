// rlhub — the pool of external-environment processes: one group of processes per (launch,
// parameters), started on first use, shared by every task and runner of this rlhub process, and
// shut down on every exit path: on a failure (the group is discarded and its processes killed),
// at exit (an atexit handler), and, when rlhub dies without running it (SIGKILL), by the
// environment itself, which exits when its stdin closes or its parent disappears.
import Foundation
import RLHubCore

/// How external environments are run (neither changes results, so neither is in the spec).
public struct ExternalEnvironmentOptions: Sendable, Hashable {
    /// Seconds an environment may take to answer one message before the run fails.
    public var timeout: Double
    /// Processes per environment; a batch's episodes are split among them in contiguous blocks.
    public var processes: Int

    public init(timeout: Double = 120, processes: Int = 1) {
        self.timeout = timeout
        self.processes = processes
    }

    /// `RLHUB_ENV_TIMEOUT` (seconds) and `RLHUB_ENV_PROCESSES`, else the defaults.
    public static func fromEnvironment() throws(InputError) -> ExternalEnvironmentOptions {
        let env = ProcessInfo.processInfo.environment
        var options = ExternalEnvironmentOptions()
        if let raw = env["RLHUB_ENV_TIMEOUT"] {
            guard let t = Double(raw), t > 0, t.isFinite else {
                throw InputError(file: "RLHUB_ENV_TIMEOUT", message: "must be a positive number of seconds, got '\(raw)'")
            }
            options.timeout = t
        }
        if let raw = env["RLHUB_ENV_PROCESSES"] {
            guard let n = Int(raw), (1...64).contains(n) else {
                throw InputError(file: "RLHUB_ENV_PROCESSES", message: "must be an integer in 1...64, got '\(raw)'")
            }
            options.processes = n
        }
        return options
    }
}

/// The processes serving one environment, after their handshake. Thread-safe: one message
/// exchange at a time.
final class EnvProcessGroup: @unchecked Sendable {
    /// The task name (`rg:basic_arithmetic`), used in every error.
    let name: String
    private(set) var hello: EnvHello
    let timeout: Double
    private let processes: [EnvProcess]
    private let lock = NSLock()
    private var failure: InputError?
    private var nextEpisode = 0

    var processCount: Int { processes.count }

    /// Starts `options.processes` copies of `argv` and shakes hands with each.
    init(name: String, argv: [String], params: [String: String], options: ExternalEnvironmentOptions) throws(InputError) {
        self.name = name
        timeout = options.timeout
        var environment = ProcessInfo.processInfo.environment
        environment["PYTHONDONTWRITEBYTECODE"] = "1"
        var started: [EnvProcess] = []
        for _ in 0..<options.processes {
            started.append(try EnvProcess(argv: argv, environment: environment, name: name))
        }
        processes = started
        hello = EnvHello(protocol: 0, name: "", version: "", params: [:], reward_range: [], max_turns: 0, max_new_tokens: 0)
        let replies = try exchange(processes.indices.map { ($0, EnvRequest.hello(params: params)) }, as: EnvHello.self)
        hello = replies[0]
        for (i, reply) in replies.enumerated() {
            if let problem = Self.check(reply) { throw fail(process: i, op: "hello", message: problem) }
            if reply.params != hello.params || reply.version != hello.version || reply.name != hello.name {
                throw fail(process: i, op: "hello", message: "its handshake differs from process 0's")
            }
        }
    }

    deinit { shutdown() }

    /// Why a handshake is unusable, or nil.
    private static func check(_ h: EnvHello) -> String? {
        if h.protocol != environmentProtocolVersion {
            return "speaks protocol \(h.protocol), rlhub speaks \(environmentProtocolVersion)"
        }
        for (what, text) in [("name", h.name), ("version", h.version)] + h.params.map({ ("parameter \($0.key)", $0.value) }) {
            if text.isEmpty || text.contains(where: { $0 == "," || $0.isNewline }) {
                return "\(what) '\(text)' must be non-empty, without commas or newlines"
            }
        }
        for key in h.params.keys where key.isEmpty || key.hasPrefix("env.") || key.contains(where: { $0 == "=" || $0 == "," || $0 == ":" }) {
            return "parameter name '\(key)' is reserved or contains = , or :"
        }
        guard h.reward_range.count == 2, h.reward_range[0].isFinite, h.reward_range[1].isFinite,
              h.reward_range[0] <= h.reward_range[1] else { return "reward_range must be [low, high] with low <= high" }
        guard h.max_turns >= 1, h.max_new_tokens >= 1 else { return "max_turns and max_new_tokens must be >= 1" }
        if let counts = h.problem_counts, Set(counts.keys) != ["train", "test"] || counts.values.contains(where: { $0 < 1 }) {
            return "problem_counts must give train and test, each >= 1"
        }
        return nil
    }

    /// Reserves `count` episode ids (unique for the life of the processes).
    func reserveEpisodes(_ count: Int) -> Int {
        lock.withLock {
            defer { nextEpisode += count }
            return nextEpisode
        }
    }

    /// Sends each request to its process and decodes each reply as `R`, in order.
    func call<R: Decodable>(_ requests: [(process: Int, request: EnvRequest)], as: R.Type) throws(InputError) -> [R] {
        lock.lock()
        defer { lock.unlock() }
        if let failure { throw InputError(file: failure.file, message: "shut down after an earlier failure: \(failure.message)") }
        return try exchange(requests, as: R.self)
    }

    /// The error for a bad reply of process `process` to its last message, an `op` request (the
    /// group is shut down: the protocol's state is unknown after it).
    func fail(process: Int, op: String, message: String) -> InputError {
        let p = processes[process]
        let line = p.linesRead == p.messagesSent ? "reply line \(p.linesRead)" : "no reply line"
        let error = InputError(
            file: "environment \(name) (pid \(p.pid))", field: "message \(p.messagesSent) (\(op)), \(line)",
            message: message)
        failure = failure ?? error
        shutdown()
        EnvironmentRegistry.shared.remove(self)
        return error
    }

    /// Terminates every process (idempotent).
    func shutdown() {
        for p in processes { p.terminate() }
    }

    private func exchange<R: Decodable>(_ requests: [(process: Int, request: EnvRequest)], as: R.Type) throws(InputError) -> [R] {
        let targets = requests.map { processes[$0.process] }
        let lines: [[UInt8]]
        do {
            lines = try EnvProcess.exchange(
                targets, requests.indices.map { requests[$0].request.line(id: targets[$0].messagesSent + 1) }, timeout: timeout)
        } catch {
            let (process, op) = (requests[error.process].process, requests[error.process].request.op)
            switch error.failure {
            case .timeout(let seconds):
                throw fail(process: process, op: op, message: "no reply within \(seconds) s; killed")
            case .exited(let how):
                throw fail(process: process, op: op, message: "the process \(how)")
            }
        }
        var out: [R] = []
        for (k, line) in lines.enumerated() {
            let (process, op) = (requests[k].process, requests[k].request.op)
            let p = processes[process]
            let data = Data(line)
            let shown = String(decoding: line.prefix(120), as: UTF8.self) + (line.count > 120 ? "…" : "")
            do {
                let header = try JSONDecoder().decode(EnvReplyHeader.self, from: data)
                if let error = header.error { throw fail(process: process, op: op, message: "the environment reports: \(error)") }
                guard header.id == p.messagesSent else {
                    throw fail(process: process, op: op, message: "reply id \(header.id.map { String($0) } ?? "missing"), expected \(p.messagesSent): '\(shown)'")
                }
                out.append(try JSONDecoder().decode(R.self, from: data))
            } catch let e as InputError {
                throw e
            } catch let e as DecodingError {
                throw fail(process: process, op: op, message: "malformed reply (\(e.protocolDescription)): '\(shown)'")
            } catch {
                throw fail(process: process, op: op, message: "malformed reply: '\(shown)'")
            }
        }
        return out
    }
}

/// The process-wide pool of environment groups.
final class EnvironmentRegistry: @unchecked Sendable {
    static let shared = EnvironmentRegistry()
    // Recursive: a group that fails its handshake removes itself while `group(_:make:)` holds it.
    private let lock = NSRecursiveLock()
    private var groups: [String: EnvProcessGroup] = [:]

    private init() {
        // At exit (normal return, exit(), an error printed by the CLI) every environment goes.
        atexit { EnvironmentRegistry.shared.shutdownAll() }
    }

    /// The group for `key`, started with `make` when there is none. A new group is also filed
    /// under `canonicalKey(group)` (its parameters as the handshake gave them), so a spec and its
    /// canonical form — a command line's spec and its stored config — share one group; when that
    /// key already has one, the new processes are shut down and the old group is used.
    func group(
        _ key: String, canonicalKey: (EnvProcessGroup) -> String, make: () throws(InputError) -> EnvProcessGroup
    ) throws(InputError) -> EnvProcessGroup {
        lock.lock()
        defer { lock.unlock() }
        if let g = groups[key] { return g }
        let g = try make()
        let canonical = canonicalKey(g)
        if let existing = groups[canonical] {
            groups[key] = existing
            g.shutdown()
            return existing
        }
        groups[key] = g
        groups[canonical] = g
        return g
    }

    func remove(_ group: EnvProcessGroup) {
        lock.withLock { groups = groups.filter { $0.value !== group } }
    }

    /// Shuts every environment down (also on exit).
    func shutdownAll() {
        let all = lock.withLock {
            defer { groups = [:] }
            return Array(groups.values)
        }
        for g in all { g.shutdown() }
    }
}
