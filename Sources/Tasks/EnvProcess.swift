// rlhub — one environment child process: stdin, stdout and stderr on pipes, spoken to with
// non-blocking writes and poll(2) against a deadline, so a hung or dead environment is noticed
// instead of blocking rlhub.
//
// The child runs in a process group of its own: a terminal's Ctrl-C reaches rlhub only, and
// rlhub's shutdown kills the whole group (an environment's own subprocesses too). Its stderr is
// forwarded line by line to rlhub's stderr (so a grid worker's run log keeps it), and the last
// lines are kept for the one-line message when it dies.
import Foundation
import RLHubCore

#if canImport(Glibc)
import Glibc
#endif

/// What went wrong with an environment process (``ExternalTask`` names the environment and message).
enum EnvProcessFailure: Error {
    /// No complete reply line before the deadline.
    case timeout(seconds: Double)
    /// The process is gone: how it ended, and its last stderr line if any.
    case exited(String)
}

/// A child process speaking one JSON line per request. Not thread-safe: its group's lock
/// serialises every use.
final class EnvProcess: @unchecked Sendable {
    let pid: pid_t
    /// `[rg:basic_arithmetic pid 123]`, the prefix of forwarded stderr lines.
    let label: String
    private var stdinFD: Int32
    private var stdoutFD: Int32
    private var stderrFD: Int32
    private var pendingOut: [UInt8] = []
    private var pendingErr: [UInt8] = []
    private var lastStderrLine = ""
    /// Requests written so far (the number of the last message sent).
    private(set) var messagesSent = 0
    /// Lines read from stdout so far (the number of the last reply line).
    private(set) var linesRead = 0
    private var reaped = false

    /// Starts `argv` (searched on `PATH`) with `environment`.
    init(argv: [String], environment: [String: String], name: String) throws(InputError) {
        // A write to a dead child must fail with EPIPE, not kill rlhub with SIGPIPE.
        signal(SIGPIPE, SIG_IGN)
        var input: [Int32] = [-1, -1], output: [Int32] = [-1, -1], errors: [Int32] = [-1, -1]
        guard pipe(&input) == 0, pipe(&output) == 0, pipe(&errors) == 0 else {
            throw InputError(file: "environment \(name)", message: "cannot create pipes: \(String(cString: strerror(errno)))")
        }
        // Close-on-exec (Glibc's module has no pipe2), so other children never inherit them.
        for fd in input + output + errors { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        // dup2 clears close-on-exec on 0, 1, 2; every other pipe end stays closed in the child, so
        // one environment never holds another's stdin open (its EOF is how it learns to exit).
        posix_spawn_file_actions_adddup2(&actions, input[0], 0)
        posix_spawn_file_actions_adddup2(&actions, output[1], 1)
        posix_spawn_file_actions_adddup2(&actions, errors[1], 2)
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var defaults = sigset_t(), none = sigset_t()
        sigemptyset(&none)
        sigemptyset(&defaults)
        for s in [SIGPIPE, SIGINT, SIGTERM] { sigaddset(&defaults, s) }
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        posix_spawnattr_setsigmask(&attributes, &none)
        posix_spawnattr_setpgroup(&attributes, 0)
        posix_spawnattr_setflags(
            &attributes, Int16(POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK))
        let args = argv.map { strdup($0) } + [nil]
        let env = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer { for p in args + env { free(p) } }
        var pid: pid_t = 0
        let rc = posix_spawnp(&pid, argv[0], &actions, &attributes, args, env)
        for fd in [input[0], output[1], errors[1]] { close(fd) }
        guard rc == 0 else {
            for fd in [input[1], output[0], errors[0]] { close(fd) }
            throw InputError(
                file: "environment \(name)", message: "cannot start \(argv[0]): \(String(cString: strerror(rc)))")
        }
        self.pid = pid
        label = "[\(name) pid \(pid)]"
        stdinFD = input[1]
        stdoutFD = output[0]
        stderrFD = errors[0]
        _ = fcntl(stdinFD, F_SETFL, fcntl(stdinFD, F_GETFL) | O_NONBLOCK)
    }

    deinit { terminate() }

    /// Writes one request to each process and reads each one's next stdout line (without its
    /// newline), all within `timeout` seconds. Extra lines a process wrote stay buffered (and are
    /// then taken as the reply to its next request, whose id will not match).
    ///
    /// - Throws: the index of the process that failed, with the failure.
    static func exchange(
        _ processes: [EnvProcess], _ requests: [[UInt8]], timeout: Double
    ) throws(EnvExchangeError) -> [[UInt8]] {
        let deadline = Date().addingTimeInterval(timeout)
        var unsent = requests.map { $0[...] }
        var lines: [[UInt8]?] = processes.map { $0.takeLine() }
        for p in processes { p.messagesSent += 1 }
        while true {
            let waiting = processes.indices.filter { !unsent[$0].isEmpty || lines[$0] == nil }
            if waiting.isEmpty { return lines.map { $0 ?? [] } }
            var fds: [pollfd] = []
            var owners: [(process: Int, stream: Int)] = []
            for i in processes.indices {
                let p = processes[i]
                if !unsent[i].isEmpty { fds.append(pollfd(fd: p.stdinFD, events: Int16(POLLOUT), revents: 0)); owners.append((i, 0)) }
                if lines[i] == nil { fds.append(pollfd(fd: p.stdoutFD, events: Int16(POLLIN), revents: 0)); owners.append((i, 1)) }
                if p.stderrFD >= 0 { fds.append(pollfd(fd: p.stderrFD, events: Int16(POLLIN), revents: 0)); owners.append((i, 2)) }
            }
            let left = deadline.timeIntervalSinceNow
            guard left > 0 else { throw EnvExchangeError(process: waiting[0], failure: .timeout(seconds: timeout)) }
            let ready = poll(&fds, nfds_t(fds.count), Int32(min(left * 1000 + 1, 1_000_000)))
            if ready < 0 && errno == EINTR { continue }
            for (k, fd) in fds.enumerated() where fd.revents != 0 {
                let (i, stream) = owners[k]
                let p = processes[i]
                switch stream {
                case 0:
                    let n = unsent[i].withUnsafeBytes { write(p.stdinFD, $0.baseAddress, $0.count) }
                    if n > 0 {
                        unsent[i] = unsent[i].dropFirst(n)
                    } else if n < 0 && errno != EAGAIN && errno != EINTR {
                        throw EnvExchangeError(process: i, failure: .exited(p.endState()))
                    }
                case 1:
                    guard p.readInto(stdout: true) else { throw EnvExchangeError(process: i, failure: .exited(p.endState())) }
                    lines[i] = p.takeLine()
                default:
                    if !p.readInto(stdout: false) { p.closeStderr() }
                }
            }
        }
    }

    /// Closes stdin (an environment exits on EOF), waits briefly, then kills the process group and
    /// reaps the child. Idempotent.
    func terminate() {
        if stdinFD >= 0 {
            close(stdinFD)
            stdinFD = -1
        }
        if !reaped && !waitForExit(seconds: 0.2) {
            kill(-pid, SIGKILL)
            kill(pid, SIGKILL)
            _ = waitForExit(seconds: 5)
        }
        drainStderr(seconds: 0.1)
        closeStderr()
        if stdoutFD >= 0 {
            close(stdoutFD)
            stdoutFD = -1
        }
    }

    // MARK: - Reading

    /// Reads what is available into the stdout or stderr buffer; `false` on EOF or error.
    private func readInto(stdout: Bool) -> Bool {
        var chunk = [UInt8](repeating: 0, count: 65536)
        let n = chunk.withUnsafeMutableBytes { read(stdout ? stdoutFD : stderrFD, $0.baseAddress, $0.count) }
        if n < 0 && errno == EINTR { return true }
        guard n > 0 else { return false }
        if stdout {
            pendingOut += chunk[..<n]
        } else {
            pendingErr += chunk[..<n]
            forwardStderrLines()
        }
        return true
    }

    /// The next complete stdout line, if buffered.
    private func takeLine() -> [UInt8]? {
        guard let newline = pendingOut.firstIndex(of: 0x0A) else { return nil }
        let line = Array(pendingOut[..<newline])
        pendingOut.removeSubrange(...newline)
        linesRead += 1
        return line
    }

    private func forwardStderrLines(flush: Bool = false) {
        while let newline = pendingErr.firstIndex(of: 0x0A) ?? (flush && !pendingErr.isEmpty ? pendingErr.count : nil) {
            let text = String(decoding: pendingErr[..<newline], as: UTF8.self)
            pendingErr.removeSubrange(..<min(newline + 1, pendingErr.count))
            FileHandle.standardError.write(Data("\(label) \(text)\n".utf8))
            let trimmed = text.trimmingASCIIWhitespace()
            if !trimmed.isEmpty { lastStderrLine = trimmed }
        }
    }

    private func closeStderr() {
        guard stderrFD >= 0 else { return }
        forwardStderrLines(flush: true)
        close(stderrFD)
        stderrFD = -1
    }

    /// Reads stderr until EOF or `seconds` pass (the traceback of a crashing environment).
    private func drainStderr(seconds: Double) {
        let deadline = Date().addingTimeInterval(seconds)
        while stderrFD >= 0 {
            var fd = pollfd(fd: stderrFD, events: Int16(POLLIN), revents: 0)
            let left = deadline.timeIntervalSinceNow
            guard left > 0, poll(&fd, 1, Int32(left * 1000) + 1) > 0 else { return }
            if !readInto(stdout: false) { closeStderr() }
        }
    }

    // MARK: - Exit

    private var exitDescription = ""

    /// Polls `waitpid` for up to `seconds`; true once the child is reaped.
    private func waitForExit(seconds: Double) -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while !reaped {
            var status: Int32 = 0
            let r = waitpid(pid, &status, WNOHANG)
            if r == pid || (r < 0 && errno == ECHILD) {
                reaped = true
                let signal = status & 0x7F
                exitDescription =
                    r < 0 ? "exited" : signal == 0 ? "exited with status \((status >> 8) & 0xFF)" : "was killed by signal \(signal)"
                return true
            }
            if Date() >= deadline { return false }
            usleep(10_000)
        }
        return true
    }

    /// How the process ended (after its stdout closed or a write failed), with its last stderr
    /// line; a process that closed stdout but lives on is killed.
    private func endState() -> String {
        drainStderr(seconds: 2)
        if !waitForExit(seconds: 2) {
            kill(-pid, SIGKILL)
            _ = waitForExit(seconds: 5)
            exitDescription = "closed its stdout and was killed"
        }
        return lastStderrLine.isEmpty ? exitDescription : "\(exitDescription); last stderr line: \(lastStderrLine)"
    }
}

/// A failure of process `process` of an ``EnvProcess/exchange(_:_:timeout:)``.
struct EnvExchangeError: Error {
    var process: Int
    var failure: EnvProcessFailure
}
