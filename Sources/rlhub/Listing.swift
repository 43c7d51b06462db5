// rlhub — listings printed as aligned tables, CSV or JSON (every store verb shares this).
import ArgumentParser
import Foundation
import LM
import Experiments
import Store

/// `--format table|csv|json` of listing verbs.
enum ListingFormat: String, ExpressibleByArgument, CaseIterable {
    case table, csv, json
}

/// `--store DIR` (else `RLHUB_STORE`, else `.rlhub`).
struct StoreOptions: ParsableArguments {
    @Option(help: "Store folder (default: RLHUB_STORE or .rlhub).") var store: String?

    var directory: String { RunStore.defaultDirectory(flag: store) }

    /// Opens the store; a read-only verb refuses to create one where none exists.
    func open(create: Bool = false) throws -> RunStore {
        let dir = directory
        if !create && !FileManager.default.fileExists(atPath: dir + "/store.sqlite") {
            throw InputError(file: dir, message: "no store here (run a grid or `rlhub train` first, or pass --store)")
        }
        return try RunStore(directory: dir)
    }
}

/// Rows of named columns; `nil` cells print empty (table, CSV) or `null` (JSON).
struct Listing {
    var columns: [String]
    var rows: [[ListingValue?]]

    func print(_ format: ListingFormat) {
        let out: String
        switch format {
        case .table:
            let texts = rows.map { $0.map { $0?.text ?? "" } }
            let widths = columns.indices.map { c in max(columns[c].count, texts.map { $0[c].count }.max() ?? 0) }
            func line(_ cells: [String]) -> String {
                zip(cells, widths).map { $0.padding(toLength: $1, withPad: " ", startingAt: 0) }.joined(separator: "  ")
                    .replacingOccurrences(of: "\\s+$", with: "", options: .regularExpression)
            }
            out = ([line(columns)] + texts.map(line)).joined(separator: "\n") + "\n"
        case .csv:
            func quote(_ s: String) -> String {
                s.contains(where: { ",\"\n\r".contains($0) }) ? "\"" + s.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : s
            }
            out = ([columns.map(quote).joined(separator: ",")] + rows.map { $0.map { quote($0?.text ?? "") }.joined(separator: ",") })
                .joined(separator: "\n") + "\n"
        case .json:
            let objects = rows.map { row in
                "{" + zip(columns, row).map { "\(jsonString($0)): \($1?.json ?? "null")" }.joined(separator: ", ") + "}"
            }
            out = "[" + (objects.isEmpty ? "" : "\n  " + objects.joined(separator: ",\n  ") + "\n") + "]\n"
        }
        FileHandle.standardOutput.write(Data(out.utf8))
    }
}

/// A typed cell, so JSON keeps numbers as numbers.
enum ListingValue {
    case text(String)
    case int(Int)
    case double(Double)

    var text: String {
        switch self {
        case .text(let s): s
        case .int(let i): String(i)
        case .double(let d): d.isFinite ? String(format: "%.6g", d) : "nan"
        }
    }

    var json: String {
        switch self {
        case .text(let s): jsonString(s)
        case .int(let i): String(i)
        case .double(let d): d.isFinite ? "\(d)" : "null"
        }
    }
}

func jsonString(_ s: String) -> String {
    var out = "\""
    for u in s.unicodeScalars {
        switch u {
        case "\"": out += "\\\""
        case "\\": out += "\\\\"
        case "\n": out += "\\n"
        case "\r": out += "\\r"
        case "\t": out += "\\t"
        default: out += u.value < 0x20 ? String(format: "\\u%04x", u.value) : String(u)
        }
    }
    return out + "\""
}

extension Optional where Wrapped == String {
    var cell: ListingValue? { map(ListingValue.text) }
}
extension Optional where Wrapped == Double {
    var cell: ListingValue? { map(ListingValue.double) }
}

/// Loads a model REF; store references (`run:ID[@STEP]`, `sha256:HEX`, `hub:RELEASE/RUN[@STEP]`,
/// `cell:HASH`, a `.tar.zst` archive) are resolved through the store first, and so is the base of a
/// LoRA adapter folder.
func loadModel(_ ref: String, seed: UInt64, store: StoreOptions) throws -> LoadedModel {
    let storeRefs = ["run:", "sha256:", "cell:", "hub:"]
    var resolver: ModelResolver?  // the store is opened only when a reference needs it
    func resolve(_ r: String) throws -> String {
        guard storeRefs.contains(where: r.hasPrefix) || r.hasSuffix(".tar.zst") else { return r }
        let opened = try resolver ?? ModelResolver(store: try store.open(create: r.hasSuffix(".tar.zst")))
        resolver = opened
        return try opened.resolve(r)
    }
    return try ModelLoader.load(try resolve(ref), seed: seed, resolveBase: resolve)
}
