// rlhub — sample report inputs for the renderer tests: a small realistic grid and degenerate cases.
import Evaluation
import Foundation

enum ReportSamples {
    /// A report of `tasks.count` tasks × `algorithms.count` algorithms × `seeds` seeds with smooth,
    /// plausible curves and intervals (no randomness: every number is a closed-form function).
    static func grid(algorithms: [String] = ["grpo", "rloo", "ppo"],
                     tasks: [String] = ["arith:add", "arith:mul"], seeds: Int = 3) -> ReportData {
        let steps = stride(from: 0, through: 200, by: 10).map(Double.init)
        func level(_ a: Int, _ t: Int) -> Double { 0.55 + 0.12 * Double(a) - 0.15 * Double(t) }
        func clamp(_ x: Double) -> Double { min(1, max(0, x)) }

        let curves = tasks.enumerated().map { t, task in
            LearningCurvePanel(task: task, xLabel: "step", yLabel: "test accuracy", series:
                algorithms.enumerated().map { a, algo in
                    CurveSeries(label: algo, points: steps.map { s in
                        let m = 0.05 + level(a, t) * (1 - exp(-s / (40 + 15 * Double(a))))
                        let w = 0.03 + 0.05 * exp(-s / 120)
                        return CurvePoint(x: s, mean: m, low: clamp(m - w), high: clamp(m + w))
                    })
                })
        }
        let metricNames = ["IQM", "Median", "Mean", "Optimality gap"]
        let aggregates = metricNames.enumerated().map { k, name in
            AggregatePanel(name: name, estimates: algorithms.enumerated().map { a, algo in
                let base = (level(a, 0) + level(a, 1)) / 2 + (k == 0 ? 0.02 : 0)
                let point = k == 3 ? 1 - base : base - 0.01 * Double(k)
                return ReportInterval(algorithm: algo, point: point, low: point - 0.06,
                                        high: point + 0.05)
            })
        }
        let taus = stride(from: 0, through: 20, by: 1).map { Double($0) / 20 }
        let profile = ProfileChart(tauLabel: "test accuracy threshold τ", taus: taus,
            curves: algorithms.enumerated().map { a, algo in
                ProfileCurve(algorithm: algo, values: taus.map { tau in
                    let f = 1 / (1 + exp((tau - level(a, 0) + 0.05) * 12))
                    return ProfileValue(fraction: f, low: clamp(f - 0.08), high: clamp(f + 0.08))
                })
            })
        let matrix = ImprovementMatrix(algorithms: algorithms, cells: algorithms.indices.map { i in
            algorithms.indices.map { j in
                guard i != j else { return nil }
                let p = clamp(0.5 + 0.18 * Double(i - j))
                return ProbabilityCell(p: p, low: clamp(p - 0.1), high: clamp(p + 0.1))
            }
        })
        var finals: [FinalScoreRow] = []
        var provenance: [ProvenanceRow] = []
        var rows: [[DataValue]] = []
        for (t, task) in tasks.enumerated() {
            for (a, algo) in algorithms.enumerated() {
                let m = 0.05 + level(a, t)
                finals.append(FinalScoreRow(algorithm: algo, task: task, runs: seeds, mean: m,
                                            low: m - 0.04, high: m + 0.035))
                for seed in 0..<seeds {
                    let id = "\(task)__\(algo)__seed\(seed)"
                    provenance.append(ProvenanceRow(
                        runID: id, algorithm: algo, task: task, seed: seed,
                        status: seed == seeds - 1 && a == 2 && t == 1 ? "failed" : "finished",
                        steps: 200, configHash: "c0ffee\(a)\(t)deadbeef0123456789abcdef",
                        codeVersion: "dcb31be", release: "baselines-v1"))
                    rows.append([.text(algo), .text(task), .integer(seed), .integer(200),
                                 .number(m + 0.01 * Double(seed - 1))])
                }
            }
        }
        return ReportData(
            title: "Baselines: arithmetic tasks",
            description: "GRPO, RLOO and PPO on two arithmetic tasks, \(seeds) seeds each, "
                + "200 steps of a tiny Llama.",
            generatedFrom: "store .rlhub/store.sqlite, release baselines-v1",
            scoreName: "test accuracy",
            intervalMethod: "95% stratified bootstrap confidence intervals, 2,000 resamples",
            algorithms: algorithms, tasks: tasks, learningCurves: curves, aggregates: aggregates,
            performanceProfile: profile, improvement: matrix, finalScores: finals,
            provenance: provenance,
            data: DataTable(columns: ["algorithm", "task", "seed", "step", "test_accuracy"],
                            rows: rows))
    }

    /// Every section at its smallest or strangest: one algorithm, one task, one point, equal
    /// values, NaN intervals, a missing series value, and a matrix with one entry.
    static func degenerate() -> ReportData {
        ReportData(
            title: "Degenerate", generatedFrom: "experiment tiny", scoreName: "score",
            algorithms: ["solo"], tasks: ["only"],
            learningCurves: [
                LearningCurvePanel(task: "only", yLabel: "score", series: [
                    CurveSeries(label: "solo", points: [CurvePoint(x: 100, mean: 0.5)]),
                ]),
                LearningCurvePanel(task: "flat", yLabel: "score", series: [
                    CurveSeries(label: "solo", points: [
                        CurvePoint(x: 0, mean: 0, low: 0, high: 0),
                        CurvePoint(x: 10, mean: 0, low: .nan, high: .nan),
                        CurvePoint(x: 20, mean: .nan),
                        CurvePoint(x: 30, mean: 0, low: 0, high: 0),
                    ]),
                    CurveSeries(label: "other", points: []),
                ]),
                LearningCurvePanel(task: "nothing", yLabel: "score", series: []),
            ],
            aggregates: [
                AggregatePanel(name: "IQM", estimates: [ReportInterval(algorithm: "solo",
                                                                          point: 0.5)]),
                AggregatePanel(name: "Mean", estimates: [
                    ReportInterval(algorithm: "solo", point: 0.5, low: 0.5, high: 0.5),
                ]),
                AggregatePanel(name: "Empty", estimates: []),
            ],
            performanceProfile: ProfileChart(taus: [0.5], curves: [
                ProfileCurve(algorithm: "solo", values: [ProfileValue(fraction: 1)]),
            ]),
            improvement: ImprovementMatrix(algorithms: ["solo"], cells: [[nil]]),
            finalScores: [FinalScoreRow(algorithm: "solo", task: "only", runs: 1, mean: 0.5)],
            provenance: [],
            data: DataTable(columns: ["x"], rows: [[.number(.nan)], [.missing]]))
    }
}
