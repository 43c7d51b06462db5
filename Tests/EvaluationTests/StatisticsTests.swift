// Hand-computed examples of the aggregate estimators, the bootstrap's reproducibility, POI,
// profiles and normalisation (pass@k and the Student t quantile: RLHubCoreTests/StatisticsTests).
import Evaluation
import Foundation
import RLHubCore
import Tensor
import TestSupport
import Testing

@Suite("Aggregates")
struct AggregateTests {
    /// a: [1, 2, 3], b: [4, 8] — task means 2 and 6; pooled sorted 1 2 3 4 8.
    let m = ScoreMatrix(["b": [4, 8], "a": [1, 2, 3]])

    @Test func tasksAreSortedAndRunsKept() {
        #expect(m.tasks == ["a", "b"])
        #expect(m.runs == [[1, 2, 3], [4, 8]])
        #expect(m.runCounts == [3, 2])
        #expect(!m.isRectangular)
        #expect(m["b"] == [4, 8])
    }

    @Test func handComputed() {
        #expect(Aggregates.mean(m) == 4)  // (2 + 6)/2, not the pooled mean 3.6
        #expect(Aggregates.median(m) == 4)  // median of two task means: their average
        #expect(Aggregates.iqm(m) == 3)  // S = 5, g = ⌊1.25⌋ = 1: mean(2, 3, 4)
        #expect(Aggregates.optimalityGap(m) == 0)  // every score ≥ γ = 1
        // γ = 5: task a mean(min(x, 5)) = 2, task b mean(4, 5) = 4.5 → 5 − 3.25
        #expect(Aggregates.optimalityGap(m, gamma: 5) == 1.75)
        // Normalised scores: mean of max(1 − x, 0) per task: a (1 + .5 + 0)/3 = .5, b (.8 + .6)/2 = .7
        let n = ScoreMatrix(["a": [0, 0.5, 1], "b": [0.2, 0.4]])
        expectClose(Aggregates.optimalityGap(n), 0.6, atol: 1e-15, "gap")
        // Odd number of tasks: the middle task mean.
        #expect(Aggregates.median(ScoreMatrix(["a": [1], "b": [10, 20], "c": [3, 4]])) == 3.5)
    }

    @Test func rliableLayout() {
        // rows are runs, columns tasks, as rliable's runs × tasks matrix
        let r = ScoreMatrix(runsByTask: [[1, 10], [3, 30]])
        #expect(r.tasks == ["task0", "task1"])
        #expect(r.runs == [[1, 3], [10, 30]])
        #expect(Aggregates.mean(r) == 11)
        let wide = ScoreMatrix(runsByTask: [Array(repeating: 0.5, count: 11)])
        #expect(wide.tasks.first == "task00" && wide.tasks.last == "task10")
    }

    @Test(arguments: [
        // (scores, expected): g = ⌊0.25·n⌋ scores cut from each end
        ([5.0], 5.0),  // n = 1, g = 0
        ([1, 9], 5),  // n = 2, g = 0
        ([1, 2, 100], 103.0 / 3),  // n = 3, 0.75 → g = 0: plain mean
        ([100, 1, 3, 2], 2.5),  // n = 4, g = 1
        ([100, 1, 2, 3, -50], 2),  // n = 5, 1.25 → g = 1
        ([7, 1, 2, 3, 4, 5, 0], 3),  // n = 7, 1.75 → g = 1: mean(1 2 3 4 5)
        ([9, 8, 1, 2, 3, 4, 0, -1], 2.5),  // n = 8, g = 2: mean(1 2 3 4)
        ([10, 1, 2, 3, 4, 5, 6, -7, 8, 9], 14.0 / 3),  // n = 10, 2.5 → g = 2: mean(2 3 4 5 6 8)
    ] as [([Double], Double)])
    func trimMeanCutRule(scores: [Double], expected: Double) {
        expectClose(Quantiles.trimMean(scores, proportionToCut: 0.25), expected, atol: 1e-13, "trim_mean \(scores)")
    }

    @Test func numpyPercentile() {
        let s = [1.0, 2, 3, 4]
        expectClose(Quantiles.percentile(sorted: s, 2.5), 1.075, atol: 1e-15, "p2.5")
        expectClose(Quantiles.percentile(sorted: s, 97.5), 3.925, atol: 1e-15, "p97.5")
        #expect(Quantiles.percentile(sorted: s, 0) == 1 && Quantiles.percentile(sorted: s, 100) == 4)
        #expect(Quantiles.percentile(sorted: [7], 50) == 7)
        #expect(Quantiles.median([3, 1, 2, 10]) == 2.5)
    }

    @Test func metricNames() throws {
        #expect(try AggregateMetric.parseList("iqm, Mean,optimality-gap", source: "--metrics").map(\.name)
            == ["iqm", "mean", "optimality-gap"])
        #expect(AggregateMetric.all.map(\.name) == AggregateMetric.names)
        #expect(throws: InputError(
            file: "--metrics", message: "unknown metric 'average'; valid metrics: iqm, mean, median, optimality-gap")
        ) { try AggregateMetric.parseList("iqm,average", source: "--metrics") }
        #expect(throws: InputError.self) { try AggregateMetric.parseList("iqm,iqm", source: "--metrics") }
        #expect(throws: InputError.self) { try AggregateMetric.parseList("", source: "--metrics") }
    }
}

@Suite("Stratified bootstrap")
struct BootstrapTests {
    let m = ScoreMatrix([
        "a": [0.1, 0.4, 0.35, 0.8, 0.9, 0.2], "b": [0.5, 0.55, 0.7, 0.6], "c": [0.05, 0.3, 0.95, 0.6, 0.45],
    ])

    @Test func resamplesStayWithinTheirTask() {
        let bs = StratifiedBootstrap(reps: 10, seed: 3)
        for rep in 0..<10 {
            let idx = bs.indices(rep: rep, runCounts: m.runCounts)
            #expect(idx.map(\.count) == m.runCounts)
            #expect(zip(idx, m.runCounts).allSatisfy { i, n in i.allSatisfy { $0 >= 0 && $0 < n } })
        }
        #expect(bs.indices(rep: 0, sample: 0, runCounts: [50]) != bs.indices(rep: 0, sample: 1, runCounts: [50]))
        #expect(bs.indices(rep: 0, runCounts: [50]) != bs.indices(rep: 1, runCounts: [50]))
    }

    @Test func reproducibleChangesWithSeedAndIgnoresThreads() {
        let metrics = AggregateMetric.all
        let a = Aggregates.intervals(m, metrics: metrics, bootstrap: StratifiedBootstrap(reps: 300, seed: 11))
        let b = Aggregates.intervals(m, metrics: metrics, bootstrap: StratifiedBootstrap(reps: 300, seed: 11))
        let c = Aggregates.intervals(m, metrics: metrics, bootstrap: StratifiedBootstrap(reps: 300, seed: 12))
        #expect(a == b)
        #expect(a.map(\.estimate) == c.map(\.estimate))
        #expect(a.map(\.lower) != c.map(\.lower) || a.map(\.upper) != c.map(\.upper))
        // Scoped to this test: suites run in parallel, so the process-wide count is not touched.
        for threads in [1, 2, 3] {
            let d = ComputeThreads.withCount(threads) {
                Aggregates.intervals(m, metrics: metrics, bootstrap: StratifiedBootstrap(reps: 300, seed: 11))
            }
            #expect(a == d, "\(threads) threads")
        }
    }

    @Test func intervalsBracketTheEstimateAndSharpenWithConfidence() {
        let wide = Aggregates.intervals(m, metrics: [.mean], bootstrap: StratifiedBootstrap(reps: 500, seed: 1))[0]
        let narrow = Aggregates.intervals(
            m, metrics: [.mean], bootstrap: StratifiedBootstrap(reps: 500, confidence: 0.5, seed: 1))[0]
        #expect(wide.lower < wide.estimate && wide.estimate < wide.upper)
        #expect(wide.lower < narrow.lower && narrow.upper < wide.upper)
        #expect(wide.estimate == Aggregates.mean(m))
    }

    @Test func constantScoresGiveADegenerateInterval() {
        let c = ScoreMatrix(["a": [0.5, 0.5], "b": [0.25, 0.25, 0.25]])
        let r = Aggregates.intervals(c, metrics: AggregateMetric.all, bootstrap: StratifiedBootstrap(reps: 50))
        #expect(r.allSatisfy { $0.lower == $0.estimate && $0.upper == $0.estimate })
    }
}

@Suite("Probability of improvement")
struct ProbabilityOfImprovementTests {
    @Test func mannWhitneyWithTiesCountingHalf() {
        #expect(ProbabilityOfImprovement.task([1, 2], [0, 3]) == 0.5)  // 2 of 4 pairs
        #expect(ProbabilityOfImprovement.task([1, 1], [1, 0]) == 0.75)  // (½ + 1 + ½ + 1)/4
        #expect(ProbabilityOfImprovement.task([5], [1, 2, 3]) == 1)
        #expect(ProbabilityOfImprovement.task([0, 0, 0], [1]) == 0)
        // One task at ¾, one at 0 → ⅜.
        let x = ScoreMatrix(["a": [1, 1], "b": [0]]), y = ScoreMatrix(["a": [1, 0], "b": [2, 3, 4]])
        #expect(ProbabilityOfImprovement.estimate(x, over: y) == 0.375)
        #expect(ProbabilityOfImprovement.estimate(y, over: x) == 0.625)
    }

    @Test func identicalDistributionsGiveOneHalf() {
        let x = ScoreMatrix(["a": [0.1, 0.7, 0.3, 0.3], "b": [1, 2, 3]])
        let y = ScoreMatrix(["a": [0.3, 0.3, 0.7, 0.1], "b": [3, 1, 2]])
        #expect(ProbabilityOfImprovement.estimate(x, over: y) == 0.5)
        let ci = ProbabilityOfImprovement.interval(x, over: x, bootstrap: StratifiedBootstrap(reps: 400, seed: 5))
        #expect(ci.estimate == 0.5)
        #expect(ci.lower < 0.5 && ci.upper > 0.5)
    }
}

@Suite("Profiles, curves, pass@k, normalisation")
struct OtherEstimatorTests {
    @Test func performanceProfileHandComputed() {
        let m = ScoreMatrix(["a": [0.1, 0.5, 0.9, 0.5], "b": [0.2, 0.8]])
        // τ = 0.5: a has 1 of 4 runs > 0.5, b 1 of 2 → (0.25 + 0.5)/2
        #expect(PerformanceProfile.curve(m, taus: [0, 0.5, 1]) == [1, 0.375, 0])
        // task means 0.5 and 0.5: none strictly above 0.5
        #expect(PerformanceProfile.curve(m, taus: [0.4, 0.5], kind: .taskMeans) == [1, 0])
        let band = PerformanceProfile.intervals(m, taus: [0.5], bootstrap: StratifiedBootstrap(reps: 200, seed: 2))
        #expect(band[0].estimate == 0.375 && band[0].lower <= 0.375 && band[0].upper >= 0.375)
    }

    @Test func sampleEfficiencyCurve() {
        let c = ScoreCurves(steps: [0, 10, 20], scores: [
            "a": [[0, 0.2, 0.4], [0.1, 0.3, 0.9], [0, 0.5, 0.7]], "b": [[0.2, 0.2, 0.6], [0, 0.4, 0.8]],
        ])
        let bs = StratifiedBootstrap(reps: 200, seed: 9)
        let r = SampleEfficiency.curve(c, bootstrap: bs)
        #expect(r.map(\.estimate) == (0..<3).map { Aggregates.iqm(c.matrix(atStepIndex: $0)) })
        #expect(r.allSatisfy { $0.lower <= $0.estimate && $0.estimate <= $0.upper })
        #expect(SampleEfficiency.curve(c, bootstrap: bs) == r)
        let means = SampleEfficiency.curve(c, metric: .mean, bootstrap: bs)
        #expect(means.map(\.estimate) == (0..<3).map { Aggregates.mean(c.matrix(atStepIndex: $0)) })
    }

    @Test func normalisation() throws {
        let m = ScoreMatrix(["a": [1, 3], "b": [-1, 0]])
        let n = try m.normalized(by: ["a": ScoreRange(low: 1, high: 5), "b": ScoreRange(low: -2, high: 0)])
        #expect(n.runs == [[0, 0.5], [0.5, 1]])
        #expect(throws: InputError(file: "ranges.json", field: "b", message: "no low/high score for this task")) {
            try m.normalized(by: ["a": ScoreRange(low: 0, high: 1)], source: "ranges.json")
        }
        #expect(throws: InputError.self) {
            try m.normalized(by: ["a": ScoreRange(low: 1, high: 1), "b": ScoreRange(low: 0, high: 1)])
        }
    }
}
