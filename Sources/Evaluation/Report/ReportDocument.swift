// rlhub — a report laid out once: which sections have content, their charts and file names, and
// the explanatory captions. `index.html` and `README.md` are two renderings of this one layout,
// so they always show the same sections with the same numbers.

/// A chart and the file it is written to under `charts/`.
struct ReportChart {
    /// File name under `charts/`, e.g. "learning-curve-add.svg".
    let file: String
    /// Alt text / figure caption.
    let caption: String
    /// The standalone `<svg>` element.
    let svg: String
}

/// The sections of a report with their charts; empty sections carry a one-line note instead.
struct ReportDocument {
    let data: ReportData
    let palette: Palette
    /// Nil when the section is empty (then ``Notes`` says so).
    let aggregateChart: ReportChart?
    /// One chart per panel with points; panels without any point become notes.
    let curveCharts: [(panel: LearningCurvePanel, chart: ReportChart?)]
    /// Per training metric, one chart per panel with points (panels without any become notes).
    let metricCharts: [(section: MetricSection, charts: [(panel: LearningCurvePanel, chart: ReportChart?)])]
    let profileChart: ReportChart?
    let improvementChart: ReportChart?

    /// Every chart in page order.
    var charts: [ReportChart] {
        [aggregateChart].compactMap { $0 } + curveCharts.compactMap(\.chart)
            + metricCharts.flatMap { $0.charts.compactMap(\.chart) }
            + [profileChart, improvementChart].compactMap { $0 }
    }

    init(_ data: ReportData) {
        self.data = data
        let palette = Palette(for: data)
        self.palette = palette

        let metrics = data.aggregates.filter { !$0.estimates.isEmpty }
        aggregateChart = metrics.isEmpty ? nil : ReportChart(
            file: "aggregate-intervals.svg",
            caption: "Aggregate metrics with confidence intervals",
            svg: ReportCharts.aggregateIntervals(metrics, xLabel: data.scoreName, palette: palette))

        var used: Set<String> = []
        curveCharts = data.learningCurves.map { panel in
            guard Self.hasPoint(panel) else { return (panel, nil) }
            let file = Self.uniqueName("learning-curve-" + Self.slug(panel.task), used: &used)
            return (panel, ReportChart(
                file: file, caption: "Learning curves: \(panel.task)",
                svg: ReportCharts.learningCurves(panel, palette: palette)))
        }
        metricCharts = data.metrics.map { section in
            (section, section.curves.map { panel in
                guard Self.hasPoint(panel) else { return (panel, nil) }
                let file = Self.uniqueName(
                    "metric-" + Self.slug(section.metric) + "-" + Self.slug(panel.task), used: &used)
                return (panel, ReportChart(
                    file: file, caption: "\(section.metric) over training: \(panel.task)",
                    svg: ReportCharts.trainingMetric(panel, palette: palette)))
            })
        }

        if let profile = data.performanceProfile, !profile.taus.isEmpty,
           !profile.curves.isEmpty {
            profileChart = ReportChart(
                file: "performance-profile.svg", caption: "Performance profile",
                svg: ReportCharts.performanceProfile(profile, palette: palette))
        } else {
            profileChart = nil
        }
        if let matrix = data.improvement, !matrix.algorithms.isEmpty {
            improvementChart = ReportChart(
                file: "probability-of-improvement.svg", caption: "Probability of improvement",
                svg: ReportCharts.improvementMatrix(matrix))
        } else {
            improvementChart = nil
        }
    }

    /// Algorithms in colour order, restricted to those that appear somewhere in the report.
    var algorithms: [String] { palette.names }

    /// Runs per status, in order of first appearance ("12 finished, 1 failed").
    var statusSummary: String {
        var order: [String] = []
        var counts: [String: Int] = [:]
        for row in data.provenance {
            if counts[row.status] == nil { order.append(row.status) }
            counts[row.status, default: 0] += 1
        }
        return order.map { "\(counts[$0] ?? 0) \($0)" }.joined(separator: ", ")
    }

    /// Rows of the aggregate table: algorithms in order of first appearance across metrics.
    var aggregateRows: [String] {
        var rows: [String] = []
        for metric in data.aggregates {
            for e in metric.estimates where !rows.contains(e.algorithm) { rows.append(e.algorithm) }
        }
        return rows
    }

    /// The report's algorithms with no row in `section` (they logged the metric on no task, e.g.
    /// RLOO's `entropy` when every row of every update was inert).
    func algorithmsWithout(_ section: MetricSection) -> [String] {
        data.algorithms.filter { a in !section.rows.contains { $0.algorithm == a } }
    }

    /// Whether some series of `panel` has a drawable point.
    static func hasPoint(_ panel: LearningCurvePanel) -> Bool {
        panel.series.contains { s in s.points.contains { $0.x.isFinite && $0.mean.isFinite } }
    }

    /// "config hash" shortened for tables.
    static func shortHash(_ hash: String) -> String { String(hash.prefix(12)) }

    /// A file-name-safe slug: lowercase ASCII letters, digits and single dashes.
    static func slug(_ text: String) -> String {
        var out = ""
        for scalar in text.lowercased().unicodeScalars {
            if ("a"..."z").contains(scalar) || ("0"..."9").contains(scalar) {
                out.unicodeScalars.append(scalar)
            } else if !out.isEmpty && !out.hasSuffix("-") {
                out += "-"
            }
        }
        while out.hasSuffix("-") { out.removeLast() }
        return out.isEmpty ? "task" : String(out.prefix(60))
    }

    private static func uniqueName(_ stem: String, used: inout Set<String>) -> String {
        var name = stem + ".svg", k = 2
        while used.contains(name) {
            name = "\(stem)-\(k).svg"
            k += 1
        }
        used.insert(name)
        return name
    }
}

/// The explanatory text of each section, shared by the HTML and Markdown renderings.
public enum Notes {
    public static let aggregates = "Bars span the confidence interval and the dark tick marks the point "
        + "estimate. IQM is the mean of the middle 50% of runs (robust to outliers); the "
        + "optimality gap is how far runs fall short of the target score (lower is better)."
    public static let curves = "Mean over runs at each step; the shaded band is the confidence interval."
    public static let profile = "For each threshold τ, the fraction of runs whose score exceeds τ. A curve "
        + "that lies above another everywhere dominates it stochastically."
    public static let improvement = "Each cell is the probability that a run of the row algorithm X "
        + "scores higher than a run of the column algorithm Y, with its interval underneath. "
        + "0.5 means no difference."
    public static let finalScores = "Final score per algorithm and task: mean over n runs with its "
        + "confidence interval."
    public static let provenance = "Every run the report is computed from, with the hash of its resolved "
        + "config (first 12 characters), the code version that ran it and its compute (CPU seconds of "
        + "its worker, tokens generated in its rollouts, tokens trained; – where not recorded)."
    public static let gains = "Gain over the warm start per algorithm and task, paired by seed: each run's "
        + "final test accuracy minus its own step-0 test accuracy (the warm start, on the same held-out "
        + "problems), mean over n seeds with its Student-t 95% interval. \"yes\": the interval excludes 0."
    public static let compute = "Compute per run (mean over n runs): CPU seconds of the worker (user + system, "
        + "all threads, evaluations included), tokens the policy generated in its training rollouts, and "
        + "loss tokens of its updates (× PPO epochs); gain per CPU minute = mean gain / mean CPU minutes."
    public static let metrics = "Training metrics named in the spec's report: metrics (docs/metrics.md), over "
        + "the compared runs' training steps. Charts: per task, the mean over an algorithm's runs at each step "
        + "they all logged, with its Student-t 95% band (not clipped: these metrics are unbounded). Table: each "
        + "run's mean over its steps with a finite value, then the mean over n runs with its Student-t 95% "
        + "interval. Steps without a finite value are left out."
    public static func noMetric(_ metric: String) -> String { "No run recorded \(metric)." }
    public static func notRecorded(by algorithms: [String]) -> String {
        "Not recorded by \(algorithms.joined(separator: ", "))."
    }
    public static let noGains = "No run has a step-0 score to pair its final score with."
    public static let noCompute = "No compute recorded for these runs."

    public static let noAggregates = "No aggregate metrics in this selection."
    public static let noCurves = "No learning curves in this selection."
    public static let noPoints = "No points recorded for this task."
    public static let noProfile = "No performance profile in this selection."
    public static let noImprovement = "No probability-of-improvement matrix in this selection."
    public static let noFinalScores = "No final scores in this selection."
    public static let noProvenance = "No runs in this selection."
}
