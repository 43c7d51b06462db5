// Measurements of `rlhub serve` (opt-in: RLHUB_SERVE_BENCH=1): latency of GET /api/runs and of an
// archive download while waves of 50 `rlhub pull` processes run, and pull throughput of a 64 MiB archive
// over loopback. Prints the figures; asserts only that everything succeeded.
import Foundation
import Testing

@Suite("rlhub serve measurements", .serialized, .enabled(if: ProcessInfo.processInfo.environment["RLHUB_SERVE_BENCH"] == "1", "a measurement, not a test: make hub-bench runs it"))
struct ServeBenchTests {
    static func percentile(_ values: [Double], _ p: Double) -> Double {
        let sorted = values.sorted()
        return sorted[min(sorted.count - 1, Int((Double(sorted.count - 1) * p).rounded()))]
    }

    /// `curl -w %{time_total}` of one request, in milliseconds.
    static func timed(_ url: String) throws -> (ms: Double, status: Int) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/curl")
        p.arguments = ["-s", "-o", "/dev/null", "-w", "%{http_code} %{time_total}", url]
        let out = Pipe()
        p.standardOutput = out
        try p.run()
        let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        let parts = text.split(separator: " ")
        return ((Double(parts.last ?? "0") ?? 0) * 1000, Int(parts.first ?? "0") ?? 0)
    }

    @Test func latencyUnderFiftyPullsAndThroughput() throws {
        let root = tempDir()
        let fixture = try ServeFixture(in: root, runs: 3, checkpointBytes: 1 << 20)
        let big = try ServeFixture(in: root + "/big", experiment: "big", release: "big-v1", runs: 1, checkpointBytes: 64 << 20, salt: 3)
        let server = try ServeProcess(store: fixture.store)
        defer { server.stop() }
        let index = try JSONSerialization.jsonObject(with: try curl(server.url + "/hub/index.json").body) as! [String: Any]
        let blob = (index["files"] as! [String: Any]).keys.sorted().first { $0.hasPrefix("blobs/") }!

        // Idle latency.
        var idle: [Double] = []
        for _ in 0..<50 { idle.append(try Self.timed(server.url + "/api/runs").ms) }

        // Waves of 50 concurrent pulls (each into a fresh store), with requests timed meanwhile,
        // until at least 40 of each were timed under load.
        var api: [Double] = [], download: [Double] = [], waves: [Double] = []
        var failed = 0
        while (api.count < 40 || waves.count < 3) && waves.count < 20 {
            let wave = waves.count
            var pulls: [Process] = []
            let started = Date()
            for i in 0..<50 { pulls.append(try startRLHub(["pull", server.url, "--store", root + "/pull-\(wave)-\(i)"])) }
            while pulls.contains(where: \.isRunning) {
                let a = try Self.timed(server.url + "/api/runs")
                let b = try Self.timed(server.url + "/hub/" + blob)
                #expect(a.status == 200 && b.status == 200)
                api.append(a.ms)
                download.append(b.ms)
            }
            for p in pulls { p.waitUntilExit() }
            waves.append(Date().timeIntervalSince(started))
            failed += pulls.filter { $0.terminationStatus != 0 }.count
            for i in 0..<50 { try? FileManager.default.removeItem(atPath: root + "/pull-\(wave)-\(i)") }
        }
        #expect(failed == 0)
        server.stop()

        // Throughput: one 64 MiB archive over loopback.
        let bigServer = try ServeProcess(store: big.store)
        defer { bigServer.stop() }
        let t0 = Date()
        let pulled = try rlhub("pull", bigServer.url, "--store", root + "/big-pull", "--format", "json")
        let pullTime = Date().timeIntervalSince(t0)
        #expect(pulled.status == 0, "\(pulled.err)")
        let json = try JSONSerialization.jsonObject(with: Data(pulled.out.utf8)) as? [String: Any]
        let bytes = Double(json?["bytes_downloaded"] as? Int ?? 0)
        let seconds = json?["seconds"] as? Double ?? pullTime
        let bigIndex = try JSONSerialization.jsonObject(with: try curl(bigServer.url + "/hub/index.json").body) as! [String: Any]
        let bigBlob = (bigIndex["files"] as! [String: Any]).keys.first { $0.hasPrefix("blobs/") }!
        let curlTime = try Self.timed(bigServer.url + "/hub/" + bigBlob).ms / 1000

        let report = """
            serve measurements (\(ProcessInfo.processInfo.activeProcessorCount) cores):
              GET /api/runs idle: median \(String(format: "%.1f", Self.percentile(idle, 0.5))) ms, p95 \(String(format: "%.1f", Self.percentile(idle, 0.95))) ms (n=\(idle.count))
              \(waves.count) waves of 50 concurrent pulls (3 runs, 3 × 1 MiB archives each): median \(String(format: "%.1f", Self.percentile(waves, 0.5))) s per wave, \(failed) failed
              GET /api/runs during them: median \(String(format: "%.1f", Self.percentile(api, 0.5))) ms, p95 \(String(format: "%.1f", Self.percentile(api, 0.95))) ms (n=\(api.count))
              GET 1 MiB archive during them: median \(String(format: "%.1f", Self.percentile(download, 0.5))) ms, p95 \(String(format: "%.1f", Self.percentile(download, 0.95))) ms (n=\(download.count))
              rlhub pull of a 64 MiB archive: \(Int(bytes)) bytes in \(String(format: "%.2f", seconds)) s = \(String(format: "%.0f", bytes / seconds / 1e6)) MB/s (process wall \(String(format: "%.2f", pullTime)) s, incl. verify + import)
              curl of the same archive: \(String(format: "%.0f", Double(64 << 20) / curlTime / 1e6)) MB/s
            """
        print(report)
        try report.write(toFile: "/tmp/rlhub-serve-bench.txt", atomically: true, encoding: .utf8)
    }
}
