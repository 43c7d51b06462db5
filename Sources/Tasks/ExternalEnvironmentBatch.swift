// rlhub — a batch of episodes of an external environment: one `reset` message per process for
// the whole batch (episodes split among the processes in contiguous blocks), one `step` message
// per process for every episode whose turn ended. Every reply is checked against the request:
// the same episodes in the same order, finite rewards inside the declared range.
import RLHubCore

/// The ``EnvironmentBatch`` of an ``ExternalTask``.
struct ExternalEnvironmentBatch: EnvironmentBatch {
    let group: EnvProcessGroup
    /// Per position of the last reset: the protocol's episode id, its process, whether it is done.
    private var ids: [Int] = []
    private var owner: [Int] = []
    private var done: [Bool] = []

    init(group: EnvProcessGroup) { self.group = group }

    mutating func reset(_ starts: [EpisodeStart]) throws(InputError) -> [[ChatMessage]] {
        close()
        let base = group.reserveEpisodes(starts.count)
        let processes = min(group.processCount, max(1, starts.count))
        ids = starts.indices.map { base + $0 }
        owner = starts.indices.map { $0 * processes / max(1, starts.count) }
        done = [Bool](repeating: false, count: starts.count)
        let shards = shard(Array(starts.indices))
        let replies = try group.call(
            shards.map { p, positions in
                (p, EnvRequest.reset(positions.map {
                    .init(episode: ids[$0], split: starts[$0].split.rawValue, index: starts[$0].index, seed: starts[$0].seed)
                }))
            }, as: EnvResetReply.self)
        var first = [[ChatMessage]](repeating: [], count: starts.count)
        for ((p, positions), reply) in zip(shards, replies) {
            try check(process: p, op: "reset", asked: positions, answered: reply.episodes.map(\.episode))
            for (position, item) in zip(positions, reply.episodes) {
                guard !item.messages.isEmpty else {
                    throw group.fail(process: p, op: "reset", message: "episode \(item.episode): reset returned no messages")
                }
                first[position] = item.messages
            }
        }
        return first
    }

    mutating func step(_ actions: [(episode: Int, text: String)]) throws(InputError) -> [StepResult] {
        let shards = shard(actions.indices.map { actions[$0].episode })
        var slot = [Int: Int]()  // position → index in `actions`
        for (k, a) in actions.enumerated() { slot[a.episode] = k }
        let replies = try group.call(
            shards.map { p, positions in
                (p, EnvRequest.step(positions.map { .init(episode: ids[$0], action: actions[slot[$0]!].text) }))
            }, as: EnvStepReply.self)
        let range = group.hello.reward_range
        var results = [StepResult](repeating: StepResult(observation: nil, reward: 0, done: true), count: actions.count)
        for ((p, positions), reply) in zip(shards, replies) {
            try check(process: p, op: "step", asked: positions, answered: reply.episodes.map(\.episode))
            for (position, item) in zip(positions, reply.episodes) {
                guard item.reward.isFinite, item.reward >= range[0], item.reward <= range[1] else {
                    throw group.fail(
                        process: p, op: "step",
                        message: "episode \(item.episode): reward \(item.reward) outside the declared range [\(range[0]), \(range[1])]")
                }
                done[position] = item.done
                results[slot[position]!] = StepResult(
                    observation: item.done ? nil : item.observation ?? [], reward: item.reward, done: item.done,
                    info: item.info ?? [:])
            }
        }
        return results
    }

    mutating func close() {
        let open = ids.indices.filter { !done[$0] }
        defer { ids = []; owner = []; done = [] }
        guard !open.isEmpty else { return }
        // A failure here has already shut the group down; the next call reports it.
        _ = try? group.call(shard(open).map { p, positions in (p, EnvRequest.close(positions.map { ids[$0] })) }, as: EnvEmptyReply.self)
    }

    /// Positions grouped by their process, in process order, each group in the given order.
    private func shard(_ positions: [Int]) -> [(process: Int, positions: [Int])] {
        var byProcess: [Int: [Int]] = [:]
        for position in positions { byProcess[owner[position], default: []].append(position) }
        return byProcess.keys.sorted().map { ($0, byProcess[$0]!) }
    }

    /// A reply must answer exactly the asked episodes, in order.
    private func check(process: Int, op: String, asked: [Int], answered: [Int]) throws(InputError) {
        let expected = asked.map { ids[$0] }
        guard answered != expected else { return }
        func show(_ x: [Int]) -> String { x.prefix(5).map(String.init).joined(separator: ", ") + (x.count > 5 ? ", …" : "") }
        throw group.fail(
            process: process, op: op,
            message: "the reply answers episodes [\(show(answered))] where [\(show(expected))] were asked")
    }
}
