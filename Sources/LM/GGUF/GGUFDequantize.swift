// rlhub — dequantisation of ggml block formats to Float32.
//
// Block layouts (as ggml defines them; d, m, dmin are IEEE half floats, all little-endian):
//   Q8_0  32 el, 34 B: d, qs[32] int8                       x = qs * d
//   Q4_0  32 el, 18 B: d, qs[16]                            x = d * (nibble - 8)
//   Q4_1  32 el, 20 B: d, m, qs[16]                         x = d * nibble + m
//   Q5_0  32 el, 22 B: d, qh u32, qs[16]                    x = d * ((nibble | bit << 4) - 16)
//   Q5_1  32 el, 24 B: d, m, qh u32, qs[16]                 x = d * (nibble | bit << 4) + m
//     (element j < 16 is the low nibble of qs[j], element j + 16 the high nibble; bit = qh >> j & 1)
//   Q4_K 256 el, 144 B: d, dmin, scales[12], qs[128]        8 sub-blocks of 32 with 6-bit scale/min
//   Q5_K 256 el, 176 B: d, dmin, scales[12], qh[32], qs[128]
//   Q6_K 256 el, 210 B: ql[128], qh[64], scales[16] int8, d 16 sub-blocks of 16, x = d * sc * (q - 32)
// Arithmetic is in Float32 in the same order as ggml's reference (and the `gguf` Python package),
// without fused multiply-adds, so results are bit-identical to theirs.
import Foundation

/// Dequantisation of ggml tensor data; used by ``GGUFFile/floats(_:)``.
public enum GGUFDequantize {
    /// Types ``GGUFFile/floats(_:)`` can dequantise.
    public static let supportedTypes: [GGMLType] = [
        .f32, .f16, .bf16, .q8_0, .q4_0, .q4_1, .q5_0, .q5_1, .q4_K, .q5_K, .q6_K,
    ]

    public static func isSupported(_ type: GGMLType) -> Bool { supportedTypes.contains(type) }

    /// Dequantises `blocks` whole blocks of `type` at `source` into `out` (`blocks × blockSize`
    /// floats). Large tensors are split across cores. The caller guarantees the sizes.
    static func run(_ type: GGMLType, source: UnsafeRawPointer, blocks: Int, into out: UnsafeMutablePointer<Float>) {
        guard blocks > 0, let kernel = kernel(for: type) else { return }
        let typeSize = type.typeSize, blockSize = type.blockSize
        let src = source.assumingMemoryBound(to: UInt8.self)
        let elements = blocks * blockSize
        let cores = ProcessInfo.processInfo.activeProcessorCount
        guard elements >= 1 << 17, cores > 1 else {
            kernel(src, out, blocks)
            return
        }
        let chunks = min(cores * 4, blocks)
        let perChunk = (blocks + chunks - 1) / chunks
        let job = Job(src: src, out: out, typeSize: typeSize, blockSize: blockSize)
        DispatchQueue.concurrentPerform(iterations: chunks) { i in
            let first = i * perChunk
            let n = min(perChunk, blocks - first)
            if n > 0 { kernel(job.src + first * job.typeSize, job.out + first * job.blockSize, n) }
        }
    }

    /// Pointers handed to worker threads; each thread writes a disjoint range of `out`.
    private struct Job: @unchecked Sendable {
        let src: UnsafePointer<UInt8>
        let out: UnsafeMutablePointer<Float>
        let typeSize: Int
        let blockSize: Int
    }

    typealias Kernel = @Sendable (UnsafePointer<UInt8>, UnsafeMutablePointer<Float>, Int) -> Void

    static func kernel(for type: GGMLType) -> Kernel? {
        switch type {
        case .f32: f32
        case .f16: f16
        case .bf16: bf16
        case .q8_0: q8_0
        case .q4_0: q4_0
        case .q4_1: q4_1
        case .q5_0: q5_0
        case .q5_1: q5_1
        case .q4_K: q4_K
        case .q5_K: q5_K
        case .q6_K: q6_K
        default: nil
        }
    }

    // MARK: Scalars

    /// IEEE binary16 → binary32, exact for every input (subnormals, infinities, NaN payloads).
    @inline(__always)
    static func half(_ h: UInt16) -> Float {
        let sign = UInt32(h & 0x8000) << 16
        let exponent = UInt32(h >> 10) & 0x1F
        let mantissa = UInt32(h & 0x03FF)
        if exponent == 0x1F { return Float(bitPattern: sign | 0x7F80_0000 | mantissa << 13) }
        if exponent != 0 { return Float(bitPattern: sign | (exponent + 112) << 23 | mantissa << 13) }
        let magnitude = Float(mantissa) * 0x1p-24  // zero or subnormal; exact
        return Float(bitPattern: sign | magnitude.bitPattern)
    }

    @inline(__always)
    static func half(_ p: UnsafePointer<UInt8>, _ offset: Int) -> Float {
        half(UInt16(p[offset]) | UInt16(p[offset + 1]) << 8)
    }

    // MARK: Kernels (source, destination, number of blocks)

    static let f32: Kernel = { src, out, n in
        UnsafeMutableRawPointer(out).copyMemory(from: src, byteCount: n * 4)
    }

    static let f16: Kernel = { src, out, n in
        for i in 0..<n { out[i] = half(src, 2 * i) }
    }

    static let bf16: Kernel = { src, out, n in
        for i in 0..<n {
            out[i] = Float(bitPattern: UInt32(src[2 * i]) << 16 | UInt32(src[2 * i + 1]) << 24)
        }
    }

    static let q8_0: Kernel = { src, out, n in
        for b in 0..<n {
            let p = src + b * 34, o = out + b * 32
            let d = half(p, 0)
            for j in 0..<32 { o[j] = Float(Int8(bitPattern: p[2 + j])) * d }
        }
    }

    static let q4_0: Kernel = { src, out, n in
        for b in 0..<n {
            let p = src + b * 18, o = out + b * 32
            let d = half(p, 0)
            for j in 0..<16 {
                let q = p[2 + j]
                o[j] = d * Float(Int(q & 0x0F) - 8)
                o[j + 16] = d * Float(Int(q >> 4) - 8)
            }
        }
    }

    static let q4_1: Kernel = { src, out, n in
        for b in 0..<n {
            let p = src + b * 20, o = out + b * 32
            let d = half(p, 0), m = half(p, 2)
            for j in 0..<16 {
                let q = p[4 + j]
                o[j] = d * Float(q & 0x0F) + m
                o[j + 16] = d * Float(q >> 4) + m
            }
        }
    }

    @inline(__always)
    private static func u32(_ p: UnsafePointer<UInt8>) -> UInt32 {
        UInt32(p[0]) | UInt32(p[1]) << 8 | UInt32(p[2]) << 16 | UInt32(p[3]) << 24
    }

    static let q5_0: Kernel = { src, out, n in
        for b in 0..<n {
            let p = src + b * 22, o = out + b * 32
            let d = half(p, 0)
            let qh = u32(p + 2)
            for j in 0..<16 {
                let q = p[6 + j]
                let lo = Int(q & 0x0F) | Int((qh >> UInt32(j)) & 1) << 4
                let hi = Int(q >> 4) | Int((qh >> UInt32(j + 16)) & 1) << 4
                o[j] = d * Float(lo - 16)
                o[j + 16] = d * Float(hi - 16)
            }
        }
    }

    static let q5_1: Kernel = { src, out, n in
        for b in 0..<n {
            let p = src + b * 24, o = out + b * 32
            let d = half(p, 0), m = half(p, 2)
            let qh = u32(p + 4)
            for j in 0..<16 {
                let q = p[8 + j]
                let lo = UInt32(q & 0x0F) | ((qh >> UInt32(j)) & 1) << 4
                let hi = UInt32(q >> 4) | ((qh >> UInt32(j + 16)) & 1) << 4
                o[j] = d * Float(lo) + m
                o[j + 16] = d * Float(hi) + m
            }
        }
    }

    /// 6-bit scale and min of sub-block `j` (0..<8) from the 12 packed bytes of Q4_K/Q5_K:
    /// bytes 0–3 hold scales 0–3 (low 6 bits) and the top 2 bits of scales 4–7, bytes 4–7 the same
    /// for mins, bytes 8–11 the low 4 bits of scale (low nibble) and min (high nibble) 4–7.
    @inline(__always)
    static func scaleMin(_ s: UnsafePointer<UInt8>, _ j: Int) -> (scale: UInt8, min: UInt8) {
        if j < 4 { return (s[j] & 63, s[j + 4] & 63) }
        return ((s[j + 4] & 0x0F) | (s[j - 4] >> 6) << 4, (s[j + 4] >> 4) | (s[j] >> 6) << 4)
    }

    static let q4_K: Kernel = { src, out, n in
        for b in 0..<n {
            let p = src + b * 144, o = out + b * 256
            let d = half(p, 0), dmin = half(p, 2)
            let scales = p + 4, qs = p + 16
            // Sub-blocks 2c and 2c+1 share qs[32c ..< 32c+32]: low nibbles, then high nibbles.
            for c in 0..<4 {
                let (s0, m0) = scaleMin(scales, 2 * c), (s1, m1) = scaleMin(scales, 2 * c + 1)
                let d0 = d * Float(s0), dm0 = dmin * Float(m0)
                let d1 = d * Float(s1), dm1 = dmin * Float(m1)
                let q = qs + 32 * c, y = o + 64 * c
                for i in 0..<32 {
                    y[i] = d0 * Float(q[i] & 0x0F) - dm0
                    y[i + 32] = d1 * Float(q[i] >> 4) - dm1
                }
            }
        }
    }

    static let q5_K: Kernel = { src, out, n in
        for b in 0..<n {
            let p = src + b * 176, o = out + b * 256
            let d = half(p, 0), dmin = half(p, 2)
            let scales = p + 4, qh = p + 16, qs = p + 48
            // As Q4_K; bit j of qh[i] is the fifth bit of element i of sub-block j.
            for c in 0..<4 {
                let (s0, m0) = scaleMin(scales, 2 * c), (s1, m1) = scaleMin(scales, 2 * c + 1)
                let d0 = d * Float(s0), dm0 = dmin * Float(m0)
                let d1 = d * Float(s1), dm1 = dmin * Float(m1)
                let q = qs + 32 * c, y = o + 64 * c
                let shift0 = UInt8(2 * c), shift1 = UInt8(2 * c + 1)
                for i in 0..<32 {
                    let lo = (q[i] & 0x0F) | ((qh[i] >> shift0) & 1) << 4
                    let hi = (q[i] >> 4) | ((qh[i] >> shift1) & 1) << 4
                    y[i] = d0 * Float(lo) - dm0
                    y[i + 32] = d1 * Float(hi) - dm1
                }
            }
        }
    }

    static let q6_K: Kernel = { src, out, n in
        for b in 0..<n {
            let p = src + b * 210, o = out + b * 256
            let ql = p, qh = p + 128, sc = p + 192
            let d = half(p, 208)
            // Two halves of 128; in half h, element 32k + i (k 0..<4, i 0..<32) takes its low 4 bits
            // from ql[64h + 32(k & 1) + i] (low nibble for k < 2, high for k ≥ 2) and its top 2 bits
            // from qh[32h + i] >> 2k; its scale is sc[8h + 2k + i / 16].
            for h in 0..<2 {
                let l = ql + 64 * h, u = qh + 32 * h, s = sc + 8 * h, y = o + 128 * h
                for k in 0..<4 {
                    let low = l + 32 * (k & 1)
                    let lowShift = UInt8(4 * (k >> 1)), highShift = UInt8(2 * k)
                    let dA = d * Float(Int8(bitPattern: s[2 * k]))
                    let dB = d * Float(Int8(bitPattern: s[2 * k + 1]))
                    for i in 0..<32 {
                        let q = Int((low[i] >> lowShift) & 0x0F | ((u[i] >> highShift) & 3) << 4) - 32
                        y[32 * k + i] = (i < 16 ? dA : dB) * Float(q)
                    }
                }
            }
        }
    }
}
