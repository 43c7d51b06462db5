// Multi-turn episodes: token-exact trajectories and loss masks on a scripted (gold) policy, and
// JSON Lines round trip.
import Foundation
import RLAlgorithms
import Generator
import LM
import RLHubCore
import Tasks
import Tensor
import Testing

@Suite("Episode runner")
struct EpisodeRunnerTests {
    let loaded: LoadedModel = {
        let config = LlamaConfig(
            hiddenSize: 32, intermediateSize: 48, numHiddenLayers: 2, numAttentionHeads: 4, numKeyValueHeads: 2,
            vocabSize: CharTokenizer.standard.vocabularySize, maxPositionEmbeddings: 512, initializerRange: 0.2)
        return LoadedModel(model: LlamaModel(config: config, seed: 3), tokenizer: CharTokenizer.standard, source: "test")
    }()

    func scripted(_ spec: String, problems: [Int]) throws -> (any RLTask, [Trajectory], [[ChatMessage]]) {
        let task = try TaskRegistry.make(spec)
        let demos = problems.map { task.goldDemonstration(split: .train, index: $0) }
        var request = EpisodeRequest(problems: problems)
        request.scriptedTurns = demos.map { $0.filter { $0.role == "assistant" }.map(\.content) }
        request.maxNewTokensPerTurn = 200
        request.tokenBudget = 512
        let runner = EpisodeRunner(model: loaded.model, tokenizer: loaded.tokenizer, template: loaded.chatTemplate)
        return (task, try runner.run(task, request), demos)
    }

    /// Tests/envs/counting.py served over the protocol: multi-turn with `tool` observations.
    static let counting = "py:" + URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("envs/counting.py").path + ":turns=3"

    @Test(arguments: ["guess", "frozenlake:size=4", "calc", "add:digits=3", "countdown", counting])
    func goldEpisodesAreTokenExactWithExactMasks(spec: String) throws {
        let (_, trajectories, demos) = try scripted(spec, problems: [0, 1, 2])
        for (t, demo) in zip(trajectories, demos) {
            #expect(t.reward == 1.0 && t.outcome == "correct" && t.finishReason == "done", "\(spec): \(t.outcome ?? "-") \(t.reward)")
            #expect(t.messages == demo, "\(spec): the conversation is the gold one")
            // Tokens are the ChatML rendering of the conversation (up to the final newline).
            let rendered = loaded.tokenizer.encode(loaded.chatTemplate.render(demo, addGenerationPrompt: false))
            #expect(t.tokens == Array(rendered.dropLast()), "\(spec): tokens differ from the rendered conversation")
            // Mask 1 exactly on the assistant turns (content + <|im_end|>), 0 elsewhere.
            let policy = t.tokens.indices.filter { t.lossMask[$0] == 1 }.map { t.tokens[$0] }
            let expected = demo.filter { $0.role == "assistant" }.map { $0.content + "<|im_end|>" }.joined()
            #expect(loaded.tokenizer.decode(policy) == expected)
            #expect(t.samplerLogprobs.indices.allSatisfy { t.lossMask[$0] == 1 || t.samplerLogprobs[$0] == 0 })
            #expect(t.turns == demo.filter { $0.role == "assistant" }.count)
            #expect(t.spans.reduce(0) { $0 + $1.length } == t.tokens.count)
            #expect(t.spans.filter { $0.source == .environment }.count == max(0, t.turns - 1))
        }
    }

    // DAPO's overlong punishment bounds a turn, as max_new_tokens does: a gold `guess` episode of
    // several short turns is longer than the per-turn limit in all, and is not punished.
    @Test func overlongPunishmentIsPerTurnAndTurnEndsAreWhereRewardsWereEarned() throws {
        let (_, trajectories, _) = try scripted("guess", problems: [0, 1, 2, 3])
        let imEnd = try #require(loaded.tokenizer.id(for: "<|im_end|>"))
        // A per-turn limit one token above the longest turn (buffer 1: no turn is in the buffer).
        let limit = trajectories.map(\.longestTurnLength).max()! + 1
        let multiTurn = trajectories.filter { $0.turns >= 3 }
        #expect(!multiTurn.isEmpty)
        for t in multiTurn {
            #expect(t.responseLength > limit, "the episode is longer in all than its longest turn")
            let shaped = OverlongShaping.shapedRewards(
                rewards: [t.reward], turnLengths: [t.longestTurnLength], maxLength: limit, buffer: 1, factor: 1)
            #expect(shaped == [t.reward], "no turn exceeds the limit: no penalty")
            let summed = OverlongShaping.shapedRewards(
                rewards: [t.reward], turnLengths: [t.responseLength], maxLength: limit, buffer: 1, factor: 1)
            #expect(summed == [t.reward - 1], "measured over the whole episode it would be punished")
            // One turn end per judged turn, each the turn's closing <|im_end|>.
            #expect(t.policyTurnEnds.count == t.turnRewards.count && t.policyTurnEnds.count == t.turns)
            #expect(t.policyTurnEnds.allSatisfy { t.tokens[$0] == imEnd && t.lossMask[$0] == 1 })
        }
    }

    @Test func recordedLogprobsEqualTheTrainingForward() throws {
        let (_, trajectories, _) = try scripted("guess", problems: [5])
        let t = trajectories[0]
        let batch = TrainingBatch(sequences: [t.tokens])
        let lp = loaded.model.forward(batch).logprobs
        for i in 1..<t.tokens.count where t.lossMask[i] == 1 {
            #expect(abs(lp[i - 1] - t.samplerLogprobs[i]) < 1e-4, "position \(i)")
        }
    }

    @Test func sampledEpisodesRespectBudgetsAndRoundTripAsJSONL() throws {
        let task = try TaskRegistry.make("guess:max=100,turns=10")
        var request = EpisodeRequest(problems: [0, 1])
        request.samplesPerProblem = 3
        request.maxNewTokensPerTurn = 6
        request.tokenBudget = 120
        request.sampling = SamplingParameters(temperature: 1.2)
        let runner = EpisodeRunner(model: loaded.model, tokenizer: loaded.tokenizer, template: loaded.chatTemplate)
        let out = try runner.run(task, request)
        #expect(out.count == 6)
        for t in out {
            #expect(t.tokens.count <= 120)
            #expect(t.groupID == t.problem)
            #expect(t.lossMask.count == t.tokens.count && t.samplerLogprobs.count == t.tokens.count)
        }
        #expect(Set(out.map(\.groupID)) == [0, 1])
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("traj-\(UUID()).jsonl").path
        try Trajectory.writeJSONL(out, to: path)
        #expect(try Trajectory.readJSONL(path) == out)
        try "{\"not\": 1}\n".write(toFile: path, atomically: true, encoding: .utf8)
        #expect(throws: InputError.self) { try Trajectory.readJSONL(path) }
    }
}
