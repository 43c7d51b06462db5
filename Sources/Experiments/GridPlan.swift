// rlhub — what the store already knows about each cell of a grid: done, running elsewhere,
// resumable, or new.
import Foundation
import RLHubCore
import Store

/// A cell's state, read from the store.
public enum CellState: Sendable, Equatable {
    /// A finished run with this config hash and the current code (same source hash).
    case finished(run: String)
    /// A run of this cell is running in a live process (another `rlhub grid`, or a worker left
    /// behind): it is waited for, never started twice.
    case running(run: String)
    /// A failed, interrupted or queued run: it resumes from its last checkpoint.
    case resumable(run: String, status: RunStatus)
    /// Nothing stored yet for the current code.
    case new

    public var label: String {
        switch self {
        case .finished: "finished"
        case .running: "running"
        case .resumable(_, let status): status == .queued ? "queued" : "resumable (\(status.rawValue))"
        case .new: "new"
        }
    }

    public var runID: String? {
        switch self {
        case .finished(let r), .running(let r), .resumable(let r, _): r
        case .new: nil
        }
    }
}

/// The cells of a spec with their states.
public struct GridPlan: Sendable {
    public var spec: ExperimentSpec
    public var cells: [GridCell]
    public var states: [CellState]
    /// The code the cells run with; a stored run counts for a cell only when it ran the same code
    /// (``CodeVersion/isSameCode(asRecorded:)``: same source hash, whatever the commit).
    public var codeVersion: CodeVersion

    /// Expands the spec and looks every cell up in the store (stale runs were failed on open).
    public static func make(_ spec: ExperimentSpec, store: RunStore, codeVersion: CodeVersion = .current) throws -> GridPlan {
        let cells = try GridExpansion.cells(spec)
        let states = try cells.map { try state(of: $0, store: store, codeVersion: codeVersion) }
        return GridPlan(spec: spec, cells: cells, states: states, codeVersion: codeVersion)
    }

    static func state(of cell: GridCell, store: RunStore, codeVersion: CodeVersion) throws -> CellState {
        let runs = try store.runs(configHash: cell.configHash).filter { codeVersion.isSameCode(asRecorded: $0.codeVersion) }
        if let done = runs.first(where: { $0.status == .finished }) { return .finished(run: done.id) }
        if let live = runs.first(where: { $0.status == .running }) { return .running(run: live.id) }
        if let other = runs.first { return .resumable(run: other.id, status: other.status) }
        return .new
    }

    /// Keeps the cells whose key matches `only` (a glob with `*`, comma-separated alternatives),
    /// plus the warm-ups they need.
    public func selecting(_ only: String?) -> GridPlan {
        guard let only, !only.isEmpty else { return self }
        let patterns = only.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
        var keep = cells.map { cell in patterns.contains { Self.glob($0, matches: cell.key) } }
        for (i, cell) in cells.enumerated() where keep[i] {
            if let dep = cell.dependsOn, let j = cells.firstIndex(where: { $0.configHash == dep }) { keep[j] = true }
        }
        var out = self
        out.cells = cells.indices.filter { keep[$0] }.map { cells[$0] }
        out.states = cells.indices.filter { keep[$0] }.map { states[$0] }
        return out
    }

    /// `*` matches any run of characters; everything else literally.
    static func glob(_ pattern: String, matches text: String) -> Bool {
        let p = Array(pattern), t = Array(text)
        var pi = 0, ti = 0, star = -1, mark = 0
        while ti < t.count {
            if pi < p.count && p[pi] != "*" && p[pi] == t[ti] { pi += 1; ti += 1 }
            else if pi < p.count && p[pi] == "*" { star = pi; mark = ti; pi += 1 }
            else if star >= 0 { pi = star + 1; mark += 1; ti = mark }
            else { return false }
        }
        while pi < p.count && p[pi] == "*" { pi += 1 }
        return pi == p.count
    }
}
