// rlhub — `frozenlake`: RAGEN's text FrozenLake (after Gymnasium's FrozenLake-v1), with random
// start, goal and holes, and deterministic seeded slips.
import RLHubCore

/// `frozenlake:size=4,slippery=false,turns=10`: walk `P` to `G` without stepping on a hole `O`.
///
/// The first message is an instruction line and the grid; each later observation is the grid
/// alone (a `user` message), for example
/// ```
/// _P__
/// _O_O
/// ___O
/// O__G
/// ```
/// Actions are `U`/`D`/`L`/`R` or `up`/`down`/`left`/`right` (any case); strict replies must be
/// exactly one action, with `lenient` the last action word in the reply counts (single letters
/// only in upper case). Walking into the edge leaves the player in place. Reward: 1 on reaching
/// the goal; on falling into a hole or running out of `turns` moves, the format reward; 0 and the
/// end of the episode on a malformed reply.
///
/// Slippery ice (Gymnasium's rule): the move made is the intended one, or the intended one turned
/// left or right, each with probability 1/3. The turn at move t is a pure function of
/// (`reset` seed, map, t), independent of the action, so a given seed replays exactly.
///
/// Maps: each cell other than start and goal is a hole with probability 0.2; a map is kept when
/// its shortest path is 2...turns moves. The gold demonstration follows a breadth-first shortest
/// path; on slippery ice it pre-turns each action against that step's (seeded) slip, so it earns
/// 1 for the seed it was made for.
public struct FrozenLakeTask: RLTask {
    static let declaredParameters = [
        TaskParameter("size", .integer(3...8), default: "4", "grid side"),
        TaskParameter("slippery", .flag, default: "false", "moves turn left/right with probability 1/3 each"),
        TaskParameter("turns", .integer(2...100), default: "10", "most moves"),
        TaskParameter.lenient, TaskParameter.format,
    ]

    static let holeProbability = 0.2

    public let parameters: TaskParameters
    public let formatReward: Double
    let size: Int
    let slippery: Bool
    let turns: Int
    let lenient: Bool
    private let source: ProblemSource

    init(_ parameters: TaskParameters) {
        self.parameters = parameters
        size = parameters.int("size")
        slippery = parameters.flag("slippery")
        turns = parameters.int("turns")
        lenient = parameters.flag("lenient")
        formatReward = parameters.double("format")
        source = ProblemSource(sampledWithKey: "frozenlake:size=\(size),turns=\(turns)")
    }

    public var name: String { "frozenlake" }
    public var maxTurns: Int { turns }
    public var maxNewTokensHint: Int { 5 + 8 }
    public var rewardDescription: String {
        "1 on reaching G within \(turns) moves; hole or timeout: \(TaskParameters.render(formatReward)); "
            + "malformed action: 0"
    }

    public func problemCount(_ split: Split) -> Int? { nil }

    public func problemKey(split: Split, index: Int) -> String { map(split, index).canonical }

    public func makeEnvironment(split: Split, index: Int) -> any Environment {
        FrozenLakeEnvironment(
            map: map(split, index), slippery: slippery, maxTurns: turns, lenient: lenient, formatReward: formatReward)
    }

    public func goldDemonstration(split: Split, index: Int, seed: UInt64) -> [ChatMessage] {
        let map = map(split, index)
        let mapHash = stableHash(map.canonical)
        var messages = [
            ChatMessage(role: "user", content: map.introduction(slippery: slippery) + map.render(player: map.start))
        ]
        var position = map.start
        for (t, wanted) in map.shortestPath().enumerated() {
            // On slippery ice, aim so that this step's (seeded) slip turns the move into `wanted`.
            let slip = slippery ? FrozenLakeEnvironment.slip(seed: seed, mapHash: mapHash, move: t) : 0
            messages.append(ChatMessage(role: "assistant", content: wanted.turned(by: -slip).letter))
            position = map.move(position, wanted) ?? position
            if position != map.goal {
                messages.append(ChatMessage(role: "user", content: map.render(player: position)))
            }
        }
        return messages
    }

    // MARK: - Maps

    private func map(_ split: Split, _ index: Int) -> LakeMap {
        source.sample(split, index, canonical: \.canonical) { rng in
            let n = size
            let start = rng.below(n * n)
            var goal = rng.below(n * n - 1)
            if goal >= start { goal += 1 }
            var holes = [Bool](repeating: false, count: n * n)
            for cell in 0..<n * n where cell != start && cell != goal {
                holes[cell] = rng.unit() < FrozenLakeTask.holeProbability
            }
            let map = LakeMap(size: n, holes: holes, start: start, goal: goal)
            let d = map.distancesToGoal()[start]
            return d >= 2 && d <= turns ? map : nil
        }
    }
}

/// A move direction, clockwise from up.
enum Direction: Int, CaseIterable {
    case up = 0
    case right, down, left

    var letter: String { ["U", "R", "D", "L"][rawValue] }

    /// Turned clockwise by `quarterTurns` (negative: counter-clockwise).
    func turned(by quarterTurns: Int) -> Direction {
        Direction(rawValue: ((rawValue + quarterTurns) % 4 + 4) % 4) ?? self
    }

    /// `U`/`up` … in any case; `nil` otherwise.
    init?(word: String) {
        switch word.lowercased() {
        case "u", "up": self = .up
        case "r", "right": self = .right
        case "d", "down": self = .down
        case "l", "left": self = .left
        default: return nil
        }
    }
}

/// A square map: holes, a start and a goal; cells are numbered row-major.
struct LakeMap: Sendable {
    let size: Int
    let holes: [Bool]
    let start: Int
    let goal: Int

    /// Rows joined by `/`, start `S`, goal `G`, hole `O`, ice `_`.
    var canonical: String {
        String(decoding: cells(player: start, playerMark: 0x53, rowSeparator: 0x2F), as: UTF8.self)
    }

    /// The grid with the player `P` at `player`, rows separated by newlines.
    func render(player: Int) -> String {
        String(decoding: cells(player: player, playerMark: 0x50, rowSeparator: 0x0A), as: UTF8.self)
    }

    private func cells(player: Int, playerMark: UInt8, rowSeparator: UInt8) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(size * (size + 1))
        for cell in 0..<size * size {
            if cell > 0 && cell % size == 0 { out.append(rowSeparator) }
            out.append(cell == player ? playerMark : cell == goal ? 0x47 : holes[cell] ? 0x4F : 0x5F)
        }
        return out
    }

    func introduction(slippery: Bool) -> String {
        "Move P to G. Avoid holes O. Reply U, D, L or R." + (slippery ? " The ice is slippery." : "") + "\n"
    }

    /// The neighbour of `cell` in direction `d`, or `nil` at the edge.
    func move(_ cell: Int, _ d: Direction) -> Int? {
        let (r, c) = (cell / size, cell % size)
        switch d {
        case .up: return r > 0 ? cell - size : nil
        case .down: return r < size - 1 ? cell + size : nil
        case .left: return c > 0 ? cell - 1 : nil
        case .right: return c < size - 1 ? cell + 1 : nil
        }
    }

    /// A shortest walk from start to goal: at each cell the first direction (U, R, D, L order)
    /// that gets one move closer.
    func shortestPath() -> [Direction] {
        let distance = distancesToGoal()
        var path: [Direction] = []
        var position = start
        while position != goal {
            guard
                let d = Direction.allCases.first(where: { d in
                    move(position, d).map { distance[$0] == distance[position] - 1 } ?? false
                }), let next = move(position, d)
            else {
                preconditionFailure(
                    "frozenlake: goal unreachable from start (map generation keeps only reachable maps)")
            }
            path.append(d)
            position = next
        }
        return path
    }

    /// Moves from each cell to the goal avoiding holes (Int.max when unreachable or a hole).
    func distancesToGoal() -> [Int] {
        var distance = [Int](repeating: .max, count: size * size)
        distance[goal] = 0
        var queue = [goal]
        var head = 0
        while head < queue.count {
            let cell = queue[head]
            head += 1
            for d in Direction.allCases {
                if let next = move(cell, d), !holes[next], distance[next] == .max {
                    distance[next] = distance[cell] + 1
                    queue.append(next)
                }
            }
        }
        return distance
    }
}

/// One walk on one map.
struct FrozenLakeEnvironment: Environment {
    let map: LakeMap
    let slippery: Bool
    let maxTurns: Int
    let lenient: Bool
    let formatReward: Double
    private let mapHash: UInt64
    private var seed: UInt64 = 0
    private var position = 0
    private var turn = 0
    private var started = false

    init(map: LakeMap, slippery: Bool, maxTurns: Int, lenient: Bool, formatReward: Double) {
        self.map = map
        self.slippery = slippery
        self.maxTurns = maxTurns
        self.lenient = lenient
        self.formatReward = formatReward
        mapHash = stableHash(map.canonical)
    }

    /// Quarter turns (0, +1 clockwise, -1 counter-clockwise) the ice adds to move `t`.
    static func slip(seed: UInt64, mapHash: UInt64, move t: Int) -> Int {
        var rng = SplitMix64(seed, mapHash, UInt64(t), 0x736C_6970)
        return [0, 1, -1][rng.below(3)]
    }

    mutating func reset(seed: UInt64) -> [ChatMessage] {
        self.seed = seed
        position = map.start
        turn = 0
        started = true
        return [ChatMessage(role: "user", content: map.introduction(slippery: slippery) + map.render(player: position))]
    }

    mutating func step(_ action: String) -> StepResult {
        precondition(started, "call reset(seed:) before step(_:), and not again after done")
        let t = turn
        turn += 1
        var info = ["turn": String(turn)]
        guard let intended = parse(action) else {
            started = false
            info["outcome"] = Outcome.malformed
            info["expected"] = map.shortestPath().map(\.letter).joined()
            return StepResult(observation: nil, reward: 0, done: true, info: info)
        }
        let moved =
            slippery ? intended.turned(by: FrozenLakeEnvironment.slip(seed: seed, mapHash: mapHash, move: t)) : intended
        position = map.move(position, moved) ?? position
        info["parsed"] = intended.letter
        info["moved"] = moved.letter
        if position == map.goal || map.holes[position] || turn >= maxTurns {
            started = false
            let reached = position == map.goal
            info["expected"] = map.shortestPath().map(\.letter).joined()
            info["outcome"] = reached ? Outcome.correct : map.holes[position] ? Outcome.hole : Outcome.timeout
            return StepResult(observation: nil, reward: reached ? 1 : formatReward, done: true, info: info)
        }
        info["outcome"] = Outcome.ongoing
        return StepResult(
            observation: [ChatMessage(role: "user", content: map.render(player: position))], reward: 0, done: false,
            info: info)
    }

    /// Strict: the whole reply is one action. Lenient: the last action word (single letters only
    /// in upper case, so that prose such as "a" or "I" never counts).
    private func parse(_ reply: String) -> Direction? {
        let text = AnswerText.clean(reply)
        guard lenient else { return Direction(word: text) }
        let bytes = Array(text.utf8)
        var end = bytes.count
        while end > 0 {
            while end > 0 && !AnswerText.isLetter(bytes[end - 1]) { end -= 1 }
            var start = end
            while start > 0 && AnswerText.isLetter(bytes[start - 1]) { start -= 1 }
            let word = String(decoding: bytes[start..<end], as: UTF8.self)
            if word.count > 1 || (word.count == 1 && word == word.uppercased()), let d = Direction(word: word) {
                return d
            }
            end = start
        }
        return nil
    }
}
