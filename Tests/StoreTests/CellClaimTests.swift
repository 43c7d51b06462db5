// Claiming grid cells: one transaction decides which process runs a cell; the worker a grid
// starts may take the run over, no other process may.
import Foundation
import GRDB
import RLHubCore
@_spi(StoreInternals) import Store
import Testing

@Suite struct CellClaimTests {
    @Test func aCellIsClaimedOnceUntilItsRunEnds() throws {
        let dir = temporaryFolder("claim")
        let a = try RunStore(directory: dir), b = try RunStore(directory: dir)
        let run = sampleRun(seed: 7)
        guard case .claimed(let id) = try a.claimCell(run) else { Issue.record("first claim refused"); return }
        #expect(try a.run(id).status == .running)
        // Any other claimant, in this process or another, sees the run held while its holder lives.
        #expect(try b.claimCell(run) == .heldElsewhere(run: id))
        #expect(try a.runs(configHash: run.configHash).count == 1)
        // A failed run is taken over (to resume), not duplicated.
        try a.markFailed(id, error: "stopped")
        #expect(try b.claimCell(run) == .claimed(run: id))
        try b.markFinished(id)
        #expect(try a.claimCell(run) == .finished(run: id))
        #expect(try a.runs(configHash: run.configHash).count == 1)
    }

    @Test func concurrentClaimsGiveExactlyOneWinner() throws {
        let dir = temporaryFolder("claim-race")
        let stores = try (0..<8).map { _ in try RunStore(directory: dir) }
        let run = sampleRun(seed: 3)
        final class Claims: @unchecked Sendable {
            let lock = NSLock()
            var all: [CellClaim] = []
        }
        let results = Claims()
        DispatchQueue.concurrentPerform(iterations: stores.count) { i in
            if let claim = try? stores[i].claimCell(run) { results.lock.withLock { results.all.append(claim) } }
        }
        let claims = results.all
        #expect(claims.count == 8)
        #expect(claims.filter { if case .claimed = $0 { true } else { false } }.count == 1)
        #expect(try stores[0].runs(configHash: run.configHash).count == 1)
    }

    @Test func aRunHeldByAnotherLiveProcessIsRefusedToAWorker() throws {
        let store = try RunStore(directory: temporaryFolder("hold"))
        let id = try store.createRun(sampleRun(seed: 1))
        // Held by process 1 (alive, and neither this process nor its parent).
        let initStart = try #require(try? String(contentsOfFile: "/proc/1/stat", encoding: .utf8))
        let start = initStart[initStart.index(after: initStart.lastIndex(of: ")")!)...].split(separator: " ")[19]
        try store.write { db in
            try db.execute(sql: "UPDATE runs SET status = 'running', pid = 1, pid_start = ?, host = ? WHERE id = ?",
                           arguments: [String(start), ProcessInfo.processInfo.hostName, id])
        }
        #expect(throws: InputError.self) { try store.markRunning(id) }
        // The grid that claimed it hands it to its worker.
        try store.markRunning(id, parent: 1)
        #expect(try store.run(id).status == .running)
    }
}
