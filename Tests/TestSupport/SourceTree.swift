// The source hash of this checkout, computed independently of SourceHashPlugin (with swift-crypto,
// from the files on disk and Package.resolved), so tests can tell whether a binary was built from
// exactly this tree.
import Crypto
import Foundation

/// The package this test bundle was compiled from.
public enum SourceTree {
    /// Root of the package (the folder holding Package.swift).
    public static let root: URL = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent()

    /// Folders whose files the binary is compiled from: every target folder under Sources/ except
    /// the plugin's own tool, and Benchmarks/. SourceHashPlugin derives its list from the package
    /// graph instead, so a target added elsewhere makes the two disagree (and a test fail).
    public static func compiledFolders() throws -> [String] {
        let sources = try FileManager.default.contentsOfDirectory(atPath: root.appendingPathComponent("Sources").path)
        return sources.filter { !$0.hasPrefix(".") && $0 != "SourceHashTool" }.map { "Sources/" + $0 } + ["Benchmarks"]
    }

    /// SHA-256 of the tree as ``CodeVersion/sourceHash`` defines it: the `sha256sum` listing of
    /// Package.swift and every non-hidden file under ``compiledFolders()``, sorted by path, followed
    /// by `dependency IDENTITY VERSION` for every pin of Package.resolved, sorted.
    public static func sha256() throws -> String {
        var paths = ["Package.swift"]
        for folder in try compiledFolders() {
            let base = root.appendingPathComponent(folder)
            guard let walk = FileManager.default.enumerator(
                at: base, includingPropertiesForKeys: [.isRegularFileKey], options: [.skipsHiddenFiles])
            else { continue }
            for case let url as URL in walk where (try url.resourceValues(forKeys: [.isRegularFileKey])).isRegularFile == true {
                paths.append(folder + "/" + String(url.standardizedFileURL.path.dropFirst(base.standardizedFileURL.path.count + 1)))
            }
        }
        var manifest = ""
        for path in paths.sorted(by: { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) }) {
            let data = try Data(contentsOf: root.appendingPathComponent(path))
            manifest += hex(SHA256.hash(data: data)) + "  " + path + "\n"
        }
        for line in try resolvedDependencies() { manifest += "dependency " + line + "\n" }
        return hex(SHA256.hash(data: Data(manifest.utf8)))
    }

    /// `IDENTITY VERSION` of every pin in Package.resolved (written by SwiftPM when it resolved the
    /// dependencies this build used), sorted.
    public static func resolvedDependencies() throws -> [String] {
        struct Resolved: Decodable {
            struct Pin: Decodable {
                struct State: Decodable { var version: String? }
                var identity: String
                var state: State
            }
            var pins: [Pin]
        }
        let data = try Data(contentsOf: root.appendingPathComponent("Package.resolved"))
        return try JSONDecoder().decode(Resolved.self, from: data).pins
            .map { "\($0.identity) \($0.state.version ?? "")" }.sorted()
    }

    private static func hex(_ digest: SHA256.Digest) -> String { digest.map { String(format: "%02x", $0) }.joined() }
}
