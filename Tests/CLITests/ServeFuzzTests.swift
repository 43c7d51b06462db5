// Fuzzing `rlhub serve` over raw TCP: 600 requests built from valid ones (every route, Range,
// If-None-Match, push uploads with and without a token) and then damaged — methods, paths with
// percent-escapes, NUL and `..`, oversized lines, broken or lying headers (Content-Length,
// Transfer-Encoding), bytes flipped, cut or repeated anywhere in the request. Whatever arrives,
// the server must answer with a well-formed status line and never a 5xx, or close the connection;
// never show a file outside the hub; and still serve the release byte for byte afterwards.
import Foundation
import Tensor
import Testing

@Suite("rlhub serve: fuzzed HTTP requests", .serialized)
struct ServeFuzzTests {
    @Test(.timeLimit(.minutes(5)))
    func damagedRequestsGetWellFormedAnswers() throws {
        let root = tempDir()
        let fixture = try ServeFixture(in: root, runs: 2, checkpointBytes: 8 << 10)
        try "TOP-SECRET-CONTENT".write(toFile: fixture.store + "/secret.txt", atomically: true, encoding: .utf8)
        let tokenFile = root + "/token"
        try "0123456789abcdef0123456789abcdef".write(toFile: tokenFile, atomically: true, encoding: .utf8)
        let server = try ServeProcess(store: fixture.store, arguments: ["--push-token-file", tokenFile])
        defer { server.stop() }
        let port = UInt16(server.url.split(separator: ":").last!)!
        let index = try curl(server.url + "/hub/index.json")
        let object = try JSONSerialization.jsonObject(with: index.body) as! [String: Any]
        let blob = ((object["files"] as! [String: Any]).keys.sorted().first { $0.hasPrefix("blobs/") })!

        let valid = Self.validRequests(run: fixture.runs[0], other: fixture.runs[1], blob: blob, release: fixture.release)
        var statuses: [Int: Int] = [:]
        for i in 0..<600 {
            var rng = CounterRNG(seed: 0x4777, purpose: .testing, index: UInt64(i))
            let request = Self.damage(valid[Int(rng.next32() % UInt32(valid.count))], &rng)
            let response = try httpExchange(port: port, request)
            #expect(server.process.isRunning, "the server died on case \(i): \(String(decoding: request.prefix(200), as: UTF8.self))")
            guard server.process.isRunning else { return }
            let text = String(decoding: response, as: UTF8.self)
            #expect(!text.contains("TOP-SECRET-CONTENT"), "case \(i) leaked a file outside the hub")
            // Closed without an answer (or no byte within 5 s): counted, and bounded below.
            if response.isEmpty { statuses[0, default: 0] += 1; continue }
            let status = Self.status(of: text)
            statuses[status ?? -1, default: 0] += 1
            #expect(status.map { (100..<500).contains($0) } ?? false,
                    "case \(i): \(text.prefix(120).debugDescription) for \(String(decoding: request.prefix(200), as: UTF8.self).debugDescription)")
        }
        // Nearly every request gets a status line, so the no-5xx check above covers them.
        #expect(statuses[0, default: 0] <= 30, "\(statuses[0, default: 0]) of 600 requests got no answer")
        // Still serving, the same bytes.
        let after = try curl(server.url + "/hub/index.json")
        #expect(after.status == 200 && after.body == index.body)
        #expect(try curl(server.url + "/hub/" + blob).body == Data(contentsOf: URL(fileURLWithPath: fixture.store + "/" + blob)))
        #expect(try curl(server.url + "/api/runs").status == 200)
        // Nothing was pushed: no token in any damaged request is the right one for a whole upload.
        #expect(!(try curl(server.url + "/api/releases").text.contains("fuzz")))
        print("serve fuzz: 600 requests, statuses \(statuses.sorted { $0.key < $1.key }.map { "\($0.key): \($0.value)" }.joined(separator: ", "))")
    }

    /// Well-formed requests for every kind of route.
    static func validRequests(run: String, other: String, blob: String, release: String) -> [[UInt8]] {
        let lines: [(String, [String], String)] = [
            ("GET /hub/index.json", [], ""),
            ("GET /hub/\(blob)", ["Range: bytes=100-199"], ""),
            ("GET /hub/\(blob)", ["Range: bytes=-10", "If-None-Match: \"abc\""], ""),
            ("HEAD /hub/releases/\(release)/store.sqlite", [], ""),
            ("GET /api/runs?where=algo%20%3D%20%27grpo%27&sort=-seed&limit=5", [], ""),
            ("GET /api/runs/\(run)/curve?metric=reward/mean&every=3", [], ""),
            ("GET /api/runs/\(run)/scores", [], ""),
            ("GET /api/checkpoints?run=\(run)", [], ""),
            ("GET /runs/\(run)", [], ""),
            ("GET /compare?runs=\(run),\(other)", [], ""),
            ("GET /?where=seed%20%3E%200", [], ""),
            ("GET /reports/demo", [], ""),
            ("PUT /api/push/fuzz-v1/releases/fuzz-v1/store.sqlite", ["Authorization: Bearer wrong-token-wrong-token", "Content-Type: application/octet-stream"], "SQLite format 3\u{0}"),
            ("PUT /api/push/fuzz-v1/index.json", ["Content-Type: application/json"], "{\"format\": 1}"),
            ("POST /api/runs", ["Transfer-Encoding: chunked"], "5\r\nhello\r\n0\r\n\r\n"),
        ]
        return lines.map { line, headers, body in
            var text = line + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
            for h in headers { text += h + "\r\n" }
            if !body.isEmpty && !headers.contains(where: { $0.hasPrefix("Transfer-Encoding") }) { text += "Content-Length: \(body.utf8.count)\r\n" }
            return Array((text + "\r\n" + body).utf8)
        }
    }

    static let insertions: [String] = [
        "%00", "%2e%2e/", "../", "..%2f", "%ff%fe", "\u{0}", "\r\n", "\r\nContent-Length: 999999999999\r\n",
        "\r\nContent-Length: -1\r\n", "\r\nTransfer-Encoding: chunked\r\n", "\r\nRange: bytes=99999999999999999999-\r\n",
        "\r\nRange: bytes=5-1,2-3\r\n", "\r\nAuthorization: Bearer \r\n", " HTTP/9.9", "é", "👋", "\\..\\", "//",
        "?where=%27", "?where=(((((((((((", "?limit=-5", "?every=0", ":", String(repeating: "A", count: 9000),
    ]

    /// One or two damages to a valid request.
    static func damage(_ request: [UInt8], _ rng: inout CounterRNG) -> [UInt8] {
        var bytes = request
        for _ in 0..<(1 + rng.next32() % 2) {
            let at = Int(rng.next32() % UInt32(bytes.count))
            switch rng.next32() % 6 {
            case 0: bytes[at] ^= UInt8(truncatingIfNeeded: 1 + rng.next32() % 255)
            case 1: bytes.removeSubrange(at..<min(bytes.count, at + 1 + Int(rng.next32() % 30)))
            case 2: bytes.insert(contentsOf: bytes[at..<min(bytes.count, at + 1 + Int(rng.next32() % 30))], at: at)
            case 3: bytes.removeSubrange(at...)
            default: bytes.insert(contentsOf: Array(insertions[Int(rng.next32() % UInt32(insertions.count))].utf8), at: at)
            }
            if bytes.isEmpty { bytes = Array("\r\n".utf8) }
        }
        return bytes
    }

    /// The status of an HTTP/1.x status line, nil when the first line is not one.
    static func status(of response: String) -> Int? {
        let line = response.prefix { $0 != "\r" && $0 != "\n" }
        let parts = line.split(separator: " ", maxSplits: 2)
        guard parts.count >= 2, parts[0] == "HTTP/1.1" || parts[0] == "HTTP/1.0", parts[1].count == 3 else { return nil }
        return Int(parts[1])
    }
}
