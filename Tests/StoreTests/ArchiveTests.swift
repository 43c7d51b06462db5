// rlhub — checkpoint archives and the blob store: round trips, determinism, tamper detection,
// hostile archives, and a seeded mutation fuzz of extraction.
import Foundation
import RLHubCore
import TestSupport
import Testing

import Store

#if canImport(Glibc)
    import Glibc
#endif

@Suite struct ArchiveTests {
    /// A checkpoint-like folder: nested and empty folders, a 5 MB file, an empty file, a name over
    /// 100 bytes (pax header) and a non-ASCII name.
    static func makeCheckpoint(in scratch: ScratchFolder, name: String = "ckpt") throws -> String {
        var rng = SplitMix64(state: 42)
        try scratch.write("\(name)/config.json", Array(#"{"hidden_size": 64}"#.utf8))
        try scratch.write("\(name)/model/weights.bin", rng.bytes(5_000_000))
        try scratch.write("\(name)/model/empty.bin", [])
        try scratch.write("\(name)/données/notes.txt", Array("é".utf8))
        try scratch.write(
            "\(name)/" + String(repeating: "long-", count: 25) + "name.txt", rng.bytes(300))
        try scratch.write("\(name)/a-b", [1, 2, 3])
        try FileManager.default.createDirectory(
            atPath: scratch.sub("\(name)/model/empty-folder/deeper"),
            withIntermediateDirectories: true)
        return scratch.sub(name)
    }

    // MARK: - Pack and extract

    @Test func packThenExtractRoundTripsNestedFoldersAndA5MBFile() throws {
        let scratch = try ScratchFolder("roundtrip")
        defer { scratch.cleanup() }
        let folder = try Self.makeCheckpoint(in: scratch)
        let archive = scratch.sub("ckpt.tar.zst")
        try CheckpointArchive.pack(folder: folder, to: archive)
        #expect(listing(scratch.path) == ["ckpt", "ckpt.tar.zst"])  // no temporary left behind

        let entries = try CheckpointArchive.listEntries(archive: archive)
        let paths = entries.map { $0.path.hasSuffix("/") ? String($0.path.dropLast()) : $0.path }
        #expect(paths == paths.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) })
        #expect(
            entries.contains(
                CheckpointArchive.Entry(path: "model/weights.bin", size: 5_000_000, type: .file)))
        #expect(entries.allSatisfy { $0.type == .file || $0.type == .folder })

        let target = scratch.sub("restored")
        try CheckpointArchive.extract(
            archive: archive, into: target, maxTotalBytes: 6_000_000, maxEntries: 20)
        #expect(try snapshot(target) == snapshot(folder))
        #expect(listing(scratch.path) == ["ckpt", "ckpt.tar.zst", "restored"])
        let mode = try FileManager.default.attributesOfItem(atPath: target + "/config.json")[
            .posixPermissions]
        #expect(mode as? Int == 0o644)
    }

    @Test func packIsDeterministicAcrossRunsCopiesMtimesAndModes() throws {
        let scratch = try ScratchFolder("determinism")
        defer { scratch.cleanup() }
        let folder = try Self.makeCheckpoint(in: scratch)
        try CheckpointArchive.pack(folder: folder, to: scratch.sub("one.tar.zst"))
        try CheckpointArchive.pack(folder: folder, to: scratch.sub("two.tar.zst"))

        let copy = scratch.sub("copy")
        try FileManager.default.copyItem(atPath: folder, toPath: copy)
        let old = Date(timeIntervalSince1970: 1_000_000_000)
        for relative in try snapshot(copy).keys {
            let isFolder = try snapshot(copy)[relative] == .some(nil)
            try FileManager.default.setAttributes(
                [.modificationDate: old, .posixPermissions: isFolder ? 0o700 : 0o600],
                ofItemAtPath: copy + "/" + relative)
        }
        try CheckpointArchive.pack(folder: copy, to: scratch.sub("three.tar.zst"))

        let hashes = try ["one", "two", "three"].map {
            try StreamingSHA256.hash(file: scratch.sub("\($0).tar.zst")).sha256
        }
        #expect(hashes[0] == hashes[1])
        #expect(hashes[0] == hashes[2])
        for facts in try headerFacts(scratch.sub("three.tar.zst")) {
            #expect(facts.mtime == 0 && facts.uid == 0 && facts.gid == 0, "\(facts)")
            #expect(facts.uname == nil || facts.uname == "", "\(facts)")
            #expect(facts.gname == nil || facts.gname == "", "\(facts)")
            #expect(!facts.hasAtime && !facts.hasCtime && facts.xattrs == 0, "\(facts)")
            #expect(facts.perm == (facts.path.hasSuffix("/") ? 0o755 : 0o644), "\(facts)")
        }
    }

    @Test func packRefusesSymlinksFifosAndAnArchiveInsideTheFolder() throws {
        let scratch = try ScratchFolder("pack-refusals")
        defer { scratch.cleanup() }
        try scratch.write("src/a.txt", [1])
        #expect(symlink("a.txt", scratch.sub("src/link")) == 0)
        let error = #expect(throws: InputError.self) {
            try CheckpointArchive.pack(folder: scratch.sub("src"), to: scratch.sub("out.tar.zst"))
        }
        #expect(error?.field == "link")
        #expect(error?.message.contains("symbolic link") == true)
        unlink(scratch.sub("src/link"))

        #expect(mkfifo(scratch.sub("src/pipe"), 0o644) == 0)
        let fifoError = #expect(throws: InputError.self) {
            try CheckpointArchive.pack(folder: scratch.sub("src"), to: scratch.sub("out.tar.zst"))
        }
        #expect(fifoError?.field == "pipe")
        unlink(scratch.sub("src/pipe"))
        #expect(listing(scratch.path) == ["src"])

        #expect(throws: InputError.self) {
            try CheckpointArchive.pack(
                folder: scratch.sub("src"), to: scratch.sub("src/self.tar.zst"))
        }
        #expect(listing(scratch.sub("src")) == ["a.txt"])
    }

    @Test func extractRefusesAnExistingTarget() throws {
        let scratch = try ScratchFolder("existing")
        defer { scratch.cleanup() }
        try scratch.write("src/a.txt", [1])
        try CheckpointArchive.pack(folder: scratch.sub("src"), to: scratch.sub("a.tar.zst"))
        let error = #expect(throws: InputError.self) {
            try CheckpointArchive.extract(
                archive: scratch.sub("a.tar.zst"), into: scratch.sub("src"), maxTotalBytes: 10,
                maxEntries: 10)
        }
        #expect(error?.message.contains("already exists") == true)
        #expect(listing(scratch.sub("src")) == ["a.txt"])
    }

    // MARK: - Hostile archives

    /// An archive that extraction must refuse, and what the error must say.
    struct HostileCase: CustomStringConvertible {
        var label: String
        var entries: [CraftedEntry]
        /// The entry the error must name (as stored; folders may gain a trailing `/`).
        var field: String
        var message: String
        var maxTotalBytes: Int64 = 1 << 20
        var maxEntries = 100
        var description: String { label }
    }

    static let hostileCases: [HostileCase] = [
        HostileCase(label: "parent", entries: [.file("../x")], field: "../x", message: "escapes"),
        HostileCase(
            label: "absolute", entries: [.file("/etc/x")], field: "/etc/x", message: "absolute"),
        HostileCase(
            label: "nested parent", entries: [.file("a/../../x")], field: "a/../../x",
            message: "escapes"),
        HostileCase(
            label: "inner parent", entries: [.file("a/../b")], field: "a/../b", message: "'..'"),
        HostileCase(label: "dot", entries: [.folder(".")], field: ".", message: "empty entry name"),
        HostileCase(
            label: "symlink",
            entries: [CraftedEntry(name: "link", type: 0o120000, symlink: "/etc/passwd")],
            field: "link", message: "symbolic link"),
        HostileCase(
            label: "hardlink", entries: [.file("a"), CraftedEntry(name: "h", hardlink: "a")],
            field: "h", message: "hard link"),
        HostileCase(
            label: "fifo", entries: [CraftedEntry(name: "p", type: 0o010000)], field: "p",
            message: "fifo"),
        HostileCase(
            label: "device", entries: [CraftedEntry(name: "null", type: 0o020000)], field: "null",
            message: "character device"),
        HostileCase(
            label: "block device", entries: [CraftedEntry(name: "sda", type: 0o060000)],
            field: "sda",
            message: "block device"),
        HostileCase(
            label: "duplicate", entries: [.file("a"), .file("a")], field: "a",
            message: "duplicate"),
        HostileCase(
            label: "duplicate after normalising", entries: [.file("d/b"), .file("d//./b")],
            field: "d//./b",
            message: "duplicate"),
        HostileCase(
            label: "file then folder", entries: [.file("a"), .file("a/b")], field: "a/b",
            message: "already a file"),
        HostileCase(
            label: "size bomb", entries: [CraftedEntry(name: "big", size: 2 << 20)], field: "big",
            message: "more than 1048576 bytes"),
        HostileCase(
            label: "total size bomb",
            entries: (0..<3).map { CraftedEntry(name: "f\($0)", size: 512 << 10) },
            field: "f2", message: "more than 1048576 bytes"),
        HostileCase(
            label: "too many entries", entries: (0..<5).map { .file("f\($0)") }, field: "f3",
            message: "more than 3 entries", maxEntries: 3),
    ]

    @Test(arguments: hostileCases)
    func extractRefusesHostileEntries(_ hostile: HostileCase) throws {
        let scratch = try ScratchFolder("hostile")
        defer { scratch.cleanup() }
        let archive = scratch.sub("x.tar.zst")
        try craftArchive(archive, hostile.entries)
        let stored = try CheckpointArchive.listEntries(archive: archive).map(\.path)
        #expect(stored.contains { $0.hasPrefix(hostile.field) }, "crafted names: \(stored)")

        let target = scratch.sub("target")
        let error = #expect(throws: InputError.self) {
            try CheckpointArchive.extract(
                archive: archive, into: target, maxTotalBytes: hostile.maxTotalBytes,
                maxEntries: hostile.maxEntries)
        }
        #expect(error?.file == archive)
        #expect(error?.field.hasPrefix(hostile.field) == true, "\(String(describing: error))")
        #expect(error?.message.contains(hostile.message) == true, "\(String(describing: error))")
        #expect(error?.description.contains("\n") == false)
        #expect(listing(scratch.path) == ["x.tar.zst"])  // no target, no temporary folder
        #expect(testFileType("/etc/x") == nil)
    }

    // The limit guards against a hang only: the 300 extractions take ≈ 1 s alone, yet went past a
    // minute beside the other suites in a CI run on 2 cores.
    @Test(.timeLimit(.minutes(5)))
    func mutatedArchivesEitherExtractInsideTheTargetOrThrow() throws {
        let scratch = try ScratchFolder("fuzz")
        defer { scratch.cleanup() }
        var rng = SplitMix64(state: 0x5EED)
        let entries: [CraftedEntry] = [
            .folder("sub"), .file("sub/b.bin", rng.bytes(3000)), .file("a.txt", rng.bytes(200)),
            .folder("sub/c/d"),
        ]
        // The zstd archive exercises the decompressor; the plain tar puts mutations straight into
        // tar headers (the reader accepts both).
        try craftArchive(scratch.sub("valid.tar.zst"), entries)
        try craftArchive(scratch.sub("valid.tar"), entries, compress: false)
        let out = scratch.sub("out")
        try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: false)
        var extracted: [String] = []
        var refused = 0
        for i in 0..<300 {
            let source = i % 2 == 0 ? "valid.tar.zst" : "valid.tar"
            var bytes = Array(try Data(contentsOf: URL(fileURLWithPath: scratch.sub(source))))
            let position = rng.below(bytes.count)
            switch (i / 2) % 3 {
            case 0: bytes[position] ^= UInt8(1 + rng.below(255))
            case 1: bytes.insert(UInt8(rng.below(256)), at: position)
            default: bytes.removeSubrange(position...)
            }
            let mutated = scratch.sub("mutated.tar.zst")
            try Data(bytes).write(to: URL(fileURLWithPath: mutated))
            let target = out + "/t\(i)"
            do {
                try CheckpointArchive.extract(
                    archive: mutated, into: target, maxTotalBytes: 1 << 20, maxEntries: 64)
                extracted.append("t\(i)")
                for (relative, _) in try snapshot(target) {
                    let type = testFileType(target + "/" + relative)
                    #expect(type == S_IFREG || type == S_IFDIR, "mutation \(i): \(relative)")
                }
            } catch {
                refused += 1
                #expect(testFileType(target) == nil, "mutation \(i) left \(target)")
            }
        }
        #expect(listing(out) == extracted.sorted())
        #expect(listing(scratch.path) == ["mutated.tar.zst", "out", "valid.tar", "valid.tar.zst"])
        #expect(refused > 100)  // most mutations must be caught, not silently accepted
    }

    // MARK: - Blob store

    @Test func blobStoreIsContentAddressedIdempotentAndExtracts() throws {
        let scratch = try ScratchFolder("blobs")
        defer { scratch.cleanup() }
        let folder = try Self.makeCheckpoint(in: scratch)
        let store = BlobStore(root: scratch.sub("blobs"))
        let (sha, bytes) = try store.putFolder(folder)
        #expect(try store.relativePath(sha256: sha) == "sha256/\(sha.prefix(2))/\(sha).tar.zst")
        #expect(try store.contains(sha256: sha))
        let size = try FileManager.default.attributesOfItem(atPath: store.path(sha256: sha))[.size]
        #expect((size as? NSNumber)?.int64Value == bytes)

        try CheckpointArchive.pack(folder: folder, to: scratch.sub("ckpt.tar.zst"))
        let again = try store.put(file: scratch.sub("ckpt.tar.zst"))
        #expect(again.sha256 == sha && again.bytes == bytes)
        #expect(try store.putFolder(folder).sha256 == sha)
        #expect(listing(store.root + "/sha256") == [String(sha.prefix(2))])
        #expect(listing(store.root + "/sha256/" + sha.prefix(2)) == ["\(sha).tar.zst"])

        try store.extract(sha256: sha, into: scratch.sub("restored"))
        #expect(try snapshot(scratch.sub("restored")) == snapshot(folder))
        let missing = String(repeating: "0", count: 64)
        #expect(try !store.contains(sha256: missing))
        #expect(throws: InputError.self) { try store.verifiedPath(sha256: missing) }
    }

    @Test func blobStoreDetectsAFlippedByteAndATruncationAndPutRepairs() throws {
        let scratch = try ScratchFolder("tamper")
        defer { scratch.cleanup() }
        var rng = SplitMix64(state: 7)
        try scratch.write("src/weights.bin", rng.bytes(100_000))
        let store = BlobStore(root: scratch.sub("blobs"))
        let (sha, _) = try store.putFolder(scratch.sub("src"))
        let path = try store.path(sha256: sha)
        let original = try Data(contentsOf: URL(fileURLWithPath: path))

        var flipped = original
        flipped[flipped.count / 2] ^= 0x01
        for tampered in [flipped, original.prefix(original.count - 1)] {
            try tampered.write(to: URL(fileURLWithPath: path))
            let error = #expect(throws: InputError.self) { try store.verifiedPath(sha256: sha) }
            #expect(
                error?.description.hasPrefix("\(path): sha256 mismatch: expected \(sha), got ")
                    == true)
            #expect(throws: InputError.self) {
                try store.extract(sha256: sha, into: scratch.sub("out"))
            }
            #expect(testFileType(scratch.sub("out")) == nil)
        }
        #expect(try store.putFolder(scratch.sub("src")).sha256 == sha)
        #expect(try store.verifiedPath(sha256: sha) == path)
    }

    @Test func validateRejectsAnythingButLowercaseHexDigests() throws {
        let good = String(repeating: "ab", count: 32)
        try BlobStore.validate(sha256: good)
        let bad = [
            "", "../" + String(good.dropFirst(3)), good.uppercased(), String(good.dropLast()),
            good + "a",
            "../../etc/passwd", String(good.dropLast()) + "/", String(repeating: "g", count: 64),
            String(good.dropLast()) + "é",
        ]
        for value in bad {
            #expect(throws: InputError.self, "\(value)") { try BlobStore.validate(sha256: value) }
        }
        let store = BlobStore(root: "/nonexistent")
        #expect(throws: InputError.self) { try store.path(sha256: "../x") }
        #expect(throws: InputError.self) { try store.contains(sha256: "../x") }
    }

    @Test func doctorReportsLibarchiveWithZstd() {
        #expect(CheckpointArchive.supportsZstd)
        #expect(CheckpointArchive.libarchiveVersion.hasPrefix("libarchive "))
        #expect(CheckpointArchive.libarchiveVersion.contains("libzstd"))
    }

    @Test func entryPathNormalisation() {
        #expect(EntryPath.normalise("a//b/./c/") == .success("a/b/c"))
        #expect(EntryPath.normalise("./a") == .success("a"))
        #expect(EntryPath.normalise("..") == .failure(.escapes))
        #expect(EntryPath.normalise("a/..") == .failure(.parentComponent))
        #expect(EntryPath.normalise("//x") == .failure(.absolute))
        #expect(EntryPath.normalise("./") == .failure(.empty))
    }
}
