// rlhub — the report's gain over the warm start and its compute: what each algorithm did with
// the checkpoint it started from, and what that cost.
//
// Gain, paired by seed: a run's warm-start score is its own step-0 held-out evaluation (the warm
// start, scored with the run's evaluation settings), so every algorithm of seed s is measured
// against the same model on the same held-out problems, and
//   gᵢ = final(runᵢ) − start(runᵢ),   ḡ ± t₀.₉₇₅,ₙ₋₁ · sd(g)/√n  over the n seeds.
// Compute comes from the run's stored metrics (docs/metrics.md): Σ `time/cpu_s`,
// Σ `rollout/episodes` × `response_length/mean`, Σ `tokens` × `optimizer_steps`.
import Foundation
import Store

extension StoreReport {
    /// The paired gain of every (algorithm, task) with at least one run scored at step 0.
    ///
    /// - Parameters:
    ///   - runs: the compared runs of an (algorithm, task).
    ///   - start: a run's step-0 score, nil when it has none.
    ///   - final: a run's final score.
    static func gainRows(
        algorithms: [String], tasks: [String], runs: (String, String) -> [RunRecord],
        start: (RunRecord) -> Double?, final: (RunRecord) -> Double
    ) -> [GainRow] {
        var rows: [GainRow] = []
        for a in algorithms {
            for t in tasks {
                let paired = runs(a, t).compactMap { r in start(r).map { (start: $0, final: final(r)) } }
                guard !paired.isEmpty else { continue }
                let gains = paired.map { $0.final - $0.start }
                let ci = CurveGrouping.tInterval(gains)
                let one = gains.count == 1
                rows.append(GainRow(
                    algorithm: a, task: t, runs: paired.count, start: Quantiles.mean(paired.map(\.start)),
                    final: Quantiles.mean(paired.map(\.final)), gain: ci.estimate,
                    low: one ? .nan : ci.lower, high: one ? .nan : ci.upper))
            }
        }
        return rows
    }

    /// Each algorithm's mean gain over the tasks it ran, with a stratified-bootstrap interval
    /// (tasks are the strata; the per-seed gains are resampled within each task).
    static func gainSummary(
        algorithms: [String], tasks: [String], gainsOf: (String, String) -> [Double], bootstrap: StratifiedBootstrap
    ) -> [ReportInterval] {
        algorithms.compactMap { a in
            var byTask: [String: [Double]] = [:]
            for t in tasks {
                let g = gainsOf(a, t)
                if !g.isEmpty { byTask[t] = g }
            }
            guard !byTask.isEmpty else { return nil }
            let e = Aggregates.intervals(ScoreMatrix(byTask), metrics: [.mean], bootstrap: bootstrap)[0]
            return ReportInterval(algorithm: a, point: e.estimate, low: e.lower, high: e.upper)
        }
    }

    /// What run `id` cost, from its stored metrics; NaN for what it did not record.
    static func runCompute(store: RunStore, run id: String) throws -> RunCompute {
        var byStep: [Int: [String: Double]] = [:]
        let wanted: Set<String> = ["time/cpu_s", "rollout/episodes", "response_length/mean", "tokens", "optimizer_steps"]
        for p in try store.allMetrics(run: id) where wanted.contains(p.name) {
            if let v = p.value, v.isFinite { byStep[p.step, default: [:]][p.name] = v }
        }
        var cpu = 0.0, generated = 0.0, trained = 0.0
        var hasCPU = false, hasGenerated = false, hasTrained = false
        for step in byStep.keys.sorted() {
            let m = byStep[step]!
            if let c = m["time/cpu_s"] { cpu += c; hasCPU = true }
            if let n = m["rollout/episodes"], let l = m["response_length/mean"] { generated += (n * l).rounded(); hasGenerated = true }
            if let t = m["tokens"], let k = m["optimizer_steps"] { trained += (t * k).rounded(); hasTrained = true }
        }
        return RunCompute(cpuSeconds: hasCPU ? cpu : .nan, tokensGenerated: hasGenerated ? generated : .nan,
                          tokensTrained: hasTrained ? trained : .nan)
    }

    /// Mean compute per run of every (algorithm, task), with the mean gain per CPU minute.
    static func computeRows(
        algorithms: [String], tasks: [String], runs: (String, String) -> [RunRecord],
        compute: [String: RunCompute], gains: [GainRow]
    ) -> [ComputeRow] {
        var rows: [ComputeRow] = []
        for a in algorithms {
            for t in tasks {
                let costs = runs(a, t).compactMap { compute[$0.id] }
                guard !costs.isEmpty else { continue }
                func mean(_ k: KeyPath<RunCompute, Double>) -> Double {
                    let v = costs.map { $0[keyPath: k] }
                    return v.contains { $0.isNaN } ? .nan : Quantiles.mean(v)
                }
                let perRun = RunCompute(cpuSeconds: mean(\.cpuSeconds), tokensGenerated: mean(\.tokensGenerated),
                                        tokensTrained: mean(\.tokensTrained))
                let gain = gains.first { $0.algorithm == a && $0.task == t }?.gain ?? .nan
                let perMinute = perRun.cpuSeconds > 0 ? gain / (perRun.cpuSeconds / 60) : .nan
                rows.append(ComputeRow(algorithm: a, task: t, runs: costs.count, perRun: perRun, gainPerCPUMinute: perMinute))
            }
        }
        return rows
    }
}
