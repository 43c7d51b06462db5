// The fuzz suite: structure-aware mutations of every input format rlhub reads, at least 1,000
// cases per format, each read by `rlhub check-inputs` under a 4 GiB address-space limit. A crash,
// a signal or an unanswered case fails the test and prints the input (base64) and the seed.
import Foundation
import LM
import Testing

@Suite("Fuzzing rlhub's readers", .serialized)
struct FuzzTests {
    static let casesPerFormat = 1000
    /// Fixed by default (a failure reproduces); RLHUB_FUZZ_SEED explores other cases.
    static let seed = ProcessInfo.processInfo.environment["RLHUB_FUZZ_SEED"].flatMap { UInt64($0) } ?? 18

    /// Case 0 is the unmutated seed (it must be accepted: the driver and seed are sound); the
    /// others apply `mutate` to a fresh generator each.
    static func cases(_ seedCase: [UInt8], _ mutate: (inout FuzzRNG) -> [UInt8]) -> [[UInt8]] {
        var rng = FuzzRNG(state: seed)
        return [seedCase] + (1..<casesPerFormat).map { _ in mutate(&rng) }
    }

    static func report(_ format: String, _ outcome: FuzzOutcome, _ count: Int) {
        print("fuzz \(format): \(count) cases, \(outcome.accepted) accepted, \(outcome.refused) refused, "
              + String(format: "%.1f s", outcome.seconds) + ", seed \(seed)")
        #expect(outcome.accepted >= 1, "\(format): even the unmutated seed was refused")
        #expect(outcome.accepted + outcome.refused == count)
    }

    static func fuzz(_ format: String, suffix: String, _ cases: [[UInt8]], prepare: (String) throws -> Void = { _ in }) throws {
        let outcome = try FuzzRunner.run(format, cases, suffix: suffix, seed: seed, prepare: prepare)
        report(format, outcome, cases.count)
    }

    /// `json` mutated 1–3 times, sometimes damaged byte-wise afterwards.
    static func jsonCases(_ json: FuzzJSON) -> [[UInt8]] {
        cases(Array(json.text.utf8)) { rng in
            var value = json
            for _ in 0...rng.below(3) { value = value.mutated(&rng) }
            let bytes = Array(value.text.utf8)
            return rng.chance(15) ? damaged(bytes, &rng) : bytes
        }
    }

    @Test func ggufHeadersAndMetadata() throws {
        let seed = GGUFSeed.tinyLlama()
        try Self.fuzz("gguf", suffix: ".gguf", Self.cases(seed.serialized().bytes) { rng in
            var file = seed
            for _ in 0...rng.below(3) { file.mutate(&rng) }
            var (bytes, fields) = file.serialized()
            if rng.chance(30), let field = fields.isEmpty ? nil : rng.pick(fields) {
                // A count, length, type or offset that lies about what follows.
                let edge = rng.pick(boundaryIntegers)
                for i in 0..<field.width { bytes[field.offset + i] = UInt8(truncatingIfNeeded: edge >> (8 * UInt64(i))) }
            }
            return rng.chance(15) ? damaged(bytes, &rng) : bytes
        })
    }

    @Test func safetensorsHeaders() throws {
        let header = FuzzJSON.object([
            ("__metadata__", .object([("format", .string("pt"))])),
            ("a", .object([("dtype", .string("F32")), ("shape", .array([.number("2"), .number("3")])),
                           ("data_offsets", .array([.number("0"), .number("24")]))])),
            ("b", .object([("dtype", .string("BF16")), ("shape", .array([.number("4")])),
                           ("data_offsets", .array([.number("24"), .number("32")]))])),
        ])
        func file(_ header: [UInt8], length: UInt64? = nil) -> [UInt8] {
            withUnsafeBytes(of: (length ?? UInt64(header.count)).littleEndian) { Array($0) } + header + [UInt8](repeating: 0x3F, count: 32)
        }
        try Self.fuzz("safetensors", suffix: ".safetensors", Self.cases(file(Array(header.text.utf8))) { rng in
            var value = header
            for _ in 0...rng.below(3) { value = value.mutated(&rng) }
            let text = Array(value.text.utf8)
            let bytes = file(text, length: rng.chance(20) ? rng.pick(boundaryIntegers) : nil)
            return rng.chance(15) ? damaged(bytes, &rng) : bytes
        })
    }

    @Test func configJSON() throws {
        let data = try JSONEncoder().encode(try LlamaConfig.preset("smollm2-135m"))
        let json = FuzzJSON(try JSONSerialization.jsonObject(with: data))
        try Self.fuzz("config", suffix: ".json", Self.jsonCases(json))
    }

    @Test func tokenizerJSON() throws {
        let bpe = try ByteLevelBPETokenizer(
            tokens: ["a", "b", "ab", "Ġ", "Ġa", "<|im_end|>"], merges: ["a b", "Ġ a"], tokenTypes: [.normal, .normal, .normal, .normal, .normal, .control],
            bos: nil, eos: 5, pad: nil, unk: nil, preTokenizer: .gpt2)
        let seeds = [try bpe.huggingFaceJSON(), try CharTokenizer.standard.huggingFaceJSON()].map {
            FuzzJSON((try? JSONSerialization.jsonObject(with: $0)) ?? [:])
        }
        var rng = FuzzRNG(state: Self.seed)
        let cases = [Array(seeds[0].text.utf8)] + (1..<Self.casesPerFormat).map { _ -> [UInt8] in
            var value = rng.pick(seeds)
            for _ in 0...rng.below(3) { value = value.mutated(&rng) }
            let bytes = Array(value.text.utf8)
            return rng.chance(10) ? damaged(bytes, &rng) : bytes
        }
        try Self.fuzz("tokenizer", suffix: ".json", cases)
    }

    @Test func experimentSpecs() throws {
        let repo = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let smoke = try String(contentsOf: repo.appendingPathComponent("experiments/smoke.yaml"), encoding: .utf8)
        let lines = smoke.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        let keys = ["group_size", "prompts_per_step", "max_new_tokens", "token_budget", "micro_batch_tokens", "lr", "ppo_epochs", "mini_batches"]
        try Self.fuzz("spec", suffix: ".yaml", Self.cases(Array(smoke.utf8)) { rng in
            var out = lines
            for _ in 0...rng.below(3) {
                let i = rng.below(out.count)
                switch rng.below(8) {
                case 0:  // a value replaced
                    if let colon = out[i].firstIndex(of: ":") {
                        out[i] = String(out[i][...colon]) + " " + rng.pick(boundaryNumberTexts + ["", "~", "[", "{a: }", "*x", "&x a", "!!binary aGk=", "'unterminated", "null"])
                    }
                case 1: out.insert(out[i], at: i)  // a repeated key
                case 2: out.remove(at: i)
                case 3:  // flow nesting
                    let d = rng.pick([10, 64, 65, 3000, 100_000])
                    out[i] = "description: " + String(repeating: "[", count: d) + String(repeating: "]", count: d)
                case 4:  // block nesting
                    let d = rng.pick([10, 70, 3000])
                    out.insert((0..<d).map { String(repeating: " ", count: $0) + "k\($0):" }.joined(separator: "\n") + " x", at: i)
                case 5: out[i] = "set: {\(rng.pick(keys)): \(rng.pick(boundaryNumberTexts))}"
                case 6: out[i] = "model: " + rng.pick(["preset:nope", "/nonexistent.gguf", "x.tar.zst", "cell:zz", "run:", "/dev/null"])
                default: out[i] = "  " + out[i]  // indentation changed
                }
            }
            let bytes = Array(out.joined(separator: "\n").utf8)
            return rng.chance(10) ? damaged(bytes, &rng) : bytes
        })
    }

    @Test func setValues() throws {
        let keys = ["group_size", "prompts_per_step", "max_new_tokens", "token_budget", "micro_batch_tokens", "lr", "steps", "eval_k",
                    "eval_episodes", "ppo_epochs", "mini_batches", "temperature", "top_k", "top_p", "kl_coef", "clip_low", "dual_clip",
                    "loss_agg", "estimator", "seed", "value_lr_scale", "lr_schedule", "max_resample_rounds", "overlong_buffer", "nope"]
        try Self.fuzz("set", suffix: ".txt", Self.cases(Array("group_size=8\nlr=1e-3".utf8)) { rng in
            (0...rng.below(4)).map { _ -> String in
                let value = rng.pick(boundaryNumberTexts + ["", "none", "true", "nan", "inf", "-inf", "grpo", "=", "1,2", String(repeating: "9", count: 400)])
                return rng.chance(5) ? value : rng.pick(keys) + "=" + value
            }.joined(separator: "\n").utf8.map { $0 }
        })
    }

    @Test func whereFilters() throws {
        let fields = ["algo", "task", "seed", "status", "steps", "experiment", "release", "config.lr", "config.opt.beta",
                      "final.reward/mean", "best.loss", "score.test.accuracy", "tag.note", "created", "nope", "config.", "final."]
        let values = ["'grpo'", "\"a\"", "'it''s'", "1", "-.5", "1e308", "1e999", "true", "null", "'", "''''", "'%_'"]
        func comparison(_ rng: inout FuzzRNG) -> String {
            let field = rng.pick(fields)
            switch rng.below(4) {
            case 0: return "\(field) \(rng.pick(["=", "!=", "<>", "<", "<=", ">", ">=", "=="])) \(rng.pick(values))"
            case 1: return "\(field) \(rng.pick(["in", "not in"])) (\((0...rng.below(3)).map { _ in rng.pick(values) }.joined(separator: ", ")))"
            case 2: return "\(field) \(rng.pick(["like", "not like"])) \(rng.pick(values))"
            default: return "\(field) is \(rng.pick(["null", "not null", "nul"]))"
            }
        }
        try Self.fuzz("where", suffix: ".txt", Self.cases(Array("algo = 'grpo' and final.reward/mean > 0.5".utf8)) { rng in
            var text = comparison(&rng)
            for _ in 0..<rng.below(4) { text = "\(text) \(rng.pick(["and", "or", "and not", "or (", ")"])) \(comparison(&rng))" }
            switch rng.below(5) {
            case 0:
                let d = rng.pick([10, 100, 1000, 50_000])
                text = String(repeating: "(", count: d) + text + String(repeating: ")", count: rng.chance(80) ? d : d - 1)
            case 1: text = String(repeating: "not ", count: rng.pick([10, 10_000])) + text
            case 2: text += " " + String(repeating: "and seed = 1 ", count: rng.pick([100, 5000]))
            default: break
            }
            let bytes = Array(text.utf8)
            return rng.chance(10) ? damaged(bytes, &rng) : bytes
        })
    }

    @Test func checkpointArchives() throws {
        let seed = TarSeed.checkpoint()
        var rng = FuzzRNG(state: Self.seed)
        let cases = [seed.bytes] + (1..<Self.casesPerFormat).map { _ -> [UInt8] in
            var archive = seed
            for _ in 0...rng.below(3) { archive.mutate(&rng) }
            return archive.bytes
        }
        try Self.fuzz("archive", suffix: ".tar", cases) { dir in
            // zstd as `rlhub` writes them, then some compressed streams damaged.
            let z = Process()
            z.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            z.arguments = ["zstd", "-q", "-f", "--rm"] + (0..<cases.count).map { "\(dir)/case\($0).tar" }
            try z.run()
            z.waitUntilExit()
            try #require(z.terminationStatus == 0, "zstd failed")
            var damage = FuzzRNG(state: Self.seed ^ 0xA5)
            for i in 1..<cases.count where damage.chance(15) {
                let path = "\(dir)/case\(i).tar.zst"
                let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
                try Data(damaged(bytes, &damage)).write(to: URL(fileURLWithPath: path))
            }
        }
    }
}
