// rlhub — fixed-partition parallel loops for the element-wise kernels, and the thread count.
import Dispatch
import Foundation
import Synchronization

/// How many threads rlhub's own kernels and OpenBLAS use.
///
/// Work is split into `count` contiguous, equal chunks, so a reduction that sums per-chunk
/// partials in chunk order is bit-reproducible for a given thread count.
///
/// The process-wide count is resolved once, on first use: `RLHUB_THREADS` when set, otherwise
/// every core — the same default as `rlhub --threads` — and it is applied to OpenBLAS at the same
/// moment, so rlhub's kernels and OpenBLAS never disagree (OpenBLAS's own default would be its
/// own reading of the machine, whatever rlhub uses). ``set(_:)`` changes both.
///
/// ``withCount(_:_:)`` scopes a count to a task (a task-local value) for rlhub's kernels only:
/// tests that run concurrently can each choose one without racing on the process-wide value.
/// OpenBLAS's count is process-wide in the OpenBLAS this builds against, so it is not scoped.
public enum ComputeThreads {
    /// 0 until resolved.
    @usableFromInline static let storage = Atomic<Int>(0)
    /// Serialises writers, so the stored count and OpenBLAS's are always set together.
    static let writer = Mutex<Void>(())
    /// A count scoped to the current task by ``withCount(_:_:)``.
    @TaskLocal static var scoped: Int?

    /// Current thread count for rlhub's kernels (≥ 1): the task's scoped count, else the
    /// process-wide one.
    public static var count: Int { scoped ?? processCount }

    /// The process-wide count, which OpenBLAS also uses (resolved on first use).
    public static var processCount: Int {
        let n = storage.load(ordering: .acquiring)
        return n > 0 ? n : resolveDefault()
    }

    /// Sets the process-wide thread count for rlhub's kernels and OpenBLAS alike.
    public static func set(_ n: Int) {
        writer.withLock { _ in
            BLAS.setThreads(max(1, n))
            storage.store(max(1, n), ordering: .releasing)
        }
    }

    /// Runs `body` with rlhub's kernels using `n` threads in this task (and the tasks it
    /// creates); OpenBLAS keeps the process-wide count.
    public static func withCount<R>(_ n: Int, _ body: () throws -> R) rethrows -> R {
        try $scoped.withValue(max(1, n)) { try body() }
    }

    /// The default: `RLHUB_THREADS` if it is a positive integer, otherwise the active cores.
    public static func defaultCount(environment: [String: String] = ProcessInfo.processInfo.environment) -> Int {
        if let text = environment["RLHUB_THREADS"], let n = Int(text), n > 0 { return n }
        return max(1, ProcessInfo.processInfo.activeProcessorCount)
    }

    /// Makes sure the process-wide count is resolved (and applied to OpenBLAS) before OpenBLAS
    /// runs. Called by every ``BLAS`` product; one relaxed load once resolved.
    @inlinable
    public static func ensureResolved() {
        if storage.load(ordering: .relaxed) == 0 { _ = resolveDefault() }
    }

    @usableFromInline
    static func resolveDefault() -> Int {
        writer.withLock { _ in
            let current = storage.load(ordering: .acquiring)
            if current > 0 { return current }
            let n = defaultCount()
            BLAS.setThreads(n)
            storage.store(n, ordering: .releasing)
            return n
        }
    }
}

/// Runs `body` over `0..<n` split into at most ``ComputeThreads/count`` contiguous chunks.
///
/// Small loops (`n < minPerThread * 2`) run inline on the calling thread.
/// - Parameters:
///   - n: number of items.
///   - minPerThread: below this many items per thread, do not fork.
///   - body: called with `(chunkIndex, range)`; chunk indices are `0..<chunks` in order.
@inlinable
public func parallelChunks(
    _ n: Int, minPerThread: Int = 1, _ body: (Int, Range<Int>) -> Void
) {
    parallelChunks(n, chunks: parallelChunkCount(n, minPerThread: minPerThread), body)
}

/// Runs `body` over `0..<n` split into exactly `chunks` contiguous chunks (1 when `n ≤ 1`), one
/// thread each. Callers that size per-chunk buffers pass the count they sized them for, so the
/// partition cannot change between sizing and running.
@inlinable
public func parallelChunks(_ n: Int, chunks: Int, _ body: (Int, Range<Int>) -> Void) {
    let threads = n <= 1 ? 1 : max(1, min(chunks, n))
    if threads == 1 {
        body(0, 0..<n)
        return
    }
    withoutActuallyEscaping(body) { work in
        // The chunks touch disjoint ranges; the caller's closure is only read concurrently.
        nonisolated(unsafe) let work = work
        DispatchQueue.concurrentPerform(iterations: threads) { chunk in
            let lo = n * chunk / threads
            let hi = n * (chunk + 1) / threads
            work(chunk, lo..<hi)
        }
    }
}

/// Number of chunks ``parallelChunks(_:minPerThread:_:)`` uses for `n` items at the current
/// thread count.
@inlinable
public func parallelChunkCount(_ n: Int, minPerThread: Int = 1) -> Int {
    let threads = min(ComputeThreads.count, max(1, n / max(1, minPerThread)))
    return (threads <= 1 || n <= 1) ? 1 : threads
}
