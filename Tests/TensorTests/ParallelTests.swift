// The thread count: its default, scoped counts that concurrent tests can use without racing, and
// kernels whose per-chunk buffers cannot be outgrown by a large count.
import Foundation
import Testing
import Tensor

@Suite("ComputeThreads")
struct ComputeThreadsTests {
    @Test func defaultIsRLHUBThreadsOrTheCores() {
        let cores = ProcessInfo.processInfo.activeProcessorCount
        #expect(ComputeThreads.defaultCount(environment: ["RLHUB_THREADS": "3"]) == 3)
        #expect(ComputeThreads.defaultCount(environment: [:]) == cores)
        #expect(ComputeThreads.defaultCount(environment: ["RLHUB_THREADS": "0"]) == cores)
        #expect(ComputeThreads.defaultCount(environment: ["RLHUB_THREADS": "two"]) == cores)
        #expect(ComputeThreads.processCount >= 1)
    }

    @Test func scopedCountsAreSeenOnlyInTheirOwnTask() async {
        // Eight concurrent tasks with different counts each see their own, throughout.
        let seen = await withTaskGroup(of: (Int, [Int]).self) { group in
            for n in 1...8 {
                group.addTask {
                    ComputeThreads.withCount(n) {
                        var counts: [Int] = []
                        for _ in 0..<200 {
                            counts.append(ComputeThreads.count)
                            counts.append(parallelChunkCount(1 << 20))
                        }
                        return (n, counts)
                    }
                }
            }
            var all: [(Int, [Int])] = []
            for await r in group { all.append(r) }
            return all
        }
        for (n, counts) in seen { #expect(counts.allSatisfy { $0 == n }, "task scoped to \(n)") }
        // (Not compared with the process-wide count afterwards: the Learning suite changes that one
        // while this suite runs in parallel, which is the race task-scoped counts avoid.)
        #expect(ComputeThreads.withCount(0) { ComputeThreads.count } == 1)
    }

    @Test func parallelChunksRunsExactlyTheChunksAskedFor() {
        for chunks in [1, 2, 3, 7] {
            var covered = [Int](repeating: 0, count: 100)
            var ids = [Int](repeating: -1, count: 100)
            covered.withUnsafeMutableBufferPointer { c in
                ids.withUnsafeMutableBufferPointer { d in
                    let (c, d) = (c, d)
                    parallelChunks(100, chunks: chunks) { chunk, range in
                        for i in range { c[i] += 1; d[i] = chunk }
                    }
                }
            }
            #expect(covered.allSatisfy { $0 == 1 })
            #expect(Set(ids) == Set(0..<chunks))
            #expect(ids == ids.sorted(), "chunks are contiguous and in order")
        }
    }

    @Test func rmsNormBackwardIsTheSameForAnyCountAndStaysInItsScratch() {
        let N = 64 * 80, C = 8
        let x = randomFloats(N * C, seed: 1, scale: 2), w = randomFloats(C, seed: 2), dy = randomFloats(N * C, seed: 3)
        func dWeight(threads: Int) -> [Float] {
            ComputeThreads.withCount(threads) {
                var y = [Float](repeating: 0, count: N * C), rstd = [Float](repeating: 0, count: N)
                var dx = [Float](repeating: 0, count: N * C), dw = [Float](repeating: 0, count: C)
                // Exactly the documented size, with a guard band that must stay untouched.
                var scratch = [Float](repeating: 0, count: RMSNorm.maxChunks * C + 16)
                for i in (RMSNorm.maxChunks * C)..<scratch.count { scratch[i] = 42 }
                x.withPtr { xp in w.withPtr { wp in dy.withPtr { dyp in
                    y.withMutPtr { o in rstd.withMutPtr { r in RMSNorm.forward(out: o, rstd: r, inp: xp, weight: wp, N: N, C: C, eps: 1e-5) } }
                    rstd.withPtr { r in dx.withMutPtr { dxp in dw.withMutPtr { dwp in scratch.withMutPtr { s in
                        RMSNorm.backward(dInp: dxp, dWeight: dwp, dOut: dyp, inp: xp, weight: wp, rstd: r, N: N, C: C, accumulate: false, scratch: s)
                    } } } }
                } } }
                #expect(scratch[(RMSNorm.maxChunks * C)...].allSatisfy { $0 == 42 }, "\(threads) threads wrote past the scratch")
                return dw
            }
        }
        let one = dWeight(threads: 1)
        for threads in [2, 3, 80] {
            let other = dWeight(threads: threads)
            for (a, b) in zip(one, other) { #expect(abs(a - b) <= 1e-3 * max(1, abs(a)), "\(threads) threads: \(a) vs \(b)") }
        }
    }
}
