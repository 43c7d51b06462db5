// rlhub diff — where two stored runs stop being the same. rlhub is bit-reproducible for a given
// config, code and thread count, so two runs either agree on every logged value or have a first
// step and metric where they do not, and the recorded provenance says which input changed.
//
// Order of the report: the config keys that differ, the code versions, the thread counts and hosts,
// the first (step, metric) whose logged values differ bit for bit (wall-clock `time/…`, `perf/…`
// aside, as `rlhub verify`), and — when both runs stored a checkpoint at the same step — the first
// tensor whose bytes differ with its relative difference ‖A − B‖₂ / ‖B‖₂ (Float64 sums).
import Foundation
import LM
import RLHubCore
import Store

/// The difference of two stored runs.
public struct RunDiff: Sendable, Encodable {
    /// A config key (dotted path into the run's config JSON) whose values differ; nil = absent.
    public struct ConfigChange: Sendable, Encodable, Equatable {
        public var key: String
        public var a: String?
        public var b: String?
    }

    /// The first logged value that differs.
    public struct MetricDifference: Sendable, Encodable {
        public var step: Int
        public var metric: String
        /// nil when the run did not log the metric at that step (or logged a non-finite value).
        public var a: Double?
        public var b: Double?
    }

    /// The stored checkpoints of the same step, compared tensor by tensor.
    public struct CheckpointDifference: Sendable, Encodable {
        public var step: Int
        public var sha256A: String
        public var sha256B: String
        public var tensorsCompared: Int
        /// Tensors whose bytes differ.
        public var tensorsDiffering: Int
        /// The first differing tensor in file order (the model's layout), and ‖A − B‖₂ / ‖B‖₂.
        public var firstTensor: String?
        public var relativeDifference: Double?
    }

    public var runA: String
    public var runB: String
    public var configChanges: [ConfigChange]
    public var codeA: String
    public var codeB: String
    /// Same source hash (`CodeVersion.isSameCode`): the same code, whatever the commits say.
    public var sameCode: Bool
    public var threadsA: Int
    public var threadsB: Int
    public var hostA: String
    public var hostB: String
    public var stepsA: Int
    public var stepsB: Int
    /// Points compared up to the first difference (over the steps both runs logged).
    public var pointsCompared: Int
    public var firstDifference: MetricDifference?
    public var checkpoint: CheckpointDifference?
    /// The input that most likely explains the difference; nil when the runs agree.
    public var likelyCause: String?

    /// No logged value and no compared checkpoint tensor differs.
    public var identical: Bool { firstDifference == nil && (checkpoint.map { $0.tensorsDiffering == 0 } ?? true) }

    /// Compares run `a` of `storeA` with run `b` of `storeB` (the same store or another one, e.g.
    /// one a release was pulled into).
    public static func compare(_ a: String, in storeA: RunStore, with b: String, in storeB: RunStore) throws -> RunDiff {
        let ra = try storeA.run(a), rb = try storeB.run(b)
        let changes = configChanges(ra.configJSON, rb.configJSON)
        let codeA = CodeVersion(recorded: ra.codeVersion), codeB = CodeVersion(recorded: rb.codeVersion)
        let sameCode = !codeA.sourceHash.isEmpty && codeA.sourceHash == codeB.sourceHash
        var diff = RunDiff(
            runA: ra.id, runB: rb.id, configChanges: changes, codeA: ra.codeVersion, codeB: rb.codeVersion, sameCode: sameCode,
            threadsA: ra.threads, threadsB: rb.threads, hostA: ra.host, hostB: rb.host, stepsA: ra.stepsDone, stepsB: rb.stepsDone,
            pointsCompared: 0)
        try diff.compareMetrics(storeA.allMetrics(run: ra.id), storeB.allMetrics(run: rb.id))
        diff.checkpoint = try compareCheckpoints(ra.id, storeA, rb.id, storeB)
        diff.likelyCause = diff.identical ? nil : diff.cause()
        return diff
    }

    // MARK: - Config

    /// Keys whose values differ, as dotted paths in key order (values as compact JSON text).
    static func configChanges(_ a: String, _ b: String) -> [ConfigChange] {
        let fa = flatten(try? JSONSerialization.jsonObject(with: Data(a.utf8)))
        let fb = flatten(try? JSONSerialization.jsonObject(with: Data(b.utf8)))
        return Set(fa.keys).union(fb.keys).sorted().compactMap { key in
            fa[key] == fb[key] ? nil : ConfigChange(key: key, a: fa[key], b: fb[key])
        }
    }

    /// Leaves of a JSON object by dotted path, each as compact JSON text.
    static func flatten(_ value: Any?, prefix: String = "") -> [String: String] {
        if let object = value as? [String: Any] {
            var out: [String: String] = [:]
            for (key, inner) in object { out.merge(flatten(inner, prefix: prefix.isEmpty ? key : prefix + "." + key)) { $1 } }
            return out
        }
        guard let value else { return [:] }
        let data = try? JSONSerialization.data(withJSONObject: value, options: [.fragmentsAllowed, .sortedKeys, .withoutEscapingSlashes])
        return [prefix: data.map { String(decoding: $0, as: UTF8.self) } ?? "\(value)"]
    }

    // MARK: - Metrics

    /// The first (step, metric) in step then name order, over the steps both runs logged, whose
    /// values differ in their bits or in being logged at all.
    mutating func compareMetrics(_ a: [(step: Int, name: String, value: Double?)], _ b: [(step: Int, name: String, value: Double?)]) {
        func byStep(_ points: [(step: Int, name: String, value: Double?)]) -> [Int: [String: Double?]] {
            var out: [Int: [String: Double?]] = [:]
            for p in points where !RunVerifier.isTiming(p.name) { out[p.step, default: [:]][p.name] = p.value }
            return out
        }
        let pa = byStep(a), pb = byStep(b)
        let last = min(pa.keys.max() ?? -1, pb.keys.max() ?? -1)
        for step in Set(pa.keys).union(pb.keys).sorted() where step <= last {
            let x = pa[step] ?? [:], y = pb[step] ?? [:]
            for name in Set(x.keys).union(y.keys).sorted() {
                pointsCompared += 1
                let u: Double?? = x[name], v: Double?? = y[name]
                let same = switch (u, v) {
                case (.some(.some(let p)), .some(.some(let q))): p.bitPattern == q.bitPattern
                case (.some(.none), .some(.none)): true
                default: false
                }
                if !same {
                    firstDifference = MetricDifference(step: step, metric: name, a: u ?? nil, b: v ?? nil)
                    return
                }
            }
        }
    }

    // MARK: - Checkpoints

    /// The last checkpoint step both runs stored, compared tensor by tensor (nil when they share none).
    static func compareCheckpoints(_ a: String, _ storeA: RunStore, _ b: String, _ storeB: RunStore) throws -> CheckpointDifference? {
        let ca = try storeA.checkpoints(run: a), cb = try storeB.checkpoints(run: b)
        guard let step = Set(ca.map(\.step)).intersection(cb.map(\.step)).max(),
              let x = ca.last(where: { $0.step == step }), let y = cb.last(where: { $0.step == step }) else { return nil }
        var result = CheckpointDifference(
            step: step, sha256A: x.sha256, sha256B: y.sha256, tensorsCompared: 0, tensorsDiffering: 0)
        if x.sha256 == y.sha256 { return result }
        // Archives that are not here (a metadata-only pull) cannot be compared.
        guard try storeA.blobs.contains(sha256: x.sha256), try storeB.blobs.contains(sha256: y.sha256) else { return nil }
        let folderA = try ModelResolver(store: storeA).resolve("sha256:" + x.sha256)
        let folderB = try ModelResolver(store: storeB).resolve("sha256:" + y.sha256)
        for file in ["model.safetensors", "value_head.safetensors", "critic.safetensors"] {
            let pathA = folderA + "/" + file, pathB = folderB + "/" + file
            guard FileManager.default.fileExists(atPath: pathA), FileManager.default.fileExists(atPath: pathB) else { continue }
            try compareTensors(SafetensorsFile(contentsOf: pathA), SafetensorsFile(contentsOf: pathB), into: &result)
        }
        return result
    }

    /// Tensors of two files in A's file order: counts, and the first that differs with
    /// ‖A − B‖₂ / ‖B‖₂ (∞ when B is zero; a tensor missing or shaped differently in B counts as
    /// differing with no number).
    static func compareTensors(_ a: SafetensorsFile, _ b: SafetensorsFile, into result: inout CheckpointDifference) throws {
        for info in a.tensors.values.sorted(by: { $0.byteRange.lowerBound < $1.byteRange.lowerBound }) {
            result.tensorsCompared += 1
            guard let other = b.tensors[info.name], other.shape == info.shape, other.dtype == info.dtype else {
                result.tensorsDiffering += 1
                if result.firstTensor == nil { result.firstTensor = info.name }
                continue
            }
            let x = try a.floats(info.name), y = try b.floats(info.name)
            var diff = 0.0, norm = 0.0, differs = false
            for k in x.indices {
                if x[k].bitPattern != y[k].bitPattern { differs = true }
                let d = Double(x[k]) - Double(y[k])
                diff += d * d
                norm += Double(y[k]) * Double(y[k])
            }
            guard differs else { continue }
            result.tensorsDiffering += 1
            if result.firstTensor == nil {
                result.firstTensor = info.name
                result.relativeDifference = norm > 0 ? (diff / norm).squareRoot() : .infinity
            }
        }
    }

    // MARK: - Cause

    /// The likeliest input behind a difference, checked in the order of how much each changes:
    /// a config key (the seed apart), the seed, the code (source hash), the thread count (rlhub's
    /// kernels and OpenBLAS sum in per-thread chunks, so rounding differs), the machine.
    func cause() -> String {
        let others = otherDifferences()
        let first = primaryCause()
        let also = others.filter { !first.hasPrefix($0.key) }.map(\.text)
        return also.isEmpty ? first : first + "; also " + also.joined(separator: ", ")
    }

    /// Inputs besides the config that differ, by the prefix ``primaryCause()`` gives them.
    func otherDifferences() -> [(key: String, text: String)] {
        var out: [(key: String, text: String)] = []
        if !sameCode { out.append(("code version", "code version")) }
        if threadsA != threadsB { out.append(("thread count", "thread count \(threadsA) → \(threadsB)")) }
        if hostA != hostB { out.append(("machine", "machine \(hostA) → \(hostB)")) }
        return out
    }

    /// The likeliest input alone.
    func primaryCause() -> String {
        // A cell after a warm-up names its model by the warm-up's config hash, which holds the seed.
        let seedKeys: Set<String> = ["algorithm.seed", "model"]
        let onlySeed = !configChanges.isEmpty && configChanges.allSatisfy { change in
            change.key == "algorithm.seed" || (change.key == "model" && (change.a ?? "").contains("cell:") && (change.b ?? "").contains("cell:"))
        } && configChanges.contains { $0.key == "algorithm.seed" }
        let keys = configChanges.map(\.key).filter { !seedKeys.contains($0) || !onlySeed }
        if !onlySeed, !keys.isEmpty {
            let named = configChanges.prefix(4).map { "\($0.key) \($0.a ?? "(absent)") → \($0.b ?? "(absent)")" }
            return "config: " + named.joined(separator: ", ") + (configChanges.count > 4 ? " (and \(configChanges.count - 4) more)" : "")
        }
        if onlySeed {
            let seed = configChanges.first { $0.key == "algorithm.seed" }!
            return "seed: \(seed.a ?? "?") → \(seed.b ?? "?") (different samples and data order from the first step)"
        }
        if !sameCode { return "code version: \(codeA) → \(codeB)" }
        if threadsA != threadsB { return "thread count: \(threadsA) → \(threadsB) (reductions are summed in per-thread chunks)" }
        if hostA != hostB { return "machine: \(hostA) → \(hostB) (same config, code and threads; another CPU or OpenBLAS build rounds differently)" }
        return "none of config, code, thread count or host differs: unexpected non-determinism (please report it)"
    }
}
