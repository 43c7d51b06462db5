// Rollout samples in the store: the zstd frames (round trip, determinism, limits, damage), rows
// and their filter, the per-step size budget, resume truncation, frozen releases, and a release
// exported and imported with its samples.
import Foundation
import GRDB
import RLHubCore
@_spi(StoreInternals) import Store
import Testing

/// A sample row whose JSON is `bytes` pseudo-random digits (floats' worth of entropy) of length `size`.
func storedSample(step: Int, position: Int, kind: String = "train", reward: Double = 1, size: Int = 2000, seed: UInt64 = 1) -> StoredSample {
    var state = seed &* 0x9E37_79B9_7F4A_7C15 &+ UInt64(position)
    var text = "{\"samplerLogprobs\":["
    while text.utf8.count < size {
        state = state &* 6364136223846793005 &+ 1442695040888963407
        text += "-\(Double(state >> 40) / Double(1 << 24)),"
    }
    text += "0]}"
    return StoredSample(
        step: step, kind: kind, position: position, problem: position, group: position / 2, sample: position % 2, reward: reward,
        advantage: reward - 0.5, logprobGap: 0.01 * Double(position), outcome: reward > 0 ? "correct" : "wrong", finishReason: "done",
        truncated: position == 3, turns: 1, promptTokens: 10, responseTokens: 4 + position, json: Data(text.utf8))
}

@Suite struct SampleStoreTests {
    @Test func zstdFramesRoundTripDeterministically() throws {
        for size in [1, 100, 70_000, 1 << 20] {
            var bytes = [UInt8](repeating: 0, count: size)
            for i in bytes.indices { bytes[i] = UInt8(truncatingIfNeeded: (i * 7919) >> 3) }
            let data = Data(bytes)
            let frame = try ZstdData.compress(data)
            #expect(frame.prefix(4) == Data([0x28, 0xB5, 0x2F, 0xFD]), "a zstd frame starts with its magic number")
            #expect(try ZstdData.compress(data) == frame, "same bytes, same frame")
            #expect(try ZstdData.decompress(frame, limit: size) == data)
        }
    }

    @Test func zstdRefusesBombsAndDamage() throws {
        let data = Data(repeating: 0x41, count: 1 << 20)
        let frame = try ZstdData.compress(data)
        #expect(frame.count < 1000)
        #expect(throws: InputError.self) { try ZstdData.decompress(frame, limit: (1 << 20) - 1) }
        #expect(throws: InputError.self) { try ZstdData.decompress(Data("plain text, no frame".utf8), limit: 1 << 20) }
        var damaged = frame
        damaged[damaged.count / 2] ^= 0xFF
        damaged[damaged.count - 2] ^= 0xFF
        #expect(throws: InputError.self) { try ZstdData.decompress(damaged, limit: 1 << 21) }
    }

    @Test func samplesAreStoredFilteredAndTruncated() throws {
        let store = try RunStore(inMemoryWithBlobsAt: temporaryFolder("samples"))
        let id = try store.createRun(sampleRun())
        let rows = (0..<4).map { storedSample(step: 10, position: $0, reward: Double($0 % 2)) }
        #expect(try store.appendSamples(run: id, step: 10, kind: "train", samples: rows) == 4)
        try store.appendSamples(run: id, step: 10, kind: "eval", samples: [storedSample(step: 10, position: 0, kind: "eval")])
        try store.appendSamples(run: id, step: 20, kind: "train", samples: [storedSample(step: 20, position: 0)])
        #expect(try store.sampleSteps(run: id) == [
            SampleStep(step: 10, kind: "train", samples: 4), SampleStep(step: 10, kind: "eval", samples: 1), SampleStep(step: 20, kind: "train", samples: 1),
        ])
        let back = try store.samples(run: id, step: 10).filter { $0.kind == "train" }
        #expect(back == rows, "columns and JSON come back as stored")
        #expect(try store.samples(run: id, filter: SampleFilter(where: "reward > 0 and kind = 'train'")).map { "\($0.step)/\($0.position)" } == ["10/1", "10/3", "20/0"])
        #expect(try store.samples(run: id, filter: SampleFilter(where: "truncated = true")).map(\.position) == [3])
        #expect(try store.samples(run: id, filter: SampleFilter(where: "logprob_gap >= 0.02 and response_tokens in (6, 7)")).map(\.position) == [2, 3])
        let bytes = try store.sampleBytes(run: id)
        let raw = try store.samples(run: id).reduce(0) { $0 + $1.json.count }
        #expect(bytes.samples == 6 && bytes.raw == raw && bytes.compressed < bytes.raw)
        // Logged again for a step: replaced. Resumed before step 20: its samples go.
        try store.appendSamples(run: id, step: 10, kind: "train", samples: Array(rows.prefix(2)))
        #expect(try store.samples(run: id, step: 10).filter { $0.kind == "train" }.count == 2)
        try store.truncateMetrics(run: id, after: 15)
        #expect(try store.sampleSteps(run: id).map(\.step) == [10, 10])
    }

    @Test func filterErrorsNameTheField() throws {
        #expect(throws: InputError.self) { try SampleFilter(where: "rewrd > 0") }
        do { _ = try SampleFilter(where: "rewrd > 0") } catch {
            #expect(error.description.contains("did you mean 'reward'") && error.description.contains("column 1"), "\(error)")
        }
        do { _ = try SampleFilter(where: "reward >") } catch {
            #expect(error.description.contains("expected a value"), "\(error)")
        }
        #expect(try SampleFilter(where: "outcome like 'corr%' or (step >= 10 and not truncated = true)").sql.filter { $0 == "?" }.count == 3)
    }

    @Test func theBudgetBoundsAStep() throws {
        let store = try RunStore(inMemoryWithBlobsAt: temporaryFolder("budget"))
        let id = try store.createRun(sampleRun())
        // ~60 KB of digits compress to roughly half: at most 256 KiB keeps the first eight or so.
        let rows = (0..<20).map { storedSample(step: 1, position: $0, size: 60_000, seed: UInt64($0)) }
        let kept = try store.appendSamples(run: id, step: 1, kind: "train", samples: rows)
        let bytes = try store.sampleBytes(run: id)
        #expect(kept > 0 && kept < 20, "kept \(kept)")
        #expect(bytes.compressed <= RunStore.sampleBudgetPerStep && bytes.samples == kept)
        #expect(try store.samples(run: id).map(\.position) == Array(0..<kept), "the first samples are kept, in order")
    }

    @Test func releasesCarrySamplesAndFreezeThem() throws {
        let dir = temporaryFolder("release")
        let store = try RunStore(directory: dir + "/a")
        let id = try store.createRun(sampleRun())
        try store.markRunning(id)
        try store.appendMetrics(run: id, records: [(1, ["x": 1])])
        try store.appendSamples(run: id, step: 1, kind: "train", samples: (0..<3).map { storedSample(step: 1, position: $0) })
        try store.markFinished(id)
        try store.createRelease(name: "r1")
        #expect(throws: (any Error).self) { try store.appendSamples(run: id, step: 2, kind: "train", samples: [storedSample(step: 2, position: 0)]) }
        try store.exportRelease("r1", to: dir + "/r1.sqlite")
        let again = dir + "/r1-again.sqlite"
        try store.exportRelease("r1", to: again)
        #expect(FileManager.default.contents(atPath: dir + "/r1.sqlite") == FileManager.default.contents(atPath: again), "the same release gives the same bytes")
        let other = try RunStore(directory: dir + "/b")
        let imported = try other.importRelease(from: dir + "/r1.sqlite", source: "test")
        #expect(imported.imported == [id])
        #expect(try other.samples(run: id) == store.samples(run: id))
    }
}
