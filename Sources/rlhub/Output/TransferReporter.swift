// rlhub — download and upload progress on stderr, and byte counts for people.
import Foundation

/// Progress of downloads on stderr: a redrawn line on a terminal, one line per finished file otherwise.
final class TransferReporter: @unchecked Sendable {
    private let tty = isatty(STDERR_FILENO) == 1
    private let lock = NSLock()
    private var lastDraw = Date.distantPast
    private var started: [String: Date] = [:]

    func line(_ text: String) {
        lock.withLock { FileHandle.standardError.write(Data(((tty ? "\r\u{1B}[K" : "") + text + "\n").utf8)) }
    }

    func progress(_ path: String, _ done: Int64, _ total: Int64) {
        lock.withLock {
            let now = Date()
            let start = started[path] ?? now
            started[path] = start
            let name = (path as NSString).lastPathComponent.prefix(24)
            let rate = Double(done) / max(now.timeIntervalSince(start), 1e-3)
            if tty {
                guard done == total || now.timeIntervalSince(lastDraw) > 0.2 else { return }
                lastDraw = now
                let eta = rate > 0 ? Double(total - done) / rate : 0
                FileHandle.standardError.write(Data("\r\u{1B}[K\(name)  \(formatBytes(done))/\(formatBytes(total))  \(formatBytes(Int64(rate)))/s  ETA \(Int(eta)) s".utf8))
                if done == total { FileHandle.standardError.write(Data("\n".utf8)) }
            } else if done == total {
                FileHandle.standardError.write(Data("\(path): \(formatBytes(total)) verified\n".utf8))
            }
        }
    }
}

/// `1.5 MB`-style sizes (powers of 1000).
func formatBytes(_ bytes: Int64) -> String {
    let units = ["B", "kB", "MB", "GB", "TB"]
    var value = Double(bytes), unit = 0
    while value >= 1000, unit + 1 < units.count { value /= 1000; unit += 1 }
    return unit == 0 ? "\(bytes) B" : String(format: "%.1f %@", value, units[unit])
}
