// rlhub — the samples page of `rlhub serve` (a tiny grid that records every rollout) in headless
// Chromium: no console message, the tokens of the chosen step present, and the tokens shaded —
// blue and red pixels on the screenshot, which is copied to /tmp/samples-page-screenshot.png.
import Foundation
import Testing
import TestSupport

@Suite(.serialized) struct SamplesPageBrowserTests {
    /// GRPO on 1-digit addition with lenient parsing: the random tiny model is right about 6 % of
    /// the time, so among 4 groups of 8 some have mixed rewards and non-zero advantages.
    static let spec = """
        name: samples-page
        model: preset:tiny
        set: {max_new_tokens: 6, token_budget: 64, micro_batch_tokens: 2048, prompts_per_step: 4, group_size: 8, samples_every: 1, samples_per_step: 32}
        steps: 3
        evaluation: {every: 3, episodes: 8}
        algorithms: [grpo]
        tasks:
          - add:digits=1,lenient=true
        seeds: [0]
        """

    @Test(.timeLimit(.minutes(5)), .requiresChromium)
    func samplesPageShadesTokensByAdvantage() throws {
        let chromium = try #require(Reference.executable("chromium"))
        let rlhub = try RLHubBinary.path()
        let dir = try TemporaryFolder()
        let spec = dir.path("spec.yaml"), store = dir.path("store")
        try Self.spec.write(toFile: spec, atomically: true, encoding: .utf8)
        let grid = try runProcess(rlhub, ["grid", spec, "--store", store, "--threads", "1"])
        try #require(grid.0 == 0, "rlhub grid failed: \(grid.2)")
        let runs = try runProcess(rlhub, ["runs", "--store", store, "--format", "json"])
        let id = try #require(((try JSONSerialization.jsonObject(with: Data(runs.1.utf8)) as? [[String: Any]])?.first?["id"]) as? String)
        let mixed = try runProcess(rlhub, ["samples", id, "--store", store, "--where", "advantage != 0", "--format", "json"])
        let withAdvantage = try #require(try JSONSerialization.jsonObject(with: Data(mixed.1.utf8)) as? [[String: Any]], "\(mixed.2)")
        let step = try #require(withAdvantage.first?["step"] as? Int, "no sample with a non-zero advantage in 3 steps")

        let errPath = dir.path("serve.err")
        FileManager.default.createFile(atPath: errPath, contents: nil)
        let server = Process()
        server.executableURL = URL(fileURLWithPath: rlhub)
        server.arguments = ["serve", "--store", store, "--port", "0"]
        server.standardOutput = FileHandle.nullDevice
        server.standardError = FileHandle(forWritingAtPath: errPath)
        try server.run()
        defer { if server.isRunning { server.terminate(); server.waitUntilExit() } }
        var base: String? = nil
        let deadline = Date().addingTimeInterval(30)
        while base == nil && Date() < deadline && server.isRunning {
            let text = (try? String(contentsOfFile: errPath, encoding: .utf8)) ?? ""
            if let r = text.range(of: #"http://127\.0\.0\.1:[0-9]+"#, options: .regularExpression) { base = String(text[r]) }
            else { Thread.sleep(forTimeInterval: 0.05) }
        }
        let url = try #require(base, "rlhub serve printed no URL") + "/runs/\(id)/samples?step=\(step)&shade=advantage"

        // The JSON API gives the step's samples as `rlhub samples --format json` prints them; a bad
        // step is a 400 naming the parameter.
        let api = try runProcess("/usr/bin/curl", ["-s", base! + "/api/runs/\(id)/samples?step=\(step)"])
        let cli = try runProcess(rlhub, ["samples", id, "--store", store, "--step", "\(step)", "--format", "json"])
        let fromAPI = try #require(try JSONSerialization.jsonObject(with: Data(api.1.utf8)) as? [[String: Any]], "\(api.1)")
        let fromCLI = try #require(try JSONSerialization.jsonObject(with: Data(cli.1.utf8)) as? [[String: Any]], "\(cli.2)")
        #expect(!fromAPI.isEmpty && NSArray(array: fromAPI).isEqual(to: fromCLI))
        let bad = try runProcess("/usr/bin/curl", ["-s", "-o", "/dev/null", "-w", "%{http_code}", base! + "/api/runs/\(id)/samples?step=-1"])
        #expect(bad.1 == "400", "step=-1 gave HTTP \(bad.1)")

        let width = 1200, height = 2400
        let shot = dir.path("samples.png")
        // runBrowser resolves no host; the later rule (Chromium keeps the last) lets the local server through.
        let local = "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1"
        let page = try runBrowser(chromium, dir: dir, name: "samples", arguments: [
            "--enable-logging=stderr", "--v=0", local, "--screenshot=\(shot)", "--window-size=\(width),\(height)", url,
        ])
        let console = page.stderr.split(separator: "\n").filter { $0.contains(":CONSOLE") }
        #expect(console.isEmpty, "console messages:\n\(console.joined(separator: "\n"))")
        let dom = try runBrowser(chromium, dir: dir, name: "dom", arguments: [local, "--dump-dom", url])
        #expect(dom.stdout.contains("<b>\(step)</b>") && dom.stdout.contains("class=\"tok\"") && !dom.stdout.contains("<script"))
        // The legend comes first; the samples' own tokens are shaded too (a non-zero alpha).
        let cards = String(dom.stdout[(dom.stdout.range(of: "<section class=\"sample\">")?.lowerBound ?? dom.stdout.endIndex)...])
        #expect(cards.range(of: #"rgba\((0,114,178|213,94,0),0\.(0*[1-9])"#, options: .regularExpression) != nil, "no token is shaded")

        let image = try PNGImage(contentsOf: shot)
        try? FileManager.default.removeItem(atPath: "/tmp/samples-page-screenshot.png")
        try? FileManager.default.copyItem(atPath: shot, toPath: "/tmp/samples-page-screenshot.png")
        // Below the header and the legend (≈ 250 px): the sample cards.
        let cardsArea = image.stats(x: 0, y: 300, width: image.width, height: image.height - 300)
        let margin = image.stats(x: image.width - 30, y: 0, width: 30, height: image.height)
        #expect(margin.ink < margin.total / 100, "the page background is not white")
        #expect(cardsArea.ink > cardsArea.total / 400, "the samples are nearly blank: \(cardsArea)")
        #expect(cardsArea.colour > 100, "no shaded token on the screenshot: \(cardsArea)")
    }
}
