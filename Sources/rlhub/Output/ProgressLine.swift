// rlhub — training progress on stderr (`rlhub train`, grid workers' logs).
import Experiments
import Foundation

/// Step, reward, accuracy, rate and ETA: rewritten in place on a terminal, one line per step
/// otherwise (logs, CI).
final class ProgressLine {
    let total: Int
    /// The step before the first timed one; nil = the step before the first report (a resumed
    /// worker learns where it starts only then).
    var start: Int?
    var began = Date()
    let tty = isatty(STDERR_FILENO) == 1

    init(total: Int, start: Int? = nil) {
        self.total = total
        self.start = start
    }

    func report(step: Int, metrics: [String: Double]) {
        if start == nil {
            start = max(0, step - 1)
            began = Date()
        }
        let start = self.start ?? 0
        var parts = ["step \(step)/\(total)"]
        if let r = metrics["reward/mean"] { parts.append(String(format: "reward %.3f", r)) }
        if let a = metrics["accuracy"] { parts.append(String(format: "acc %.3f", a)) }
        if let e = metrics["eval/accuracy"] { parts.append(String(format: "eval %.3f", e)) }
        if let l = metrics["loss/total"] { parts.append(String(format: "loss %.4f", l)) }
        let done = step - start
        if done > 0 {
            let per = Date().timeIntervalSince(began) / Double(done)
            parts.append(String(format: "%.2f s/step", per))
            parts.append("ETA " + LocalExecutor.duration(per * Double(total - step)))
        }
        let line = parts.joined(separator: " · ")
        FileHandle.standardError.write(Data((tty ? "\r\u{1B}[2K" + line : line + "\n").utf8))
    }

    func finish() { if tty { FileHandle.standardError.write(Data("\n".utf8)) } }
}
