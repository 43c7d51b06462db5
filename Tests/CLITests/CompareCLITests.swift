// `rlhub compare` and `rlhub eval --record` through the real binary.
import Foundation
import LM
import Testing

@Suite("rlhub compare", .serialized)
struct CompareCLITests {
    @Test func twoTinyInitialisationsCompareAsJSON() throws {
        let dir = tempDir()
        for seed in ["1", "2"] {
            let made = try rlhub("init-model", "--preset", "tiny", "--seed", seed, "--out", dir + "/m" + seed)
            #expect(made.status == 0, "\(made.err)")
        }
        let r = try rlhub("compare", dir + "/m1", dir + "/m2", "--task", "add:digits=1", "--episodes", "8",
                          "--format", "json", "--threads", "2")
        #expect(r.status == 0, "\(r.err)")
        let json = try #require(try JSONSerialization.jsonObject(with: Data(r.out.utf8)) as? [String: Any])
        for key in ["ref_a", "ref_b", "task", "episodes", "score_a", "score_b", "probability_a_over_b",
                    "discordant", "parameter_deltas", "kl", "seconds"] {
            #expect(json[key] != nil, "missing \(key): \(r.out)")
        }
        let kl = try #require(json["kl"] as? [String: Any])
        #expect((kl["mean"] as? Double ?? 0) > 0 && (kl["tokens"] as? Int ?? 0) > 0)
        let scoreA = try #require(json["score_a"] as? [String: Any])
        #expect((scoreA["accuracy_ci"] as? [Double])?.count == 2 && scoreA["problems"] as? Int == 8)
        let poi = try #require(json["probability_a_over_b"] as? [String: Any])
        #expect(Set(poi.keys) == ["estimate", "lower", "upper"])
        let groups = try #require(json["parameter_deltas"] as? [[String: Any]])
        #expect(groups.map { $0["group"] as? String } == ["embed", "layer 0", "layer 1", "layer 2", "layer 3", "layer 4", "norm"])

        let table = try rlhub("compare", dir + "/m1", dir + "/m1", "--task", "add:digits=1", "--episodes", "4", "--threads", "2")
        #expect(table.status == 0, "\(table.err)")
        #expect(table.out.contains("P(A > B) = 0.5000") && table.out.contains("mean 0.000e+00"), "\(table.out)")
        let md = try rlhub("compare", dir + "/m1", dir + "/m2", "--task", "add:digits=1", "--episodes", "4",
                           "--format", "markdown", "--threads", "2")
        #expect(md.status == 0 && md.out.contains("| metric | A (95% CI) | B (95% CI) |"), "\(md.out)")
    }

    @Test func differentArchitecturesAreOneLineExitTwo() throws {
        let dir = tempDir()
        #expect(try rlhub("init-model", "--preset", "tiny", "--seed", "1", "--out", dir + "/tiny").status == 0)
        var config = try LlamaConfig.preset("tiny")
        config.numHiddenLayers = 2
        try HFCheckpoint.save(
            LoadedModel(model: LlamaModel(config: config, seed: 1), tokenizer: CharTokenizer.standard, source: "test"),
            to: dir + "/two-layers")
        let r = try rlhub("compare", dir + "/tiny", dir + "/two-layers", "--task", "add:digits=1", "--episodes", "4")
        expectBadInput(r, [dir + "/tiny", dir + "/two-layers", "num_hidden_layers"])
    }

    @Test func evalRecordStoresScoresOfARun() throws {
        let dir = tempDir()
        let store = dir + "/store"
        let grid = try rlhub("grid", packageRootPath + "/experiments/smoke.yaml", "--store", store, "--jobs", "2", "--threads", "1")
        #expect(grid.status == 0, "\(grid.err)")
        let runs = try rlhub("runs", "--store", store, "--format", "json")
        let list = try #require(try JSONSerialization.jsonObject(with: Data(runs.out.utf8)) as? [[String: Any]])
        let id = try #require(list.first?["id"] as? String)
        let before = try rlhub("scores", id, "--store", store, "--format", "json")
        let countBefore = (try JSONSerialization.jsonObject(with: Data(before.out.utf8)) as? [[String: Any]])?.count ?? 0
        // A different task than the run's evaluation, at the run's steps_done (6): replaces step 6.
        let r = try rlhub("eval", "--model", "run:" + id, "--task", "add:digits=1", "--episodes", "5",
                          "--record", id, "--store", store, "--threads", "1")
        #expect(r.status == 0, "\(r.err)")
        let after = try rlhub("scores", id, "--store", store, "--format", "json")
        let rows = try #require(try JSONSerialization.jsonObject(with: Data(after.out.utf8)) as? [[String: Any]])
        let recorded = rows.filter { $0["step"] as? Int == 6 && $0["episodes"] as? Int == 5 }
        #expect(Set(recorded.compactMap { $0["metric"] as? String }) == ["accuracy", "mean_reward"], "\(after.out)")
        #expect(recorded.allSatisfy { $0["split"] as? String == "test" && $0["ci_low"] != nil })
        #expect(rows.count == countBefore, "step 6 scores are replaced, not added: \(after.out)")

        let unknown = try rlhub("eval", "--model", "preset:tiny", "--task", "add:digits=1", "--episodes", "2",
                                "--record", "nosuchrun", "--store", store)
        #expect(unknown.status == 2, "\(unknown.err)")
        let released = try rlhub("release", "create", "v1", "--store", store)
        #expect(released.status == 0, "\(released.err)")
        let frozen = try rlhub("eval", "--model", "preset:tiny", "--task", "add:digits=1", "--episodes", "2",
                               "--record", id, "--store", store)
        expectBadInput(frozen, ["release"])
    }
}

/// Root of the package (for experiments/*.yaml).
private let packageRootPath = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    .deletingLastPathComponent().deletingLastPathComponent().path
