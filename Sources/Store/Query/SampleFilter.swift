// rlhub — `rlhub samples RUN --where …`: the `--where` language of runs (RunFilter.swift: same
// grammar, operators, limits and errors) over the columns of recorded rollout samples.
import GRDB
import RLHubCore

/// A compiled sample filter: a boolean SQL expression over `rollout_samples s`.
///
/// Fields: `step`, `kind` (`'train'` or `'eval'`), `position`, `problem`, `group`, `sample`,
/// `reward`, `advantage` (mean over the policy's tokens), `logprob_gap` (largest
/// |log π_θ_old − log π_sampler| on one policy token), `outcome` (`'correct'`, `'wrong'`, …),
/// `finish_reason`, `truncated` (true/false), `turns`, `prompt_tokens`, `response_tokens`.
///
/// ```swift
/// let filter = try SampleFilter(where: "kind = 'train' and reward > 0 and not truncated = true")
/// ```
public struct SampleFilter: Sendable, Hashable {
    public let text: String
    /// A boolean SQL expression over `rollout_samples s`.
    @_spi(StoreInternals) public let sql: String
    @_spi(StoreInternals) public let arguments: StatementArguments

    /// Every sample.
    public static let all = SampleFilter(text: "", sql: "1", arguments: [])

    /// The fields and their columns, in the order error messages list them.
    static let fields: [(name: String, column: String)] = [
        ("step", "s.step"), ("kind", "s.kind"), ("position", "s.position"), ("problem", "s.problem"), ("group", "s.group_id"),
        ("sample", "s.sample"), ("reward", "s.reward"), ("advantage", "s.advantage"), ("logprob_gap", "s.logprob_gap"),
        ("outcome", "s.outcome"), ("finish_reason", "s.finish_reason"), ("truncated", "s.truncated"), ("turns", "s.turns"),
        ("prompt_tokens", "s.prompt_tokens"), ("response_tokens", "s.response_tokens"),
    ]

    /// Compiles a `--where` expression over samples.
    ///
    /// - Throws: ``InputError`` naming `--where`, the column of the first bad token and, for an
    ///   unknown field, the valid ones (and the closest).
    public init(where text: String) throws(InputError) {
        guard text.count <= FilterParser.maxLength else {
            throw InputError(
                file: RunFilter.source, field: "column \(FilterParser.maxLength + 1)",
                message: "filter is longer than \(FilterParser.maxLength) characters")
        }
        let tokens = try QueryLexer.tokens(text, source: RunFilter.source)
        var parser = FilterParser(tokens: tokens, source: RunFilter.source, resolveField: Self.resolve)
        let sql = try parser.filter()
        self.init(text: text, sql: sql, arguments: StatementArguments(parser.values))
    }

    private init(text: String, sql: String, arguments: StatementArguments) {
        self.text = text
        self.sql = sql
        self.arguments = arguments
    }

    /// The column a token names; anything else is an error naming the fields.
    static func resolve(_ token: QueryToken, source: String) throws(InputError) -> RunField {
        let names = fields.map(\.name)
        if case .word(let word) = token.kind {
            let name = word.lowercased()
            if RunField.keywords.contains(name) {
                throw InputError(file: source, field: "column \(token.column)", message: "expected a field, found \(token.described)")
            }
            if let field = fields.first(where: { $0.name == name }) { return .column(field.column) }
            let hint = RunField.closest(to: name, among: names).map { " (did you mean '\($0)'?)" } ?? ""
            throw InputError(
                file: source, field: "column \(token.column)",
                message: "unknown sample field '\(word)'\(hint); fields: \(names.joined(separator: ", "))")
        }
        throw InputError(
            file: source, field: "column \(token.column)",
            message: "expected a sample field (\(names.joined(separator: ", "))), found \(token.described)")
    }
}
