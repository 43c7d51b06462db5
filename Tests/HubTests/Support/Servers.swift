// Local HTTP servers for the pull tests: Python's http.server and a Range server with faults.
import Foundation
import Testing

/// A TCP port free at the time of the call (bound then released).
func freePort() throws -> Int {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    defer { close(fd) }
    var addr = sockaddr_in()
    addr.sin_family = sa_family_t(AF_INET)
    addr.sin_addr.s_addr = inet_addr("127.0.0.1")
    addr.sin_port = 0
    var len = socklen_t(MemoryLayout<sockaddr_in>.size)
    let bound = withUnsafeMutablePointer(to: &addr) { p in
        p.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, len) == 0 && getsockname(fd, $0, &len) == 0 }
    }
    guard bound else { throw TestFailure("cannot bind a port") }
    return Int(UInt16(bigEndian: addr.sin_port))
}

struct TestFailure: Error, CustomStringConvertible {
    var description: String
    init(_ text: String) { description = text }
}

/// Starts a process with its output going to the given pipes (or discarded).
func launch(_ executable: String, _ arguments: [String], stdout: Pipe? = nil, stderr: Pipe? = nil) throws -> Process {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = arguments
    process.standardOutput = stdout ?? FileHandle.nullDevice
    process.standardError = stderr ?? FileHandle.nullDevice
    try process.run()
    return process
}

/// Stops a server process with SIGKILL and reaps it. (Not SIGTERM: Python servers started by the
/// test process did not die of it here, presumably a signal mask inherited from the test
/// process, and each stop waited 5 s; and not `waitUntilExit()`, which spins forever when called
/// from a Swift concurrency thread on Linux.)
func stop(_ process: Process) {
    let pid = process.processIdentifier
    kill(pid, SIGKILL)
    var status: Int32 = 0
    for _ in 0..<500 {
        let reaped = waitpid(pid, &status, WNOHANG)
        if reaped == pid || (reaped == -1 && errno == ECHILD) || !process.isRunning { return }
        usleep(10_000)
    }
}

/// Waits until something accepts connections on the port (up to 10 s).
func waitForServer(port: Int) async throws {
    for _ in 0..<200 {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        addr.sin_port = in_port_t(UInt16(port).bigEndian)
        let ok = withUnsafePointer(to: &addr) { p in
            p.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 }
        }
        close(fd)
        if ok { return }
        try await Task.sleep(for: .milliseconds(50))
    }
    throw TestFailure("no server on port \(port)")
}

/// Lines collected from several tasks.
final class LockedLines: @unchecked Sendable {
    private let lock = NSLock()
    private var lines: [String] = []
    func append(_ line: String) { lock.withLock { lines.append(line) } }
    var all: [String] { lock.withLock { lines } }
}

/// `Support/range_server.py` on an OS-chosen port: Range requests, and faults on demand.
final class RangeServer: @unchecked Sendable {
    let process: Process
    let url: String
    private let log = LockedLines()

    init(directory: String, arguments: [String]) throws {
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("range_server.py").path
        let out = Pipe(), err = Pipe()
        process = try launch("/usr/bin/env", ["python3", script, directory] + arguments, stdout: out, stderr: err)
        let first = out.fileHandleForReading.availableData
        guard let line = String(data: first, encoding: .utf8)?.split(separator: "\n").first, let port = Int(line) else {
            throw TestFailure("range_server.py did not print its port")
        }
        url = "http://127.0.0.1:\(port)"
        let log = self.log
        err.fileHandleForReading.readabilityHandler = { handle in
            let data = handle.availableData
            if let text = String(data: data, encoding: .utf8) {
                for line in text.split(separator: "\n") { log.append(String(line)) }
            }
        }
    }

    /// The requests served so far, `GET PATH RANGE STATUS`.
    func requests() -> [String] { log.all }

    func stop() { HubTests.stop(process) }
}
