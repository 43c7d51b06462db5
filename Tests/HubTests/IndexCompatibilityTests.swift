// The LoRA base fields of index.json (`bases`, a checkpoint's `base`) are optional: the committed
// baselines hub, written before them, reads and encodes to the same bytes, and a base an archive
// names must be published by the same release.
import Foundation
import Hub
import RLHubCore
import Testing

@Suite("Hub: index compatibility")
struct IndexCompatibilityTests {
    static let baselines = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().path + "/baselines/index.json"

    @Test func theCommittedIndexReadsAndEncodesToTheSameBytes() throws {
        let data = try Data(contentsOf: URL(fileURLWithPath: Self.baselines))
        let index = try HubIndex.decode(data, source: Self.baselines)
        #expect(!index.releases.isEmpty)
        #expect(index.releases.allSatisfy { $0.bases == nil })
        #expect(try index.encoded() == data)
    }

    @Test func aBaseTheReleaseDoesNotPublishIsRefused() throws {
        var index = try HubIndex.decode(try Data(contentsOf: URL(fileURLWithPath: Self.baselines)), source: Self.baselines)
        let r = try #require(index.releases.firstIndex { $0.runs.contains { $0.checkpoints.contains { $0.url != nil } } })
        let run = try #require(index.releases[r].runs.firstIndex { $0.checkpoints.contains { $0.url != nil } })
        let c = try #require(index.releases[r].runs[run].checkpoints.firstIndex { $0.url != nil })
        index.releases[r].runs[run].checkpoints[c].base = String(repeating: "ab", count: 32)
        #expect(throws: InputError.self) { try HubIndex.decode(try index.encoded(), source: "index.json") }
        // Published as one of the release's bases, the same reference is accepted and survives a round trip.
        let hex = String(repeating: "ab", count: 32)
        index.releases[r].bases = [HubBaseArchive(sha256: hex, bytes: 10, url: HubPath.blob(hex))]
        index.files[HubPath.blob(hex)] = HubFile(sha256: hex, bytes: 10)
        let decoded = try HubIndex.decode(try index.encoded(), source: "index.json")
        #expect(decoded == index)
        #expect(decoded.releases[r].withBases([decoded.releases[r].publishedArchives[decoded.releases[r].runs[run].checkpoints[c].sha256]!]).map(\.sha256).last == hex)
    }
}
