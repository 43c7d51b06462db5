// rlhub — `--threads N` of every compute verb (else RLHUB_THREADS, else all cores).
import ArgumentParser
import Foundation
import LM
import RLHubCore
import Tensor

/// Options every compute verb takes.
struct ComputeOptions: ParsableArguments {
    @Option(help: "Threads for rlhub's kernels and OpenBLAS (default: RLHUB_THREADS or all cores).")
    var threads: Int?

    /// Applies the thread count; returns it.
    @discardableResult
    func apply() throws(InputError) -> Int {
        var n = ProcessInfo.processInfo.activeProcessorCount
        if let env = ProcessInfo.processInfo.environment["RLHUB_THREADS"] {
            guard let v = Int(env), v > 0 else {
                throw InputError(file: "RLHUB_THREADS", message: "must be a positive integer, got '\(env)'")
            }
            n = v
        }
        if let threads {
            guard threads > 0 else { throw InputError(file: "--threads", message: "must be positive, got \(threads)") }
            n = threads
        }
        ComputeThreads.set(n)
        return n
    }
}
