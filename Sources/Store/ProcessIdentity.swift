// rlhub — which process holds a running run, so that a crashed writer is noticed on the next open.
import Foundation

/// A process on this host, identified by its pid and its start time (so a reused pid is not
/// mistaken for the original process).
public struct ProcessIdentity: Sendable, Equatable {
    public var host: String
    public var pid: Int32
    /// Field 22 of `/proc/PID/stat` (clock ticks since boot); empty where `/proc` is missing.
    public var startTime: String

    /// The calling process.
    public static var current: ProcessIdentity {
        let pid = getpid()
        return ProcessIdentity(host: hostName, pid: pid, startTime: startTime(of: pid) ?? "")
    }

    /// This machine's host name.
    public static var hostName: String { ProcessInfo.processInfo.hostName }

    /// Whether the process is still alive: same pid and, where known, same start time.
    public var isAlive: Bool {
        guard host == Self.hostName else { return true }  // another machine: cannot tell, assume alive
        if kill(pid, 0) != 0 && errno == ESRCH { return false }
        guard !startTime.isEmpty else { return true }
        return Self.startTime(of: pid) == startTime
    }

    /// The start time of `pid` from `/proc/PID/stat`. The command name (field 2) may contain
    /// spaces and parentheses, so fields are counted after its closing parenthesis.
    static func startTime(of pid: Int32) -> String? {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = text.lastIndex(of: ")") else { return nil }
        let fields = text[text.index(after: close)...].split(separator: " ")
        // After ")": field 3 (state) is index 0, so field 22 is index 19.
        return fields.count > 19 ? String(fields[19]) : nil
    }
}
