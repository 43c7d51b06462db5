// The store's query verbs on a real grid: runs/show/curve/scores/checkpoints/tag/release, with
// every listing format, and filters that try to inject SQL.
import Foundation
import Testing

@Suite("rlhub store verbs", .serialized)
struct StoreCLITests {
    static let store: String = {
        let dir = tempDir()
        let spec = writeSpec(tinyGridSpec(), in: dir)
        _ = try? rlhub("grid", spec, "--store", dir + "/store", "--jobs", "2", "--threads", "1")
        return dir + "/store"
    }()

    func ids(_ filter: String) throws -> [String] {
        let r = try rlhub("runs", "--store", Self.store, "--where", filter, "--format", "json")
        #expect(r.status == 0, "\(r.err)")
        let list = try JSONSerialization.jsonObject(with: Data(r.out.utf8)) as? [[String: Any]] ?? []
        return list.map { $0["id"] as! String }
    }

    @Test func listingsInEveryFormat() throws {
        let all = try ids("status = 'finished'")
        #expect(all.count == 2)
        let table = try rlhub("runs", "--store", Self.store)
        #expect(table.out.split(separator: "\n").first?.hasPrefix("id") == true)
        let csv = try rlhub("runs", "--store", Self.store, "--format", "csv", "--sort", "-seed", "--limit", "1")
        #expect(csv.out.split(separator: "\n").count == 2 && csv.out.contains(",1,"), "\(csv.out)")
        let curve = try rlhub("curve", all[0], "--metric", "loss/total", "--every", "2", "--store", Self.store, "--format", "json")
        let points = try JSONSerialization.jsonObject(with: Data(curve.out.utf8)) as? [[String: Any]]
        #expect(points?.map { $0["step"] as! Int } == [1, 3, 5, 6])
        let scores = try rlhub("scores", all[0], "--store", Self.store, "--format", "csv")
        #expect(scores.out.contains("0,test,accuracy,") && scores.out.contains("6,test,accuracy,"), "\(scores.out)")
        let checkpoints = try rlhub("checkpoints", "--store", Self.store, "--format", "csv")
        #expect(checkpoints.out.split(separator: "\n").count == 3 && checkpoints.out.contains("blobs/sha256/"))
        let shown = try rlhub("show", String(all[0].prefix(6)), "--store", Self.store)
        #expect(shown.status == 0 && shown.out.contains("config ") && shown.out.contains("checkpoints:"), "\(shown.err)")
        expectBadInput(try rlhub("curve", all[0], "--metric", "nope", "--store", Self.store), ["--metric", "nope", "reward/mean"])
        expectBadInput(try rlhub("show", "zzzzzz", "--store", Self.store), ["run", "zzzzzz", "no such run"])
    }

    @Test func tagsReleasesAndFrozenRuns() throws {
        let all = try ids("seed >= 0")
        #expect(try rlhub("tag", all[0], "note=first", "--store", Self.store).status == 0)
        #expect(try ids("tag.note = 'first'") == [all[0]])
        let created = try rlhub("release", "create", "v1", "--where", "seed = 0", "--notes", "one run", "--store", Self.store)
        #expect(created.status == 0 && created.out.contains("1 runs frozen"), "\(created.err)")
        #expect(try ids("release = 'v1'").count == 1)
        let list = try rlhub("release", "list", "--store", Self.store, "--format", "csv")
        #expect(list.out.contains("v1,1,"))
        let show = try rlhub("release", "show", "v1", "--store", Self.store, "--format", "json")
        #expect(show.out.contains("\"runs\""))
        expectBadInput(try rlhub("release", "create", "v1", "--store", Self.store), ["v1", "already exists"])
        expectBadInput(try rlhub("release", "create", "empty", "--where", "seed = 99", "--store", Self.store), ["no finished run matches"])
    }

    @Test func filtersCannotInjectSQL() throws {
        for attack in ["algo = 'x'; DROP TABLE runs; --", "algo = 'grpo' or 1=1 --", "algo = 'grpo'/*", "config.x') or 1=1 --"] {
            let r = try rlhub("runs", "--store", Self.store, "--where", attack)
            expectBadInput(r, ["--where", "column"])
        }
        #expect(try ids("algo = 'x''; DROP TABLE runs; --'").isEmpty)
        #expect(try ids("algo = 'grpo'").count == 2)
        expectBadInput(try rlhub("runs", "--store", Self.store, "--where", "alg = 'grpo'"), ["--where", "column 1", "did you mean 'algo'"])
    }
}
