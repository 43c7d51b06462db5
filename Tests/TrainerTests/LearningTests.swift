// Learning, end to end (issue: "tiny warm-started with SFT on add:digits=2 then trained with
// grpo reaches ≥ 25 points more held-out accuracy than its start within 10 minutes").
import RLAlgorithms
import Foundation
import Generator
import LM
import Tasks
import Testing
import Tensor
import Trainer

@Suite("Learning", .serialized)
struct LearningTests {
    @Test(.timeLimit(.minutes(10)))
    func sftThenGRPOImprovesHeldOutAccuracy() throws {
        // One thread for rlhub's kernels and OpenBLAS alike. The outcome depends on OpenBLAS's
        // thread count: with OpenBLAS's own default of 2 threads (ComputeThreads never set) the
        // warm start reached 0.095 and GRPO 0.080 instead of 0.215 → 0.675 (issue 5 keeps this open).
        ComputeThreads.set(1)
        let task = try TaskRegistry.canonicalSpec("add:digits=2")
        // 1. SFT warm start: 600 steps of 64 gold demonstrations.
        var sft = TrainConfig(algo: "sft", algorithm: AlgorithmPreset.sft.config, task: task, model: "preset:tiny")
        sft.steps = 600
        sft.evalEvery = 0
        sft.evalEpisodes = 200
        sft.tokenBudget = 128
        for a in ["lr=2e-3", "prompts_per_step=64", "max_grad_norm=5", "max_new_tokens=8"] { try sft.set(a) }
        let loaded = try ModelLoader.load("preset:tiny", seed: 0)
        let sftTrainer = try RLTrainer(config: sft, loaded: loaded, sink: MemoryMetricSink())
        while sftTrainer.step < sft.steps { try sftTrainer.runStep() }
        // 2. GRPO from the warm start.
        var grpo = TrainConfig(algo: "grpo", algorithm: AlgorithmPreset.grpo.config, task: task, model: "sft")
        grpo.steps = 60
        grpo.evalEvery = 0
        grpo.evalEpisodes = 200
        grpo.tokenBudget = 128
        for a in ["lr=3e-4", "prompts_per_step=16", "group_size=8", "max_new_tokens=8", "kl_coef=0"] { try grpo.set(a) }
        let sink = MemoryMetricSink()
        let trainer = try RLTrainer(config: grpo, loaded: loaded, sink: sink)
        let start = Date()
        let before = try trainer.evaluate()["eval/accuracy"] ?? 0
        while trainer.step < grpo.steps { try trainer.runStep() }
        let after = try trainer.evaluate()["eval/accuracy"] ?? 0
        print(String(format: "SFT warm start %.3f → GRPO %.3f held-out accuracy (%.0f s of GRPO)", before, after, Date().timeIntervalSince(start)))
        #expect(before > 0.05, "the warm start should solve some problems (got \(before))")
        #expect(after - before >= 0.25, "GRPO gained \(after - before)")
    }
}
