// rlhub — YAML read within limits: a size bound, then libyaml's event parser counts the nesting
// before Yams builds any node. Yams' composer recurses once per level, so a document nested a few
// thousand levels deep would overflow the stack (a SIGSEGV in `rlhub grid`, or in `rlhub serve`
// rendering a pulled release's stored spec); libyaml's parser itself keeps its state on the heap.
import CYaml
import Foundation
import LM
import RLHubCore
import Yams

/// YAML specs and config files, parsed only after their size and nesting are checked.
///
/// ```swift
/// let text = try BoundedYAML.read("experiments/smoke.yaml")
/// let root = try BoundedYAML.compose(text, path: "experiments/smoke.yaml")
/// ```
public enum BoundedYAML {
    /// The largest YAML text accepted: 1 MiB (the repository's largest spec is under 2 KiB).
    public static let maxBytes = 1 << 20
    /// The deepest nesting of mappings and sequences accepted: 64 (a spec needs 4).
    public static let maxDepth = 64

    /// The text of `path`, refused beyond ``maxBytes`` without reading the rest.
    /// - Throws: ``InputError`` naming the file: unreadable (with the OS error), not a regular
    ///   file, too large, or not UTF-8.
    public static func read(_ path: String) throws(InputError) -> String {
        let data = try BoundedFile.read(path, limit: maxBytes)
        guard let text = String(validating: data, as: UTF8.self) else { throw InputError(file: path, message: "not UTF-8 text") }
        return text
    }

    /// Checks `text` with ``check(_:path:)``, then composes it with Yams.
    /// - Throws: ``InputError`` for the limits; Yams' `YamlError` for invalid YAML.
    public static func compose(_ text: String, path: String) throws -> Node? {
        try check(text, path: path)
        return try Yams.compose(yaml: text)
    }

    /// Refuses text over ``maxBytes`` or nested deeper than ``maxDepth``, naming the line and
    /// column where the limit is crossed. Syntax errors are left to Yams, which words them better.
    public static func check(_ text: String, path: String) throws(InputError) {
        let bytes = Array(text.utf8)
        guard bytes.count <= maxBytes else {
            throw InputError(file: path, message: "\(bytes.count) bytes; YAML is limited to \(maxBytes) bytes (1 MiB)")
        }
        var parser = yaml_parser_t()
        guard yaml_parser_initialize(&parser) == 1 else { throw InputError(file: path, message: "cannot start the YAML parser (out of memory)") }
        defer { yaml_parser_delete(&parser) }
        try bytes.withUnsafeBufferPointer { (buffer) throws(InputError) in
            guard let base = buffer.baseAddress else { return }
            yaml_parser_set_input_string(&parser, base, buffer.count)
            var depth = 0
            while true {
                var event = yaml_event_t()
                guard yaml_parser_parse(&parser, &event) == 1 else { return }
                let type = event.type, mark = event.start_mark
                yaml_event_delete(&event)
                switch type {
                case YAML_SEQUENCE_START_EVENT, YAML_MAPPING_START_EVENT:
                    depth += 1
                    guard depth <= maxDepth else {
                        throw InputError(file: path, field: "line \(mark.line + 1), column \(mark.column + 1)",
                                         message: "nested deeper than \(maxDepth) levels of mappings and lists")
                    }
                case YAML_SEQUENCE_END_EVENT, YAML_MAPPING_END_EVENT: depth -= 1
                case YAML_STREAM_END_EVENT: return
                default: break
                }
            }
        }
    }
}
