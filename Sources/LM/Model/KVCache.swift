// rlhub — key/value cache for incremental decoding of a batch of sequences of ragged lengths.
import Foundation
import RLHubCore
import Tensor

/// Keys and values of every layer for `slots` sequences of up to `capacity` positions.
///
/// Layout per layer: `[slot][kvHead][position][headDim]`, so one slot's keys of one head are a
/// contiguous (positions, D) matrix. ``lengths`` holds how many positions each slot has filled.
public final class KVCache: @unchecked Sendable {
    public let slots: Int
    public let capacity: Int
    let layers: Int, kvHeads: Int, headDim: Int
    let keys: FloatBuffer
    let values: FloatBuffer
    /// Filled positions per slot.
    public internal(set) var lengths: [Int32]

    public init(config: LlamaConfig, slots: Int, capacity: Int) {
        precondition(capacity <= config.maxPositionEmbeddings,
                     "KVCache: capacity \(capacity) exceeds max_position_embeddings \(config.maxPositionEmbeddings)")
        self.slots = slots
        self.capacity = capacity
        layers = config.numHiddenLayers
        kvHeads = config.numKeyValueHeads
        headDim = config.headDim
        let n = layers * slots * kvHeads * capacity * headDim
        keys = FloatBuffer(count: n)
        values = FloatBuffer(count: n)
        lengths = [Int32](repeating: 0, count: slots)
    }

    /// Bytes of keys and values for `slots` sequences of `capacity` positions; nil when the
    /// product does not fit an `Int`.
    public static func byteCount(config: LlamaConfig, slots: Int, capacity: Int) -> Int? {
        var bytes = 2 * MemoryLayout<Float>.size  // keys and values
        for factor in [config.numHiddenLayers, slots, config.numKeyValueHeads, capacity, config.headDim] {
            let (product, overflow) = bytes.multipliedReportingOverflow(by: factor)
            if overflow { return nil }
            bytes = product
        }
        return bytes
    }

    /// Refuses, before anything is allocated, a cache larger than this machine's memory.
    /// - Throws: ``InputError`` naming `setting` (what the user changes to make it fit).
    public static func checkFits(config: LlamaConfig, slots: Int, capacity: Int, setting: String) throws(InputError) {
        let memory = ProcessInfo.processInfo.physicalMemory
        let bytes = byteCount(config: config, slots: slots, capacity: capacity)
        guard let bytes, UInt64(bytes) <= memory else {
            let needed = bytes.map { "\($0 >> 20) MiB" } ?? "more than 2^63 bytes"
            throw InputError(
                file: setting,
                message: "a KV cache of \(slots) sequences × \(capacity) positions needs \(needed), more than this machine's \(memory >> 20) MiB")
        }
    }

    /// Floats per layer.
    var layerStride: Int { slots * kvHeads * capacity * headDim }

    /// Forgets the contents of `slot` (its length becomes 0).
    public func reset(slot: Int) { lengths[slot] = 0 }

    /// Forgets every slot.
    public func resetAll() { for s in 0..<slots { lengths[s] = 0 } }

    /// Drops positions after `length` in `slot` (e.g. to rewind a rejected continuation).
    public func truncate(slot: Int, to length: Int) {
        precondition(length <= lengths[slot], "truncate: slot \(slot) has only \(lengths[slot]) positions")
        lengths[slot] = Int32(length)
    }

    /// Copies the first `lengths[source]` positions of `source` into `destination`: a group of
    /// samples shares one prefilled prompt.
    public func copySlot(from source: Int, to destination: Int) {
        if source == destination { return }
        let n = Int(lengths[source]) * headDim
        for l in 0..<layers {
            for g in 0..<kvHeads {
                let src = l * layerStride + (source * kvHeads + g) * capacity * headDim
                let dst = l * layerStride + (destination * kvHeads + g) * capacity * headDim
                (keys.pointer + dst).update(from: keys.pointer + src, count: n)
                (values.pointer + dst).update(from: values.pointer + src, count: n)
            }
        }
        lengths[destination] = lengths[source]
    }

    /// Bytes held.
    public var byteCount: Int { 2 * keys.count * 4 }
}
