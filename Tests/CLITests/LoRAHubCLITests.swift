// A published release with LoRA runs ships each adapter's base archive once, whatever the
// checkpoint filter: pulled into a fresh store, `hub:RELEASE/RUN` of a LoRA run loads and gives
// the source store's log-probs; a base the publishing store lacks is named in one line at publish
// and in a one-line error at use.
import Foundation
import Testing
import TestSupport

@Suite("rlhub publish: LoRA bases", .serialized)
struct LoRAHubCLITests {
    let common = ["--task", "add:digits=1", "--steps", "2", "--threads", "1",
                  "--set", "prompts_per_step=2", "--set", "max_new_tokens=4", "--set", "eval_episodes=2",
                  "--set", "eval_every=0", "--set", "checkpoint_every=2", "--set", "micro_batch_tokens=512"]

    /// A store with an SFT run and two LoRA runs (`lora_rank=2`, seeds 0 and 1) on top of it, and
    /// the release `lora-v1` of the two LoRA runs only. Returns (sft id, LoRA ids).
    func loraStore(_ dir: String) throws -> (sft: String, lora: [String]) {
        let store = ["--store", dir + "/store"]
        let sft = try rlhub(arguments: ["train", "--algo", "sft", "--model", "preset:tiny", "--out", dir + "/sft", "--experiment", "warmup"] + common + store)
        try #require(sft.status == 0, "sft: \(sft.err)")
        let sftID = try runID(dir + "/sft")
        var lora: [String] = []
        for seed in [0, 1] {
            let run = try rlhub(arguments: ["train", "--algo", "grpo", "--model", "run:\(sftID)", "--seed", "\(seed)", "--out", dir + "/lora\(seed)",
                                            "--experiment", "lora", "--set", "lora_rank=2", "--set", "group_size=2",
                                            // An entropy bonus moves the adapter even when every reward ties.
                                            "--set", "entropy_coef=0.5", "--set", "lr=1e-2"] + common + store)
            try #require(run.status == 0, "lora: \(run.err)")
            lora.append(try runID(dir + "/lora\(seed)"))
        }
        let release = try rlhub(arguments: ["release", "create", "lora-v1", "--where", "experiment = 'lora'"] + store)
        try #require(release.status == 0, "release: \(release.err)")
        return (sftID, lora)
    }

    func runID(_ runDir: String) throws -> String {
        let data = try Data(contentsOf: URL(fileURLWithPath: runDir + "/run.json"))
        return try #require((try JSONSerialization.jsonObject(with: data) as? [String: Any])?["run"] as? String)
    }

    /// The archive files of a hub folder (`blobs/sha256/ab/HEX.tar.zst`), by hash.
    func hubArchives(_ hub: String) throws -> [String] {
        let all = FileManager.default.enumerator(atPath: hub + "/blobs")?.allObjects as? [String] ?? []
        return all.filter { $0.hasSuffix(".tar.zst") }.map { String(($0 as NSString).lastPathComponent.dropLast(".tar.zst".count)) }.sorted()
    }

    /// The base archive a store's LoRA run's last checkpoint names (`sha256:HEX` in rlhub_base.json).
    func baseHash(_ runDir: String) throws -> String {
        let data = try Data(contentsOf: URL(fileURLWithPath: runDir + "/final/rlhub_base.json"))
        let reference = try #require((try JSONSerialization.jsonObject(with: data) as? [String: Any])?["reference"] as? String)
        try #require(reference.hasPrefix("sha256:"), "\(reference)")
        return String(reference.dropFirst("sha256:".count))
    }

    @Test(.timeLimit(.minutes(10)))
    func aFilteredPublishShipsTheBaseOnceAndThePulledAdapterLoads() throws {
        let dir = tempDir()
        let (_, lora) = try loraStore(dir)
        let source = ["--store", dir + "/store"]
        let base = try baseHash(dir + "/lora0")
        #expect(try baseHash(dir + "/lora1") == base, "both LoRA runs start from the SFT run's checkpoint")

        let publish = try rlhub(arguments: ["publish", "lora-v1", "--to", dir + "/hub", "--checkpoints", "experiment = 'lora'"] + source)
        try #require(publish.status == 0, "publish: \(publish.err)")
        #expect(publish.out.contains("1 LoRA base archive(s) added"), "\(publish.out)")
        #expect(!publish.out.contains("note:"), "\(publish.out)")
        // The hub holds the base once, beside the adapters' archives.
        let archives = try hubArchives(dir + "/hub")
        #expect(archives.filter { $0 == base }.count == 1, "\(archives)")
        let index = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: dir + "/hub/index.json"))) as? [String: Any])
        let releases = try #require(index["releases"] as? [[String: Any]])
        let bases = try #require(releases.first?["bases"] as? [[String: Any]])
        #expect(bases.map { $0["sha256"] as? String } == [base])

        // Pulled into a fresh store (one run: its adapter and its base), the LoRA run loads and
        // gives the source store's log-probs.
        let fresh = ["--store", dir + "/fresh"]
        let pull = try rlhub(arguments: ["pull", dir + "/hub", "--release", "lora-v1", "--run", lora[1]] + fresh)
        try #require(pull.status == 0, "pull: \(pull.err)")
        let text = ["--text", "3+4=7", "--format", "json"]
        let here = try rlhub(arguments: ["logprobs", "--model", "run:\(lora[1])"] + text + source)
        let there = try rlhub(arguments: ["logprobs", "--model", "hub:lora-v1/\(lora[1])"] + text + fresh)
        #expect(here.status == 0, "\(here.err)")
        #expect(there.status == 0, "\(there.err)")
        #expect(here.out.contains("logprob"), "\(here.out)")
        #expect(here.out == there.out)
        // The adapter differs from its base: the log-probs of the base alone are not these.
        let baseOnly = try rlhub(arguments: ["logprobs", "--model", "sha256:\(base)"] + text + fresh)
        #expect(baseOnly.status == 0, "\(baseOnly.err)")
        #expect(baseOnly.out != there.out)
    }

    @Test(.timeLimit(.minutes(10)))
    func aBaseNotInTheStoreIsNamedAtPublishAndAtUse() throws {
        let dir = tempDir()
        let (_, lora) = try loraStore(dir)
        let source = ["--store", dir + "/store"]
        let base = try baseHash(dir + "/lora0")
        // The base archive leaves the publishing store (as when it was a file given by path).
        try FileManager.default.removeItem(atPath: dir + "/store/blobs/sha256/\(base.prefix(2))/\(base).tar.zst")

        let publish = try rlhub(arguments: ["publish", "lora-v1", "--to", dir + "/hub"] + source)
        try #require(publish.status == 0, "publish: \(publish.err)")
        #expect(publish.out.contains("0 LoRA base archive(s) added"), "\(publish.out)")
        let notes = publish.out.split(separator: "\n").filter { $0.hasPrefix("note:") }
        #expect(!notes.isEmpty && notes.allSatisfy { $0.contains("sha256:\(base)") && $0.contains("published without it") }, "\(publish.out)")
        #expect(try !hubArchives(dir + "/hub").contains(base))

        let fresh = ["--store", dir + "/fresh"]
        let pull = try rlhub(arguments: ["pull", dir + "/hub"] + fresh)
        try #require(pull.status == 0, "pull: \(pull.err)")
        let use = try rlhub(arguments: ["logprobs", "--model", "hub:lora-v1/\(lora[0])", "--text", "3+4=7"] + fresh)
        expectBadInput(use, ["sha256:\(base)", "base checkpoint is not in this store", "rlhub pull"])
    }
}
