// `rlhub serve` and `rlhub push` against the real binary: a pull over HTTP reproduces the release;
// Range, ETag and HEAD; path traversal refused; 50 concurrent pulls; push refused without the right
// token (nothing imported) and accepted with it; the JSON API; the web UI in headless Chromium.
//
// The time limits are hang guards (a server that never answers), not speed checks: Swift Testing
// counts a test's time from when it is scheduled, and on 2 cores a synchronous test can wait more
// than a minute for a thread of the cooperative pool while long tests hold both (seen in CI: 72 s
// of waiting before a 0.4 s test body).
import Foundation
import Testing

@Suite("rlhub serve and push", .serialized)
struct ServeCLITests {
    @Test(.timeLimit(.minutes(5)))
    func pullFromServeReproducesTheRelease() throws {
        let root = tempDir()
        let fixture = try ServeFixture(in: root)
        let server = try ServeProcess(store: fixture.store)
        defer { server.stop() }
        let fresh = root + "/fresh"
        let pulled = try rlhub("pull", server.url, "--store", fresh, "--format", "json")
        #expect(pulled.status == 0, "\(pulled.err)")
        #expect(try ServeFixture.snapshot(store: fresh, release: fixture.release) == ServeFixture.snapshot(store: fixture.store, release: fixture.release))
        // The same curve through the CLI of both stores.
        let a = try rlhub("curve", fixture.runs[1], "--metric", "reward/mean", "--format", "json", "--store", fixture.store)
        let b = try rlhub("curve", fixture.runs[1], "--metric", "reward/mean", "--format", "json", "--store", fresh)
        #expect(a.status == 0 && a.out == b.out)
        // The pulled checkpoint is a model REF's blob in the fresh store.
        let checkpoints = try rlhub("checkpoints", "--store", fresh, "--format", "json")
        #expect((try JSONSerialization.jsonObject(with: Data(checkpoints.out.utf8)) as? [Any])?.count == 3)
    }

    @Test(.timeLimit(.minutes(5)))
    func rangesETagsAndHead() throws {
        let fixture = try ServeFixture(in: tempDir())
        let server = try ServeProcess(store: fixture.store)
        defer { server.stop() }
        let index = try curl(server.url + "/hub/index.json")
        #expect(index.status == 200 && index.headers["content-type"] == "application/json")
        let object = try JSONSerialization.jsonObject(with: index.body) as! [String: Any]
        let files = object["files"] as! [String: [String: Any]]
        let blob = try #require(files.keys.sorted().first { $0.hasPrefix("blobs/") })
        let sha = files[blob]!["sha256"] as! String, size = files[blob]!["bytes"] as! Int
        let local = try Data(contentsOf: URL(fileURLWithPath: fixture.store + "/" + blob))

        let whole = try curl(server.url + "/hub/" + blob)
        #expect(whole.status == 200 && whole.body == local)
        #expect(whole.headers["etag"] == "\"\(sha)\"" && whole.headers["content-length"] == String(size))
        #expect(whole.headers["content-type"] == "application/zstd" && whole.headers["accept-ranges"] == "bytes")

        let part = try curl(server.url + "/hub/" + blob, ["-r", "100-1099"])
        #expect(part.status == 206 && part.headers["content-range"] == "bytes 100-1099/\(size)")
        #expect(part.body == local.subdata(in: 100..<1100) && part.headers["content-length"] == "1000")
        let tail = try curl(server.url + "/hub/" + blob, ["-H", "Range: bytes=-10"])
        #expect(tail.status == 206 && tail.body == local.suffix(10))
        let open = try curl(server.url + "/hub/" + blob, ["-H", "Range: bytes=\(size - 5)-"])
        #expect(open.status == 206 && open.body == local.suffix(5))
        let past = try curl(server.url + "/hub/" + blob, ["-H", "Range: bytes=\(size)-"])
        #expect(past.status == 416 && past.headers["content-range"] == "bytes */\(size)" && past.body.isEmpty)

        let cached = try curl(server.url + "/hub/" + blob, ["-H", "If-None-Match: \"\(sha)\""])
        #expect(cached.status == 304 && cached.body.isEmpty)
        let stale = try curl(server.url + "/hub/" + blob, ["-H", "If-None-Match: \"\(String(repeating: "0", count: 64))\""])
        #expect(stale.status == 200 && stale.body.count == size)
        let indexCached = try curl(server.url + "/hub/index.json", ["-H", "If-None-Match: \(index.headers["etag"] ?? "?")"])
        #expect(indexCached.status == 304)

        let head = try curl(server.url + "/hub/" + blob, ["-I"])
        #expect(head.status == 200 && head.headers["content-length"] == String(size) && head.headers["etag"] == "\"\(sha)\"")
        let store = try curl(server.url + "/hub/releases/\(fixture.release)/store.sqlite")
        #expect(store.status == 200 && store.headers["content-type"] == "application/vnd.sqlite3")
        #expect(try curl(server.url + "/hub/blobs/sha256/00/" + String(repeating: "0", count: 64) + ".tar.zst").status == 404)
        #expect(try curl(server.url + "/hub/" + blob, ["-X", "DELETE"]).status == 405)
    }

    @Test(.timeLimit(.minutes(5)))
    func pathTraversalIsRefused() throws {
        let root = tempDir()
        let fixture = try ServeFixture(in: root)
        try FileManager.default.createDirectory(atPath: fixture.store + "/hub", withIntermediateDirectories: true)
        try "TOP-SECRET-CONTENT".write(toFile: fixture.store + "/hub/secret.txt", atomically: true, encoding: .utf8)
        let server = try ServeProcess(store: fixture.store)
        defer { server.stop() }
        let attempts = [
            "/hub/../store.sqlite", "/hub/%2e%2e/store.sqlite", "/hub/%2E%2E/%2E%2E/etc/passwd", "/hub/releases/../../store.sqlite",
            "/hub/releases/demo-v1/../../../store.sqlite", "/hub/..%2fstore.sqlite", "/hub/.%2e/store.sqlite", "/hub//etc/passwd",
            "/hub/blobs\\..\\..\\store.sqlite", "/hub/secret.txt", "/hub/./index.json", "/hub/releases/demo-v1/store.sqlite%00",
            "/hub/releases/%2e%2e/store.sqlite", "/hub/../../../../etc/passwd", "/hub/store.sqlite",
        ]
        for path in attempts {
            let raw = try rawHTTPStatus(server.url, requestLine: "GET \(path) HTTP/1.1")
            #expect([400, 404].contains(raw.status), "\(path) → \(raw.status)")
            #expect(!raw.response.contains("SQLite format 3") && !raw.response.contains("TOP-SECRET-CONTENT") && !raw.response.contains("root:"), "\(path) leaked a file")
            let viaCurl = try curl(server.url + path)
            #expect([400, 404].contains(viaCurl.status), "curl \(path) → \(viaCurl.status)")
        }
        #expect(try rawHTTPStatus(server.url, requestLine: "GET /hub/index.json HTTP/1.1").status == 200)
    }

    @Test(.timeLimit(.minutes(5)))
    func fiftyConcurrentPullsAgree() throws {
        let root = tempDir()
        let fixture = try ServeFixture(in: root, checkpointBytes: 256 << 10)
        let server = try ServeProcess(store: fixture.store)
        defer { server.stop() }
        let expected = try ServeFixture.snapshot(store: fixture.store, release: fixture.release)
        var processes: [(Process, String)] = []
        for i in 0..<50 {
            processes.append((try startRLHub(["pull", server.url, "--store", root + "/pull-\(i)"]), root + "/pull-\(i)"))
        }
        for (p, _) in processes { p.waitUntilExit() }
        #expect(processes.allSatisfy { $0.0.terminationStatus == 0 }, "failed pulls: \(processes.filter { $0.0.terminationStatus != 0 }.count)")
        for (_, store) in processes {
            #expect(try ServeFixture.snapshot(store: store, release: fixture.release) == expected)
        }
    }

    @Test(.timeLimit(.minutes(5)))
    func pushNeedsTheRightToken() throws {
        let root = tempDir()
        let target = try ServeFixture(in: root + "/target")
        let source = try ServeFixture(in: root + "/source", experiment: "other", release: "other-v1", runs: 2, salt: 7)
        let token = "0123456789abcdef0123456789abcdef"
        let tokenFile = root + "/token"
        try token.write(toFile: tokenFile, atomically: true, encoding: .utf8)
        try "wrong-token-wrong-token-wrong".write(toFile: root + "/wrong", atomically: true, encoding: .utf8)

        // No token configured: push disabled (403), nothing written.
        let closed = try ServeProcess(store: target.store)
        let disabled = try rlhub("push", "other-v1", "--to", closed.url, "--store", source.store, environment: ["RLHUB_TOKEN": token])
        closed.stop()
        #expect(disabled.status == 1 && disabled.err.contains("403") && disabled.err.split(separator: "\n").count == 1, "\(disabled.err)")

        let server = try ServeProcess(store: target.store, arguments: ["--push-token-file", tokenFile])
        defer { server.stop() }
        let missing = try rlhub("push", "other-v1", "--to", server.url, "--store", source.store, environment: ["RLHUB_TOKEN": ""])
        #expect(missing.status == 1 && missing.err.contains("401"), "\(missing.err)")
        let wrong = try rlhub("push", "other-v1", "--to", server.url, "--store", source.store, "--token-file", root + "/wrong")
        #expect(wrong.status == 1 && wrong.err.contains("401"), "\(wrong.err)")
        let raw = try curl(server.url + "/api/push/other-v1/index.json", ["-X", "PUT", "-H", "Authorization: Bearer \(token)x", "--data-binary", "{}"])
        #expect(raw.status == 401)
        #expect(!(try curl(server.url + "/api/releases").text.contains("other-v1")))
        let incoming = (try? FileManager.default.contentsOfDirectory(atPath: target.store + "/incoming")) ?? []
        #expect(incoming.isEmpty, "a refused push wrote \(incoming)")

        // Bad input: exit 2.
        expectBadInput(try rlhub("push", "nosuch", "--to", server.url, "--store", source.store, "--token-file", tokenFile), ["nosuch"])
        expectBadInput(try rlhub("push", "other-v1", "--to", "ftp://x", "--store", source.store, "--token-file", tokenFile), ["--to"])

        // A session that is not 32 hex digits names no folder.
        let badSession = try curl(server.url + "/api/push/other-v1/releases/other-v1/store.sqlite",
                                  ["-X", "PUT", "-H", "Authorization: Bearer \(token)", "-H", "Rlhub-Push-Session: ../../../tmp", "--data-binary", "x"])
        #expect(badSession.status == 400 && badSession.text.contains("Rlhub-Push-Session"), "\(badSession.status) \(badSession.text)")
        #expect(((try? FileManager.default.contentsOfDirectory(atPath: target.store + "/incoming")) ?? []).isEmpty)

        // The right token: imported, published, pullable.
        let pushed = try rlhub("push", "other-v1", "--to", server.url, "--store", source.store, "--token-file", tokenFile, "--format", "json")
        #expect(pushed.status == 0, "\(pushed.err)")
        let summary = try JSONSerialization.jsonObject(with: Data(pushed.out.utf8)) as? [String: Any]
        #expect((summary?["runs_imported"] as? [String])?.count == 2)
        #expect(try curl(server.url + "/api/releases").text.contains("other-v1"))
        let fresh = root + "/fresh"
        let pulled = try rlhub("pull", server.url, "--release", "other-v1", "--store", fresh)
        #expect(pulled.status == 0, "\(pulled.err)")
        #expect(try ServeFixture.snapshot(store: fresh, release: "other-v1") == ServeFixture.snapshot(store: source.store, release: "other-v1"))
        // Again: nothing to upload but the release store and the index; the server already has it.
        let again = try rlhub("push", "other-v1", "--to", server.url, "--store", source.store, "--token-file", tokenFile)
        #expect(again.status == 0 && again.out.contains("2 archives already there") && again.out.contains("already had"), "\(again.out) \(again.err)")
    }

    /// Pushes of one release that overlap each stage into their own folder: a push that finishes
    /// does not remove what another is still uploading.
    @Test(.timeLimit(.minutes(5)))
    func concurrentPushesOfOneReleaseAllSucceed() throws {
        let root = tempDir()
        let target = try ServeFixture(in: root + "/target")
        let source = try ServeFixture(in: root + "/source", experiment: "other", release: "other-v1", runs: 3, checkpointBytes: 1 << 20, salt: 3)
        let tokenFile = root + "/token"
        try "0123456789abcdef0123456789abcdef".write(toFile: tokenFile, atomically: true, encoding: .utf8)
        let server = try ServeProcess(store: target.store, arguments: ["--push-token-file", tokenFile])
        defer { server.stop() }
        var pushes: [(Process, String)] = []
        for i in 0..<6 {
            let err = root + "/push-\(i).err"
            pushes.append((try startRLHub(["push", "other-v1", "--to", server.url, "--store", source.store, "--token-file", tokenFile], stderr: err), err))
        }
        for (p, err) in pushes {
            p.waitUntilExit()
            #expect(p.terminationStatus == 0, "\((try? String(contentsOfFile: err, encoding: .utf8)) ?? "")")
        }
        let fresh = root + "/fresh"
        #expect(try rlhub("pull", server.url, "--release", "other-v1", "--store", fresh).status == 0)
        #expect(try ServeFixture.snapshot(store: fresh, release: "other-v1") == ServeFixture.snapshot(store: source.store, release: "other-v1"))
        let left = (try? FileManager.default.contentsOfDirectory(atPath: target.store + "/incoming/other-v1")) ?? []
        #expect(left.isEmpty, "staging left behind: \(left)")
    }

    /// A store that pulled a release without all its archives (`publish --checkpoints`) serves
    /// it, and a pull from that server gets what the first hub had: the same rows, the archives
    /// that were published, the others' hashes.
    @Test(.timeLimit(.minutes(5)))
    func aPulledPartialReleaseIsServedAgain() throws {
        let root = tempDir()
        let fixture = try ServeFixture(in: root)
        let published = try rlhub("publish", fixture.release, "--to", root + "/hub", "--store", fixture.store, "--checkpoints", "seed = 0")
        try #require(published.status == 0, "\(published.err)")
        let middle = root + "/middle"
        try #require(try rlhub("pull", root + "/hub", "--store", middle).status == 0)
        let server = try ServeProcess(store: middle)
        defer { server.stop() }
        let last = root + "/last"
        let pulled = try rlhub("pull", server.url, "--store", last)
        #expect(pulled.status == 0, "\(pulled.err)")
        #expect(try ServeFixture.snapshot(store: last, release: fixture.release) == ServeFixture.snapshot(store: fixture.store, release: fixture.release))
        let index = try JSONSerialization.jsonObject(with: try curl(server.url + "/hub/index.json").body) as! [String: Any]
        let runs = ((index["releases"] as! [[String: Any]])[0]["runs"] as! [[String: Any]])
        let urls = runs.flatMap { ($0["checkpoints"] as! [[String: Any]]).compactMap { $0["url"] as? String } }
        #expect(urls.count == 1 && runs.flatMap { $0["checkpoints"] as! [[String: Any]] }.count == 3)
        // Published again from the middle store: the same hub index as the first.
        let again = try rlhub("publish", fixture.release, "--to", root + "/hub2", "--store", middle)
        #expect(again.status == 0, "\(again.err)")
        #expect(try Data(contentsOf: URL(fileURLWithPath: root + "/hub2/index.json")) == Data(contentsOf: URL(fileURLWithPath: root + "/hub/index.json")))
    }

    /// A push that died between its uploads and its index leaves a session folder; a day after its
    /// last upload the server removes it (at start, and after any finished push), and never one
    /// that uploaded since.
    @Test(.timeLimit(.minutes(5)))
    func abandonedPushSessionsAreRemoved() throws {
        let fixture = try ServeFixture(in: tempDir(), runs: 1)
        let incoming = fixture.store + "/incoming/gone-v1"
        let old = incoming + "/" + String(repeating: "a", count: 32), recent = incoming + "/" + String(repeating: "b", count: 32)
        for dir in [old, recent] {
            try FileManager.default.createDirectory(atPath: dir + "/releases/gone-v1", withIntermediateDirectories: true)
            try Data("partial".utf8).write(to: URL(fileURLWithPath: dir + "/releases/gone-v1/store.sqlite"))
        }
        try FileManager.default.setAttributes([.modificationDate: Date().addingTimeInterval(-25 * 3600)], ofItemAtPath: old)
        try FileManager.default.setAttributes([.modificationDate: Date().addingTimeInterval(-23 * 3600)], ofItemAtPath: recent)
        let tokenFile = tempDir() + "/token"
        try "0123456789abcdef0123456789abcdef".write(toFile: tokenFile, atomically: true, encoding: .utf8)
        let server = try ServeProcess(store: fixture.store, arguments: ["--push-token-file", tokenFile])
        #expect(!FileManager.default.fileExists(atPath: old))
        #expect(FileManager.default.fileExists(atPath: recent + "/releases/gone-v1/store.sqlite"))

        // A session whose folder is old but which uploads now is alive: the upload stamps it.
        let slow = incoming + "/" + String(repeating: "c", count: 32)
        try FileManager.default.createDirectory(atPath: slow + "/blobs", withIntermediateDirectories: true)
        try FileManager.default.setAttributes([.modificationDate: Date().addingTimeInterval(-25 * 3600)], ofItemAtPath: slow)
        let upload = try curl(server.url + "/api/push/gone-v1/releases/gone-v1/store.sqlite",
                              ["-X", "PUT", "-H", "Authorization: Bearer 0123456789abcdef0123456789abcdef",
                               "-H", "Rlhub-Push-Session: " + String(repeating: "c", count: 32), "--data-binary", "x"])
        #expect(upload.status == 201, "\(upload.status) \(upload.text)")
        server.stop()
        let again = try ServeProcess(store: fixture.store)
        defer { again.stop() }
        #expect(FileManager.default.fileExists(atPath: slow + "/releases/gone-v1/store.sqlite"))
    }

    @Test(.timeLimit(.minutes(5)))
    func jsonAPI() throws {
        let fixture = try ServeFixture(in: tempDir())
        let server = try ServeProcess(store: fixture.store)
        defer { server.stop() }
        func json(_ path: String) throws -> (Int, Any) {
            let r = try curl(server.url + path)
            return (r.status, try JSONSerialization.jsonObject(with: r.body))
        }
        let (s1, all) = try json("/api/runs?sort=-seed&limit=2")
        #expect(s1 == 200 && (all as! [[String: Any]]).map { $0["seed"] as! Int } == [2, 1])
        let (s2, grpo) = try json("/api/runs?where=algo+%3D+%27grpo%27")
        #expect(s2 == 200 && (grpo as! [[String: Any]]).count == 2)
        // Same shape as `rlhub runs --format json`.
        let cli = try rlhub("runs", "--store", fixture.store, "--where", "algo = 'grpo'", "--format", "json")
        let cliRows = try JSONSerialization.jsonObject(with: Data(cli.out.utf8)) as! [[String: Any]]
        #expect(Set(cliRows[0].keys) == Set((grpo as! [[String: Any]])[0].keys))
        let bad = try curl(server.url + "/api/runs?where=algo+%3D")
        #expect(bad.status == 400 && bad.text.contains("--where") && bad.text.split(separator: "\n").count == 1)
        #expect(try curl(server.url + "/api/runs?limit=0").status == 400)

        let id = fixture.runs[0]
        let (s3, detail) = try json("/api/runs/\(id)")
        let cliShow = try JSONSerialization.jsonObject(with: Data(try rlhub("show", id, "--format", "json", "--store", fixture.store).out.utf8)) as! [String: Any]
        #expect(s3 == 200 && Set((detail as! [String: Any]).keys) == Set(cliShow.keys))
        let (s4, curve) = try json("/api/runs/\(id)/curve?metric=reward/mean&every=5")
        #expect(s4 == 200 && (curve as! [[String: Any]]).map { $0["step"] as! Int } == [1, 6, 11, 16, 20])
        #expect(try curl(server.url + "/api/runs/\(id)/curve?metric=nope").status == 404)
        #expect(try curl(server.url + "/api/runs/ffffffffffff").status == 404)
        let (s5, scores) = try json("/api/runs/\(id)/scores")
        #expect(s5 == 200 && (scores as! [Any]).count == 2)
        let (s6, checkpoints) = try json("/api/checkpoints?run=\(id)")
        let url = ((checkpoints as! [[String: Any]]).first?["url"] as? String) ?? ""
        #expect(s6 == 200 && url.hasPrefix("/hub/blobs/sha256/"))
        #expect(try curl(server.url + url).status == 200)
        let (s7, releases) = try json("/api/releases")
        #expect(s7 == 200 && ((releases as! [[String: Any]]).first?["name"] as? String) == "demo-v1")
    }

    @Test(.timeLimit(.minutes(5)))
    func webPagesInHeadlessChromium() throws {
        let root = tempDir()
        let fixture = try ServeFixture(in: root)
        let server = try ServeProcess(store: fixture.store)
        defer { server.stop() }
        // Every page answers, escaped (the tags hold < and &).
        let run = try curl(server.url + "/runs/\(fixture.runs[0])")
        #expect(run.status == 200 && run.text.contains("run &lt;0&gt; &amp; co") && !run.text.contains("run <0>"))
        let compare = try curl(server.url + "/compare?runs=\(fixture.runs[0]),\(fixture.runs[1])")
        #expect(compare.status == 200 && compare.text.components(separatedBy: "<svg").count - 1 >= 3)
        #expect(try curl(server.url + "/compare?runs=\(fixture.runs[0])").status == 400)
        let releases = try curl(server.url + "/releases")
        #expect(releases.status == 200 && releases.text.contains("demo-v1"))
        let report = try curl(server.url + "/reports/demo")
        #expect(report.status == 200 && report.text.contains("<svg"), "\(report.text.prefix(300))")
        #expect(try curl(server.url + "/reports/nosuch").status == 404)
        let badFilter = try curl(server.url + "/?where=%3Cscript%3E")
        #expect(badFilter.status == 400 && !badFilter.text.contains("<script>"))

        guard let chromium = ["/usr/bin/chromium", "/usr/bin/chromium-browser"].first(where: FileManager.default.isExecutableFile) else {
            if ProcessInfo.processInfo.environment["RLHUB_REQUIRE_REFERENCE"] == "1" { Issue.record("chromium is required") }
            return
        }
        func dom(_ url: String) throws -> String {
            let p = Process()
            p.executableURL = URL(fileURLWithPath: chromium)
            p.arguments = ["--headless=new", "--no-sandbox", "--disable-gpu", "--user-data-dir=\(root)/chromium-\(UUID().uuidString)",
                           "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync",
                           "--disable-extensions", "--dump-dom", url]
            let out = root + "/dom-\(UUID().uuidString)"
            FileManager.default.createFile(atPath: out, contents: nil)
            p.standardOutput = FileHandle(forWritingAtPath: out)
            p.standardError = FileHandle.nullDevice
            try p.run()
            p.waitUntilExit()
            return try String(contentsOfFile: out, encoding: .utf8)
        }
        let list = try dom(server.url + "/")
        for id in fixture.runs { #expect(list.contains("/runs/\(id)"), "runs page lacks \(id)") }
        let filtered = try dom(server.url + "/?where=" + "algo = 'rloo'".addingPercentEncoding(withAllowedCharacters: .alphanumerics)!)
        #expect(filtered.contains(fixture.runs[1]) && !filtered.contains("/runs/\(fixture.runs[0])"))
        let page = try dom(server.url + "/runs/\(fixture.runs[0])")
        #expect(page.contains("<svg") && page.contains("<path d=\"M"), "the run page has no drawn curve")
        #expect(page.contains("reward/mean") && page.contains("/hub/blobs/sha256/"))
    }

    @Test func serveBadInputIsOneLineWithExitTwo() throws {
        let fixture = try ServeFixture(in: tempDir(), runs: 1)
        expectBadInput(try rlhub("serve", "--store", fixture.store, "--port", "70000"), ["--port"])
        expectBadInput(try rlhub("serve", "--store", tempDir() + "/none", "--port", "0"), ["no store"])
        let short = tempDir() + "/token"
        try "short".write(toFile: short, atomically: true, encoding: .utf8)
        expectBadInput(try rlhub("serve", "--store", fixture.store, "--port", "0", "--push-token-file", short), [short, "16"])
    }
}
