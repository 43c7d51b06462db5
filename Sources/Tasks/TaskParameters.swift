// rlhub — typed task parameters: declaration, validation with one-line errors, canonical values.
import RLHubCore

/// One declared parameter of a task (`digits` of `add`, …).
public struct TaskParameter: Sendable, Equatable {
    /// The values a parameter accepts.
    public enum Kind: Sendable, Equatable {
        /// An integer in the range.
        case integer(ClosedRange<Int>)
        /// A finite number in the range.
        case number(ClosedRange<Double>)
        /// A boolean: `true`/`false`, `1`/`0`, `yes`/`no`, `on`/`off`.
        case flag
        /// One of the listed words.
        case choice([String])
    }

    /// Key in a spec string (`digits` in `add:digits=3`).
    public let key: String
    public let kind: Kind
    /// Default value in canonical form.
    public let defaultValue: String
    /// One line: what the parameter means.
    public let help: String

    init(_ key: String, _ kind: Kind, default defaultValue: String, _ help: String) {
        self.key = key
        self.kind = kind
        self.help = help
        // Declarations are static; a bad default is a programming error.
        guard let canonical = TaskParameter.canonicalize(defaultValue, kind) else {
            preconditionFailure("default '\(defaultValue)' of '\(key)' is not \(kind.validValues)")
        }
        self.defaultValue = canonical
    }

    /// `format`: partial reward for a well-formed wrong answer (shared by every task).
    static let format = TaskParameter(
        "format", .number(0...1), default: "0",
        "reward for a well-formed but wrong answer (0 = off; a correct answer always earns 1)")

    /// `lenient`: accept chatty answers by extracting the last answer-like token.
    static let lenient = TaskParameter(
        "lenient", .flag, default: "false",
        "take the last number/word of a chatty reply instead of requiring the reply to be only the answer")

    /// The canonical form of `raw`, or `nil` when it is not a valid value.
    static func canonicalize(_ raw: String, _ kind: Kind) -> String? {
        switch kind {
        case .integer(let range):
            guard let v = Int(raw), range.contains(v) else { return nil }
            return String(v)
        case .number(let range):
            guard let v = Double(raw), v.isFinite, range.contains(v) else { return nil }
            return v == v.rounded() && abs(v) < 1e15 ? String(Int(v)) : String(v)
        case .flag:
            switch raw.lowercased() {
            case "1", "true", "yes", "on": return "true"
            case "0", "false", "no", "off": return "false"
            default: return nil
            }
        case .choice(let words):
            return words.contains(raw) ? raw : nil
        }
    }
}

extension TaskParameter.Kind {
    /// "an integer in 1...20", for error messages and the parameter table.
    public var validValues: String {
        switch self {
        case .integer(let r): return "an integer in \(r.lowerBound)...\(r.upperBound)"
        case .number(let r):
            return "a number in \(TaskParameters.render(r.lowerBound))...\(TaskParameters.render(r.upperBound))"
        case .flag: return "true or false"
        case .choice(let words): return "one of " + words.joined(separator: ", ")
        }
    }
}

/// Resolved parameter values of one task (every declared key present, canonical strings).
public struct TaskParameters: Sendable, Equatable {
    /// Canonical value per key.
    public let values: [String: String]

    /// Resolves `given` (raw strings) against `declared`, filling in defaults.
    ///
    /// - Throws: ``InputError`` on `--task`, field `task`, naming the key and its valid values.
    static func resolve(
        task: String, declared: [TaskParameter], given: [(key: String, value: String)]
    ) throws(InputError) -> TaskParameters {
        var values: [String: String] = [:]
        for p in declared { values[p.key] = p.defaultValue }
        var seen: Set<String> = []
        for (key, raw) in given {
            guard let p = declared.first(where: { $0.key == key }) else {
                let valid = declared.map(\.key).sorted().joined(separator: ", ")
                throw InputError(file: "--task", field: task, message: "unknown parameter '\(key)' (valid: \(valid))")
            }
            guard seen.insert(key).inserted else {
                throw InputError(file: "--task", field: task, message: "parameter '\(key)' given twice")
            }
            guard let canonical = TaskParameter.canonicalize(raw, p.kind) else {
                throw InputError(
                    file: "--task", field: task, message: "\(key) must be \(p.kind.validValues), got '\(raw)'")
            }
            values[key] = canonical
        }
        return TaskParameters(values: values)
    }

    /// `name:key=value,...` with keys sorted (`name` alone when there are no parameters).
    public func canonicalSpec(taskName: String) -> String {
        let pairs = values.keys.sorted().map { "\($0)=\(values[$0] ?? "")" }
        return pairs.isEmpty ? taskName : taskName + ":" + pairs.joined(separator: ",")
    }

    /// The value of `key` as written in the canonical spec.
    public subscript(key: String) -> String? { values[key] }

    func int(_ key: String) -> Int {
        guard let s = values[key], let v = Int(s) else { preconditionFailure("no integer parameter '\(key)'") }
        return v
    }

    func double(_ key: String) -> Double {
        guard let s = values[key], let v = Double(s) else { preconditionFailure("no number parameter '\(key)'") }
        return v
    }

    func flag(_ key: String) -> Bool {
        guard let s = values[key] else { preconditionFailure("no flag parameter '\(key)'") }
        return s == "true"
    }

    func string(_ key: String) -> String {
        guard let s = values[key] else { preconditionFailure("no parameter '\(key)'") }
        return s
    }

    static func render(_ v: Double) -> String {
        v == v.rounded() && abs(v) < 1e15 ? String(Int(v)) : String(v)
    }
}
