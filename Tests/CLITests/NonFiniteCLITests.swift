// A run whose loss diverged must still be readable as JSON. Metric points that are not finite are
// stored as NULL; a score's value or interval can be ±∞ (and a pulled store can hold anything
// SQLite can), so every JSON answer writes non-finite numbers as `null`, from the CLI and from
// `rlhub serve`.
import Foundation
import Store
import Testing

@Suite("Non-finite values in JSON answers", .serialized)
struct NonFiniteCLITests {
    @Test(.timeLimit(.minutes(5)))
    func divergedValuesAreNull() throws {
        let dir = tempDir() + "/store"
        let store = try RunStore(directory: dir)
        let id = try store.createRun(NewRun(
            algo: "grpo", task: "add:digits=1", model: "preset:tiny", seed: 0, configJSON: "{}", configHash: "h", groupHash: "g", threads: 1))
        try store.markRunning(id, threads: 1)
        try store.appendMetrics(run: id, records: [(1, ["loss/total": 1.5, "reward/mean": 0.25]), (2, ["loss/total": .infinity, "reward/mean": -.infinity])])
        try store.addScores(run: id, [ScoreRecord(step: 2, split: "test", metric: "accuracy", value: 0.5, episodes: 10, ciLow: -.infinity, ciHigh: .infinity)])
        try store.setStepsDone(id, 2)
        try store.markFinished(id)

        for args in [["show", id, "--format", "json"], ["runs", "--format", "json"], ["scores", id, "--format", "json"],
                     ["curve", id, "--metric", "loss/total", "--format", "json"]] {
            let r = try rlhub(arguments: args + ["--store", dir])
            #expect(r.status == 0, "\(args): \(r.err)")
            #expect((try? JSONSerialization.jsonObject(with: Data(r.out.utf8))) != nil, "\(args) is not JSON: \(r.out.prefix(200))")
            #expect(r.out.contains("null"), "\(args): \(r.out.prefix(400))")
        }
        let shown = try JSONSerialization.jsonObject(with: Data(try rlhub("show", id, "--format", "json", "--store", dir).out.utf8)) as! [String: Any]
        let loss = (shown["metrics"] as! [[String: Any]]).first { $0["name"] as? String == "loss/total" }!
        #expect(loss["final"] == nil && loss["best"] as? Double == 1.5)
        let score = (shown["scores"] as! [[String: Any]])[0]
        #expect(score["value"] as? Double == 0.5 && score.values.contains { $0 is NSNull }, "\(score)")

        let server = try ServeProcess(store: dir)
        defer { server.stop() }
        for path in ["/api/runs/\(id)", "/api/runs", "/api/runs/\(id)/scores", "/api/runs/\(id)/curve?metric=reward/mean"] {
            let r = try curl(server.url + path)
            #expect(r.status == 200 && (try? JSONSerialization.jsonObject(with: r.body)) != nil, "\(path): \(r.status) \(r.text.prefix(200))")
        }
        #expect(try curl(server.url + "/runs/\(id)").status == 200)
    }
}
