// The code version: what is stored with a run, how a stored one is read back, and that the source
// hash embedded at build time is the hash of this tree.
import RLHubCore
import Testing
import TestSupport

@Suite struct CodeVersionTests {
    static let commit = String(repeating: "a", count: 40)
    static let source = String(repeating: "5", count: 64)

    @Test func storedTextRoundTrips() {
        for version in [
            CodeVersion(commit: Self.commit, dirty: false, diffHash: "", sourceHash: Self.source),
            CodeVersion(commit: Self.commit, dirty: true, diffHash: "0123456789ab", sourceHash: Self.source),
            CodeVersion(commit: "unknown", dirty: false, diffHash: "", sourceHash: Self.source),
        ] {
            #expect(CodeVersion(recorded: version.description) == version, "\(version)")
        }
        #expect(CodeVersion(commit: Self.commit, dirty: true, diffHash: "0123456789ab", sourceHash: Self.source).description
                == "\(Self.commit)+dirty.0123456789ab source:\(Self.source)")
    }

    /// Runs stored before the source hash existed (the published baselines-v1 among them) keep
    /// their text and read back with an empty source hash.
    @Test func runsStoredBeforeTheSourceHashReadBack() {
        let old = CodeVersion(recorded: "66a188906b7741c791aee098697b52c7fcb93115")
        #expect(old == CodeVersion(commit: "66a188906b7741c791aee098697b52c7fcb93115", dirty: false, diffHash: ""))
        #expect(old.description == "66a188906b7741c791aee098697b52c7fcb93115")
        let dirty = CodeVersion(recorded: "\(Self.commit)+dirty.0123456789ab")
        #expect(dirty.dirty && dirty.diffHash == "0123456789ab" && dirty.sourceHash.isEmpty)
    }

    /// Same source hash is same code whatever the commit (a docs-only commit); anything else,
    /// including a run without a source hash, is not.
    @Test func sameCodeMeansSameSourceHash() {
        let current = CodeVersion(commit: Self.commit, dirty: false, diffHash: "", sourceHash: Self.source)
        let docsOnly = CodeVersion(commit: String(repeating: "b", count: 40), dirty: false, diffHash: "", sourceHash: Self.source)
        #expect(current.isSameCode(asRecorded: docsOnly.description))
        var edited = current
        edited.sourceHash = String(repeating: "6", count: 64)
        #expect(!current.isSameCode(asRecorded: edited.description))
        #expect(!current.isSameCode(asRecorded: Self.commit))
        #expect(!CodeVersion(commit: Self.commit, dirty: false, diffHash: "").isSameCode(asRecorded: Self.commit))
    }

    /// The plugin's hash (its own SHA-256, over the folders and versions SwiftPM gave it) equals
    /// swift-crypto's over the files on disk and Package.resolved: this test bundle was compiled
    /// from this tree, so both describe the same files.
    @Test func embeddedSourceHashIsTheTreeHash() throws {
        let embedded = CodeVersion.current.sourceHash
        #expect(embedded.count == 64 && embedded.allSatisfy { $0.isHexDigit })
        #expect(embedded == (try SourceTree.sha256()))
    }
}
