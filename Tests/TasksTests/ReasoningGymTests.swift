// The rg: adapter against reasoning-gym itself (Tests/reference/rg_reference.py): for the same
// seed and index, the same question, answer and score_answer reward. Skipped, visibly, without
// python3 + reasoning-gym unless RLHUB_REQUIRE_REFERENCE=1 (then a failure).
import Foundation
import RLHubCore
import Tasks
import Testing

enum ReasoningGym {
    static let available: Bool = {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["python3", "-c", "import reasoning_gym"]
        p.standardError = FileHandle.nullDevice
        guard (try? p.run()) != nil else { return false }
        p.waitUntilExit()
        return p.terminationStatus == 0
    }()
    static let required = ProcessInfo.processInfo.environment["RLHUB_REQUIRE_REFERENCE"] == "1"
    /// Runs a test body when reasoning-gym is there, or records the failure when it is required.
    static var enabled: Bool { available || required }
}

@Suite("reasoning-gym adapter", .enabled(if: ReasoningGym.enabled, "needs python3 with reasoning-gym (make deps)"))
struct ReasoningGymTests {
    /// Plays `replies` on problems 0..<count of both splits and compares with reasoning-gym.
    func compare(_ spec: String, config: [String: Any], tag: Bool = false, count: Int = 12) throws {
        guard ReasoningGym.available else {
            Issue.record("RLHUB_REQUIRE_REFERENCE=1 but python3 has no reasoning_gym: run make deps")
            return
        }
        let task = try TaskRegistry.make(spec)
        let starts = Split.allCases.flatMap { s in (0..<count).map { EpisodeStart(split: s, index: $0, seed: 0) } }
        // First pass learns each gold answer; the second plays gold, wrong, empty and padded replies.
        var batch = task.makeEnvironmentBatch()
        _ = try batch.reset(starts)
        let gold = try batch.step(starts.indices.map { (episode: $0, text: "?") }).map { $0.info["expected"] ?? "" }
        let wrap = { (a: String) in tag ? "<answer>\(a)</answer>" : a }
        let replies = gold.map { [wrap($0), wrap("12345"), "", wrap($0 + " extra")] }
        var rewards: [[Double]] = [], prompts: [String] = [], indices: [String] = []
        for r in 0..<4 {
            let first = try batch.reset(starts)
            prompts = first.map { $0[0].content }
            let results = try batch.step(starts.indices.map { (episode: $0, text: replies[$0][r]) })
            indices = results.map { $0.info["rg_index"] ?? "" }
            rewards.append(results.map(\.reward))
        }
        let queries: [[String: Any]] = starts.indices.map {
            ["split": starts[$0].split.rawValue, "index": starts[$0].index, "replies": replies[$0], "tag": tag]
        }
        let job = try JSONSerialization.data(withJSONObject: ["name": String(spec.split(separator: ":")[1]), "config": config, "queries": queries])
        let reference = try runReference(job)
        #expect(reference.count == starts.count)
        for (k, ref) in reference.enumerated() {
            #expect(String(ref["index"] as? Int ?? -1) == indices[k], "problem \(k): dataset index")
            #expect(ref["question"] as? String == prompts[k], "problem \(k): question")
            #expect(ref["answer"] as? String == gold[k], "problem \(k): answer")
            #expect((ref["scores"] as? [String])?.map { Double($0) } == (0..<4).map { rewards[$0][k] }, "problem \(k): rewards")
        }
        // Both splits present and disjoint in content.
        #expect(Set(prompts[..<count]).isDisjoint(with: prompts[count...]))
    }

    func runReference(_ job: Data) throws -> [[String: Any]] {
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("reference/rg_reference.py").path
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["python3", script]
        let input = Pipe(), output = Pipe()
        p.standardInput = input
        p.standardOutput = output
        try p.run()
        input.fileHandleForWriting.write(job)
        try input.fileHandleForWriting.close()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        #expect(p.terminationStatus == 0)
        return (try JSONSerialization.jsonObject(with: data) as? [[String: Any]]) ?? []
    }

    @Test("basic_arithmetic: problems and rewards equal reasoning-gym's for the same seed and index")
    func basicArithmetic() throws {
        try compare("rg:basic_arithmetic", config: ["seed": 0, "size": 500])
    }

    @Test("leg_counting with its own parameters, answers in <answer> tags")
    func legCounting() throws {
        try compare(
            "rg:leg_counting:max_animals=3,size=2000,seed=7,answer=tag",
            config: ["max_animals": 3, "size": 2000, "seed": 7], tag: true)
    }

    @Test("spell_backward: partial scores as reasoning-gym gives them")
    func spellBackward() throws {
        try compare("rg:spell_backward", config: ["seed": 0, "size": 500])
    }

    @Test("the spec carries the package and protocol versions; bad parameters are one line")
    func specAndErrors() throws {
        guard ReasoningGym.available else { Issue.record("RLHUB_REQUIRE_REFERENCE=1 but python3 has no reasoning_gym"); return }
        let t = try TaskRegistry.make("rg:basic_arithmetic:max_terms=2")
        #expect(t.spec.hasPrefix("rg:basic_arithmetic:allow_negation=true,allow_parentheses=true,answer=raw,"))
        #expect(t.spec.contains(",env.name=rg:basic_arithmetic,env.protocol=1,env.version=reasoning-gym-0.1.25+rlhub-rg-1,"))
        #expect(t.spec.contains(",max_terms=2,") && t.spec.contains(",operators=+|-|*|/,") && t.spec.contains(",seed=0,"))
        let demo = t.goldDemonstration(split: .train, index: 3, seed: 0)
        #expect(demo.count == 2 && demo[1].role == "assistant")
        #expect(throws: InputError.self) { try TaskRegistry.make("rg:basic_arithmetic:nope=1") }
        do {
            _ = try TaskRegistry.make("rg:no_such_dataset")
            Issue.record("no error")
        } catch {
            #expect(error.description.contains("environment rg:no_such_dataset"))
            #expect(error.description.contains("the environment reports: ValueError: unknown reasoning-gym dataset 'no_such_dataset'"))
        }
    }
}
