// rlhub — the code version recorded with every run: the git commit of the checkout the binary was
// built from, plus a hash of uncommitted changes, so that two runs agree on "same code" only when
// they really ran the same code.
import Crypto
import Foundation

/// The version of the code that produced a run.
public struct CodeVersion: Sendable, Equatable, CustomStringConvertible {
    /// Full commit hash, or `unknown` outside a git checkout.
    public var commit: String
    /// Whether tracked files differed from `commit`.
    public var dirty: Bool
    /// First 12 hex digits of SHA-256 over `git diff HEAD` (empty when clean).
    public var diffHash: String

    public init(commit: String, dirty: Bool, diffHash: String) {
        self.commit = commit
        self.dirty = dirty
        self.diffHash = diffHash
    }

    /// `commit` or `commit+dirty.DIFFHASH`: the string stored and compared.
    public var description: String { dirty ? "\(commit)+dirty.\(diffHash)" : commit }

    /// The checkout of the running binary (`.build/<config>/rlhub` lives two levels below it),
    /// else the working directory. Computed once per process.
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
        for root in roots where FileManager.default.fileExists(atPath: root + "/Package.swift") {
            if let v = of(checkout: root) { return v }
        }
        return CodeVersion(commit: "unknown", dirty: false, diffHash: "")
    }()

    /// The version of the git checkout at `root`, or nil when git cannot tell.
    public static func of(checkout root: String) -> CodeVersion? {
        guard let head = git(["rev-parse", "HEAD"], in: root)?.trimmingCharacters(in: .whitespacesAndNewlines),
              head.count == 40 else { return nil }
        // Only Sources/ and Package.swift change what a run computes; edits to docs or tests do not.
        let diff = git(["diff", "HEAD", "--", "Sources", "Package.swift"], in: root) ?? ""
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
