// The `rlhub` binary the CLI tests run, and the guarantee that it is not stale: tests run a
// separately built executable by path, so an edit followed by `swift test` alone would otherwise
// test yesterday's binary.
import Foundation

/// The built `rlhub` executable of this checkout.
public enum RLHubBinary {
    /// `RLHUB_BIN`, else `.build/release/rlhub` or `.build/debug/rlhub` (the first that exists), else
    /// nil.
    public static let candidate: String? = {
        if let env = ProcessInfo.processInfo.environment["RLHUB_BIN"] { return env }
        return ["release", "debug"].map { SourceTree.root.appendingPathComponent(".build/\($0)/rlhub").path }
            .first { FileManager.default.isExecutableFile(atPath: $0) }
    }()

    /// Why the binary cannot be used: missing, or built from other sources than this tree.
    public struct Unusable: Error, CustomStringConvertible {
        public var description: String
    }

    private static let checked: Result<String, Unusable> = {
        guard let path = candidate else {
            return .failure(Unusable(description: "no rlhub binary: run `swift build -c release --product rlhub` (or set RLHUB_BIN)"))
        }
        let tree: String
        do { tree = try SourceTree.sha256() } catch {
            return .failure(Unusable(description: "cannot hash the source tree: \(error)"))
        }
        guard let run = try? runProcess(path, ["doctor", "--source-hash"]), run.status == 0 else {
            return .failure(Unusable(description: "\(path) doctor --source-hash failed: rebuild it"))
        }
        let embedded = run.out.trimmingCharacters(in: .whitespacesAndNewlines)
        guard embedded == tree else {
            return .failure(Unusable(description: "\(path) is stale: built from source \(embedded.prefix(12)), this tree is "
                + "\(tree.prefix(12)); run `swift build -c release --build-tests` (or `make build`) before the tests"))
        }
        return .success(path)
    }()

    /// The binary's path once it is known to be built from exactly this tree (its embedded
    /// `rlhub doctor --source-hash` equals ``SourceTree/sha256()``); checked once per process.
    /// - Throws: ``Unusable`` naming what to rebuild.
    public static func path() throws -> String { try checked.get() }
}
