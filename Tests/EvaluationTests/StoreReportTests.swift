// rlhub — `StoreReport.build`: a store filled through the RunStore API with known numbers (2 tasks
// × 3 algorithms × 3 seeds plus warm-ups), checked against hand-computed statistics; runs of
// other experiments, unfinished and failed runs left out; byte-identical output.
import Foundation
import RLHubCore
import TestSupport
import Testing

import Evaluation
import Store

@Suite struct StoreReportTests {
    static let algorithms = [("grpo", 0.5), ("rloo", 0.6), ("ppo", 0.4)]  // spec order, not sorted
    static let tasks = [("mul", 0.0), ("add", 0.2)]
    static let seedOffsets = [0.0, 0.04, 0.15]  // no ties, no score of exactly 1
    static let code = CodeVersion(commit: String(repeating: "c", count: 40), dirty: false, diffHash: "")

    /// Final test accuracy of a cell: base + task offset + seed offset.
    static func finalScore(_ base: Double, _ task: Double, _ seed: Int) -> Double {
        base + task + seedOffsets[seed]
    }

    static func newRun(_ experiment: String, cell: String, algo: String, task: String, seed: Int) -> NewRun {
        let config = "{\"algo\":\"\(algo)\",\"task\":\"\(task)\",\"seed\":\(seed)}"
        return NewRun(
            experiment: experiment, cell: cell, algo: algo, task: task, model: "preset:tiny", seed: seed,
            configJSON: config, configHash: "cfg-\(experiment)-\(cell)", groupHash: "grp-\(experiment)-\(algo)-\(task)",
            codeVersion: code, threads: 1)
    }

    /// A finished run with test accuracy rising linearly from 0.1 at step 0 to `final` at `steps`.
    @discardableResult
    static func addRun(_ store: RunStore, _ run: NewRun, final: Double, steps: Int = 10,
                       status: RunStatus = .finished) throws -> String {
        let id = try store.createRun(run)
        try store.markRunning(id)
        var scores: [ScoreRecord] = []
        var metrics: [(step: Int, metrics: [String: Double])] = []
        for step in stride(from: 0, through: steps, by: steps / 2) {
            let accuracy = 0.1 + (final - 0.1) * Double(step) / Double(steps)
            scores.append(ScoreRecord(step: step, split: "test", metric: "accuracy", value: accuracy, episodes: 20))
            scores.append(ScoreRecord(step: step, split: "test", metric: "mean_reward", value: accuracy / 2, episodes: 20))
            metrics.append((step, ["eval/accuracy": accuracy, "reward/mean": accuracy / 2]))
        }
        try store.appendMetrics(run: id, records: metrics)
        try store.addScores(run: id, scores)
        try store.setStepsDone(id, steps)
        switch status {
        case .finished: try store.markFinished(id)
        case .failed: try store.markFailed(id, error: "boom")
        default: break
        }
        return id
    }

    /// The grid of experiment `exp` in spec order (warm-ups first), plus runs that must not show.
    static func makeStore(_ dir: String) throws -> (store: RunStore, excluded: [String]) {
        let store = try RunStore(directory: dir)
        try store.upsertExperiment(name: "exp", specText: "name: exp", specHash: "h")
        try store.upsertExperiment(name: "other", specText: "name: other", specHash: "h2")
        for (task, offset) in tasks {
            for seed in 0..<3 {
                try addRun(store, newRun("exp", cell: "warmup/\(task)/seed\(seed)", algo: "sft", task: task, seed: seed),
                           final: 0.2 + offset / 2 + 0.01 * Double(seed), steps: 4)
            }
        }
        for (algo, base) in algorithms {
            for (task, offset) in tasks {
                for seed in 0..<3 {
                    try addRun(store, newRun("exp", cell: "\(algo)/\(task)/seed\(seed)", algo: algo, task: task, seed: seed),
                               final: finalScore(base, offset, seed))
                }
            }
        }
        var excluded: [String] = []
        excluded.append(try addRun(store, newRun("other", cell: "grpo/add/seed0", algo: "grpo", task: "add", seed: 0), final: 0.99))
        excluded.append(try addRun(store, newRun("exp", cell: "dapo/add/seed0", algo: "dapo", task: "add", seed: 0),
                                   final: 0.9, status: .running))
        excluded.append(try addRun(store, newRun("exp", cell: "grpo/add/seed3", algo: "grpo", task: "add", seed: 3),
                                   final: 0.95, status: .failed))
        try store.createRelease(name: "v1", filter: RunFilter(where: "algo = 'grpo'"))
        return (store, excluded)
    }

    static let options = StoreReport.Options(bootstrapReps: 300)

    @Test func contentsMatchHandComputedStatistics() throws {
        let dir = try TemporaryFolder()
        let (store, excluded) = try Self.makeStore(dir.path("store"))
        let data = try StoreReport.build(store: store, experiment: "exp", options: Self.options)

        #expect(data.algorithms == ["grpo", "rloo", "ppo"])
        #expect(data.tasks == ["mul", "add"])
        #expect(data.finalScores.count == 6)
        #expect(data.finalScores.allSatisfy { $0.runs == 3 })
        #expect(data.finalScores.map(\.algorithm) == ["grpo", "grpo", "rloo", "rloo", "ppo", "ppo"])

        // grpo: mul {0.5, 0.54, 0.65}, add {0.7, 0.74, 0.85}.
        let grpoAdd = try #require(data.finalScores.first { $0.algorithm == "grpo" && $0.task == "add" })
        expectClose(grpoAdd.mean, (0.7 + 0.74 + 0.85) / 3, atol: 1e-12, "grpo add mean")
        #expect(grpoAdd.low < grpoAdd.mean && grpoAdd.mean < grpoAdd.high)
        func point(_ panel: String, _ algorithm: String) throws -> ReportInterval {
            let p = try #require(data.aggregates.first { $0.name == panel })
            return try #require(p.estimates.first { $0.algorithm == algorithm })
        }
        #expect(data.aggregates.map(\.name) == ["IQM", "Mean", "Median", "Optimality gap"])
        let taskMeans = [(0.5 + 0.54 + 0.65) / 3, (0.7 + 0.74 + 0.85) / 3]
        expectClose(try point("Mean", "grpo").point, (taskMeans[0] + taskMeans[1]) / 2, atol: 1e-12, "mean")
        expectClose(try point("Median", "grpo").point, (taskMeans[0] + taskMeans[1]) / 2, atol: 1e-12, "median")
        // IQM of the 6 pooled scores: drop one at each end → mean of 0.54, 0.65, 0.7, 0.74.
        expectClose(try point("IQM", "grpo").point, (0.54 + 0.65 + 0.7 + 0.74) / 4, atol: 1e-12, "iqm")
        expectClose(try point("IQM", "rloo").point, (0.64 + 0.75 + 0.8 + 0.84) / 4, atol: 1e-12, "iqm rloo")
        expectClose(try point("Optimality gap", "grpo").point, 1 - (taskMeans[0] + taskMeans[1]) / 2, atol: 1e-12, "gap")
        for panel in data.aggregates {
            for e in panel.estimates { #expect(e.low <= e.point + 1e-12 && e.point <= e.high + 1e-12, "\(panel.name) \(e)") }
        }

        // P(grpo > rloo): per task only grpo's best beats two of rloo's three → 2/9.
        let poi = try #require(data.improvement)
        #expect(poi.algorithms == data.algorithms)
        expectClose(try #require(poi.cells[0][1]).p, 2.0 / 9, atol: 1e-12, "P(grpo > rloo)")
        expectClose(try #require(poi.cells[1][0]).p, 7.0 / 9, atol: 1e-12, "P(rloo > grpo)")
        #expect(poi.cells[0][0] == nil && poi.cells[2][2] == nil)

        // Profile at τ = 0 counts every run (all scores > 0), at τ = 1 none.
        let profile = try #require(data.performanceProfile)
        #expect(profile.taus.count == 21 && profile.curves.map(\.algorithm) == data.algorithms)
        #expect(profile.curves.allSatisfy { $0.values.first?.fraction == 1 && $0.values.last?.fraction == 0 })

        // Learning curves: one panel per task, one series per algorithm, the three evaluation steps.
        #expect(data.learningCurves.map(\.task) == ["mul", "add"])
        for panel in data.learningCurves {
            #expect(panel.series.map(\.label) == data.algorithms)
            #expect(panel.series.allSatisfy { $0.points.map(\.x) == [0, 5, 10] })
        }
        let grpoAddCurve = try #require(data.learningCurves[1].series.first)
        expectClose(grpoAddCurve.points[2].mean, grpoAdd.mean, atol: 1e-12, "curve end = final mean")
        expectClose(grpoAddCurve.points[0].mean, 0.1, atol: 1e-12, "curve start")

        // Warm-up starting point: add 0.3 + 0.01·seed → 0.310, mul 0.210.
        #expect(data.description.contains("mul 0.210"), "\(data.description)")
        #expect(data.description.contains("add 0.310"), "\(data.description)")
        #expect(data.description.contains("3 algorithms × 2 tasks × 3 seeds (18 finished runs)"))

        // Provenance: 6 warm-ups + 18 runs; releases named; excluded runs nowhere.
        #expect(data.provenance.count == 24)
        #expect(data.provenance.prefix(6).allSatisfy { $0.algorithm == "warmup (sft)" })
        #expect(data.provenance.filter { $0.algorithm == "grpo" }.allSatisfy { $0.release == "v1" })
        #expect(data.provenance.filter { $0.algorithm != "grpo" }.allSatisfy { $0.release.isEmpty })
        let runIDs = Set(data.provenance.map(\.runID))
        for id in excluded { #expect(!runIDs.contains(id)) }
        #expect(!data.algorithms.contains("dapo"))

        // data.csv: 24 runs × 3 steps × 2 metrics, long format.
        #expect(data.data.columns == ["algorithm", "task", "run", "seed", "step", "metric", "value"])
        #expect(data.data.rows.count == 6 * 3 * 2 + 18 * 3 * 2)
        #expect(data.data.rows.allSatisfy { row in
            if case .text(let id) = row[2] { return runIDs.contains(id) } else { return false }
        })

        // Where from: the experiment, schema and code — no path, no time.
        #expect(data.generatedFrom == "experiment exp · store schema \(StoreSchema.version) · code \(Self.code.description)")
    }

    /// The gain of a run is its final score minus its own step-0 score (0.1 in this store), paired
    /// by seed; grpo on add: finals {0.7, 0.74, 0.85} → gains {0.6, 0.64, 0.75}, mean 0.66333,
    /// sd 0.077675, t₀.₉₇₅,₂ = 4.302653 → ± 0.192960.
    @Test func gainOverTheWarmStartIsPairedBySeed() throws {
        let dir = try TemporaryFolder()
        let (store, _) = try Self.makeStore(dir.path("store"))
        let data = try StoreReport.build(store: store, experiment: "exp", options: Self.options)
        #expect(data.gains.count == 6)
        let g = try #require(data.gains.first { $0.algorithm == "grpo" && $0.task == "add" })
        #expect(g.runs == 3 && abs(g.start - 0.1) < 1e-12 && abs(g.final - 0.76333333333) < 1e-9)
        #expect(abs(g.gain - 0.66333333333) < 1e-9)
        #expect(abs(g.low - (0.66333333333 - 0.192960)) < 1e-5 && abs(g.high - (0.66333333333 + 0.192960)) < 1e-5)
        #expect(g.excludesZero)
        // The summary's mean gain over tasks: grpo's per-task mean gains 0.46333 (mul) and 0.66333 (add).
        let summary = try #require(data.gainSummary.first { $0.algorithm == "grpo" })
        #expect(abs(summary.point - 0.56333333333) < 1e-9 && summary.low <= summary.point && summary.point <= summary.high)
        #expect(data.description.contains("Gain over the warm start") && data.description.contains("6 of 6"))
        // No compute recorded in this store: every figure is missing, none is made up.
        #expect(data.provenance.allSatisfy { $0.compute.cpuSeconds.isNaN && $0.compute.tokensTrained.isNaN })
    }

    /// A run's compute is summed from its step metrics: Σ time/cpu_s, Σ episodes × mean length,
    /// Σ loss tokens × optimizer steps; the cell's row is the mean over its runs.
    @Test func computeIsSummedFromTheRunsMetrics() throws {
        let dir = try TemporaryFolder()
        let store = try RunStore(directory: dir.path("store"))
        try store.upsertExperiment(name: "exp", specText: "name: exp", specHash: "h")
        let ids = try (0..<2).map { seed in
            try Self.addRun(store, Self.newRun("exp", cell: "grpo/add/seed\(seed)", algo: "grpo", task: "add", seed: seed),
                            final: 0.5, steps: 2)
        }
        // Run 0: steps 0–2; run 1: steps 0–2 with twice the CPU.
        for (k, id) in ids.enumerated() {
            let scale = Double(k + 1)
            try store.appendMetrics(run: id, records: [
                (0, ["time/cpu_s": 1.5 * scale]),
                (1, ["time/cpu_s": 2 * scale, "rollout/episodes": 16, "response_length/mean": 3.25, "tokens": 40, "optimizer_steps": 2]),
                (2, ["time/cpu_s": 2.5 * scale, "rollout/episodes": 16, "response_length/mean": 2.5, "tokens": 36.5, "optimizer_steps": 2]),
            ])
        }
        let data = try StoreReport.build(store: store, experiment: "exp", options: Self.options)
        let first = try #require(data.provenance.first { $0.runID == ids[0] })
        #expect(first.compute == RunCompute(cpuSeconds: 6, tokensGenerated: 52 + 40, tokensTrained: 80 + 73))
        let row = try #require(data.compute.first)
        #expect(row.runs == 2 && row.perRun.cpuSeconds == 9 && row.perRun.tokensGenerated == 92 && row.perRun.tokensTrained == 153)
        // Gain 0.4 per run (0.1 → 0.5) over 9 CPU seconds = 0.15 CPU minutes.
        #expect(abs(row.gainPerCPUMinute - 0.4 / 0.15) < 1e-9)
        #expect(data.data.rows.contains { $0[5] == .text("compute/cpu_s") && $0[6] == .number(6) })
    }

    @Test func sameStoreGivesByteIdenticalFiles() throws {
        let dir = try TemporaryFolder()
        let (store, _) = try Self.makeStore(dir.path("store"))
        let a = try StoreReport.build(store: store, experiment: "exp", options: Self.options)
        let b = try StoreReport.build(store: try RunStore(directory: dir.path("store")), experiment: "exp",
                                      options: Self.options)
        #expect(ReportWriter.render(a) == ReportWriter.render(b))
        try ReportWriter.write(a, to: dir.path("r1"))
        try ReportWriter.write(b, to: dir.path("r2"))
        let one = try folderContents(dir.path("r1")), two = try folderContents(dir.path("r2"))
        #expect(one.keys.sorted() == two.keys.sorted())
        #expect(one == two)
        for name in ["index.html", "README.md", "data.csv"] { #expect(one[name] != nil, "\(name) missing") }
    }

    @Test func filterSelectsAndMissingExperimentIsAnInputError() throws {
        let dir = try TemporaryFolder()
        let (store, _) = try Self.makeStore(dir.path("store"))
        let add = try StoreReport.build(store: store, experiment: "exp", filter: try RunFilter(where: "task = 'add'"),
                                        options: Self.options)
        #expect(add.tasks == ["add"] && add.algorithms == ["grpo", "rloo", "ppo"])
        #expect(add.description.contains("add 0.310") && !add.description.contains("mul 0.210"))
        #expect(add.provenance.count == 3 + 9)

        // Spec order given explicitly wins over first appearance.
        var ordered = Self.options
        ordered.algorithmOrder = ["ppo", "grpo"]
        ordered.taskOrder = ["add"]
        let o = try StoreReport.build(store: store, experiment: "exp", options: ordered)
        #expect(o.algorithms == ["ppo", "grpo", "rloo"] && o.tasks == ["add", "mul"])

        #expect(throws: InputError.self) { try StoreReport.build(store: store, experiment: "nope") }
        do {
            _ = try StoreReport.build(store: store, experiment: "nope")
        } catch let error as InputError {
            #expect(error.field == "nope")
        }
        #expect(throws: InputError.self) {
            try StoreReport.build(store: store, experiment: "exp", filter: try RunFilter(where: "algo = 'dapo'"))
        }
    }
}
