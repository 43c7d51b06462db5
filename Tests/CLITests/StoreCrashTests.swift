// kill -9 of a process in the middle of logging: the store stays consistent, committed points
// stay, and the next open marks the run failed.
import Foundation
import Store
import Testing

@Suite("store crash", .serialized)
struct StoreCrashTests {
    @Test func killedWriterLeavesAConsistentStore() throws {
        let dir = tempDir() + "/store"
        let p = Process()
        p.executableURL = URL(fileURLWithPath: try rlhubBinary)
        // 10 steps × 10 metrics = 100 points per transaction, far more steps than it can log.
        p.arguments = ["bench-store-writer", "--store", dir, "--steps", "100000000", "--steps-per-batch", "10"]
        p.standardOutput = FileHandle.nullDevice
        try p.run()
        var logged = 0
        let deadline = Date().addingTimeInterval(60)
        while Date() < deadline && logged < 20_000 {
            Thread.sleep(forTimeInterval: 0.05)
            if let store = try? RunStore(directory: dir), let run = try? store.runs().first {
                logged = (try? store.allMetrics(run: run.id).count) ?? 0
            }
        }
        kill(p.processIdentifier, SIGKILL)
        p.waitUntilExit()
        #expect(logged >= 20_000, "the writer logged \(logged) points")

        let store = try RunStore(directory: dir)
        #expect(try store.integrityCheck() == "ok")
        let run = try #require(try store.runs().first)
        #expect(run.status == .failed)
        #expect(run.error?.contains("ended without finishing") == true)
        let points = try store.allMetrics(run: run.id)
        #expect(points.count % 100 == 0, "a transaction was torn: \(points.count) points")
        #expect(points.count >= logged)
        // Summaries were written in the same transactions as the points.
        for summary in try store.metricSummaries(run: run.id) {
            let mine = points.filter { $0.name == summary.name }
            #expect(summary.count == mine.count)
            #expect(summary.finalStep == mine.map(\.step).max())
        }
    }

    @Test func writersOpeningANewStoreAtOnceAllSucceed() throws {
        let dir = tempDir() + "/fresh"
        let writers = try (0..<4).map { i -> Process in
            let p = Process()
            p.executableURL = URL(fileURLWithPath: try rlhubBinary)
            p.arguments = ["bench-store-writer", "--store", dir, "--steps", "200", "--steps-per-batch", "10", "--tag", "w\(i)"]
            p.standardOutput = FileHandle.nullDevice
            try p.run()
            return p
        }
        for p in writers { p.waitUntilExit() }
        #expect(writers.allSatisfy { $0.terminationStatus == 0 })
        let store = try RunStore(directory: dir)
        let runs = try store.runs()
        #expect(runs.count == 4)
        for run in runs { #expect(try store.allMetrics(run: run.id).count == 2000) }
    }
}
