// Model folders: round trip, the numpy reference forward, transformers-compatibility checks and
// bad input (one-line errors that name file and field).
import Foundation
import LM
import RLHubCore
import Tensor
import Testing
import TestSupport

@Suite("HF checkpoints")
struct CheckpointTests {
    func saveTiny(seed: UInt64 = 1) throws -> (LoadedModel, URL) {
        let loaded = try ModelLoader.load("preset:tiny", seed: seed)
        let dir = temporaryFolder().appendingPathComponent("model")
        try HFCheckpoint.save(loaded, to: dir.path)
        return (loaded, dir)
    }

    @Test func roundTripIsBitExact() throws {
        let (loaded, dir) = try saveTiny()
        let back = try HFCheckpoint.load(folder: dir.path)
        #expect(back.model.config == loaded.model.config)
        let same = bitEqual(back.model.parameters.array, loaded.model.parameters.array)
        #expect(same)
        #expect(back.tokenizer.encode("12+30=42<|im_end|>") == loaded.tokenizer.encode("12+30=42<|im_end|>"))
        for name in ["config.json", "model.safetensors", "generation_config.json", "tokenizer.json", "tokenizer_config.json"] {
            #expect(FileManager.default.fileExists(atPath: dir.appendingPathComponent(name).path), "\(name)")
        }
        // The output folder must be new or empty.
        #expect(throws: InputError.self) { try HFCheckpoint.save(loaded, to: dir.path) }
    }

    @Test func untiedModelsRoundTripWithTheirHead() throws {
        var config = microConfig(tied: false)
        config.vocabSize = CharTokenizer.standard.vocabularySize
        let model = LlamaModel(config: config, seed: 2)
        #expect(model.layout.entry(named: "lm_head.weight") != nil && model.layout.lmHead != model.layout.embed)
        let dir = temporaryFolder().appendingPathComponent("untied")
        try HFCheckpoint.save(LoadedModel(model: model, tokenizer: CharTokenizer.standard, source: "test"), to: dir.path)
        let back = try HFCheckpoint.load(folder: dir.path)
        #expect(back.model.config.tieWordEmbeddings == false)
        let same = bitEqual(back.model.parameters.array, model.parameters.array)
        #expect(same)
        let file = try SafetensorsFile(contentsOf: dir.appendingPathComponent("model.safetensors").path)
        #expect(file.names.contains("lm_head.weight"))
    }

    /// Logits of a randomly initialised model saved by rlhub against an independent numpy forward.
    @Test(.requiresPython("numpy, safetensors", install: "numpy safetensors"))
    func logitsMatchTheNumpyReference() throws {
        let python = try #require(Reference.python("numpy, safetensors"))
        let (model, dir) = try savedReferenceModel()
        let config = model.config
        let sequences: [[Int32]] = [
            CharTokenizer.standard.encode("<|im_start|>user\n12+30=?<|im_end|>"),
            [1, 50, 51, 52, 2],
        ]
        let out = dir.deletingLastPathComponent().appendingPathComponent("logits.f64")
        var args = [
            "python3", SourceTree.root.appendingPathComponent("Tests/reference/llama_reference.py").path,
            "--model", dir.path, "--out", out.path,
        ]
        for s in sequences { args += ["--tokens", s.map(String.init).joined(separator: ",")] }
        let (status, _, err) = try runProcess(python, args)
        try #require(status == 0, "llama_reference.py failed: \(err)")
        let data = try Data(contentsOf: out)
        let reference: [Double] = data.withUnsafeBytes { Array($0.bindMemory(to: Double.self)) }
        // rlhub's logits: the KV-cache path gives every position's logits.
        let V = config.vocabSize
        var ours: [Float] = []
        for s in sequences {
            let cache = KVCache(config: config, slots: 1, capacity: 64)
            let p = model.extend(cache: cache, tokens: s, slots: [Int32](repeating: 0, count: s.count), logitRows: Array(0..<s.count))
            ours += Array(UnsafeBufferPointer(start: p, count: s.count * V))
        }
        try #require(reference.count == ours.count, "reference has \(reference.count) logits, rlhub \(ours.count)")
        let scale = reference.map(abs).max() ?? 1
        var maxErr = 0.0
        for i in 0..<ours.count { maxErr = max(maxErr, abs(Double(ours[i]) - reference[i])) }
        let relative = maxErr / scale
        print("numpy reference: max |Δlogit| \(maxErr), relative to max |logit| \(relative)")
        #expect(relative < 1e-4)
        // And the training forward's log-probs agree with the reference's log-softmax.
        let lp = model.forward(TrainingBatch(sequences: sequences)).logprobs
        var offset = 0, row = 0
        for s in sequences {
            for t in 0..<(s.count - 1) {
                let z = reference[(offset + t) * V..<(offset + t + 1) * V]
                let m = z.max()!
                let lse = m + log(z.reduce(0.0) { $0 + exp($1 - m) })
                #expect(abs(Double(lp[row + t]) - (z[z.startIndex + Int(s[t + 1])] - lse)) < 1e-4)
            }
            offset += s.count
            row += s.count
        }
    }

    /// The folder has exactly what transformers' LlamaForCausalLM expects.
    @Test(.requiresPython("numpy, safetensors, tokenizers", install: "numpy safetensors tokenizers"))
    func folderPassesTheTransformersLayoutCheck() throws {
        let python = try #require(Reference.python("numpy, safetensors, tokenizers"))
        let (_, dir) = try saveTiny()
        let (status, out, err) = try runProcess(
            python, ["python3", SourceTree.root.appendingPathComponent("Tests/reference/check_hf_folder.py").path, dir.path])
        #expect(status == 0, "check_hf_folder.py: \(out) \(err)")
    }

    // MARK: - Bad input

    func expectInputError(_ field: String, file: String, _ body: () throws -> Void) {
        do {
            try body()
            Issue.record("expected an InputError naming \(field)")
        } catch let e as InputError {
            #expect(e.field.contains(field) || e.message.contains(field), "\(e)")
            #expect(e.file.hasSuffix(file), "\(e)")
            #expect(!e.description.contains("\n"))
        } catch {
            Issue.record("expected InputError, got \(error)")
        }
    }

    @Test func inconsistentHeadsAreRejected() throws {
        let (_, dir) = try saveTiny()
        let path = dir.appendingPathComponent("config.json")
        var json = try JSONSerialization.jsonObject(with: Data(contentsOf: path)) as! [String: Any]
        json["num_key_value_heads"] = 3
        try JSONSerialization.data(withJSONObject: json).write(to: path)
        expectInputError("num_key_value_heads", file: "config.json") { _ = try HFCheckpoint.load(folder: dir.path) }
        json["num_key_value_heads"] = 2
        json["num_attention_heads"] = 5
        try JSONSerialization.data(withJSONObject: json).write(to: path)
        expectInputError("num_attention_heads", file: "config.json") { _ = try HFCheckpoint.load(folder: dir.path) }
        json.removeValue(forKey: "hidden_size")
        try JSONSerialization.data(withJSONObject: json).write(to: path)
        expectInputError("hidden_size", file: "config.json") { _ = try HFCheckpoint.load(folder: dir.path) }
    }

    @Test func truncatedOrLyingWeightsAreRejected() throws {
        let (_, dir) = try saveTiny()
        let path = dir.appendingPathComponent("model.safetensors")
        let good = try Data(contentsOf: path)
        try good.prefix(good.count - 100).write(to: path)
        expectInputError("model.norm.weight", file: "model.safetensors") { _ = try HFCheckpoint.load(folder: dir.path) }
        var lying = good
        lying.withUnsafeMutableBytes { $0.storeBytes(of: UInt64(1 << 40).littleEndian, as: UInt64.self) }
        try lying.write(to: path)
        expectInputError("offset 0", file: "model.safetensors") { _ = try HFCheckpoint.load(folder: dir.path) }
    }

    @Test func wrongShapeNamesTheTensor() throws {
        let (loaded, dir) = try saveTiny()
        // Same tensors, but a config whose MLP is narrower: the first MLP tensor is named.
        var config = loaded.model.config
        config.intermediateSize = 256
        let encoder = JSONEncoder()
        try encoder.encode(config).write(to: dir.appendingPathComponent("config.json"))
        expectInputError("model.layers.0.mlp.gate_proj.weight", file: "model.safetensors") {
            _ = try HFCheckpoint.load(folder: dir.path)
        }
    }

    @Test func unknownPresetListsTheValidOnes() {
        do {
            _ = try ModelLoader.load("preset:huge")
            Issue.record("expected an error")
        } catch {
            #expect(error.description.contains("tiny") && error.description.contains("smollm2-135m"))
        }
    }
}
