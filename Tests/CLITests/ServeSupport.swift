// Helpers of the `rlhub serve` / `push` tests: a fixture store with a release, a server process on
// a free port, and HTTP requests through curl (which sends paths as given with --path-as-is).
import Foundation
import RLHubCore
import Store
import Testing

/// A store with `count` finished runs of experiment `experiment` (metrics, a test score, a
/// checkpoint of `checkpointBytes` pseudo-random bytes each), released as `release`.
struct ServeFixture {
    let store: String
    let runs: [String]
    let release: String

    init(in root: String, experiment: String = "demo", release: String = "demo-v1", runs count: Int = 3,
         checkpointBytes: Int = 64 << 10, salt: Int = 0) throws {
        store = root + "/store"
        self.release = release
        let s = try RunStore(directory: store)
        try s.upsertExperiment(name: experiment, specText: "name: \(experiment)\n", specHash: "spec-\(experiment)")
        var ids: [String] = []
        for i in 0..<count {
            let algo = i % 2 == 0 ? "grpo" : "rloo"
            let id = try s.createRun(NewRun(
                experiment: experiment, cell: "\(algo)/add/seed\(i)", algo: algo, task: "add:digits=1", model: "preset:tiny", seed: i,
                configJSON: "{\"algo\":\"\(algo)\",\"seed\":\(i),\"salt\":\(salt)}", configHash: "config-\(salt)-\(i)", groupHash: "group-\(algo)",
                codeVersion: CodeVersion(commit: String(repeating: "c", count: 40), dirty: false, diffHash: ""), threads: 1))
            try s.markRunning(id, threads: 1)
            for step in 1...20 {
                try s.appendMetrics(run: id, records: [(step, ["reward/mean": Double(step * (i + 1)) / 40, "loss/total": 1 / Double(step)])])
            }
            try s.addScores(run: id, [
                ScoreRecord(step: 10, split: "test", metric: "accuracy", value: 0.05 * Double(i + 1), episodes: 20, ciLow: 0, ciHigh: 0.4),
                ScoreRecord(step: 20, split: "test", metric: "accuracy", value: 0.1 * Double(i + 1), episodes: 20, ciLow: 0, ciHigh: 0.5),
            ])
            let folder = root + "/ckpt-\(i)"
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
            var state = UInt64(i + 1 + salt * 1000) &* 0x9E37_79B9_7F4A_7C15
            var bytes = [UInt8](repeating: 0, count: checkpointBytes)
            for k in 0..<checkpointBytes {
                state = state &* 6364136223846793005 &+ 1442695040888963407
                bytes[k] = UInt8(truncatingIfNeeded: state >> 56)
            }
            try Data(bytes).write(to: URL(fileURLWithPath: folder + "/model.safetensors"))
            try s.addCheckpoint(run: id, step: 20, folder: folder)
            try s.setStepsDone(id, 20)
            try s.markFinished(id)
            try s.tag(id, key: "note", value: "run <\(i)> & co")
            ids.append(id)
        }
        runs = ids
        try s.createRelease(name: release, filter: RunFilter(where: "experiment = '\(experiment)'"), notes: "\(release) notes")
    }

    /// What a pull must reproduce: runs, every point, summaries, scores, checkpoints and tags of `release`.
    static func snapshot(store dir: String, release: String) throws -> [String] {
        let store = try RunStore(directory: dir)
        var lines: [String] = []
        for id in try store.release(release).runs {
            let r = try store.run(id)
            lines.append("run \(r.id) \(r.experiment ?? "-") \(r.cell ?? "-") \(r.algo) \(r.seed) \(r.configHash) \(r.status) \(r.stepsDone) \(r.created)")
            lines += try store.allMetrics(run: id).map { "point \(id) \($0.step) \($0.name) \($0.value.map { "\($0)" } ?? "nil")" }
            lines += try store.scores(run: id).map { "score \(id) \($0)" }
            lines += try store.checkpoints(run: id).map { "checkpoint \(id) \($0.step) \($0.sha256) \($0.bytes)" }
            lines += try store.tags(id).map { "tag \(id) \($0.key)=\($0.value)" }
        }
        return lines
    }
}

/// An `rlhub serve` process on a free loopback port; stopped (SIGTERM) by ``stop()``.
final class ServeProcess {
    let process = Process()
    let url: String
    private let errPath: String

    init(store: String, arguments: [String] = [], environment: [String: String] = [:]) throws {
        errPath = tempDir() + "/serve.err"
        FileManager.default.createFile(atPath: errPath, contents: nil)
        process.executableURL = URL(fileURLWithPath: try rlhubBinary)
        process.arguments = ["serve", "--store", store, "--port", "0"] + arguments
        var env = ProcessInfo.processInfo.environment
        env["RLHUB_PUSH_TOKEN"] = nil
        process.environment = env.merging(environment) { $1 }
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle(forWritingAtPath: errPath)
        try process.run()
        let deadline = Date().addingTimeInterval(30)
        var found: String? = nil
        while found == nil && Date() < deadline && process.isRunning {
            let text = (try? String(contentsOfFile: errPath, encoding: .utf8)) ?? ""
            if let range = text.range(of: #"http://127\.0\.0\.1:[0-9]+"#, options: .regularExpression) {
                found = String(text[range])
            } else {
                Thread.sleep(forTimeInterval: 0.02)
            }
        }
        guard let found else {
            let text = (try? String(contentsOfFile: errPath, encoding: .utf8)) ?? ""
            if process.isRunning { process.terminate() }
            throw InputError(file: "rlhub serve", message: "did not print its URL: \(text)")
        }
        url = found
    }

    var stderr: String { (try? String(contentsOfFile: errPath, encoding: .utf8)) ?? "" }

    func stop() {
        if process.isRunning {
            process.terminate()
            process.waitUntilExit()
        }
    }

    deinit { stop() }
}

/// One HTTP exchange through curl.
struct HTTPResult {
    var status: Int
    var headers: [String: String]
    var body: Data
    var text: String { String(decoding: body, as: UTF8.self) }
}

/// `curl -s --path-as-is -D headers -o body [extra] URL`.
func curl(_ url: String, _ extra: [String] = []) throws -> HTTPResult {
    let dir = tempDir()
    let p = Process()
    p.executableURL = URL(fileURLWithPath: "/usr/bin/curl")
    p.arguments = ["-s", "--path-as-is", "--max-time", "60", "-D", dir + "/h", "-o", dir + "/b"] + extra + [url]
    p.standardOutput = FileHandle.nullDevice
    p.standardError = FileHandle.nullDevice
    try p.run()
    p.waitUntilExit()
    let head = (try? String(contentsOfFile: dir + "/h", encoding: .utf8)) ?? ""
    var headers: [String: String] = [:]
    var status = 0
    for line in head.components(separatedBy: "\r\n") {
        if line.hasPrefix("HTTP/") { status = Int(line.split(separator: " ")[1]) ?? 0; headers = [:]; continue }
        guard let colon = line.firstIndex(of: ":") else { continue }
        headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
    }
    let body = (try? Data(contentsOf: URL(fileURLWithPath: dir + "/b"))) ?? Data()
    try? FileManager.default.removeItem(atPath: dir)
    return HTTPResult(status: status, headers: headers, body: body)
}

/// A request written byte for byte on a TCP socket (no client normalises the path); the status.
func rawHTTPStatus(_ url: String, requestLine: String) throws -> (status: Int, response: String) {
    let port = UInt16(url.split(separator: ":").last!)!
    let response = try httpExchange(port: port, Array((requestLine + "\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n").utf8))
    let text = String(decoding: response, as: UTF8.self)
    let status = Int(text.split(separator: " ").dropFirst().first ?? "") ?? 0
    return (status, text)
}

/// Sends `request` to 127.0.0.1:`port`, closes the sending side, and reads until the server
/// closes (or 5 s pass without a byte).
func httpExchange(port: UInt16, _ request: [UInt8]) throws -> Data {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    defer { close(fd) }
    var timeout = timeval(tv_sec: 5, tv_usec: 0)
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = port.bigEndian
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    let connected = withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
    }
    guard connected == 0 else { throw InputError(file: "127.0.0.1:\(port)", message: "cannot connect") }
    _ = request.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
    shutdown(fd, Int32(SHUT_WR))
    var response = Data()
    var buffer = [UInt8](repeating: 0, count: 65536)
    while true {
        let n = recv(fd, &buffer, buffer.count, 0)
        if n <= 0 { break }
        response.append(contentsOf: buffer[0..<n])
    }
    return response
}

/// Starts `rlhub ARGS` in the background with one thread; stdout is discarded, stderr goes to
/// the file `stderr` (discarded when nil).
func startRLHub(_ args: [String], stderr: String? = nil) throws -> Process {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: try rlhubBinary)
    p.arguments = args
    p.environment = ProcessInfo.processInfo.environment.merging(["RLHUB_THREADS": "1", "OPENBLAS_NUM_THREADS": "1"]) { $1 }
    p.standardOutput = FileHandle.nullDevice
    if let stderr {
        FileManager.default.createFile(atPath: stderr, contents: nil)
        p.standardError = FileHandle(forWritingAtPath: stderr)
    } else {
        p.standardError = FileHandle.nullDevice
    }
    try p.run()
    return p
}
