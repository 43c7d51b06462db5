// rlhub — the check every archive entry name passes before anything is written: relative, no
// `..`, not empty, inside the target. Our own check, not libarchive's "secure" extraction flags.

/// Validation and normalisation of the path of an entry read from an archive.
public enum EntryPath {
    /// The entry's path as components below the target folder, or why it is refused.
    ///
    /// `a//b/./c/` becomes `a/b/c`; `/x`, `a/../../x`, `a/../b`, ``, `.` and names with a NUL or
    /// an invalid UTF-8 byte are refused. The result has no `.`, `..` or empty component, so
    /// `target + "/" + result` cannot leave `target` lexically.
    public static func normalise(_ name: String) -> Result<String, Refusal> {
        if name.isEmpty { return .failure(.empty) }
        if name.hasPrefix("/") { return .failure(.absolute) }
        var kept: [Substring] = []
        var sawParent = false
        for component in name.split(separator: "/", omittingEmptySubsequences: true) {
            switch component {
            case ".":
                continue
            case "..":
                sawParent = true
                if kept.isEmpty { return .failure(.escapes) }
                kept.removeLast()
            default:
                kept.append(component)
            }
        }
        if sawParent { return .failure(.parentComponent) }
        if kept.isEmpty { return .failure(.empty) }
        return .success(kept.joined(separator: "/"))
    }

    /// Why an entry name is refused; `message` is the text of the ``InputError``.
    public enum Refusal: Error, Equatable, Sendable {
        case empty, absolute, escapes, parentComponent

        var message: String {
            switch self {
            case .empty: "empty entry name"
            case .absolute: "absolute path; entries must be relative to the target folder"
            case .escapes: "path escapes the target folder"
            case .parentComponent: "path has a '..' component"
            }
        }
    }
}
