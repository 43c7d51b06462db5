// Cross-check with rliable 1.2.0 (Tests/reference/rliable_reference.py): point estimates to 1e-9,
// bootstrap intervals to Monte-Carlo tolerance, on fixed score matrices with ties, a single task
// and unequal run counts per task. Skipped without python3 + rliable unless
// RLHUB_REQUIRE_REFERENCE=1 (then a failure).
import Evaluation
import Foundation
import RLHubCore
import Tensor
import Testing
import TestSupport

/// One fixture: algorithms (task → runs), which of them to estimate, POI pairs, curves.
private struct Case {
    var name: String
    var algorithms: [String: [String: [Double]]]
    var estimate: [String]
    var poi: [(String, String)] = []
    var curves: [String: (steps: [Int], scores: [String: [[Double]]])] = [:]
}

private let seed: UInt64 = 20_210_701
private let reps = 2000
private let taus = stride(from: -0.25, through: 1.25, by: 0.125).map { $0 }

/// Deterministic scores in [0, 1) with three decimals.
private func scores(_ n: Int, stream: UInt64, scale: Double = 1, shift: Double = 0) -> [Double] {
    var rng = CounterRNG(seed: 99, purpose: .testing, step: stream)
    return (0..<n).map { _ in ((rng.nextUniformDouble() * scale + shift) * 1000).rounded() / 1000 }
}

private let cases: [Case] = {
    // Ties within and across algorithms: scores on a quarter grid.
    let ties = Case(
        name: "ties",
        algorithms: [
            "A": ["alpha": [0, 0.5, 0.5, 1, 0.75, 0.5], "beta": [0.25, 0.25, 0.75, 1, 1, 0.25]],
            "B": ["alpha": [0, 0.25, 0.5, 0.5, 0.5, 0.75], "beta": [0.25, 0.5, 0.5, 0.75, 0.25, 0.25]],
        ],
        estimate: ["A", "B"], poi: [("A", "B")])
    // One task; X and Y with different run counts (rliable's rectangular path).
    let single = Case(
        name: "single-task",
        algorithms: ["A": ["solo": [0.61, 0.2, 0.93, 0.47, 0.47, 0.05, 0.72]], "B": ["solo": [0.3, 0.47, 0.1, 0.66, 0.2]]],
        estimate: ["A"], poi: [("A", "B")])
    // Unequal run counts per task (rliable's StratifiedIndependentBootstrap over per-task arrays).
    let unequal = Case(
        name: "unequal-runs",
        algorithms: [
            "A": ["t1": [0.2, 0.9, 0.4], "t2": scores(5, stream: 1), "t3": scores(8, stream: 2, scale: 1.2, shift: -0.1)],
            "B": ["t1": [0.1, 0.4, 0.4, 0.3], "t2": [0.5, 0.2], "t3": scores(6, stream: 3)],
        ],
        estimate: ["A"], poi: [("A", "B")])
    // Five tasks, eight runs, four evaluation steps; the final step is also a score matrix.
    var curve: [String: [[Double]]] = [:]
    for t in 0..<5 {
        curve["g\(t)"] = (0..<8).map { r in
            scores(4, stream: UInt64(100 + 10 * t + r)).enumerated().map { s, v in
                ((v * 0.5 + 0.15 * Double(s) + 0.05 * Double(t)) * 1000).rounded() / 1000
            }
        }
    }
    let curves = Case(
        name: "curves",
        algorithms: ["C": curve.mapValues { $0.map { $0[3] } }],
        estimate: ["C"], curves: ["C": (steps: [0, 100, 200, 300], scores: curve)])
    return [ties, single, unequal, curves]
}()

/// Interval endpoints agree to Monte-Carlo tolerance.
///
/// rliable resamples with NumPy's Mersenne Twister and rlhub with Philox, so the two percentile
/// intervals are two independent Monte-Carlo estimates of the same bootstrap quantiles.
/// 1. Smooth part: with B = 2,000 replicates the 2.5% quantile has standard error
///    √(p(1−p)/B)/f(q) ≈ 0.06·σ* for a roughly normal bootstrap distribution with standard
///    deviation σ* ≈ width/3.92, so the difference of two estimates has standard deviation
///    ≈ 0.085·σ* ≈ 0.022·width; 0.15·width is about seven of them.
/// 2. Lattice part: bootstraps of a few tied scores take few distinct values (the mean of twelve
///    quarter-grid scores moves in steps of 1/48 of the range), and an endpoint can land on
///    either side of one step; 3% of the score range (1 for profiles and POI) allows one such
///    step of the aggregates, and with part 1 one step of a profile or POI (≤ 1/12 here) whose
///    interval is wider than a third.
/// Observed with these fixtures: the largest endpoint difference is one lattice step (1/48 of
/// the range, ≈ 40% of the tolerance); all others are below 0.05·width.
private func ciTolerance(lower: Double, upper: Double, range: Double) -> Double {
    0.15 * (upper - lower) + 0.03 * range
}

@Suite("rliable reference", .timeLimit(.minutes(3)))
struct RliableReferenceTests {
    @Test(.requiresPython("rliable, scipy, numpy, arch", install: "rliable==1.2.0 'pandas<3'"))
    func pointEstimatesAndIntervalsMatchRliable() throws {
        let python = try #require(Reference.python("rliable, scipy, numpy, arch"))
        let reference = try runReference(python)
        let bootstrap = StratifiedBootstrap(reps: reps, seed: seed)
        var maxPoint = 0.0, maxCI = 0.0, maxCIRelative = 0.0
        func point(_ a: Double, _ b: Double, _ what: String) {
            maxPoint = max(maxPoint, abs(a - b))
            expectClose(a, b, atol: 1e-9, what)
        }
        func interval(_ ours: IntervalEstimate, _ lower: Double, _ upper: Double, range: Double, _ what: String) {
            let tol = ciTolerance(lower: lower, upper: upper, range: range)
            for (a, b, end) in [(ours.lower, lower, "lower"), (ours.upper, upper, "upper")] {
                maxCI = max(maxCI, abs(a - b))
                maxCIRelative = max(maxCIRelative, abs(a - b) / tol)
                expectClose(a, b, atol: tol, "\(what) CI \(end)")
            }
        }

        for c in cases {
            let ref = try #require(reference["cases"]?[c.name], "reference has no case \(c.name)")
            for name in c.estimate {
                let scores = ScoreMatrix(c.algorithms[name] ?? [:])
                let all = scores.allScores
                let range = (all.max() ?? 0) - (all.min() ?? 0)
                let r = try #require(ref["algorithms"]?[name])
                #expect(r["rectangular"]?.bool == scores.isRectangular)
                let ours = Aggregates.intervals(scores, metrics: AggregateMetric.all, bootstrap: bootstrap)
                for (metric, est) in zip(AggregateMetric.all, ours) {
                    let what = "\(c.name)/\(name)/\(metric.name)"
                    point(est.estimate, try #require(r["point"]?[metric.name]?.double), what)
                    let ci = try #require(r["ci"]?[metric.name]?.doubles)
                    interval(est, ci[0], ci[1], range: range, what)
                }
                for kind in PerformanceProfile.Kind.allCases {
                    let p = try #require(r["profiles"]?[kind.rawValue])
                    let ours = PerformanceProfile.intervals(scores, taus: taus, kind: kind, bootstrap: bootstrap)
                    let (pt, lo, hi) = try (#require(p["point"]?.doubles), #require(p["lower"]?.doubles), #require(p["upper"]?.doubles))
                    for (k, tau) in taus.enumerated() {
                        let what = "\(c.name)/\(name)/profile \(kind.rawValue) τ=\(tau)"
                        point(ours[k].estimate, pt[k], what)
                        interval(ours[k], lo[k], hi[k], range: 1, what)
                    }
                }
            }
            for (k, (x, y)) in c.poi.enumerated() {
                let r = try #require(ref["poi"]?[k])
                let mx = ScoreMatrix(c.algorithms[x] ?? [:]), my = ScoreMatrix(c.algorithms[y] ?? [:])
                let ours = ProbabilityOfImprovement.interval(mx, over: my, bootstrap: bootstrap)
                let what = "\(c.name)/P(\(x) > \(y))"
                point(ours.estimate, try #require(r["estimate"]?.double), what)
                let ci = try #require(r["ci"]?.doubles)
                interval(ours, ci[0], ci[1], range: 1, what)
            }
            for (name, curve) in c.curves {
                let r = try #require(ref["curves"]?[name])
                let sc = ScoreCurves(steps: curve.steps, scores: curve.scores)
                let all = curve.scores.values.flatMap { $0.flatMap { $0 } }
                let range = (all.max() ?? 0) - (all.min() ?? 0)
                let ours = SampleEfficiency.curve(sc, bootstrap: bootstrap)
                let (pt, lo, hi) = try (#require(r["point"]?.doubles), #require(r["lower"]?.doubles), #require(r["upper"]?.doubles))
                for s in curve.steps.indices {
                    let what = "\(c.name)/\(name)/IQM at step \(curve.steps[s])"
                    point(ours[s].estimate, pt[s], what)
                    interval(ours[s], lo[s], hi[s], range: range, what)
                }
            }
        }
        // Helpers against SciPy / NumPy / exact arithmetic.
        for (x, v) in zip(trimMeanSamples, try #require(reference["trim_mean"]?.doubles)) {
            point(Quantiles.trimMean(x, proportionToCut: 0.25), v, "trim_mean n=\(x.count)")
        }
        for (x, v) in zip(trimMeanSamples, try #require(reference["median"]?.doubles)) {
            point(Quantiles.median(x), v, "median n=\(x.count)")
        }
        for (q, v) in zip(tQuantiles, try #require(reference["t_quantiles"]?.doubles)) {
            expectClose(StudentT.quantile(q.0, df: q.1), v, atol: 0, rtol: 1e-10, "t.ppf\(q)")
        }
        for (q, v) in zip(passAtK, try #require(reference["pass_at_k"]?.doubles)) {
            point(PassAtK.estimate(n: q.0, correct: q.1, k: q.2), v, "pass@k \(q)")
        }
        print("rliable reference (\(reference["versions"]?.description ?? "?")): max |point diff| \(maxPoint), "
            + "max |CI endpoint diff| \(maxCI) (\(Int((100 * maxCIRelative).rounded()))% of its tolerance)")
    }

    private let trimMeanSamples: [[Double]] = (1...13).map { n in scores(n, stream: UInt64(500 + n)) } + [
        [1, 1, 1, 2, 2, 2, 3], [0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5],
    ]
    private let tQuantiles: [(Double, Double)] = [(0.975, 1), (0.975, 3), (0.975, 17), (0.9, 2.5), (0.995, 60), (0.6, 1000)]
    private let passAtK: [(Int, Int, Int)] = [(10, 3, 1), (10, 3, 5), (10, 3, 8), (64, 7, 16), (200, 20, 50), (5, 0, 2), (5, 5, 5)]

    /// Runs the reference script on the fixtures.
    private func runReference(_ python: String) throws -> JSON {
        func matrixJSON(_ m: [String: [Double]]) -> Any { m }
        let spec: [String: Any] = [
            "seed": Int(seed), "reps": reps, "gamma": 1.0, "taus": taus,
            "cases": cases.map { c -> [String: Any] in
                [
                    "name": c.name, "algorithms": c.algorithms, "estimate": c.estimate,
                    "poi": c.poi.map { [$0.0, $0.1] },
                    "curves": c.curves.mapValues { ["steps": $0.steps, "scores": $0.scores] as [String: Any] },
                ]
            },
            "trim_mean": trimMeanSamples, "median": trimMeanSamples,
            "t_quantiles": tQuantiles.map { [$0.0, $0.1] }, "pass_at_k": passAtK.map { [$0.0, $0.1, $0.2] },
        ]
        let input = try JSONSerialization.data(withJSONObject: spec)
        let script = SourceTree.root.appendingPathComponent("Tests/reference/rliable_reference.py").path
        let (status, out, err) = try runProcess(python, ["python3", script], input: input)
        try #require(status == 0, "rliable_reference.py failed: \(err)")
        return try JSON(parsing: Data(out.utf8))
    }
}

/// Just enough JSON to read the reference's answer.
private struct JSON: CustomStringConvertible {
    let value: Any
    init(_ value: Any) { self.value = value }
    init(parsing data: Data) throws { value = try JSONSerialization.jsonObject(with: data) }
    subscript(key: String) -> JSON? { (value as? [String: Any])?[key].map(JSON.init) }
    subscript(index: Int) -> JSON? {
        guard let a = value as? [Any], a.indices.contains(index) else { return nil }
        return JSON(a[index])
    }
    var double: Double? { (value as? NSNumber)?.doubleValue }
    var bool: Bool? { value as? Bool }
    var doubles: [Double]? { (value as? [Any])?.compactMap { ($0 as? NSNumber)?.doubleValue } }
    var description: String {
        guard let d = value as? [String: Any] else { return "\(value)" }
        return d.keys.sorted().map { "\($0) \(d[$0] ?? "")" }.joined(separator: ", ")
    }
}
