// rlhub — GGUF (llama.cpp model file) reader: header, metadata, tensor infos; memory-mapped, bounds-checked.
//
// Layout (little-endian, versions 2 and 3 are identical on disk):
//   "GGUF" | u32 version | u64 tensor_count | u64 kv_count
//   kv_count × (string key | u32 value_type | value)
//   tensor_count × (string name | u32 n_dims | n_dims × u64 ne | u32 ggml_type | u64 offset)
//   padding to `general.alignment` (default 32) | tensor data (offsets are relative to here)
// A string is u64 byte length + UTF-8 bytes; an array is u32 element type + u64 count + elements.
import Foundation
import RLHubCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

// MARK: - Values

/// One metadata value of a GGUF file, with the exact on-disk type.
public enum GGUFValue: Sendable, Equatable {
    case uint8(UInt8)
    case int8(Int8)
    case uint16(UInt16)
    case int16(Int16)
    case uint32(UInt32)
    case int32(Int32)
    case float32(Float)
    case bool(Bool)
    case string(String)
    case array([GGUFValue])
    case uint64(UInt64)
    case int64(Int64)
    case float64(Double)

    /// The GGUF type name (`uint32`, `string`, `array`, …), for messages.
    public var typeName: String {
        switch self {
        case .uint8: "uint8"
        case .int8: "int8"
        case .uint16: "uint16"
        case .int16: "int16"
        case .uint32: "uint32"
        case .int32: "int32"
        case .float32: "float32"
        case .bool: "bool"
        case .string: "string"
        case .array: "array"
        case .uint64: "uint64"
        case .int64: "int64"
        case .float64: "float64"
        }
    }

    /// Any integer type whose value fits in `Int` (not bool, not float).
    public var intValue: Int? {
        switch self {
        case .uint8(let v): Int(v)
        case .int8(let v): Int(v)
        case .uint16(let v): Int(v)
        case .int16(let v): Int(v)
        case .uint32(let v): Int(v)
        case .int32(let v): Int(v)
        case .uint64(let v): Int(exactly: v)
        case .int64(let v): Int(v)
        default: nil
        }
    }

    /// float32 exactly; float64 rounded to Float; integers converted.
    public var floatValue: Float? {
        switch self {
        case .float32(let v): v
        case .float64(let v): Float(v)
        default: intValue.map { Float($0) }
        }
    }

    /// float32/float64 exactly; integers converted.
    public var doubleValue: Double? {
        switch self {
        case .float32(let v): Double(v)
        case .float64(let v): v
        default: intValue.map { Double($0) }
        }
    }

    public var boolValue: Bool? {
        if case .bool(let v) = self { return v }
        return nil
    }

    public var stringValue: String? {
        if case .string(let v) = self { return v }
        return nil
    }

    public var arrayValue: [GGUFValue]? {
        if case .array(let v) = self { return v }
        return nil
    }
}

// MARK: - Tensor types

/// A ggml tensor element type (`ggml_type`). Unknown raw values are rejected when a file is parsed.
public struct GGMLType: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public let rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }

    public static let f32 = GGMLType(rawValue: 0)
    public static let f16 = GGMLType(rawValue: 1)
    public static let q4_0 = GGMLType(rawValue: 2)
    public static let q4_1 = GGMLType(rawValue: 3)
    public static let q5_0 = GGMLType(rawValue: 6)
    public static let q5_1 = GGMLType(rawValue: 7)
    public static let q8_0 = GGMLType(rawValue: 8)
    public static let q8_1 = GGMLType(rawValue: 9)
    public static let q2_K = GGMLType(rawValue: 10)
    public static let q3_K = GGMLType(rawValue: 11)
    public static let q4_K = GGMLType(rawValue: 12)
    public static let q5_K = GGMLType(rawValue: 13)
    public static let q6_K = GGMLType(rawValue: 14)
    public static let q8_K = GGMLType(rawValue: 15)
    public static let bf16 = GGMLType(rawValue: 30)

    /// (name, elements per block, bytes per block) for every type ggml defines, indexed by raw value.
    /// Sizes as in ggml's `type_traits` (QK_K = 256).
    static let table: [UInt32: (name: String, blockSize: Int, typeSize: Int)] = [
        0: ("F32", 1, 4), 1: ("F16", 1, 2),
        2: ("Q4_0", 32, 18), 3: ("Q4_1", 32, 20),
        6: ("Q5_0", 32, 22), 7: ("Q5_1", 32, 24),
        8: ("Q8_0", 32, 34), 9: ("Q8_1", 32, 36),
        10: ("Q2_K", 256, 84), 11: ("Q3_K", 256, 110), 12: ("Q4_K", 256, 144),
        13: ("Q5_K", 256, 176), 14: ("Q6_K", 256, 210), 15: ("Q8_K", 256, 292),
        16: ("IQ2_XXS", 256, 66), 17: ("IQ2_XS", 256, 74), 18: ("IQ3_XXS", 256, 98),
        19: ("IQ1_S", 256, 50), 20: ("IQ4_NL", 32, 18), 21: ("IQ3_S", 256, 110),
        22: ("IQ2_S", 256, 82), 23: ("IQ4_XS", 256, 136),
        24: ("I8", 1, 1), 25: ("I16", 1, 2), 26: ("I32", 1, 4), 27: ("I64", 1, 8),
        28: ("F64", 1, 8), 29: ("IQ1_M", 256, 56), 30: ("BF16", 1, 2),
        34: ("TQ1_0", 256, 54), 35: ("TQ2_0", 256, 66), 39: ("MXFP4", 32, 17),
        40: ("NVFP4", 64, 36), 41: ("Q1_0", 128, 18),
    ]

    /// `true` when ggml defines this raw value (so its block size is known).
    public var isKnown: Bool { Self.table[rawValue] != nil }
    /// ggml's name (`Q4_K`, `F16`, …) or `type N` when unknown.
    public var name: String { Self.table[rawValue]?.name ?? "type \(rawValue)" }
    /// Elements per block (1 for plain types); 0 when unknown.
    public var blockSize: Int { Self.table[rawValue]?.blockSize ?? 0 }
    /// Bytes per block; 0 when unknown.
    public var typeSize: Int { Self.table[rawValue]?.typeSize ?? 0 }
    public var description: String { name }
}

// MARK: - Tensor info

/// Where one tensor lives in a GGUF file and how it is shaped.
public struct GGUFTensorInfo: Sendable, Equatable {
    public let name: String
    public let type: GGMLType
    /// Dimensions in GGUF order: `shape[0]` (ne0) is the contiguous one. Reverse it for row-major
    /// (PyTorch/HF) order: ne = [576, 1536] is a 1536×576 matrix, `[out, in]`.
    public let shape: [Int]
    /// Product of `shape` (1 for a 0-dimensional tensor).
    public let elementCount: Int
    /// Absolute byte range of the tensor's data in the file.
    public let byteRange: Range<Int>

    /// Elements per row (ne0).
    public var rowLength: Int { shape.first ?? 1 }
    /// Number of rows (product of ne1, ne2, ne3).
    public var rowCount: Int { shape.dropFirst().reduce(1, *) }
    /// `shape` reversed: the row-major (PyTorch/HF) shape.
    public var rowMajorShape: [Int] { shape.reversed() }
}

// MARK: - The file

/// A parsed GGUF file (versions 2 and 3, little-endian). The file is memory-mapped; tensors are
/// dequantised on demand with ``floats(_:)`` or ``copyFloats(_:into:)``. Every parse problem is an
/// ``InputError`` naming the file and the byte offset (or key / tensor name). The file must not be
/// truncated by another process while mapped (reads would fault, as with any mmap reader).
/// Assumes a little-endian host (x86_64, arm64).
///
/// ```swift
/// let gguf = try GGUFFile(path: "SmolLM2-135M-Instruct.Q4_1.gguf")
/// let layers = gguf.int("llama.block_count")               // 30
/// let wq = try gguf.floats("blk.0.attn_q.weight")           // 576×576 row-major, [out, in]
/// ```
public struct GGUFFile: Sendable {
    /// The path given to the initialiser (used in every error message).
    public let path: String
    /// 2 or 3.
    public let version: UInt32
    /// All metadata key/values.
    public let metadata: [String: GGUFValue]
    /// Metadata keys in file order.
    public let metadataKeys: [String]
    /// All tensors by name.
    public let tensors: [String: GGUFTensorInfo]
    /// Tensor names in file order.
    public let tensorNames: [String]
    /// Data alignment (`general.alignment`, default 32).
    public let alignment: Int
    /// Absolute offset of the tensor data section.
    public let dataOffset: Int
    /// Size of the file in bytes.
    public var fileSize: Int { storage.count }

    let storage: GGUFStorage

    /// Opens and parses `path` (memory-mapped; nothing is dequantised yet).
    public init(path: String) throws(InputError) {
        try self.init(storage: GGUFStorage(path: path), path: path)
    }

    /// Parses a GGUF file held in memory (tests, fuzzing); `path` is only used in messages.
    public init(bytes: [UInt8], path: String) throws(InputError) {
        try self.init(storage: GGUFStorage(copying: bytes), path: path)
    }

    init(storage: GGUFStorage, path: String) throws(InputError) {
        self.storage = storage
        self.path = path
        var c = GGUFCursor(base: storage.base, count: storage.count, path: path)

        // Header.
        guard storage.count >= 4 else {
            throw InputError(file: path, offset: 0, message: "not a GGUF file: only \(storage.count) bytes")
        }
        let magic = (0..<4).map { storage.base.load(fromByteOffset: $0, as: UInt8.self) }
        guard magic == [0x47, 0x47, 0x55, 0x46] else {
            let hex = magic.map { String($0, radix: 16) }.joined(separator: " ")
            throw InputError(file: path, offset: 0, message: "not a GGUF file: magic is \(hex), expected 47 47 55 46 (\"GGUF\")")
        }
        c.pos = 4
        let version = try c.u32("version")
        guard version == 2 || version == 3 else {
            if version.byteSwapped == 2 || version.byteSwapped == 3 {
                throw InputError(file: path, offset: 4, message: "big-endian GGUF files are not supported")
            }
            if version == 1 {
                throw InputError(file: path, offset: 4, message: "GGUF version 1 is not supported; re-convert the model with a current llama.cpp")
            }
            throw InputError(file: path, offset: 4, message: "unsupported GGUF version \(version) (supported: 2, 3)")
        }
        self.version = version
        let tensorCountAt = c.pos
        let tensorCount64 = try c.u64("tensor count")
        let kvCountAt = c.pos
        let kvCount64 = try c.u64("metadata count")
        // Smallest encodings: a key/value is 8 (key length) + 4 (type) + 1 (uint8) bytes; a tensor
        // info is 8 (name length) + 4 (n_dims) + 4 (type) + 8 (offset) bytes.
        guard kvCount64 <= UInt64(c.remaining / 13) else {
            throw InputError(file: path, offset: kvCountAt, message: "metadata count \(kvCount64) cannot fit in the \(c.remaining) bytes that follow")
        }
        guard tensorCount64 <= UInt64(c.remaining / 24) else {
            throw InputError(file: path, offset: tensorCountAt, message: "tensor count \(tensorCount64) cannot fit in the \(c.remaining) bytes that follow")
        }

        // Metadata.
        var metadata: [String: GGUFValue] = [:]
        var keys: [String] = []
        metadata.reserveCapacity(Int(kvCount64))
        keys.reserveCapacity(Int(kvCount64))
        for _ in 0..<Int(kvCount64) {
            let keyAt = c.pos
            let key = try c.string("metadata key")
            let typeAt = c.pos
            let type = try c.u32("type of key '\(key)'")
            guard metadata[key] == nil else {
                throw InputError(file: path, offset: keyAt, message: "duplicate metadata key '\(key)'")
            }
            let value = try c.value(type: type, typeAt: typeAt, key: key, depth: 0)
            metadata[key] = value
            keys.append(key)
        }

        // Tensor infos (sizes are checked once the alignment is known).
        struct RawInfo { var name: String; var at: Int; var dims: [UInt64]; var type: GGMLType; var offset: UInt64; var offsetAt: Int }
        var raw: [RawInfo] = []
        raw.reserveCapacity(Int(tensorCount64))
        var seen = Set<String>()
        for _ in 0..<Int(tensorCount64) {
            let at = c.pos
            let name = try c.string("tensor name")
            guard seen.insert(name).inserted else {
                throw InputError(file: path, offset: at, message: "duplicate tensor '\(name)'")
            }
            let nDimsAt = c.pos
            let nDims = try c.u32("n_dims of tensor '\(name)'")
            guard nDims <= 4 else {
                throw InputError(file: path, offset: nDimsAt, message: "tensor '\(name)' has \(nDims) dimensions (at most 4)")
            }
            var dims: [UInt64] = []
            for d in 0..<Int(nDims) { dims.append(try c.u64("dimension \(d) of tensor '\(name)'")) }
            let typeAt = c.pos
            let type = GGMLType(rawValue: try c.u32("type of tensor '\(name)'"))
            guard type.isKnown else {
                throw InputError(file: path, offset: typeAt, message: "tensor '\(name)' has unknown ggml type \(type.rawValue)")
            }
            let offsetAt = c.pos
            let offset = try c.u64("data offset of tensor '\(name)'")
            raw.append(RawInfo(name: name, at: at, dims: dims, type: type, offset: offset, offsetAt: offsetAt))
        }

        // Alignment and data section.
        var alignment = 32
        if let a = metadata["general.alignment"] {
            guard case .uint32(let v) = a, v != 0, v & (v - 1) == 0 else {
                throw InputError(file: path, field: "general.alignment", message: "must be a uint32 power of two, got \(a.typeName) \(a)")
            }
            alignment = Int(v)
        }
        let infosEnd = c.pos
        let dataOffset = (infosEnd + alignment - 1) / alignment * alignment  // infosEnd ≤ file size; no overflow
        self.alignment = alignment
        self.dataOffset = dataOffset

        var tensors: [String: GGUFTensorInfo] = [:]
        tensors.reserveCapacity(raw.count)
        var names: [String] = []
        names.reserveCapacity(raw.count)
        let fileSize = storage.count
        for r in raw {
            func bad(_ message: String, at: Int? = nil) -> InputError {
                InputError(file: path, offset: at ?? r.at, message: "tensor '\(r.name)': \(message)")
            }
            var shape: [Int] = []
            var product = 1  // of the non-zero dimensions: bounds rows × row length even for empty tensors
            var hasZero = false
            for d in r.dims {
                guard let n = Int(exactly: d) else { throw bad("dimension \(d) is too large") }
                shape.append(n)
                if n == 0 { hasZero = true; continue }
                let (p, overflow) = product.multipliedReportingOverflow(by: n)
                guard !overflow else { throw bad("shape \(r.dims) has too many elements") }
                product = p
            }
            let elements = hasZero ? 0 : product
            let blockSize = r.type.blockSize, typeSize = r.type.typeSize
            let rowLength = shape.first ?? 1
            guard rowLength % blockSize == 0 else {
                throw bad("row length \(rowLength) is not a multiple of the \(r.type.name) block size \(blockSize)")
            }
            let (byteCount, overflow) = (elements / blockSize).multipliedReportingOverflow(by: typeSize)
            guard !overflow else {
                throw bad("\(elements) elements of \(r.type.name) need more bytes than any file can hold")
            }
            guard r.offset % UInt64(alignment) == 0 else {
                throw bad("data offset \(r.offset) is not a multiple of the alignment \(alignment)", at: r.offsetAt)
            }
            // Each term is ≤ fileSize before adding, so the sum cannot overflow.
            guard r.offset <= UInt64(fileSize), byteCount <= fileSize,
                dataOffset + Int(r.offset) + byteCount <= fileSize
            else {
                throw bad("data (\(byteCount) bytes at data section offset \(r.offset), absolute \(UInt64(dataOffset) &+ r.offset)) extends past the end of the \(fileSize)-byte file", at: r.offsetAt)
            }
            let start = dataOffset + Int(r.offset)
            tensors[r.name] = GGUFTensorInfo(
                name: r.name, type: r.type, shape: shape, elementCount: elements,
                byteRange: start..<(start + byteCount))
            names.append(r.name)
        }
        self.metadata = metadata
        self.metadataKeys = keys
        self.tensors = tensors
        self.tensorNames = names
    }

    // MARK: Metadata accessors (nil when missing or of another type)

    public func string(_ key: String) -> String? { metadata[key]?.stringValue }
    /// Any integer type that fits in `Int`.
    public func int(_ key: String) -> Int? { metadata[key]?.intValue }
    /// float32 (exact), float64 (rounded) or an integer.
    public func float(_ key: String) -> Float? { metadata[key]?.floatValue }
    public func double(_ key: String) -> Double? { metadata[key]?.doubleValue }
    public func bool(_ key: String) -> Bool? { metadata[key]?.boolValue }
    /// An array whose elements are all strings.
    public func stringArray(_ key: String) -> [String]? {
        guard let a = metadata[key]?.arrayValue else { return nil }
        var out: [String] = []
        out.reserveCapacity(a.count)
        for v in a {
            guard case .string(let s) = v else { return nil }
            out.append(s)
        }
        return out
    }
    /// An array whose elements are all integers that fit in `Int`.
    public func intArray(_ key: String) -> [Int]? {
        guard let a = metadata[key]?.arrayValue else { return nil }
        var out: [Int] = []
        out.reserveCapacity(a.count)
        for v in a {
            guard let i = v.intValue else { return nil }
            out.append(i)
        }
        return out
    }
    /// An array whose elements are all numbers (floats, or integers converted).
    public func floatArray(_ key: String) -> [Float]? {
        guard let a = metadata[key]?.arrayValue else { return nil }
        var out: [Float] = []
        out.reserveCapacity(a.count)
        for v in a {
            guard let f = v.floatValue else { return nil }
            out.append(f)
        }
        return out
    }

    /// Like ``int(_:)`` but throws an error naming the file and key when missing or not an integer.
    public func requiredInt(_ key: String) throws(InputError) -> Int {
        guard let v = metadata[key] else { throw InputError(file: path, field: key, message: "missing metadata key") }
        guard let i = v.intValue else { throw InputError(file: path, field: key, message: "expected an integer, got \(v.typeName)") }
        return i
    }

    /// Like ``float(_:)`` but throws an error naming the file and key when missing or not a number.
    public func requiredFloat(_ key: String) throws(InputError) -> Float {
        guard let v = metadata[key] else { throw InputError(file: path, field: key, message: "missing metadata key") }
        guard let f = v.floatValue else { throw InputError(file: path, field: key, message: "expected a number, got \(v.typeName)") }
        return f
    }

    /// Like ``string(_:)`` but throws an error naming the file and key when missing or not a string.
    public func requiredString(_ key: String) throws(InputError) -> String {
        guard let v = metadata[key] else { throw InputError(file: path, field: key, message: "missing metadata key") }
        guard let s = v.stringValue else { throw InputError(file: path, field: key, message: "expected a string, got \(v.typeName)") }
        return s
    }

    // MARK: Tensors

    /// The info of tensor `name`, or an error naming it.
    public func tensor(_ name: String) throws(InputError) -> GGUFTensorInfo {
        guard let info = tensors[name] else {
            throw InputError(file: path, field: name, message: "no such tensor in this GGUF file (\(tensors.count) tensors)")
        }
        return info
    }

    /// Tensor `name` dequantised to Float32, row-major with ne0 contiguous: ne = [576, 1536] gives a
    /// 1536×576 matrix (HF's `[out, in]`).
    public func floats(_ name: String) throws(InputError) -> [Float] {
        let info = try tensor(name)
        try checkDequantizable(info)
        guard info.elementCount > 0 else { return [] }
        return [Float](unsafeUninitializedCapacity: info.elementCount) { buffer, initialized in
            GGUFDequantize.run(
                info.type, source: storage.base + info.byteRange.lowerBound,
                blocks: info.elementCount / info.type.blockSize, into: buffer.baseAddress!)
            initialized = info.elementCount
        }
    }

    /// Rows `rows` (indices into the ``GGUFTensorInfo/rowCount`` rows of ne0 elements) of tensor
    /// `name`, dequantised: e.g. a few token embeddings without dequantising the whole table.
    public func floats(_ name: String, rows: Range<Int>) throws(InputError) -> [Float] {
        let info = try tensor(name)
        try checkDequantizable(info)
        guard rows.lowerBound >= 0, rows.upperBound <= info.rowCount else {
            throw InputError(file: path, field: name, message: "rows \(rows) out of range 0..<\(info.rowCount)")
        }
        let perRow = info.rowLength
        let count = rows.count * perRow
        guard count > 0 else { return [] }
        let rowBytes = perRow / info.type.blockSize * info.type.typeSize
        return [Float](unsafeUninitializedCapacity: count) { buffer, initialized in
            GGUFDequantize.run(
                info.type, source: storage.base + info.byteRange.lowerBound + rows.lowerBound * rowBytes,
                blocks: count / info.type.blockSize, into: buffer.baseAddress!)
            initialized = count
        }
    }

    /// Dequantises tensor `name` into `buffer`, which must hold exactly its element count.
    public func copyFloats(_ name: String, into buffer: UnsafeMutableBufferPointer<Float>) throws(InputError) {
        let info = try tensor(name)
        try checkDequantizable(info)
        guard buffer.count == info.elementCount else {
            throw InputError(file: path, field: name, message: "destination holds \(buffer.count) floats, tensor has \(info.elementCount) (shape \(info.shape))")
        }
        guard let out = buffer.baseAddress, info.elementCount > 0 else { return }
        GGUFDequantize.run(
            info.type, source: storage.base + info.byteRange.lowerBound,
            blocks: info.elementCount / info.type.blockSize, into: out)
    }

    private func checkDequantizable(_ info: GGUFTensorInfo) throws(InputError) {
        guard GGUFDequantize.isSupported(info.type) else {
            let names = GGUFDequantize.supportedTypes.map(\.name).joined(separator: ", ")
            throw InputError(file: path, field: info.name, message: "cannot dequantise ggml type \(info.type.name) (supported: \(names))")
        }
    }
}

// MARK: - Storage

/// The bytes of a GGUF file: a read-only memory map (or a private copy for ``GGUFFile/init(bytes:path:)``).
///
/// `@unchecked Sendable`: the memory is mapped `PROT_READ` (or copied once in `init`) and never
/// written afterwards, so any number of threads may read it; it is unmapped in `deinit`.
final class GGUFStorage: @unchecked Sendable {
    let base: UnsafeRawPointer
    let count: Int
    private let isMapped: Bool

    init(path: String) throws(InputError) {
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else {
            throw InputError(file: path, message: "cannot open: \(String(cString: strerror(errno)))")
        }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0 else {
            throw InputError(file: path, message: "cannot stat: \(String(cString: strerror(errno)))")
        }
        guard (st.st_mode & S_IFMT) == S_IFREG else {
            throw InputError(file: path, message: "not a regular file")
        }
        let size = Int(st.st_size)
        if size == 0 {
            base = UnsafeRawPointer(UnsafeMutableRawPointer.allocate(byteCount: 1, alignment: 16))
            count = 0
            isMapped = false
            return
        }
        guard let p = mmap(nil, size, PROT_READ, MAP_PRIVATE, fd, 0), p != MAP_FAILED else {
            throw InputError(file: path, message: "cannot memory-map \(size) bytes: \(String(cString: strerror(errno)))")
        }
        base = UnsafeRawPointer(p)
        count = size
        isMapped = true
    }

    init(copying bytes: [UInt8]) {
        let p = UnsafeMutableRawPointer.allocate(byteCount: max(bytes.count, 1), alignment: 64)
        bytes.withUnsafeBytes { src in
            if let s = src.baseAddress { p.copyMemory(from: s, byteCount: src.count) }
        }
        base = UnsafeRawPointer(p)
        count = bytes.count
        isMapped = false
    }

    deinit {
        if isMapped {
            munmap(UnsafeMutableRawPointer(mutating: base), count)
        } else {
            UnsafeMutableRawPointer(mutating: base).deallocate()
        }
    }
}

// MARK: - Cursor

/// A bounds-checked little-endian reader over the file bytes.
struct GGUFCursor {
    let base: UnsafeRawPointer
    let count: Int
    let path: String
    var pos = 0

    /// Deepest nesting of arrays inside arrays accepted (real files use at most 1).
    static let maxArrayDepth = 8

    var remaining: Int { count - pos }

    private func fail(_ what: String, _ n: Int) -> InputError {
        InputError(file: path, offset: pos, message: "\(what): needs \(n) bytes but the file ends after \(count - pos)")
    }

    mutating func u8(_ what: @autoclosure () -> String) throws(InputError) -> UInt8 {
        guard remaining >= 1 else { throw fail(what(), 1) }
        defer { pos += 1 }
        return base.load(fromByteOffset: pos, as: UInt8.self)
    }

    mutating func u16(_ what: @autoclosure () -> String) throws(InputError) -> UInt16 {
        guard remaining >= 2 else { throw fail(what(), 2) }
        defer { pos += 2 }
        return UInt16(littleEndian: base.loadUnaligned(fromByteOffset: pos, as: UInt16.self))
    }

    mutating func u32(_ what: @autoclosure () -> String) throws(InputError) -> UInt32 {
        guard remaining >= 4 else { throw fail(what(), 4) }
        defer { pos += 4 }
        return UInt32(littleEndian: base.loadUnaligned(fromByteOffset: pos, as: UInt32.self))
    }

    mutating func u64(_ what: @autoclosure () -> String) throws(InputError) -> UInt64 {
        guard remaining >= 8 else { throw fail(what(), 8) }
        defer { pos += 8 }
        return UInt64(littleEndian: base.loadUnaligned(fromByteOffset: pos, as: UInt64.self))
    }

    /// A u64 length followed by that many bytes of UTF-8 (invalid UTF-8 is an error).
    mutating func string(_ what: @autoclosure () -> String) throws(InputError) -> String {
        let at = pos
        let length = try u64("\(what()) length")
        guard length <= UInt64(remaining) else {
            throw InputError(file: path, offset: at, message: "\(what()): string length \(length) exceeds the \(remaining) bytes left in the file")
        }
        let bytes = UnsafeRawBufferPointer(start: base + pos, count: Int(length))
        pos += Int(length)
        let s = String(decoding: bytes, as: UTF8.self)
        // `String(decoding:)` repairs bad UTF-8 with U+FFFD; a repaired string differs from its bytes.
        var ascii = true
        for b in bytes where b >= 0x80 { ascii = false; break }
        guard ascii || s.utf8.elementsEqual(bytes) else {
            throw InputError(file: path, offset: at, message: "\(what()): string is not valid UTF-8")
        }
        return s
    }

    /// Smallest encoded size of one value of `type`, or nil for an unknown type.
    static func minimumSize(ofType type: UInt32) -> Int? {
        switch type {
        case 0, 1, 7: 1
        case 2, 3: 2
        case 4, 5, 6: 4
        case 10, 11, 12: 8
        case 8: 8  // length only
        case 9: 12  // element type + count
        default: nil
        }
    }

    mutating func value(type: UInt32, typeAt: Int, key: String, depth: Int) throws(InputError) -> GGUFValue {
        switch type {
        case 0: return .uint8(try u8("value of '\(key)'"))
        case 1: return .int8(Int8(bitPattern: try u8("value of '\(key)'")))
        case 2: return .uint16(try u16("value of '\(key)'"))
        case 3: return .int16(Int16(bitPattern: try u16("value of '\(key)'")))
        case 4: return .uint32(try u32("value of '\(key)'"))
        case 5: return .int32(Int32(bitPattern: try u32("value of '\(key)'")))
        case 6: return .float32(Float(bitPattern: try u32("value of '\(key)'")))
        case 7:
            let at = pos
            let b = try u8("value of '\(key)'")
            guard b <= 1 else {
                throw InputError(file: path, offset: at, message: "bool value of '\(key)' is \(b), expected 0 or 1")
            }
            return .bool(b == 1)
        case 8: return .string(try string("value of '\(key)'"))
        case 9:
            guard depth < Self.maxArrayDepth else {
                throw InputError(file: path, offset: pos, message: "'\(key)': arrays nested deeper than \(Self.maxArrayDepth)")
            }
            let elementTypeAt = pos
            let elementType = try u32("array element type of '\(key)'")
            guard let minimum = Self.minimumSize(ofType: elementType) else {
                throw InputError(file: path, offset: elementTypeAt, message: "'\(key)': unknown array element type \(elementType)")
            }
            let countAt = pos
            let n = try u64("array length of '\(key)'")
            guard n <= UInt64(remaining / minimum) else {
                throw InputError(file: path, offset: countAt, message: "'\(key)': array of \(n) elements cannot fit in the \(remaining) bytes left in the file")
            }
            var elements: [GGUFValue] = []
            elements.reserveCapacity(Int(n))
            for _ in 0..<Int(n) {
                elements.append(try value(type: elementType, typeAt: elementTypeAt, key: key, depth: depth + 1))
            }
            return .array(elements)
        case 10: return .uint64(try u64("value of '\(key)'"))
        case 11: return .int64(Int64(bitPattern: try u64("value of '\(key)'")))
        case 12: return .float64(Double(bitPattern: try u64("value of '\(key)'")))
        default:
            throw InputError(file: path, offset: typeAt, message: "'\(key)': unknown value type \(type)")
        }
    }
}
