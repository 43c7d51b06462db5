// rlhub — the fields that `--where` and `--sort` can name, and the SQL value each one reads from
// a run `r`. Every name that comes from the user (config path, metric, tag key) is a bound
// parameter; only the fixed SQL below is ever part of the statement text.
import GRDB
import RLHubCore

/// A field of a run, resolved from a token of a `--where` or `--sort` expression.
enum RunField: Sendable, Equatable {
    /// A column of `runs r`, as fixed SQL (`r.algo`).
    case column(String)
    /// The name of the run's experiment (a subquery on `experiments`, so callers need no join).
    case experiment
    /// Membership of the run in a release of a given name (set-valued: only tests, no sort).
    case release
    /// `config.a.b`: the JSON path `$.a.b` into `runs.config_json`.
    case config(path: String)
    /// `final.<metric>` / `best.<metric>`: `column` is `final_value` or `best_value` of
    /// `metric_summaries`.
    case summary(column: String, metric: String)
    /// `score.<metric>` / `score.<split>.<metric>`: the held-out score at the run's largest step.
    case score(split: String, metric: String)
    /// `tag.<key>`: the tag's value.
    case tag(key: String)

    /// The plain fields, in the order error messages list them, with their SQL.
    static let plainFields: [(name: String, field: RunField)] = [
        ("id", .column("r.id")), ("algo", .column("r.algo")), ("task", .column("r.task")),
        ("model", .column("r.model")), ("seed", .column("r.seed")), ("status", .column("r.status")),
        ("experiment", .experiment), ("cell", .column("r.cell")), ("created", .column("r.created")),
        ("started", .column("r.started")), ("ended", .column("r.ended")),
        ("config_hash", .column("r.config_hash")), ("group_hash", .column("r.group_hash")),
        ("code_version", .column("r.code_version")), ("host", .column("r.host")),
        ("threads", .column("r.threads")), ("steps", .column("r.steps_done")), ("release", .release),
    ]

    /// The heads of dotted fields.
    static let prefixes = ["config", "final", "best", "score", "tag"]

    /// Splits that `score.<split>.<metric>` recognises (the cases of `Tasks.Split`).
    static let scoreSplits = ["train", "test"]

    /// The keywords of the language, which can never be fields.
    static let keywords: Set<String> = [
        "and", "or", "not", "in", "like", "is", "null", "true", "false", "asc", "desc",
    ]

    /// Every field, for the "unknown field" message.
    static let fieldList = (plainFields.map(\.name)
        + ["config.<path>", "final.<metric>", "best.<metric>", "score.<metric>", "score.<split>.<metric>",
           "tag.<key>"]).joined(separator: ", ")

    /// The SQL value of the field for a run `r`, with the arguments of its `?` placeholders in order.
    ///
    /// - precondition: not ``release``, which is a membership test rather than a value.
    var expression: (sql: String, arguments: [DatabaseValue]) {
        switch self {
        case .column(let sql):
            return (sql, [])
        case .experiment:
            return ("(SELECT e.name FROM experiments e WHERE e.id = r.experiment_id)", [])
        case .release:
            preconditionFailure("'release' is a membership test; use RunField.releaseTest")
        case .config(let path):
            return ("json_extract(r.config_json, ?)", [path.databaseValue])
        case .summary(let column, let metric):
            return ("""
                (SELECT s.\(column) FROM metric_summaries s JOIN metric_names n ON n.id = s.name \
                WHERE s.run = r.pk AND n.name = ?)
                """, [metric.databaseValue])
        case .score(let split, let metric):
            return ("""
                (SELECT sc.value FROM scores sc WHERE sc.run = r.pk AND sc.split = ? AND sc.metric = ? \
                ORDER BY sc.step DESC LIMIT 1)
                """, [split.databaseValue, metric.databaseValue])
        case .tag(let key):
            return ("(SELECT t.value FROM tags t WHERE t.run = r.pk AND t.key = ?)", [key.databaseValue])
        }
    }

    /// `EXISTS` (or `NOT EXISTS`) over the run's releases whose name satisfies `predicate` (SQL
    /// over `rl.name`); a `nil` predicate tests membership of any release.
    static func releaseTest(_ predicate: String?, negated: Bool) -> String {
        let exists = negated ? "NOT EXISTS" : "EXISTS"
        guard let predicate else {
            return "\(exists) (SELECT 1 FROM release_runs rr WHERE rr.run = r.pk)"
        }
        return """
            \(exists) (SELECT 1 FROM release_runs rr JOIN releases rl ON rl.id = rr.release \
            WHERE rr.run = r.pk AND rl.name \(predicate))
            """
    }

    // MARK: - Resolution

    /// The field a token names.
    ///
    /// Plain field names and the heads of dotted fields ignore case; the tails (JSON keys, metric
    /// names, tag keys) are kept as written.
    ///
    /// - Throws: ``InputError`` at the token (or at the bad character of a tail) for a keyword, a
    ///   non-name token, an unknown field (with a suggestion within edit distance 2) or a bad tail.
    static func resolve(_ token: QueryToken, source: String) throws(InputError) -> RunField {
        func error(_ column: Int, _ message: String) -> InputError {
            InputError(file: source, field: "column \(column)", message: message)
        }
        switch token.kind {
        case .word(let word):
            let name = word.lowercased()
            if keywords.contains(name) {
                throw error(token.column, "expected a field, found \(token.described)")
            }
            if let plain = plainFields.first(where: { $0.name == name }) { return plain.field }
            if prefixes.contains(name) {
                let what = name == "config" ? "<path>" : name == "tag" ? "<key>" : "<metric>"
                throw error(token.column, "'\(word)' needs a name after it, as in \(name).\(what)")
            }
            let suggestion = closest(to: name, among: plainFields.map(\.name) + prefixes)
            throw error(token.column, unknownFieldMessage(word, suggestion: suggestion))
        case .dotted(let head, let tail, let tailColumn):
            let prefix = head.lowercased()
            guard prefixes.contains(prefix) else {
                let suggestion = closest(to: prefix, among: prefixes)
                    .map { "\($0).\(QueryLexer.visible(tail))" }
                throw error(token.column, unknownFieldMessage(token.text, suggestion: suggestion))
            }
            if tail.isEmpty { throw error(tailColumn, "expected a name after '\(head).'") }
            switch prefix {
            case "config":
                try checkConfigPath(tail, column: tailColumn, source: source)
                return .config(path: "$." + tail)
            case "final", "best":
                try checkName(tail, column: tailColumn, what: "metric names", source: source)
                return .summary(column: prefix == "final" ? "final_value" : "best_value", metric: tail)
            case "score":
                try checkName(tail, column: tailColumn, what: "metric names", source: source)
                if let dot = tail.firstIndex(of: "."), scoreSplits.contains(String(tail[..<dot])) {
                    let metric = String(tail[tail.index(after: dot)...])
                    if !metric.isEmpty { return .score(split: String(tail[..<dot]), metric: metric) }
                }
                return .score(split: "test", metric: tail)
            default:
                try checkName(tail, column: tailColumn, what: "tag keys", source: source)
                return .tag(key: tail)
            }
        default:
            throw error(token.column, "expected a field, found \(token.described)")
        }
    }

    private static func unknownFieldMessage(_ name: String, suggestion: String?) -> String {
        let shown = QueryLexer.visible(name)
        let hint = suggestion.map { " (did you mean '\($0)'?)" } ?? ""
        return "unknown field '\(shown)'\(hint); fields are \(fieldList)"
    }

    /// `config.` tails: names `[A-Za-z_][A-Za-z0-9_]*` separated by single dots.
    private static func checkConfigPath(_ tail: String, column: Int, source: String) throws(InputError) {
        func error(_ column: Int, _ message: String) -> InputError {
            InputError(file: source, field: "column \(column)", message: message)
        }
        let shown = QueryLexer.visible(tail)
        var col = column
        var atSegmentStart = true
        for c in tail {
            if c == "." {
                if atSegmentStart {
                    throw error(col, "empty name in config path '\(shown)'")
                }
                atSegmentStart = true
            } else {
                let ok = atSegmentStart ? QueryLexer.isNameStart(c) : QueryLexer.isNameCharacter(c)
                if !ok {
                    throw error(
                        col, "unexpected '\(QueryLexer.visible(c))' in a config path: its keys are "
                            + "[A-Za-z_][A-Za-z0-9_]* separated by '.'")
                }
                atSegmentStart = false
            }
            col += 1
        }
        if atSegmentStart {
            throw error(col, "config path '\(shown)' ends with '.'")
        }
    }

    /// Metric names and tag keys: letters, digits and `_ . / -`.
    private static func checkName(
        _ tail: String, column: Int, what: String, source: String
    ) throws(InputError) {
        for (k, c) in tail.enumerated() {
            let ok = QueryLexer.isNameCharacter(c) || c == "." || c == "/" || c == "-"
            if !ok {
                throw InputError(
                    file: source, field: "column \(column + k)",
                    message: "unexpected '\(QueryLexer.visible(c))': \(what) contain only letters, digits "
                        + "and _ . / -")
            }
        }
    }

    /// The candidate nearest to `name` by edit distance, if at most 2 (and less than its length).
    static func closest(to name: String, among candidates: [String]) -> String? {
        var best: (candidate: String, distance: Int)?
        for candidate in candidates {
            let d = editDistance(name, candidate)
            if d <= 2, d < candidate.count, d < (best?.distance ?? .max) { best = (candidate, d) }
        }
        return best?.candidate
    }

    /// Levenshtein distance (insertions, deletions and substitutions of characters).
    static func editDistance(_ a: String, _ b: String) -> Int {
        let a = Array(a)
        let b = Array(b)
        if a.isEmpty { return b.count }
        var previous = Array(0...b.count)
        var current = previous
        for i in 1...a.count {
            current[0] = i
            for j in stride(from: 1, through: b.count, by: 1) {
                let substitution = previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1)
                current[j] = min(previous[j] + 1, current[j - 1] + 1, substitution)
            }
            swap(&previous, &current)
        }
        return previous[b.count]
    }
}
