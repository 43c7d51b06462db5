// rlhub — claiming a grid cell: one transaction decides which process runs it.
import Foundation
import GRDB
import RLHubCore

/// What ``RunStore/claimCell(_:)`` found for a cell.
public enum CellClaim: Sendable, Equatable {
    /// This process now holds the cell's run (new, or a failed, queued or orphaned one taken
    /// over to resume): start its worker.
    case claimed(run: String)
    /// The cell has a finished run for this code version.
    case finished(run: String)
    /// A live process holds the cell's run: wait for it.
    case heldElsewhere(run: String)
}

extension RunStore {
    /// Claims the cell that `run` describes (its config hash and code version) for this process.
    ///
    /// Looking the cell up and taking its run happen in one IMMEDIATE transaction, so of any
    /// number of processes claiming a cell at once exactly one gets `.claimed`; the others see
    /// the run held (and wait for it) or finished. A run whose process is gone is taken over.
    /// The claimed run is `running` under this process until the worker it starts takes it with
    /// ``markRunning(_:threads:parent:)``.
    public func claimCell(_ run: NewRun) throws -> CellClaim {
        try write { db in
            // Same code = same source hash (RLHubCore/CodeVersion), whatever the commit: a cell
            // finished before a docs-only commit stays finished. A version without a source hash
            // (recorded before rlhub embedded one) matches only itself, to the letter.
            let candidates = try RunHolder
                .filter(RunRow.Columns.configHash == run.configHash)
                .order(RunRow.Columns.created.desc, RunRow.Columns.id)
                .fetchAll(db)
                .filter { $0.codeVersion == run.codeVersion.description || run.codeVersion.isSameCode(asRecorded: $0.codeVersion) }
            if let done = candidates.first(where: { $0.status == .finished }) { return .finished(run: done.id) }
            if let held = candidates.first(where: { $0.liveProcess != nil }) { return .heldElsewhere(run: held.id) }
            let id = try candidates.first?.id ?? insertRun(run, status: .queued, db)
            try Self.setRunning(id, threads: run.threads, db)
            return .claimed(run: id)
        }
    }

    /// Hands a run this process claimed with ``claimCell(_:)`` back as `queued`: a Slurm
    /// submission claims its cells (so that a concurrent submission cannot create or submit them
    /// too), records the array job that holds them, and then releases the claims — from then on
    /// the job's task, not this process, holds the run. A run that another process holds, or that
    /// is no longer `running`, is left as it is.
    public func releaseClaim(_ id: String) throws {
        let me = ProcessIdentity.current
        try write { db in
            _ = try runKey(id, db)
            try db.execute(
                sql: "UPDATE runs SET status = 'queued', pid = NULL, pid_start = NULL WHERE id = ? AND status = 'running' AND pid = ? AND host = ?",
                arguments: [id, me.pid, me.host])
        }
    }
}
