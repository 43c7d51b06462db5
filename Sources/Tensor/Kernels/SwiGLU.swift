// rlhub — the gated activation of Llama's MLP (Shazeer 2020): act = silu(gate) ⊙ up.
//
//   silu(g) = g·σ(g),  silu'(g) = σ(g)·(1 + g·(1 − σ(g)))
//   forward:  act[n,i] = silu(gu[n,i]) · gu[n,I+i]         (gu = [gate | up], shape (N, 2I))
//   backward: dgu[n,i]   = dAct[n,i] · gu[n,I+i] · silu'(gu[n,i])
//             dgu[n,I+i] = dAct[n,i] · silu(gu[n,i])
// The MLP is then down(act); gate and up are one matmul because their weights are adjacent.

/// SwiGLU activation, forward and backward.
public enum SwiGLU {
    /// - Parameters:
    ///   - act: (N, I).
    ///   - gateUp: (N, 2I), gate in columns `0..<I`, up in `I..<2I`.
    public static func forward(
        act: UnsafeMutablePointer<Float>, gateUp: UnsafePointer<Float>, N: Int, I: Int
    ) {
        parallelChunks(N, minPerThread: 16) { _, rows in
            for n in rows {
                let g = gateUp + n * 2 * I
                let u = g + I
                let a = act + n * I
                var i = 0
                while i + 8 <= I {
                    let gv = UnsafeRawPointer(g + i).loadUnaligned(as: FastMath.V.self)
                    let uv = UnsafeRawPointer(u + i).loadUnaligned(as: FastMath.V.self)
                    let sig = 1 / (1 + FastMath.exp(-gv))
                    UnsafeMutableRawPointer(a + i).storeBytes(of: gv * sig * uv, as: FastMath.V.self)
                    i += 8
                }
                while i < I {
                    let sig = 1 / (1 + FastMath.exp(-g[i]))
                    a[i] = g[i] * sig * u[i]
                    i += 1
                }
            }
        }
    }

    /// - Parameters:
    ///   - dGateUp: (N, 2I), overwritten.
    ///   - dAct: (N, I).
    ///   - gateUp: (N, 2I) from the forward pass.
    public static func backward(
        dGateUp: UnsafeMutablePointer<Float>, dAct: UnsafePointer<Float>,
        gateUp: UnsafePointer<Float>, N: Int, I: Int
    ) {
        parallelChunks(N, minPerThread: 16) { _, rows in
            for n in rows {
                let g = gateUp + n * 2 * I
                let u = g + I
                let da = dAct + n * I
                let dg = dGateUp + n * 2 * I
                let du = dg + I
                var i = 0
                while i + 8 <= I {
                    let gv = UnsafeRawPointer(g + i).loadUnaligned(as: FastMath.V.self)
                    let uv = UnsafeRawPointer(u + i).loadUnaligned(as: FastMath.V.self)
                    let dav = UnsafeRawPointer(da + i).loadUnaligned(as: FastMath.V.self)
                    let sig = 1 / (1 + FastMath.exp(-gv))
                    let dsilu = sig * (1 + gv * (1 - sig))
                    UnsafeMutableRawPointer(dg + i).storeBytes(of: dav * uv * dsilu, as: FastMath.V.self)
                    UnsafeMutableRawPointer(du + i).storeBytes(of: dav * gv * sig, as: FastMath.V.self)
                    i += 8
                }
                while i < I {
                    let sig = 1 / (1 + FastMath.exp(-g[i]))
                    dg[i] = da[i] * u[i] * sig * (1 + g[i] * (1 - sig))
                    du[i] = da[i] * g[i] * sig
                    i += 1
                }
            }
        }
    }

    /// Naive reference of ``forward`` (Double, Foundation exp), for tests.
    public static func forwardNaive(
        act: UnsafeMutablePointer<Float>, gateUp: UnsafePointer<Float>, N: Int, I: Int
    ) {
        for n in 0..<N {
            for i in 0..<I {
                let g = Double(gateUp[n * 2 * I + i]), u = Double(gateUp[n * 2 * I + I + i])
                act[n * I + i] = Float(g / (1 + _exp(-g)) * u)
            }
        }
    }
}

@usableFromInline func _exp(_ x: Double) -> Double {
    #if canImport(Glibc)
        return Glibc.exp(x)
    #else
        return Foundation.exp(x)
    #endif
}

#if canImport(Glibc)
    import Glibc
#else
    import Foundation
#endif
