// rlhub — two checkpoints side by side (`rlhub compare`): held-out scores on the same problems,
// the probability that A beats B, per-layer parameter deltas and the per-token KL between them.
import Evaluation
import Foundation
import Generator
import LM
import RLHubCore
import Tasks

/// The comparison of checkpoint A with checkpoint B on one task (stable snake_case JSON keys).
///
/// - Scores: both models play the same held-out problems `0..<episodes` greedily
///   (``HeldOutEvaluation/run(loaded:task:episodes:k:temperature:maxNewTokens:seed:tokenBudget:runner:)``,
///   k = 1, temperature 0), each with its Student-t 95% CI over problems.
/// - `probability_a_over_b`: P(A > B) with a 95% percentile bootstrap interval
///   (``ProbabilityOfImprovement``, Mann–Whitney U / (n·m), ties ½). The two samples are the
///   per-episode correctness (1 correct, 0 otherwise) of A and of B, so P(A > B) is the chance
///   that a random episode of A scores higher than an independently drawn random episode of B,
///   ties counted half. With 0/1 scores it equals ½ + (acc_A − acc_B)/2: 0.5 means no
///   difference, 1 means A always right and B always wrong. Mann–Whitney treats the samples as
///   independent: it does **not** use that A and B played the same problems (a paired test such
///   as McNemar's on the discordant problems would be sharper); `discordant` reports those counts.
///   The bootstrap resamples A's and B's episodes independently (2,000 replicates, seed 0).
/// - `parameter_deltas`: max and mean relative L2 ‖A − B‖/‖B‖ per layer (``ParameterDeltas``).
/// - `kl`: mean and max per-token KL(A‖B) over full-vocabulary next-token distributions, teacher-forced
///   on A's greedy responses (every policy token of every episode; ``TokenKL``).
public struct CheckpointComparison: Codable, Sendable {
    public var refA: String
    public var refB: String
    public var task: String
    public var episodes: Int
    public var scoreA: EvaluationSummary
    public var scoreB: EvaluationSummary
    public var probabilityAOverB: IntervalEstimate
    /// Problems A solved and B did not, and the reverse.
    public var discordant: Discordant
    public var parameterDeltas: [GroupDelta]
    public var kl: TokenKLSummary
    /// Wall-clock seconds of the whole comparison.
    public var seconds: Double

    public struct Discordant: Codable, Sendable, Equatable {
        public var aOnly: Int
        public var bOnly: Int
        enum CodingKeys: String, CodingKey { case aOnly = "a_only", bOnly = "b_only" }
    }

    enum CodingKeys: String, CodingKey {
        case refA = "ref_a", refB = "ref_b", task, episodes, scoreA = "score_a", scoreB = "score_b"
        case probabilityAOverB = "probability_a_over_b", discordant
        case parameterDeltas = "parameter_deltas", kl, seconds
    }

    /// Compares `a` with `b` on `episodes` held-out problems of `task`.
    ///
    /// 1. architecture check (fails before any work), 2. parameter deltas, 3. greedy evaluation
    /// of both, 4. P(A > B) with its bootstrap interval, 5. KL(A‖B) on A's trajectories.
    /// A model with a LoRA adapter is compared merged (its adapter folded into its base, in place).
    /// - Throws: ``InputError`` naming both references and the field when the architectures differ.
    public static func run(
        a: LoadedModel, b: LoadedModel, refA: String, refB: String, task: any RLTask, episodes: Int,
        bootstrap: StratifiedBootstrap = StratifiedBootstrap(reps: 2000, seed: 0)
    ) throws(InputError) -> CheckpointComparison {
        let started = Date()
        // A LoRA checkpoint is compared as the model it computes: its adapter merged into its base
        // (the parameter deltas then show what training changed, not a frozen base).
        a.model.mergeAdapters()
        b.model.mergeAdapters()
        // 1.–2. Same shapes, then per-tensor deltas.
        try ParameterDeltas.requireSameArchitecture(a.model.config, b.model.config, refA: refA, refB: refB)
        let deltas = ParameterDeltas.summarize(ParameterDeltas.tensors(a.model, b.model))
        // 3. The same problems, greedily.
        let evalA = try HeldOutEvaluation.run(loaded: a, task: task, episodes: episodes, k: 1, temperature: 0)
        let evalB = try HeldOutEvaluation.run(loaded: b, task: task, episodes: episodes, k: 1, temperature: 0)
        // 4. Per-episode correctness as the two samples.
        let correctA = correctness(evalA.trajectories), correctB = correctness(evalB.trajectories)
        let x = ScoreMatrix([task.spec: correctA.map(\.1)])
        let y = ScoreMatrix([task.spec: correctB.map(\.1)])
        let poi = ProbabilityOfImprovement.interval(x, over: y, bootstrap: bootstrap)
        let byProblemB = Dictionary(correctB, uniquingKeysWith: { first, _ in first })
        var discordant = Discordant(aOnly: 0, bOnly: 0)
        for (problem, va) in correctA {
            guard let vb = byProblemB[problem] else { continue }
            if va > vb { discordant.aOnly += 1 }
            if vb > va { discordant.bOnly += 1 }
        }
        // 5. KL(A‖B) at every policy token of A's episodes: row t − 1 predicts token t.
        let sequences = evalA.trajectories.map(\.tokens)
        let rows = evalA.trajectories.map { t in t.lossMask.indices.filter { $0 > 0 && t.lossMask[$0] == 1 }.map { $0 - 1 } }
        let kl = TokenKL.summary(a: a.model, b: b.model, sequences: sequences, rows: rows)
        return CheckpointComparison(
            refA: refA, refB: refB, task: task.spec, episodes: episodes, scoreA: evalA.summary,
            scoreB: evalB.summary, probabilityAOverB: poi, discordant: discordant,
            parameterDeltas: deltas, kl: kl, seconds: Date().timeIntervalSince(started))
    }

    /// (problem, 1 if correct else 0) per episode, in episode order.
    private static func correctness(_ ts: [Trajectory]) -> [(Int, Double)] {
        ts.map { ($0.problem, $0.outcome == "correct" ? 1 : 0) }
    }
}
