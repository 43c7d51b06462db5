// rlhub — values printed for scripts (JSON) and people (short numbers).
import Foundation
import Store

/// Prints `value` as indented JSON (non-finite numbers as `null`).
func printJSON<T: Encodable>(_ value: T) throws {
    let data = try OutputJSON.encode(value, pretty: true)
    FileHandle.standardOutput.write(data)
    FileHandle.standardOutput.write(Data("\n".utf8))
}

/// Six significant digits, or `-` for a missing value.
func fmt(_ v: Double?) -> String { v.map { String(format: "%.6g", $0) } ?? "-" }
