// rlhub — bfloat16 storage and the fp32 → bf16 conversion the bf16 GEMMs run on.
//
// bf16 keeps fp32's sign and 8-bit exponent and the top 7 bits of its mantissa, so a conversion is
// the upper half of the fp32 bit pattern after rounding the lower half to nearest, ties to even:
//   bits' = (bits + 0x7FFF + ((bits >> 16) & 1)) >> 16        (finite values and ±inf)
//   NaN stays NaN (quiet bit set), never rounded into ±inf.
// Relative error of one conversion ≤ u = 2⁻⁸ (8 significant bits, round to nearest: half an ulp of 2⁻⁷).
// Back to fp32 is exact: the bf16 bits become the upper half, the lower half zero.

/// A bfloat16 value (storage only: rlhub computes in fp32 and feeds bf16 to oneDNN's GEMMs).
public struct BFloat16: Hashable, Sendable {
    /// The 16 bits: sign, 8 exponent bits, 7 mantissa bits.
    public var bitPattern: UInt16

    /// The value nearest to `x` (ties to even); NaN stays NaN.
    @inline(__always)
    public init(_ x: Float) {
        let bits = x.bitPattern
        if bits & 0x7FFF_FFFF > 0x7F80_0000 {
            bitPattern = UInt16(truncatingIfNeeded: (bits >> 16) | 0x40)
        } else {
            bitPattern = UInt16(truncatingIfNeeded: (bits &+ 0x7FFF &+ ((bits >> 16) & 1)) >> 16)
        }
    }

    public init(bitPattern: UInt16) { self.bitPattern = bitPattern }

    /// The exact fp32 value.
    @inline(__always)
    public var float: Float { Float(bitPattern: UInt32(bitPattern) << 16) }

    /// Unit roundoff of one conversion: |bf16(x) − x| ≤ u·|x| for normal x.
    public static let unitRoundoff: Float = 1.0 / 256
}

/// A fixed-size, 64-byte aligned array of ``BFloat16`` with one owner (see ``FloatBuffer``).
public final class BFloat16Buffer: @unchecked Sendable {
    public let count: Int
    public let pointer: UnsafeMutablePointer<BFloat16>

    /// Allocates `count` values set to +0.
    public init(count: Int) {
        precondition(count >= 0, "BFloat16Buffer: negative count \(count)")
        self.count = count
        let raw = UnsafeMutableRawPointer.allocate(
            byteCount: max(count, 1) * MemoryLayout<BFloat16>.stride, alignment: 64)
        pointer = raw.bindMemory(to: BFloat16.self, capacity: max(count, 1))
        pointer.initialize(repeating: BFloat16(bitPattern: 0), count: max(count, 1))
    }

    deinit { pointer.deallocate() }

    /// Bytes held.
    public var byteCount: Int { count * MemoryLayout<BFloat16>.stride }
}

/// fp32 → bf16 conversion kernels.
public enum BFloat16Conversion {
    /// Converts `count` contiguous floats (16 lanes at a time, then the tail); threads split the range
    /// when it is large (the result does not depend on the split: each element is converted alone).
    public static func convert(_ src: UnsafePointer<Float>, to dst: UnsafeMutablePointer<BFloat16>, count: Int) {
        parallelChunks(count, minPerThread: 1 << 16) { _, range in
            convertRange(src, dst, range)
        }
    }

    /// Converts a `rows × cols` matrix with row stride `ld` into a contiguous one (row stride `cols`).
    public static func convert(
        _ src: UnsafePointer<Float>, rows: Int, cols: Int, ld: Int, to dst: UnsafeMutablePointer<BFloat16>
    ) {
        if ld == cols { return convert(src, to: dst, count: rows * cols) }
        parallelChunks(rows, minPerThread: max(1, (1 << 16) / max(cols, 1))) { _, range in
            for r in range { convertRange(src + r * ld - r * cols, dst, (r * cols)..<((r + 1) * cols)) }
        }
    }

    @inline(__always)
    static func convertRange(_ src: UnsafePointer<Float>, _ dst: UnsafeMutablePointer<BFloat16>, _ range: Range<Int>) {
        typealias U = SIMD16<UInt32>
        let nanFloor = U(repeating: 0x7F80_0000), absMask = U(repeating: 0x7FFF_FFFF)
        let bias = U(repeating: 0x7FFF), one = U(repeating: 1), quiet = U(repeating: 0x40)
        var i = range.lowerBound
        while i + 16 <= range.upperBound {
            let bits = UnsafeRawPointer(src + i).loadUnaligned(as: U.self)
            var r = (bits &+ bias &+ ((bits &>> 16) & one)) &>> 16
            r.replace(with: (bits &>> 16) | quiet, where: (bits & absMask) .> nanFloor)
            UnsafeMutableRawPointer(dst + i).storeBytes(of: SIMD16<UInt16>(truncatingIfNeeded: r), as: SIMD16<UInt16>.self)
            i += 16
        }
        while i < range.upperBound {
            dst[i] = BFloat16(src[i])
            i += 1
        }
    }
}
