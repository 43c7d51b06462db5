// rlhub — vectorised exp and the row reductions built on it (log-softmax, SiLU).
//
// exp(x) = 2^n · e^r with n = round(x·log2 e), r = x − n·ln 2 (Cody–Waite split of ln 2), and
// e^r by a degree-6 Taylor polynomial on |r| ≤ ln2/2: relative error < 2e-7, i.e. float32
// rounding level. Why not Glibc's expf: it is scalar, and the LM head needs ~10⁹ exps per step.
import Foundation

public enum FastMath {
    public typealias V = SIMD8<Float>

    /// e^x for eight lanes; inputs are clamped to [-87.3, 88.7] (exp(-87.3) ≈ 1.2e-38).
    ///
    /// n is rounded with the "magic number" trick: adding 1.5·2²³ makes the FPU round x·log₂e
    /// to an integer that then sits in the low mantissa bits, so no float→int conversion (which
    /// Swift's generic SIMD code scalarises) is needed.
    @inlinable @inline(__always)
    public static func exp(_ xIn: V) -> V {
        let x = pointwiseMin(pointwiseMax(xIn, V(repeating: -87.3)), V(repeating: 88.7))
        let magic = V(repeating: 12_582_912)  // 1.5 · 2²³
        let t = x * 1.442_695_04 + magic
        let n = t - magic
        var r = x - n * 0.693_145_751_953_125  // ln 2, high part
        r = r - n * 1.428_606_765_330_187_045e-6  // ln 2, low part
        var p = V(repeating: 1.0 / 720)
        p = p * r + 1.0 / 120
        p = p * r + 1.0 / 24
        p = p * r + 1.0 / 6
        p = p * r + 0.5
        p = p * r + 1
        p = p * r + 1
        let ni = unsafeBitCast(t, to: SIMD8<Int32>.self) &- unsafeBitCast(magic, to: SIMD8<Int32>.self)
        let scale = (ni &+ 127) &<< 23
        return p * unsafeBitCast(scale, to: V.self)
    }

    /// Scalar e^x with the same accuracy (tails of vector loops).
    @inlinable @inline(__always)
    public static func exp(_ x: Float) -> Float { exp(V(repeating: x))[0] }

    /// Maximum of `x[0..<n]` (−∞ for n = 0).
    @inlinable
    public static func max(_ x: UnsafePointer<Float>, _ n: Int) -> Float {
        var m = V(repeating: -.infinity)
        var i = 0
        while i + 8 <= n {
            m = pointwiseMax(m, UnsafeRawPointer(x + i).loadUnaligned(as: V.self))
            i += 8
        }
        var best = m.max()
        while i < n { best = Swift.max(best, x[i]); i += 1 }
        return best
    }

    /// Computes `out[i] = exp(scale·x[i] − shift)` and returns Σ out (fixed order: 8 lanes, then
    /// lanes summed, then the tail). `out` may alias `x`.
    @inlinable
    public static func expShiftSum(
        _ x: UnsafePointer<Float>, _ out: UnsafeMutablePointer<Float>, _ n: Int,
        scale: Float, shift: Float
    ) -> Float {
        var acc = V(repeating: 0)
        var i = 0
        while i + 8 <= n {
            let v = UnsafeRawPointer(x + i).loadUnaligned(as: V.self)
            let e = exp(v * scale - shift)
            UnsafeMutableRawPointer(out + i).storeBytes(of: e, as: V.self)
            acc += e
            i += 8
        }
        var total = acc.sum()
        while i < n {
            let e = exp(scale * x[i] - shift)
            out[i] = e
            total += e
            i += 1
        }
        return total
    }

    /// Σ a[i]·b[i] with 8 lanes (fixed order).
    @inlinable
    public static func dot(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ n: Int) -> Float {
        var acc = V(repeating: 0)
        var i = 0
        while i + 8 <= n {
            acc += UnsafeRawPointer(a + i).loadUnaligned(as: V.self)
                * UnsafeRawPointer(b + i).loadUnaligned(as: V.self)
            i += 8
        }
        var total = acc.sum()
        while i < n { total += a[i] * b[i]; i += 1 }
        return total
    }
}
