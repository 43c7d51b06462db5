// rlhub — tests of the safetensors reader and writer: round trip, dtype conversion, one test per
// kind of malformed file, and a seeded fuzz test (mutated files parse or throw, never crash).
import Foundation
import LM
import RLHubCore
import TestSupport
import Testing

// MARK: - Helpers

/// A file built by hand: the 8-byte length (of `header`, unless `declaredLength` lies), the header
/// text, then `data`.
private func rawFile(_ header: String, data: [UInt8] = [], declaredLength: UInt64? = nil)
    -> [UInt8]
{
    let headerBytes = Array(header.utf8)
    let length = declaredLength ?? UInt64(headerBytes.count)
    let prefix = (0..<8).map { UInt8(truncatingIfNeeded: length >> (8 * UInt64($0))) }
    return prefix + headerBytes + data
}

private let testPath = "t.safetensors"

/// The error parsing `bytes` throws, or nil if it parses.
private func parseError(_ bytes: [UInt8]) -> InputError? {
    do {
        _ = try SafetensorsFile(bytes: bytes, path: testPath)
        return nil
    } catch {
        return error
    }
}

/// A fresh empty folder under the system temporary folder.
private func makeTempFolder() throws -> String {
    let folder = NSTemporaryDirectory() + "/rlhub-safetensors-\(UUID().uuidString)"
    try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
    return folder
}

private func littleEndianBytes(_ values: [UInt16]) -> [UInt8] {
    values.flatMap { [UInt8(truncatingIfNeeded: $0), UInt8(truncatingIfNeeded: $0 >> 8)] }
}

private func littleEndianBytes(_ values: [Float]) -> [UInt8] {
    values.flatMap { value in
        (0..<4).map { UInt8(truncatingIfNeeded: value.bitPattern >> (8 * UInt32($0))) }
    }
}

// MARK: - Malformed files

/// One malformed file and where its error must point.
struct SafetensorsMalformedCase: Sendable, CustomTestStringConvertible {
    let label: String
    let bytes: [UInt8]
    let field: String
    let messageContains: String
    var testDescription: String { label }
}

private func entry(_ name: String, _ dtype: String = "F32", shape: String, offsets: String)
    -> String
{
    "\"\(name)\":{\"dtype\":\"\(dtype)\",\"shape\":\(shape),\"data_offsets\":\(offsets)}"
}

private let validHeader = "{" + entry("w", shape: "[2]", offsets: "[0,8]") + "}"
private let trailingHeader = "{" + entry("a", shape: "[1]", offsets: "[0,4]") + "}   "
private let eightBytes = [UInt8](repeating: 0, count: 8)

private let malformedCases: [SafetensorsMalformedCase] = [
    .init(label: "empty file", bytes: [], field: "offset 0", messageContains: "too short"),
    .init(
        label: "7 bytes", bytes: [2, 0, 0, 0, 0, 0, 0], field: "offset 0",
        messageContains: "too short"),
    .init(
        label: "header length past end of file",
        bytes: rawFile(validHeader, data: eightBytes, declaredLength: 1000),
        field: "offset 0", messageContains: "runs past the end of the file"),
    .init(
        label: "header length over 100 MB",
        bytes: rawFile(validHeader, data: eightBytes, declaredLength: 100_000_001),
        field: "offset 0", messageContains: "exceeds the limit"),
    .init(
        label: "header length UInt64.max",
        bytes: rawFile(validHeader, data: eightBytes, declaredLength: .max),
        field: "offset 0", messageContains: "exceeds the limit"),
    .init(
        label: "header length too short cuts the JSON",
        bytes: rawFile(validHeader, data: eightBytes, declaredLength: 20),
        field: "offset 28", messageContains: "ends early"),
    .init(
        label: "unterminated JSON", bytes: rawFile("{\"w\":{\"dtype\":\"F32\""),
        field: "offset 27", messageContains: "ends early"),
    .init(
        label: "garbage after JSON", bytes: rawFile("{} x"), field: "offset 11",
        messageContains: "'x'"),
    .init(
        label: "header not starting with {", bytes: rawFile(" {}"), field: "offset 8",
        messageContains: "start with '{'"),
    .init(
        label: "trailing comma", bytes: rawFile("{\"a\":1,}"), field: "offset 15",
        messageContains: "string key"),
    .init(
        label: "invalid UTF-8 in a key",
        bytes: rawFile("{\"a\u{1}\":1}").enumerated().map { $0.offset == 11 ? 0xFF : $0.element },
        field: "offset 9", messageContains: "UTF-8"),
    .init(
        label: "unpaired surrogate", bytes: rawFile("{\"\\ud800\":1}"), field: "offset 10",
        messageContains: "surrogate"),
    .init(
        label: "control character in string", bytes: rawFile("{\"a\nb\":1}"),
        field: "offset 11", messageContains: "control character"),
    .init(
        label: "nesting too deep",
        bytes: rawFile(
            "{\"w\":" + String(repeating: "[", count: 5000) + String(repeating: "]", count: 5000)
                + "}"),
        field: "offset 76", messageContains: "nested deeper"),
    .init(
        label: "unsupported dtype F64",
        bytes: rawFile(
            "{" + entry("w", "F64", shape: "[1]", offsets: "[0,8]") + "}", data: eightBytes),
        field: "w", messageContains: "unsupported dtype \"F64\""),
    .init(
        label: "unknown dtype",
        bytes: rawFile("{" + entry("w", "Q4", shape: "[1]", offsets: "[0,1]") + "}", data: [0]),
        field: "w", messageContains: "Q4"),
    .init(
        label: "dtype not a string",
        bytes: rawFile(
            "{\"w\":{\"dtype\":4,\"shape\":[1],\"data_offsets\":[0,4]}}", data: [0, 0, 0, 0]),
        field: "w", messageContains: "dtype must be a string"),
    .init(
        label: "missing dtype",
        bytes: rawFile("{\"w\":{\"shape\":[1],\"data_offsets\":[0,4]}}", data: [0, 0, 0, 0]),
        field: "w", messageContains: "missing dtype"),
    .init(
        label: "missing data_offsets",
        bytes: rawFile("{\"w\":{\"dtype\":\"F32\",\"shape\":[1]}}", data: [0, 0, 0, 0]),
        field: "w", messageContains: "missing data_offsets"),
    .init(
        label: "entry not an object", bytes: rawFile("{\"w\":[1,2]}"), field: "w",
        messageContains: "must be an object"),
    .init(
        label: "negative dimension",
        bytes: rawFile("{" + entry("w", shape: "[-2]", offsets: "[0,8]") + "}", data: eightBytes),
        field: "w", messageContains: "non-negative"),
    .init(
        label: "fractional dimension",
        bytes: rawFile("{" + entry("w", shape: "[2.0]", offsets: "[0,8]") + "}", data: eightBytes),
        field: "w", messageContains: "integers"),
    .init(
        label: "dimension too large",
        bytes: rawFile(
            "{" + entry("w", shape: "[99999999999999999999]", offsets: "[0,8]") + "}",
            data: eightBytes),
        field: "w", messageContains: "too large"),
    .init(
        label: "element count overflows",
        bytes: rawFile(
            "{" + entry("w", shape: "[4611686018427387904,4]", offsets: "[0,8]") + "}",
            data: eightBytes),
        field: "w", messageContains: "too many elements"),
    .init(
        label: "byte count overflows",
        bytes: rawFile(
            "{" + entry("w", shape: "[4611686018427387904]", offsets: "[0,8]") + "}",
            data: eightBytes),
        field: "w", messageContains: "too many bytes"),
    .init(
        label: "size does not match shape",
        bytes: rawFile("{" + entry("w", shape: "[2]", offsets: "[0,4]") + "}", data: [0, 0, 0, 0]),
        field: "w", messageContains: "needs 8"),
    .init(
        label: "end before begin",
        bytes: rawFile("{" + entry("w", shape: "[0]", offsets: "[8,0]") + "}", data: eightBytes),
        field: "w", messageContains: "end is before begin"),
    .init(
        label: "three data_offsets",
        bytes: rawFile("{" + entry("w", shape: "[2]", offsets: "[0,8,8]") + "}", data: eightBytes),
        field: "w", messageContains: "two integers"),
    .init(
        label: "offsets past the data section", bytes: rawFile(validHeader, data: [0, 0, 0, 0]),
        field: "w", messageContains: "past the end of the data section"),
    .init(
        label: "overlapping tensors",
        bytes: rawFile(
            "{" + entry("a", shape: "[2]", offsets: "[0,8]") + ","
                + entry("b", shape: "[2]", offsets: "[4,12]") + "}",
            data: eightBytes + [0, 0, 0, 0]),
        field: "b", messageContains: "overlap tensor \"a\""),
    .init(
        label: "hole between tensors",
        bytes: rawFile(
            "{" + entry("a", shape: "[1]", offsets: "[0,4]") + ","
                + entry("b", shape: "[1]", offsets: "[8,12]") + "}",
            data: eightBytes + [0, 0, 0, 0]),
        field: "b", messageContains: "4 bytes belong to no tensor"),
    .init(
        label: "hole at the start",
        bytes: rawFile("{" + entry("a", shape: "[1]", offsets: "[4,8]") + "}", data: eightBytes),
        field: "a", messageContains: "belong to no tensor"),
    .init(
        label: "trailing bytes after the last tensor",
        bytes: rawFile(trailingHeader, data: eightBytes),
        field: "offset \(8 + trailingHeader.utf8.count + 4)",
        messageContains: "4 bytes after the last tensor"),
    .init(
        label: "same tensor twice",
        bytes: rawFile(
            "{" + entry("w", shape: "[1]", offsets: "[0,4]") + ","
                + entry("w", shape: "[1]", offsets: "[4,8]") + "}", data: eightBytes),
        field: "w", messageContains: "appears twice"),
    .init(
        label: "metadata value not a string", bytes: rawFile("{\"__metadata__\":{\"k\":1}}"),
        field: "__metadata__", messageContains: "value of \"k\" must be a string"),
    .init(
        label: "metadata not an object", bytes: rawFile("{\"__metadata__\":\"pt\"}"),
        field: "__metadata__", messageContains: "must be an object"),
]

@Suite struct SafetensorsTests {
    // MARK: - Round trip

    @Test func writeThenReadRoundTrips() throws {
        let folder = try makeTempFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let path = folder + "/model.safetensors"

        let zWeight: [Float] = [1.5, -0.0, .infinity, -.infinity]
        let a: [Float] = [0, 1, 2, 3, 4, .leastNonzeroMagnitude]
        let scalar: [Float] = [.nan]
        let empty: [Float] = []
        let odd: [Float] = [42]
        let metadata = ["format": "pt", "note": "quote \" backslash \\ newline \n tab \t é"]
        try zWeight.withUnsafeBufferPointer { z in
            try a.withUnsafeBufferPointer { a in
                try scalar.withUnsafeBufferPointer { s in
                    try empty.withUnsafeBufferPointer { e in
                        try odd.withUnsafeBufferPointer { o in
                            try SafetensorsWriter.write(
                                [
                                    ("z.weight", [4], z), ("a", [2, 3], a), ("scalar", [], s),
                                    ("empty", [0, 5], e), ("Ünïcode \"name\"", [1, 1], o),
                                ], metadata: metadata, to: path)
                        }
                    }
                }
            }
        }

        let file = try SafetensorsFile(contentsOf: path)
        #expect(file.names == ["a", "empty", "scalar", "z.weight", "Ünïcode \"name\""])
        #expect(file.metadata == metadata)
        #expect(file.tensors["z.weight"]?.byteRange == 0..<16)
        #expect(file.tensors["a"]?.byteRange == 16..<40)
        #expect(file.tensors["scalar"]?.byteRange == 40..<44)
        #expect(file.tensors["empty"]?.byteRange == 44..<44)
        #expect(file.tensors["Ünïcode \"name\""]?.byteRange == 44..<48)
        #expect(file.tensors["a"]?.shape == [2, 3])
        #expect(file.tensors["scalar"]?.shape == [])
        #expect(file.tensors["empty"]?.shape == [0, 5])
        #expect(file.tensors.values.allSatisfy { $0.dtype == .f32 })

        func bits(_ values: [Float]) -> [UInt32] { values.map(\.bitPattern) }
        #expect(bits(try file.floats("z.weight")) == bits(zWeight))
        #expect(bits(try file.floats("a")) == bits(a))
        #expect(bits(try file.floats("scalar")) == bits(scalar))
        #expect(try file.floats("empty").isEmpty)
        #expect(try file.floats("Ünïcode \"name\"") == odd)

        var out = [Float](repeating: 0, count: 6)
        try out.withUnsafeMutableBufferPointer { try file.copyFloats("a", into: $0) }
        #expect(out == a)

        // Layout: header length a multiple of 8, padded with spaces, keys sorted by bytes.
        let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        let headerLength = (0..<8).reduce(0) { $0 | Int(bytes[$1]) << (8 * $1) }
        #expect(headerLength % 8 == 0)
        #expect(file.dataOffset == 8 + headerLength)
        #expect(bytes.count == 8 + headerLength + 48)
        let header = String(decoding: bytes[8..<8 + headerLength], as: UTF8.self)
        #expect(
            header.hasPrefix("{\"__metadata__\":{\"format\":\"pt\",\"note\":\"quote \\\" backslash")
        )
        #expect(
            header.contains(",\"a\":{\"data_offsets\":[16,40],\"dtype\":\"F32\",\"shape\":[2,3]},"))
        // Byte order: "_" (0x5F) sorts before lowercase letters, "Ü" (0xC3 0x9C) after them.
        let keyOrder = [
            "\"__metadata__\":", "\"a\":", "\"empty\":", "\"scalar\":", "\"z.weight\":",
            "\"Ünïcode",
        ]
        let positions = keyOrder.map { header.range(of: $0)?.lowerBound }
        #expect(positions.allSatisfy { $0 != nil })
        #expect(positions.compactMap { $0 } == positions.compactMap { $0 }.sorted())
        #expect(header.trimmingCharacters(in: .init(charactersIn: " ")).hasSuffix("}"))

        // Atomic write: no temporary file is left behind, and rewriting replaces the file.
        #expect(
            try FileManager.default.contentsOfDirectory(atPath: folder) == ["model.safetensors"])
        try [Float(7)].withUnsafeBufferPointer { one in
            try SafetensorsWriter.write([("only", [1], one)], metadata: [:], to: path)
        }
        let rewritten = try SafetensorsFile(contentsOf: path)
        #expect(rewritten.names == ["only"])
        #expect(rewritten.metadata.isEmpty)
        #expect(try rewritten.floats("only") == [7])
        #expect(
            try FileManager.default.contentsOfDirectory(atPath: folder) == ["model.safetensors"])
    }

    @Test func writerRejectsBadTensorsAndLeavesNothingBehind() throws {
        let folder = try makeTempFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let path = folder + "/bad.safetensors"
        let values: [Float] = [1, 2, 3]
        values.withUnsafeBufferPointer { data in
            let wrongCount = #expect(throws: InputError.self) {
                try SafetensorsWriter.write([("w", [2, 2], data)], metadata: [:], to: path)
            }
            #expect(wrongCount?.field == "w")
            let repeated = #expect(throws: InputError.self) {
                try SafetensorsWriter.write(
                    [("w", [3], data), ("w", [3], data)], metadata: [:], to: path)
            }
            #expect(repeated?.field == "w")
            let reserved = #expect(throws: InputError.self) {
                try SafetensorsWriter.write([("__metadata__", [3], data)], metadata: [:], to: path)
            }
            #expect(reserved?.field == "__metadata__")
            #expect(throws: InputError.self) {
                try SafetensorsWriter.write(
                    [("w", [3], data)], metadata: [:], to: folder + "/no/such/x")
            }
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder).isEmpty)
    }

    @Test func readingAMissingFileNamesIt() {
        let error = #expect(throws: InputError.self) {
            _ = try SafetensorsFile(contentsOf: "/nonexistent/rlhub/model.safetensors")
        }
        #expect(error?.file == "/nonexistent/rlhub/model.safetensors")
    }

    // MARK: - Conversion

    @Test func f16AndBF16ConvertKnownValues() throws {
        let f16: [(UInt16, Float)] = [
            (0x0000, 0), (0x3C00, 1), (0xC000, -2), (0x3800, 0.5), (0x3555, 0.333251953125),
            (0x7BFF, 65504), (0xFBFF, -65504), (0x0400, 0x1p-14),  // smallest normal
            (0x0001, 0x1p-24), (0x03FF, 1023 * 0x1p-24), (0x8001, -0x1p-24),  // subnormals
            (0x7C00, .infinity), (0xFC00, -.infinity),
        ]
        let bf16: [(UInt16, Float)] = [
            (0x0000, 0), (0x3F80, 1), (0xC049, -3.140625), (0x4780, 65536), (0x7F7F, 0x1.FEp127),
            (0x0001, Float(bitPattern: 0x0001_0000)), (0x7F80, .infinity), (0xFF80, -.infinity),
        ]
        let specials: [UInt16] = [0x8000, 0x7E00, 0xFE01]  // -0, NaN, -NaN with payload
        let f16Bits = f16.map(\.0) + specials
        let bf16Bits = bf16.map(\.0) + [0x8000, 0x7FC0, 0xFFC1]
        let f16Bytes = f16Bits.count * 2
        let bf16Bytes = bf16Bits.count * 2
        let header = """
            {"h":{"dtype":"F16","shape":[\(f16Bits.count)],"data_offsets":[0,\(f16Bytes)]},\
            "b":{"dtype":"BF16","shape":[\(bf16Bits.count)],"data_offsets":[\(f16Bytes),\(f16Bytes + bf16Bytes)]}}
            """
        let file = try SafetensorsFile(
            bytes: rawFile(header, data: littleEndianBytes(f16Bits) + littleEndianBytes(bf16Bits)),
            path: testPath)

        let halves = try file.floats("h")
        for (i, (_, expected)) in f16.enumerated() { #expect(halves[i] == expected) }
        let negativeZero = halves[f16.count]
        #expect(negativeZero == 0 && negativeZero.sign == .minus)
        #expect(halves[f16.count + 1].isNaN && halves[f16.count + 1].sign == .plus)
        #expect(halves[f16.count + 2].bitPattern == 0xFFC0_2000)  // sign, quiet bit and payload kept

        let brains = try file.floats("b")
        for (i, (_, expected)) in bf16.enumerated() { #expect(brains[i] == expected) }
        #expect(brains[bf16.count].bitPattern == 0x8000_0000)
        #expect(brains[bf16.count + 1].bitPattern == 0x7FC0_0000)
        #expect(brains[bf16.count + 2].bitPattern == 0xFFC1_0000)
    }

    #if !(os(macOS) && arch(x86_64))
        @Test func f16ConversionMatchesFloat16ForAllBitPatterns() throws {
            let all = (0...UInt16.max).map { $0 }
            let header =
                "{\"all\":{\"dtype\":\"F16\",\"shape\":[65536],\"data_offsets\":[0,131072]}}"
            let file = try SafetensorsFile(
                bytes: rawFile(header, data: littleEndianBytes(all)), path: testPath)
            let converted = try file.floats("all")
            var mismatches = 0
            for bits in all {
                let expected = Float(Float16(bitPattern: bits))
                let got = converted[Int(bits)]
                let same =
                    expected.isNaN
                    ? got.isNaN && got.sign == expected.sign : got.bitPattern == expected.bitPattern
                if !same { mismatches += 1 }
            }
            #expect(mismatches == 0)
        }
    #endif

    // MARK: - Valid edge cases

    @Test func acceptsEmptyPaddedAndUnusualButValidHeaders() throws {
        let empty = try SafetensorsFile(bytes: rawFile("{}"), path: testPath)
        #expect(empty.names.isEmpty && empty.metadata.isEmpty)
        let padded = try SafetensorsFile(bytes: rawFile("{}      "), path: testPath)
        #expect(padded.names.isEmpty)

        // Unknown keys inside an entry are ignored; escapes in names are decoded; zero-size tensors
        // may share an offset with the next tensor.
        let header = """
            { "__metadata__" : { "k" : "v\\u00e9" },
              "e\\u0301\\n" : {"shape": [0], "dtype": "BF16", "data_offsets": [0, 0], "extra": [1, {"x": null}]},
              "\\ud83d\\ude00": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]} }\t\r\n
            """
        let file = try SafetensorsFile(
            bytes: rawFile(header, data: littleEndianBytes([Float(3)])),
            path: testPath)
        #expect(file.metadata == ["k": "vé"])
        #expect(Set(file.names) == ["e\u{301}\n", "😀"])
        #expect(try file.floats("😀") == [3])
        #expect(try file.floats("e\u{301}\n") == [])
    }

    @Test func lookupErrorsNameTheTensor() throws {
        let file = try SafetensorsFile(
            bytes: rawFile(
                "{\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}",
                data: littleEndianBytes([Float(1), 2])),
            path: testPath)
        let missing = #expect(throws: InputError.self) { _ = try file.floats("v") }
        #expect(missing?.field == "v")
        var three = [Float](repeating: 0, count: 3)
        let wrongCount = #expect(throws: InputError.self) {
            try three.withUnsafeMutableBufferPointer { try file.copyFloats("w", into: $0) }
        }
        #expect(wrongCount?.field == "w")
        #expect(wrongCount?.description.hasPrefix("t.safetensors: w: destination holds 3") == true)
    }

    @Test(arguments: malformedCases)
    func malformedFileThrowsInputErrorNamingTheProblem(_ testCase: SafetensorsMalformedCase) {
        let error = parseError(testCase.bytes)
        #expect(error != nil, "parsed, but should have failed")
        guard let error else { return }
        #expect(error.file == testPath)
        #expect(error.field == testCase.field, "\(error)")
        #expect(error.message.contains(testCase.messageContains), "\(error)")
        #expect(!error.description.contains("\n"))
    }

    @Test func truncatedDataNamesTheLastTensor() throws {
        let header =
            "{" + entry("a", shape: "[1]", offsets: "[0,4]") + ","
            + entry("b", shape: "[1]", offsets: "[4,8]") + "}"
        let whole = rawFile(header, data: eightBytes)
        #expect(parseError(whole) == nil)
        let error = parseError(Array(whole.dropLast(3)))
        #expect(error?.field == "b")
        #expect(
            error?.description.hasPrefix("t.safetensors: b: data_offsets [4, 8] run past") == true)
    }

    // MARK: - Fuzz

    @Test func mutatedFilesParseOrThrowNeverCrash() {
        let header =
            "{\"__metadata__\":{\"format\":\"pt\"},"
            + entry("a", shape: "[2,2]", offsets: "[0,16]") + ","
            + entry("b", "F16", shape: "[3]", offsets: "[16,22]") + ","
            + entry("c", "BF16", shape: "[1]", offsets: "[22,24]") + "}"
        let original = rawFile(header, data: (0..<24).map { UInt8($0 * 7) })
        #expect(parseError(original) == nil)
        let headerEnd = 8 + header.utf8.count
        let interesting = Array("{}[],:\"0123456789-.eE \\uF".utf8) + [0, 0xFF, 0x7F, 0xC3]

        var rng = SplitMix64(state: 0x5EED_CAFE)
        var parsed = 0
        var rejected = 0
        var badErrors = 0
        for _ in 0..<3000 {
            var bytes = original
            for _ in 0..<(1 + rng.below(3)) where !bytes.isEmpty {
                switch rng.below(7) {
                case 0:  // flip a bit anywhere
                    let i = rng.below(bytes.count)
                    bytes[i] ^= UInt8(1) << UInt8(rng.below(8))
                case 1:  // a JSON-significant byte somewhere in the header
                    let i = min(rng.below(headerEnd), bytes.count - 1)
                    bytes[i] = interesting[rng.below(interesting.count)]
                case 2:  // truncate
                    bytes.removeLast(1 + rng.below(bytes.count))
                case 3:  // nudge the header length
                    let delta = rng.below(33) - 16
                    bytes[0] = UInt8(truncatingIfNeeded: Int(bytes[0]) + delta)
                case 4:  // replace one byte of the header length with anything
                    bytes[rng.below(min(8, bytes.count))] = UInt8(truncatingIfNeeded: rng.next())
                case 5:  // delete a few header bytes
                    let i = min(8 + rng.below(max(1, headerEnd - 8)), bytes.count - 1)
                    bytes.removeSubrange(i..<min(bytes.count, i + 1 + rng.below(4)))
                default:  // insert a few bytes into the header
                    let i = min(8 + rng.below(max(1, headerEnd - 8)), bytes.count)
                    let insert = (0..<(1 + rng.below(4))).map { _ in
                        interesting[rng.below(interesting.count)]
                    }
                    bytes.insert(contentsOf: insert, at: i)
                }
            }
            do {
                let file = try SafetensorsFile(bytes: bytes, path: testPath)
                for name in file.names {
                    let values = try file.floats(name)
                    if values.count != file.tensors[name]?.elementCount { badErrors += 1 }
                }
                parsed += 1
            } catch {
                rejected += 1
                if error.file != testPath || error.description.contains("\n") { badErrors += 1 }
            }
        }
        #expect(parsed + rejected == 3000)
        #expect(parsed >= 20)  // mostly bit flips in the data section
        #expect(rejected > 1000)
        #expect(badErrors == 0)
    }
}
