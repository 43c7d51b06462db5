// The published releases in the repository (`baselines/`, hub layout): pulled into a fresh store
// they regenerate `reports/baseline/` (the newest release's report) byte for byte, and its checkpoints are model REFs (`hub:…`) that
// `eval` and `compare` accept.
import Foundation
import Testing

@Suite("rlhub pull baselines/", .serialized)
struct BaselinesHubCLITests {
    static let repo = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().path
    static let hub = repo + "/baselines"

    /// The runs of the published index with a published checkpoint, and those without one.
    static func runs() throws -> (published: [(id: String, algo: String, task: String)], unpublished: [String]) {
        let data = try Data(contentsOf: URL(fileURLWithPath: hub + "/index.json"))
        let index = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        let release = try #require((index["releases"] as? [[String: Any]])?.first { $0["name"] as? String == "baselines-v1" })
        var published: [(String, String, String)] = [], unpublished: [String] = []
        for run in release["runs"] as? [[String: Any]] ?? [] {
            let checkpoints = run["checkpoints"] as? [[String: Any]] ?? []
            if checkpoints.contains(where: { $0["url"] is String }) {
                published.append((run["id"] as! String, run["algo"] as! String, run["task"] as! String))
            } else {
                unpublished.append(run["id"] as! String)
            }
        }
        return (published, unpublished)
    }

    /// The newest release of the hub (the one `reports/baseline/` is the report of): its name, its
    /// experiment and how many runs it has.
    static func newest() throws -> (release: String, experiment: String, runs: Int) {
        let data = try Data(contentsOf: URL(fileURLWithPath: hub + "/index.json"))
        let index = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        let release = try #require((index["releases"] as? [[String: Any]])?.last)
        let runs = release["runs"] as? [[String: Any]] ?? []
        return (try #require(release["name"] as? String), try #require(runs.first?["experiment"] as? String), runs.count)
    }

    @Test func aPullRegeneratesTheCommittedReportByteForByte() throws {
        let root = tempDir()
        let store = root + "/store"
        let pull = try rlhub("pull", Self.hub, "--store", store)
        try #require(pull.status == 0, "pull: \(pull.err)")
        #expect(pull.out.contains("pulled baselines-v1"))
        let again = try rlhub("pull", Self.hub, "--store", store, "--format", "json")
        #expect(again.status == 0)
        #expect(again.out.contains("\"bytes_downloaded\" : 0") || again.out.contains("\"bytes_downloaded\":0"))

        // reports/baseline/ is the newest release's report (baselines-v1 stays in the hub beside it).
        let newest = try Self.newest()
        #expect(pull.out.hasPrefix("pulled ") && pull.out.contains(newest.release), "\(pull.out)")
        let out = root + "/report"
        let report = try rlhub("report", newest.experiment, "--store", store, "--out", out)
        try #require(report.status == 0, "report: \(report.err)")
        let expected = try ReportCLITests.contents(Self.repo + "/reports/baseline")
        let got = try ReportCLITests.contents(out)
        #expect(!expected.isEmpty)
        #expect(got.keys.sorted() == expected.keys.sorted())
        for (name, bytes) in expected { #expect(got[name] == bytes, "\(name) differs from reports/baseline/\(name)") }

        let runs = try rlhub("runs", "--store", store, "--where", "release = 'baselines-v1'", "--format", "csv")
        #expect(runs.status == 0)
        #expect(runs.out.split(separator: "\n").count == 37)  // header + 36 runs
        let newestRuns = try rlhub("runs", "--store", store, "--where", "release = '\(newest.release)'", "--format", "csv")
        #expect(newestRuns.out.split(separator: "\n").count == newest.runs + 1)
    }

    /// `rlhub serve` of a store that pulled the release (4 of 36 archives): every page of every
    /// run answers, and the server is still up after them (a PPO run's adv/mean of ±1e-16 once
    /// trapped in the chart axis and took the server down).
    @Test(.timeLimit(.minutes(5)))
    func everyPageOfThePulledReleaseServes() throws {
        let store = tempDir() + "/store"
        try #require(try rlhub("pull", Self.hub, "--store", store).status == 0)
        let server = try ServeProcess(store: store)
        defer { server.stop() }
        let (published, unpublished) = try Self.runs()
        let ids = published.map(\.id) + unpublished
        #expect(ids.count == 36)
        for id in ids {
            let page = try curl(server.url + "/runs/" + id)
            #expect(page.status == 200 && page.text.contains("<svg"), "/runs/\(id) → \(page.status)")
            let detail = try curl(server.url + "/api/runs/" + id)
            #expect(detail.status == 200 && (try? JSONSerialization.jsonObject(with: detail.body)) != nil, "/api/runs/\(id)")
        }
        for path in ["/", "/releases", "/reports", "/reports/baseline", "/compare?runs=" + ids.prefix(12).joined(separator: ","), "/hub/index.json"] {
            #expect(try curl(server.url + path).status == 200, "\(path)")
        }
        // The served report of the newest release's experiment is the committed one: the spec
        // stored with the experiment orders it and gives its description, as for `rlhub report`.
        let served = try curl(server.url + "/reports/" + (try Self.newest().experiment))
        #expect(served.body == (try Data(contentsOf: URL(fileURLWithPath: Self.repo + "/reports/baseline/index.html"))))
        #expect(server.process.isRunning)
    }

    @Test func pulledCheckpointsAreModelReferences() throws {
        let root = tempDir()
        let store = root + "/store"
        let (published, unpublished) = try Self.runs()
        let rl = published.filter { $0.algo != "sft" && $0.task.hasPrefix("add") }
        try #require(rl.count >= 2 && !unpublished.isEmpty)
        let pull = try rlhub("pull", Self.hub, "--store", store, "--run", rl[0].id)
        try #require(pull.status == 0, "pull: \(pull.err)")
        #expect(pull.out.contains("1 checkpoints added"))

        let eval = try rlhub("eval", "--model", "hub:baselines-v1/\(rl[0].id)", "--task", "add:digits=1", "--episodes", "10",
                             "--store", store, "--json")
        #expect(eval.status == 0, "eval: \(eval.err)")
        #expect(eval.out.contains("\"accuracy\""))

        // Not pulled yet: a one-line error that says how to get it.
        let missing = try rlhub("eval", "--model", "hub:baselines-v1/\(rl[1].id)", "--task", "add:digits=1", "--store", store)
        expectBadInput(missing, ["hub:baselines-v1/\(rl[1].id)", "was not pulled", "rlhub pull"])
        let unpublishedRun = try rlhub("pull", Self.hub, "--store", store, "--run", unpublished[0])
        expectBadInput(unpublishedRun, ["were not published"])

        let second = try rlhub("pull", Self.hub, "--store", store, "--run", rl[1].id)
        try #require(second.status == 0, "pull: \(second.err)")
        let compare = try rlhub("compare", "hub:baselines-v1/\(rl[0].id)", "hub:baselines-v1/\(rl[1].id)", "--task", "add:digits=1",
                                "--episodes", "20", "--store", store)
        #expect(compare.status == 0, "compare: \(compare.err)")
        #expect(compare.out.contains("P(A > B)") || compare.out.contains("P(A>B)"), "\(compare.out)")

        // A run whose warm-up checkpoint is not here cannot be re-run: one line saying which and how.
        let metadata = try rlhub("pull", Self.hub, "--store", root + "/metadata-only", "--metadata-only")
        try #require(metadata.status == 0, "pull: \(metadata.err)")
        expectBadInput(try rlhub("verify", rl[1].id, "--steps", "1", "--store", root + "/metadata-only"), ["is not in this store", "rlhub pull"])

        let badRef = try rlhub("eval", "--model", "hub:baselines-v1", "--task", "add:digits=1", "--store", store)
        expectBadInput(badRef, ["hub:baselines-v1", "expected hub:RELEASE/RUN"])
    }
}
