// rlhub — the report's training metrics (`StoreReport.Options.metrics`): per-step curves and run
// means from a store filled through the RunStore API, checked against means and Student-t
// intervals computed here by hand; NaN and missing steps left out, a metric no run logged a
// one-line note, and a report without metrics rendering as it did before the section existed.
import Foundation
import TestSupport
import Testing

import Evaluation
import Store

@Suite struct StoreReportMetricsTests {
    /// t₀.₉₇₅ with 2 and 1 degrees of freedom (tables; e.g. R `qt(0.975, 2)`).
    static let t2 = 4.302652729749464, t1 = 12.706204736174705

    /// Mean and Student-t 95% half-width, written out: x̄, t · s/√n with s the sample sd.
    static func meanAndHalfWidth(_ x: [Double], t: Double) -> (mean: Double, half: Double) {
        let n = Double(x.count)
        let mean = x.reduce(0, +) / n
        let s = (x.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / (n - 1)).squareRoot()
        return (mean, t * s / n.squareRoot())
    }

    /// `loss/policy` of grpo seed s at step k = 2s − 1.5 + 0.1k (−1.4 … 2.9: outside [0, 1]).
    static func grpoLoss(_ s: Int, _ k: Int) -> Double { 2 * Double(s) - 1.5 + 0.1 * Double(k) }
    /// `entropy` of grpo seed s at step k = 1 + 0.1s + 0.01k; seed 2 logs NaN at step 3.
    static func grpoEntropy(_ s: Int, _ k: Int) -> Double { s == 2 && k == 3 ? .nan : 1 + 0.1 * Double(s) + 0.01 * Double(k) }

    /// grpo × 3 seeds and rloo × 2 seeds on `add`, 4 training steps. grpo logs `loss/policy`,
    /// `entropy` (one NaN) and `tis/clip_frac`; rloo logs `loss/policy` and `entropy`, its seed 1
    /// only at steps 1 and 2.
    static func makeStore(_ dir: String) throws -> (store: RunStore, ids: [String: String]) {
        let store = try RunStore(directory: dir)
        try store.upsertExperiment(name: "exp", specText: "name: exp", specHash: "h")
        var ids: [String: String] = [:]
        for (algo, seeds) in [("grpo", 3), ("rloo", 2)] {
            for s in 0..<seeds {
                let id = try StoreReportTests.addRun(
                    store, StoreReportTests.newRun("exp", cell: "\(algo)/add/seed\(s)", algo: algo, task: "add", seed: s),
                    final: 0.5, steps: 4)
                ids["\(algo)\(s)"] = id
                var records: [(step: Int, metrics: [String: Double])] = []
                for k in 1...4 {
                    var m: [String: Double] = [:]
                    if algo == "grpo" {
                        m = ["loss/policy": grpoLoss(s, k), "entropy": grpoEntropy(s, k), "tis/clip_frac": 0.05 * Double(k)]
                    } else {
                        m["loss/policy"] = 0.5 * Double(s) + 0.1 * Double(k)
                        if s == 0 || k <= 2 { m["entropy"] = 2 + Double(s) + 0.1 * Double(k) }
                    }
                    records.append((k, m))
                }
                try store.appendMetrics(run: id, records: records)
            }
        }
        return (store, ids)
    }

    static let metrics = ["loss/policy", "entropy", "tis/clip_frac", "never/logged"]
    static let options = StoreReport.Options(bootstrapReps: 200, metrics: metrics)

    @Test func curvesAndRunMeansMatchHandComputedIntervals() throws {
        let dir = try TemporaryFolder()
        let (store, _) = try Self.makeStore(dir.path("store"))
        let data = try StoreReport.build(store: store, experiment: "exp", options: Self.options)
        #expect(data.metrics.map(\.metric) == Self.metrics)

        // loss/policy: one panel (add), both algorithms, every training step; not clipped.
        let loss = data.metrics[0]
        #expect(loss.curves.map(\.task) == ["add"] && loss.curves[0].yLabel == "loss/policy")
        #expect(loss.curves[0].series.map(\.label) == ["grpo", "rloo"])
        let grpoCurve = loss.curves[0].series[0]
        #expect(grpoCurve.points.map(\.x) == [1, 2, 3, 4])
        let atStep1 = Self.meanAndHalfWidth((0..<3).map { Self.grpoLoss($0, 1) }, t: Self.t2)
        expectClose(grpoCurve.points[0].mean, atStep1.mean, atol: 1e-12, "grpo loss at step 1")
        expectClose(grpoCurve.points[0].low, atStep1.mean - atStep1.half, atol: 1e-9, "band low")
        expectClose(grpoCurve.points[0].high, atStep1.mean + atStep1.half, atol: 1e-9, "band high")
        #expect(grpoCurve.points[0].low < 0 && grpoCurve.points[0].high > 1, "the band is not clipped to [0, 1]")

        // Run means: grpo {−1.25, 0.75, 2.75}; rloo {0.25, 0.75}.
        #expect(loss.rows.map(\.algorithm) == ["grpo", "rloo"] && loss.rows.map(\.runs) == [3, 2])
        let grpoMeans = (0..<3).map { s in (1...4).map { Self.grpoLoss(s, $0) }.reduce(0, +) / 4 }
        let g = Self.meanAndHalfWidth(grpoMeans, t: Self.t2)
        expectClose(loss.rows[0].mean, 0.75, atol: 1e-12, "grpo run-mean mean")
        expectClose(loss.rows[0].low, g.mean - g.half, atol: 1e-9, "grpo low")
        expectClose(loss.rows[0].high, g.mean + g.half, atol: 1e-9, "grpo high")
        let r = Self.meanAndHalfWidth([0.25, 0.75], t: Self.t1)
        expectClose(loss.rows[1].mean, 0.5, atol: 1e-12, "rloo mean")
        expectClose(loss.rows[1].high - loss.rows[1].mean, r.half, atol: 1e-9, "rloo half-width")
        expectClose(r.half, 3.1765511840436763, atol: 1e-9, "t₁ · 0.35355/√2")

        // entropy: grpo's NaN at step 3 drops the step from its curve and from that run's mean;
        // rloo's curve has the steps both its runs logged.
        let entropy = data.metrics[1]
        #expect(entropy.curves[0].series.map { $0.points.map(\.x) } == [[1, 2, 4], [1, 2]])
        let seed2 = [1, 2, 4].map { Self.grpoEntropy(2, $0) }.reduce(0, +) / 3
        let entropyMeans = [1.025, 1.125, seed2]
        let e = Self.meanAndHalfWidth(entropyMeans, t: Self.t2)
        expectClose(entropy.rows[0].mean, e.mean, atol: 1e-12, "grpo entropy")
        expectClose(entropy.rows[0].low, e.mean - e.half, atol: 1e-9, "grpo entropy low")
        #expect(entropy.rows[0].mean.isFinite && entropy.rows[0].high.isFinite)
        // rloo: seed 0 over 4 steps (2.25), seed 1 over 2 steps (3.15).
        expectClose(entropy.rows[1].mean, (2.25 + 3.15) / 2, atol: 1e-12, "rloo entropy")

        // tis/clip_frac: only grpo logged it, so only grpo has a series and a row.
        let clip = data.metrics[2]
        #expect(clip.rows.map(\.algorithm) == ["grpo"] && clip.curves[0].series.map(\.label) == ["grpo"])
        expectClose(clip.rows[0].mean, 0.125, atol: 1e-12, "clip frac")
        expectClose(clip.rows[0].low, 0.125, atol: 1e-12, "three equal run means: zero width")

        // A metric no run logged is an empty section, not a failure.
        #expect(data.metrics[3].isEmpty)

        // data.csv: one run mean per run and metric it logged (5 + 5 + 3).
        let runMeans = data.data.rows.filter { if case .text(let m) = $0[5] { m.hasPrefix("run_mean/") } else { false } }
        #expect(runMeans.count == 13)
        let seed2Loss = try #require(runMeans.first { $0[5] == .text("run_mean/loss/policy") && $0[3] == .integer(2) })
        guard case .number(let value) = seed2Loss[6] else { Issue.record("not a number: \(seed2Loss)"); return }
        expectClose(value, grpoMeans[2], atol: 1e-12, "grpo seed 2 loss run mean in data.csv")
    }

    @Test func theSectionRendersChartsTablesAndNotes() throws {
        let dir = try TemporaryFolder()
        let (store, _) = try Self.makeStore(dir.path("store"))
        let files = ReportWriter.render(try StoreReport.build(store: store, experiment: "exp", options: Self.options))
        let byPath = Dictionary(uniqueKeysWithValues: files.map { ($0.path, $0.contents) })
        let md = try #require(byPath["README.md"]), html = try #require(byPath["index.html"])
        for chart in ["metric-loss-policy-add", "metric-entropy-add", "metric-tis-clip-frac-add"] {
            let svg = try #require(byPath["charts/\(chart).svg"], "\(chart) missing")
            #expect(parseXML(svg).error == nil, "\(chart)")
            #expect(md.contains("(charts/\(chart).svg)"))
        }
        #expect(!files.contains { $0.path.contains("never") }, "no chart for a metric no run logged")
        // Markdown: the section after the learning curves, a table per metric, the note.
        let curves = try #require(md.range(of: "## Learning curves")), section = try #require(md.range(of: "## Training metrics"))
        let profile = try #require(md.range(of: "## Performance profile"))
        #expect(curves.upperBound < section.lowerBound && section.upperBound < profile.lowerBound)
        #expect(md.contains("### loss/policy\n"))
        #expect(md.contains("| grpo | add | 3 | 0.750 | -4.218 | 5.718 |"), "\(md)")
        #expect(md.contains("| rloo | add | 2 | 0.500 | -2.677 | 3.677 |"))
        #expect(md.contains("### never/logged\n\n_No run recorded never/logged._"))
        #expect(md.contains("### tis/clip\\_frac\n"))
        #expect(md.contains("| grpo | add | 3 | 0.1250 | 0.1250 | 0.1250 |\n\n_Not recorded by rloo._\n\n### never"), "\(md)")
        #expect(md.components(separatedBy: "Not recorded by").count == 2, "only tis/clip_frac misses an algorithm")
        // HTML: linked from the navigation, one inline chart per logged metric, the same note.
        #expect(html.contains("<a href=\"#training-metrics\">Training metrics</a>"))
        #expect(html.contains("<section id=\"training-metrics\">"))
        #expect(html.contains("<h3>never/logged</h3>\n<p class=\"note\">No run recorded never/logged.</p>"))
        #expect(html.contains("</table></div>\n<p class=\"note\">Not recorded by rloo.</p>\n<h3>never/logged</h3>"))
        #expect(svgElements(in: html).count == byPath.keys.filter { $0.hasSuffix(".svg") }.count)
        for svg in svgElements(in: html) { #expect(parseXML(svg).error == nil) }
    }

    /// Without metrics the report is what it was: the same data as with them, minus the section
    /// and its data rows, renders to the same bytes, and nothing mentions training metrics.
    @Test func noMetricsRendersAsBefore() throws {
        let dir = try TemporaryFolder()
        let (store, _) = try Self.makeStore(dir.path("store"))
        let plain = try StoreReport.build(store: store, experiment: "exp", options: StoreReport.Options(bootstrapReps: 200))
        #expect(plain.metrics.isEmpty)
        var stripped = try StoreReport.build(store: store, experiment: "exp", options: Self.options)
        #expect(stripped.metrics.count == Self.metrics.count)
        #expect(ReportWriter.render(stripped) != ReportWriter.render(plain))
        // (ReportData holds NaNs, so compare what it renders to, not the values.)
        stripped.metrics = []
        stripped.data = plain.data
        let files = ReportWriter.render(plain)
        #expect(ReportWriter.render(stripped) == files)
        for file in files {
            #expect(!file.contents.contains("Training metrics") && !file.contents.contains("training-metrics"), "\(file.path)")
        }
    }

    @Test func metricCellsKeepFourSignificantDigits() {
        #expect(ReportFormat.metricCells(0.75, -4.21827, 5.71827) == ["0.750", "-4.218", "5.718"])
        #expect(ReportFormat.metricCells(12.3456, .nan, .nan) == ["12.35", "–", "–"])
        #expect(ReportFormat.metricCells(0.0031234, 0.0029, 0.0033) == ["0.003123", "0.002900", "0.003300"])
        #expect(ReportFormat.metricCells(2.3456e-6, 1e-6, 3.5e-6) == ["2.346e-6", "1.000e-6", "3.500e-6"])
        #expect(ReportFormat.metricCells(0, 0, 0) == ["0.000", "0.000", "0.000"])
        #expect(ReportFormat.metricCells(1234.5, 1200, 1300) == ["1235", "1200", "1300"])
    }
}
