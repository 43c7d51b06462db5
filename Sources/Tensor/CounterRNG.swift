// rlhub — counter-based random numbers (Philox4x32-10, Salmon et al. 2011, "Parallel random
// numbers: as easy as 1, 2, 3").
//
// A draw is a pure function of (seed, purpose, step, index, block): no hidden state, so the same
// seed gives the same numbers whatever the batch size, order or thread count.

/// What a random stream is used for; part of the key so that streams never collide.
public enum RandomPurpose: UInt32, Sendable {
    case initialization = 1, sampling = 2, dataOrder = 3, taskGeneration = 4, dropout = 5
    case bootstrap = 6, benchmark = 7, testing = 8, adapterInitialization = 9
}

/// A Philox4x32-10 stream keyed by `(seed, purpose, step, index)`.
///
/// ```swift
/// var rng = CounterRNG(seed: 42, purpose: .sampling, step: 3, index: 7)
/// let u = rng.nextUniform()    // in [0, 1)
/// ```
public struct CounterRNG: Sendable {
    let key: (UInt32, UInt32)
    let counterHigh: (UInt32, UInt32)  // (purpose ⊕ step high bits, step)
    let index: UInt32
    var block: UInt32 = 0
    var buffer: (UInt32, UInt32, UInt32, UInt32) = (0, 0, 0, 0)
    var used = 4

    public init(seed: UInt64, purpose: RandomPurpose, step: UInt64 = 0, index: UInt64 = 0) {
        key = (UInt32(truncatingIfNeeded: seed), UInt32(truncatingIfNeeded: seed >> 32))
        counterHigh = (
            purpose.rawValue &* 0x9E37_79B9 ^ UInt32(truncatingIfNeeded: step >> 32)
                ^ UInt32(truncatingIfNeeded: index >> 32) &* 0x85EB_CA6B,
            UInt32(truncatingIfNeeded: step))
        self.index = UInt32(truncatingIfNeeded: index)
    }

    /// The Philox4x32 bijection with 10 rounds.
    static func philox(
        _ c: (UInt32, UInt32, UInt32, UInt32), _ k: (UInt32, UInt32)
    ) -> (UInt32, UInt32, UInt32, UInt32) {
        var (c0, c1, c2, c3) = c
        var (k0, k1) = k
        for _ in 0..<10 {
            let p0 = UInt64(0xD251_1F53) &* UInt64(c0)
            let p1 = UInt64(0xCD9E_8D57) &* UInt64(c2)
            let n0 = UInt32(truncatingIfNeeded: p1 >> 32) ^ c1 ^ k0
            let n2 = UInt32(truncatingIfNeeded: p0 >> 32) ^ c3 ^ k1
            c0 = n0
            c1 = UInt32(truncatingIfNeeded: p1)
            c2 = n2
            c3 = UInt32(truncatingIfNeeded: p0)
            k0 = k0 &+ 0x9E37_79B9
            k1 = k1 &+ 0xBB67_AE85
        }
        return (c0, c1, c2, c3)
    }

    /// Next 32 random bits.
    public mutating func next32() -> UInt32 {
        if used == 4 {
            buffer = Self.philox((block, index, counterHigh.0, counterHigh.1), key)
            block &+= 1
            used = 0
        }
        defer { used += 1 }
        switch used {
        case 0: return buffer.0
        case 1: return buffer.1
        case 2: return buffer.2
        default: return buffer.3
        }
    }

    /// Uniform in [0, 1) with 24 bits of resolution (exact in Float).
    public mutating func nextUniform() -> Float { Float(next32() >> 8) * 0x1p-24 }

    /// Uniform in [0, 1) with 53 bits of resolution.
    public mutating func nextUniformDouble() -> Double {
        let hi = UInt64(next32() >> 5), lo = UInt64(next32() >> 6)
        return Double(hi << 26 | lo) * 0x1p-53
    }

    /// Standard normal by Box–Muller.
    public mutating func nextNormal() -> Float {
        let u1 = max(nextUniformDouble(), 1e-300), u2 = nextUniformDouble()
        return Float((-2 * _log(u1)).squareRoot() * _cos(2 * Double.pi * u2))
    }

    /// Uniform integer in `0..<n` (Lemire's multiply-shift; negligible bias for n ≪ 2³²).
    public mutating func nextInt(below n: Int) -> Int {
        precondition(n > 0, "nextInt(below:) needs n > 0")
        return Int((UInt64(next32()) &* UInt64(n)) >> 32)
    }
}

#if canImport(Glibc)
    import Glibc
    @usableFromInline func _cos(_ x: Double) -> Double { Glibc.cos(x) }
#else
    import Foundation
    @usableFromInline func _cos(_ x: Double) -> Double { Foundation.cos(x) }
#endif
