// rlhub — the code version recorded with every run. "Same code" is the SHA-256 of the source tree
// the binary was compiled from (embedded at build time by SourceHashPlugin), so a commit that
// changes only docs or tests keeps it, and any change to Sources/, Package.swift or a resolved
// dependency changes it. The git commit of the checkout (plus a hash of its uncommitted changes)
// is recorded beside it for provenance; it no longer decides whether two runs ran the same code.
import Crypto
import Foundation

/// The version of the code that produced a run.
public struct CodeVersion: Sendable, Equatable, CustomStringConvertible {
    /// Full commit hash, or `unknown` outside a git checkout.
    public var commit: String
    /// Whether tracked files under `Sources/`, `Benchmarks/` or `Package.swift` differed from `commit`.
    public var dirty: Bool
    /// First 12 hex digits of SHA-256 over `git diff HEAD` (empty when clean).
    public var diffHash: String
    /// SHA-256 (64 hex digits) of the source tree the binary was compiled from: every file of the
    /// package's non-test targets, `Package.swift` and the resolved dependency versions. Empty for
    /// runs recorded before rlhub embedded it.
    public var sourceHash: String

    public init(commit: String, dirty: Bool, diffHash: String, sourceHash: String = "") {
        self.commit = commit
        self.dirty = dirty
        self.diffHash = diffHash
        self.sourceHash = sourceHash
    }

    /// The string stored with a run: `COMMIT[+dirty.DIFFHASH] source:SOURCEHASH` (without the
    /// source part when ``sourceHash`` is empty, as runs stored before it was recorded).
    public var description: String {
        let git = dirty ? "\(commit)+dirty.\(diffHash)" : commit
        return sourceHash.isEmpty ? git : "\(git) \(Self.sourceMarker)\(sourceHash)"
    }

    static let sourceMarker = "source:"

    /// ``description`` with both hashes cut to 12 digits, for one-line messages.
    public var abbreviated: String {
        let git = String(commit.prefix(12)) + (dirty ? "+dirty" : "")
        return sourceHash.isEmpty ? git : "\(git) \(Self.sourceMarker)\(sourceHash.prefix(12))"
    }

    /// Parses a stored ``description``; runs stored before the source hash existed give an empty
    /// ``sourceHash``, so they never count as the same code as a current binary.
    public init(recorded text: String) {
        let parts = text.split(separator: " ", maxSplits: 1).map(String.init)
        let git = parts.first ?? ""
        if let plus = git.range(of: "+dirty.") {
            self.init(commit: String(git[..<plus.lowerBound]), dirty: true, diffHash: String(git[plus.upperBound...]))
        } else {
            self.init(commit: git, dirty: false, diffHash: "")
        }
        if parts.count == 2, parts[1].hasPrefix(Self.sourceMarker) {
            sourceHash = String(parts[1].dropFirst(Self.sourceMarker.count))
        }
    }

    /// Whether a run recorded with `recorded` ran the same code as this version: same source hash
    /// (the commit may differ by docs and tests). A run without a source hash never matches.
    public func isSameCode(asRecorded recorded: String) -> Bool {
        !sourceHash.isEmpty && CodeVersion(recorded: recorded).sourceHash == sourceHash
    }

    /// This binary: its embedded source hash, and the git state of the checkout it runs from
    /// (`.build/<config>/rlhub` lives two levels below it, else the working directory), or
    /// `unknown` outside a checkout. Computed once per process.
    public static let current: CodeVersion = {
        var roots: [String] = []
        if let exe = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") {
            var url = URL(fileURLWithPath: exe).deletingLastPathComponent()
            for _ in 0..<4 {
                roots.append(url.path)
                url.deleteLastPathComponent()
            }
        }
        roots.append(FileManager.default.currentDirectoryPath)
        var version = CodeVersion(commit: "unknown", dirty: false, diffHash: "")
        for root in roots where FileManager.default.fileExists(atPath: root + "/Package.swift") {
            if let v = of(checkout: root) {
                version = v
                break
            }
        }
        version.sourceHash = embeddedSourceHash
        return version
    }()

    /// The git state of the checkout at `root` (no source hash), or nil when git cannot tell.
    public static func of(checkout root: String) -> CodeVersion? {
        guard let head = git(["rev-parse", "HEAD"], in: root)?.trimmingCharacters(in: .whitespacesAndNewlines),
              head.count == 40 else { return nil }
        // Only the compiled folders and Package.swift change what a run computes; docs and tests do not.
        let diff = git(["diff", "HEAD", "--", "Sources", "Benchmarks", "Package.swift"], in: root) ?? ""
        guard !diff.isEmpty else { return CodeVersion(commit: head, dirty: false, diffHash: "") }
        let digest = SHA256.hash(data: Data(diff.utf8)).map { String(format: "%02x", $0) }.joined()
        return CodeVersion(commit: head, dirty: true, diffHash: String(digest.prefix(12)))
    }

    private static func git(_ args: [String], in root: String) -> String? {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["git", "-C", root] + args
        let out = Pipe()
        p.standardOutput = out
        p.standardError = FileHandle.nullDevice
        do { try p.run() } catch { return nil }
        let data = out.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return p.terminationStatus == 0 ? String(decoding: data, as: UTF8.self) : nil
    }
}
