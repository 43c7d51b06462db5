// rlhub — `rlhub runs --where …`: a small boolean language over runs, compiled to one
// parameterised SQL expression. Every literal and every user-given name is a bound argument; the
// statement text only ever holds the fixed SQL of the compiler.
import GRDB
import RLHubCore

/// A compiled `--where` filter: a boolean SQL expression over the runs table aliased `r`, which
/// only the store runs (its SQL is not API).
///
/// ```swift
/// let filter = try RunFilter(where: "algo in ('grpo', 'dapo') and final.reward/mean > 0.5")
/// let runs = try store.runs(RunQuery(filter: filter))
/// ```
///
/// ## Grammar
///
/// ```
/// filter     := or
/// or         := and ('or' and)*
/// and        := unary ('and' unary)*
/// unary      := 'not' unary | primary
/// primary    := '(' or ')' | comparison
/// comparison := field op value
///             | field ['not'] 'in' '(' value (',' value)* ')'
///             | field ['not'] 'like' string
///             | field 'is' ['not'] 'null'
/// op         := '=' | '!=' | '<>' | '<' | '<=' | '>' | '>='
/// value      := string | number | 'true' | 'false' | 'null'
/// string     := "'" chars "'" | '"' chars '"'      (the quote doubled inside: 'it''s')
/// number     := ['-'] digits ['.' digits] [('e'|'E') ['+'|'-'] digits]   (or '.5', '-.5')
/// field      := name | prefix '.' tail
/// name       := [A-Za-z_][A-Za-z0-9_]*
/// prefix     := 'config' | 'final' | 'best' | 'score' | 'tag'
/// ```
///
/// Keywords (`and or not in like is null true false`) and plain field names ignore case. `not`
/// binds tighter than `and`, which binds tighter than `or`.
///
/// ## Fields
///
/// - `id`, `algo`, `task`, `model`, `seed`, `status`, `cell`, `created`, `started`, `ended`,
///   `config_hash`, `group_hash`, `code_version`, `host`, `threads`: the run's column.
/// - `steps`: `steps_done`.
/// - `experiment`: the name of the run's experiment (a subquery, not a join).
/// - `release`: membership. `release = 'v1'` holds when the run is in release `v1`,
///   `release != 'v1'` and `not release = 'v1'` when it is not, `release in (…)` /
///   `release like …` when it is in a matching release, `release is null` when it is in none.
/// - `config.<path>`: `json_extract(config_json, '$.<path>')`; the keys are
///   `[A-Za-z_][A-Za-z0-9_]*`, separated by `.` (`config.opt.beta`).
/// - `final.<metric>`, `best.<metric>`: `final_value` / `best_value` of `metric_summaries`.
/// - `score.<metric>`, `score.<split>.<metric>`: the `scores` value at the run's largest step for
///   that split and metric; the split is `test` unless the tail starts with `train.` or `test.`.
/// - `tag.<key>`: the tag's value.
///
/// A dotted field's tail runs to the next whitespace or one of `= ! < > ( ) , ' "`, and metric
/// names and tag keys hold letters, digits and `_ . / -`: so `final.reward/mean>0.5` needs no
/// spaces, but `final.loss-1` is the metric `loss-1`. `score.test.x` always reads as split `test`,
/// metric `x`. The tails keep their case.
///
/// ## Semantics
///
/// Comparisons are SQLite's. A missing value (a run without the metric, tag, config key or
/// experiment) is `NULL`, and any comparison with `NULL` is unknown: the run is selected neither by
/// `final.x > 0.5` nor by `not final.x > 0.5`, and `= null` selects nothing; use `is null` and
/// `is not null`. Numbers compare numerically with the integer columns (`seed`, `threads`,
/// `steps`; `seed = '10'` converts the text) and with numeric config values; strings compare as
/// text, and a number compared with a text column or tag is compared as text (`tag.n = 2` is
/// `tag.n = '2'`). A config value keeps its JSON type: numbers sort before any text, so
/// `config.lr < 1` does not select `"lr": "auto"`; objects and arrays read as their JSON text.
/// `like` uses `%` and `_` as wildcards (no escape) and ignores ASCII case. `true` and `false`
/// are `1` and `0`, which is what JSON booleans read as.
///
/// Limits, so that any input yields a statement SQLite accepts: 10,000 characters, nesting of
/// parentheses and `not` up to 32 levels, 200 comparisons and 999 values.
public struct RunFilter: Sendable, Hashable {
    /// The filter as the user wrote it (what a release records as its `filter`).
    public let text: String
    /// A boolean SQL expression over `runs r`, to be used as `… FROM runs r WHERE <sql>`.
    @_spi(StoreInternals) public let sql: String
    /// The arguments of the `?` placeholders of ``sql``, in order.
    @_spi(StoreInternals) public let arguments: StatementArguments

    /// Every run.
    public static let all = RunFilter(text: "", sql: "1", arguments: [])

    /// The flag named in errors.
    public static let source = "--where"

    /// Compiles a `--where` expression.
    ///
    /// - Throws: ``InputError`` with file `--where`, field `column N` (1-based, the first bad
    ///   token) and a one-line message, e.g. `--where: column 8: expected a value after '=', found ')'`.
    public init(where text: String) throws(InputError) {
        guard text.count <= FilterParser.maxLength else {
            throw InputError(
                file: Self.source, field: "column \(FilterParser.maxLength + 1)",
                message: "filter is longer than \(FilterParser.maxLength) characters")
        }
        let tokens = try QueryLexer.tokens(text, source: Self.source)
        var parser = FilterParser(tokens: tokens, source: Self.source)
        let sql = try parser.filter()
        self.init(text: text, sql: sql, arguments: StatementArguments(parser.values))
    }

    private init(text: String, sql: String, arguments: StatementArguments) {
        self.text = text
        self.sql = sql
        self.arguments = arguments
    }
}

// MARK: - Parser

/// Recursive descent over the grammar of ``RunFilter``, emitting SQL as it goes: placeholders are
/// written in the order their values are appended to ``values``.
struct FilterParser {
    static let maxLength = 10_000
    static let maxDepth = 32
    static let maxComparisons = 200
    static let maxValues = 999

    private let tokens: [QueryToken]
    private let source: String
    /// The field a token names (runs: ``RunField/resolve(_:source:)``; samples: SampleFilter).
    private let resolveField: (QueryToken, String) throws(InputError) -> RunField
    private var position = 0
    private var depth = 0
    private var comparisons = 0
    /// The bound arguments so far.
    private(set) var values: [DatabaseValue] = []

    init(
        tokens: [QueryToken], source: String,
        resolveField: @escaping (QueryToken, String) throws(InputError) -> RunField = { token, source throws(InputError) in
            try RunField.resolve(token, source: source)
        }
    ) {
        precondition(tokens.last?.kind == .end, "the lexer ends every token list with .end")
        self.tokens = tokens
        self.source = source
        self.resolveField = resolveField
    }

    /// `filter := or`, then the end of the input.
    mutating func filter() throws(InputError) -> String {
        let sql = try disjunction()
        if current.kind != .end {
            if current.isSymbol(")") { throw error(current, "unmatched ')'") }
            throw error(current, "expected 'and', 'or' or the end of the filter, found \(current.described)")
        }
        return sql
    }

    // MARK: Boolean structure

    private mutating func disjunction() throws(InputError) -> String {
        var parts = [try conjunction()]
        while current.isKeyword("or") {
            advance()
            parts.append(try conjunction())
        }
        return parts.count == 1 ? parts[0] : "(" + parts.joined(separator: " OR ") + ")"
    }

    private mutating func conjunction() throws(InputError) -> String {
        var parts = [try unary()]
        while current.isKeyword("and") {
            advance()
            parts.append(try unary())
        }
        return parts.count == 1 ? parts[0] : "(" + parts.joined(separator: " AND ") + ")"
    }

    private mutating func unary() throws(InputError) -> String {
        guard current.isKeyword("not") else { return try primary() }
        let token = advance()
        try enter(token)
        defer { depth -= 1 }
        return "(NOT (\(try unary())))"
    }

    private mutating func primary() throws(InputError) -> String {
        guard current.isSymbol("(") else { return try comparison() }
        let open = advance()
        try enter(open)
        defer { depth -= 1 }
        let inner = try disjunction()
        guard current.isSymbol(")") else {
            throw error(
                current, "expected ')' to close the '(' at column \(open.column), found \(current.described)")
        }
        advance()
        return inner
    }

    private mutating func enter(_ token: QueryToken) throws(InputError) {
        depth += 1
        if depth > Self.maxDepth {
            throw error(token, "too deeply nested (at most \(Self.maxDepth) levels of '(' and 'not')")
        }
    }

    // MARK: Comparisons

    private mutating func comparison() throws(InputError) -> String {
        let fieldToken = current
        if fieldToken.kind == .end { throw error(fieldToken, "expected a condition, found the end") }
        let field = try resolveField(fieldToken, source)
        advance()
        comparisons += 1
        if comparisons > Self.maxComparisons {
            throw error(fieldToken, "too many comparisons (at most \(Self.maxComparisons))")
        }
        let sql: String
        let test = current
        if case .symbol(let op) = test.kind, ["=", "!=", "<>", "<", "<=", ">", ">="].contains(op) {
            advance()
            let value = try value(after: test)
            sql = compare(field, op == "<>" ? "!=" : op, value)
        } else if test.isKeyword("in") || test.isKeyword("like") {
            sql = try membership(field, negated: false)
        } else if test.isKeyword("not") {
            advance()
            guard current.isKeyword("in") || current.isKeyword("like") else {
                throw error(current, "expected 'in' or 'like' after 'not', found \(current.described)")
            }
            sql = try membership(field, negated: true)
        } else if test.isKeyword("is") {
            advance()
            let negated = current.isKeyword("not")
            if negated { advance() }
            guard current.isKeyword("null") else {
                let after = negated ? "'is not'" : "'is'"
                throw error(current, "expected 'null' after \(after), found \(current.described)")
            }
            advance()
            if field == .release {
                sql = RunField.releaseTest(nil, negated: !negated)
            } else {
                let (expression, arguments) = field.expression
                values += arguments
                sql = "\(expression) IS \(negated ? "NOT " : "")NULL"
            }
        } else {
            throw error(
                test,
                "expected an operator after \(fieldToken.described) (=, !=, <>, <, <=, >, >=, in, like or is), "
                    + "found \(test.described)")
        }
        if values.count > Self.maxValues {
            throw error(fieldToken, "too many values (at most \(Self.maxValues))")
        }
        return sql
    }

    /// `field op ?`; for `release`, a test over the names of the run's releases.
    private mutating func compare(_ field: RunField, _ op: String, _ value: DatabaseValue) -> String {
        if field == .release {
            values.append(value)
            // `!=` is "not in that release", the negation of `=`, rather than "in another one".
            return op == "!="
                ? RunField.releaseTest("= ?", negated: true) : RunField.releaseTest("\(op) ?", negated: false)
        }
        let (expression, arguments) = field.expression
        values += arguments
        values.append(value)
        return "\(expression) \(op) ?"
    }

    /// `field [not] in (…)` or `field [not] like 'pattern'`, at the `in` or `like` keyword.
    private mutating func membership(_ field: RunField, negated: Bool) throws(InputError) -> String {
        let keyword = advance()
        var predicate: String
        var literals: [DatabaseValue] = []
        if keyword.isKeyword("like") {
            guard case .string(let pattern) = current.kind else {
                throw error(
                    current,
                    "expected a string pattern after \(keyword.described), found \(current.described)")
            }
            advance()
            literals.append(pattern.databaseValue)
            predicate = "LIKE ?"
        } else {
            guard current.isSymbol("(") else {
                throw error(current, "expected '(' after \(keyword.described), found \(current.described)")
            }
            var previous = advance()
            while true {
                literals.append(try value(after: previous))
                if literals.count > Self.maxValues {
                    throw error(previous, "too many values (at most \(Self.maxValues))")
                }
                if current.isSymbol(")") { break }
                guard current.isSymbol(",") else {
                    throw error(current, "expected ',' or ')' in the list, found \(current.described)")
                }
                previous = advance()
            }
            advance()
            predicate = "IN (" + Array(repeating: "?", count: literals.count).joined(separator: ", ") + ")"
        }
        if field == .release {
            values += literals
            return RunField.releaseTest(predicate, negated: negated)
        }
        let (expression, arguments) = field.expression
        values += arguments
        values += literals
        return "\(expression) \(negated ? "NOT " : "")\(predicate)"
    }

    /// `value := string | number | true | false | null`, after the token `previous`.
    private mutating func value(after previous: QueryToken) throws(InputError) -> DatabaseValue {
        let token = current
        switch token.kind {
        case .string(let text):
            advance()
            return text.databaseValue
        case .number(let number):
            advance()
            return number
        case .word(let word):
            switch word.lowercased() {
            case "true":
                advance()
                return 1.databaseValue
            case "false":
                advance()
                return 0.databaseValue
            case "null":
                advance()
                return .null
            default:
                let hint = RunField.keywords.contains(word.lowercased()) ? "" : " (quote text: '\(word)')"
                throw error(
                    token, "expected a value after \(previous.described), found \(token.described)\(hint)")
            }
        default:
            throw error(token, "expected a value after \(previous.described), found \(token.described)")
        }
    }

    // MARK: Tokens

    private var current: QueryToken { tokens[position] }

    /// Moves past the current token (never past `.end`) and returns it.
    @discardableResult
    private mutating func advance() -> QueryToken {
        let token = tokens[position]
        if position < tokens.count - 1 { position += 1 }
        return token
    }

    private func error(_ token: QueryToken, _ message: String) -> InputError {
        InputError(file: source, field: "column \(token.column)", message: message)
    }
}
