// rlhub — `rlhub runs --sort …`: sort keys over the same fields as `--where`, compiled to the terms
// of an ORDER BY clause with bound arguments.
import GRDB
import RLHubCore

/// A compiled `--sort` specification: the terms of an `ORDER BY` clause over `runs r`.
///
/// ```
/// sort := key (',' key)*
/// key  := ['-'] field ['asc' | 'desc']
/// ```
///
/// `-KEY` and `KEY desc` sort descending; `asc` is the default. Fields are those of
/// ``RunFilter`` except `release` (a run can be in several). Missing values (`NULL`) sort last in
/// both directions, and ties are always broken by `created`, then `id`, so the order is
/// deterministic.
///
/// ```swift
/// let order = try RunOrder(sort: "-final.reward/mean")
/// // its SQL: "(SELECT s.final_value …) DESC NULLS LAST, r.created ASC, r.id ASC"
/// let best = try store.runs(RunQuery(order: order, limit: 5))
/// ```
public struct RunOrder: Sendable, Hashable {
    /// The terms of the `ORDER BY` clause, without the keywords `ORDER BY`.
    @_spi(StoreInternals) public let sql: String
    /// The arguments of the `?` placeholders of ``sql``, in order.
    @_spi(StoreInternals) public let arguments: StatementArguments

    /// Creation time, then id.
    public static let `default` = RunOrder(sql: tieBreak, arguments: [])

    /// The flag named in errors.
    public static let source = "--sort"

    private static let tieBreak = "r.created ASC, r.id ASC"
    private static let maxKeys = 16

    /// Compiles a `--sort` specification.
    ///
    /// - Throws: ``InputError`` with file `--sort`, field `column N` and a one-line message.
    public init(sort text: String) throws(InputError) {
        guard text.count <= FilterParser.maxLength else {
            throw InputError(
                file: Self.source, field: "column \(FilterParser.maxLength + 1)",
                message: "sort is longer than \(FilterParser.maxLength) characters")
        }
        let tokens = try QueryLexer.tokens(text, source: Self.source)
        func error(_ token: QueryToken, _ message: String) -> InputError {
            InputError(file: Self.source, field: "column \(token.column)", message: message)
        }
        var position = 0
        var terms: [String] = []
        var values: [DatabaseValue] = []
        while true {
            var descending = false
            if tokens[position].isSymbol("-") {
                descending = true
                position += 1
            }
            let fieldToken = tokens[position]
            if fieldToken.kind == .end {
                throw error(fieldToken, "expected a field to sort by, found the end")
            }
            let field = try RunField.resolve(fieldToken, source: Self.source)
            if field == .release {
                throw error(fieldToken, "cannot sort by 'release' (a run can be in several releases)")
            }
            position += 1
            let direction = tokens[position]
            if direction.isKeyword("asc") || direction.isKeyword("desc") {
                if descending {
                    throw error(direction, "use either '-KEY' or 'KEY \(direction.text)', not both")
                }
                descending = direction.isKeyword("desc")
                position += 1
            }
            let (expression, arguments) = field.expression
            terms.append("\(expression) \(descending ? "DESC" : "ASC") NULLS LAST")
            values += arguments
            if terms.count > Self.maxKeys {
                throw error(fieldToken, "too many sort keys (at most \(Self.maxKeys))")
            }
            let next = tokens[position]
            if next.kind == .end { break }
            guard next.isSymbol(",") else {
                throw error(next, "expected ',', 'asc', 'desc' or the end, found \(next.described)")
            }
            position += 1
        }
        let sql = (terms + [Self.tieBreak]).joined(separator: ", ")
        self.init(sql: sql, arguments: StatementArguments(values))
    }

    private init(sql: String, arguments: StatementArguments) {
        self.sql = sql
        self.arguments = arguments
    }
}
