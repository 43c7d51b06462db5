// Publishing a release as a hub folder and pulling it back into a fresh store, from the folder and
// over HTTP (Python's http.server, and a Range server that cuts transfers): the pulled rows are the
// published ones, a changed byte means nothing is imported, hostile index paths are refused.
import Foundation
import Hub
import RLHubCore
import Store
import Testing

@Suite("Hub: publish and pull")
struct PublishPullTests {
    @Test func aPulledReleaseIsThePublishedOne() async throws {
        let f = try HubFixture("roundtrip")
        let hub = f.root + "/hub"
        let index = try HubPublisher.publish(store: f.store, release: f.release, to: hub)
        #expect(index.releases.map(\.name) == [f.release])
        #expect(index.releases[0].runs.count == 3)
        #expect(index.files.count == 4)  // the store subset and 3 archives
        for (path, file) in index.files {
            #expect(try StreamingSHA256.hash(file: hub + "/" + path) == (file.sha256, file.bytes))
        }
        // Deterministic: publishing again gives the same bytes.
        let before = try Data(contentsOf: URL(fileURLWithPath: hub + "/index.json"))
        let subsetBefore = try Data(contentsOf: URL(fileURLWithPath: hub + "/releases/demo-v1/store.sqlite"))
        try HubPublisher.publish(store: f.store, release: f.release, to: f.root + "/hub2")
        #expect(try Data(contentsOf: URL(fileURLWithPath: f.root + "/hub2/index.json")) == before)
        #expect(try Data(contentsOf: URL(fileURLWithPath: f.root + "/hub2/releases/demo-v1/store.sqlite")) == subsetBefore)

        let local = try RunStore(directory: f.root + "/pulled")
        let summary = try await HubPuller(store: local, source: try hubSource(hub)).pull(PullRequest())
        #expect(summary.releases.map(\.imported.count) == [3])
        #expect(summary.blobsAdded.count == 3)
        #expect(try HubFixture.snapshot(local, release: f.release) == (try HubFixture.snapshot(f.store, release: f.release)))
        #expect(try local.release(f.release).source == hub)
        #expect(try local.runs(RunQuery(where: "experiment = 'demo'", sort: nil, limit: nil)).count == 3)
        // The runs are frozen like any release's.
        #expect(throws: (any Error).self) { try local.appendMetrics(run: f.runs[0], records: [(9, ["x": 1])]) }
        // Pulled again: nothing changes, nothing is downloaded.
        let again = try await HubPuller(store: local, source: try hubSource(hub)).pull(PullRequest())
        #expect(again.releases.map(\.releaseWasPresent) == [true])
        #expect(again.bytesDownloaded == 0)
        #expect(again.blobsPresent.count == 3)
    }

    @Test func selectionsPullOnlyWhatTheyName() async throws {
        let f = try HubFixture("select")
        let hub = f.root + "/hub"
        // Only run 1's archive is published; the others keep their hashes without a URL.
        let index = try HubPublisher.publish(store: f.store, release: f.release, to: hub, checkpointRuns: [f.runs[1]])
        #expect(index.releases[0].runs.map { $0.checkpoints.map { $0.url != nil } } == [[false], [true], [false]])

        let meta = try RunStore(directory: f.root + "/meta")
        let m = try await HubPuller(store: meta, source: try hubSource(hub)).pull(PullRequest(metadataOnly: true))
        #expect(m.blobsAdded.isEmpty)
        #expect(try meta.release(f.release).runs.count == 3)
        #expect(try meta.allMetrics(run: f.runs[2]).count == 10)

        let one = try RunStore(directory: f.root + "/one")
        let sha = try f.store.checkpoints(run: f.runs[1])[0].sha256
        let r = try await HubPuller(store: one, source: try hubSource(hub)).pull(PullRequest(run: String(f.runs[1].prefix(6))))
        #expect(r.blobsAdded == [sha])
        #expect(try one.blobs.contains(sha256: sha))

        let byHash = try RunStore(directory: f.root + "/hash")
        let h = try await HubPuller(store: byHash, source: try hubSource(hub)).pull(PullRequest(checkpoint: sha))
        #expect(h.blobsAdded == [sha])

        await #expect(throws: InputError.self) {
            try await HubPuller(store: byHash, source: try hubSource(hub)).pull(PullRequest(run: f.runs[0]))
        }
        await #expect(throws: InputError.self) {
            try await HubPuller(store: byHash, source: try hubSource(hub)).pull(PullRequest(release: "nope"))
        }
    }

    @Test func aChangedByteMeansNothingIsImported() async throws {
        let f = try HubFixture("tamper")
        let hub = f.root + "/hub"
        let index = try HubPublisher.publish(store: f.store, release: f.release, to: hub)
        let blob = try #require(index.files.keys.sorted().first { $0.hasPrefix("blobs/") })
        var bytes = try Data(contentsOf: URL(fileURLWithPath: hub + "/" + blob))
        bytes[bytes.count / 2] ^= 0x01
        try bytes.write(to: URL(fileURLWithPath: hub + "/" + blob))

        let local = try RunStore(directory: f.root + "/pulled")
        await #expect(throws: InputError.self) {
            try await HubPuller(store: local, source: try hubSource(hub)).pull(PullRequest())
        }
        #expect(try local.releases().isEmpty)
        #expect(try local.runs().isEmpty)
        for sha in index.files.values.map(\.sha256) { #expect(try !local.blobs.contains(sha256: sha)) }

        // The same for the store subset: a changed byte, nothing imported (into a fresh store: the
        // first store's cache already holds the intact subset, by hash, and would rightly use it).
        let fresh = try RunStore(directory: f.root + "/fresh")
        try HubPublisher.publish(store: f.store, release: f.release, to: f.root + "/hub2")
        let subset = f.root + "/hub2/releases/demo-v1/store.sqlite"
        var s = try Data(contentsOf: URL(fileURLWithPath: subset))
        s[100] ^= 0xff
        try s.write(to: URL(fileURLWithPath: subset))
        await #expect(throws: InputError.self) {
            try await HubPuller(store: fresh, source: try hubSource(f.root + "/hub2")).pull(PullRequest(metadataOnly: true))
        }
        #expect(try fresh.runs().isEmpty)
        #expect(try fresh.releases().isEmpty)
    }

    @Test(arguments: [
        "../../../etc/passwd", "/etc/passwd", "blobs/sha256/ab/../../../../x.tar.zst", "releases/../../x/store.sqlite",
        "releases/a/b/store.sqlite", "blobs/sha256/00/%2e%2e.tar.zst", "releases/.hidden/store.sqlite", "index.json",
    ])
    func hostileIndexPathsAreRefused(_ path: String) throws {
        var index = HubIndex()
        index.files[path] = HubFile(sha256: String(repeating: "0", count: 64), bytes: 1)
        let data = try index.encoded()
        #expect(throws: InputError.self) { try HubIndex.decode(data, source: "test") }
    }

    @Test func hostileCheckpointURLsAreRefused() throws {
        let f = try HubFixture("hostile-url", runs: 1)
        let index = try HubPublisher.publish(store: f.store, release: f.release, to: f.root + "/hub")
        var bad = index
        bad.releases[0].runs[0].checkpoints[0].url = "../store/blobs/x"
        #expect(throws: InputError.self) { try HubIndex.decode(try bad.encoded(), source: "test") }
        var badRelease = index
        badRelease.releases[0].store.path = "../../x.sqlite"
        #expect(throws: InputError.self) { try HubIndex.decode(try badRelease.encoded(), source: "test") }
        #expect(throws: InputError.self) { try HubIndex.decode(Data("{\"format\": 99, \"releases\": [], \"files\": {}, \"generator\": \"x\"}".utf8), source: "test") }
        #expect(throws: InputError.self) { try HubIndex.decode(Data("not json".utf8), source: "test") }
    }

    @Test func pythonsHTTPServerServesAPublishedFolder() async throws {
        let f = try HubFixture("http-server")
        let hub = f.root + "/hub"
        try HubPublisher.publish(store: f.store, release: f.release, to: hub)
        let port = try freePort()
        let server = try launch("/usr/bin/env", ["python3", "-m", "http.server", "--bind", "127.0.0.1", "--directory", hub, "\(port)"])
        defer { stop(server) }
        try await waitForServer(port: port)
        let local = try RunStore(directory: f.root + "/pulled")
        // A partial file of wrong bytes: http.server ignores the Range request and answers 200,
        // so the download must start over from byte 0.
        let blob = try #require(try f.store.checkpoints(run: f.runs[0]).first?.sha256)
        try FileManager.default.createDirectory(atPath: f.root + "/pulled/cache/hub", withIntermediateDirectories: true)
        try Data(repeating: 0xff, count: 1000).write(to: URL(fileURLWithPath: f.root + "/pulled/cache/hub/\(blob).partial"))
        let summary = try await HubPuller(store: local, source: try hubSource("http://127.0.0.1:\(port)/")).pull(PullRequest())
        #expect(summary.blobsAdded.count == 3)
        #expect(try HubFixture.snapshot(local, release: f.release) == (try HubFixture.snapshot(f.store, release: f.release)))
        #expect(try local.release(f.release).source == "http://127.0.0.1:\(port)/")
    }

    @Test func aCutTransferResumesWithARangeRequest() async throws {
        let f = try HubFixture("cut", runs: 1, checkpointBytes: 2 << 20)
        let hub = f.root + "/hub"
        let index = try HubPublisher.publish(store: f.store, release: f.release, to: hub)
        let blob = try #require(index.releases[0].runs[0].checkpoints[0])
        let server = try RangeServer(directory: hub, arguments: ["--cut-after", "300000", "--fail-first", "1"])
        defer { server.stop() }
        let local = try RunStore(directory: f.root + "/pulled")
        var puller = HubPuller(store: local, source: try hubSource(server.url))
        puller.firstBackoff = .milliseconds(10)
        let lines = LockedLines()
        puller.log = { lines.append($0) }
        let summary = try await puller.pull(PullRequest())
        #expect(summary.blobsAdded == [blob.sha256])
        #expect(summary.bytesDownloaded == blob.bytes + index.releases[0].store.bytes)
        let requests = server.requests()
        // The 503, then the cut transfer, then a Range request from where it stopped.
        #expect(requests.contains { $0.hasSuffix(" 503") })
        #expect(requests.contains { $0.contains(blob.sha256) && $0.contains("bytes=") && $0.hasSuffix(" 206") })
        #expect(lines.all.contains { $0.contains("retrying") })
        #expect(try local.blobs.verifiedPath(sha256: blob.sha256).isEmpty == false)
    }

    @Test func aPartialFileLeftByAnotherProcessIsResumed() async throws {
        let f = try HubFixture("partial", runs: 1, checkpointBytes: 1 << 20)
        let hub = f.root + "/hub"
        let index = try HubPublisher.publish(store: f.store, release: f.release, to: hub)
        let blob = try #require(index.releases[0].runs[0].checkpoints[0])
        // What a killed pull leaves: the first 100,000 bytes in the cache.
        let local = try RunStore(directory: f.root + "/pulled")
        try FileManager.default.createDirectory(atPath: f.root + "/pulled/cache/hub", withIntermediateDirectories: true)
        let whole = try Data(contentsOf: URL(fileURLWithPath: hub + "/" + blob.url!))
        try whole.prefix(100_000).write(to: URL(fileURLWithPath: f.root + "/pulled/cache/hub/\(blob.sha256).partial"))
        let server = try RangeServer(directory: hub, arguments: [])
        defer { server.stop() }
        let summary = try await HubPuller(store: local, source: try hubSource(server.url)).pull(PullRequest())
        #expect(summary.bytesDownloaded == blob.bytes - 100_000 + index.releases[0].store.bytes)
        #expect(server.requests().contains { $0.contains("bytes=100000-") && $0.hasSuffix(" 206") })
        #expect(try local.blobs.contains(sha256: blob.sha256))
    }

    @Test func aReleaseOfTheSameNameWithOtherRunsIsRefused() async throws {
        let a = try HubFixture("same-name-a", runs: 2)
        let b = try HubFixture("same-name-b", runs: 1)
        try HubPublisher.publish(store: a.store, release: a.release, to: a.root + "/hub")
        try HubPublisher.publish(store: b.store, release: b.release, to: b.root + "/hub")
        let local = try RunStore(directory: a.root + "/pulled")
        try await HubPuller(store: local, source: try hubSource(a.root + "/hub")).pull(PullRequest(metadataOnly: true))
        await #expect(throws: InputError.self) {
            try await HubPuller(store: local, source: try hubSource(b.root + "/hub")).pull(PullRequest(metadataOnly: true))
        }
        #expect(try local.release(a.release).runs.count == 2)
    }
}
