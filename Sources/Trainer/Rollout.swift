// rlhub — stage 1 of a step: play episodes with the current policy (and, with DAPO's dynamic
// sampling, keep playing until enough informative groups are collected).
//
// Problems are drawn by a counter-based shuffle keyed by (seed, dataOrder, cursor): the data
// order of a run is a function of its seed, and resuming only needs the cursor.
import RLAlgorithms
import Foundation
import Generator
import LM
import Tasks
import Tensor

/// The rollouts of one step.
struct RolloutResult {
    var trajectories: [Trajectory]
    var metrics: [String: Double]
    var seconds: Double
    /// ReMax's baseline b_i: the reward of the greedy response to row i's prompt.
    var greedyRewards: [Double]? = nil
}

extension RLTrainer {
    /// Problem index of draw number `cursor` from the train split.
    func problemIndex(_ cursor: Int) -> Int {
        var rng = CounterRNG(seed: UInt64(config.algorithm.seed), purpose: .dataOrder, step: UInt64(cursor))
        let count = task.problemCount(.train) ?? (1 << 30)
        return rng.nextInt(below: count)
    }

    /// The next `promptsPerStep` problems of the data order as an episode request (the cursor
    /// advances), with the run's seed, step and budgets.
    func nextRequest(step: Int) -> EpisodeRequest {
        let a = config.algorithm
        let cursor = state.problemCursor
        var request = EpisodeRequest(problems: (0..<a.promptsPerStep).map { problemIndex(cursor + $0) })
        request.tokenBudget = config.tokenBudget
        request.seed = UInt64(a.seed)
        request.step = step
        request.firstGroupID = cursor
        state.problemCursor += a.promptsPerStep
        return request
    }

    /// Plays `promptsPerStep` problems × `groupSize` samples (more rounds with dynamic sampling),
    /// and for ReMax one greedy response per prompt.
    func collectRollouts(step: Int) throws -> RolloutResult {
        var result = try sampleRollouts(step: step)
        if config.algorithm.estimator == .remax && !result.trajectories.isEmpty {
            let start = Date()
            result.greedyRewards = try greedyBaselines(for: result.trajectories, step: step)
            let seconds = Date().timeIntervalSince(start)
            result.metrics["time/greedy_s"] = seconds
            result.metrics["remax/greedy_reward_mean"] = result.greedyRewards!.reduce(0, +) / Double(result.trajectories.count)
            result.seconds += seconds
        }
        return result
    }

    /// ReMax's baseline (algorithms.md §2.7): each prompt of the batch decoded once greedily
    /// (τ = 0, not trained on), its reward given to every row of the prompt's group, in row order.
    func greedyBaselines(for trajectories: [Trajectory], step: Int) throws -> [Double] {
        let a = config.algorithm
        var groups: [Int] = [], problems: [Int] = []
        for t in trajectories where !groups.contains(t.groupID) {
            groups.append(t.groupID)
            problems.append(t.problem)
        }
        var request = EpisodeRequest(problems: problems)
        request.tokenBudget = config.tokenBudget
        request.seed = UInt64(a.seed)
        request.step = step
        request.sampling = SamplingParameters(temperature: 0)
        request.maxNewTokensPerTurn = a.maxNewTokens
        let greedy = try runner.run(task, request)
        let rewardOfGroup = Dictionary(uniqueKeysWithValues: zip(groups, greedy.map(\.reward)))
        return trajectories.map { rewardOfGroup[$0.groupID]! }
    }

    /// The sampled rollouts of one step.
    func sampleRollouts(step: Int) throws -> RolloutResult {
        let a = config.algorithm
        let start = Date()
        var buffer = DynamicSampling.Buffer<[Trajectory]>(targetGroups: a.promptsPerStep, maxRounds: a.maxResampleRounds)
        var metrics: [String: Double] = [:]
        while true {
            var request = nextRequest(step: step)
            request.samplesPerProblem = a.groupSize
            request.sampling = SamplingParameters(temperature: Float(a.temperature))
            request.maxNewTokensPerTurn = a.maxNewTokens
            let played = try runner.run(task, request)
            if !a.dynamicSampling {
                return RolloutResult(trajectories: played, metrics: metrics, seconds: Date().timeIntervalSince(start))
            }
            let groups = Dictionary(grouping: played, by: \.groupID).sorted { $0.key < $1.key }.map(\.value)
            do {
                if let full = try buffer.add(groups, values: { $0.map(\.reward) }) {
                    metrics.merge(buffer.metrics) { $1 }
                    return RolloutResult(trajectories: full.flatMap { $0 }, metrics: metrics, seconds: Date().timeIntervalSince(start))
                }
            } catch {
                // Out of rounds: train on what was kept (possibly nothing: the step is skipped),
                // as verl's DAPO recipe does not (it stops the run). The step's metrics say so
                // (`dynamic_sampling/exhausted`, `kept_groups` < prompts_per_step), and the first
                // time in a run a warning line does.
                metrics.merge(buffer.metrics) { $1 }
                metrics["dynamic_sampling/exhausted"] = 1
                warnOnce(
                    "dynamic_sampling/exhausted",
                    "dynamic sampling ran out of rounds at step \(step): training on \(buffer.pending.count) of "
                        + "\(a.promptsPerStep) groups (raise max_resample_rounds, or 0 for unlimited)")
                return RolloutResult(
                    trajectories: buffer.pending.flatMap { $0 }, metrics: metrics, seconds: Date().timeIntervalSince(start))
            }
        }
    }

    /// Gold demonstrations of `promptsPerStep` problems, replayed through the runner (SFT).
    func collectDemonstrations(step: Int) throws -> RolloutResult {
        let a = config.algorithm
        let start = Date()
        var request = nextRequest(step: step)
        // One batch call: an external environment answers every problem in one message, and a
        // failure is an error of the run, not a crash.
        request.scriptedTurns = try task.goldDemonstrations(split: .train, indices: request.problems, seed: UInt64(a.seed))
            .map { $0.filter { $0.role == "assistant" }.map(\.content) }
        request.maxNewTokensPerTurn = config.tokenBudget
        return RolloutResult(trajectories: try runner.run(task, request), metrics: [:], seconds: Date().timeIntervalSince(start))
    }
}
