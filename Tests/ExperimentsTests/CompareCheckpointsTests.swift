// `rlhub compare`'s library half end to end on the tiny preset.
import Foundation
import LM
import RLHubCore
import Tasks
import Testing
import Experiments

@Suite struct CompareCheckpointsTests {
    private func tiny(seed: UInt64) throws -> LoadedModel {
        LoadedModel(model: LlamaModel(config: try LlamaConfig.preset("tiny"), seed: seed),
                    tokenizer: CharTokenizer.standard, source: "preset:tiny")
    }

    @Test func aCheckpointAgainstItself() throws {
        let a = try tiny(seed: 1), b = try tiny(seed: 1)
        let task = try TaskRegistry.make("add:digits=1")
        let c = try CheckpointComparison.run(a: a, b: b, refA: "A", refB: "B", task: task, episodes: 8)
        #expect(c.scoreA.accuracy == c.scoreB.accuracy && c.scoreA.mean_reward == c.scoreB.mean_reward)
        #expect(c.scoreA.problems == 8 && c.scoreB.problems == 8)
        #expect(c.probabilityAOverB.estimate == 0.5)
        #expect(c.discordant.aOnly == 0 && c.discordant.bOnly == 0)
        #expect(c.parameterDeltas.allSatisfy { $0.maxRelativeL2 == 0 && $0.meanRelativeL2 == 0 })
        #expect(c.kl.mean == 0 && c.kl.max == 0 && c.kl.tokens > 0 && c.kl.sequences == 8)
    }

    @Test func twoInitialisationsDiffer() throws {
        let a = try tiny(seed: 1), b = try tiny(seed: 2)
        let task = try TaskRegistry.make("add:digits=1")
        let c = try CheckpointComparison.run(a: a, b: b, refA: "A", refB: "B", task: task, episodes: 8)
        #expect(c.kl.mean > 0 && c.kl.max >= c.kl.mean)
        // RMSNorm gains start at 1 in every initialisation: only `norm` is unchanged.
        #expect(c.parameterDeltas.count == 7)
        #expect(c.parameterDeltas.allSatisfy { ($0.group == "norm") == ($0.maxRelativeL2 == 0) })
        let p = c.probabilityAOverB
        #expect(p.lower <= p.estimate && p.estimate <= p.upper)
        // With 0/1 scores Mann–Whitney is ½ + (acc_A − acc_B)/2.
        #expect(abs(p.estimate - (0.5 + (c.scoreA.accuracy - c.scoreB.accuracy) / 2)) < 1e-12)
    }

    @Test func differentArchitecturesAreRefused() throws {
        var config = try LlamaConfig.preset("tiny")
        config.intermediateSize = 256
        let b = LoadedModel(model: LlamaModel(config: config, seed: 1), tokenizer: CharTokenizer.standard, source: "x")
        let task = try TaskRegistry.make("add:digits=1")
        #expect(throws: InputError.self) {
            try CheckpointComparison.run(a: try tiny(seed: 1), b: b, refA: "A", refB: "B", task: task, episodes: 2)
        }
    }
}
