// rlhub — `--format F` of every verb that prints results: one enum of output formats, one option
// group, and per verb the formats it offers (docs/cli.md: tables for people by default, json for
// scripts, csv for listings, text for reports on runs, markdown for `compare`).
import ArgumentParser

/// Every format a verb can print.
enum OutputFormat: String, Sendable {
    case table, text, csv, json, markdown
}

/// The formats a verb offers; the first is its default.
protocol FormatChoices {
    static var formats: [OutputFormat] { get }
}

/// One record or report for people, or JSON (`show`, `doctor`, `pull`, …).
enum TableOrJSON: FormatChoices { static let formats: [OutputFormat] = [.table, .json] }
/// Listings: aligned columns, CSV or JSON (`runs`, `curve`, `checkpoints`, …).
enum ListingFormats: FormatChoices { static let formats: [OutputFormat] = [.table, .csv, .json] }
/// Reports on runs in lines of text, or JSON (`samples`, `check`, `diff`).
enum TextOrJSON: FormatChoices { static let formats: [OutputFormat] = [.text, .json] }
/// `compare`: a table, JSON, or GitHub Markdown tables.
enum ComparisonFormats: FormatChoices { static let formats: [OutputFormat] = [.table, .json, .markdown] }

/// A `--format` value among the ones `Choices` offers: `--help` lists exactly those, and any other
/// is refused by the parser (exit status 2, naming the valid ones).
struct ChosenFormat<Choices: FormatChoices>: ExpressibleByArgument {
    var format: OutputFormat

    init(_ format: OutputFormat) { self.format = format }

    init?(argument: String) {
        guard let format = OutputFormat(rawValue: argument), Choices.formats.contains(format) else { return nil }
        self.format = format
    }

    var defaultValueDescription: String { format.rawValue }
    static var allValueStrings: [String] { Choices.formats.map(\.rawValue) }
    static var defaultCompletionKind: CompletionKind { .list(allValueStrings) }
}

/// `--format F`: the output-format option of every verb that prints results.
struct FormatOptions<Choices: FormatChoices>: ParsableArguments {
    @Option(name: .customLong("format"), help: ArgumentHelp(Self.helpText, valueName: "format"))
    var chosen = ChosenFormat<Choices>(Choices.formats[0])

    /// The format to print in.
    var format: OutputFormat { chosen.format }

    /// "table, csv or json."
    static var helpText: String {
        let names = Choices.formats.map(\.rawValue)
        return names.dropLast().joined(separator: ", ") + " or " + names[names.count - 1] + "."
    }
}
