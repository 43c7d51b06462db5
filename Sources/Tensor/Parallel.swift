// rlhub — fixed-partition parallel loops for the element-wise kernels.
import Dispatch
import Synchronization

/// How many threads rlhub's own kernels use (OpenBLAS has its own count, see ``BLAS``).
///
/// Work is split into `count` contiguous, equal chunks, so a reduction that sums per-chunk
/// partials in chunk order is bit-reproducible for a given thread count.
public enum ComputeThreads {
    private static let storage = Atomic<Int>(1)

    /// Current thread count (≥ 1).
    public static var count: Int { storage.load(ordering: .relaxed) }

    /// Sets the thread count for rlhub's kernels and OpenBLAS alike.
    public static func set(_ n: Int) {
        storage.store(max(1, n), ordering: .relaxed)
        BLAS.setThreads(max(1, n))
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
    let threads = min(ComputeThreads.count, max(1, n / max(1, minPerThread)))
    if threads <= 1 || n <= 1 {
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

/// Number of chunks ``parallelChunks(_:minPerThread:_:)`` will use for `n` items.
@inlinable
public func parallelChunkCount(_ n: Int, minPerThread: Int = 1) -> Int {
    let threads = min(ComputeThreads.count, max(1, n / max(1, minPerThread)))
    return (threads <= 1 || n <= 1) ? 1 : threads
}
