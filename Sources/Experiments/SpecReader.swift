// rlhub — typed reads of YAML nodes with errors that point at the line and column.
import Foundation
import LM
import RLHubCore
import Yams

/// Reads spec nodes; every error is an ``InputError`` naming `file`, `line L, column C`.
public struct SpecReader {
    let path: String

    func error(_ node: Node?, _ message: String) -> InputError {
        guard let mark = node?.mark else { return InputError(file: path, message: message) }
        return InputError(file: path, field: "line \(mark.line), column \(mark.column)", message: message)
    }

    /// A mapping whose keys must be among `allowed` (a misspelled key gets a suggestion).
    func mapping(_ node: Node, allowed: [String], context: String) throws -> [String: Node] {
        guard let mapping = node.mapping else { throw error(node, "\(context): expected a mapping of keys") }
        var out: [String: Node] = [:]
        for (k, v) in mapping {
            guard let key = k.string else { throw error(k, "\(context): keys must be strings") }
            guard allowed.contains(key) else {
                throw error(k, "\(context): unknown key '\(key)'" + Self.suggestion(key, allowed)
                    + " (valid: \(allowed.joined(separator: ", ")))")
            }
            if out[key] != nil { throw error(k, "\(context): key '\(key)' appears twice") }
            out[key] = v
        }
        return out
    }

    func sequence(_ node: Node, context: String) throws -> [Node] {
        guard let seq = node.sequence else { throw error(node, "\(context): expected a list") }
        return Array(seq)
    }

    func string(_ node: Node) throws -> String {
        guard let s = node.scalar?.string else { throw error(node, "expected a single value") }
        return s
    }

    func int(_ node: Node, min: Int) throws -> Int {
        guard let s = node.scalar?.string, let v = Int(s), v >= min else {
            throw error(node, "expected an integer ≥ \(min), got '\(node.scalar?.string ?? "a collection")'")
        }
        return v
    }

    /// A mapping of config keys to single values, in file order.
    func assignments(_ node: Node) throws -> [ExperimentSpec.Assignment] {
        guard let mapping = node.mapping else { throw error(node, "set: expected a mapping of config keys") }
        return try mapping.map { k, v in
            guard let key = k.string else { throw error(k, "set: keys must be strings") }
            guard let value = v.scalar?.string else { throw error(v, "set: \(key): expected a single value") }
            return ExperimentSpec.Assignment(key: key, value: value, line: k.mark?.line ?? 0, column: k.mark?.column ?? 0)
        }
    }

    /// ` (did you mean 'x'?)` for the closest candidate within edit distance 2.
    static func suggestion(_ word: String, _ candidates: [String]) -> String {
        let scored = candidates.map { ($0, editDistance(word, $0)) }.filter { $0.1 <= 2 }.sorted { $0.1 < $1.1 }
        return scored.first.map { " (did you mean '\($0.0)'?)" } ?? ""
    }

    /// Levenshtein distance (small strings only).
    public static func editDistance(_ a: String, _ b: String) -> Int {
        let a = Array(a), b = Array(b)
        var previous = Array(0...b.count)
        for i in 1...max(a.count, 1) where !a.isEmpty {
            var current = [i] + Array(repeating: 0, count: b.count)
            for j in 1...max(b.count, 1) where !b.isEmpty {
                current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
            }
            previous = current
        }
        return a.isEmpty ? b.count : previous[b.count]
    }
}
