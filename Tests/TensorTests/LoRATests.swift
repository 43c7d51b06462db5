// LoRA's adapter path: against its naive reference (on a slice of a fused output), its backward
// against central finite differences, and the merged weight against the two-path forward.
import TestSupport
import Testing
import Tensor

@Suite("LoRA")
struct LoRATests {
    let N = 5, I = 12, O = 7, r = 3, scale: Float = 16.0 / 3
    /// Columns of the fused output this adapter writes (as k in [q | k | v]).
    let outStride = 11, column = 2

    func adapted(_ x: [Float], _ a: [Float], _ b: [Float]) -> [Float] {
        var out = randomFloats(N * outStride, seed: 40)
        var u = [Float](repeating: 0, count: N * r)
        x.withPtr { xp in a.withPtr { ap in b.withPtr { bp in out.withMutPtr { op in u.withMutPtr { up in
            LoRA.forward(
                out: op + column, outStride: outStride, u: up, inp: xp, inStride: I, a: ap, b: bp,
                N: N, I: I, O: O, r: r, scale: scale)
        } } } } }
        return out
    }

    @Test func matchesNaiveOnAFusedSlice() {
        let x = randomFloats(N * I, seed: 41), a = randomFloats(r * I, seed: 42), b = randomFloats(O * r, seed: 43)
        let fast = adapted(x, a, b)
        let before = randomFloats(N * outStride, seed: 40)
        var naive = [Float](repeating: 0, count: N * O)
        x.withPtr { xp in a.withPtr { ap in b.withPtr { bp in naive.withMutPtr {
            LoRA.forwardNaive(out: $0, inp: xp, a: ap, b: bp, N: N, I: I, O: O, r: r, scale: scale)
        } } } }
        for n in 0..<N {
            for c in 0..<outStride {
                let inSlice = c >= column && c < column + O
                let expected = before[n * outStride + c] + (inSlice ? naive[n * O + c - column] : 0)
                #expect(abs(fast[n * outStride + c] - expected) <= 1e-5 + 1e-4 * abs(expected), "out[\(n),\(c)]")
            }
        }
    }

    @Test func backwardMatchesFiniteDifferences() {
        var x = randomFloats(N * I, seed: 44), a = randomFloats(r * I, seed: 45), b = randomFloats(O * r, seed: 46)
        let dy = randomFloats(N * outStride, seed: 47)
        func loss(_ x: [Float], _ a: [Float], _ b: [Float]) -> Double { weightedSum(adapted(x, a, b), dy) }
        var u = [Float](repeating: 0, count: N * r), du = u
        var out = [Float](repeating: 0, count: N * outStride)
        var dx = randomFloats(N * I, seed: 48), da = [Float](repeating: 0, count: r * I), db = [Float](repeating: 0, count: O * r)
        let dxBefore = dx
        x.withPtr { xp in a.withPtr { ap in b.withPtr { bp in dy.withPtr { dyp in
            out.withMutPtr { op in u.withMutPtr { up in
                LoRA.forward(out: op + column, outStride: outStride, u: up, inp: xp, inStride: I, a: ap, b: bp,
                             N: N, I: I, O: O, r: r, scale: scale)
            } }
            u.withPtr { up in dx.withMutPtr { dxp in da.withMutPtr { dap in db.withMutPtr { dbp in du.withMutPtr { dup in
                LoRA.backward(dInp: dxp, dA: dap, dB: dbp, du: dup, dOut: dyp + column, dOutStride: outStride,
                              inp: xp, inStride: I, u: up, a: ap, b: bp, N: N, I: I, O: O, r: r, scale: scale)
            } } } } }
        } } } }
        // dInp accumulates: compare its increment.
        let dxIncrement = zip(dx, dxBefore).map { $0 - $1 }
        let (xc, ac, bc) = (x, a, b)
        gradientCheck(&x, analytic: dxIncrement, indices: sampleIndices(N * I), "dx") { loss($0, ac, bc) }
        gradientCheck(&a, analytic: da, indices: sampleIndices(r * I), "dA") { loss(xc, $0, bc) }
        gradientCheck(&b, analytic: db, indices: Array(0..<(O * r)), "dB") { loss(xc, ac, $0) }
    }

    @Test func mergedWeightEqualsTheTwoPaths() {
        let x = randomFloats(N * I, seed: 49), w = randomFloats(O * I, seed: 50)
        let a = randomFloats(r * I, seed: 51), b = randomFloats(O * r, seed: 52)
        var twoPaths = [Float](repeating: 0, count: N * O), u = [Float](repeating: 0, count: N * r)
        var merged = [Float](repeating: 0, count: O * I), onePath = twoPaths
        x.withPtr { xp in w.withPtr { wp in a.withPtr { ap in b.withPtr { bp in
            twoPaths.withMutPtr { op in
                Matmul.forward(out: op, inp: xp, weight: wp, N: N, I: I, O: O)
                u.withMutPtr { LoRA.forward(out: op, outStride: O, u: $0, inp: xp, inStride: I, a: ap, b: bp,
                                            N: N, I: I, O: O, r: r, scale: scale) }
            }
            merged.withMutPtr { LoRA.merge(merged: $0, weight: wp, a: ap, b: bp, I: I, O: O, r: r, scale: scale) }
            merged.withPtr { mp in onePath.withMutPtr { Matmul.forward(out: $0, inp: xp, weight: mp, N: N, I: I, O: O) } }
        } } } }
        expectClose(onePath, twoPaths, atol: 1e-5, rtol: 1e-4, "merged")
    }

    @Test func zeroBIsTheBaseLayer() {
        // PEFT's initialisation (B = 0): the adapted layer starts as the frozen one, bit for bit.
        let x = randomFloats(N * I, seed: 53), a = randomFloats(r * I, seed: 54)
        let b = [Float](repeating: 0, count: O * r)
        let before = randomFloats(N * outStride, seed: 40)
        #expect(adapted(x, a, b) == before)
    }
}
