// Rows whose advantage is 0 on every token are left out of the update (Trainer/InertRows.swift):
// the gradient of a step must be that of the update that computes every row. (Gradients, not
// parameters, are compared: AdamW's m/√v turns a rounding-level difference in a near-zero
// gradient into a visible fraction of a step.)
import RLAlgorithms
import Foundation
import LM
import Tasks
import Tensor
import Testing
import Trainer

@Suite("Inert rows", .serialized)
struct InertRowsTests {
    /// tiny after a short SFT warm start on 1-digit addition: some groups of 8 get mixed rewards,
    /// others all the same (inert).
    static func warmStart() throws -> LoadedModel {
        let sft = try runConfig(
            .sft, task: "add:digits=1", model: "preset:tiny", steps: 60, evalEpisodes: 0, tokenBudget: 96,
            ["lr=2e-3", "prompts_per_step=32", "max_grad_norm=5", "max_new_tokens=6"])
        let loaded = try ModelLoader.load("preset:tiny", seed: 0)
        let trainer = try RLTrainer(config: sft, loaded: loaded, sink: MemoryMetricSink())
        while trainer.step < sft.steps { try trainer.runStep() }
        return loaded
    }

    static func copy(_ loaded: LoadedModel) -> LoadedModel {
        let model = LlamaModel(config: loaded.model.config)
        model.copyParameters(from: loaded.model)
        return LoadedModel(model: model, tokenizer: loaded.tokenizer, source: loaded.source, chatTemplate: loaded.chatTemplate)
    }

    @Test(arguments: ["grpo", "dr-grpo", "gspo"])
    func skippingInertRowsLeavesTheUpdateUnchanged(_ algo: String) throws {
        // The process-wide thread count is left alone: the learning test sets it (serialized
        // suites still run beside each other).
        let warm = try Self.warmStart()
        let config = try runConfig(
            try AlgorithmPreset.parse(algo, key: "--algo"), task: "add:digits=1", model: "sft", steps: 1, evalEpisodes: 0,
            tokenBudget: 96, ["lr=1e-3", "prompts_per_step=16", "group_size=8", "max_new_tokens=6", "kl_coef=0"])
        var results: [(gradients: [Float], metrics: [String: Double])] = []
        for skips in [true, false] {
            let loaded = Self.copy(warm)
            let trainer = try RLTrainer(config: config, loaded: loaded, sink: MemoryMetricSink())
            trainer.skipsInertRows = skips
            let metrics = try trainer.runStep()
            results.append((loaded.model.gradients.array, metrics))  // clipped, before AdamW
        }
        let (skipped, full) = (results[0], results[1])
        let inert = skipped.metrics["rows/inert"] ?? 0
        // The check means something only with both kinds of rows in the batch.
        #expect(inert > 0 && inert < 16 * 8, "rows/inert = \(inert)")
        #expect(full.metrics["rows/inert"] == 0)
        #expect(skipped.metrics["reward/mean"] == full.metrics["reward/mean"])
        var maxDiff: Float = 0, maxGradient: Float = 0
        for k in full.gradients.indices {
            maxDiff = max(maxDiff, abs(skipped.gradients[k] - full.gradients[k]))
            maxGradient = max(maxGradient, abs(full.gradients[k]))
        }
        print("\(algo): \(Int(inert)) of 128 rows inert; max |Δg| between the two updates \(maxDiff), max |g| \(maxGradient)")
        #expect(maxGradient > 0, "the update has no gradient")
        #expect(maxDiff <= 1e-5 * maxGradient, "skipping inert rows changed the gradient by \(maxDiff) (max |g| \(maxGradient))")
        #expect(abs((skipped.metrics["loss/total"] ?? .nan) - (full.metrics["loss/total"] ?? .nan)) <= 1e-6)
    }
}
