// rlhub — the trainer's metrics go to the store in one transaction per flush.
import Foundation
import Store
import Trainer

/// A ``MetricSink`` that appends to a run in the store. The trainer flushes after every step, so
/// each step is one transaction (≈ 20–40 points), and a crash loses at most the step in flight.
///
/// Each flush also records `time/cpu_s` at the last step it writes: the CPU seconds (user +
/// system, all threads) this process used since the previous flush, or since the sink was made
/// for the first one (model loading and the step-0 evaluation). Summed over a run's steps it is
/// the run's CPU cost, evaluations and checkpoints included; a resumed run counts the steps it
/// kept and the ones it re-ran, not the work its interrupted attempt lost.
public final class StoreMetricSink: MetricSink {
    public let store: RunStore
    public let run: String
    private var pending: [(step: Int, metrics: [String: Double])] = []
    private var pendingSamples: [(step: Int, kind: String, samples: [StoredSample])] = []
    private var cpuAtLastFlush: Double

    public init(store: RunStore, run: String) {
        self.store = store
        self.run = run
        cpuAtLastFlush = Self.processCPUSeconds()
    }

    public func log(step: Int, metrics: [String: Double]) {
        guard !metrics.isEmpty else { return }
        pending.append((step, metrics))
    }

    /// Samples are grouped by kind (a step can have training and evaluation samples) and stored
    /// compressed at the next flush, before that flush's metrics.
    public func logSamples(step: Int, samples: [RolloutSample]) {
        for kind in RolloutSample.Kind.allCases {
            let rows = samples.filter { $0.kind == kind }.enumerated().compactMap { position, sample in
                try? Self.stored(sample, step: step, position: position)
            }
            if !rows.isEmpty { pendingSamples.append((step, kind.rawValue, rows)) }
        }
    }

    public func flush() throws {
        for batch in pendingSamples { try store.appendSamples(run: run, step: batch.step, kind: batch.kind, samples: batch.samples) }
        pendingSamples.removeAll()
        guard !pending.isEmpty else { return }
        let cpu = Self.processCPUSeconds()
        pending[pending.count - 1].metrics[Self.cpuMetric] = cpu - cpuAtLastFlush
        try store.appendMetrics(run: run, records: pending)
        cpuAtLastFlush = cpu
        pending.removeAll(keepingCapacity: true)
    }

    /// The store's row of a sample: its summary columns and its JSON.
    static func stored(_ s: RolloutSample, step: Int, position: Int) throws -> StoredSample {
        StoredSample(
            step: step, kind: s.kind.rawValue, position: position, problem: s.problem, group: s.group, sample: s.sample,
            reward: s.reward, advantage: s.meanAdvantage, logprobGap: s.maxLogprobGap, outcome: s.outcome,
            finishReason: s.finishReason, truncated: s.truncated, turns: s.turns, promptTokens: s.promptTokens,
            responseTokens: s.responseTokens, json: try s.encoded())
    }

    /// The metric name of the CPU seconds per flush (a `time/` metric: `rlhub verify` skips it).
    public static let cpuMetric = "time/cpu_s"

    /// User + system CPU seconds of this process, all threads (getrusage RUSAGE_SELF).
    public static func processCPUSeconds() -> Double {
        var usage = rusage()
        getrusage(__rusage_who_t(RUSAGE_SELF.rawValue), &usage)
        func seconds(_ t: timeval) -> Double { Double(t.tv_sec) + Double(t.tv_usec) / 1e6 }
        return seconds(usage.ru_utime) + seconds(usage.ru_stime)
    }
}
