// `rlhub grid` end to end on `tiny`: cells become stored runs, a second invocation runs nothing,
// a killed grid resumes to the same numbers, a failing cell does not stop the others.
import Foundation
import Testing

/// Two seeds of GRPO on 1-digit addition from random `tiny` weights: a few seconds per cell.
func tinyGridSpec(extraTask: String = "") -> String {
    """
    name: tiny-grid
    model: preset:tiny
    set: {max_new_tokens: 4, token_budget: 64, micro_batch_tokens: 1024, prompts_per_step: 4, group_size: 4}
    steps: 6
    evaluation: {every: 2, episodes: 8, k: 2}
    checkpoints: {every: 2}
    algorithms: [grpo]
    tasks:
      - add:digits=1
    \(extraTask)
    seeds: [0, 1]
    """
}

func writeSpec(_ text: String, in dir: String) -> String {
    let path = dir + "/tiny-grid.yaml"
    try? text.write(toFile: path, atomically: true, encoding: .utf8)
    return path
}

/// Every stored run's cell → (final checkpoint sha, reward curve), for comparing two stores.
func gridResults(store: String) throws -> [String: String] {
    let runs = try rlhub("runs", "--store", store, "--format", "json")
    let list = try JSONSerialization.jsonObject(with: Data(runs.out.utf8)) as? [[String: Any]] ?? []
    var out: [String: String] = [:]
    for run in list {
        let id = run["id"] as! String
        let shown = try JSONSerialization.jsonObject(with: Data(try rlhub("show", id, "--store", store, "--format", "json").out.utf8)) as? [String: Any]
        let cell = (shown?["run"] as? [String: Any])?["cell"] as? String ?? id
        let checkpoints = (shown?["checkpoints"] as? [[String: Any]] ?? []).map { "\($0["step"]!):\($0["sha256"]!)" }
        let curve = try rlhub("curve", id, "--metric", "loss/total", "--store", store, "--format", "csv").out
        let eval = try rlhub("curve", id, "--metric", "eval/accuracy", "--store", store, "--format", "csv").out
        out[cell] = checkpoints.joined(separator: ",") + "\n" + curve + eval
    }
    return out
}

@Suite("rlhub grid", .serialized)
struct GridCLITests {
    @Test func gridRunsSkipsAndVerifies() throws {
        let dir = tempDir()
        let spec = writeSpec(tinyGridSpec(), in: dir)
        let store = dir + "/store"
        let dry = try rlhub("grid", spec, "--store", store, "--dry-run")
        #expect(dry.status == 0, "\(dry.err)")
        #expect(dry.out.contains("grpo/add/seed0") && dry.out.contains("new"))
        let first = try rlhub("grid", spec, "--store", store, "--jobs", "2", "--threads", "1")
        #expect(first.status == 0, "\(first.err)")
        #expect(first.err.contains("2 ran"), "\(first.err)")
        let status = try rlhub("grid", "status", spec, "--store", store, "--format", "csv")
        #expect(status.out.split(separator: "\n").filter { $0.contains(",finished,") }.count == 2, "\(status.out)")
        // A second invocation finds everything in the store.
        let second = try rlhub("grid", spec, "--store", store)
        #expect(second.status == 0 && second.err.contains("0 ran, 2 already in the store"), "\(second.err)")
        // Re-running a stored run reproduces it bit for bit, final checkpoint included.
        let id = try #require(try rlhub("runs", "--store", store, "--where", "seed = 1", "--format", "csv").out
            .split(separator: "\n").dropFirst().first?.split(separator: ",").first.map(String.init))
        let verify = try rlhub("verify", id, "--store", store)
        #expect(verify.status == 0, "\(verify.out) \(verify.err)")
        #expect(verify.out.contains("identical"))
        // The stored checkpoint is a model REF.
        let logprobs = try rlhub("logprobs", "--model", "run:\(id)", "--text", "1+2=3", "--store", store)
        #expect(logprobs.status == 0, "\(logprobs.err)")
    }

    /// LoRA cells on a shared SFT warm-up: each run's checkpoints are PEFT adapter folders that name
    /// their base — the warm-up's checkpoint — by content hash; `run:` references load base +
    /// adapter; a re-run verifies bit for bit; the adapter is a small fraction of a full checkpoint;
    /// `rlhub export` writes it for PEFT.
    @Test func loraCellsStoreAdaptersOnTheirBase() throws {
        let dir = tempDir()
        let spec = writeSpec("""
            name: lora-grid
            model: preset:tiny
            warmup: {algo: sft, steps: 4, seed: 0}
            set: {max_new_tokens: 4, token_budget: 64, micro_batch_tokens: 1024, prompts_per_step: 4, group_size: 4, lr: 1e-2}
            steps: 4
            evaluation: {every: 2, episodes: 8}
            checkpoints: {every: 2}
            algorithms:
              - {name: grpo-lora, preset: grpo, set: {lora_rank: 4, lora_alpha: 8, lora_targets: all-linear, kl_coef: 0.05, entropy_coef: 0.5}}
            tasks: [add:digits=1]
            seeds: [0]
            """, in: dir)
        let store = dir + "/store"
        let grid = try rlhub("grid", spec, "--store", store, "--jobs", "1", "--threads", "1")
        #expect(grid.status == 0, "\(grid.err)")
        let runs = try JSONSerialization.jsonObject(with: Data(try rlhub("runs", "--store", store, "--format", "json").out.utf8)) as? [[String: Any]] ?? []
        let lora = try #require(runs.first { ($0["algo"] as? String) == "grpo-lora" }?["id"] as? String)
        let warmup = try #require(runs.first { ($0["algo"] as? String) != "grpo-lora" }?["id"] as? String)
        func checkpoints(_ id: String) throws -> [[String: Any]] {
            let shown = try JSONSerialization.jsonObject(with: Data(try rlhub("show", id, "--store", store, "--format", "json").out.utf8)) as? [String: Any]
            return shown?["checkpoints"] as? [[String: Any]] ?? []
        }
        let warmupSHA = try #require(try checkpoints(warmup).last?["sha256"] as? String)
        // The adapter names the warm-up's checkpoint as its base.
        let out = dir + "/export"
        let export = try rlhub("export", "--model", "run:\(lora)", "--out", out, "--store", store)
        #expect(export.status == 0, "\(export.err)")
        let base = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: out + "/adapter/rlhub_base.json"))) as? [String: Any]
        #expect(FileManager.default.fileExists(atPath: out + "/adapter/adapter_model.safetensors"))
        #expect(FileManager.default.fileExists(atPath: out + "/base/model.safetensors"))
        let stored = try #require(try checkpoints(lora).last)
        let extracted = store + "/cache/sha256/" + (stored["sha256"] as! String)
        let storedBase = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: extracted + "/rlhub_base.json"))) as? [String: Any]
        #expect(storedBase?["reference"] as? String == "sha256:" + warmupSHA, "\(storedBase ?? [:])")
        #expect(storedBase?["sha256"] as? String == base?["sha256"] as? String)
        // run:ID loads base + adapter: the same log-probs as the exported adapter on the exported base,
        // and not the warm-up's.
        func logprobs(_ ref: String, in store: String = store) throws -> String {
            let r = try rlhub("logprobs", "--model", ref, "--text", "1+2=3", "--store", store, "--format", "json")
            #expect(r.status == 0, "\(ref): \(r.err)")
            return r.out
        }
        #expect(try logprobs("run:\(lora)") == logprobs(out + "/adapter"))
        #expect(try logprobs("run:\(lora)") != logprobs("run:\(warmup)"))
        // A release ships each adapter and, once, the base it names (the warm-up's checkpoint, a run
        // of the release); pulled into a fresh store, hub:RELEASE/RUN loads base + adapter.
        #expect(try rlhub("release", "create", "lora-v1", "--store", store).status == 0)
        let hub = dir + "/hub"
        let published = try rlhub("publish", "lora-v1", "--to", hub, "--store", store)
        #expect(published.status == 0, "\(published.err)")
        let blobs = try FileManager.default.subpathsOfDirectory(atPath: hub + "/blobs").filter { $0.hasSuffix(".tar.zst") }
        let archives = try checkpoints(warmup).count + checkpoints(lora).count
        #expect(blobs.count == archives && blobs.contains { $0.hasSuffix(warmupSHA + ".tar.zst") }, "\(blobs)")
        let pulled = dir + "/pulled"
        #expect(try rlhub("pull", hub, "--store", pulled).status == 0)
        #expect(try logprobs("hub:lora-v1/\(lora)", in: pulled) == logprobs("run:\(lora)"))
        // A re-run reproduces it bit for bit.
        let verify = try rlhub("verify", lora, "--store", store)
        #expect(verify.status == 0 && verify.out.contains("identical"), "\(verify.out) \(verify.err)")
        // The adapter archive is a fraction of the full model's (tiny: r 4 on every projection).
        let sizes = try [extracted + "/adapter_model.safetensors", out + "/base/model.safetensors"].map {
            try FileManager.default.attributesOfItem(atPath: $0)[.size] as! Int
        }
        #expect(sizes[0] * 4 < sizes[1], "adapter \(sizes[0]) B, base \(sizes[1]) B")
    }

    @Test func killedGridResumesToTheSameNumbers() throws {
        let dir = tempDir()
        let spec = writeSpec(tinyGridSpec(), in: dir)
        let reference = dir + "/reference"
        #expect(try rlhub("grid", spec, "--store", reference, "--jobs", "1", "--threads", "1").status == 0)

        let store = dir + "/killed"
        let p = Process()
        p.executableURL = URL(fileURLWithPath: try rlhubBinary)
        p.arguments = ["grid", spec, "--store", store, "--jobs", "1", "--threads", "1"]
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle.nullDevice
        try p.run()
        // Wait until the first cell is past a checkpoint, then kill the grid (and so its worker).
        let deadline = Date().addingTimeInterval(120)
        while Date() < deadline {
            Thread.sleep(forTimeInterval: 0.2)
            let runs = try? rlhub("runs", "--store", store, "--where", "steps >= 3", "--format", "csv")
            if let out = runs?.out, out.split(separator: "\n").count > 1 { break }
        }
        kill(p.processIdentifier, SIGKILL)
        p.waitUntilExit()
        Thread.sleep(forTimeInterval: 0.5)  // the worker notices its parent is gone
        let resumed = try rlhub("grid", spec, "--store", store, "--jobs", "1", "--threads", "1")
        #expect(resumed.status == 0, "\(resumed.err)")
        #expect(try gridResults(store: store) == (try gridResults(store: reference)))
        let integrity = try rlhub("runs", "--store", store, "--where", "status = 'finished'", "--format", "csv")
        #expect(integrity.out.split(separator: "\n").count == 3)
    }

    @Test func aFailingCellDoesNotStopTheOthers() throws {
        let dir = tempDir()
        // token_budget beyond tiny's positions: that task's cells fail when they load the model.
        let spec = writeSpec(tinyGridSpec(extraTask: "  - {name: toolong, task: 'add:digits=1', set: {token_budget: 100000, micro_batch_tokens: 100000}}"), in: dir)
        let r = try rlhub("grid", spec, "--store", dir + "/store", "--jobs", "2", "--threads", "1", "--retries", "0")
        #expect(r.status == 1, "\(r.err)")
        #expect(r.err.contains("2 cells failed"), "\(r.err)")
        let finished = try rlhub("runs", "--store", dir + "/store", "--where", "status = 'finished'", "--format", "csv")
        #expect(finished.out.split(separator: "\n").count == 3, "\(finished.out)")
    }

    @Test func badSpecsAreOneLineErrors() throws {
        let dir = tempDir()
        let spec = writeSpec(tinyGridSpec().replacingOccurrences(of: "algorithms: [grpo]", with: "algorithms: [grop]"), in: dir)
        expectBadInput(try rlhub("grid", spec, "--store", dir + "/s"), ["tiny-grid.yaml", "line 7", "unknown algorithm preset 'grop'", "did you mean 'grpo'"])
        expectBadInput(try rlhub("grid", dir + "/missing.yaml", "--store", dir + "/s"), ["missing.yaml", "cannot read"])
        expectBadInput(try rlhub("runs", "--store", dir + "/none"), ["no store here"])
    }
}
