// The external-environment protocol's overhead: wall-clock time in environment calls (reset,
// step; JSON both ways, reasoning-gym's generation and score_answer) for the episodes of one tiny
// GRPO step with 64 prompts × 8 samples on rg:basic_arithmetic, against that step's time.
// A timing, so opt-in: RLHUB_ENV_BENCH=1 (prints the figures; needs python3 with reasoning-gym).
import Foundation
import Generator
import LM
import Tasks
import Testing
import Trainer

@Suite("External environment overhead", .enabled(if: ProcessInfo.processInfo.environment["RLHUB_ENV_BENCH"] == "1"))
struct ExternalEnvOverheadTests {
    @Test("environment time of a 64 × 8 rollout is under 5% of a tiny GRPO step")
    func overhead() throws {
        let task = "rg:basic_arithmetic"
        let config = try runConfig(
            .grpo, task: task, model: "preset:tiny", steps: 3, evalEpisodes: 0, tokenBudget: 128,
            ["prompts_per_step=64", "group_size=8", "max_new_tokens=16", "kl_coef=0"])
        let loaded = try ModelLoader.load("preset:tiny", seed: 0)
        let trainer = try RLTrainer(config: config, loaded: loaded, sink: MemoryMetricSink())
        try trainer.runStep()  // warm-up: the environment process starts, buffers grow
        let start = Date()
        for _ in 0..<2 { try trainer.runStep() }
        let step = Date().timeIntervalSince(start) / 2

        let rlTask = try TaskRegistry.make(config.task)
        let runner = EpisodeRunner(model: loaded.model, tokenizer: loaded.tokenizer, template: loaded.chatTemplate)
        var request = EpisodeRequest(problems: Array(0..<64))
        request.samplesPerProblem = 8
        request.sampling = SamplingParameters(temperature: 1)
        request.maxNewTokensPerTurn = 16
        request.tokenBudget = 128
        let rounds = 2
        for round in 0..<rounds {
            request.step = round
            let played = try runner.run(rlTask, request)
            #expect(played.count == 512)
        }
        let environment = runner.environmentSeconds / Double(rounds)
        print(String(
            format: "rg:basic_arithmetic, 64 × 8 episodes: environment %.1f ms per step (%.1f µs per episode); "
                + "tiny GRPO step %.0f ms; overhead %.2f%%",
            environment * 1000, environment / 512 * 1e6, step * 1000, 100 * environment / step))
        #expect(environment < 0.05 * step)
    }
}
