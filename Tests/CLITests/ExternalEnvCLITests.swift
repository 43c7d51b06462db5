// External environments through the real binary: eval --dump on a served task, a crashing
// environment (exit 2, one-line error last, its stderr kept in rlhub's), and no orphan after
// rlhub is killed with SIGKILL mid-evaluation.
import Foundation
import Testing

private let envsDir = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .appendingPathComponent("envs").path

/// The pids whose parent is `parent` (from /proc).
private func children(of parent: Int32) -> [Int32] {
    let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
    return entries.compactMap(Int32.init).filter { pid in
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = stat.lastIndex(of: ")") else { return false }
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        return fields.count > 2 && Int32(fields[1]) == parent
    }
}

/// Whether `pid` is gone (or a zombie nobody reaps: it has exited).
private func exited(_ pid: Int32) -> Bool {
    guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
          let close = stat.lastIndex(of: ")") else { return true }
    return stat[stat.index(after: close)...].split(separator: " ").first == "Z"
}

@Suite("External environments (CLI)", .serialized)
struct ExternalEnvCLITests {
    @Test("eval --dump plays a served multi-turn task and writes its trajectories")
    func evalDump() throws {
        let dir = tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let r = try rlhub(
            "eval", "--model", "preset:tiny", "--task", "py:\(envsDir)/counting.py:turns=2", "--episodes", "6",
            "--dump", dir + "/t.jsonl", "--json", "--threads", "1")
        #expect(r.status == 0, "\(r.err)")
        let summary = try JSONSerialization.jsonObject(with: Data(r.out.utf8)) as? [String: Any]
        #expect(summary?["episodes"] as? Int == 6)
        #expect((summary?["task"] as? String)?.contains("env.name=counting,env.protocol=1,env.version=1.0") == true)
        let lines = try String(contentsOfFile: dir + "/t.jsonl", encoding: .utf8).split(separator: "\n")
        #expect(lines.count == 6)
        let first = try JSONSerialization.jsonObject(with: Data(lines[0].utf8)) as? [String: Any]
        let messages = first?["messages"] as? [[String: String]]
        #expect(messages?.first?["content"] == "Count on from 1.")
        #expect(messages?.dropFirst().first?["role"] == "assistant")
    }

    @Test("a crashing environment: exit 2, the one-line error last, its stderr kept before it")
    func crash() throws {
        let name = "cmd:\(envsDir)/misbehaving.py"
        let r = try rlhub("eval", "--model", "preset:tiny", "--task", "\(name):mode=crash", "--episodes", "4", "--threads", "1")
        #expect(r.status == 2, "\(r.err)")
        let lines = r.err.split(separator: "\n")
        #expect(lines.last?.hasPrefix("rlhub: error: environment \(name) (pid ") == true, "\(r.err)")
        #expect(lines.last?.hasSuffix(
            "message 3 (step), no reply line: the process exited with status 3; last stderr line: boom: simulated crash") == true,
            "\(r.err)")
        #expect(lines.dropLast().contains { $0.hasPrefix("[\(name) pid ") && $0.hasSuffix("] boom: simulated crash") }, "\(r.err)")
    }

    @Test("kill -9 of rlhub leaves no environment process behind")
    func noOrphanAfterKill() throws {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: try rlhubBinary)
        p.arguments = [
            "eval", "--model", "preset:tiny", "--task", "py:\(envsDir)/counting.py:delay=0.5", "--episodes", "64", "--threads", "1",
        ]
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle.nullDevice
        try p.run()
        var env: [Int32] = []
        for _ in 0..<200 where env.isEmpty {
            Thread.sleep(forTimeInterval: 0.05)
            env = children(of: p.processIdentifier)
        }
        #expect(env.count == 1, "the environment process did not start")
        Thread.sleep(forTimeInterval: 1)  // inside a slow step now
        kill(p.processIdentifier, SIGKILL)
        p.waitUntilExit()
        var gone = false
        for _ in 0..<60 where !gone {
            Thread.sleep(forTimeInterval: 0.05)
            gone = env.allSatisfy(exited)
        }
        #expect(gone, "environment \(env) outlived rlhub")
        for pid in env where !exited(pid) { kill(pid, SIGKILL) }
    }
}
