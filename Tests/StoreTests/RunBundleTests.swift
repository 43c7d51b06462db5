// Run bundles (what a Slurm array task writes) copied into a store: the rows (rollout samples
// included) arrive whole, a bundle seen twice is stored once, and a corrupted bundle is refused
// with nothing of it stored.
import Foundation
import GRDB
import RLHubCore
import Testing
@_spi(StoreInternals) import Store

@Suite("Run bundles")
struct RunBundleTests {
    /// A central store with one queued run, and a sealed bundle of that run written as an array
    /// task would: its own store (rollback journal), 3 steps of metrics, scores, a checkpoint.
    func makeBundle(_ root: String) throws -> (central: RunStore, bundle: String, run: String) {
        let central = try RunStore(directory: root + "/central")
        let run = try central.createRun(sampleRun())
        let dir = root + "/slurm/bundles/" + run
        let bundle = try RunStore(directory: dir, access: .singleWriter)
        try bundle.insertRun(copying: try central.run(run), status: .queued)
        try bundle.markRunning(run, threads: 1)
        for step in 1...3 {
            try bundle.appendMetrics(run: run, records: [(step, ["loss/total": Double(step) * 0.5, "reward/mean": 1 / Double(step)])])
        }
        try bundle.addScores(run: run, [ScoreRecord(step: 3, split: "test", metric: "accuracy", value: 0.25, episodes: 8)])
        try bundle.appendSamples(run: run, step: 2, kind: "train", samples: (0..<2).map { storedSample(step: 2, position: $0) })
        let folder = root + "/ckpt"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        try Data("weights of \(run)".utf8).write(to: URL(fileURLWithPath: folder + "/model.safetensors"))
        try bundle.addCheckpoint(run: run, step: 3, folder: folder)
        try bundle.setStepsDone(run, 3)
        try bundle.markFinished(run)
        try RunBundle.seal(dir, run: run)
        return (central, dir, run)
    }

    @Test func ingestionCopiesTheRunOnceOnly() throws {
        let root = temporaryFolder("bundle-once")
        let (central, dir, run) = try makeBundle(root)
        let bundle = try RunStore(directory: dir, access: .readOnly)
        #expect(try central.ingestBundle(at: dir) == .ingested(run: run))
        #expect(try central.run(run).status == .finished)
        #expect(try central.run(run).stepsDone == 3)
        #expect(try central.allMetrics(run: run).map { "\($0.step) \($0.name) \($0.value!)" }
            == (try bundle.allMetrics(run: run).map { "\($0.step) \($0.name) \($0.value!)" }))
        #expect(try central.scores(run: run) == (try bundle.scores(run: run)))
        #expect(try central.samples(run: run) == (try bundle.samples(run: run)) && (try central.samples(run: run)).count == 2)
        let sha = try #require(try bundle.checkpoints(run: run).first?.sha256)
        #expect(try central.checkpoints(run: run).map(\.sha256) == [sha])
        #expect(try central.blobs.contains(sha256: sha))
        #expect(try central.metricSummaries(run: run).first { $0.name == "loss/total" }?.finalValue == 1.5)
        // Twice: nothing changes.
        #expect(try central.ingestBundle(at: dir) == .alreadyIngested(run: run))
        #expect(try central.allMetrics(run: run).count == 6)
        #expect(try central.scores(run: run).count == 1)
        #expect(try central.samples(run: run).count == 2)
        #expect(try central.checkpoints(run: run).count == 1)
        #expect(try central.metricSummaries(run: run).first { $0.name == "loss/total" }?.count == 3)
        // A fresh open of the store sees one ingested bundle.
        let reopened = try RunStore(directory: root + "/central")
        #expect(try reopened.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM ingested_bundles") } == 1)
    }

    @Test(arguments: ["store.sqlite", "blob", "manifest"])
    func aCorruptedBundleIsRefusedWhole(_ target: String) throws {
        let root = temporaryFolder("bundle-corrupt-\(target)")
        let (central, dir, run) = try makeBundle(root)
        let sha = try #require(try RunStore(directory: dir, access: .readOnly).checkpoints(run: run).first?.sha256)
        let path = switch target {
        case "store.sqlite": dir + "/store.sqlite"
        case "blob": try BlobStore(root: dir + "/blobs").path(sha256: sha)
        default: dir + "/" + RunBundle.manifestName
        }
        var bytes = try Data(contentsOf: URL(fileURLWithPath: path))
        if target == "manifest" { bytes = bytes.prefix(bytes.count / 2) } else { bytes[bytes.count / 2] ^= 0x5A }
        try bytes.write(to: URL(fileURLWithPath: path))
        #expect {
            try central.ingestBundle(at: dir)
        } throws: { error in
            "\(error)".contains("corrupted bundle")
        }
        #expect(try central.run(run).status == .queued)
        #expect(try central.allMetrics(run: run).isEmpty)
        #expect(try central.scores(run: run).isEmpty)
        #expect(try central.checkpoints(run: run).isEmpty)
        #expect(try !central.blobs.contains(sha256: sha))
    }

    @Test func anUnsealedBundleIsNotIngested() throws {
        let root = temporaryFolder("bundle-unsealed")
        let (central, dir, run) = try makeBundle(root)
        try FileManager.default.removeItem(atPath: dir + "/" + RunBundle.manifestName)
        #expect(!RunBundle.isSealed(dir))
        #expect(throws: InputError.self) { try central.ingestBundle(at: dir) }
        #expect(try central.run(run).status == .queued)
    }
}
