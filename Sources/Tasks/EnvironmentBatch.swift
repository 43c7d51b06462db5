// rlhub — many episodes of one task played together: one reset for all, one step call for every
// episode whose turn ended. Built-in tasks play each episode in its own `Environment`; an
// external environment (ExternalTask) answers a whole batch in one protocol message.
import RLHubCore

/// Which problem an episode plays, and the seed of its dynamics (see ``Environment/reset(seed:)``).
public struct EpisodeStart: Sendable, Equatable {
    public var split: Split
    public var index: Int
    public var seed: UInt64

    public init(split: Split, index: Int, seed: UInt64) {
        self.split = split
        self.index = index
        self.seed = seed
    }
}

/// The episodes of one batch, addressed by their position in ``reset(_:)``'s list.
///
/// ```swift
/// var batch = task.makeEnvironmentBatch()
/// let first = try batch.reset(starts)                  // first messages of each episode
/// let results = try batch.step([(episode: 0, text: "46")])
/// batch.close()                                        // episodes not done are dropped
/// ```
public protocol EnvironmentBatch {
    /// Starts one episode per element of `starts` (dropping any earlier ones) and returns their
    /// first messages, in order.
    mutating func reset(_ starts: [EpisodeStart]) throws(InputError) -> [[ChatMessage]]
    /// Scores one assistant turn of each listed episode; results are in the order of `actions`.
    ///
    /// - precondition: each episode was reset and is not done, and appears once.
    mutating func step(_ actions: [(episode: Int, text: String)]) throws(InputError) -> [StepResult]
    /// Releases the episodes (those not done included). The batch can be reset again.
    mutating func close()
}

/// The batch of a built-in task: one ``Environment`` per episode, stepped in turn.
struct LocalEnvironmentBatch: EnvironmentBatch {
    let task: any RLTask
    private var environments: [any Environment] = []

    init(task: any RLTask) { self.task = task }

    mutating func reset(_ starts: [EpisodeStart]) throws(InputError) -> [[ChatMessage]] {
        environments = starts.map { task.makeEnvironment(split: $0.split, index: $0.index) }
        return starts.indices.map { environments[$0].reset(seed: starts[$0].seed) }
    }

    mutating func step(_ actions: [(episode: Int, text: String)]) throws(InputError) -> [StepResult] {
        actions.map { environments[$0.episode].step($0.text) }
    }

    mutating func close() { environments = [] }
}
