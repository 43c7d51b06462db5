// rlhub — writes a report folder: `index.html`, `README.md`, `charts/*.svg` and `data.csv`.
//
// The folder is built under a temporary sibling name and renamed into place only when every file
// is written, so a crash never leaves a half-written report at the target path. Rendering is a
// pure function of the `ReportData`, so the same data gives byte-identical files.

import Foundation
import RLHubCore

/// One file of a rendered report, relative to the report folder.
public struct ReportFile: Sendable, Equatable {
    /// Path inside the folder, e.g. "index.html" or "charts/aggregate-intervals.svg".
    public var path: String
    public var contents: String
}

/// Renders and writes reports.
///
/// ```swift
/// try ReportWriter.write(data, to: "reports/baselines-v1")
/// // reports/baselines-v1/index.html, README.md, data.csv, charts/*.svg
/// ```
public enum ReportWriter {
    /// The names a report folder may contain; an existing folder with anything else is not
    /// replaced (it is probably not a report).
    public static let reportEntries: Set<String> = ["index.html", "README.md", "data.csv", "charts"]

    /// Every file of the report, in a fixed order: `index.html`, `README.md`, `data.csv`, then the
    /// charts in page order.
    public static func render(_ data: ReportData) -> [ReportFile] {
        let doc = ReportDocument(data)
        return [
            ReportFile(path: "index.html", contents: HTMLReport.render(doc)),
            ReportFile(path: "README.md", contents: MarkdownReport.render(doc)),
            ReportFile(path: "data.csv", contents: CSV.render(data.data)),
        ] + doc.charts.map { ReportFile(path: "charts/" + $0.file, contents: $0.svg) }
    }

    /// Renders `data` and writes it to the folder `dir`, replacing a previous report there.
    ///
    /// - Throws: ``InputError`` when `dir` exists but holds files a report does not write (the
    ///   folder is left alone), or when the folder cannot be written.
    public static func write(_ data: ReportData, to dir: String) throws {
        let files = render(data)
        let fm = FileManager.default
        let target = URL(fileURLWithPath: dir).standardizedFileURL
        let parent = target.deletingLastPathComponent()
        let name = target.lastPathComponent
        var isDirectory: ObjCBool = false
        let exists = fm.fileExists(atPath: target.path, isDirectory: &isDirectory)
        if exists {
            guard isDirectory.boolValue else {
                throw InputError(
                    file: dir, message: "exists and is not a folder; choose another --out")
            }
            let foreign = try fm.contentsOfDirectory(atPath: target.path)
                .filter { !reportEntries.contains($0) }.sorted()
            guard foreign.isEmpty else {
                throw InputError(
                    file: dir,
                    message: "exists and holds \(foreign.prefix(3).joined(separator: ", ")), "
                        + "which a report does not write; choose an empty or new folder for --out")
            }
        }
        do {
            try fm.createDirectory(at: parent, withIntermediateDirectories: true)
            let pid = ProcessInfo.processInfo.processIdentifier
            let staging = parent.appendingPathComponent(".\(name).partial-\(pid)")
            let retired = parent.appendingPathComponent(".\(name).old-\(pid)")
            try? fm.removeItem(at: staging)
            try? fm.removeItem(at: retired)
            try fm.createDirectory(at: staging.appendingPathComponent("charts"),
                                   withIntermediateDirectories: true)
            for file in files {
                try Data(file.contents.utf8).write(to: staging.appendingPathComponent(file.path))
            }
            // Two renames: the old report moves aside, the new one takes its name. Between them
            // the target is briefly absent, never half-written.
            if exists { try fm.moveItem(at: target, to: retired) }
            try fm.moveItem(at: staging, to: target)
            if exists { try? fm.removeItem(at: retired) }
        } catch let error as InputError {
            throw error
        } catch {
            throw InputError(
                file: dir, message: "cannot write the report: \(error.localizedDescription)")
        }
    }
}

// MARK: - CSV

/// RFC 4180 CSV: CRLF line ends; a field with a comma, quote, CR or LF is quoted and its quotes
/// doubled. Numbers use Swift's shortest round-trip form; NaN and missing values are empty.
public enum CSV {
    public static func render(_ table: DataTable) -> String {
        guard !table.columns.isEmpty else { return "" }
        var out = table.columns.map(field).joined(separator: ",") + "\r\n"
        for row in table.rows {
            out += row.map { value in
                switch value {
                case .text(let s): field(s)
                case .integer(let i): String(i)
                case .number(let x): x.isFinite ? "\(x)" : (x.isNaN ? "" : (x < 0 ? "-inf" : "inf"))
                case .missing: ""
                }
            }.joined(separator: ",") + "\r\n"
        }
        return out
    }

    /// One field, quoted when RFC 4180 requires it.
    public static func field(_ text: String) -> String {
        let needsQuotes = text.unicodeScalars.contains {
            $0 == "," || $0 == "\"" || $0 == "\r" || $0 == "\n"
        }
        guard needsQuotes else { return text }
        return "\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }
}
