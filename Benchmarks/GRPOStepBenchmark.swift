// rlhub — train.grpo_step.smollm2-135m-instruct: one GRPO step on the real SmolLM2 weights,
// shaped like TRL's `GRPOTrainer` on the same model (the peer benchmark in the README): 8 prompts × 8
// samples, ≤ 32 new tokens at temperature 1, "What is a + b? Answer with just the number." with
// a lenient reward, no KL (TRL's beta = 0), AdamW. Median of steps 2…4 (step 1 allocates the
// optimizer state and activation arena). Measured from the same weights as trained (rows with zero
// advantage left out, Trainer/InertRows.swift), with every row computed, and with every row
// computed training LoRA adapters (r 16, α 32, all projections: `.all_rows.lora16`).
import Foundation
import LM
import RLAlgorithms
import Tasks
import Tensor
import Trainer

struct GRPOStepBenchmark {
    let runner: BenchmarkRunner

    func run(path: String) throws {
        for precision in runner.precisions {
            for skips in [true, false] { try run(path: path, skips: skips, precision: precision) }
            try run(path: path, skips: false, precision: precision, loraRank: 16)
        }
    }

    /// One entry: as trained (`skips`) or every row computed, sampler and trainer at `precision`,
    /// every parameter trained or (`loraRank`) LoRA adapters on every projection.
    func run(path: String, skips: Bool, precision: GEMM.Precision, loraRank: Int? = nil) throws {
        do {
            PeakMemory.reset()
            let loaded = try ModelLoader.load(path)
            var config = TrainConfig(
                algo: "grpo", algorithm: AlgorithmPreset.grpo.config,
                task: try TaskRegistry.canonicalSpec("add:digits=2,style=question,lenient=true"), model: path)
            config.steps = 4
            config.evalEvery = 0
            config.evalEpisodes = 0
            config.tokenBudget = 128
            for a in ["prompts_per_step=8", "group_size=8", "max_new_tokens=32", "kl_coef=0", "lr=1e-6",
                      "rollout_dtype=\(precision.rawValue)", "train_dtype=\(precision.rawValue)"] { try config.set(a) }
            if let r = loraRank {
                for a in ["lora_rank=\(r)", "lora_alpha=\(2 * r)", "lora_targets=all-linear"] { try config.set(a) }
            }
            let trainer = try RLTrainer(config: config, loaded: loaded, sink: MemoryMetricSink())
            trainer.skipsInertRows = skips
            var steps: [[String: Double]] = []
            while trainer.step < config.steps { steps.append(try trainer.runStep()) }
            let timed = steps.dropFirst()
            func med(_ key: String) -> Double { median(timed.map { $0[key] ?? 0 }) }
            let inert = timed.map { Int($0["rows/inert"] ?? 0) }
            let name = runner.name(
                "train.grpo_step.smollm2-135m-instruct" + (skips ? "" : ".all_rows") + (loraRank.map { ".lora\($0)" } ?? ""),
                precision)
            runner.record(
                name, seconds: med("time/step_s"), flops: nil, tokens: Int((med("response_length/mean") * Double(config.algorithm.promptsPerStep * config.algorithm.groupSize)).rounded()),
                rss: PeakMemory.mib(),
                detail: String(
                    format: "8 prompts × 8 samples, ≤ 32 new tokens, kl 0; generate %.2f s + update %.2f s (medians of steps 2–4); rows inert %@ of 64%@; %@, optimizer state %.1f MiB",
                    med("time/generate_s"), med("time/update_s"), inert.map(String.init).joined(separator: "/") as NSString,
                    (skips ? "" : ", all computed") as NSString,
                    (loraRank.map { "LoRA r \($0), α \(2 * $0), all projections, \(trainer.trainedParameterCount) trained parameters" }
                        ?? "all \(trainer.trainedParameterCount) parameters trained") as NSString,
                    Double(trainer.optimizerStateBytes) / 1_048_576),
                precision: precision)
        }
    }
}
