// rlhub check — is a run inside the band of reference seeds? A regression test for anyone's CI:
// re-run a published cell (or change the code, or the machine) and compare its held-out score
// curve with the published seeds'.
//
//   band at step s   = the report's learning-curve band of the reference runs (CurveGrouping,
//                      intersection of their evaluated steps): x̄_s ± t_{0.975, n−1} · sd_s / √n
//   inside at step s ⇔ low_s ≤ score_s ≤ high_s   (to 1e-9, so that n equal scores give a band
//                      that holds that score)
//   percentile       = 100 · (#{ref final < final} + ½ · #{ref final = final}) / n
//   verdict          = inside ⇔ inside at the last step both have, and outside at no more than
//                      ⌊m/4⌋ of the m compared steps. (With 3 seeds a new, independent seed falls
//                      outside the 95% band of their mean at a step with probability ≈ 0.17 — the
//                      predictive t with 2 degrees of freedom — so a lone excursion is tolerated;
//                      a re-run with the same code, seed and threads is bit-identical: inside.)
import Foundation
import RLHubCore
import Store

/// The verdict of a run against the seeds of a reference cell.
public struct RunCheck: Sendable, Encodable {
    /// One evaluated step of the run against the band.
    public struct StepVerdict: Sendable, Encodable, Equatable {
        public var step: Int
        public var score: Double
        public var mean: Double
        public var low: Double
        public var high: Double
        public var inside: Bool
    }

    public var run: String
    /// The reference as resolved: `RELEASE_OR_EXPERIMENT/ALGO/TASK`.
    public var reference: String
    public var referenceRuns: [String]
    /// The held-out score compared (`test accuracy`).
    public var split: String
    public var metric: String
    public var steps: [StepVerdict]
    /// The run's score at its last compared step, and its percentile among the reference seeds'
    /// scores at that step.
    public var finalStep: Int
    public var finalScore: Double
    public var finalPercentile: Double
    public var inside: Bool

    /// Looks the reference up and compares.
    ///
    /// `reference` is `NAME` or `NAME/ALGO/TASK`: NAME a release (else an experiment) of
    /// `referenceStore`; the reference runs are its finished runs whose cell is `ALGO/TASK/seedN`
    /// (the run's own cell without its seed when only NAME is given), the run itself excluded.
    ///
    /// The verdict is inside when the last compared step is inside and at most a quarter of the
    /// compared steps (rounded down) are outside.
    ///
    /// - Throws: ``InputError`` (exit 2) for an unknown reference, no reference run, or no
    ///   evaluated step in common.
    public static func check(
        run id: String, in store: RunStore, against reference: String, referenceStore: RunStore,
        split: String = "test", metric: String = "accuracy"
    ) throws -> RunCheck {
        let run = try store.run(id)
        let (label, refs) = try referenceRuns(reference, for: run, in: referenceStore)
        func curve(_ scores: [ScoreRecord], group: String) -> LearningCurve? {
            var byStep: [Int: Double] = [:]
            for s in scores where s.split == split && s.metric == metric { byStep[s.step] = s.value }
            guard !byStep.isEmpty else { return nil }
            let steps = byStep.keys.sorted()
            return LearningCurve(group: group, steps: steps, values: steps.map { byStep[$0]! })
        }
        let refCurves = try refs.compactMap { curve(try referenceStore.scores(run: $0.id), group: "reference") }
        guard !refCurves.isEmpty else {
            throw InputError(file: "--against", field: reference, message: "no reference run has \(split) \(metric) scores")
        }
        guard let own = curve(try store.scores(run: run.id), group: "run") else {
            throw InputError(file: "run", field: run.id, message: "has no \(split) \(metric) scores to check")
        }
        guard let band = CurveGrouping(alignment: .intersection).bands(refCurves).first else {
            throw InputError(file: "--against", field: reference, message: "the reference runs share no evaluated step")
        }
        let at = Dictionary(uniqueKeysWithValues: zip(own.steps, own.values))
        var verdicts: [StepVerdict] = []
        for (k, step) in band.steps.enumerated() {
            guard let score = at[step] else { continue }
            let tolerance = 1e-9 * max(1, abs(band.mean[k]))
            verdicts.append(StepVerdict(
                step: step, score: score, mean: band.mean[k], low: band.lower[k], high: band.upper[k],
                inside: score >= band.lower[k] - tolerance && score <= band.upper[k] + tolerance))
        }
        guard let last = verdicts.last else {
            throw InputError(
                file: "--against", field: reference,
                message: "no evaluated step in common (run: \(own.steps.map(String.init).joined(separator: ",")); reference: \(band.steps.map(String.init).joined(separator: ",")))")
        }
        let finals = refCurves.compactMap { c in c.steps.firstIndex(of: last.step).map { c.values[$0] } }
        let below = finals.filter { $0 < last.score }.count, equal = finals.filter { $0 == last.score }.count
        let percentile = 100 * (Double(below) + 0.5 * Double(equal)) / Double(max(1, finals.count))
        let outside = verdicts.filter { !$0.inside }.count
        return RunCheck(
            run: run.id, reference: label, referenceRuns: refs.map(\.id), split: split, metric: metric, steps: verdicts,
            finalStep: last.step, finalScore: last.score, finalPercentile: percentile,
            inside: last.inside && outside <= verdicts.count / 4)
    }

    /// The reference runs `reference` names, and its resolved label.
    static func referenceRuns(_ reference: String, for run: RunRecord, in store: RunStore) throws -> (String, [RunRecord]) {
        let parts = reference.split(separator: "/", maxSplits: 1).map(String.init)
        guard let name = parts.first, !name.isEmpty else {
            throw InputError(file: "--against", message: "expected RELEASE or EXPERIMENT, optionally /ALGO/TASK")
        }
        let group: String
        if parts.count == 2 {
            group = parts[1]
        } else if let cell = run.cell, let cut = cell.range(of: "/seed", options: .backwards) {
            group = String(cell[..<cut.lowerBound])
        } else {
            throw InputError(file: "--against", field: reference, message: "run \(run.id) has no grid cell: name the cell as \(name)/ALGO/TASK")
        }
        var candidates: [RunRecord]
        if let release = try? store.release(name) {
            candidates = try release.runs.map { try store.run($0) }
        } else {
            let experiments = try store.runs(try RunQuery(where: "experiment = '\(name.replacingOccurrences(of: "'", with: "''"))'", sort: nil, limit: nil))
            guard !experiments.isEmpty else {
                let releases = try store.releases().map(\.name)
                throw InputError(
                    file: "--against", field: name,
                    message: "no release or experiment of that name in the store (releases: \(releases.isEmpty ? "none" : releases.joined(separator: ", ")))")
            }
            candidates = experiments
        }
        let refs = candidates.filter { r in
            guard r.status == .finished, r.id != run.id, let cell = r.cell, cell.hasPrefix(group + "/seed") else { return false }
            return Int(cell.dropFirst(group.count + 5)) != nil
        }
        guard !refs.isEmpty else {
            let cells = Set(candidates.compactMap { r -> String? in
                guard let cell = r.cell, let cut = cell.range(of: "/seed", options: .backwards) else { return nil }
                return String(cell[..<cut.lowerBound])
            })
            throw InputError(
                file: "--against", field: reference,
                message: "no finished run of cell \(group)/seedN in \(name) (cells: \(cells.sorted().joined(separator: ", ")))")
        }
        return (name + "/" + group, refs)
    }

    // MARK: - Output

    /// One line per compared step, then the verdict.
    public func text() -> String {
        var lines = ["check \(run) against \(reference) (\(referenceRuns.count) seeds) · \(split) \(metric), band: mean ± t·sd/√n (95%)"]
        lines.append("  step     score      band [low, high]        mean")
        for v in steps {
            lines.append(String(format: "  %4d  %8.4f   [%8.4f, %8.4f]  %8.4f  ", v.step, v.score, v.low, v.high, v.mean) + (v.inside ? "inside" : "OUTSIDE"))
        }
        let outside = steps.filter { !$0.inside }.count
        lines.append(String(format: "final step %d: score %.4f, percentile %.0f among the reference seeds; %d of %d steps outside",
                            finalStep, finalScore, finalPercentile, outside, steps.count))
        lines.append(inside ? "verdict: inside the reference band" : "verdict: OUTSIDE the reference band")
        return lines.joined(separator: "\n")
    }

    /// The chart: the reference band (mean and 95% interval) and the run's scores.
    public func svg() -> String {
        let refLabel = "reference (\(referenceRuns.count) seeds)", runLabel = "run \(run)"
        let panel = LearningCurvePanel(
            task: "\(reference) · \(split) \(metric)", xLabel: "step", yLabel: metric,
            series: [
                CurveSeries(label: refLabel, points: steps.map { CurvePoint(x: Double($0.step), mean: $0.mean, low: $0.low, high: $0.high) }),
                CurveSeries(label: runLabel, points: steps.map { CurvePoint(x: Double($0.step), mean: $0.score) }),
            ])
        return ReportCharts.learningCurves(panel, palette: Palette([refLabel, runLabel]), width: 640)
    }

    /// A standalone page (no script): verdict, chart, table.
    public func html() -> String {
        let rows = steps.map { v in
            "<tr><td>\(v.step)</td><td>\(String(format: "%.4f", v.score))</td><td>[\(String(format: "%.4f", v.low)), \(String(format: "%.4f", v.high))]</td><td>\(String(format: "%.4f", v.mean))</td><td>\(v.inside ? "inside" : "<b>outside</b>")</td></tr>"
        }.joined(separator: "\n")
        return """
            <!DOCTYPE html>
            <html lang="en"><head><meta charset="utf-8"><title>rlhub check \(xmlEscape(run))</title>
            <style>body{font:14px/1.45 system-ui,sans-serif;margin:24px;color:#1f2328}td,th{padding:3px 10px;border-bottom:1px solid #d8dee4;text-align:right}.pass{color:#1a7f37}.fail{color:#cf222e}</style>
            </head><body>
            <h1>Run <code>\(xmlEscape(run))</code> against <code>\(xmlEscape(reference))</code></h1>
            <p class="\(inside ? "pass" : "fail")"><b>\(inside ? "Inside" : "Outside") the reference band</b> · final step \(finalStep): \(split) \(xmlEscape(metric)) \(String(format: "%.4f", finalScore)), percentile \(String(format: "%.0f", finalPercentile)) among \(referenceRuns.count) reference seeds (\(xmlEscape(referenceRuns.joined(separator: ", "))))</p>
            <figure>\(svg())</figure>
            <table><thead><tr><th>step</th><th>score</th><th>band (95%)</th><th>mean</th><th></th></tr></thead><tbody>
            \(rows)
            </tbody></table>
            </body></html>

            """
    }
}
