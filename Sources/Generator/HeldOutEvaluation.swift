// rlhub — evaluation of a policy on a task's held-out split (the entry point `rlhub eval` and the
// trainer's periodic evaluation share).
//
//   accuracy   = mean over episodes of 1[outcome = correct]
//   mean reward over episodes
//   pass@k     = mean over problems of 1 − C(n−c, k)/C(n, k)  (Chen et al. 2021, unbiased; n samples,
//                c correct)
//   95% CI     = per-problem means m_p: mean ± t₀.₉₇₅,P−1 · sd(m)/√P
import Foundation
import LM
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
        let pass = groups.map { g in passAtK(n: g.count, c: g.filter { $0.outcome == "correct" }.count, k: min(k, g.count)) }
        return EvaluationSummary(
            task: task, problems: groups.count, k: k, temperature: temperature,
            accuracy: mean(acc), accuracy_ci: confidenceInterval(acc), mean_reward: mean(rew),
            mean_reward_ci: confidenceInterval(rew), pass_at_k: mean(pass),
            mean_length: mean(ts.map { Double($0.responseLength) }), episodes: ts.count)
    }

    /// Unbiased pass@k (Chen et al. 2021): 1 − C(n−c, k)/C(n, k), as a stable product.
    public static func passAtK(n: Int, c: Int, k: Int) -> Double {
        if c == 0 { return 0 }
        if n - c < k { return 1 }
        var prod = 1.0
        for i in (n - c + 1)...n { prod *= 1 - Double(k) / Double(i) }
        return 1 - prod
    }

    static func mean(_ x: [Double]) -> Double { x.isEmpty ? 0 : x.reduce(0, +) / Double(x.count) }

    /// mean ± t·sd/√n (Student t, two-sided 95%).
    public static func confidenceInterval(_ x: [Double]) -> [Double] {
        let n = x.count
        let m = mean(x)
        guard n > 1 else { return [m, m] }
        let v = x.reduce(0) { $0 + ($1 - m) * ($1 - m) } / Double(n - 1)
        let h = tQuantile975(df: n - 1) * (v / Double(n)).squareRoot()
        return [m - h, m + h]
    }

    /// 97.5% quantile of Student's t (table to df 30, then the Cornish–Fisher expansion).
    static func tQuantile975(df: Int) -> Double {
        let table: [Double] = [12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228,
                               2.201, 2.179, 2.160, 2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086,
                               2.080, 2.074, 2.069, 2.064, 2.060, 2.056, 2.052, 2.048, 2.045, 2.042]
        if df <= 30 { return table[max(1, df) - 1] }
        let z = 1.959964, d = Double(df)
        return z + (z * z * z + z) / (4 * d) + (5 * pow(z, 5) + 16 * z * z * z + 3 * z) / (96 * d * d)
    }
}
