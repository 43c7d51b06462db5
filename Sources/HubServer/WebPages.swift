// rlhub — the web UI: runs (filter with the `--where` language, sort), a run's curves, scores and
// checkpoints, runs compared, releases. Charts are the report module's SVG line charts.
import Evaluation
import Foundation
import Hub
import Hummingbird
import RLHubCore
import Store

enum WebPages {
    typealias E = HTMLPage

    /// `/`: the runs table with a filter box and sortable columns; checked runs open `/compare`.
    static func runs(_ state: HubState, _ q: QueryParameters) throws -> Response {
        let filter = q["where"] ?? "", sort = q["sort"] ?? ""
        var body = "<h1>Runs</h1>\n"
        body += """
            <form class="filter" method="get" action="/">
            <input type="text" name="where" placeholder="task = 'add' and final.eval/accuracy &gt; 0.5" value="\(E.e(filter))">
            <input type="text" name="sort" style="width:180px" placeholder="-final.reward/mean" value="\(E.e(sort))">
            <button type="submit">Filter</button>
            </form>
            <p class="muted">Fields: id algo task model seed status experiment cell created steps release, config.PATH, final.METRIC, best.METRIC, score.METRIC, tag.KEY; operators = != &lt; &lt;= &gt; &gt;= in like is null and or not.</p>

            """
        let runs: [RunRecord]
        do {
            runs = try StoreQueries.runs(state.store, q)
        } catch let error as InputError {
            return Reply.html(HTMLPage.render(title: "Runs", body: body + "<p class=\"error\">\(E.e(error.description))</p>\n"), status: .badRequest)
        }
        let rows = try RunListRow.rows(store: state.store, runs: runs)
        func sortLink(_ column: String, _ key: String) -> String {
            let next = sort == key ? "-" + key : key
            return "<a href=\"/?where=\(E.e(queryEscape(filter)))&amp;sort=\(E.e(queryEscape(next)))\">\(E.e(column))</a>"
        }
        let header = ["", sortLink("id", "id"), sortLink("experiment", "experiment"), sortLink("algo", "algo"), sortLink("task", "task"),
                      sortLink("seed", "seed"), sortLink("status", "status"), sortLink("steps", "steps"),
                      sortLink("reward", "final.reward/mean"), sortLink("eval accuracy", "final.eval/accuracy"), "config", "code", sortLink("created", "created")]
        let cells = rows.map { r in
            ["<input type=\"checkbox\" name=\"run\" value=\"\(E.e(r.id))\">", E.runLink(r.id), E.e(r.experiment ?? "–"), E.e(r.algo), E.e(r.task),
             String(r.seed), E.e(r.status), String(r.steps), E.number(r.reward), E.number(r.evalAccuracy),
             "<span class=\"mono\">\(E.e(r.configHash))</span>", "<span class=\"mono\">\(E.e(r.code))</span>", E.e(r.created)]
        }
        body += "<form method=\"get\" action=\"/compare\">\n<p>\(rows.count) run\(rows.count == 1 ? "" : "s") · <button type=\"submit\">Compare checked runs</button></p>\n"
        body += E.table(header: header, rows: cells, numeric: [5, 7, 8, 9]) + "</form>\n"
        return Reply.html(HTMLPage.render(title: "Runs", body: body))
    }

    /// `/runs/ID`: what `rlhub show` prints, with a chart per metric.
    static func run(_ state: HubState, id: String) throws -> Response {
        let detail = try RunDetail.load(store: state.store, run: id)
        let r = detail.run
        var body = "<h1>Run <span class=\"mono\">\(E.e(r.id))</span></h1>\n"
        body += E.table(header: ["field", "value"], rows: [
            ["status", E.e(r.status.rawValue + (r.error.map { " · " + $0 } ?? ""))],
            ["experiment · cell", E.e("\(r.experiment ?? "–") · \(r.cell ?? "–")")],
            ["algo · task · model · seed", E.e("\(r.algo) · \(r.task) · \(r.model) · \(r.seed)")],
            ["steps", String(r.stepsDone)],
            ["config hash", "<span class=\"mono\">\(E.e(r.configHash))</span>"],
            ["code", "<span class=\"mono\">\(E.e(r.codeVersion + (r.codeDirty ? "+" : "")))</span> · rlhub \(E.e(r.rlhubVersion))"],
            ["created · ended", E.e("\(r.created) · \(r.ended ?? "–")")],
            ["releases", E.e(detail.releases.joined(separator: ", "))],
            ["tags", E.e(detail.tags.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ", "))],
        ])
        body += "<p><a href=\"/compare?runs=\(E.e(queryEscape(r.id)))\">compare with…</a> · <a href=\"/api/runs/\(E.e(queryEscape(r.id)))\">JSON</a></p>\n"
        let sampled = try state.store.sampleSteps(run: r.id)
        if !sampled.isEmpty {
            let count = sampled.reduce(0) { $0 + $1.samples }
            body += "<h2>Samples</h2>\n<p><a href=\"/runs/\(E.e(queryEscape(r.id)))/samples\">\(count) recorded rollouts</a> at "
                + "\(Set(sampled.map(\.step)).count) steps: read them, tokens shaded by advantage or by log-prob gap.</p>\n"
        }
        body += "<h2>Curves</h2>\n" + (try charts(state, runs: [r], label: { _ in r.algo }))
        body += "<h2>Scores</h2>\n" + E.table(
            header: ["step", "split", "metric", "value", "95% CI", "episodes"],
            rows: detail.scores.map { s in
                [String(s.step), E.e(s.split), E.e(s.metric), E.number(s.value),
                 s.ciLow.map { "[\(E.number($0)), \(E.number(s.ciHigh))]" } ?? "–", String(s.episodes)]
            }, numeric: [0, 3, 5])
        let checkpoints = try StoreQueries.checkpoints(state, run: r.id)
        body += "<h2>Checkpoints</h2>\n" + E.table(
            header: ["step", "sha256", "bytes", "download"],
            rows: checkpoints.map { c in
                [String(c.step), "<span class=\"mono\">\(E.e(c.sha256))</span>", String(c.bytes),
                 c.url.map { "<a href=\"\(E.e($0))\">\(E.e((($0 as NSString).lastPathComponent)))</a>" } ?? "<span class=\"muted\">not published</span>"]
            }, numeric: [0, 2])
        body += "<h2>Metrics</h2>\n" + E.table(
            header: ["metric", "final", "final step", "best", "best step", "points"],
            rows: detail.metrics.map { m in
                [E.e(m.name), E.number(m.final), String(m.final_step), E.number(m.best), m.best_step.map(String.init) ?? "–", String(m.points)]
            }, numeric: [1, 2, 3, 4, 5])
        if case .object = detail.config {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
            let text = (try? encoder.encode(detail.config)).map { String(decoding: $0, as: UTF8.self) } ?? ""
            body += "<h2>Config</h2>\n<pre>\(E.e(text))</pre>\n"
        }
        return Reply.html(HTMLPage.render(title: "Run \(r.id)", body: body))
    }

    /// `/compare?runs=A,B[,…]` (or `run=A&run=B`): curves overlaid, scores side by side.
    static func compare(_ state: HubState, _ q: QueryParameters) throws -> Response {
        let ids = (q.all("runs").flatMap { $0.split(separator: ",").map(String.init) } + q.all("run"))
            .map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        guard ids.count >= 2 else {
            throw InputError(file: "runs", message: "name at least two runs: /compare?runs=A,B")
        }
        guard ids.count <= 16 else { throw InputError(file: "runs", message: "at most 16 runs, got \(ids.count)") }
        var runs: [RunRecord] = []
        for id in ids where !runs.contains(where: { $0.id == id }) { runs.append(try state.store.run(id)) }
        func label(_ r: RunRecord) -> String { "\(r.algo) · \(r.id.prefix(6))" }
        var body = "<h1>Compare \(runs.count) runs</h1>\n"
        body += E.table(header: ["run", "algo", "task", "seed", "experiment", "steps"], rows: runs.map {
            [E.runLink($0.id), E.e($0.algo), E.e($0.task), String($0.seed), E.e($0.experiment ?? "–"), String($0.stepsDone)]
        })
        body += "<h2>Curves</h2>\n" + (try charts(state, runs: runs, label: label))
        // Scores: the last step of each (split, metric), one column per run.
        var keys: [String] = []
        var values: [String: [String: String]] = [:]
        for r in runs {
            var last: [String: ScoreRecord] = [:]
            for s in try state.store.scores(run: r.id) {
                let key = "\(s.split) \(s.metric)"
                if last[key].map({ $0.step <= s.step }) ?? true { last[key] = s }
                if !keys.contains(key) { keys.append(key) }
            }
            for (key, s) in last {
                values[key, default: [:]][r.id] = E.number(s.value) + (s.ciLow.map { " [\(E.number($0)), \(E.number(s.ciHigh))]" } ?? "") + " @\(s.step)"
            }
        }
        body += "<h2>Scores</h2>\n" + E.table(
            header: ["split · metric"] + runs.map { E.e(label($0)) },
            rows: keys.map { key in [E.e(key)] + runs.map { values[key]?[$0.id] ?? "–" } },
            numeric: Set(1...runs.count))
        return Reply.html(HTMLPage.render(title: "Compare", body: body))
    }

    /// `/releases`: every release with its runs and its published store.
    static func releases(_ state: HubState) throws -> Response {
        let published = Set(state.index.index.releases.map(\.name))
        var body = "<h1>Releases</h1>\n"
        body += E.table(header: ["name", "runs", "created", "rlhub", "filter", "notes", "hub"], rows: try state.store.releases().map { r in
            ["<a href=\"/?where=\(E.e(queryEscape("release = '\(r.name)'")))\">\(E.e(r.name))</a>", String(r.runs.count), E.e(r.created),
             E.e(r.rlhubVersion), "<code>\(E.e(r.filter ?? ""))</code>", E.e(r.notes),
             published.contains(r.name) ? "<a href=\"/hub/\(E.e(HubPath.releaseStore(r.name)))\">store.sqlite</a>" : "–"]
        }, numeric: [1])
        body += "<p class=\"muted\">Pull with <code>rlhub pull URL --release NAME</code>, where URL is this server's address.</p>\n"
        return Reply.html(HTMLPage.render(title: "Releases", body: body))
    }

    /// One chart per metric (and one of held-out scores), a series per run, drawn by the report's
    /// line chart. Metrics are in name order; at most about 200 points per series.
    static func charts(_ state: HubState, runs: [RunRecord], label: (RunRecord) -> String) throws -> String {
        let store = state.store
        var metrics: [String] = []
        for r in runs { for name in try store.metricNames(run: r.id) where !metrics.contains(name) { metrics.append(name) } }
        let palette = Palette(runs.map(label))
        var figures: [String] = []
        for metric in metrics.sorted() {
            var series: [CurveSeries] = []
            for r in runs {
                let points = try StoreQueries.curve(store, run: r.id, metric: metric)
                guard !points.isEmpty else { continue }
                series.append(CurveSeries(label: label(r), points: points.map { CurvePoint(x: Double($0.step), mean: $0.value ?? .nan) }))
            }
            let panel = LearningCurvePanel(task: metric, xLabel: "step", yLabel: metric, series: series)
            figures.append(ReportCharts.learningCurves(panel, palette: palette, width: 440))
        }
        // Held-out scores over steps (split/metric pairs).
        var scoreSeries: [String: [CurveSeries]] = [:]
        var scoreKeys: [String] = []
        for r in runs {
            var byKey: [String: [CurvePoint]] = [:]
            for s in try store.scores(run: r.id) {
                let key = "score: \(s.split) \(s.metric)"
                if byKey[key] == nil, !scoreKeys.contains(key) { scoreKeys.append(key) }
                byKey[key, default: []].append(CurvePoint(x: Double(s.step), mean: s.value, low: s.ciLow ?? .nan, high: s.ciHigh ?? .nan))
            }
            for (key, points) in byKey { scoreSeries[key, default: []].append(CurveSeries(label: label(r), points: points.sorted { $0.x < $1.x })) }
        }
        for key in scoreKeys {
            let series = runs.compactMap { r in scoreSeries[key]?.first { $0.label == label(r) } }
            figures.append(ReportCharts.learningCurves(LearningCurvePanel(task: key, xLabel: "step", yLabel: "score", series: series), palette: palette, width: 440))
        }
        if figures.isEmpty { return "<p class=\"muted\">No metric logged.</p>\n" }
        return "<div class=\"charts\">\n" + figures.map { "<figure>\($0)</figure>" }.joined(separator: "\n") + "\n</div>\n"
    }
}
