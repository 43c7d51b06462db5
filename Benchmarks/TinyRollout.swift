// rlhub — rollout.tiny: 8 prompts × 8 samples, ≤ 32 new tokens, on the `tiny` preset.
import Foundation
import Generator
import LM
import Tensor

struct TinyRollout {
    let runner: BenchmarkRunner

    func run() throws {
        PeakMemory.reset()
        let loaded = try ModelLoader.load("preset:tiny", seed: 0)
        let prompts = (0..<8).map { i in loaded.tokenizer.encode("<|im_start|>user\n\(10 + 7 * i)+\(23 + 5 * i)=<|im_end|>\n<|im_start|>assistant\n") }
        try rolloutEntry(
            runner: runner, name: "rollout.tiny", loaded: loaded, prompts: prompts, repeats: 5,
            detail: "8 prompts × 8 samples, ≤ 32 new tokens, temperature 1, random init")
    }
}

/// Times 8 samples of each prompt (≤ 32 new tokens, temperature 1) and records completion
/// tokens per second under `name` (median of `repeats` after one warm-up).
func rolloutEntry(
    runner: BenchmarkRunner, name: String, loaded: LoadedModel, prompts: [[Int32]], repeats: Int, detail: String,
    precision: GEMM.Precision = .fp32
) throws {
    var request = GenerationRequest(prompts: prompts)
    request.samplesPerPrompt = 8
    request.maxNewTokens = 32
    request.sampling = SamplingParameters(temperature: 1)
    request.stopTokens = Set([loaded.tokenizer.eosTokenID].compactMap { $0 })
    let generator = BatchGenerator(model: loaded.model, tokenizer: loaded.tokenizer)
    _ = try generator.generate(request)  // warm-up
    var times: [Double] = [], tokens = 0
    for step in 0..<repeats {
        request.step = step + 1
        var out: [Completion] = []
        times.append(try timedThrowing { out = try generator.generate(request) })
        tokens = out.reduce(0) { $0 + $1.tokens.count }
    }
    runner.record(
        name, seconds: median(times), flops: nil, tokens: tokens, rss: PeakMemory.mib(),
        detail: detail + " (\(tokens) completion tokens in the last run)", precision: precision)
}
