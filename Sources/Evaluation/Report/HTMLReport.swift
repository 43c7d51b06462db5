// rlhub — `index.html`: one self-contained page. Charts are inline `<svg>` elements, styles are
// one inline `<style>` block, there is no script and nothing is loaded from anywhere, so the page
// reads the same offline, without JavaScript, and years later.

/// Renders a ``ReportDocument`` as a standalone HTML page.
enum HTMLReport {
    static func render(_ doc: ReportDocument) -> String {
        let data = doc.data
        var html = """
            <!DOCTYPE html>
            <html lang="en">
            <head>
            <meta charset="utf-8">
            <meta name="viewport" content="width=device-width, initial-scale=1">
            <meta name="generator" content="rlhub report">
            <title>\(xmlEscape(data.title))</title>
            <style>
            \(css)</style>
            </head>
            <body>
            <main>
            <header>
            <h1>\(xmlEscape(data.title))</h1>

            """
        if !data.description.isEmpty {
            html += "<p class=\"lead\">\(xmlEscape(data.description))</p>\n"
        }
        html += "<p class=\"source\">Source: \(xmlEscape(data.generatedFrom))</p>\n</header>\n"
        html += navigation(doc)
        html += summary(doc)
        html += aggregates(doc)
        html += learningCurves(doc)
        html += trainingMetrics(doc)
        html += figureSection(
            id: "performance-profile", title: "Performance profile", chart: doc.profileChart,
            note: Notes.profile, empty: Notes.noProfile)
        html += figureSection(
            id: "probability-of-improvement", title: "Probability of improvement",
            chart: doc.improvementChart, note: Notes.improvement, empty: Notes.noImprovement)
        html += finalScores(doc)
        html += gains(doc)
        html += compute(doc)
        html += provenance(doc)
        html += """
            <footer>Numbers in long format: <a href="data.csv">data.csv</a>. \
            The same report in Markdown: <a href="README.md">README.md</a>.</footer>
            </main>
            </body>
            </html>

            """
        return html
    }

    // MARK: - Sections

    /// Links to the sections; "Training metrics" only when the report has that section.
    private static func navigation(_ doc: ReportDocument) -> String {
        let sections = [("summary", "Summary"), ("aggregates", "Aggregate metrics"), ("learning-curves", "Learning curves")]
            + (doc.metricCharts.isEmpty ? [] : [("training-metrics", "Training metrics")])
            + [("performance-profile", "Performance profile"), ("probability-of-improvement", "Probability of improvement"),
               ("final-scores", "Final scores"), ("gains", "Gain over warm start"), ("compute", "Compute"),
               ("provenance", "Provenance")]
        return "<nav>" + sections.map { "<a href=\"#\($0.0)\">\($0.1)</a>" }.joined(separator: " ") + "</nav>\n"
    }

    private static func summary(_ doc: ReportDocument) -> String {
        let data = doc.data
        var html = "<section id=\"summary\">\n<h2>Summary</h2>\n<div class=\"cards\">\n"
        let runs = data.provenance.count
        let cards: [(String, String, String)] = [
            ("Tasks", "\(data.tasks.count)", data.tasks.joined(separator: ", ")),
            ("Algorithms", "\(doc.algorithms.count)", ""),
            ("Runs", "\(runs)", doc.statusSummary),
            ("Score", data.scoreName, data.intervalMethod),
        ] + (data.gainSummary.isEmpty ? [] : [("Gain over warm start", "", "")])
        for (label, value, detail) in cards {
            html += "<div class=\"card\"><div class=\"label\">\(label)</div>"
            let valueClass = label == "Score" ? "value words" : "value"
            if !value.isEmpty { html += "<div class=\"\(valueClass)\">\(xmlEscape(value))</div>" }
            if label == "Gain over warm start" {
                // Each algorithm's mean gain over the tasks with its interval.
                html += "<div class=\"detail\">"
                    + data.gainSummary.map { e in
                        swatch(e.algorithm, doc.palette) + xmlEscape(e.algorithm) + " "
                            + xmlEscape(ReportFormat.interval(e.point, e.low, e.high))
                    }.joined(separator: "<br>")
                    + "</div>"
            } else if label == "Algorithms" {
                html += "<div class=\"detail\">"
                    + doc.algorithms.map { swatch($0, doc.palette) + xmlEscape($0) }
                        .joined(separator: "<br>")
                    + "</div>"
            } else if !detail.isEmpty {
                html += "<div class=\"detail\">\(xmlEscape(detail))</div>"
            }
            html += "</div>\n"
        }
        return html + "</div>\n</section>\n"
    }

    private static func aggregates(_ doc: ReportDocument) -> String {
        var html = "<section id=\"aggregates\">\n<h2>Aggregate metrics</h2>\n"
        guard let chart = doc.aggregateChart else {
            return html + emptyNote(Notes.noAggregates) + "</section>\n"
        }
        let method = doc.data.intervalMethod.isEmpty
            ? "" : " Intervals: \(doc.data.intervalMethod)."
        html += "<p class=\"caption\">\(xmlEscape(Notes.aggregates + method))</p>\n"
        html += figure(chart)
        let metrics = doc.data.aggregates.filter { !$0.estimates.isEmpty }
        let rows = doc.aggregateRows.map { name in
            [swatch(name, doc.palette) + xmlEscape(name)] + metrics.map { metric in
                guard let e = metric.estimates.first(where: { $0.algorithm == name }) else {
                    return "–"
                }
                return xmlEscape(ReportFormat.interval(e.point, e.low, e.high))
            }
        }
        html += table(header: ["algorithm"] + metrics.map(\.name), numeric: Set(1...metrics.count),
                      rows: rows)
        return html + "</section>\n"
    }

    private static func learningCurves(_ doc: ReportDocument) -> String {
        var html = "<section id=\"learning-curves\">\n<h2>Learning curves</h2>\n"
        guard !doc.curveCharts.isEmpty else {
            return html + emptyNote(Notes.noCurves) + "</section>\n"
        }
        html += "<p class=\"caption\">\(xmlEscape(Notes.curves))</p>\n<div class=\"grid\">\n"
        for (panel, chart) in doc.curveCharts {
            if let chart {
                html += figure(chart)
            } else {
                html += "<figure class=\"empty\"><figcaption>\(xmlEscape(panel.task))</figcaption>"
                    + emptyNote(Notes.noPoints) + "</figure>\n"
            }
        }
        return html + "</div>\n</section>\n"
    }

    /// Per training metric: its panels, then its run-mean table; a metric no run logged is a note.
    /// Nothing at all when the report names no training metric.
    private static func trainingMetrics(_ doc: ReportDocument) -> String {
        guard !doc.metricCharts.isEmpty else { return "" }
        var html = "<section id=\"training-metrics\">\n<h2>Training metrics</h2>\n"
        html += "<p class=\"caption\">\(xmlEscape(Notes.metrics))</p>\n"
        for (section, charts) in doc.metricCharts {
            html += "<h3>\(xmlEscape(section.metric))</h3>\n"
            guard !section.isEmpty else {
                html += emptyNote(Notes.noMetric(section.metric))
                continue
            }
            html += "<div class=\"grid\">\n"
            for (panel, chart) in charts {
                if let chart {
                    html += figure(chart)
                } else {
                    html += "<figure class=\"empty\"><figcaption>\(xmlEscape(panel.task))</figcaption>"
                        + emptyNote(Notes.noPoints) + "</figure>\n"
                }
            }
            html += "</div>\n"
            let rows = section.rows.map { r in
                [swatch(r.algorithm, doc.palette) + xmlEscape(r.algorithm), xmlEscape(r.task), "\(r.runs)"]
                    + ReportFormat.metricCells(r.mean, r.low, r.high).map(xmlEscape)
            }
            html += table(header: ["algorithm", "task", "n", "run mean", "CI low", "CI high"],
                          numeric: [2, 3, 4, 5], rows: rows)
            let without = doc.algorithmsWithout(section)
            if !without.isEmpty { html += emptyNote(Notes.notRecorded(by: without)) }
        }
        return html + "</section>\n"
    }

    private static func figureSection(id: String, title: String, chart: ReportChart?, note: String,
                                      empty: String) -> String {
        var html = "<section id=\"\(id)\">\n<h2>\(title)</h2>\n"
        guard let chart else { return html + emptyNote(empty) + "</section>\n" }
        html += "<p class=\"caption\">\(xmlEscape(note))</p>\n" + figure(chart)
        return html + "</section>\n"
    }

    private static func finalScores(_ doc: ReportDocument) -> String {
        var html = "<section id=\"final-scores\">\n<h2>Final scores</h2>\n"
        guard !doc.data.finalScores.isEmpty else {
            return html + emptyNote(Notes.noFinalScores) + "</section>\n"
        }
        html += "<p class=\"caption\">\(xmlEscape(Notes.finalScores))</p>\n"
        let rows = doc.data.finalScores.map { r in
            [swatch(r.algorithm, doc.palette) + xmlEscape(r.algorithm), xmlEscape(r.task),
             "\(r.runs)", ReportFormat.cell(r.mean), ReportFormat.cell(r.low),
             ReportFormat.cell(r.high)]
        }
        html += table(header: ["algorithm", "task", "n", "mean", "CI low", "CI high"],
                      numeric: [2, 3, 4, 5], rows: rows)
        return html + "</section>\n"
    }

    private static func gains(_ doc: ReportDocument) -> String {
        var html = "<section id=\"gains\">\n<h2>Gain over the warm start</h2>\n"
        guard !doc.data.gains.isEmpty else { return html + emptyNote(Notes.noGains) + "</section>\n" }
        html += "<p class=\"caption\">\(xmlEscape(Notes.gains))</p>\n"
        let rows = doc.data.gains.map { r in
            [swatch(r.algorithm, doc.palette) + xmlEscape(r.algorithm), xmlEscape(r.task), "\(r.runs)",
             ReportFormat.cell(r.start), ReportFormat.cell(r.final), ReportFormat.cell(r.gain),
             ReportFormat.cell(r.low), ReportFormat.cell(r.high), r.excludesZero ? "yes" : "no"]
        }
        html += table(header: ["algorithm", "task", "n", "warm start", "final", "gain", "CI low", "CI high", "excludes 0"],
                      numeric: [2, 3, 4, 5, 6, 7], rows: rows)
        return html + "</section>\n"
    }

    private static func compute(_ doc: ReportDocument) -> String {
        var html = "<section id=\"compute\">\n<h2>Compute</h2>\n"
        guard !doc.data.compute.isEmpty else { return html + emptyNote(Notes.noCompute) + "</section>\n" }
        html += "<p class=\"caption\">\(xmlEscape(Notes.compute))</p>\n"
        let rows = doc.data.compute.map { r in
            [swatch(r.algorithm, doc.palette) + xmlEscape(r.algorithm), xmlEscape(r.task), "\(r.runs)"]
                + ReportFormat.computeCells(r.perRun) + [ReportFormat.cell(r.gainPerCPUMinute, 4)]
        }
        html += table(header: ["algorithm", "task", "n", "CPU s", "tokens generated", "tokens trained", "gain / CPU min"],
                      numeric: [2, 3, 4, 5, 6], rows: rows)
        return html + "</section>\n"
    }

    private static func provenance(_ doc: ReportDocument) -> String {
        var html = "<section id=\"provenance\">\n<h2>Provenance</h2>\n"
        guard !doc.data.provenance.isEmpty else {
            return html + emptyNote(Notes.noProvenance) + "</section>\n"
        }
        html += "<p class=\"caption\">\(xmlEscape(Notes.provenance))</p>\n"
        let rows = doc.data.provenance.map { r in
            ["<code>\(xmlEscape(r.runID))</code>", xmlEscape(r.algorithm), xmlEscape(r.task),
             "\(r.seed)", xmlEscape(r.status), "\(r.steps)",
             "<code>\(xmlEscape(ReportDocument.shortHash(r.configHash)))</code>",
             "<code>\(xmlEscape(r.codeVersion))</code>", xmlEscape(r.release)] + ReportFormat.computeCells(r.compute)
        }
        html += table(
            header: ["run", "algorithm", "task", "seed", "status", "steps", "config", "code",
                     "release", "CPU s", "tokens generated", "tokens trained"],
            numeric: [3, 5, 9, 10, 11], rows: rows, compact: true)
        return html + "</section>\n"
    }

    // MARK: - Pieces

    private static func figure(_ chart: ReportChart) -> String {
        "<figure>\n\(chart.svg)</figure>\n"
    }

    private static func emptyNote(_ text: String) -> String {
        "<p class=\"note\">\(xmlEscape(text))</p>\n"
    }

    private static func swatch(_ name: String, _ palette: Palette) -> String {
        "<span class=\"sw\" style=\"background:\(palette.colour(name))\"></span>"
    }

    /// A table whose cells are already HTML; `numeric` columns are right-aligned.
    private static func table(header: [String], numeric: Set<Int>, rows: [[String]],
                              compact: Bool = false) -> String {
        var html = compact ? "<div class=\"scroll\"><table class=\"compact\">\n"
            : "<div class=\"scroll\"><table>\n"
        html += "<thead><tr>"
        for (i, h) in header.enumerated() {
            html += numeric.contains(i) ? "<th class=\"num\">" : "<th>"
            html += xmlEscape(h) + "</th>"
        }
        html += "</tr></thead>\n<tbody>\n"
        for row in rows {
            html += "<tr>"
            for (i, cell) in row.enumerated() {
                html += (numeric.contains(i) ? "<td class=\"num\">" : "<td>") + cell + "</td>"
            }
            html += "</tr>\n"
        }
        return html + "</tbody>\n</table></div>\n"
    }

    private static let css = """
        :root { color-scheme: light; }
        body { margin: 0; background: #ffffff; color: #1f2328; font-family: sans-serif;
          font-size: 15px; line-height: 1.5; }
        main { max-width: 1100px; margin: 0 auto; padding: 28px 24px 48px; }
        h1 { font-size: 28px; line-height: 1.25; margin: 0 0 6px; }
        h2 { font-size: 20px; margin: 36px 0 8px; padding-bottom: 6px;
          border-bottom: 1px solid #d8dee4; }
        .lead { font-size: 16px; margin: 0 0 4px; color: #1f2328; }
        .source { margin: 0; color: #57606a; font-size: 13px; }
        nav { margin: 16px 0 0; font-size: 13px; }
        nav a { margin-right: 14px; }
        a { color: #0969da; text-decoration: none; }
        .cards { display: flex; flex-wrap: wrap; gap: 12px; }
        .card { border: 1px solid #d8dee4; border-radius: 6px; padding: 10px 14px; min-width: 170px;
          flex: 1 1 170px; }
        .card .label { color: #57606a; font-size: 12px; text-transform: uppercase;
          letter-spacing: 0.04em; }
        .card .value { font-size: 26px; font-weight: bold; line-height: 1.3; }
        .card .value.words { font-size: 18px; line-height: 1.3; padding: 5px 0 4px; }
        .card .detail { font-size: 13px; color: #1f2328; }
        .caption { color: #57606a; font-size: 14px; margin: 0 0 12px; max-width: 860px; }
        .note { color: #57606a; font-style: italic; }
        figure { margin: 0 0 12px; }
        figure.empty { width: 510px; }
        figcaption { font-weight: bold; }
        svg { max-width: 100%; height: auto; display: block; }
        .grid { display: flex; flex-wrap: wrap; gap: 12px 20px; }
        .scroll { overflow-x: auto; }
        table { border-collapse: collapse; font-size: 13px; font-variant-numeric: tabular-nums;
          margin: 8px 0 0; }
        th, td { padding: 5px 12px 5px 0; border-bottom: 1px solid #eaeef2; text-align: left;
          vertical-align: top; white-space: nowrap; }
        th { color: #57606a; font-weight: bold; border-bottom: 1px solid #d8dee4; }
        .num { text-align: right; padding-left: 18px; }
        table.compact { font-size: 12px; }
        code { font-family: sans-serif; font-size: 12px; }
        .sw { display: inline-block; width: 10px; height: 10px; border-radius: 2px;
          margin-right: 6px; }
        footer { margin-top: 40px; color: #57606a; font-size: 13px; }

        """
}
