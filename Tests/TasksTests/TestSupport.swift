// rlhub — helpers for the Tasks tests: make a task, score one reply, replay a demonstration.
import RLHubCore
import Tasks
import Testing

/// `TaskRegistry.make`, failing the test on an error.
func task(_ spec: String) throws -> any RLTask {
    do {
        return try TaskRegistry.make(spec)
    } catch {
        Issue.record("make(\(spec)) threw: \(error)")
        throw error
    }
}

/// The first `step` result of problem `index` for `reply`.
func score(_ task: any RLTask, _ reply: String, split: Split = .train, index: Int = 0) -> StepResult {
    var env = task.makeEnvironment(split: split, index: index)
    _ = env.reset(seed: 0)
    return env.step(reply)
}

/// The last assistant message of the gold demonstration (the answer of single-turn tasks).
func goldAnswer(_ task: any RLTask, split: Split = .train, index: Int = 0) -> String {
    task.goldDemonstration(split: split, index: index).last { $0.role == "assistant" }?.content ?? ""
}

/// The prompt of problem `index`.
func prompt(_ task: any RLTask, split: Split = .train, index: Int = 0) -> String {
    var env = task.makeEnvironment(split: split, index: index)
    return env.reset(seed: 0).map(\.content).joined(separator: "\n")
}

/// Replays the assistant turns of a demonstration through a fresh environment, checking that the
/// environment's messages are the demonstration's. Returns the total reward, or nil on mismatch.
func replay(_ task: any RLTask, split: Split, index: Int, seed: UInt64) -> Double? {
    let demo = task.goldDemonstration(split: split, index: index, seed: seed)
    var env = task.makeEnvironment(split: split, index: index)
    var expected = env.reset(seed: seed)
    var cursor = 0
    var total = 0.0
    while cursor < demo.count {
        // Environment messages up to the next assistant turn must match.
        var shown: [ChatMessage] = []
        while cursor < demo.count && demo[cursor].role != "assistant" {
            shown.append(demo[cursor])
            cursor += 1
        }
        guard shown == expected, cursor < demo.count else { return nil }
        let result = env.step(demo[cursor].content)
        cursor += 1
        total += result.reward
        if result.done { return cursor == demo.count ? total : nil }
        expected = result.observation ?? []
    }
    return nil
}

/// Approximate ChatML length in character-tokenizer tokens (each message: `<|im_start|>` role
/// `\n` content `<|im_end|>` `\n`), plus the generation prompt.
func chatMLTokens(_ messages: [ChatMessage]) -> Int {
    messages.reduce(3 + "assistant".count) { $0 + 4 + $1.role.count + $1.content.count }
}
