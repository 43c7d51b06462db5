// `rlhub train`: a run folder that resumes bit for bit after kill -9, bad configs refused before
// anything is written, and the run recorded in the store like a grid cell.
import Foundation
import Testing
import TestSupport

@Suite("rlhub train", .serialized)
struct TrainCLITests {
    func sha256(_ path: String) throws -> String {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/sha256sum")
        p.arguments = [path]
        let pipe = Pipe()
        p.standardOutput = pipe
        try p.run()
        p.waitUntilExit()
        return String(String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self).prefix(64))
    }

    let args = ["train", "--algo", "grpo", "--task", "add:digits=2", "--model", "preset:tiny", "--steps", "12",
                "--set", "prompts_per_step=4", "--set", "group_size=4", "--set", "max_new_tokens=6",
                "--set", "eval_episodes=8", "--set", "eval_every=0", "--set", "checkpoint_every=2",
                "--set", "token_budget=64", "--set", "micro_batch_tokens=512", "--threads", "1"]

    /// The run id a run folder's run.json records.
    func recordedRun(_ runDir: String) throws -> String {
        let data = try Data(contentsOf: URL(fileURLWithPath: runDir + "/run.json"))
        return try #require((try JSONSerialization.jsonObject(with: data) as? [String: Any])?["run"] as? String)
    }

    @Test(.timeLimit(.minutes(5)))
    func killNineThenResumeGivesTheSameWeights() throws {
        let dir = tempDir()
        let store = ["--store", dir + "/store"]
        let straight = try rlhub(arguments: args + ["--out", dir + "/straight"] + store)
        #expect(straight.status == 0, "\(straight.err)")
        // Start again, kill -9 once a middle checkpoint exists, resume.
        let p = Process()
        p.executableURL = URL(fileURLWithPath: try rlhubBinary)
        p.arguments = args + ["--out", dir + "/killed"] + store
        p.standardError = FileHandle.nullDevice
        p.standardOutput = FileHandle.nullDevice
        try p.run()
        let deadline = Date().addingTimeInterval(120)
        while Date() < deadline && !FileManager.default.fileExists(atPath: dir + "/killed/checkpoints/step-6/trainer_state.json") {
            usleep(20_000)
        }
        kill(p.processIdentifier, SIGKILL)
        p.waitUntilExit()
        #expect(!FileManager.default.fileExists(atPath: dir + "/killed/final"), "killed before the end")
        let resumed = try rlhub(arguments: args + ["--out", dir + "/killed", "--resume"] + store)
        #expect(resumed.status == 0, "\(resumed.err)")
        let a = try sha256(dir + "/straight/final/model.safetensors")
        let b = try sha256(dir + "/killed/final/model.safetensors")
        #expect(a == b, "final weights differ: \(a) vs \(b)")
        // The resumed metrics file equals the uninterrupted one except for timings.
        func strip(_ path: String) throws -> [String] {
            try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n").map { line in
                line.split(separator: ",").filter { !$0.contains("time/") && !$0.contains("perf/") }.joined(separator: ",")
            }
        }
        #expect(try strip(dir + "/straight/metrics.jsonl") == strip(dir + "/killed/metrics.jsonl"))
        // So do the two store runs: every metric bit for bit, and the final checkpoint's tensors.
        let diff = try rlhub(arguments: ["diff", try recordedRun(dir + "/straight"), try recordedRun(dir + "/killed")] + store)
        #expect(diff.status == 0, "\(diff.out) \(diff.err)")
        #expect(diff.out.contains("no difference"), "\(diff.out)")
    }

    @Test(.timeLimit(.minutes(5)))
    func recordsTheRunInTheStoreLikeAGridCell() throws {
        let dir = tempDir()
        let store = ["--store", dir + "/store"]
        let train = try rlhub(arguments: args + ["--out", dir + "/run", "--set", "samples_every=4"] + store)
        #expect(train.status == 0, "\(train.err)")
        #expect(train.out == dir + "/run/final\n")
        let id = try recordedRun(dir + "/run")
        #expect(train.err.contains("store run \(id)"), "\(train.err)")

        let runs = try rlhub(arguments: ["runs", "--format", "json"] + store)
        #expect(runs.status == 0, "\(runs.err)")
        let listed = try #require(try JSONSerialization.jsonObject(with: Data(runs.out.utf8)) as? [[String: Any]])
        #expect(listed.count == 1)
        #expect(listed.first?["id"] as? String == id)
        #expect(listed.first?["experiment"] as? String == "train")
        #expect(listed.first?["status"] as? String == "finished")
        #expect(listed.first?["steps"] as? Int == 12)

        let show = try rlhub(arguments: ["show", id] + store)
        #expect(show.status == 0, "\(show.err)")
        #expect(show.out.contains("experiment train · cell grpo/add/seed0"), "\(show.out)")
        #expect(show.out.contains("checkpoints:\n  step 12 sha256:"), "\(show.out)")

        // The stored curve is the run folder's metrics.jsonl.
        let curve = try rlhub(arguments: ["curve", id, "--metric", "loss/total", "--format", "csv"] + store)
        #expect(curve.status == 0, "\(curve.err)")
        let stored = curve.out.split(separator: "\n").dropFirst().map { $0.split(separator: ",").map(String.init) }
        let logged = try String(contentsOfFile: dir + "/run/metrics.jsonl", encoding: .utf8).split(separator: "\n").compactMap { line -> [String]? in
            guard let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
                  let value = object["loss/total"] as? Double, let step = object["step"] as? Int else { return nil }
            return [String(step), String(format: "%.6g", value)]
        }
        #expect(stored.count == 12)
        #expect(stored == logged, "store \(stored) vs metrics.jsonl \(logged)")

        // Rollout samples (samples_every = 4: steps 4, 8, 12; and the evaluations at 0 and 12).
        let samples = try rlhub(arguments: ["samples", id, "--where", "kind = 'train'", "--format", "json"] + store)
        #expect(samples.status == 0, "\(samples.err)")
        let trainSamples = try #require(try JSONSerialization.jsonObject(with: Data(samples.out.utf8)) as? [[String: Any]])
        #expect(Set(trainSamples.compactMap { $0["step"] as? Int }) == [4, 8, 12])

        // Held-out scores, and the final checkpoint as a model REF.
        let scores = try rlhub(arguments: ["scores", id, "--format", "csv"] + store)
        #expect(scores.out.contains("\n0,test,accuracy,") && scores.out.contains("\n12,test,accuracy,"), "\(scores.out)")
        let fromStore = try rlhub(arguments: ["logprobs", "--model", "run:\(id)", "--text", "7+5=12", "--format", "json"] + store)
        let fromFolder = try rlhub(arguments: ["logprobs", "--model", dir + "/run/final", "--text", "7+5=12", "--format", "json"])
        #expect(fromStore.status == 0 && fromStore.out == fromFolder.out, "\(fromStore.err)")

        // --experiment: another run, under the experiment it names.
        let named = try rlhub(arguments: args + ["--steps", "2", "--out", dir + "/named", "--experiment", "lr-sweep"] + store)
        #expect(named.status == 0, "\(named.err)")
        let sweep = try rlhub(arguments: ["runs", "--where", "experiment = 'lr-sweep'", "--format", "csv"] + store)
        #expect(sweep.out.split(separator: "\n").count == 2, "\(sweep.out)")
        expectBadInput(try rlhub(arguments: args + ["--out", dir + "/bad", "--experiment", "a b"] + store), ["--experiment", "a b"])
    }

    @Test func badConfigsExitTwo() throws {
        let base = ["train", "--task", "add:digits=2", "--model", "preset:tiny", "--out", tempDir() + "/x"]
        expectBadInput(try rlhub(arguments: base + ["--algo", "grpo", "--set", "group_size=1"]), ["group_size"])
        expectBadInput(try rlhub(arguments: base + ["--algo", "grpo", "--set", "clip_high=-1"]), ["clip_high"])
        expectBadInput(try rlhub(arguments: base + ["--algo", "grpo", "--set", "lrr=1"]), ["lrr", "lr"])
        expectBadInput(try rlhub(arguments: base + ["--algo", "nope"]), ["nope", "grpo"])
        // A bad model reference is refused before the run folder (or a store) exists.
        let untouched = tempDir() + "/never"
        expectBadInput(
            try rlhub(arguments: ["train", "--algo", "grpo", "--task", "add", "--model", "/nonexistent", "--out", untouched,
                                  "--store", untouched + "-store"]),
            ["/nonexistent"])
        #expect(!FileManager.default.fileExists(atPath: untouched))
        #expect(!FileManager.default.fileExists(atPath: untouched + "-store"))
        let yaml = tempDir() + "/c.yaml"
        try "algo: grpo\ngroup_size: [1, 2]\n".write(toFile: yaml, atomically: true, encoding: .utf8)
        expectBadInput(try rlhub(arguments: ["train", "--config", yaml, "--task", "add", "--model", "preset:tiny"]), ["c.yaml", "group_size"])
        try "algo: nope\n".write(toFile: yaml, atomically: true, encoding: .utf8)
        expectBadInput(try rlhub(arguments: ["train", "--config", yaml, "--task", "add", "--model", "preset:tiny"]), ["c.yaml", "algo", "nope", "grpo"])
    }
}
