// rlhub — benchmarks on the real SmolLM2-135M-Instruct weights (`make model`), and rollouts.
//
// lm.prefill / lm.decode at batch 1 and 64 (names end in .b1 / .b64): a 64-token chat prompt,
// then 32 greedy tokens per sequence. rollout.PRESET: 8 prompts × 8 samples, up to 32 new
// tokens at temperature 1 through the batched generator (prompt prefill shared by each group).
// train.grpo_step.*: a whole GRPO step (GRPOStepBenchmark.swift).
// lora.sampling.*: how a LoRA policy's sampler should read its weights (r 16, every projection):
// merged once per optimizer step (lora.sampling.merge) against the adapter path's extra products
// over one rollout at batch 64 (lora.sampling.adapter_path.b64: a 64-token prompt and 32 tokens).
import Foundation
import Generator
import LM
import RLHubCore
import Tensor

struct PretrainedBenchmarks {
    let runner: BenchmarkRunner
    static let defaultPath = "models/SmolLM2-135M-Instruct.Q4_1.gguf"

    func run(path: String) throws {
        guard FileManager.default.fileExists(atPath: path) else {
            runner.log("skipping lm.*.smollm2-135m-instruct and rollout.smollm2-135m-instruct: \(path) is missing (run `make model`)")
            return
        }
        PeakMemory.reset()
        var loaded: LoadedModel?
        let load = timed { loaded = try? ModelLoader.load(path) }
        guard let loaded else { throw InputError(file: path, message: "could not be loaded") }
        runner.log(String(format: "smollm2-135m-instruct: loaded and dequantised in %.2f s", load))
        let name = "smollm2-135m-instruct"
        let model = loaded.model
        let prompt = Array(
            loaded.tokenizer.encode(
                loaded.chatTemplate.render(
                    [ChatMessage(role: "user", content: String(repeating: "Add the numbers 12 and 30, then explain. ", count: 4))],
                    addGenerationPrompt: true)).prefix(64))
        for precision in runner.precisions {
            model.inferencePrecision = precision
            try decodeEntries(model: model, prompt: prompt, name: name, precision: precision)
            try rollout(loaded, name: name, precision: precision)
        }
        model.inferencePrecision = .fp32
        loraSamplingEntries(model: model, name: name, promptTokens: prompt.count)
        if runner.wants("pretrained") { try GRPOStepBenchmark(runner: runner).run(path: path) }
    }

    /// The two ways a sampler can compute a LoRA policy, timed on their extra work alone: merging
    /// W + s·B·A into a copy of every adapted weight, or the adapter path s·(x·Aᵀ)·Bᵀ added to every
    /// adapted product of a rollout (batch 64: one prefill of `promptTokens` rows per sequence, then 32
    /// decode steps of 64 rows).
    func loraSamplingEntries(model: LlamaModel, name: String, promptTokens: Int) {
        let r = 16
        let lora = LoRAAdapters(for: model, config: LoRAConfig(rank: r, alpha: 32, targets: LoRATarget.allCases), seed: 1)
        var rng = CounterRNG(seed: 2, purpose: .benchmark)
        for i in 0..<lora.parameterCount { lora.parameters[i] = (rng.nextUniform() * 2 - 1) * 0.01 }
        let merged = FloatBuffer(count: model.parameterCount)
        let p = lora.parameters.pointer
        var mergeTimes: [Double] = []
        for _ in 0..<3 {
            mergeTimes.append(timed {
                for ad in lora.adapters {
                    LoRA.merge(
                        merged: merged.pointer + ad.baseWeight, weight: model.parameters.pointer + ad.baseWeight,
                        a: p + ad.a, b: p + ad.b, I: ad.inFeatures, O: ad.outFeatures, r: r, scale: lora.config.scale)
                }
            })
        }
        let mergeFLOPs = lora.adapters.reduce(0.0) { $0 + 2 * Double(r * $1.inFeatures * $1.outFeatures) }
        runner.record(
            "lora.sampling.merge.\(name).r16", seconds: median(mergeTimes), flops: mergeFLOPs, tokens: nil, rss: PeakMemory.mib(),
            detail: "W + s·B·A for \(lora.adapters.count) adapters (every projection), once per optimizer step", precision: .fp32)
        // The adapter path: the same products a rollout's forward passes would add.
        let batch = 64, widest = lora.adapters.map { max($0.inFeatures, $0.outFeatures) }.max()!
        let x = FloatBuffer(count: batch * promptTokens * widest), out = FloatBuffer(count: batch * promptTokens * widest)
        let u = FloatBuffer(count: batch * promptTokens * r)
        for i in 0..<x.count { x[i] = (rng.nextUniform() * 2 - 1) }
        var pathTimes: [Double] = []
        var pathFLOPs = 0.0
        for _ in 0..<3 {
            pathFLOPs = 0
            pathTimes.append(timed {
                for rows in [batch * promptTokens] + [Int](repeating: batch, count: 32) {
                    for ad in lora.adapters {
                        LoRA.forward(
                            out: out.pointer, outStride: ad.outFeatures, u: u.pointer, inp: x.pointer, inStride: ad.inFeatures,
                            a: p + ad.a, b: p + ad.b, N: rows, I: ad.inFeatures, O: ad.outFeatures, r: r, scale: lora.config.scale)
                        pathFLOPs += 2 * Double(rows * r * (ad.inFeatures + ad.outFeatures))
                    }
                }
            })
        }
        runner.record(
            "lora.sampling.adapter_path.\(name).r16.b64", seconds: median(pathTimes), flops: pathFLOPs,
            tokens: batch * (promptTokens + 32), rss: PeakMemory.mib(),
            detail: String(
                format: "extra products of one rollout (64 × (%d + 32) tokens) vs merging: %.3f s vs %.3f s per optimizer step",
                promptTokens, median(pathTimes), median(mergeTimes)),
            precision: .fp32)
    }

    /// lm.prefill / lm.decode at batch 1 and 64 at `precision`.
    func decodeEntries(model: LlamaModel, prompt: [Int32], name: String, precision: GEMM.Precision) throws {
        for batch in [1, 64] {
            PeakMemory.reset()
            let cache = KVCache(config: model.config, slots: batch, capacity: prompt.count + 33)
            let tokens = (0..<batch).flatMap { _ in prompt }
            let slots = (0..<batch).flatMap { b in [Int32](repeating: Int32(b), count: prompt.count) }
            let last = (0..<batch).map { $0 * prompt.count + prompt.count - 1 }
            var prefillTimes: [Double] = [], decodeTimes: [Double] = [], decodeFLOPs = 0.0
            for rep in 0..<3 {
                cache.resetAll()
                var logits = model.extend(cache: cache, tokens: tokens, slots: slots, logitRows: last)
                if rep == 0 { continue }  // warm-up
                cache.resetAll()
                prefillTimes.append(timed { logits = model.extend(cache: cache, tokens: tokens, slots: slots, logitRows: last) })
                var flops = 0.0
                decodeTimes.append(timed {
                    for _ in 0..<32 {
                        let next = (0..<batch).map { b in argmax(logits + b * model.config.vocabSize, model.config.vocabSize) }
                        flops += model.forwardFLOPs(
                            tokens: batch, logitRows: batch, attentionPairs: cache.lengths.reduce(0) { $0 + Int($1) + 1 })
                        logits = model.extend(cache: cache, tokens: next, slots: (0..<batch).map { Int32($0) },
                                              logitRows: Array(0..<batch))
                    }
                })
                decodeFLOPs = flops
            }
            let prefillFLOPs = model.forwardFLOPs(
                tokens: tokens.count, logitRows: batch, attentionPairs: batch * prompt.count * prompt.count)
            runner.record(
                runner.name("lm.prefill.\(name).b\(batch)", precision), seconds: median(prefillTimes), flops: prefillFLOPs,
                tokens: tokens.count, rss: PeakMemory.mib(), detail: "\(batch) × \(prompt.count)-token chat prompt",
                precision: precision)
            runner.record(
                runner.name("lm.decode.\(name).b\(batch)", precision), seconds: median(decodeTimes), flops: decodeFLOPs,
                tokens: 32 * batch, rss: PeakMemory.mib(), detail: "batch \(batch), 32 greedy tokens after the prompt",
                precision: precision)
        }
    }

    /// 8 prompts × 8 samples, ≤ 32 new tokens, temperature 1: completion tokens per second.
    func rollout(_ loaded: LoadedModel, name: String, precision: GEMM.Precision) throws {
        PeakMemory.reset()
        let prompts = (0..<8).map { i in
            loaded.tokenizer.encode(loaded.chatTemplate.render(
                [ChatMessage(role: "user", content: "What is \(10 + 7 * i) + \(23 + 5 * i)?")], addGenerationPrompt: true))
        }
        try rolloutEntry(
            runner: runner, name: runner.name("rollout.\(name)", precision), loaded: loaded, prompts: prompts, repeats: 3,
            detail: "8 prompts × 8 samples, ≤ 32 new tokens, temperature 1", precision: precision)
    }

    func argmax(_ p: UnsafePointer<Float>, _ n: Int) -> Int32 {
        var best = 0
        for i in 1..<n where p[i] > p[best] { best = i }
        return Int32(best)
    }
}

func timedThrowing(_ body: () throws -> Void) throws -> Double {
    let t0 = DispatchTime.now().uptimeNanoseconds
    try body()
    return Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9
}
