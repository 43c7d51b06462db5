// rlhub — the input of a report: plain values, already computed, in the order to show them.
//
// The renderer knows nothing about the store or the statistics: whoever builds a `ReportData`
// (the `rlhub report` command, a test) has already aggregated runs and bootstrapped intervals.
// Every array is shown in its order; nothing here is sorted or iterated by hash order, so the same
// value always renders to the same bytes.

/// Everything a report shows, in the order to show it.
///
/// ```swift
/// let data = ReportData(
///     title: "Baselines: arithmetic tasks", description: "3 algorithms × 2 tasks × 5 seeds",
///     generatedFrom: "store .rlhub/store.sqlite, release baselines-v1",
///     scoreName: "test accuracy", algorithms: ["grpo", "rloo", "ppo"], tasks: ["add", "mul"])
/// try ReportWriter.write(data, to: "reports/baselines-v1")
/// ```
///
/// Colours follow ``algorithms``: the n-th algorithm gets the n-th palette colour in every chart.
/// Names that appear in a section but not in ``algorithms`` get the next colours, in order of
/// first appearance. A section that is empty is left out of the report with a one-line note.
public struct ReportData: Sendable, Equatable {
    /// The page title (`<h1>`), e.g. "Baselines: arithmetic tasks".
    public var title: String
    /// One paragraph under the title: what was run and why.
    public var description: String
    /// Where the numbers come from: store path, release name or experiment. Never a timestamp, so
    /// that the same store renders to the same bytes.
    public var generatedFrom: String
    /// What the scores are, as an axis label: "test accuracy", "normalized score".
    public var scoreName: String
    /// How the intervals were computed, shown under the charts, e.g. "95% stratified bootstrap
    /// confidence intervals, 2,000 resamples"; empty to say nothing.
    public var intervalMethod: String
    /// Algorithms (or group names) in display order; this order fixes their colours.
    public var algorithms: [String]
    /// Tasks in display order.
    public var tasks: [String]
    /// One learning-curve panel per task.
    public var learningCurves: [LearningCurvePanel]
    /// Aggregate interval estimates, one entry per metric (IQM, median, mean, optimality gap).
    public var aggregates: [AggregatePanel]
    /// The performance profile, or nil to leave the section out.
    public var performanceProfile: ProfileChart?
    /// The probability-of-improvement matrix, or nil to leave the section out.
    public var improvement: ImprovementMatrix?
    /// Final scores per (algorithm, task), with confidence intervals.
    public var finalScores: [FinalScoreRow]
    /// The gain over the warm start per (algorithm, task), paired by seed; empty to leave the
    /// section out.
    public var gains: [GainRow]
    /// Each algorithm's mean gain over the tasks with its interval, for the summary; empty to say
    /// nothing.
    public var gainSummary: [ReportInterval]
    /// Mean compute per run for each (algorithm, task); empty to leave the section out.
    public var compute: [ComputeRow]
    /// Training metrics shown after the learning curves ("Training metrics"), one section per
    /// metric in this order; empty leaves the section out of the page and its navigation.
    public var metrics: [MetricSection]
    /// One row per run: where every number came from.
    public var provenance: [ProvenanceRow]
    /// The long-format table written to `data.csv`.
    public var data: DataTable

    public init(
        title: String, description: String = "", generatedFrom: String, scoreName: String = "score",
        intervalMethod: String = "", algorithms: [String] = [], tasks: [String] = [],
        learningCurves: [LearningCurvePanel] = [], aggregates: [AggregatePanel] = [],
        performanceProfile: ProfileChart? = nil, improvement: ImprovementMatrix? = nil,
        finalScores: [FinalScoreRow] = [], gains: [GainRow] = [], gainSummary: [ReportInterval] = [],
        compute: [ComputeRow] = [], metrics: [MetricSection] = [],
        provenance: [ProvenanceRow] = [], data: DataTable = DataTable(columns: [], rows: [])
    ) {
        self.title = title
        self.description = description
        self.generatedFrom = generatedFrom
        self.scoreName = scoreName
        self.intervalMethod = intervalMethod
        self.algorithms = algorithms
        self.tasks = tasks
        self.learningCurves = learningCurves
        self.aggregates = aggregates
        self.performanceProfile = performanceProfile
        self.improvement = improvement
        self.finalScores = finalScores
        self.gains = gains
        self.gainSummary = gainSummary
        self.compute = compute
        self.metrics = metrics
        self.provenance = provenance
        self.data = data
    }
}

// MARK: - Learning curves

/// The learning curves of one task: one series per algorithm.
public struct LearningCurvePanel: Sendable, Equatable {
    /// The task, shown as the panel title.
    public var task: String
    /// The x-axis label, e.g. "step".
    public var xLabel: String
    /// The y-axis label, e.g. "test accuracy".
    public var yLabel: String
    /// One series per algorithm, in legend order.
    public var series: [CurveSeries]

    public init(task: String, xLabel: String = "step", yLabel: String, series: [CurveSeries]) {
        self.task = task
        self.xLabel = xLabel
        self.yLabel = yLabel
        self.series = series
    }
}

/// One algorithm's curve: the mean over runs with a confidence band.
public struct CurveSeries: Sendable, Equatable {
    /// Algorithm or group name; picks the colour.
    public var label: String
    /// Points in increasing x.
    public var points: [CurvePoint]

    public init(label: String, points: [CurvePoint]) {
        self.label = label
        self.points = points
    }
}

/// A point of a learning curve. A NaN `mean` breaks the line; a NaN `low`/`high` leaves the band
/// out there (the mean is still drawn).
public struct CurvePoint: Sendable, Equatable {
    public var x: Double
    public var mean: Double
    public var low: Double
    public var high: Double

    public init(x: Double, mean: Double, low: Double = .nan, high: Double = .nan) {
        self.x = x
        self.mean = mean
        self.low = low
        self.high = high
    }
}

// MARK: - Training metrics

/// One per-step training metric (`entropy`, `mismatch/k3`, …) over the compared runs.
public struct MetricSection: Sendable, Equatable {
    /// The metric's stored name, e.g. "mismatch/k3"; also the y-axis label of its panels.
    public var metric: String
    /// One panel per task some run logged the metric on: its value over training steps per
    /// algorithm, the mean over runs with a band that is not clipped (the metric is unbounded).
    public var curves: [LearningCurvePanel]
    /// Its run mean per (algorithm, task); empty (with ``curves``) when no run logged the metric.
    public var rows: [MetricRow]

    public init(metric: String, curves: [LearningCurvePanel], rows: [MetricRow]) {
        self.metric = metric
        self.curves = curves
        self.rows = rows
    }

    /// Whether no run logged the metric (the section is then a one-line note).
    public var isEmpty: Bool { rows.isEmpty && curves.isEmpty }
}

/// A training metric of one algorithm on one task: each run's mean over its steps with a finite
/// value x̄ᵣ, then the mean over the `runs` runs and its Student-t 95% interval,
/// x̄ ± t₀.₉₇₅,ₙ₋₁ · sd(x̄ᵣ)/√n.
public struct MetricRow: Sendable, Equatable {
    public var algorithm: String
    public var task: String
    /// Runs that logged the metric.
    public var runs: Int
    public var mean: Double
    /// Interval bounds; NaN when there is none (one run).
    public var low: Double
    public var high: Double

    public init(algorithm: String, task: String, runs: Int, mean: Double, low: Double = .nan, high: Double = .nan) {
        self.algorithm = algorithm
        self.task = task
        self.runs = runs
        self.mean = mean
        self.low = low
        self.high = high
    }
}

// MARK: - Aggregates

/// One aggregate metric (IQM, mean, median, optimality gap) for every algorithm.
public struct AggregatePanel: Sendable, Equatable {
    /// The panel title: "IQM", "Median", "Mean", "Optimality gap".
    public var name: String
    /// One estimate per algorithm, in row order.
    public var estimates: [ReportInterval]

    public init(name: String, estimates: [ReportInterval]) {
        self.name = name
        self.estimates = estimates
    }
}

/// A point estimate with its confidence interval; NaN bounds mean "no interval" (point only).
public struct ReportInterval: Sendable, Equatable {
    public var algorithm: String
    public var point: Double
    public var low: Double
    public var high: Double

    public init(algorithm: String, point: Double, low: Double = .nan, high: Double = .nan) {
        self.algorithm = algorithm
        self.point = point
        self.low = low
        self.high = high
    }
}

// MARK: - Performance profile

/// Score distributions: for each threshold τ, the fraction of runs with score > τ.
public struct ProfileChart: Sendable, Equatable {
    /// The x-axis label, e.g. "normalized score (τ)".
    public var tauLabel: String
    /// The τ grid, increasing.
    public var taus: [Double]
    /// One curve per algorithm; each has one value per τ.
    public var curves: [ProfileCurve]

    public init(tauLabel: String = "threshold τ", taus: [Double], curves: [ProfileCurve]) {
        self.tauLabel = tauLabel
        self.taus = taus
        self.curves = curves
    }
}

/// One algorithm's performance profile; `values[i]` belongs to `taus[i]`.
public struct ProfileCurve: Sendable, Equatable {
    public var algorithm: String
    public var values: [ProfileValue]

    public init(algorithm: String, values: [ProfileValue]) {
        self.algorithm = algorithm
        self.values = values
    }
}

/// The fraction of runs above a threshold with its confidence interval (NaN bounds: no band).
public struct ProfileValue: Sendable, Equatable {
    public var fraction: Double
    public var low: Double
    public var high: Double

    public init(fraction: Double, low: Double = .nan, high: Double = .nan) {
        self.fraction = fraction
        self.low = low
        self.high = high
    }
}

// MARK: - Probability of improvement

/// P(X > Y) for every ordered pair: `cells[i][j]` is the probability that `algorithms[i]`
/// improves on `algorithms[j]`; nil on the diagonal (or wherever it was not computed).
public struct ImprovementMatrix: Sendable, Equatable {
    public var algorithms: [String]
    public var cells: [[ProbabilityCell?]]

    public init(algorithms: [String], cells: [[ProbabilityCell?]]) {
        self.algorithms = algorithms
        self.cells = cells
    }
}

/// A probability with its confidence interval (NaN bounds: no interval).
public struct ProbabilityCell: Sendable, Equatable {
    public var p: Double
    public var low: Double
    public var high: Double

    public init(p: Double, low: Double = .nan, high: Double = .nan) {
        self.p = p
        self.low = low
        self.high = high
    }
}

// MARK: - Tables

/// The final score of one algorithm on one task over `runs` runs.
public struct FinalScoreRow: Sendable, Equatable {
    public var algorithm: String
    public var task: String
    /// Number of runs the mean is over.
    public var runs: Int
    public var mean: Double
    /// Confidence interval bounds; NaN when there is none (e.g. one run).
    public var low: Double
    public var high: Double

    public init(algorithm: String, task: String, runs: Int, mean: Double, low: Double = .nan,
                high: Double = .nan) {
        self.algorithm = algorithm
        self.task = task
        self.runs = runs
        self.mean = mean
        self.low = low
        self.high = high
    }
}

/// How far one algorithm moved one task from its warm start, paired by seed: for each seed s,
/// gᵢ = final(s) − start(s), where start(s) is the run's own held-out score of the warm start
/// (its step-0 evaluation); the interval is the Student-t 95% interval of the gᵢ,
/// ḡ ± t₀.₉₇₅,ₙ₋₁ · sd(g)/√n.
public struct GainRow: Sendable, Equatable {
    public var algorithm: String
    public var task: String
    /// Runs (seeds) with both a warm-start and a final score.
    public var runs: Int
    /// Mean warm-start score over those runs.
    public var start: Double
    /// Mean final score over those runs.
    public var final: Double
    /// Mean paired gain ḡ and its interval (NaN bounds: one run, no interval).
    public var gain: Double
    public var low: Double
    public var high: Double

    public init(algorithm: String, task: String, runs: Int, start: Double, final: Double, gain: Double,
                low: Double = .nan, high: Double = .nan) {
        self.algorithm = algorithm
        self.task = task
        self.runs = runs
        self.start = start
        self.final = final
        self.gain = gain
        self.low = low
        self.high = high
    }

    /// Whether the interval lies entirely above or below 0.
    public var excludesZero: Bool { low.isFinite && high.isFinite && (low > 0 || high < 0) }
}

/// What a run cost, as recorded in the store; NaN where the run did not record it (runs made
/// before `time/cpu_s` existed).
public struct RunCompute: Sendable, Equatable {
    /// CPU seconds of the run's worker (user + system, all threads; Σ `time/cpu_s`).
    public var cpuSeconds: Double
    /// Tokens the policy produced in its training rollouts (Σ over steps of
    /// `rollout/episodes` × `response_length/mean`; for SFT the demonstrations' tokens).
    public var tokensGenerated: Double
    /// Loss tokens of the updates (Σ over steps of `tokens` × `optimizer_steps`).
    public var tokensTrained: Double

    public init(cpuSeconds: Double = .nan, tokensGenerated: Double = .nan, tokensTrained: Double = .nan) {
        self.cpuSeconds = cpuSeconds
        self.tokensGenerated = tokensGenerated
        self.tokensTrained = tokensTrained
    }
}

/// Mean compute per run of one algorithm on one task, and its gain per CPU minute.
public struct ComputeRow: Sendable, Equatable {
    public var algorithm: String
    public var task: String
    public var runs: Int
    /// Means over the runs.
    public var perRun: RunCompute
    /// Mean gain over the warm start divided by the mean CPU minutes of a run (NaN without either).
    public var gainPerCPUMinute: Double

    public init(algorithm: String, task: String, runs: Int, perRun: RunCompute, gainPerCPUMinute: Double = .nan) {
        self.algorithm = algorithm
        self.task = task
        self.runs = runs
        self.perRun = perRun
        self.gainPerCPUMinute = gainPerCPUMinute
    }
}

/// Where one run came from.
public struct ProvenanceRow: Sendable, Equatable {
    public var runID: String
    public var algorithm: String
    public var task: String
    public var seed: Int
    /// "finished", "failed", "running", …
    public var status: String
    /// Training steps done.
    public var steps: Int
    /// The config hash, as stored (the report shows its first 12 characters).
    public var configHash: String
    /// Git revision of the code that ran it (with a `-dirty` suffix when applicable).
    public var codeVersion: String
    /// The release the run belongs to, or "" when none.
    public var release: String
    /// What the run cost (NaN fields where not recorded).
    public var compute: RunCompute

    public init(runID: String, algorithm: String, task: String, seed: Int, status: String,
                steps: Int, configHash: String, codeVersion: String, release: String = "",
                compute: RunCompute = RunCompute()) {
        self.runID = runID
        self.algorithm = algorithm
        self.task = task
        self.seed = seed
        self.status = status
        self.steps = steps
        self.configHash = configHash
        self.codeVersion = codeVersion
        self.release = release
        self.compute = compute
    }
}

/// A long-format table for `data.csv`: named columns and rows of values.
public struct DataTable: Sendable, Equatable {
    public var columns: [String]
    /// Each row has one value per column.
    public var rows: [[DataValue]]

    public init(columns: [String], rows: [[DataValue]]) {
        self.columns = columns
        self.rows = rows
    }
}

/// A CSV cell. Numbers are written in Swift's shortest round-trip form; NaN and `.missing` are
/// empty fields.
public enum DataValue: Sendable, Equatable {
    case text(String)
    case integer(Int)
    case number(Double)
    case missing
}
