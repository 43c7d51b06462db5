// rlhub — owned, aligned Float32 storage for parameters, gradients and activations.
import Foundation

/// A fixed-size, 64-byte aligned, zero-initialised array of `Float` with one owner.
///
/// Kernels take raw pointers (`buffer.pointer + offset`) so that hot loops never touch Swift's
/// copy-on-write machinery. The buffer is freed when the object dies.
///
/// - warning: `@unchecked Sendable` because the numeric state has a single owner (the training
///   loop or generator) and is only shared read-only across the worker threads of one kernel call.
public final class FloatBuffer: @unchecked Sendable {
    /// Number of floats.
    public let count: Int
    /// Start of the storage; valid for `count` elements while `self` is alive.
    public let pointer: UnsafeMutablePointer<Float>

    /// Allocates `count` floats set to zero.
    public init(count: Int) {
        precondition(count >= 0, "FloatBuffer: negative count \(count)")
        self.count = count
        let raw = UnsafeMutableRawPointer.allocate(
            byteCount: max(count, 1) * MemoryLayout<Float>.stride, alignment: 64)
        pointer = raw.bindMemory(to: Float.self, capacity: max(count, 1))
        pointer.initialize(repeating: 0, count: max(count, 1))
    }

    /// Copies `values` into a new buffer.
    public convenience init(_ values: [Float]) {
        self.init(count: values.count)
        values.withUnsafeBufferPointer { src in
            if let base = src.baseAddress { pointer.update(from: base, count: values.count) }
        }
    }

    deinit { pointer.deallocate() }

    /// Counts in-place changes announced with ``markModified()`` (an optimizer step, a load), so
    /// that copies derived from the contents — a model's bf16 weights — know when they are stale.
    public private(set) var version = 0

    /// Announces that the contents changed in place.
    public func markModified() { version &+= 1 }

    /// Sets every element to zero.
    public func zero() { pointer.update(repeating: 0, count: count) }

    /// The elements as a Swift array (a copy).
    public var array: [Float] { Array(UnsafeBufferPointer(start: pointer, count: count)) }

    /// A buffer pointer over `range` (no copy).
    public func slice(_ range: Range<Int>) -> UnsafeMutableBufferPointer<Float> {
        precondition(range.lowerBound >= 0 && range.upperBound <= count, "slice out of range")
        return UnsafeMutableBufferPointer(start: pointer + range.lowerBound, count: range.count)
    }

    public subscript(i: Int) -> Float {
        get { pointer[i] }
        set { pointer[i] = newValue }
    }
}
