// `rlhub samples`, `rlhub check` and `rlhub diff` against the built binary. Samples and diff run
// real tiny grids (a few seconds a cell); check's verdicts are exercised on a store whose scores
// are written by hand, so that "inside" and "outside" are known exactly.
import Foundation
import LM
import RLHubCore
import Store
import Testing

/// The tiny grid of GridCLITests with samples every 2 steps, `extra` appended to `set`.
func samplesGridSpec(name: String = "tiny-grid", extra: String = "", seeds: String = "[0, 1]") -> String {
    """
    name: \(name)
    model: preset:tiny
    set: {max_new_tokens: 4, token_budget: 64, micro_batch_tokens: 1024, prompts_per_step: 4, group_size: 4, samples_every: 2\(extra)}
    steps: 6
    evaluation: {every: 2, episodes: 8}
    checkpoints: {every: 2}
    algorithms: [grpo]
    tasks:
      - add:digits=1
    seeds: \(seeds)
    """
}

/// Runs a spec into `store` and returns cell → run id.
func runGrid(_ spec: String, dir: String, store: String, threads: Int = 1, file: String = "spec.yaml") throws -> [String: String] {
    let path = dir + "/" + file
    try spec.write(toFile: path, atomically: true, encoding: .utf8)
    let grid = try rlhub("grid", path, "--store", store, "--jobs", "1", "--threads", String(threads))
    #expect(grid.status == 0, "\(grid.err)")
    let runs = try rlhub("runs", "--store", store, "--format", "json")
    var out: [String: String] = [:]
    for run in try JSONSerialization.jsonObject(with: Data(runs.out.utf8)) as? [[String: Any]] ?? [] {
        let shown = try JSONSerialization.jsonObject(with: Data(try rlhub("show", run["id"] as! String, "--store", store, "--format", "json").out.utf8)) as? [String: Any]
        if let detail = shown?["run"] as? [String: Any], let cell = detail["cell"] as? String, (detail["experiment"] as? String) == nameOf(spec) {
            out[cell] = run["id"] as? String
        }
    }
    return out
}

private func nameOf(_ spec: String) -> String {
    spec.split(separator: "\n").first { $0.hasPrefix("name: ") }.map { String($0.dropFirst(6)) } ?? ""
}

@Suite("rlhub samples, check and diff", .serialized)
struct SamplesCheckDiffCLITests {
    @Test(.timeLimit(.minutes(10)))
    func samplesAndDiffOnTinyRuns() throws {
        let dir = tempDir()
        let storeA = dir + "/a", storeB = dir + "/b", storeC = dir + "/c"
        let a = try runGrid(samplesGridSpec(), dir: dir, store: storeA)
        let a0 = try #require(a["grpo/add/seed0"]), a1 = try #require(a["grpo/add/seed1"])

        // Samples: 4 per training step at 2, 4, 6 and 4 per evaluation at 0, 2, 4, 6.
        let all = try rlhub("samples", a0, "--store", storeA, "--format", "json")
        #expect(all.status == 0, "\(all.err)")
        let samples = try #require(try JSONSerialization.jsonObject(with: Data(all.out.utf8)) as? [[String: Any]])
        #expect(samples.count == 28, "\(samples.count) samples")
        let train = try rlhub("samples", a0, "--store", storeA, "--format", "json", "--where", "kind = 'train'")
        let trainSamples = try #require(try JSONSerialization.jsonObject(with: Data(train.out.utf8)) as? [[String: Any]])
        #expect(trainSamples.count == 12 && Set(trainSamples.map { $0["step"] as! Int }) == [2, 4, 6])
        let first = try #require(trainSamples.first?["sample"] as? [String: Any])
        let tokens = try #require(first["tokens"] as? [Int])
        for key in ["pieces", "lossMask", "samplerLogprobs", "policyLogprobs", "advantages"] {
            #expect((first[key] as? [Any])?.count == tokens.count, "\(key) has one entry per token")
        }
        let text = try rlhub("samples", a0, "--store", storeA, "--step", "4", "--tokens")
        #expect(text.status == 0 && text.out.contains("step 4 · train") && text.out.contains("step 4 · eval") && text.out.contains("policy lp"), "\(text.out)")
        let bad = try rlhub("samples", a0, "--store", storeA, "--where", "rewrd > 0")
        #expect(bad.status == 2 && bad.err.contains("did you mean 'reward'") && bad.err.split(separator: "\n").count == 1, "\(bad.err)")

        // Identical runs: the same spec into another store.
        let b = try runGrid(samplesGridSpec(), dir: dir, store: storeB)
        let same = try rlhub("diff", a0, try #require(b["grpo/add/seed0"]), "--store", storeA, "--store-b", storeB)
        #expect(same.status == 0 && same.out.contains("no difference") && same.out.contains("config: same"), "\(same.out)\(same.err)")
        #expect(same.out.contains("checkpoint step 6: identical"), "\(same.out)")

        // Two seeds: they differ from the first step; the seed is named.
        let seeds = try rlhub("diff", a0, a1, "--store", storeA, "--format", "json")
        #expect(seeds.status == 1)
        let seedDiff = try #require(try JSONSerialization.jsonObject(with: Data(seeds.out.utf8)) as? [String: Any])
        #expect((seedDiff["likelyCause"] as? String)?.hasPrefix("seed: 0 → 1") == true, "\(seedDiff)")
        #expect(((seedDiff["firstDifference"] as? [String: Any])?["step"] as? Int).map { $0 <= 1 } == true, "\(seedDiff)")

        // Two thread counts: tiny's kernels and OpenBLAS (SkylakeX kernels) give the same bits at
        // 1 and 2 threads here, so the runs agree; where they do not (another CPU, other shapes),
        // the first difference is named and the thread count is the cause (the fixture test below).
        let c = try runGrid(samplesGridSpec(), dir: dir, store: storeC, threads: 2)
        let threads = try rlhub("diff", a0, try #require(c["grpo/add/seed0"]), "--store", storeA, "--store-b", storeC)
        #expect(threads.out.contains("config: same") && threads.out.contains("threads: 1 → 2"), "\(threads.out)")
        if threads.status == 0 {
            #expect(threads.out.contains("no difference"), "\(threads.out)")
        } else {
            #expect(threads.out.contains("metrics: first difference at step") && threads.out.contains("likely cause: thread count: 1 → 2"), "\(threads.out)")
        }

        // Two learning rates: the config key is named.
        let lr = try runGrid(samplesGridSpec(name: "tiny-lr", extra: ", lr: 0.003"), dir: dir, store: storeA, file: "lr.yaml")
        let lrDiff = try rlhub("diff", a0, try #require(lr["grpo/add/seed0"]), "--store", storeA)
        #expect(lrDiff.status == 1 && lrDiff.out.contains("algorithm.lr: ") && lrDiff.out.contains("likely cause: config: algorithm.lr"), "\(lrDiff.out)")
        #expect(lrDiff.out.contains("first differing") || lrDiff.out.contains("tensors differ"), "\(lrDiff.out)")
    }

    /// A store whose reference cell `grpo/add` has three seeds scoring 0.4, 0.5, 0.6 at steps 10
    /// and 20, and two checked runs: one at the mean, one far below.
    static func checkFixture(_ dir: String) throws -> (store: String, inside: String, outside: String) {
        let store = dir + "/store"
        let s = try RunStore(directory: store)
        try s.upsertExperiment(name: "ref", specText: "name: ref\n", specHash: "spec-ref")
        try s.upsertExperiment(name: "mine", specText: "name: mine\n", specHash: "spec-mine")
        func run(_ experiment: String, seed: Int, scores: [Double]) throws -> String {
            let id = try s.createRun(NewRun(
                experiment: experiment, cell: "grpo/add/seed\(seed)", algo: "grpo", task: "add:digits=1", model: "preset:tiny", seed: seed,
                configJSON: "{\"seed\":\(seed)}", configHash: "\(experiment)-\(seed)-\(scores)", groupHash: "group-\(experiment)",
                codeVersion: CodeVersion(commit: String(repeating: "c", count: 40), dirty: false, diffHash: ""), threads: 1))
            try s.markRunning(id, threads: 1)
            try s.addScores(run: id, zip([10, 20], scores).map { ScoreRecord(step: $0, split: "test", metric: "accuracy", value: $1, episodes: 100, ciLow: nil, ciHigh: nil) })
            try s.setStepsDone(id, 20)
            try s.markFinished(id)
            return id
        }
        for (seed, v) in [0.4, 0.5, 0.6].enumerated() { _ = try run("ref", seed: seed, scores: [v - 0.1, v]) }
        try s.createRelease(name: "ref-v1", filter: RunFilter(where: "experiment = 'ref'"), notes: "")
        return (store, try run("mine", seed: 7, scores: [0.4, 0.5]), try run("mine", seed: 8, scores: [0.0, 0.05]))
    }

    /// Two runs of one config and code at 1 and 2 threads whose `loss/total` differs in the last
    /// bit at step 2, with checkpoints that differ in one tensor by a known amount.
    @Test func diffNamesTheFirstDifferenceTensorAndThreadCount() throws {
        let dir = tempDir()
        let s = try RunStore(directory: dir + "/store")
        func run(threads: Int, loss2: Double, bias: Float) throws -> String {
            let id = try s.createRun(NewRun(
                experiment: nil, cell: "grpo/add/seed0", algo: "grpo", task: "add:digits=1", model: "preset:tiny", seed: 0,
                configJSON: "{\"algorithm\":{\"lr\":0.001,\"seed\":0},\"steps\":2}", configHash: "same", groupHash: "g",
                threads: threads))
            try s.markRunning(id, threads: threads)
            try s.appendMetrics(run: id, records: [(1, ["loss/total": 0.5, "reward/mean": 0.25, "time/step_s": Double(threads)]),
                                                   (2, ["loss/total": loss2, "reward/mean": 0.5])])
            let folder = dir + "/ckpt-\(threads)"
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
            let embed: [Float] = [1, 2, 3, 4], head: [Float] = [3, 4, 0, 0].map { $0 + bias }
            try embed.withUnsafeBufferPointer { e in
                try head.withUnsafeBufferPointer { h in
                    try SafetensorsWriter.write([("model.embed_tokens.weight", [2, 2], e), ("lm_head.weight", [2, 2], h)],
                                                metadata: [:], to: folder + "/model.safetensors")
                }
            }
            try s.addCheckpoint(run: id, step: 2, folder: folder)
            try s.setStepsDone(id, 2)
            try s.markFinished(id)
            return id
        }
        let a = try run(threads: 1, loss2: 0.25, bias: 0), b = try run(threads: 2, loss2: 0.25.nextUp, bias: 0.5)
        let diff = try rlhub("diff", a, b, "--store", dir + "/store")
        #expect(diff.status == 1, "\(diff.out)\(diff.err)")
        #expect(diff.out.contains("config: same"), "\(diff.out)")
        // time/ is not compared; loss/total at step 2 is, bit for bit, before reward/mean.
        #expect(diff.out.contains("metrics: first difference at step 2, loss/total: 0.25 → 0.25000000000000006 (after 2 equal points)"), "\(diff.out)")
        // lm_head: ‖(0.5, 0.5, 0.5, 0.5)‖ / ‖(3.5, 4.5, 0.5, 0.5)‖ = 1 / √33 = 0.174.
        #expect(diff.out.contains("checkpoint step 2: 1 of 2 tensors differ; first lm_head.weight, ‖A − B‖/‖B‖ = 1.741e-01"), "\(diff.out)")
        #expect(diff.out.contains("likely cause: thread count: 1 → 2"), "\(diff.out)")
    }

    @Test func checkVerdictsAndExitCodes() throws {
        let dir = tempDir()
        let f = try Self.checkFixture(dir)
        let inside = try rlhub("check", f.inside, "--against", "ref-v1", "--store", f.store, "--html", dir + "/check.html", "--svg", dir + "/check.svg")
        #expect(inside.status == 0, "\(inside.out)\(inside.err)")
        #expect(inside.out.contains("verdict: inside") && inside.out.contains("percentile 50"), "\(inside.out)")
        let page = try String(contentsOfFile: dir + "/check.html", encoding: .utf8)
        #expect(page.contains("<svg") && page.contains("Inside the reference band") && !page.contains("<script"))
        let svg = try String(contentsOfFile: dir + "/check.svg", encoding: .utf8)
        #expect(svg.hasPrefix("<svg") && svg.contains("reference (3 seeds)"))
        // The experiment's group works as a reference too, and the JSON says the same.
        let json = try rlhub("check", f.inside, "--against", "ref/grpo/add", "--store", f.store, "--format", "json")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(json.out.utf8)) as? [String: Any])
        #expect(json.status == 0 && object["inside"] as? Bool == true && (object["referenceRuns"] as? [String])?.count == 3)

        let outside = try rlhub("check", f.outside, "--against", "ref-v1", "--store", f.store)
        #expect(outside.status == 1, "\(outside.out)\(outside.err)")
        #expect(outside.out.contains("OUTSIDE") && outside.out.contains("percentile 0") && outside.err.contains("outside the band of ref-v1/grpo/add"))

        let unknown = try rlhub("check", f.inside, "--against", "nosuch", "--store", f.store)
        #expect(unknown.status == 2 && unknown.err.contains("releases: ref-v1") && unknown.err.split(separator: "\n").count == 1, "\(unknown.err)")
        let noCell = try rlhub("check", f.inside, "--against", "ref-v1/ppo/add", "--store", f.store)
        #expect(noCell.status == 2 && noCell.err.contains("cells: grpo/add"), "\(noCell.err)")
    }
}
