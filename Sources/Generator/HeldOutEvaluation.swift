// rlhub — evaluation of a policy on a task's held-out split (the entry point `rlhub eval` and the
// trainer's periodic evaluation share).
//
//   accuracy   = mean over episodes of 1[outcome = correct]
//   mean reward over episodes
//   pass@k     = mean over problems of 1 − C(n−c, k)/C(n, k)  (Chen et al. 2021, unbiased; n samples,
//                c correct; pass@n when n < k — RLHubCore's PassAtK)
//   95% CI     = per-problem means m_p: mean ± t₀.₉₇₅,P−1 · sd(m)/√P
import Foundation
import LM
import RLHubCore
import Tasks

/// The numbers of one evaluation (stable JSON keys).
public struct EvaluationSummary: Codable, Sendable {
    public var task: String
    public var problems: Int
    public var k: Int
    public var temperature: Float
    public var accuracy: Double
    public var accuracy_ci: [Double]
    public var mean_reward: Double
    public var mean_reward_ci: [Double]
    public var pass_at_k: Double
    public var mean_length: Double
    public var episodes: Int
}

public struct EvaluationReport: Sendable {
    public var summary: EvaluationSummary
    public var trajectories: [Trajectory]
}

public enum HeldOutEvaluation {
    /// Plays problems `0..<episodes` of the test split `k` times each.
    public static func run(
        loaded: LoadedModel, task: any RLTask, episodes: Int, k: Int, temperature: Float,
        maxNewTokens: Int? = nil, seed: UInt64 = 0, tokenBudget: Int? = nil, runner: EpisodeRunner? = nil
    ) throws(InputError) -> EvaluationReport {
        let runner = runner ?? EpisodeRunner(model: loaded.model, tokenizer: loaded.tokenizer, template: loaded.chatTemplate)
        var request = EpisodeRequest(problems: [])
        request.split = .test
        request.samplesPerProblem = k
        request.sampling = SamplingParameters(temperature: temperature)
        request.maxNewTokensPerTurn = maxNewTokens ?? task.maxNewTokensHint
        request.tokenBudget = tokenBudget ?? min(loaded.model.config.maxPositionEmbeddings, 512)
        request.seed = seed
        var trajectories: [Trajectory] = []
        // Chunks of problems bound the KV cache (slots × budget).
        let chunk = max(1, 64 / k)
        var start = 0
        while start < episodes {
            request.problems = Array(start..<min(episodes, start + chunk))
            request.firstGroupID = start
            trajectories += try runner.run(task, request)
            start += chunk
        }
        return EvaluationReport(summary: summarize(trajectories, task: task.spec, k: k, temperature: temperature), trajectories: trajectories)
    }

    /// Summary statistics of trajectories grouped by problem.
    public static func summarize(_ ts: [Trajectory], task: String, k: Int, temperature: Float) -> EvaluationSummary {
        var byProblem: [Int: [Trajectory]] = [:]
        for t in ts { byProblem[t.groupID, default: []].append(t) }
        let groups = byProblem.keys.sorted().map { byProblem[$0]! }
        let acc = groups.map { g in g.reduce(0.0) { $0 + ($1.outcome == "correct" ? 1 : 0) } / Double(g.count) }
        let rew = groups.map { g in g.reduce(0.0) { $0 + $1.reward } / Double(g.count) }
        let pass = groups.map { g in PassAtK.estimate(n: g.count, correct: g.filter { $0.outcome == "correct" }.count, k: k) }
        return EvaluationSummary(
            task: task, problems: groups.count, k: k, temperature: temperature,
            accuracy: mean(acc), accuracy_ci: confidenceInterval(acc), mean_reward: mean(rew),
            mean_reward_ci: confidenceInterval(rew), pass_at_k: mean(pass),
            mean_length: mean(ts.map { Double($0.responseLength) }), episodes: ts.count)
    }

    static func mean(_ x: [Double]) -> Double { x.isEmpty ? 0 : x.reduce(0, +) / Double(x.count) }

    /// mean ± t_{0.975, n−1}·sd/√n (Student t, two-sided 95%; the exact quantile, ``StudentT``).
    public static func confidenceInterval(_ x: [Double]) -> [Double] {
        let n = x.count
        let m = mean(x)
        guard n > 1 else { return [m, m] }
        let v = x.reduce(0) { $0 + ($1 - m) * ($1 - m) } / Double(n - 1)
        let h = StudentT.quantile(0.975, df: Double(n - 1)) * (v / Double(n)).squareRoot()
        return [m - h, m + h]
    }
}
