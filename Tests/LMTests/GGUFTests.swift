// Tests of the GGUF reader and dequantisation (Sources/LM/GGUF).
//
// Reference values come from the `gguf` Python package via Tests/reference/gguf_reference.py
// (needs `pip install gguf numpy`; set RLHUB_SKIP_PYTHON=1 to skip those tests). The real-model test
// runs when models/SmolLM2-135M-Instruct.Q4_1.gguf exists under the package root or
// RLHUB_SMOLLM2_GGUF names the file.
import Foundation
import RLHubCore
import TestSupport
import Testing

import LM

// MARK: - Fixtures

private enum GGUFFixture {
    /// The package root: this file is <root>/Tests/LMTests/GGUFTests.swift.
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent()
    static let script = root.appendingPathComponent("Tests/reference/gguf_reference.py").path
    static let environment = ProcessInfo.processInfo.environment
    static let skipPython = environment["RLHUB_SKIP_PYTHON"] == "1"

    static let realModel: String? = {
        if let p = environment["RLHUB_SMOLLM2_GGUF"], !p.isEmpty { return p }
        let p = root.appendingPathComponent("models/SmolLM2-135M-Instruct.Q4_1.gguf").path
        return FileManager.default.fileExists(atPath: p) ? p : nil
    }()

    /// Output of `gguf_reference.py synth` (made once per test process).
    static let synth: Result<URL, GGUFReferenceFailure> = Result { () throws(GGUFReferenceFailure) in
        try runReference(["synth"], name: "synth")
    }

    /// Output of `gguf_reference.py real MODEL` (made once per test process).
    static let real: Result<URL, GGUFReferenceFailure> = Result { () throws(GGUFReferenceFailure) in
        guard let model = realModel else { throw GGUFReferenceFailure(description: "no real model file") }
        return try runReference(["real", model], name: "real")
    }

    static func runReference(_ arguments: [String], name: String) throws(GGUFReferenceFailure) -> URL {
        let dir = FileManager.default.temporaryDirectory
            .appendingPathComponent("rlhub-gguf-\(ProcessInfo.processInfo.processIdentifier)-\(name)")
        try? FileManager.default.removeItem(at: dir)
        let hint = "python3 with the gguf and numpy packages is needed: pip install gguf numpy (or set RLHUB_SKIP_PYTHON=1 to skip these tests)"
        let (status, stderr) = python(["-c", "import gguf, numpy"])
        guard status == 0 else { throw GGUFReferenceFailure(description: "\(hint); \(stderr)") }
        let (status2, stderr2) = python([script] + arguments + [dir.path])
        guard status2 == 0 else {
            throw GGUFReferenceFailure(description: "\(script) \(arguments.joined(separator: " ")) failed (\(status2)): \(stderr2)")
        }
        return dir
    }

    static func python(_ arguments: [String]) -> (Int32, String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3"] + arguments
        process.currentDirectoryURL = root
        let errors = Pipe()
        process.standardError = errors
        process.standardOutput = FileHandle.nullDevice
        do { try process.run() } catch { return (-1, "cannot run python3: \(error)") }
        let data = errors.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let text = String(decoding: data, as: UTF8.self).split(separator: "\n").suffix(5).joined(separator: " | ")
        return (process.terminationStatus, text)
    }

    static func json(_ url: URL) throws -> [String: Any] {
        try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as! [String: Any]
    }

    static func floats(_ url: URL) throws -> [Float] {
        let data = try Data(contentsOf: url)
        return data.withUnsafeBytes { raw in
            (0..<(raw.count / 4)).map {
                Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: 4 * $0, as: UInt32.self)))
            }
        }
    }
}

private struct GGUFReferenceFailure: Error, CustomStringConvertible, Sendable {
    let description: String
}

/// Expects bit-identical floats (dequantisation is deterministic).
private func expectBitwiseEqual(
    _ got: [Float], _ want: [Float], _ label: String, sourceLocation: SourceLocation = #_sourceLocation
) {
    #expect(got.count == want.count, "\(label): \(got.count) values, reference has \(want.count)", sourceLocation: sourceLocation)
    var mismatches = 0
    var first = ""
    for i in 0..<min(got.count, want.count) where got[i].bitPattern != want[i].bitPattern {
        if mismatches == 0 { first = "first at \(i): got \(got[i]), reference \(want[i])" }
        mismatches += 1
    }
    #expect(mismatches == 0, "\(label): \(mismatches) of \(want.count) values differ; \(first)", sourceLocation: sourceLocation)
}

/// GGUF type names as GGUFReader reports them: ["ARRAY", <element types…>].
private func pythonTypes(_ v: GGUFValue) -> [String] {
    if case .array(let a) = v { return ["ARRAY"] + (a.first.map(pythonTypes) ?? []) }
    return [v.typeName.uppercased()]
}

// MARK: - A small GGUF writer for hand-made and fuzzed files

/// Builds GGUF bytes and remembers where the structural fields (counts, lengths, types, dims,
/// offsets) are, so the fuzzer can aim at them.
private struct TinyGGUF {
    struct TensorEntry { var name: String; var type: GGMLType; var shape: [Int]; var data: [UInt8] }
    var bytes: [UInt8] = []
    var fields: [(offset: Int, width: Int)] = []

    static func build(version: UInt32 = 3, metadata: [(String, GGUFValue)], tensors: [TensorEntry], alignment: Int = 32) -> TinyGGUF {
        var w = TinyGGUF()
        w.bytes += Array("GGUF".utf8)
        w.int(UInt32(version), field: true)
        w.int(UInt64(tensors.count), field: true)
        w.int(UInt64(metadata.count), field: true)
        for (key, value) in metadata {
            w.string(key)
            w.int(typeCode(value), field: true)
            w.value(value)
        }
        var offset = 0
        var offsets: [Int] = []
        for t in tensors {
            w.string(t.name)
            w.int(UInt32(t.shape.count), field: true)
            for d in t.shape { w.int(UInt64(d), field: true) }
            w.int(t.type.rawValue, field: true)
            w.int(UInt64(offset), field: true)
            offsets.append(offset)
            offset += (t.data.count + alignment - 1) / alignment * alignment
        }
        while w.bytes.count % alignment != 0 { w.bytes.append(0) }
        let dataStart = w.bytes.count
        for (t, o) in zip(tensors, offsets) {
            w.bytes += [UInt8](repeating: 0, count: dataStart + o - w.bytes.count)
            w.bytes += t.data
        }
        return w
    }

    static func typeCode(_ v: GGUFValue) -> UInt32 {
        switch v {
        case .uint8: 0
        case .int8: 1
        case .uint16: 2
        case .int16: 3
        case .uint32: 4
        case .int32: 5
        case .float32: 6
        case .bool: 7
        case .string: 8
        case .array: 9
        case .uint64: 10
        case .int64: 11
        case .float64: 12
        }
    }

    mutating func int<T: FixedWidthInteger>(_ v: T, field: Bool = false) {
        if field { fields.append((bytes.count, MemoryLayout<T>.size)) }
        withUnsafeBytes(of: v.littleEndian) { bytes += $0 }
    }

    mutating func string(_ s: String) {
        int(UInt64(s.utf8.count), field: true)
        bytes += Array(s.utf8)
    }

    mutating func value(_ v: GGUFValue) {
        switch v {
        case .uint8(let x): int(x)
        case .int8(let x): int(x)
        case .uint16(let x): int(x)
        case .int16(let x): int(x)
        case .uint32(let x): int(x)
        case .int32(let x): int(x)
        case .float32(let x): int(x.bitPattern)
        case .bool(let x): int(UInt8(x ? 1 : 0))
        case .string(let x): string(x)
        case .array(let a):
            int(a.first.map(Self.typeCode) ?? 4, field: true)
            int(UInt64(a.count), field: true)
            for e in a { value(e) }
        case .uint64(let x): int(x)
        case .int64(let x): int(x)
        case .float64(let x): int(x.bitPattern)
        }
    }
}

private func halfBytes(_ bits: UInt16) -> [UInt8] { [UInt8(bits & 0xFF), UInt8(bits >> 8)] }

/// Every value type, including an empty array and nested arrays.
private let handMadeMetadata: [(String, GGUFValue)] = [
    ("general.architecture", .string("llama")),
    ("u8", .uint8(255)), ("i8", .int8(-128)), ("u16", .uint16(65535)), ("i16", .int16(-32768)),
    ("u32", .uint32(.max)), ("i32", .int32(.min)), ("f32", .float32(-0.375)), ("b", .bool(true)),
    ("s", .string("Ġhello ✓")), ("empty_string", .string("")),
    ("u64", .uint64(.max)), ("i64", .int64(.min)), ("f64", .float64(1e-300)),
    ("a_empty", .array([])),
    ("a_f32", .array([.float32(1), .float32(2.5)])),
    ("a_nested", .array([.array([.int32(1), .int32(2)]), .array([.string("x")]), .array([])])),
    ("tokenizer.ggml.tokens", .array([.string("<s>"), .string("a"), .string("Ġb")])),
]

/// A small file with one tensor of every supported type (random payload, valid half scales).
private func handMadeFile(version: UInt32 = 3, seed: UInt64 = 7) -> TinyGGUF {
    var rng = SplitMix64(state: seed)
    func random(_ type: GGMLType, _ shape: [Int]) -> TinyGGUF.TensorEntry {
        let count = shape.reduce(1, *) / type.blockSize * type.typeSize
        var data = (0..<count).map { _ in UInt8.random(in: 0...255, using: &rng) }
        let halves: [Int] = switch type {
        case .f16, .q4_0, .q5_0, .q8_0: [0]
        case .q4_1, .q5_1, .q4_K, .q5_K: [0, 2]
        case .q6_K: [208]
        default: []
        }
        for b in stride(from: 0, to: count, by: type.typeSize) {
            for h in halves {
                // |x| in [2^-8, 2): exponent 7...15, random sign and mantissa.
                let bits = UInt16(Int.random(in: 7...15, using: &rng)) << 10 | UInt16.random(in: 0...0x3FF, using: &rng)
                    | (Bool.random(using: &rng) ? 0x8000 : 0)
                data.replaceSubrange((b + h)..<(b + h + 2), with: halfBytes(bits))
            }
        }
        return .init(name: "t.\(type.name.lowercased())", type: type, shape: shape, data: data)
    }
    let tensors = [
        random(.f32, [8, 2]), random(.f16, [16, 2]), random(.bf16, [16]), random(.q8_0, [32, 2]),
        random(.q4_0, [64]), random(.q4_1, [32, 2]), random(.q5_0, [32]), random(.q5_1, [32]),
        random(.q4_K, [256]), random(.q5_K, [256]), random(.q6_K, [256]),
        .init(name: "t.empty", type: .f32, shape: [0, 3], data: []),
    ]
    return TinyGGUF.build(version: version, metadata: handMadeMetadata, tensors: tensors)
}

// MARK: - Tests without Python

@Suite("GGUF") struct GGUFTests {
    @Test func handMadeFileRoundTripsMetadataAndShapes() throws {
        for version: UInt32 in [2, 3] {
            let w = handMadeFile(version: version)
            let file = try GGUFFile(bytes: w.bytes, path: "hand.gguf")
            #expect(file.version == version)
            #expect(file.alignment == 32)
            #expect(file.dataOffset % 32 == 0)
            #expect(file.metadataKeys == handMadeMetadata.map(\.0))
            for (key, value) in handMadeMetadata {
                #expect(file.metadata[key] == value, "\(key)")
            }
            #expect(file.int("u32") == Int(UInt32.max))
            #expect(file.int("u64") == nil)  // does not fit in Int
            #expect(file.int("i64") == Int(Int64.min))
            #expect(file.float("f32") == -0.375)
            #expect(file.double("f64") == 1e-300)
            #expect(file.bool("b") == true)
            #expect(file.string("s") == "Ġhello ✓")
            #expect(file.stringArray("tokenizer.ggml.tokens") == ["<s>", "a", "Ġb"])
            #expect(file.floatArray("a_f32") == [1, 2.5])
            #expect(file.intArray("a_f32") == nil)
            #expect(file.intArray("a_empty") == [])
            #expect(file.string("u8") == nil)
            #expect(throws: InputError(file: "hand.gguf", field: "missing", message: "missing metadata key")) {
                try file.requiredInt("missing")
            }
            #expect(file.tensorNames.count == 12)
            let q4k = try file.tensor("t.q4_k")
            #expect(q4k.shape == [256] && q4k.elementCount == 256 && q4k.byteRange.count == 144)
            let f16 = try file.tensor("t.f16")
            #expect(f16.shape == [16, 2] && f16.rowMajorShape == [2, 16] && f16.rowCount == 2 && f16.rowLength == 16)
            #expect(try file.floats("t.empty").isEmpty)
            for name in file.tensorNames {
                let values = try file.floats(name)
                #expect(values.count == file.tensors[name]!.elementCount)
                let finite = values.allSatisfy { $0.isFinite }
                #expect(finite || name == "t.f32" || name == "t.bf16", "\(name)")
            }
        }
    }

    @Test func knownBlocksDequantiseToKnownValues() throws {
        // F16: 1, -2, 0.5, 65504, smallest subnormal, -0, +inf, largest subnormal.
        let halves: [UInt16] = [0x3C00, 0xC000, 0x3800, 0x7BFF, 0x0001, 0x8000, 0x7C00, 0x03FF]
        // Q8_0: d = 0.5, qs = -128, -1, 0, 1, 127, then 2s.
        let q8 = halfBytes(0x3800) + ([-128, -1, 0, 1, 127] + [Int8](repeating: 2, count: 27)).map { UInt8(bitPattern: $0) }
        // Q4_0: d = 2, byte j = low nibble j % 16, high nibble 15 - j % 16.
        let q4 = halfBytes(0x4000) + (0..<16).map { UInt8($0 | (15 - $0) << 4) }
        // Q4_1: d = 0.25, m = -1, same nibbles.
        let q41 = halfBytes(0x3400) + halfBytes(0xBC00) + (0..<16).map { UInt8($0 | (15 - $0) << 4) }
        // BF16: 1.0 and -3.5.
        let bf = [UInt8]([0x80, 0x3F, 0x60, 0xC0])
        let w = TinyGGUF.build(metadata: [], tensors: [
            .init(name: "h", type: .f16, shape: [8], data: halves.flatMap(halfBytes)),
            .init(name: "q8", type: .q8_0, shape: [32], data: q8),
            .init(name: "q4", type: .q4_0, shape: [32], data: q4),
            .init(name: "q41", type: .q4_1, shape: [32], data: q41),
            .init(name: "bf", type: .bf16, shape: [2], data: bf),
        ])
        let file = try GGUFFile(bytes: w.bytes, path: "known.gguf")
        let h = try file.floats("h")
        let wantH: [Float] = [1, -2, 0.5, 65504, 0x1p-24, -0.0, .infinity, 1023 * 0x1p-24]
        #expect(h.map(\.bitPattern) == wantH.map(\.bitPattern))
        #expect(try file.floats("q8") == [-64, -0.5, 0, 0.5, 63.5] + [Float](repeating: 1, count: 27))
        let lows = (0..<16).map { Float($0 - 8) * 2 }, highs = (0..<16).map { Float(7 - $0) * 2 }
        #expect(try file.floats("q4") == lows + highs)
        #expect(try file.floats("q41") == (0..<16).map { Float($0) * 0.25 - 1 } + (0..<16).map { Float(15 - $0) * 0.25 - 1 })
        #expect(try file.floats("bf") == [1, -3.5])

        var buffer = [Float](repeating: 0, count: 32)
        try buffer.withUnsafeMutableBufferPointer { try file.copyFloats("q8", into: $0) }
        #expect(buffer[0] == -64 && buffer[4] == 63.5)
        var small = [Float](repeating: 0, count: 31)
        #expect(throws: InputError.self) { try small.withUnsafeMutableBufferPointer { try file.copyFloats("q8", into: $0) } }
        #expect(throws: InputError(file: "known.gguf", field: "nope", message: "no such tensor in this GGUF file (5 tensors)")) {
            try file.floats("nope")
        }
    }

    @Test func rowsOfATensor() throws {
        let w = handMadeFile()
        let file = try GGUFFile(bytes: w.bytes, path: "hand.gguf")
        for name in ["t.q8_0", "t.q4_1", "t.f16", "t.f32"] {
            let all = try file.floats(name)
            let info = try file.tensor(name)
            #expect(try file.floats(name, rows: 1..<2) == Array(all[info.rowLength..<(2 * info.rowLength)]))
            #expect(try file.floats(name, rows: 0..<0).isEmpty)
            #expect(throws: InputError.self) { try file.floats(name, rows: 0..<3) }
        }
    }

    @Test func fileOnDiskIsMemoryMapped() throws {
        let w = handMadeFile()
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("rlhub-gguf-\(ProcessInfo.processInfo.processIdentifier).gguf")
        try Data(w.bytes).write(to: url)
        defer { try? FileManager.default.removeItem(at: url) }
        let mapped = try GGUFFile(path: url.path)
        let copied = try GGUFFile(bytes: w.bytes, path: url.path)
        #expect(mapped.fileSize == w.bytes.count)
        #expect(mapped.metadata == copied.metadata && mapped.tensors == copied.tensors)
        #expect(try mapped.floats("t.q6_k") == copied.floats("t.q6_k"))
        let missing = url.path + ".missing"
        #expect(throws: InputError(file: missing, message: "cannot open: No such file or directory")) {
            try GGUFFile(path: missing)
        }
        #expect(throws: InputError.self) { try GGUFFile(path: FileManager.default.temporaryDirectory.path) }
    }

    /// Each malformed input gives an InputError naming the file and an offset or key.
    @Test func malformedInputsAreRejectedWithOffsets() throws {
        let good = handMadeFile().bytes
        func u64(_ v: UInt64) -> [UInt8] { withUnsafeBytes(of: v.littleEndian) { Array($0) } }
        func u32(_ v: UInt32) -> [UInt8] { withUnsafeBytes(of: v.littleEndian) { Array($0) } }
        func header(tensors: UInt64 = 0, kvs: UInt64, version: UInt32 = 3) -> [UInt8] {
            Array("GGUF".utf8) + u32(version) + u64(tensors) + u64(kvs)
        }
        func kv(_ key: String, _ type: UInt32, _ payload: [UInt8]) -> [UInt8] {
            u64(UInt64(key.utf8.count)) + Array(key.utf8) + u32(type) + payload
        }
        let oneTensorInfo = { (dims: [UInt64], type: UInt32, offset: UInt64) -> [UInt8] in
            u64(1) + Array("w".utf8) + u32(UInt32(dims.count)) + dims.flatMap(u64) + u32(type) + u64(offset)
        }
        let cases: [(String, [UInt8], String)] = [
            ("empty", [], "offset 0"),
            ("bad magic", Array("GGML".utf8) + good.dropFirst(4), "magic"),
            ("version 1", header(kvs: 0, version: 1), "version 1"),
            ("big-endian", header(kvs: 0, version: UInt32(3).byteSwapped), "big-endian"),
            ("version 4", header(kvs: 0, version: 4), "version 4"),
            ("truncated header", Array(good.prefix(20)), "metadata count"),
            ("kv count too large", header(kvs: 1 << 40), "metadata count"),
            ("tensor count too large", header(tensors: .max, kvs: 0), "tensor count"),
            ("key length too large", header(kvs: 1) + u64(.max) + [UInt8](repeating: 0, count: 16), "string length"),
            ("string value too long", header(kvs: 1) + kv("k", 8, u64(1 << 50)), "string length"),
            ("array too long", header(kvs: 1) + kv("k", 9, u32(4) + u64(1 << 40)), "array of"),
            ("unknown value type", header(kvs: 1) + kv("k", 13, [0]), "unknown value type"),
            ("unknown element type", header(kvs: 1) + kv("k", 9, u32(99) + u64(1)), "unknown array element type"),
            ("bool 2", header(kvs: 1) + kv("k", 7, [2]), "bool"),
            ("bad UTF-8 key", header(kvs: 1) + u64(2) + [0xC3, 0x28] + u32(0) + [0], "UTF-8"),
            ("duplicate key", header(kvs: 2) + kv("k", 0, [1]) + kv("k", 0, [2]), "duplicate metadata key 'k'"),
            ("deep nesting", header(kvs: 1) + kv("k", 9, (0..<20).flatMap { _ in u32(9) + u64(1) } + u32(0) + u64(0)), "nested"),
            ("alignment not u32", header(kvs: 1) + kv("general.alignment", 10, u64(32)), "general.alignment"),
            ("alignment not power of two", header(kvs: 1) + kv("general.alignment", 4, u32(48)), "general.alignment"),
            ("five dims", header(tensors: 1, kvs: 0) + oneTensorInfo([1, 1, 1, 1, 1], 0, 0), "5 dimensions"),
            ("unknown tensor type", header(tensors: 1, kvs: 0) + oneTensorInfo([4], 77, 0), "unknown ggml type 77"),
            ("row not whole blocks", header(tensors: 1, kvs: 0) + oneTensorInfo([30], 2, 0), "block size"),
            ("too many elements", header(tensors: 1, kvs: 0) + oneTensorInfo([1 << 40, 1 << 40], 0, 0), "too many elements"),
            ("data past end", header(tensors: 1, kvs: 0) + oneTensorInfo([1024], 0, 0) + [UInt8](repeating: 0, count: 64), "past the end"),
            ("misaligned offset", header(tensors: 1, kvs: 0) + oneTensorInfo([1], 0, 4) + [UInt8](repeating: 0, count: 64), "alignment"),
            ("duplicate tensor", header(tensors: 2, kvs: 0) + oneTensorInfo([1], 0, 0) + oneTensorInfo([1], 0, 0), "duplicate tensor 'w'"),
        ]
        for (label, bytes, needle) in cases {
            let error = #expect(throws: InputError.self, "\(label)") { try GGUFFile(bytes: bytes, path: "bad.gguf") }
            if let e = error {
                #expect(e.description.hasPrefix("bad.gguf: ") && e.description.contains(needle)
                    && !e.description.contains("\n") && (e.field.hasPrefix("offset ") || e.field == "general.alignment"),
                    "\(label): \(e)")
            }
        }
        // An unsupported (but known) type parses, and dequantising it names the tensor and type.
        let w = TinyGGUF.build(metadata: [], tensors: [.init(name: "q2", type: .q2_K, shape: [256], data: .init(repeating: 0, count: 84))])
        let file = try GGUFFile(bytes: w.bytes, path: "q2.gguf")
        #expect(file.tensors["q2"]?.type == .q2_K)
        let q2Error = #expect(throws: InputError.self) { try file.floats("q2") }
        #expect(q2Error?.description.hasPrefix("q2.gguf: q2: ") == true && q2Error?.description.contains("Q2_K") == true)
    }

    @Test(.enabled(if: GGUFFixture.realModel != nil, "needs models/SmolLM2-135M-Instruct.Q4_1.gguf or RLHUB_SMOLLM2_GGUF"))
    func realSmolLM2MetadataAndShapes() throws {
        let started = Date()
        let file = try GGUFFile(path: GGUFFixture.realModel!)
        let loadSeconds = Date().timeIntervalSince(started)
        #expect(file.version == 3 && file.alignment == 32 && file.dataOffset == 1_785_664)
        #expect(file.string("general.architecture") == "llama")
        #expect(file.int("llama.block_count") == 30)
        #expect(file.int("llama.embedding_length") == 576)
        #expect(file.int("llama.feed_forward_length") == 1536)
        #expect(file.int("llama.attention.head_count") == 9)
        #expect(file.int("llama.attention.head_count_kv") == 3)
        #expect(file.int("llama.context_length") == 8192)
        #expect(file.int("llama.rope.dimension_count") == 64)
        #expect(file.int("llama.vocab_size") == 49152)
        #expect(file.float("llama.rope.freq_base") == 100_000)
        #expect(file.float("llama.attention.layer_norm_rms_epsilon") == Float(1e-5))
        #expect(file.string("tokenizer.ggml.model") == "gpt2")
        #expect(file.string("tokenizer.ggml.pre") == "smollm")
        #expect(file.int("tokenizer.ggml.bos_token_id") == 1)
        #expect(file.int("tokenizer.ggml.eos_token_id") == 2)
        #expect(file.int("tokenizer.ggml.padding_token_id") == 2)
        #expect(file.int("tokenizer.ggml.unknown_token_id") == 0)
        #expect(file.bool("tokenizer.ggml.add_bos_token") == false)
        #expect(file.string("tokenizer.chat_template")?.hasPrefix("{% for message in messages %}") == true)
        #expect(file.stringArray("tokenizer.ggml.tokens")?.count == 49152)
        #expect(file.stringArray("tokenizer.ggml.tokens")?.prefix(3) == ["<|endoftext|>", "<|im_start|>", "<|im_end|>"])
        #expect(file.stringArray("tokenizer.ggml.merges")?.count == 48900)
        #expect(file.stringArray("tokenizer.ggml.merges")?.first == "Ġ t")
        #expect(file.intArray("tokenizer.ggml.token_type")?.count == 49152)

        var expectedNames = Set(["token_embd.weight", "output_norm.weight"])
        for layer in 0..<30 {
            for suffix in ["attn_norm", "attn_q", "attn_k", "attn_v", "attn_output", "ffn_norm", "ffn_gate", "ffn_up", "ffn_down"] {
                expectedNames.insert("blk.\(layer).\(suffix).weight")
            }
        }
        #expect(file.tensors.count == 272 && Set(file.tensorNames) == expectedNames)
        #expect(try file.tensor("token_embd.weight").shape == [576, 49152])
        #expect(try file.tensor("token_embd.weight").type == .q8_0)
        #expect(try file.tensor("blk.0.attn_k.weight").rowMajorShape == [192, 576])
        #expect(try file.tensor("blk.0.ffn_down.weight").rowMajorShape == [576, 1536])
        #expect(try file.tensor("blk.0.ffn_down.weight").type == .q4_1)
        #expect(try file.tensor("output_norm.weight").type == .f32)

        // Every tensor dequantises to finite values (debug builds: only its first row, to stay fast).
        let dequantStart = Date()
        var total = 0, checked = 0
        for name in file.tensorNames {
            let info = try file.tensor(name)
            total += info.elementCount
            #if DEBUG
            let values = try file.floats(name, rows: 0..<1)
            #else
            let values = try file.floats(name)
            #endif
            checked += values.count
            let finite = values.allSatisfy { $0.isFinite }
            #expect(finite, "\(name)")
        }
        let seconds = Date().timeIntervalSince(dequantStart)
        print("SmolLM2 GGUF: parse \(String(format: "%.3f", loadSeconds)) s, dequantise \(checked) of \(total) values in \(String(format: "%.2f", seconds)) s")
        #expect(total == 134_515_008)
    }

    /// ~3000 seeded mutations of a valid file: parsing and dequantising must succeed or throw an
    /// InputError (typed throws make any other error impossible), never trap.
    @Test func fuzzedFilesNeverCrash() throws {
        let base = handMadeFile()
        var rng = SplitMix64(state: 0x6767_7566)
        let size = UInt64(base.bytes.count)
        let interesting: [UInt64] = [
            0, 1, 2, 3, 4, 5, 7, 8, 9, 12, 13, 16, 31, 32, 33, 63, 64, 255, 256, 1024,
            size - 1, size, size + 1, 0x7FFF_FFFF, 0x8000_0000, 0xFFFF_FFFF, 1 << 32, 1 << 40,
            1 << 62, 1 << 63, .max - 1, .max,
        ]
        var parsed = 0, rejected = 0, dequantised = 0
        let start = Date()
        for iteration in 0..<3000 {
            var bytes = base.bytes
            for _ in 0..<Int.random(in: 1...3, using: &rng) {
                switch Int.random(in: 0..<10, using: &rng) {
                case 0, 1:  // flip a bit
                    let i = Int.random(in: 0..<bytes.count, using: &rng)
                    bytes[i] ^= 1 << UInt8.random(in: 0..<8, using: &rng)
                case 2:  // random byte
                    bytes[Int.random(in: 0..<bytes.count, using: &rng)] = .random(in: 0...255, using: &rng)
                case 3:  // truncate
                    bytes.removeLast(Int.random(in: 1...bytes.count, using: &rng))
                    if bytes.isEmpty { bytes = [0x47] }
                case 4:  // delete or duplicate a small range
                    let i = Int.random(in: 0..<bytes.count, using: &rng)
                    let n = min(Int.random(in: 1...16, using: &rng), bytes.count - i)
                    if Bool.random(using: &rng) { bytes.removeSubrange(i..<(i + n)) } else { bytes.insert(contentsOf: bytes[i..<(i + n)], at: i) }
                    if bytes.isEmpty { bytes = [0x47] }
                default:  // a count, length, type, dimension or offset set to an edge value
                    let field = base.fields.randomElement(using: &rng)!
                    guard field.offset + field.width <= bytes.count else { continue }
                    var v = Bool.random(using: &rng) ? interesting.randomElement(using: &rng)! : rng.next() >> UInt64.random(in: 0..<64, using: &rng)
                    if Int.random(in: 0..<4, using: &rng) == 0 { v = v &+ UInt64.random(in: 0...3, using: &rng) }
                    for k in 0..<field.width { bytes[field.offset + k] = UInt8(truncatingIfNeeded: v >> (8 * UInt64(k))) }
                }
            }
            let path = "fuzz-\(iteration).gguf"
            do {
                let file = try GGUFFile(bytes: bytes, path: path)
                parsed += 1
                for name in file.tensorNames {
                    let info = file.tensors[name]!
                    #expect(info.byteRange.upperBound <= bytes.count && info.byteRange.lowerBound >= file.dataOffset)
                    #expect(info.elementCount <= 64 * bytes.count + 64, "no absurd allocations")
                    do {
                        _ = try file.floats(name)
                        dequantised += 1
                    } catch {
                        #expect(error.description.hasPrefix(path + ": "))
                    }
                }
            } catch {
                rejected += 1
                #expect(error.description.hasPrefix(path + ": ") && !error.description.contains("\n"))
            }
        }
        let seconds = Date().timeIntervalSince(start)
        print("GGUF fuzz: 3000 mutations, \(parsed) parsed (\(dequantised) tensors dequantised), \(rejected) rejected, \(String(format: "%.2f", seconds)) s")
        #expect(parsed > 100 && rejected > 100)
    }
}

// MARK: - Tests against the gguf Python package

@Suite("GGUF vs gguf-py", .enabled(if: !GGUFFixture.skipPython, "RLHUB_SKIP_PYTHON=1"))
struct GGUFReferenceTests {
    @Test func everyTensorTypeMatchesPython() throws {
        let dir = try GGUFFixture.synth.get()
        let json = try GGUFFixture.json(dir.appendingPathComponent("synth.json"))
        let file = try GGUFFile(path: dir.appendingPathComponent("synth.gguf").path)
        #expect(file.alignment == 64 && file.alignment == json["alignment"] as? Int)
        #expect(file.dataOffset == json["data_offset"] as? Int)
        let tensors = json["tensors"] as! [[String: Any]]
        #expect(file.tensorNames == tensors.map { $0["name"] as! String })
        var checkedTypes = Set<String>()
        for t in tensors {
            let name = t["name"] as! String
            let type = t["type"] as! String
            let info = try file.tensor(name)
            #expect(info.type.name == type)
            #expect(info.shape == t["shape"] as? [Int], "\(name)")
            #expect(info.byteRange.lowerBound == t["offset"] as? Int && info.byteRange.count == t["nbytes"] as? Int, "\(name)")
            if GGUFDequantize.isSupported(info.type) {
                let want = try GGUFFixture.floats(dir.appendingPathComponent(t["file"] as! String))
                expectBitwiseEqual(try file.floats(name), want, name)
                checkedTypes.insert(type)
            } else {
                let error = #expect(throws: InputError.self) { try file.floats(name) }
                #expect(error?.description.contains(name) == true && error?.description.contains(type) == true)
            }
        }
        #expect(checkedTypes == Set(GGUFDequantize.supportedTypes.map(\.name)))
    }

    @Test func metadataOfEveryTypeMatchesPython() throws {
        let dir = try GGUFFixture.synth.get()
        let json = try GGUFFixture.json(dir.appendingPathComponent("synth.json"))
        let file = try GGUFFile(path: dir.appendingPathComponent("synth.gguf").path)
        let expected: [String: GGUFValue] = [
            "general.architecture": .string("llama"),
            "general.alignment": .uint32(64),
            "test.uint8": .uint8(200), "test.int8": .int8(-100),
            "test.uint16": .uint16(60000), "test.int16": .int16(-30000),
            "test.uint32": .uint32(4_000_000_000), "test.int32": .int32(-2_000_000_000),
            "test.float32": .float32(0.15625),
            "test.uint64": .uint64(18_000_000_000_000_000_000), "test.int64": .int64(-9_000_000_000_000_000_000),
            "test.float64": .float64(-2.5e-300),
            "test.bool_true": .bool(true), "test.bool_false": .bool(false),
            "test.string": .string("héllo wörld ✓ 🦙"),
            "test.array_str": .array([.string("a"), .string(""), .string("Ġt"), .string("<|im_end|>")]),
            "test.array_int32": .array([.int32(1), .int32(-2), .int32(3)]),
            "test.array_float32": .array([.float32(0.5), .float32(-1.25), .float32(Float(3.0e-5 as Double))]),
            "test.array_bool": .array([.bool(true), .bool(false), .bool(true)]),
            "test.array_uint8": .array([.uint8(0), .uint8(1), .uint8(255)]),
            "test.array_int8": .array([.int8(-128), .int8(0), .int8(127)]),
            "test.array_uint16": .array([.uint16(0), .uint16(65535)]),
            "test.array_int16": .array([.int16(-32768), .int16(32767)]),
            "test.array_uint32": .array([.uint32(0), .uint32(.max)]),
            "test.array_uint64": .array([.uint64(0), .uint64(.max)]),
            "test.array_int64": .array([.int64(.min), .int64(.max)]),
            "test.array_float64": .array([.float64(1e300), .float64(-0.0)]),
            "test.array_nested": .array([.array([.int32(1), .int32(2)]), .array([.int32(3)]), .array([.string("x"), .string("y")])]),
        ]
        #expect(file.version == 3)
        #expect(Set(file.metadataKeys) == Set(expected.keys))
        for (key, value) in expected {
            #expect(file.metadata[key] == value, "\(key): got \(String(describing: file.metadata[key]))")
        }
        if case .array(let a) = file.metadata["test.array_float64"], case .float64(let z) = a[1] {
            #expect(z.sign == .minus)
        }
        // Key order and types as GGUFReader sees them.
        let fields = json["fields"] as! [String: [String]]
        #expect(Set(fields.keys) == Set(file.metadataKeys))
        for key in file.metadataKeys {
            #expect(pythonTypes(file.metadata[key]!) == fields[key], "\(key)")
        }
        #expect(file.int("test.uint64") == nil && file.int("test.int64") == -9_000_000_000_000_000_000)
        #expect(file.float("test.float32") == 0.15625)
        #expect(file.stringArray("test.array_str") == ["a", "", "Ġt", "<|im_end|>"])
        #expect(file.intArray("test.array_uint8") == [0, 1, 255])
        #expect(file.floatArray("test.array_float32") == [0.5, -1.25, Float(3.0e-5 as Double)])
    }

    @Test(.enabled(if: GGUFFixture.realModel != nil, "needs models/SmolLM2-135M-Instruct.Q4_1.gguf or RLHUB_SMOLLM2_GGUF"))
    func realSmolLM2TensorsMatchPython() throws {
        let file = try GGUFFile(path: GGUFFixture.realModel!)
        let dir = try GGUFFixture.real.get()
        defer { try? FileManager.default.removeItem(at: dir) }  // ~10 MB of reference floats
        let json = try GGUFFixture.json(dir.appendingPathComponent("real.json"))
        let tokens = try #require(file.stringArray("tokenizer.ggml.tokens"))
        let merges = try #require(file.stringArray("tokenizer.ggml.merges"))
        let tokenTypes = try #require(file.intArray("tokenizer.ggml.token_type"))
        #expect(tokens.count == json["tokens_count"] as? Int && merges.count == json["merges_count"] as? Int)
        #expect(Array(tokens.prefix(8)) == json["tokens_first"] as? [String])
        #expect(tokens.last == json["tokens_last"] as? String)
        #expect(Array(merges.prefix(8)) == json["merges_first"] as? [String])
        #expect(tokenTypes.reduce(0, +) == json["token_type_sum"] as? Int)
        #expect(file.string("tokenizer.chat_template") == json["chat_template"] as? String)
        #expect(file.metadataKeys == json["kv_keys"] as? [String])
        #expect(file.tensorNames.count == json["tensor_count"] as? Int)
        for (name, entry) in json["tensors"] as! [String: [String: Any]] {
            let info = try file.tensor(name)
            #expect(info.type.name == entry["type"] as? String && info.shape == entry["shape"] as? [Int], "\(name)")
            #expect(info.byteRange.lowerBound == entry["offset"] as? Int, "\(name)")
            let want = try GGUFFixture.floats(dir.appendingPathComponent(name + ".f32"))
            let got = if let rows = entry["rows"] as? Int { try file.floats(name, rows: 0..<rows) } else { try file.floats(name) }
            expectBitwiseEqual(got, want, name)
        }
    }
}
