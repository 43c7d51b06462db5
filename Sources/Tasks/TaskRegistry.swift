// rlhub — the task registry: `--task` spec strings (`add:digits=3`) to tasks.
import RLHubCore

/// Makes tasks from `--task` spec strings: `name` or `name:key=value,key=value`.
///
/// ```swift
/// let task = try TaskRegistry.make("add:digits=3")
/// task.spec            // "add:digits=3,format=0,lenient=false"
/// ```
///
/// | task | parameter | default | valid | meaning |
/// |---|---|---|---|---|
/// | add | digits | 2 | 1...20 | digits of each operand |
/// | sort | length | 5 | 1...20 | digits in the list |
/// | reverse | length | 5 | 1...20 | letters in the word |
/// | countdown | count | 3 | 3...4 | numbers given |
/// | countdown | max | 10 | 2...100 | largest number given |
/// | guess | max | 100 | 2...10000 | the hidden number is in 1...max |
/// | guess | turns | 10 | 1...50 | most guesses (at least what binary search needs) |
/// | frozenlake | size | 4 | 3...8 | grid side |
/// | frozenlake | slippery | false | flag | moves turn left/right with probability 1/3 each |
/// | frozenlake | turns | 10 | 2...100 | most moves |
/// | calc | digits | 2 | 1...6 | digits of each operand |
/// | calc | style | expr | expr, word | bare expression or word problem |
/// | calc | turns | 3 | 2...10 | most assistant turns (tool calls + answer) |
/// | all | format | 0 | 0...1 | reward for a well-formed wrong answer |
/// | all but calc | lenient | false | flag | extract the last answer-like token from a chatty reply |
///
/// ``parameterTable`` renders the same table from the declarations.
public enum TaskRegistry {
    struct Entry: Sendable {
        let name: String
        let summary: String
        let parameters: [TaskParameter]
        let make: @Sendable (TaskParameters) throws(InputError) -> any RLTask
    }

    static let entries: [Entry] = [
        Entry(name: "add", summary: "n-digit addition", parameters: AddTask.declaredParameters) { p in AddTask(p) },
        Entry(name: "sort", summary: "sort a list of digits", parameters: SortTask.declaredParameters) { p in
            SortTask(p)
        },
        Entry(name: "reverse", summary: "reverse a lowercase word", parameters: ReverseTask.declaredParameters) {
            p in ReverseTask(p)
        },
        Entry(
            name: "countdown", summary: "reach a target with + - * / from given numbers",
            parameters: CountdownTask.declaredParameters
        ) { p in CountdownTask(p) },
        Entry(
            name: "guess", summary: "multi-turn: find a hidden number from higher/lower feedback",
            parameters: GuessTask.declaredParameters
        ) { p throws(InputError) in try GuessTask(p) },
        Entry(
            name: "frozenlake", summary: "multi-turn: walk a text grid to the goal avoiding holes",
            parameters: FrozenLakeTask.declaredParameters
        ) { p in FrozenLakeTask(p) },
        Entry(
            name: "calc", summary: "tool use: arithmetic with a <calc>expr</calc> calculator",
            parameters: CalcTask.declaredParameters
        ) { p in CalcTask(p) },
    ]

    /// Registered task names, in the order of the table above.
    public static var names: [String] { entries.map(\.name) }

    /// Declared parameters of task `name` (nil for an unknown name).
    public static func parameters(of name: String) -> [TaskParameter]? {
        entries.first { $0.name == name }?.parameters
    }

    /// Parses a spec and makes the task. `rg:NAME[:…]`, `py:FILE.py[:…]` and `cmd:PROGRAM[:…]`
    /// are external environments (``ExternalTask``, docs/environments.md), started here.
    ///
    /// - Throws: ``InputError`` with file `--task`, on one line: an unknown task (listing the
    ///   names), an unknown key (listing the task's keys), a bad value (naming the key and the
    ///   valid values), a malformed `key=value`, or an inconsistent combination; for an external
    ///   environment also one naming it when it cannot be started or misbehaves.
    public static func make(_ spec: String) throws(InputError) -> any RLTask {
        if ExternalTask.handles(spec) { return try ExternalTask.make(spec) }
        let (entry, given) = try parse(spec)
        let resolved = try TaskParameters.resolve(task: entry.name, declared: entry.parameters, given: given)
        return try entry.make(resolved)
    }

    /// The canonical spec (keys sorted, defaults filled in) of a valid spec.
    public static func canonicalSpec(_ spec: String) throws(InputError) -> String {
        try make(spec).spec
    }

    /// Markdown table of every task's parameters, defaults and valid values.
    public static var parameterTable: String {
        var lines = ["| task | parameter | default | valid | meaning |", "|---|---|---|---|---|"]
        for e in entries {
            for p in e.parameters {
                lines.append("| \(e.name) | \(p.key) | \(p.defaultValue) | \(p.kind.validValues) | \(p.help) |")
            }
        }
        return lines.joined(separator: "\n")
    }

    /// One line per task: name and summary.
    public static var summaries: [(name: String, summary: String)] { entries.map { ($0.name, $0.summary) } }

    private static func parse(_ spec: String) throws(InputError) -> (Entry, [(key: String, value: String)]) {
        let trimmed = spec.trimmingASCIIWhitespace()
        let validNames = names.joined(separator: ", ") + ", or rg:NAME, py:FILE.py, cmd:PROGRAM"
        let colon = trimmed.firstIndex(of: ":")
        let name = String(colon.map { trimmed[..<$0] } ?? trimmed[...]).trimmingASCIIWhitespace()
        guard !name.isEmpty else {
            throw InputError(file: "--task", message: "empty task name (valid: \(validNames))")
        }
        guard let entry = entries.first(where: { $0.name == name }) else {
            throw InputError(file: "--task", message: "unknown task '\(name)' (valid: \(validNames))")
        }
        var given: [(key: String, value: String)] = []
        if let colon {
            let rest = trimmed[trimmed.index(after: colon)...]
            for item in rest.split(separator: ",", omittingEmptySubsequences: false) {
                let pair = item.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
                let key = String(pair[0]).trimmingASCIIWhitespace()
                guard pair.count == 2, !key.isEmpty else {
                    let example = "\(name):\(entry.parameters[0].key)=\(entry.parameters[0].defaultValue)"
                    throw InputError(
                        file: "--task", field: name, message: "expected key=value, got '\(item)' (e.g. \(example))")
                }
                given.append((key, String(pair[1]).trimmingASCIIWhitespace()))
            }
        }
        return (entry, given)
    }
}
