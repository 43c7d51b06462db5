// rlhub — rollout.tiny: 8 prompts × 8 samples, ≤ 32 new tokens, on the `tiny` preset.
import Foundation
import Generator
import LM

struct TinyRollout {
    let runner: BenchmarkRunner

    func run() throws {
        PeakMemory.reset()
        let loaded = try ModelLoader.load("preset:tiny", seed: 0)
        let prompts = (0..<8).map { i in loaded.tokenizer.encode("<|im_start|>user\n\(10 + 7 * i)+\(23 + 5 * i)=<|im_end|>\n<|im_start|>assistant\n") }
        var request = GenerationRequest(prompts: prompts)
        request.samplesPerPrompt = 8
        request.maxNewTokens = 32
        let generator = BatchGenerator(model: loaded.model, tokenizer: loaded.tokenizer)
        _ = try generator.generate(request)
        var times: [Double] = [], tokens = 0
        for step in 0..<5 {
            request.step = step + 1
            var out: [Completion] = []
            times.append(try timedThrowing { out = try generator.generate(request) })
            tokens = out.reduce(0) { $0 + $1.tokens.count }
        }
        runner.record(
            "rollout.tiny", seconds: median(times), flops: nil, tokens: tokens, rss: PeakMemory.mib(),
            detail: "8 prompts × 8 samples, ≤ 32 new tokens, temperature 1, random init")
    }
}
