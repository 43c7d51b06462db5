// rlhub — the long-format score table (one row per algorithm, task, run and optional step),
// read from CSV into per-algorithm score matrices and curves.
import Foundation
import RLHubCore

/// One row of a score table.
public struct ScoreRow: Sendable, Equatable, Codable {
    /// Algorithm (or any group to compare).
    public var algorithm: String
    /// Task name.
    public var task: String
    /// Run identifier (a seed, a run id), unique within (algorithm, task).
    public var run: String
    /// Evaluation step, when the table has a `step` column.
    public var step: Int?
    /// The score (finite).
    public var score: Double
    /// Line of the row in its file (1 is the header).
    public var line: Int

    public init(algorithm: String, task: String, run: String, step: Int? = nil, score: Double, line: Int = 0) {
        self.algorithm = algorithm
        self.task = task
        self.run = run
        self.step = step
        self.score = score
        self.line = line
    }
}

/// A long-format score table: CSV with a header naming the columns `algorithm`, `task`, `run`,
/// `score` and optionally `step`, in any order.
///
/// ```text
/// algorithm,task,run,score
/// grpo,add:digits=2,0,0.91
/// grpo,"sort:n=5,k=2",1,0.40
/// ```
///
/// Fields follow RFC 4180: a field may be quoted with `"` (then it may hold commas, newlines and
/// `""` for a quote). Header names are matched without regard to case or surrounding spaces;
/// other columns are ignored; blank lines are skipped; unquoted fields are trimmed. Scores must
/// be finite numbers, steps integers, names non-empty, and (algorithm, task, run, step) unique.
/// Errors name the file, line and column.
public struct ScoreTable: Sendable, Equatable {
    /// Where the table came from (for error messages).
    public var file: String
    /// The rows in file order.
    public var rows: [ScoreRow]
    /// Whether the table has a `step` column.
    public var hasSteps: Bool

    public init(file: String, rows: [ScoreRow], hasSteps: Bool) {
        self.file = file
        self.rows = rows
        self.hasSteps = hasSteps
    }

    /// Reads and parses a CSV file.
    /// - Throws: ``InputError`` for an unreadable file or a malformed table.
    public static func read(path: String) throws(InputError) -> ScoreTable {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw InputError(file: path, message: "cannot read the file")
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw InputError(file: path, message: "not UTF-8 text")
        }
        return try parse(text, file: path)
    }

    /// Algorithms, sorted.
    public var algorithms: [String] { Set(rows.map(\.algorithm)).sorted() }

    // MARK: - Score matrices

    /// Each algorithm's final scores: per task, one score per run — the run's row at its largest
    /// step when the table has steps. Runs are ordered by id (numerically when both ids are
    /// integers), so a shuffled file gives the same matrices and bootstrap draws.
    public func finalScores() -> [String: ScoreMatrix] {
        var last: [String: [String: [String: ScoreRow]]] = [:]  // algorithm → task → run → row
        for row in rows {
            if let old = last[row.algorithm]?[row.task]?[row.run], (old.step ?? 0) > (row.step ?? 0) { continue }
            last[row.algorithm, default: [:]][row.task, default: [:]][row.run] = row
        }
        return last.mapValues { tasks in
            ScoreMatrix(tasks.mapValues { runs in runs.keys.sorted(by: Self.runOrder).compactMap { runs[$0]?.score } })
        }
    }

    /// Each algorithm's scores at every step (for sample-efficiency curves).
    /// - Throws: ``InputError`` when the table has no `step` column, or a run of an algorithm lacks
    ///   a step that another run of that algorithm has.
    public func curves() throws(InputError) -> [String: ScoreCurves] {
        guard hasSteps else {
            throw InputError(file: file, message: "no 'step' column; curves need scores at several steps")
        }
        var table: [String: [String: [String: [Int: Double]]]] = [:]  // algorithm → task → run → step → score
        for row in rows {
            table[row.algorithm, default: [:]][row.task, default: [:]][row.run, default: [:]][row.step ?? 0] = row.score
        }
        var out: [String: ScoreCurves] = [:]
        for (algorithm, tasks) in table {
            let steps = Set(tasks.values.flatMap { $0.values.flatMap(\.keys) }).sorted()
            var scores: [String: [[Double]]] = [:]
            for (task, runs) in tasks {
                for run in runs.keys.sorted(by: Self.runOrder) {
                    let byStep = runs[run] ?? [:]
                    var curve: [Double] = []
                    for step in steps {
                        guard let v = byStep[step] else {
                            throw InputError(
                                file: file, field: "algorithm \(algorithm), task \(task), run \(run)",
                                message: "no score at step \(step); every run of an algorithm needs the same steps")
                        }
                        curve.append(v)
                    }
                    scores[task, default: []].append(curve)
                }
            }
            out[algorithm] = ScoreCurves(steps: steps, scores: scores)
        }
        return out
    }

    /// Run ids in numeric order when both are integers, else by string.
    static func runOrder(_ a: String, _ b: String) -> Bool {
        switch (Int(a), Int(b)) {
        case let (x?, y?): x != y ? x < y : a < b
        case (.some, nil): true
        case (nil, .some): false
        case (nil, nil): a < b
        }
    }

    // MARK: - Parsing

    /// Parses CSV text.
    /// - Parameter file: the name used in error messages.
    /// - Throws: ``InputError`` naming the line and column of the first bad field.
    public static func parse(_ text: String, file: String) throws(InputError) -> ScoreTable {
        let records = try CSVRecords.split(text, file: file)
        guard let header = records.first else {
            throw InputError(file: file, message: "empty file; expected a header algorithm,task,run,score[,step]")
        }
        var column: [String: Int] = [:]
        for (i, raw) in header.fields.enumerated() {
            let name = raw.text.trimmingCharacters(in: .whitespaces).lowercased()
            guard column[name] == nil || name.isEmpty else {
                throw InputError(
                    file: file, field: "line \(header.line), column \(i + 1)",
                    message: "column '\(name)' appears twice")
            }
            column[name] = i
        }
        let required = ["algorithm", "task", "run", "score"]
        for name in required where column[name] == nil {
            throw InputError(
                file: file, field: "line \(header.line)",
                message: "header has no '\(name)' column; expected algorithm,task,run,score[,step] (any order)")
        }
        let width = header.fields.count
        var rows: [ScoreRow] = []
        var seen: [String: Int] = [:]
        for record in records.dropFirst() {
            let line = record.line
            guard record.fields.count == width else {
                throw InputError(
                    file: file, field: "line \(line)",
                    message: "\(record.fields.count) fields, but the header has \(width)")
            }
            func text(_ name: String) throws(InputError) -> String {
                let i = column[name] ?? 0
                let f = record.fields[i]
                let v = f.quoted ? f.text : f.text.trimmingCharacters(in: .whitespaces)
                guard !v.isEmpty else {
                    throw InputError(
                        file: file, field: "line \(line), column \(i + 1) (\(name))", message: "empty \(name)")
                }
                return v
            }
            let scoreText = try text("score")
            guard let score = Double(scoreText), score.isFinite else {
                throw InputError(
                    file: file, field: "line \(line), column \((column["score"] ?? 0) + 1) (score)",
                    message: "'\(scoreText)' is not a finite number")
            }
            var step: Int?
            if column["step"] != nil {
                let stepText = try text("step")
                guard let s = Int(stepText) else {
                    throw InputError(
                        file: file, field: "line \(line), column \((column["step"] ?? 0) + 1) (step)",
                        message: "'\(stepText)' is not an integer step")
                }
                step = s
            }
            let row = ScoreRow(
                algorithm: try text("algorithm"), task: try text("task"), run: try text("run"), step: step,
                score: score, line: line)
            let key = [row.algorithm, row.task, row.run, step.map(String.init) ?? ""].joined(separator: "\u{1F}")
            if let first = seen[key] {
                let what = step.map { "run '\(row.run)' at step \($0)" } ?? "run '\(row.run)'"
                throw InputError(
                    file: file, field: "line \(line)",
                    message: "\(what) of \(row.algorithm) on \(row.task) repeats line \(first)")
            }
            seen[key] = line
            rows.append(row)
        }
        guard !rows.isEmpty else { throw InputError(file: file, message: "no score rows after the header") }
        return ScoreTable(file: file, rows: rows, hasSteps: column["step"] != nil)
    }
}

/// RFC 4180 records with the line each starts on.
private enum CSVRecords {
    struct Field {
        var text: String
        var quoted: Bool
    }

    struct Record {
        var line: Int
        var fields: [Field]
    }

    /// Splits text into records; blank lines are skipped.
    static func split(_ text: String, file: String) throws(InputError) -> [Record] {
        let quote = UInt8(ascii: "\""), comma = UInt8(ascii: ","), newline = UInt8(ascii: "\n")
        let cr = UInt8(ascii: "\r")
        var bytes = Array(text.utf8)
        if bytes.starts(with: [0xEF, 0xBB, 0xBF]) { bytes.removeFirst(3) }
        var records: [Record] = []
        var fields: [Field] = []
        var field: [UInt8] = []
        var quoted = false, inQuotes = false, afterQuote = false
        var line = 1, recordLine = 1, fieldLine = 1
        var i = 0

        func endField() {
            fields.append(Field(text: String(decoding: field, as: UTF8.self), quoted: quoted))
            field = []
            quoted = false
            afterQuote = false
        }
        func endRecord() {
            endField()
            let blank = fields.count == 1 && !fields[0].quoted && fields[0].text.allSatisfy(\.isWhitespace)
            if !blank { records.append(Record(line: recordLine, fields: fields)) }
            fields = []
        }

        while i < bytes.count {
            let b = bytes[i]
            if inQuotes {
                if b == quote {
                    if i + 1 < bytes.count && bytes[i + 1] == quote {
                        field.append(quote)
                        i += 1
                    } else {
                        inQuotes = false
                        afterQuote = true
                    }
                } else {
                    if b == newline { line += 1 }
                    field.append(b)
                }
            } else if b == comma {
                endField()
                fieldLine = line
            } else if b == newline || b == cr {
                if b == cr && i + 1 < bytes.count && bytes[i + 1] == newline { i += 1 }
                endRecord()
                line += 1
                recordLine = line
                fieldLine = line
            } else if b == quote && field.allSatisfy({ $0 == 0x20 || $0 == 0x09 }) && !afterQuote {
                field = []
                quoted = true
                inQuotes = true
                fieldLine = line
            } else if afterQuote {
                if b != 0x20 && b != 0x09 {
                    throw InputError(
                        file: file, field: "line \(line), column \(fields.count + 1)",
                        message: "unexpected text after a closing quote (write \"\" for a quote inside a quoted field)")
                }
            } else {
                field.append(b)
            }
            i += 1
        }
        if inQuotes {
            throw InputError(
                file: file, field: "line \(fieldLine), column \(fields.count + 1)",
                message: "quoted field is not closed")
        }
        if !field.isEmpty || quoted || !fields.isEmpty { endRecord() }
        return records
    }
}
