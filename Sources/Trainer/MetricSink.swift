// rlhub — where the trainer's metrics go. The trainer only knows this protocol; the CLI wires
// a JSON Lines file in the run folder (and, later, the store).
import Foundation
import LM
import RLHubCore

/// Receives one record of named values per optimizer step (and per evaluation).
public protocol MetricSink: AnyObject {
    /// Records `metrics` at `step`; names are the fixed keys of the metrics table (Trainer docs).
    func log(step: Int, metrics: [String: Double])
    /// Records rollout samples taken at `step` (RolloutSamples.swift; default: dropped).
    func logSamples(step: Int, samples: [RolloutSample])
    /// Makes everything logged so far durable.
    func flush() throws
}

/// Keeps metrics in memory (tests, `rlhub verify`).
public final class MemoryMetricSink: MetricSink {
    public private(set) var records: [(step: Int, metrics: [String: Double])] = []
    /// Rollout samples in the order they were logged.
    public private(set) var samples: [(step: Int, samples: [RolloutSample])] = []
    public init() {}
    public func log(step: Int, metrics: [String: Double]) { records.append((step, metrics)) }
    public func logSamples(step: Int, samples: [RolloutSample]) { self.samples.append((step, samples)) }
    public func flush() throws {}
    /// Values of one metric in step order.
    public func series(_ name: String) -> [(step: Int, value: Double)] {
        records.compactMap { r in r.metrics[name].map { (r.step, $0) } }
    }
}

/// Appends one JSON object per record to a file (`{"step": 3, "reward/mean": 0.5, …}`), keys
/// sorted, numbers printed with full precision so a resumed run can be compared bit for bit.
public final class JSONLMetricSink: MetricSink {
    public let path: String
    private var pending = ""

    /// - Parameter keepThrough: on resume, drop records after this step (they were logged after
    ///   the checkpoint and will be produced again).
    public init(path: String, keepThrough: Int? = nil) throws {
        self.path = path
        if let keep = keepThrough, let text = try? String(contentsOfFile: path, encoding: .utf8) {
            let kept = text.split(separator: "\n").filter { line in
                guard let data = line.data(using: .utf8),
                      let obj = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
                      let step = obj["step"] as? Int else { return false }
                return step <= keep
            }
            try AtomicFile.write(Data(kept.map { $0 + "\n" }.joined().utf8), to: path)
        } else if keepThrough == nil {
            try AtomicFile.write(Data(), to: path)
        }
    }

    public func log(step: Int, metrics: [String: Double]) {
        var parts = ["\"step\":\(step)"]
        for key in metrics.keys.sorted() {
            let v = metrics[key]!
            let text = v.isFinite ? "\(v)" : "null"
            parts.append("\"\(key)\":\(text)")
        }
        pending += "{" + parts.joined(separator: ",") + "}\n"
    }

    public func flush() throws {
        guard !pending.isEmpty else { return }
        guard let handle = FileHandle(forWritingAtPath: path) else {
            throw InputError(file: path, message: "cannot open for appending")
        }
        defer { try? handle.close() }
        try handle.seekToEnd()
        try handle.write(contentsOf: Data(pending.utf8))
        try handle.synchronize()
        pending = ""
    }

    /// Reads the records back (for tests and `verify`).
    public static func read(_ path: String) -> [(step: Int, metrics: [String: Double])] {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return [] }
        return text.split(separator: "\n").compactMap { line in
            guard let obj = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
                  let step = obj["step"] as? Int else { return nil }
            var m: [String: Double] = [:]
            for (k, v) in obj where k != "step" { if let d = v as? Double { m[k] = d } else if let i = v as? Int { m[k] = Double(i) } }
            return (step, m)
        }
    }
}
