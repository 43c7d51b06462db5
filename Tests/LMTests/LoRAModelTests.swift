// LoRA on the whole model: PEFT's initialisation leaves the base untouched; the adapters'
// gradients match finite differences through every layer; the two-path forward equals the merged
// weights'; generation (which reads the merged arena) matches the training forward; switching
// adapters off gives the base back; the base gets no gradient.
import Foundation
import LM
import Tensor
import Testing
import TestSupport

@Suite("LoRA model")
struct LoRAModelTests {
    let sequences: [[Int32]] = [[1, 5, 9, 2, 7, 7, 3], [4, 22, 0], [8, 1, 1, 1, 13]]
    let allTargets = LoRATarget.allCases

    /// A model with adapters on every projection and B drawn at random (PEFT starts B at zero,
    /// which would make every check below trivial).
    func adaptedModel(seed: UInt64 = 3, rank: Int = 2, targets: [LoRATarget]? = nil) -> LlamaModel {
        let model = LlamaModel(config: microConfig(), seed: seed)
        let lora = LoRAAdapters(for: model, config: LoRAConfig(rank: rank, alpha: 3, targets: targets ?? allTargets), seed: 11)
        var rng = CounterRNG(seed: 12, purpose: .testing)
        for ad in lora.adapters {
            for i in 0..<(ad.outFeatures * rank) { lora.parameters[ad.b + i] = (rng.nextUniform() * 2 - 1) * 0.5 }
        }
        lora.parameters.markModified()
        model.adapters = lora
        return model
    }

    @Test func peftInitialisationKeepsTheBase() throws {
        let base = LlamaModel(config: microConfig(), seed: 3)
        let batch = TrainingBatch(sequences: sequences)
        let before = base.forward(batch).logprobs
        let lora = LoRAAdapters(for: base, config: LoRAConfig(rank: 4, alpha: 8, targets: allTargets), seed: 1)
        base.adapters = lora
        #expect(bitEqual(base.forward(batch).logprobs, before))
        // A ~ U(−1/√in, 1/√in), not all zero; B = 0.
        for ad in lora.adapters {
            let bound = 1 / Float(ad.inFeatures).squareRoot()
            let a = (0..<(4 * ad.inFeatures)).map { lora.parameters[ad.a + $0] }
            #expect(a.allSatisfy { abs($0) <= bound } && a.contains { $0 != 0 }, "\(ad.nameA)")
            #expect((0..<(ad.outFeatures * 4)).allSatisfy { lora.parameters[ad.b + $0] == 0 }, "\(ad.nameB)")
        }
        #expect(lora.adapters.count == 7 * microConfig().numHiddenLayers)
        #expect(lora.adapters[0].nameA == "base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight")
    }

    @Test func adapterGradientsMatchFiniteDifferences() {
        let model = adaptedModel()
        let lora = model.adapters!
        let batch = TrainingBatch(sequences: sequences, scoreFrom: [1, 0, 0])
        var rng = CounterRNG(seed: 9, purpose: .testing)
        let g = batch.targets.map { $0 >= 0 ? rng.nextUniform() * 2 - 1 : 0 }
        let h = batch.targets.map { $0 >= 0 ? rng.nextUniform() - 0.5 : 0 }
        func loss() -> Double {
            let r = model.forward(batch, temperature: 0.9)
            return (0..<batch.rowCount).reduce(0.0) { $0 + Double(r.logprobs[$1] * g[$1]) + Double(r.entropies[$1] * h[$1]) }
        }
        lora.zeroGradients()
        _ = loss()
        model.backward(dLogprobs: g, dEntropies: h)
        let analytic = lora.gradients.array
        for ad in lora.adapters {
            for (offset, count, name) in [(ad.a, 2 * ad.inFeatures, ad.nameA), (ad.b, ad.outFeatures * 2, ad.nameB)] {
                for k in 0..<3 {
                    let i = offset + (count * (2 * k + 1)) / 6
                    let saved = lora.parameters[i]
                    lora.parameters[i] = saved + 1e-2
                    let up = loss()
                    lora.parameters[i] = saved - 1e-2
                    let down = loss()
                    lora.parameters[i] = saved
                    let fd = (up - down) / 2e-2
                    #expect(abs(fd - Double(analytic[i])) <= 2e-3 + 3e-2 * abs(fd), "\(name)[\(i - offset)]: fd \(fd) vs \(analytic[i])")
                }
            }
        }
    }

    @Test func twoPathsEqualTheMergedWeights() {
        let model = adaptedModel()
        let lora = model.adapters!
        let batch = TrainingBatch(sequences: sequences)
        let adapted = model.forward(batch).logprobs
        // The merged model: a plain model whose projections are W + s·B·A.
        let merged = LlamaModel(config: model.config)
        merged.copyParameters(from: model)
        for ad in lora.adapters {
            let p = lora.parameters.pointer
            LoRA.merge(
                merged: merged.parameters.pointer + ad.baseWeight, weight: model.parameters.pointer + ad.baseWeight,
                a: p + ad.a, b: p + ad.b, I: ad.inFeatures, O: ad.outFeatures, r: lora.config.rank,
                scale: lora.config.scale)
        }
        let reference = merged.forward(batch).logprobs
        let worst = zip(adapted, reference).map { abs($0 - $1) }.max() ?? 0
        #expect(worst < 1e-5, "max |Δ log p| \(worst)")
        // Off: the base.
        model.adaptersEnabled = false
        let plain = LlamaModel(config: model.config)
        plain.copyParameters(from: model)
        #expect(bitEqual(model.forward(batch).logprobs, plain.forward(batch).logprobs))
    }

    @Test func generationReadsTheAdaptedModel() {
        let model = adaptedModel(seed: 6)
        let V = model.config.vocabSize
        let cache = KVCache(config: model.config, slots: 1, capacity: 16)
        let prompt: [Int32] = [1, 5, 9, 2]
        let logits = model.extend(cache: cache, tokens: prompt, slots: [0, 0, 0, 0], logitRows: [3])
        let z = (0..<V).map { Double(logits[$0]) }
        let m = z.max()!
        let lse = m + log(z.reduce(0.0) { $0 + exp($1 - m) })
        let ref = model.forward(TrainingBatch(sequences: [prompt + [7]])).logprobs
        #expect(abs((z[7] - lse) - Double(ref[3])) < 1e-4, "cached \(z[7] - lse) vs training \(ref[3])")
        // An optimizer step on the adapters re-merges the generation weights.
        model.adapters!.parameters[model.adapters!.adapters[0].b] += 1
        model.adapters!.parameters.markModified()
        let cache2 = KVCache(config: model.config, slots: 1, capacity: 16)
        let after = model.extend(cache: cache2, tokens: prompt, slots: [0, 0, 0, 0], logitRows: [3])
        #expect(after[7] != Float(z[7]))
    }

    /// The sampler's bf16 copies follow the arena they came from: after the adapters are merged
    /// and new ones attached, generation computes the new adapted model (as a fresh model does),
    /// never the copies of the old merged arena.
    @Test(.enabled(if: GEMM.bf16Unavailable == nil, "no bf16 matmul on this CPU"))
    func bf16GenerationFollowsNewAdapters() {
        func logits(_ model: LlamaModel) -> [Float] {
            let cache = KVCache(config: model.config, slots: 1, capacity: 16)
            let p = model.extend(cache: cache, tokens: [1, 5, 9, 2], slots: [0, 0, 0, 0], logitRows: [3])
            return Array(UnsafeBufferPointer(start: p, count: model.config.vocabSize))
        }
        let model = adaptedModel(seed: 6)
        model.inferencePrecision = .bf16
        let before = logits(model)
        model.mergeAdapters()
        let next = LoRAAdapters(for: model, config: LoRAConfig(rank: 2, alpha: 3, targets: allTargets), seed: 21)
        for i in 0..<next.parameterCount { next.parameters[i] += 0.3 }
        next.parameters.markModified()
        model.adapters = next
        let after = logits(model)
        let fresh = LlamaModel(config: model.config)
        fresh.copyParameters(from: model)
        let copy = LoRAAdapters(for: fresh, config: next.config, seed: nil)
        copy.parameters.pointer.update(from: next.parameters.pointer, count: next.parameterCount)
        copy.parameters.markModified()
        fresh.adapters = copy
        fresh.inferencePrecision = .bf16
        #expect(bitEqual(after, logits(fresh)))
        #expect(!bitEqual(after, before))
    }

    @Test func theBaseGetsNoGradient() {
        let model = adaptedModel()
        let batch = TrainingBatch(sequences: sequences)
        let n = batch.rowCount
        model.forward(batch)
        model.backward(dLogprobs: [Float](repeating: 0.1, count: n))
        // Only the adapters' gradients exist; the base arena's were never allocated or written.
        #expect(model.adapters!.gradients.array.contains { $0 != 0 })
        #expect(model.gradients.array.allSatisfy { $0 == 0 })
    }

    /// Export for PEFT, then: rlhub reloads the adapter onto its base bit for bit, and an independent
    /// numpy forward of the base with the adapter merged (llama_reference.py --adapter) gives rlhub's
    /// log-probs of the adapted model.
    @Test(.requiresPython("numpy, safetensors", install: "numpy safetensors"))
    func exportedAdapterMatchesTheNumpyReference() throws {
        let python = try #require(Reference.python("numpy, safetensors"))
        let (model, dir) = try savedReferenceModel()
        let lora = LoRAAdapters(for: model, config: LoRAConfig(rank: 4, alpha: 16, targets: allTargets), seed: 5)
        var rng = CounterRNG(seed: 13, purpose: .testing)
        for ad in lora.adapters {
            for i in 0..<(ad.outFeatures * 4) { lora.parameters[ad.b + i] = (rng.nextUniform() * 2 - 1) * 0.05 }
        }
        lora.parameters.markModified()
        model.adapters = lora
        let loaded = LoadedModel(model: model, tokenizer: CharTokenizer.standard, source: "test")
        let out = dir.deletingLastPathComponent().appendingPathComponent("peft")
        try LoRACheckpoint.exportPEFT(loaded, to: out.path)
        let names = try FileManager.default.contentsOfDirectory(atPath: out.appendingPathComponent("adapter").path)
        #expect(Set(names).isSuperset(of: ["adapter_config.json", "adapter_model.safetensors", "rlhub_base.json"]))
        #expect(!names.contains("config.json") && !names.contains("model.safetensors"))

        let sequences: [[Int32]] = [CharTokenizer.standard.encode("<|im_start|>user\n12+30=?<|im_end|>"), [1, 50, 51, 52, 2]]
        let ours = model.forward(TrainingBatch(sequences: sequences)).logprobs
        // rlhub reads what it wrote: the base from out/base, the adapter attached, the same log-probs.
        let back = try ModelLoader.load(out.appendingPathComponent("adapter").path)
        #expect(back.model.adapters?.config == lora.config)
        #expect(bitEqual(back.model.forward(TrainingBatch(sequences: sequences)).logprobs, ours))

        let file = out.appendingPathComponent("logprobs.f64")
        var args = [
            "python3", SourceTree.root.appendingPathComponent("Tests/reference/llama_reference.py").path,
            "--model", out.appendingPathComponent("base").path, "--adapter", out.appendingPathComponent("adapter").path,
            "--logprobs", "--out", file.path,
        ]
        for s in sequences { args += ["--tokens", s.map(String.init).joined(separator: ",")] }
        let (status, _, err) = try runProcess(python, args)
        try #require(status == 0, "llama_reference.py failed: \(err)")
        let reference: [Double] = try Data(contentsOf: file).withUnsafeBytes { Array($0.bindMemory(to: Double.self)) }
        // The packed batch's rows with a target, in order: each sequence's positions 0..<len-1.
        var mine: [Double] = []
        var row = 0
        for s in sequences {
            for t in 0..<s.count { if t < s.count - 1 { mine.append(Double(ours[row])) }; row += 1 }
        }
        try #require(mine.count == reference.count, "rlhub \(mine.count) log-probs, numpy \(reference.count)")
        let worst = zip(mine, reference).map { abs($0 - $1) }.max() ?? 0
        print("LoRA numpy reference: max |Δ log p| \(worst)")
        #expect(worst < 2e-4, "max |Δ log p| \(worst)")
        // And the adapter changed the model: the base alone is far from it.
        model.adaptersEnabled = false
        let base = model.forward(TrainingBatch(sequences: sequences)).logprobs
        #expect(zip(base, ours).map { abs($0 - $1) }.max()! > 1e-3)
    }
}
