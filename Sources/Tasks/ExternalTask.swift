// rlhub — tasks served by another program over the JSON Lines protocol of
// docs/environments.md: reasoning-gym datasets (`rg:NAME`), Python modules (`py:FILE.py`) and any
// executable (`cmd:PROGRAM`).
//
// The canonical spec adds what the environment said in its handshake — its name, version and the
// protocol version — as `env.name`, `env.version` and `env.protocol`, so a different package
// version is a different config hash, and a stored config refuses to run against another version.
import Foundation
import RLHubCore

/// A task whose environment is a child process (see docs/environments.md).
///
/// ```swift
/// let task = try TaskRegistry.make("rg:basic_arithmetic:max_terms=2")
/// task.spec   // "rg:basic_arithmetic:allow_negation=true,…,env.protocol=1,env.version=reasoning-gym-0.1.25+rlhub-rg-1,…"
/// ```
///
/// Episodes are played through ``makeEnvironmentBatch()`` (one message per reset or step of a
/// whole batch). The single-episode ``makeEnvironment(split:index:)``, ``problemKey(split:index:)``
/// and ``goldDemonstration(split:index:seed:)`` cannot throw: an environment failure there ends
/// the process with its one-line message (exit status 2).
public struct ExternalTask: RLTask {
    /// Spec prefixes of external tasks.
    public static let schemes = ["rg", "py", "cmd"]

    public let name: String
    public let parameters: TaskParameters
    public var maxTurns: Int { group.hello.max_turns }
    public var maxNewTokensHint: Int { group.hello.max_new_tokens }
    public var formatReward: Double { 0 }
    public var rewardDescription: String {
        let h = group.hello
        return "the environment's own reward (\(h.name) \(h.version)), in [\(TaskParameters.render(h.reward_range[0])), "
            + "\(TaskParameters.render(h.reward_range[1]))]; correct when it says so"
    }
    let group: EnvProcessGroup

    /// Whether `spec` names an external task (`rg:`, `py:` or `cmd:`).
    public static func handles(_ spec: String) -> Bool {
        schemes.contains { spec.trimmingASCIIWhitespace().hasPrefix($0 + ":") }
    }

    /// Starts (or reuses) the environment of `spec` and checks its handshake.
    ///
    /// - Throws: ``InputError`` on `--task` for a malformed spec or an `env.*` value the
    ///   environment contradicts; on `environment NAME` when it cannot be started or misbehaves.
    public static func make(
        _ spec: String, options: ExternalEnvironmentOptions? = nil
    ) throws(InputError) -> ExternalTask {
        let (name, argv, given, pinned) = try parse(spec)
        let options = if let options { options } else { try ExternalEnvironmentOptions.fromEnvironment() }
        func key(_ params: [String: String]) -> String {
            ([name] + argv + params.keys.sorted().map { "\($0)=\(params[$0]!)" } + ["\(options)"]).joined(separator: "\u{0}")
        }
        let group = try EnvironmentRegistry.shared.group(key(given), canonicalKey: { key($0.hello.params) }) {
            () throws(InputError) in try EnvProcessGroup(name: name, argv: argv, params: given, options: options)
        }
        let h = group.hello
        var values = h.params
        values["env.name"] = h.name
        values["env.version"] = h.version
        values["env.protocol"] = String(h.protocol)
        for (key, value) in pinned where values[key] != value {
            throw InputError(
                file: "--task", field: name,
                message: "\(key)=\(value) was asked, but the environment is \(key)=\(values[key] ?? "")")
        }
        return ExternalTask(name: name, parameters: TaskParameters(values: values), group: group)
    }

    /// Splits `scheme:target[:key=value,…]` into the task name, the command line, the parameters
    /// for the environment and the `env.*` values the spec pins.
    private static func parse(
        _ spec: String
    ) throws(InputError) -> (String, [String], [String: String], [String: String]) {
        let parts = spec.trimmingASCIIWhitespace().split(separator: ":", maxSplits: 2, omittingEmptySubsequences: false)
        let scheme = String(parts[0]), target = parts.count > 1 ? String(parts[1]) : ""
        let name = scheme + ":" + target
        guard !target.isEmpty else {
            throw InputError(file: "--task", field: spec, message: "expected \(scheme):NAME[:key=value,…]")
        }
        var given: [String: String] = [:], pinned: [String: String] = [:]
        if parts.count == 3 {
            for item in parts[2].split(separator: ",", omittingEmptySubsequences: false) {
                let pair = item.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
                let key = String(pair[0]).trimmingASCIIWhitespace()
                guard pair.count == 2, !key.isEmpty else {
                    throw InputError(file: "--task", field: name, message: "expected key=value, got '\(item)'")
                }
                let value = String(pair[1]).trimmingASCIIWhitespace()
                guard given[key] == nil, pinned[key] == nil else {
                    throw InputError(file: "--task", field: name, message: "parameter '\(key)' given twice")
                }
                if key.hasPrefix("env.") {
                    guard ["env.name", "env.version", "env.protocol"].contains(key) else {
                        throw InputError(
                            file: "--task", field: name, message: "unknown '\(key)' (valid: env.name, env.version, env.protocol)")
                    }
                    pinned[key] = value
                } else {
                    given[key] = value
                }
            }
        }
        return (name, try launch(scheme: scheme, target: target, name: name), given, pinned)
    }

    /// The command line of an environment: rlhub_env.py for `rg` and `py`, the program for `cmd`.
    private static func launch(scheme: String, target: String, name: String) throws(InputError) -> [String] {
        if scheme == "cmd" { return [target] }
        let python = ProcessInfo.processInfo.environment["RLHUB_PYTHON"] ?? "python3"
        let server = try serverScript(name: name)
        return [python, server, scheme == "rg" ? "rg" : "module", target]
    }

    /// `envs/python/rlhub_env.py`: in `RLHUB_ENVS_DIR`, else in a folder above the executable (the
    /// checkout a build lives in), else under the working directory.
    static func serverScript(name: String) throws(InputError) -> String {
        let file = "rlhub_env.py"
        let fm = FileManager.default
        if let dir = ProcessInfo.processInfo.environment["RLHUB_ENVS_DIR"] {
            let path = dir + "/" + file
            guard fm.fileExists(atPath: path) else {
                throw InputError(file: "RLHUB_ENVS_DIR", message: "no \(file) in \(dir)")
            }
            return path
        }
        let executable = (try? fm.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        var dir = URL(fileURLWithPath: executable).deletingLastPathComponent()
        while dir.path != "/" {
            let candidate = dir.appendingPathComponent("envs/python/" + file).path
            if fm.fileExists(atPath: candidate) { return candidate }
            dir = dir.deletingLastPathComponent()
        }
        let local = fm.currentDirectoryPath + "/envs/python/" + file
        guard fm.fileExists(atPath: local) else {
            throw InputError(
                file: "--task", field: name,
                message: "cannot find envs/python/\(file) above the rlhub executable or here; set RLHUB_ENVS_DIR")
        }
        return local
    }

    // MARK: - RLTask

    public func problemCount(_ split: Split) -> Int? { group.hello.problem_counts?[split.rawValue] }

    public func makeEnvironmentBatch() -> any EnvironmentBatch { ExternalEnvironmentBatch(group: group) }

    public func makeEnvironment(split: Split, index: Int) -> any Environment {
        ExternalEnvironment(batch: ExternalEnvironmentBatch(group: group), start: EpisodeStart(split: split, index: index, seed: 0))
    }

    public func problemKey(split: Split, index: Int) -> String {
        let item = Self.orStop { () throws(InputError) in try problems(split: split, indices: [index], seed: 0)[0] }
        return item.key ?? "\(split.rawValue)/\(index)"
    }

    public func goldDemonstration(split: Split, index: Int, seed: UInt64) -> [ChatMessage] {
        Self.orStop { () throws(InputError) in try goldDemonstrations(split: split, indices: [index], seed: seed)[0] }
    }

    public func goldDemonstrations(split: Split, indices: [Int], seed: UInt64) throws(InputError) -> [[ChatMessage]] {
        let items = try problems(split: split, indices: indices, seed: seed)
        return try indices.indices.map { (k: Int) throws(InputError) -> [ChatMessage] in
            guard let demo = items[k].demonstration, demo.contains(where: { $0.role == "assistant" }) else {
                throw InputError(
                    file: "environment \(name)", field: "\(split.rawValue) problem \(indices[k])",
                    message: "the environment gives no demonstration (no gold answer), so it cannot be used for SFT")
            }
            return demo
        }
    }

    /// Keys and demonstrations of problems, from process 0.
    private func problems(split: Split, indices: [Int], seed: UInt64) throws(InputError) -> [EnvProblemsReply.Item] {
        let request = EnvRequest.problems(indices.map { .init(split: split.rawValue, index: $0, seed: seed) })
        let reply = try group.call([(0, request)], as: EnvProblemsReply.self)[0]
        guard reply.problems.count == indices.count else {
            throw group.fail(process: 0, op: "problems", message: "\(reply.problems.count) problems in the reply, \(indices.count) asked")
        }
        return reply.problems
    }

    /// The value of `body`, or the process ends with the error's one line for the
    /// non-throwing requirements of ``RLTask`` (status 2, as the CLI exits on an ``InputError``).
    static func orStop<T>(_ body: () throws(InputError) -> T) -> T {
        do {
            return try body()
        } catch {
            FileHandle.standardError.write(Data("rlhub: error: \(error)\n".utf8))
            exit(2)
        }
    }
}

/// One episode of an external task through a batch of one (see ``ExternalTask``).
struct ExternalEnvironment: Environment {
    var batch: ExternalEnvironmentBatch
    let start: EpisodeStart

    mutating func reset(seed: UInt64) -> [ChatMessage] {
        var start = start
        start.seed = seed
        return ExternalTask.orStop { () throws(InputError) in try batch.reset([start])[0] }
    }

    mutating func step(_ action: String) -> StepResult {
        ExternalTask.orStop { () throws(InputError) in try batch.step([(episode: 0, text: action)])[0] }
    }
}
