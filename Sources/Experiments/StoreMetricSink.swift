// rlhub — the trainer's metrics go to the store in one transaction per flush.
import Foundation
import Store
import Trainer

/// A ``MetricSink`` that appends to a run in the store. The trainer flushes after every step, so
/// each step is one transaction (≈ 20–40 points), and a crash loses at most the step in flight.
public final class StoreMetricSink: MetricSink {
    public let store: RunStore
    public let run: String
    private var pending: [(step: Int, metrics: [String: Double])] = []

    public init(store: RunStore, run: String) {
        self.store = store
        self.run = run
    }

    public func log(step: Int, metrics: [String: Double]) {
        guard !metrics.isEmpty else { return }
        pending.append((step, metrics))
    }

    public func flush() throws {
        guard !pending.isEmpty else { return }
        try store.appendMetrics(run: run, records: pending)
        pending.removeAll(keepingCapacity: true)
    }
}
