// rlhub bench-store-writer — the hidden writer process of the store bench and crash tests.
import ArgumentParser
import Benchmarks
import Foundation
import Store

/// A writer process of the `store` bench and of the store's crash tests (hidden from help).
struct BenchStoreWriterCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench-store-writer", abstract: "Log a synthetic metric workload into a store.", shouldDisplay: false)
    @OptionGroup var storeOptions: StoreOptions
    @Option(help: "Steps of 10 metrics.") var steps: Int
    @Option(help: "Steps per transaction.") var stepsPerBatch: Int = 100
    @Option(help: "Run label.") var tag: String = "writer"

    func run() throws {
        let store = try storeOptions.open(create: true)
        let id = try StoreBenchmarks.logWorkload(store: store, steps: steps, stepsPerBatch: stepsPerBatch, tag: tag)
        print(id)
    }
}
