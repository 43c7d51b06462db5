// rlhub — counter-based randomness, stable hashing and the train/test partition for tasks.
//
// No global RNG: every problem is drawn from a SplitMix64 stream keyed by
// (task key, split, index, attempt), so problem `index` is a pure function of its inputs and
// never depends on which other problems were generated. Swift's `Hasher` is seeded per process,
// so all hashing here is FNV-1a (stable across runs and platforms) finished with SplitMix64.

/// SplitMix64 (Steele, Lea & Flood 2014; the seeding generator of xoshiro).
struct SplitMix64: Sendable {
    var state: UInt64

    init(seed: UInt64) { state = seed }

    /// Keys a stream by several counters (each one mixed in turn).
    init(_ parts: UInt64...) {
        var s: UInt64 = 0x243F_6A88_85A3_08D3
        for p in parts { s = SplitMix64.mix(s ^ SplitMix64.mix(p &+ 0x9E37_79B9_7F4A_7C15)) }
        state = s
    }

    /// The SplitMix64 output function (a bijection on 64-bit words).
    static func mix(_ x: UInt64) -> UInt64 {
        var z = x
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        return SplitMix64.mix(state)
    }

    /// Uniform in `0..<n` (Lemire's multiply-high; the bias is below 2^-40 for the sizes used here).
    mutating func below(_ n: Int) -> Int {
        precondition(n > 0, "below(_:) needs a positive bound")
        return Int(next().multipliedFullWidth(by: UInt64(n)).high)
    }

    /// Uniform in `range`.
    mutating func int(in range: ClosedRange<Int>) -> Int {
        range.lowerBound + below(range.upperBound - range.lowerBound + 1)
    }

    /// Uniform in [0, 1).
    mutating func unit() -> Double { Double(next() >> 11) * 0x1.0p-53 }
}

/// FNV-1a 64 over UTF-8, finished with SplitMix64 so that nearby strings spread out.
func stableHash(_ text: String) -> UInt64 {
    var h: UInt64 = 0xCBF2_9CE4_8422_2325
    for byte in text.utf8 {
        h ^= UInt64(byte)
        h = h &* 0x0000_0100_0000_01B3
    }
    return SplitMix64.mix(h)
}

extension Split {
    /// Stream tag so that train and test draw from different candidate streams.
    var tag: UInt64 { self == .train ? 0x7472_6169_6E : 0x7465_7374 }
}

// MARK: - The partition

/// How a task finds problem `index` of a split.
///
/// * Sampled spaces (too large to list): candidate `k` for (split, index) is drawn from the stream
///   keyed by (task key, split, index, k); the first candidate whose canonical form hashes into
///   the split is taken. A problem is a test problem iff `stableHash(canonical) % 5 == 0` (20%),
///   so the splits are disjoint by construction.
/// * Enumerated spaces (problem ids `0..<count`, at most ``enumerationLimit``): ids are ranked
///   by `mix(key, id)`; the first `max(1, count / 5)` are the test split, the rest train.
///   `index` wraps around each list, so both splits are non-empty and their counts exact.
struct ProblemSource: Sendable {
    /// Largest space that is enumerated.
    static let enumerationLimit = 50_000

    let key: UInt64
    /// Enumerated ids per split (empty for sampled spaces).
    private let trainIDs: [Int]
    private let testIDs: [Int]

    /// A sampled space.
    init(sampledWithKey key: String) {
        self.key = stableHash(key)
        trainIDs = []
        testIDs = []
    }

    /// An enumerated space of `count` problems (`2 ... enumerationLimit`).
    init(enumerated count: Int, key: String) {
        precondition(count >= 2 && count <= ProblemSource.enumerationLimit, "enumerated space size \(count)")
        let k = stableHash(key)
        self.key = k
        var keyed: [(hash: UInt64, id: Int)] = []
        keyed.reserveCapacity(count)
        for id in 0..<count { keyed.append((SplitMix64.mix(k ^ SplitMix64.mix(UInt64(id))), id)) }
        keyed.sort { a, b in a.hash != b.hash ? a.hash < b.hash : a.id < b.id }
        let ranked = keyed.map { $0.id }
        let nTest = max(1, count / 5)
        testIDs = Array(ranked[..<nTest])
        trainIDs = Array(ranked[nTest...])
    }

    var isEnumerated: Bool { !trainIDs.isEmpty }

    func count(_ split: Split) -> Int? {
        isEnumerated ? (split == .train ? trainIDs.count : testIDs.count) : nil
    }

    /// Problem id `index` of `split` in an enumerated space.
    func id(_ split: Split, _ index: Int) -> Int {
        precondition(index >= 0, "problem index must be >= 0, got \(index)")
        let ids = split == .train ? trainIDs : testIDs
        return ids[index % ids.count]
    }

    /// Whether a canonical form belongs to the test split of a sampled space.
    static func isTest(_ canonical: String) -> Bool { stableHash(canonical) % 5 == 0 }

    /// Problem `index` of `split` in a sampled space: the first candidate from `generate` (which
    /// may reject by returning `nil`) whose canonical form lies in `split`.
    func sample<P>(
        _ split: Split, _ index: Int, canonical: (P) -> String, generate: (inout SplitMix64) -> P?
    ) -> P {
        precondition(index >= 0, "problem index must be >= 0, got \(index)")
        for attempt in 0..<1_000_000 {
            var rng = SplitMix64(key, split.tag, UInt64(index), UInt64(attempt))
            if let p = generate(&rng), ProblemSource.isTest(canonical(p)) == (split == .test) {
                return p
            }
        }
        preconditionFailure("no problem found for split \(split) index \(index) (task parameters too narrow)")
    }
}
