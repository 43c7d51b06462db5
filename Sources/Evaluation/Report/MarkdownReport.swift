// rlhub — `README.md`: the report as Markdown for a repository or a hub page. Charts are the
// `charts/*.svg` files beside it; every number of the HTML page is in a table.

/// Renders a ``ReportDocument`` as GitHub-flavoured Markdown.
public enum MarkdownReport {
    static func render(_ doc: ReportDocument) -> String {
        let data = doc.data
        var md = "# \(escape(data.title))\n\n"
        if !data.description.isEmpty { md += escape(data.description) + "\n\n" }
        md += "Source: \(escape(data.generatedFrom))\n\n"

        md += "## Summary\n\n"
        md += "| tasks | algorithms | runs | score |\n|---:|---:|---:|---|\n"
        md += "| \(data.tasks.count) | \(doc.algorithms.count) | \(data.provenance.count)"
            + (doc.statusSummary.isEmpty ? "" : " (\(escape(doc.statusSummary)))")
            + " | \(escape(data.scoreName)) |\n\n"
        if !data.tasks.isEmpty {
            md += "Tasks: \(data.tasks.map(escape).joined(separator: ", "))\n\n"
        }
        if !doc.algorithms.isEmpty {
            md += "Algorithms: \(doc.algorithms.map(escape).joined(separator: ", "))\n\n"
        }
        if !data.intervalMethod.isEmpty { md += "Intervals: \(escape(data.intervalMethod)).\n\n" }
        if !data.gainSummary.isEmpty {
            md += "Gain over warm start (mean over tasks): "
                + data.gainSummary.map { "\(escape($0.algorithm)) \(ReportFormat.interval($0.point, $0.low, $0.high))" }
                    .joined(separator: ", ") + "\n\n"
        }

        md += "## Aggregate metrics\n\n"
        if let chart = doc.aggregateChart {
            md += Notes.aggregates + "\n\n" + image(chart)
            let metrics = data.aggregates.filter { !$0.estimates.isEmpty }
            let rows = doc.aggregateRows.map { name in
                [escape(name)] + metrics.map { metric in
                    metric.estimates.first { $0.algorithm == name }
                        .map { ReportFormat.interval($0.point, $0.low, $0.high) } ?? "–"
                }
            }
            md += table(header: ["algorithm"] + metrics.map { escape($0.name) },
                        right: Set(1...metrics.count), rows: rows)
        } else {
            md += "_\(Notes.noAggregates)_\n\n"
        }

        md += "## Learning curves\n\n"
        if doc.curveCharts.isEmpty {
            md += "_\(Notes.noCurves)_\n\n"
        } else {
            md += Notes.curves + "\n\n"
            for (panel, chart) in doc.curveCharts {
                md += "### \(escape(panel.task))\n\n"
                md += chart.map(image) ?? "_\(Notes.noPoints)_\n\n"
            }
        }

        md += trainingMetrics(doc)

        md += "## Performance profile\n\n"
        md += doc.profileChart.map { Notes.profile + "\n\n" + image($0) }
            ?? "_\(Notes.noProfile)_\n\n"

        md += "## Probability of improvement\n\n"
        if let chart = doc.improvementChart, let matrix = data.improvement {
            md += Notes.improvement + "\n\n" + image(chart)
            let rows = matrix.algorithms.enumerated().map { i, name in
                [escape(name)] + matrix.algorithms.indices.map { j in
                    let cell = i < matrix.cells.count && j < matrix.cells[i].count
                        ? matrix.cells[i][j] : nil
                    guard let cell, cell.p.isFinite else { return "–" }
                    return ReportFormat.interval(cell.p, cell.low, cell.high, decimals: 2)
                }
            }
            md += table(header: ["P(row > column)"] + matrix.algorithms.map(escape),
                        right: Set(1...matrix.algorithms.count), rows: rows)
        } else {
            md += "_\(Notes.noImprovement)_\n\n"
        }

        md += "## Final scores\n\n"
        if data.finalScores.isEmpty {
            md += "_\(Notes.noFinalScores)_\n\n"
        } else {
            md += Notes.finalScores + "\n\n"
            md += table(
                header: ["algorithm", "task", "n", "mean", "CI low", "CI high"],
                right: [2, 3, 4, 5],
                rows: data.finalScores.map { r in
                    [escape(r.algorithm), escape(r.task), "\(r.runs)", ReportFormat.cell(r.mean),
                     ReportFormat.cell(r.low), ReportFormat.cell(r.high)]
                })
        }

        md += "## Gain over the warm start\n\n"
        if data.gains.isEmpty {
            md += "_\(Notes.noGains)_\n\n"
        } else {
            md += Notes.gains + "\n\n"
            md += table(
                header: ["algorithm", "task", "n", "warm start", "final", "gain", "CI low", "CI high", "excludes 0"],
                right: [2, 3, 4, 5, 6, 7],
                rows: data.gains.map { r in
                    [escape(r.algorithm), escape(r.task), "\(r.runs)", ReportFormat.cell(r.start), ReportFormat.cell(r.final),
                     ReportFormat.cell(r.gain), ReportFormat.cell(r.low), ReportFormat.cell(r.high), r.excludesZero ? "yes" : "no"]
                })
        }

        md += "## Compute\n\n"
        if data.compute.isEmpty {
            md += "_\(Notes.noCompute)_\n\n"
        } else {
            md += Notes.compute + "\n\n"
            md += table(
                header: ["algorithm", "task", "n", "CPU s", "tokens generated", "tokens trained", "gain / CPU min"],
                right: [2, 3, 4, 5, 6],
                rows: data.compute.map { r in
                    [escape(r.algorithm), escape(r.task), "\(r.runs)"] + ReportFormat.computeCells(r.perRun)
                        + [ReportFormat.cell(r.gainPerCPUMinute, 4)]
                })
        }

        md += "## Provenance\n\n"
        if data.provenance.isEmpty {
            md += "_\(Notes.noProvenance)_\n\n"
        } else {
            md += Notes.provenance + "\n\n"
            md += table(
                header: ["run", "algorithm", "task", "seed", "status", "steps", "config", "code",
                         "release", "CPU s", "tokens generated", "tokens trained"],
                right: [3, 5, 9, 10, 11],
                rows: data.provenance.map { r in
                    [code(r.runID), escape(r.algorithm), escape(r.task), "\(r.seed)",
                     escape(r.status), "\(r.steps)", code(ReportDocument.shortHash(r.configHash)),
                     code(r.codeVersion), escape(r.release)] + ReportFormat.computeCells(r.compute)
                })
        }
        md += "Numbers in long format: [data.csv](data.csv).\n"
        return md
    }

    /// Per training metric: its panels and its run-mean table; a metric no run logged is a
    /// note. Nothing at all when the report names no training metric.
    private static func trainingMetrics(_ doc: ReportDocument) -> String {
        guard !doc.metricCharts.isEmpty else { return "" }
        var md = "## Training metrics\n\n" + Notes.metrics + "\n\n"
        for (section, charts) in doc.metricCharts {
            md += "### \(escape(section.metric))\n\n"
            guard !section.isEmpty else {
                md += "_\(escape(Notes.noMetric(section.metric)))_\n\n"
                continue
            }
            for (panel, chart) in charts {
                md += chart.map(image) ?? "_\(escape(panel.task)): \(Notes.noPoints)_\n\n"
            }
            md += table(
                header: ["algorithm", "task", "n", "run mean", "CI low", "CI high"],
                right: [2, 3, 4, 5],
                rows: section.rows.map { r in
                    [escape(r.algorithm), escape(r.task), "\(r.runs)"] + ReportFormat.metricCells(r.mean, r.low, r.high)
                })
            let without = doc.algorithmsWithout(section)
            if !without.isEmpty { md += "_\(escape(Notes.notRecorded(by: without)))_\n\n" }
        }
        return md
    }

    // MARK: - Pieces

    /// Text safe in a Markdown paragraph or table cell: Markdown punctuation is backslash-escaped,
    /// `<` and `&` become entities (GitHub renders raw HTML), newlines become spaces.
    public static func escape(_ text: String) -> String {
        var out = ""
        for ch in text {
            switch ch {
            case "\\", "`", "*", "_", "[", "]", "|", "#", "!": out += "\\\(ch)"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "&": out += "&amp;"
            case "\n", "\r", "\r\n": out += " "
            default: out.append(ch)
            }
        }
        return out
    }

    /// Inline code for identifiers (hashes, run ids); backticks and pipes cannot appear in them
    /// safely, so those fall back to escaped text.
    private static func code(_ text: String) -> String {
        text.contains { $0 == "`" || $0 == "|" || $0 == "\n" } ? escape(text) : "`\(text)`"
    }

    private static func image(_ chart: ReportChart) -> String {
        "![\(escape(chart.caption))](charts/\(chart.file))\n\n"
    }

    private static func table(header: [String], right: Set<Int>, rows: [[String]]) -> String {
        var md = "| " + header.joined(separator: " | ") + " |\n|"
        for i in header.indices { md += right.contains(i) ? "---:|" : "---|" }
        md += "\n"
        for row in rows { md += "| " + row.joined(separator: " | ") + " |\n" }
        return md + "\n"
    }
}
