// SmolLM2-135M-Instruct from its GGUF file (`make model`): logits and greedy continuations
// against the independent numpy forward of Tests/reference/gguf_llama_reference.py (which keeps
// llama.cpp's permuted q/k rows and its adjacent-pair RoPE), and the HF export round trip.
import Foundation
import Generator
import LM
import RLHubCore
import Tensor
import Testing
import TestSupport

let smolLM2Path: String? = {
    let env = ProcessInfo.processInfo.environment["RLHUB_SMOLLM2_GGUF"]
    let path = env ?? SourceTree.root.appendingPathComponent("models/SmolLM2-135M-Instruct.Q4_1.gguf").path
    return FileManager.default.fileExists(atPath: path) ? path : nil
}()

extension Trait where Self == ConditionTrait {
    /// Skips a test of the real model, with the reason, when `make model` has not been run.
    static var requiresSmolLM2: Self {
        .requiresReference(smolLM2Path != nil, "models/SmolLM2-135M-Instruct.Q4_1.gguf is missing: run `make model`")
    }
}

/// One loaded copy for the suite (loading dequantises 135M parameters).
let smolLM2: LoadedModel? = smolLM2Path.flatMap { try? ModelLoader.load($0) }

@Suite("SmolLM2-135M-Instruct", .serialized)
struct PretrainedModelTests {
    func chatPrompts(_ loaded: LoadedModel) -> [[Int32]] {
        let conversations: [[ChatMessage]] = [
            [ChatMessage(role: "user", content: "What is 12 + 30?")],
            [ChatMessage(role: "system", content: "You answer in one word."),
             ChatMessage(role: "user", content: "Name a colour of the sky.")],
        ]
        return conversations.map { loaded.tokenizer.encode(loaded.chatTemplate.render($0, addGenerationPrompt: true)) }
    }

    @Test(.requiresSmolLM2)
    func configurationFromMetadata() throws {
        let loaded = try #require(smolLM2)
        let c = loaded.model.config
        #expect(c.numHiddenLayers == 30 && c.hiddenSize == 576 && c.numAttentionHeads == 9 && c.numKeyValueHeads == 3)
        #expect(c.intermediateSize == 1536 && c.vocabSize == 49152 && c.tieWordEmbeddings && c.ropeTheta == 100000)
        #expect(loaded.model.parameterCount == 134_515_008)
        #expect(loaded.chatTemplate.defaultSystemPrompt?.contains("SmolLM") == true)
    }

    @Test(.requiresSmolLM2, .requiresPython("numpy, gguf", install: "numpy gguf"))
    func lastPositionLogitsAndGreedyMatchTheNumpyReference() throws {
        let loaded = try #require(smolLM2), path = try #require(smolLM2Path)
        let python = try #require(Reference.python("numpy, gguf"))
        let prompts = chatPrompts(loaded)
        let dir = temporaryFolder()
        let out = dir.appendingPathComponent("last.f64").path
        var args = ["python3", SourceTree.root.appendingPathComponent("Tests/reference/gguf_llama_reference.py").path,
                    "--gguf", path, "--last-only", "--out", out, "--greedy", "20"]
        for p in prompts { args += ["--tokens", p.map(String.init).joined(separator: ",")] }
        let (status, stdout, err) = try runProcess(python, args, environment: ["OPENBLAS_NUM_THREADS": "1"])
        try #require(status == 0, "gguf_llama_reference.py failed: \(err)")
        let reference: [Double] = try Data(contentsOf: URL(fileURLWithPath: out)).withUnsafeBytes {
            Array($0.bindMemory(to: Double.self))
        }
        let V = loaded.model.config.vocabSize
        let cache = KVCache(config: loaded.model.config, slots: prompts.count, capacity: 128)
        var tokens: [Int32] = [], slots: [Int32] = [], last: [Int] = []
        for (i, p) in prompts.enumerated() {
            tokens += p
            slots += [Int32](repeating: Int32(i), count: p.count)
            last.append(tokens.count - 1)
        }
        let logits = loaded.model.extend(cache: cache, tokens: tokens, slots: slots, logitRows: last)
        let ours = Array(UnsafeBufferPointer(start: logits, count: prompts.count * V))
        let scale = reference.map(abs).max() ?? 1
        var maxErr = 0.0
        for i in 0..<ours.count { maxErr = max(maxErr, abs(Double(ours[i]) - reference[i])) }
        print("SmolLM2 vs numpy reference: max |Δlogit| \(maxErr), relative \(maxErr / scale)")
        #expect(maxErr / scale < 1e-4)

        // Greedy 20 tokens through the batched generator.
        struct Greedy: Decodable { var continuations: [[Int32]] }
        let expected = try JSONDecoder().decode(Greedy.self, from: Data(stdout.utf8)).continuations
        let gen = BatchGenerator(model: loaded.model, tokenizer: loaded.tokenizer)
        var request = GenerationRequest(prompts: prompts)
        request.maxNewTokens = 20
        request.sampling = SamplingParameters(temperature: 0)
        let completions = try gen.generate(request)
        #expect(completions.map(\.tokens) == expected)
        print("greedy:", completions.map { loaded.tokenizer.decode($0.tokens).debugDescription })
    }

    /// The sampler in bf16 on the real model, against the numpy reference in fp32 and emulating bf16
    /// (`--bf16`). Through 30 layers a difference of fp32 rounding flips some activations to the other
    /// bf16 neighbour and grows, so two correct bf16 computations differ from each other about as much
    /// as each differs from fp32 (the 3-layer model of BF16ModelTests shows the emulation agreeing
    /// closely). The bound on the log-probs is therefore bf16's own: rlhub's gap to fp32 is at most
    /// twice the emulation's, plus 0.05 nats (measured 0.187 and 0.17 nats, max over the vocabulary).
    @Test(.requiresSmolLM2, .requiresPython("numpy, gguf", install: "numpy gguf"),
          .enabled(if: GEMM.bf16Unavailable == nil, "no bf16 matmul on this CPU"))
    func bf16LogitsStayWithinBF16sErrorOfTheReference() throws {
        let loaded = try #require(smolLM2), path = try #require(smolLM2Path)
        let python = try #require(Reference.python("numpy, gguf"))
        let prompts = chatPrompts(loaded)
        func reference(bf16: Bool) throws -> [Double] {
            let out = temporaryFolder().appendingPathComponent("last.f64").path
            var args = ["python3", SourceTree.root.appendingPathComponent("Tests/reference/gguf_llama_reference.py").path,
                        "--gguf", path, "--last-only", "--out", out] + (bf16 ? ["--bf16"] : [])
            for p in prompts { args += ["--tokens", p.map(String.init).joined(separator: ",")] }
            let (status, _, err) = try runProcess(python, args, environment: ["OPENBLAS_NUM_THREADS": "1"])
            try #require(status == 0, "gguf_llama_reference.py failed: \(err)")
            return try Data(contentsOf: URL(fileURLWithPath: out)).withUnsafeBytes { Array($0.bindMemory(to: Double.self)) }
        }
        let emulated = try reference(bf16: true), fp32 = try reference(bf16: false)
        let model = loaded.model, V = model.config.vocabSize
        model.inferencePrecision = .bf16
        defer { model.inferencePrecision = .fp32 }
        let cache = KVCache(config: model.config, slots: prompts.count, capacity: 128)
        var tokens: [Int32] = [], slots: [Int32] = [], last: [Int] = []
        for (i, p) in prompts.enumerated() {
            tokens += p
            slots += [Int32](repeating: Int32(i), count: p.count)
            last.append(tokens.count - 1)
        }
        let logits = model.extend(cache: cache, tokens: tokens, slots: slots, logitRows: last)
        let ours = Array(UnsafeBufferPointer(start: logits, count: prompts.count * V)).map(Double.init)
        let scale = fp32.map(abs).max() ?? 1
        func maxGap(_ a: [Double], _ b: [Double]) -> Double { zip(a, b).map { abs($0 - $1) }.max() ?? 0 }
        /// Largest |Δ log p| over the vocabulary of each position (log-softmax of both).
        func maxLogprobGap(_ a: [Double], _ b: [Double]) -> Double {
            (0..<prompts.count).map { r in
                func logSoftmax(_ z: ArraySlice<Double>) -> [Double] {
                    let m = z.max()!
                    let lse = m + log(z.reduce(0) { $0 + exp($1 - m) })
                    return z.map { $0 - lse }
                }
                return maxGap(logSoftmax(a[(r * V)..<((r + 1) * V)]), logSoftmax(b[(r * V)..<((r + 1) * V)]))
            }.max()!
        }
        let vsEmulation = maxGap(ours, emulated), vsFP32 = maxGap(ours, fp32)
        print(String(
            format: "SmolLM2 bf16 sampler: max |Δlogit| vs bf16 emulation %.3g (relative %.2g), vs fp32 %.3g (relative %.2g); max |Δ log p| vs fp32 %.3g, emulation vs fp32 %.3g",
            vsEmulation, vsEmulation / scale, vsFP32, vsFP32 / scale, maxLogprobGap(ours, fp32), maxLogprobGap(emulated, fp32)))
        #expect(maxLogprobGap(ours, fp32) < 2 * maxLogprobGap(emulated, fp32) + 0.05)
        #expect(vsFP32 / scale < 0.02 && vsEmulation / scale < 0.02)
    }

    @Test(.requiresSmolLM2)
    func exportedFolderLoadsToTheSameModel() throws {
        let loaded = try #require(smolLM2)
        let dir = temporaryFolder().appendingPathComponent("smollm2-hf")
        try HFCheckpoint.save(loaded, to: dir.path)
        let back = try HFCheckpoint.load(folder: dir.path)
        let same = bitEqual(back.model.parameters.array, loaded.model.parameters.array)
        #expect(same)
        let text = "<|im_start|>user\nWhat is 12 + 30?<|im_end|>\n"
        #expect(back.tokenizer.encode(text) == loaded.tokenizer.encode(text))
        #expect(back.chatTemplate.source == loaded.chatTemplate.source)
    }

    /// The exported folder has the layout transformers loads (checked by its own tokenizer and
    /// safetensors readers).
    @Test(.requiresSmolLM2, .requiresPython("numpy, safetensors, tokenizers", install: "numpy safetensors tokenizers"))
    func exportedFolderPassesTheTransformersLayoutCheck() throws {
        let loaded = try #require(smolLM2)
        let python = try #require(Reference.python("numpy, safetensors, tokenizers"))
        let dir = temporaryFolder().appendingPathComponent("smollm2-hf")
        try HFCheckpoint.save(loaded, to: dir.path)
        let (status, out, err) = try runProcess(
            python, ["python3", SourceTree.root.appendingPathComponent("Tests/reference/check_hf_folder.py").path, dir.path])
        #expect(status == 0, "check_hf_folder.py: \(out) \(err)")
    }
}
