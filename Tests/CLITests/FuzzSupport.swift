// The fuzz suite's machinery: a seeded generator, boundary values, a JSON tree that can hold
// repeated keys and lying numbers, and the runner that feeds cases to `rlhub check-inputs` under
// a memory limit and names the input of any crash.
import Foundation
import Testing
import TestSupport

/// Reproducible cases from the seed printed with every failure (TestSupport's SplitMix64).
struct FuzzRNG {
    private var generator: SplitMix64
    init(state: UInt64) { generator = SplitMix64(state: state) }
    mutating func next() -> UInt64 { generator.next() }
    mutating func below(_ n: Int) -> Int { Int(next() % UInt64(max(1, n))) }
    mutating func chance(_ percent: Int) -> Bool { below(100) < percent }
    mutating func pick<T>(_ items: [T]) -> T { items[below(items.count)] }
}

/// Integers at the edges of every width a reader may store them in.
let boundaryIntegers: [UInt64] = [
    0, 1, 2, 3, 7, 31, 32, 255, 256, 4096, 65535, 65536, 1 << 20, 100_000_000, 1_000_000_000,
    UInt64(Int32.max), 1 << 31, UInt64(UInt32.max), 1 << 32, 1 << 40, 1 << 62, UInt64(Int64.max),
    1 << 63, UInt64.max, UInt64.max - 1,
]

/// Number texts a JSON or YAML field may be given instead of a small integer.
let boundaryNumberTexts: [String] = [
    "0", "-1", "1", "2", "128.5", "1e300", "-1e300", "1e-300", "4611686018427387904", "9223372036854775807",
    "9223372036854775808", "18446744073709551615", "100000000", "1000000000", "2147483648", "0.0", "-0", "1E2",
    "3.999999999999999999", "100000",
]

/// A JSON value that keeps member order and repeats, and numbers as text.
indirect enum FuzzJSON {
    case object([(String, FuzzJSON)])
    case array([FuzzJSON])
    case string(String)
    case number(String)
    case literal(String)  // true, false, null

    init(_ any: Any) {
        switch any {
        case let d as [String: Any]: self = .object(d.keys.sorted().map { ($0, FuzzJSON(d[$0]!)) })
        case let a as [Any]: self = .array(a.map(FuzzJSON.init))
        case let s as String: self = .string(s)
        case let n as NSNumber where String(cString: n.objCType) == "c": self = .literal(n.boolValue ? "true" : "false")
        case let n as NSNumber: self = .number(n.stringValue)
        default: self = .literal("null")
        }
    }

    var text: String {
        switch self {
        case .object(let members):
            "{" + members.map { Self.quote($0.0) + ":" + $0.1.text }.joined(separator: ",") + "}"
        case .array(let items): "[" + items.map(\.text).joined(separator: ",") + "]"
        case .string(let s): Self.quote(s)
        case .number(let n): n
        case .literal(let l): l
        }
    }

    static func quote(_ s: String) -> String {
        var out = "\""
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case _ where scalar.value < 0x20: out += String(format: "\\u%04x", scalar.value)
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }

    /// Values a mutation may put anywhere: wrong types, edge numbers, deep nesting.
    static func hostile(_ rng: inout FuzzRNG) -> FuzzJSON {
        switch rng.below(8) {
        case 0, 1, 2: return .number(rng.pick(boundaryNumberTexts))
        case 3: return .string(rng.pick(["", "2", "llama", "gpt2", "F32", "\u{FEFF}x", String(repeating: "a", count: 5000), "é\u{0}"]))
        case 4: return .literal(rng.pick(["true", "false", "null"]))
        case 5: return .array((0..<rng.below(4)).map { _ in .number(rng.pick(boundaryNumberTexts)) })
        case 6: return .object([])
        default:
            let depth = rng.pick([10, 63, 64, 65, 200, 5000])
            return .literal(String(repeating: "[", count: depth) + String(repeating: "]", count: depth))
        }
    }

    /// One structure-aware change: a value replaced, a member dropped or repeated, an element
    /// duplicated, or a container's type changed.
    func mutated(_ rng: inout FuzzRNG, depth: Int = 0) -> FuzzJSON {
        let here = depth > 6 || rng.chance(25)
        switch self {
        case .object(var members) where !members.isEmpty:
            if here {
                let i = rng.below(members.count)
                switch rng.below(4) {
                case 0: members.remove(at: i)
                case 1: members.insert((members[i].0, Self.hostile(&rng)), at: rng.below(members.count + 1))
                case 2: members[i].1 = Self.hostile(&rng)
                default: members.append((rng.pick(["__metadata__", "model_type", "eos_token_id", "x"]), Self.hostile(&rng)))
                }
                return .object(members)
            }
            let i = rng.below(members.count)
            members[i].1 = members[i].1.mutated(&rng, depth: depth + 1)
            return .object(members)
        case .array(var items) where !items.isEmpty:
            let i = rng.below(items.count)
            if here {
                switch rng.below(3) {
                case 0: items.remove(at: i)
                case 1: items.append(items[i])
                default: items[i] = Self.hostile(&rng)
                }
            } else {
                items[i] = items[i].mutated(&rng, depth: depth + 1)
            }
            return .array(items)
        default:
            return Self.hostile(&rng)
        }
    }
}

/// Byte-level damage on top of the structural mutations: truncation, a flipped bit, an
/// overwritten run.
func damaged(_ bytes: [UInt8], _ rng: inout FuzzRNG) -> [UInt8] {
    guard !bytes.isEmpty else { return bytes }
    var out = bytes
    switch rng.below(3) {
    case 0: out.removeLast(rng.below(out.count))
    case 1: out[rng.below(out.count)] ^= UInt8(1 << rng.below(8))
    default:
        let at = rng.below(out.count)
        for i in at..<min(out.count, at + 8) { out[i] = UInt8(truncatingIfNeeded: rng.next()) }
    }
    return out
}

/// What `rlhub check-inputs` made of a batch.
struct FuzzOutcome {
    var accepted = 0
    var refused = 0
    var seconds: Double = 0
}

enum FuzzRunner {
    /// Address-space limit of the reading process: every case must be read within it.
    static let memoryLimitKiB = 4 << 20  // 4 GiB of virtual memory (the runtime alone maps ~1 GiB)

    /// Writes `cases` into a fresh folder, runs `rlhub check-inputs --format FORMAT` over them
    /// under `ulimit -v`, and records an issue naming (and printing) the input of a crash, or of
    /// any case the reader did not answer.
    static func run(_ format: String, _ cases: [[UInt8]], suffix: String, seed: UInt64,
                    prepare: (String) throws -> Void = { _ in },
                    sourceLocation: SourceLocation = #_sourceLocation) throws -> FuzzOutcome {
        let dir = tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        var paths: [String] = []
        for (i, bytes) in cases.enumerated() {
            let path = dir + "/case\(i)\(suffix)"
            try Data(bytes).write(to: URL(fileURLWithPath: path))
            paths.append(path)
        }
        try prepare(dir)
        let scratch = dir + "/scratch"
        try FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true)
        // `prepare` may have renamed files (compression): read the list again.
        let files = try FileManager.default.contentsOfDirectory(atPath: dir).filter { $0.hasPrefix("case") }.sorted().map { dir + "/" + $0 }
        let started = Date()
        let command = "ulimit -v \(memoryLimitKiB); exec \"$0\" check-inputs --format \(format) --scratch \"$1\" \"${@:2}\""
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/bin/bash")
        p.arguments = ["-c", command, try rlhubBinary, scratch] + files
        p.environment = ProcessInfo.processInfo.environment.merging(["RLHUB_THREADS": "1", "OPENBLAS_NUM_THREADS": "1"]) { $1 }
        let out = Pipe(), err = Pipe()
        p.standardOutput = out
        p.standardError = err
        try p.run()
        let o = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        let e = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        var outcome = FuzzOutcome(seconds: Date().timeIntervalSince(started))
        var open: String? = nil
        for line in o.split(separator: "\n") {
            if line.hasPrefix("begin ") { open = String(line.dropFirst(6)); continue }
            if line.hasPrefix("ok ") { outcome.accepted += 1 } else if line.hasPrefix("refused ") { outcome.refused += 1 }
            open = nil
        }
        let crashed = p.terminationReason == .uncaughtSignal || p.terminationStatus != 0
        if crashed || open != nil || outcome.accepted + outcome.refused != files.count {
            let culprit = open ?? "(none named)"
            let input = (try? Data(contentsOf: URL(fileURLWithPath: culprit))).map { data in
                data.count <= 4096 ? data.base64EncodedString() : data.prefix(4096).base64EncodedString() + "… (\(data.count) bytes)"
            } ?? "unreadable"
            Issue.record("""
                \(format) fuzz (seed \(seed)): rlhub check-inputs \(p.terminationReason == .uncaughtSignal ? "killed by signal" : "exited") \
                \(p.terminationStatus) after \(outcome.accepted + outcome.refused) of \(files.count) cases; crashing input \(culprit), base64: \(input); stderr: \(e.suffix(2000))
                """, sourceLocation: sourceLocation)
        }
        return outcome
    }
}
