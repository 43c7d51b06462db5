// rlhub — the live view of a running grid: one line per running cell plus a summary, redrawn in
// place on a terminal; plain event lines (and a summary every 30 s) otherwise.
import Foundation
import Store

/// Draws grid progress on standard error.
public final class GridProgressView {
    let tty: Bool
    let began = Date()
    var drawnLines = 0
    var lastPlain = Date.distantPast
    let output: (String) -> Void

    public init(tty: Bool = isatty(STDERR_FILENO) == 1, output: @escaping (String) -> Void = { FileHandle.standardError.write(Data($0.utf8)) }) {
        self.tty = tty
        self.output = output
    }

    /// A state change of one cell (started, finished, failed).
    public func event(_ text: String) {
        clear()
        output(text + "\n")
    }

    /// The running cells and the totals.
    public func update(
        running: [(cell: GridCell, run: RunRecord, metrics: [(name: String, finalStep: Int, finalValue: Double?, bestStep: Int?, bestValue: Double?, count: Int)])],
        done: Int, failed: Int, total: Int, eta: TimeInterval?
    ) {
        let summary = "grid: \(done)/\(total) done · \(running.count) running · \(failed) failed · elapsed \(LocalExecutor.duration(Date().timeIntervalSince(began)))"
            + (eta.map { " · ETA \(LocalExecutor.duration($0))" } ?? "")
        if tty {
            clear()
            var lines = [summary]
            for r in running {
                var parts = ["  \(r.cell.key)", "step \(r.run.stepsDone)/\(r.cell.config.steps)"]
                if let v = r.metrics.first(where: { $0.name == "reward/mean" })?.finalValue { parts.append(String(format: "reward %.3f", v)) }
                if let v = r.metrics.first(where: { $0.name == "eval/accuracy" })?.finalValue { parts.append(String(format: "eval %.3f", v)) }
                lines.append(parts.joined(separator: " · "))
            }
            output(lines.joined(separator: "\n") + "\n")
            drawnLines = lines.count
        } else if Date().timeIntervalSince(lastPlain) >= 30 {
            lastPlain = Date()
            output(summary + "\n")
        }
    }

    /// The closing summary.
    public func finish(plan: GridPlan, outcome: GridOutcome) {
        clear()
        var parts = ["grid \(plan.spec.name): \(outcome.finished.count) ran", "\(outcome.skipped.count) already in the store"]
        if !outcome.failed.isEmpty { parts.append("\(outcome.failed.count) failed") }
        if !outcome.blocked.isEmpty { parts.append("\(outcome.blocked.count) blocked") }
        parts.append("in \(LocalExecutor.duration(Date().timeIntervalSince(began)))")
        output(parts.joined(separator: ", ") + (outcome.interrupted ? " — interrupted; run the same command again to resume" : "") + "\n")
    }

    private func clear() {
        guard tty, drawnLines > 0 else { return }
        output(String(repeating: "\u{1B}[1A\u{1B}[2K", count: drawnLines))
        drawnLines = 0
    }
}
