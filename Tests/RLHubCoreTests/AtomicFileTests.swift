// AtomicFile: the target holds the old bytes or the new ones, and no temporary is left behind,
// whether the write succeeds or fails.
import Foundation
import RLHubCore
import Testing

@Suite struct AtomicFileTests {
    func scratchFolder() throws -> String {
        let folder = NSTemporaryDirectory() + "/atomic-file-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        return folder
    }

    @Test func writeCreatesAndReplacesLeavingNoTemporary() throws {
        let folder = try scratchFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let path = folder + "/out.json"
        try AtomicFile.write(Data("first".utf8), to: path)
        #expect(FileManager.default.contents(atPath: path) == Data("first".utf8))
        try AtomicFile.write(Data("second".utf8), to: path)
        #expect(FileManager.default.contents(atPath: path) == Data("second".utf8))
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder) == ["out.json"])
    }

    @Test func failedProducerLeavesTheTargetAndNoTemporary() throws {
        struct Refused: Error {}
        let folder = try scratchFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let path = folder + "/model.bin"
        try AtomicFile.write(Data("old".utf8), to: path)
        #expect(throws: Refused.self) {
            try AtomicFile.replace(path) { temporary in
                try Data("half".utf8).write(to: URL(fileURLWithPath: temporary))
                throw Refused()
            }
        }
        #expect(FileManager.default.contents(atPath: path) == Data("old".utf8))
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder) == ["model.bin"])
        // A folder produced whole, then renamed into place.
        try AtomicFile.replace(folder + "/final") { temporary in
            try FileManager.default.createDirectory(atPath: temporary, withIntermediateDirectories: false)
            try Data("w".utf8).write(to: URL(fileURLWithPath: temporary + "/weights"))
        }
        #expect(FileManager.default.contents(atPath: folder + "/final/weights") == Data("w".utf8))
    }

    @Test func unwritableFolderIsAnInputErrorNamingTheTarget() throws {
        let path = NSTemporaryDirectory() + "/no-such-folder-\(UUID().uuidString)/out.json"
        do throws(InputError) {
            try AtomicFile.write(Data("x".utf8), to: path)
            Issue.record("wrote into a missing folder")
        } catch {
            #expect(error.file == path && error.message.hasPrefix("cannot write"))
        }
    }

    @Test func temporarySiblingsAreHiddenUniqueAndBesideTheTarget() {
        let a = AtomicFile.temporarySibling(of: "runs/x/metrics.jsonl")
        let b = AtomicFile.temporarySibling(of: "runs/x/metrics.jsonl")
        #expect(a != b)
        #expect(a.hasPrefix("runs/x/.metrics.jsonl.") && a.hasSuffix(".tmp"))
        #expect(AtomicFile.temporarySibling(of: "plain").hasPrefix(".plain."))
    }
}
