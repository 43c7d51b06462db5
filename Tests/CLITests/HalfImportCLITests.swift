// Nothing half-imported: a refused archive given as --model, or a pull whose release database is
// damaged, leaves no blob in the store.
import Foundation
import Store
import Testing

@Suite("Nothing half-imported", .serialized)
struct HalfImportCLITests {
    static func blobCount(_ store: String) -> Int {
        let files = FileManager.default.enumerator(atPath: store + "/blobs")?.allObjects as? [String] ?? []
        return files.filter { $0.hasSuffix(".tar.zst") }.count
    }

    @Test func aPullOfADamagedReleaseStoresNoArchive() throws {
        let root = tempDir()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let hub = root + "/hub"
        try FileManager.default.copyItem(atPath: BaselinesHubCLITests.hub, toPath: hub)
        // Every other page of the release database damaged; the index made to vouch for it.
        let db = hub + "/releases/baselines-v1/store.sqlite"
        var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: db)))
        let pageSize = Int(bytes[16]) << 8 | Int(bytes[17])
        for page in stride(from: 3, to: bytes.count / pageSize, by: 2) { for i in 8..<64 { bytes[page * pageSize + i] ^= 0x5A } }
        try Data(bytes).write(to: URL(fileURLWithPath: db))
        let sha = try StreamingSHA256.hash(file: db).sha256
        var index = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: hub + "/index.json"))) as? [String: Any])
        var files = index["files"] as? [String: Any] ?? [:]
        files["releases/baselines-v1/store.sqlite"] = ["bytes": bytes.count, "sha256": sha]
        index["files"] = files
        index["releases"] = (index["releases"] as? [[String: Any]] ?? []).map { release in
            var r = release
            guard r["name"] as? String == "baselines-v1" else { return r }  // only the damaged release's store
            if var store = r["store"] as? [String: Any] { store["bytes"] = bytes.count; store["sha256"] = sha; r["store"] = store }
            return r
        }
        try JSONSerialization.data(withJSONObject: index, options: [.sortedKeys]).write(to: URL(fileURLWithPath: hub + "/index.json"))

        let store = root + "/store"
        let pull = try rlhub("pull", hub, "--store", store)
        // stderr: a progress line per downloaded file, then the refusal.
        #expect(pull.status == 2, "\(pull.err)")
        let refusal = pull.err.split(separator: "\n").last.map(String.init) ?? ""
        #expect(refusal.hasPrefix("rlhub: error: ") && refusal.contains(".sqlite: not a release store"), "\(refusal)")
        #expect(Self.blobCount(store) == 0, "archives of a release that did not import stayed in the store")
    }

    @Test func aRefusedModelArchiveLeavesNoBlob() throws {
        let root = tempDir()
        defer { try? FileManager.default.removeItem(atPath: root) }
        try FileManager.default.createDirectory(atPath: root + "/m", withIntermediateDirectories: true)
        try "x".write(toFile: root + "/m/a", atomically: true, encoding: .utf8)
        try FileManager.default.createSymbolicLink(atPath: root + "/m/link", withDestinationPath: "/etc/passwd")
        let tar = Process()
        tar.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        tar.arguments = ["sh", "-c", "tar -C \(root)/m -cf - a link | zstd -q -o \(root)/evil.tar.zst"]
        try tar.run()
        tar.waitUntilExit()
        try #require(tar.terminationStatus == 0)
        let store = root + "/store"
        let r = try rlhub("logprobs", "--model", root + "/evil.tar.zst", "--text", "1+1=", "--store", store, "--threads", "1")
        expectBadInput(r, ["evil.tar.zst", "link", "symbolic link refused"])
        #expect(Self.blobCount(store) == 0)
    }
}
