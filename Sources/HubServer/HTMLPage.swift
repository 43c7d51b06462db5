// rlhub — the frame of the web UI's pages: inline CSS, a navigation bar, escaped text everywhere.
// No external asset, no script framework.
import Evaluation
import Foundation

enum HTMLPage {
    /// A whole page; `body` is HTML already escaped by its author.
    static func render(title: String, body: String) -> String {
        """
        <!DOCTYPE html>
        <html lang="en">
        <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <title>\(e(title)) · rlhub</title>
        <style>
        body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; margin: 0; color: #1f2328; background: #fff; }
        header { background: #f6f8fa; border-bottom: 1px solid #d0d7de; padding: 10px 24px; }
        header a { margin-right: 18px; color: #0969da; text-decoration: none; font-weight: 600; }
        main { padding: 16px 24px; max-width: 1400px; }
        h1 { font-size: 22px; margin: 8px 0 12px; }
        h2 { font-size: 17px; margin: 24px 0 8px; }
        table { border-collapse: collapse; margin: 8px 0; }
        th, td { border-bottom: 1px solid #d8dee4; padding: 4px 10px; text-align: left; vertical-align: top; }
        th { background: #f6f8fa; }
        td.num { text-align: right; font-variant-numeric: tabular-nums; }
        code, .mono { font-family: ui-monospace, SFMono-Regular, Menlo, monospace; font-size: 12.5px; }
        form.filter input[type=text] { width: 520px; font-family: ui-monospace, monospace; padding: 4px; }
        .error { color: #cf222e; font-weight: 600; }
        .charts { display: flex; flex-wrap: wrap; gap: 16px; }
        .charts figure { margin: 0; }
        pre { background: #f6f8fa; padding: 8px; overflow-x: auto; max-width: 1100px; }
        .muted { color: #656d76; }
        </style>
        </head>
        <body>
        <header><a href="/">Runs</a><a href="/releases">Releases</a><a href="/reports/">Reports</a><a href="/hub/index.json">Hub index</a></header>
        <main>
        \(body)
        </main>
        </body>
        </html>

        """
    }

    /// Escapes text for HTML content and attribute values.
    static func e(_ text: String) -> String { xmlEscape(text) }

    /// A number as the listings print it (`-` when missing).
    static func number(_ value: Double?) -> String {
        guard let value else { return "–" }
        return value.isFinite ? String(format: "%.4g", value) : "nan"
    }

    /// A table; cells are HTML already escaped. Columns in `numeric` are right-aligned.
    static func table(header: [String], rows: [[String]], numeric: Set<Int> = []) -> String {
        var out = "<table>\n<thead><tr>" + header.map { "<th>\($0)</th>" }.joined() + "</tr></thead>\n<tbody>\n"
        for row in rows {
            out += "<tr>" + row.enumerated().map { i, cell in numeric.contains(i) ? "<td class=\"num\">\(cell)</td>" : "<td>\(cell)</td>" }.joined() + "</tr>\n"
        }
        return out + "</tbody>\n</table>\n"
    }

    /// A link to a run page.
    static func runLink(_ id: String) -> String { "<a class=\"mono\" href=\"/runs/\(e(queryEscape(id)))\">\(e(id))</a>" }
}
