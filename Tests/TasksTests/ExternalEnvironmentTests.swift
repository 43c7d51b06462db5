// External environments over the JSON Lines protocol: a Python module served by
// envs/python/rlhub_env.py (multi-turn, tool observations, gold demonstrations), the handshake in
// the canonical spec, several processes per environment, and every failure of a misbehaving
// environment (Tests/envs/misbehaving.py) as one line naming the environment, message and line.
import Foundation
import RLHubCore
import Tasks
import Testing

/// Tests/envs, the test environments.
let testEnvs = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .appendingPathComponent("envs").path

@Suite("External environments")
struct ExternalEnvironmentTests {
    let counting = "py:\(testEnvs)/counting.py"

    @Test("a Python module: the handshake in the spec, a multi-turn batch, a replayed demonstration")
    func pythonModule() throws {
        let t = try ExternalTask.make("\(counting):turns=2")
        #expect(t.spec == "\(counting):delay=0.0,env.name=counting,env.protocol=1,env.version=1.0,turns=2")
        #expect(t.maxTurns == 2 && t.maxNewTokensHint == 8 && t.problemCount(.train) == nil)
        var batch = t.makeEnvironmentBatch()
        let first = try batch.reset([EpisodeStart(split: .train, index: 0, seed: 0), EpisodeStart(split: .test, index: 3, seed: 0)])
        #expect(first == [[ChatMessage(role: "user", content: "Count on from 0.")], [ChatMessage(role: "user", content: "Count on from 7.")]])
        let turn1 = try batch.step([(episode: 1, text: "8"), (episode: 0, text: "5")])
        #expect(turn1[0].done == false && turn1[0].reward == 0)
        #expect(turn1[0].observation == [ChatMessage(role: "tool", content: "ok, next after 8")])
        #expect(turn1[1].done && turn1[1].reward == 0 && turn1[1].info["outcome"] == "wrong")
        let turn2 = try batch.step([(episode: 1, text: "9")])
        #expect(turn2[0].done && turn2[0].reward == 1 && turn2[0].info["outcome"] == "correct")
        batch.close()
        #expect(replay(t, split: .test, index: 4, seed: 0) == 1)
        #expect(t.problemKey(split: .test, index: 4) == "9")
        // The canonical spec makes the same task again (as a stored config does).
        #expect(try TaskRegistry.make(t.spec).spec == t.spec)
    }

    @Test("a spec pinned to another environment version is refused with one line")
    func pinnedVersion() {
        #expect(throws: InputError(
            file: "--task", field: "py:\(testEnvs)/counting.py",
            message: "env.version=0.9 was asked, but the environment is env.version=1.0")
        ) { try ExternalTask.make("\(counting):env.version=0.9") }
        #expect(throws: InputError(file: "--task", field: "py:\(testEnvs)/counting.py", message: "parameter 'turns' given twice")) {
            try ExternalTask.make("\(counting):turns=2,turns=3")
        }
    }

    @Test("two processes per environment play the same episodes as one")
    func processPool() throws {
        let starts = (0..<5).map { EpisodeStart(split: .train, index: $0, seed: 0) }
        var outcomes: [[StepResult]] = []
        for processes in [1, 2] {
            let t = try ExternalTask.make("\(counting):turns=3", options: ExternalEnvironmentOptions(processes: processes))
            var batch = t.makeEnvironmentBatch()
            let first = try batch.reset(starts)
            #expect(first.map { $0[0].content } == (0..<5).map { "Count on from \(2 * $0)." })
            outcomes.append(try batch.step((0..<5).map { (episode: $0, text: $0 % 2 == 0 ? String(2 * $0 + 1) : "x") }))
        }
        #expect(outcomes[0] == outcomes[1])
        #expect(outcomes[0].map(\.done) == [false, true, false, true, false])
    }

    @Test(
        "a misbehaving environment fails with one line naming it, the message and its line; its processes are gone",
        arguments: [
            ("crash", "no reply line: the process exited with status 3; last stderr line: boom: simulated crash"),
            ("hang", "no reply line: no reply within 1.0 s; killed"),
            ("malformed", "reply line 3: malformed reply (not a JSON object): 'this is not json'"),
            ("wrong_episode", "reply line 3: the reply answers episodes [1, 2] where [0, 1] were asked"),
            ("bad_reward", "reply line 3: episode 0: reward 2.0 outside the declared range [0.0, 1.0]"),
            ("error", "reply line 3: the environment reports: ValueError: simulated failure"),
        ])
    func misbehaving(mode: String, expected: String) throws {
        let name = "cmd:\(testEnvs)/misbehaving.py"
        let t = try ExternalTask.make("\(name):mode=\(mode)", options: ExternalEnvironmentOptions(timeout: 1))
        var batch = t.makeEnvironmentBatch()
        _ = try batch.reset([EpisodeStart(split: .train, index: 0, seed: 0), EpisodeStart(split: .train, index: 1, seed: 0)])
        var message = ""
        do {
            _ = try batch.step([(episode: 0, text: "ok"), (episode: 1, text: "ok")])
        } catch {
            message = error.description
        }
        #expect(message.hasPrefix("environment \(name) (pid "), "\(message)")
        #expect(message.hasSuffix("message 3 (step), \(expected)"), "\(message)")
        #expect(!message.contains("\n"))
        // The pid in the message names a process that no longer exists.
        let pid = message.split(separator: "pid ").dropFirst().first.flatMap { Int32($0.prefix { $0.isNumber }) }
        #expect(pid.map { kill($0, 0) == -1 && errno == ESRCH } == true, "pid \(String(describing: pid)) still exists")
        // The group is discarded: the task made again starts a new, working process.
        #expect(throws: InputError.self) { _ = try batch.reset([EpisodeStart(split: .train, index: 0, seed: 0)]) }
    }

    @Test("a well-behaved program speaking the protocol itself (cmd:) plays")
    func commandEnvironment() throws {
        let t = try ExternalTask.make("cmd:\(testEnvs)/misbehaving.py:mode=well")
        var batch = t.makeEnvironmentBatch()
        _ = try batch.reset([EpisodeStart(split: .test, index: 0, seed: 0), EpisodeStart(split: .test, index: 1, seed: 0)])
        let results = try batch.step([(episode: 0, text: "ok"), (episode: 1, text: "no")])
        #expect(results.map(\.reward) == [1, 0])
        #expect(throws: InputError.self) { try t.goldDemonstrations(split: .train, indices: [0], seed: 0) }
    }

    @Test("an environment that cannot start is one line naming it")
    func cannotStart() {
        #expect(throws: InputError(file: "environment cmd:/nonexistent/env", message: "cannot start /nonexistent/env: No such file or directory")) {
            try ExternalTask.make("cmd:/nonexistent/env")
        }
    }
}
