// rlhub — safetensors: a reader that checks every header field before it touches tensor bytes,
// and an atomic F32 writer. Format: https://github.com/huggingface/safetensors (README, "Format").
//
//   [8 bytes: N, little-endian UInt64] [N bytes: UTF-8 JSON header, starts with "{", may be padded
//   with spaces] [data section: tensors' bytes, little-endian, row-major, tiled without holes]
import Foundation
import RLHubCore

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// The element types rlhub reads. Other safetensors dtypes (F64, I64, U8, ...) are rejected with an
/// ``InputError`` naming the tensor.
public enum SafetensorsDType: String, Sendable, CaseIterable {
    case f32 = "F32"
    case f16 = "F16"
    case bf16 = "BF16"

    /// Bytes per element.
    public var byteSize: Int {
        switch self {
        case .f32: 4
        case .f16, .bf16: 2
        }
    }
}

/// One tensor of a checked file: its `byteRange` lies inside the data section and holds exactly
/// `product(shape) * dtype.byteSize` bytes.
public struct SafetensorsTensorInfo: Sendable, Equatable {
    public let name: String
    public let dtype: SafetensorsDType
    public let shape: [Int]
    /// Byte range within the data section (not the file: add ``SafetensorsFile/dataOffset``).
    public let byteRange: Range<Int>

    /// Number of elements (`product(shape)`, 1 for a scalar, 0 if any dimension is 0).
    public var elementCount: Int { byteRange.count / dtype.byteSize }
}

/// A safetensors file, checked in full when it is opened; reads after that cannot go out of bounds.
///
/// ```swift
/// let file = try SafetensorsFile(contentsOf: "m/model.safetensors")
/// let embed = try file.floats("model.embed_tokens.weight")
/// ```
///
/// The checks, each failing with an ``InputError`` that names the file and the tensor, field or
/// byte offset: the header length fits in the file and is at most ``maxHeaderLength``; the header
/// is UTF-8 JSON, an object (first byte `{`), with no duplicate keys; every tensor has a supported
/// `dtype`, a `shape` of non-negative integers and `data_offsets` `[begin, end]` with
/// `end - begin == product(shape) * byteSize` (overflow-checked) and `end` inside the data section;
/// the tensors tile the data section exactly, without holes, overlaps or trailing bytes;
/// `__metadata__`, if present, maps strings to strings. Unknown keys inside a tensor entry are
/// ignored, as in the reference implementation. Names are compared as Swift strings, so two keys
/// that differ only in Unicode normalization count as duplicates.
///
/// Files read from disk are memory-mapped: another process truncating the file while it is open
/// can still fault (SIGBUS). ``SafetensorsWriter`` replaces files by rename, which is safe.
public struct SafetensorsFile: Sendable {
    /// Largest accepted header, as in the reference implementation (100 MB).
    public static let maxHeaderLength = 100_000_000

    public let path: String
    public let tensors: [String: SafetensorsTensorInfo]
    /// The `__metadata__` map (empty if absent).
    public let metadata: [String: String]
    /// File offset of the data section (8 + header length).
    public let dataOffset: Int
    /// The whole file (memory-mapped when read from disk).
    private let storage: Data

    /// Tensor names, sorted.
    public var names: [String] { tensors.keys.sorted() }

    /// Maps the file and checks it (see the type's documentation).
    public init(contentsOf path: String) throws(InputError) {
        // open and fstat first: their errno names what is wrong (Foundation's mapping error does
        // not), and a FIFO or device is refused before anything reads from it.
        let fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)
        guard fd >= 0 else { throw InputError(file: path, message: "cannot open: \(errnoText())") }
        var info = stat()
        let statted = fstat(fd, &info) == 0
        close(fd)
        guard statted else { throw InputError(file: path, message: "cannot stat: \(errnoText())") }
        guard info.st_mode & S_IFMT != S_IFDIR else {
            throw InputError(file: path, message: "is a folder, not a safetensors file")
        }
        guard info.st_mode & S_IFMT == S_IFREG else {
            throw InputError(file: path, message: "not a regular file (a FIFO, socket or device)")
        }
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path), options: .alwaysMapped)
        } catch {
            throw InputError(file: path, message: "cannot read: \(error.localizedDescription)")
        }
        try self.init(storage: data, path: path)
    }

    /// Checks a file already in memory; `path` is only used in error messages.
    public init(bytes: [UInt8], path: String) throws(InputError) {
        try self.init(storage: Data(bytes), path: path)
    }

    private init(storage: Data, path: String) throws(InputError) {
        let result = storage.withUnsafeBytes { raw in
            Result { () throws(InputError) -> SafetensorsHeader in
                try SafetensorsHeader.parse(raw, path: path)
            }
        }
        let header = try result.get()
        self.path = path
        self.storage = storage
        self.tensors = header.tensors
        self.metadata = header.metadata
        self.dataOffset = header.dataOffset
    }

    /// The tensor called `name`, or an ``InputError`` naming it.
    public func info(_ name: String) throws(InputError) -> SafetensorsTensorInfo {
        guard let info = tensors[name] else {
            throw InputError(
                file: path, field: name, message: "no such tensor (the file has \(tensors.count))")
        }
        return info
    }

    /// The tensor's elements converted to `Float` (F16 and BF16 exactly, NaN payloads kept).
    public func floats(_ name: String) throws(InputError) -> [Float] {
        let info = try info(name)
        let count = info.elementCount
        return [Float](unsafeUninitializedCapacity: count) { buffer, initialized in
            decode(info, to: UnsafeMutableBufferPointer(rebasing: buffer[0..<count]))
            initialized = count
        }
    }

    /// Like ``floats(_:)`` but into caller memory; `out.count` must equal the element count.
    public func copyFloats(_ name: String, into out: UnsafeMutableBufferPointer<Float>)
        throws(InputError)
    {
        let info = try info(name)
        guard out.count == info.elementCount else {
            throw InputError(
                file: path, field: name,
                message: "destination holds \(out.count) floats but the tensor has "
                    + "\(info.elementCount) (shape \(info.shape))")
        }
        decode(info, to: out)
    }

    /// Converts a checked tensor; `out.count == info.elementCount`.
    private func decode(_ info: SafetensorsTensorInfo, to out: UnsafeMutableBufferPointer<Float>) {
        let count = out.count
        guard count > 0 else { return }
        let start = dataOffset + info.byteRange.lowerBound
        storage.withUnsafeBytes { raw in
            let src = UnsafeRawBufferPointer(rebasing: raw[start..<start + info.byteRange.count])
            switch info.dtype {
            case .f32:
                #if _endian(little)
                    UnsafeMutableRawBufferPointer(out).copyMemory(from: src)
                #else
                    for i in 0..<count {
                        let bits = src.loadUnaligned(fromByteOffset: 4 * i, as: UInt32.self)
                        out[i] = Float(bitPattern: UInt32(littleEndian: bits))
                    }
                #endif
            case .f16:
                for i in 0..<count {
                    let bits = src.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self)
                    out[i] = floatFromF16(UInt16(littleEndian: bits))
                }
            case .bf16:
                for i in 0..<count {
                    let bits = src.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self)
                    out[i] = Float(bitPattern: UInt32(UInt16(littleEndian: bits)) << 16)
                }
            }
        }
    }
}

/// IEEE binary16 bits to Float, exactly (subnormals, ±0, ±inf, NaN with its payload).
private func floatFromF16(_ h: UInt16) -> Float {
    let sign = UInt32(h >> 15) << 31
    let exponent = UInt32(h >> 10) & 0x1F
    let mantissa = UInt32(h) & 0x3FF
    switch exponent {
    case 0:
        // Zero or subnormal: mantissa * 2^-24, exact in Float.
        let magnitude = Float(mantissa) * 0x1p-24
        return sign == 0 ? magnitude : -magnitude
    case 0x1F:
        return Float(bitPattern: sign | 0x7F80_0000 | mantissa << 13)
    default:
        return Float(bitPattern: sign | (exponent + 112) << 23 | mantissa << 13)
    }
}

// MARK: - Header checks

/// A parsed and fully checked header.
private struct SafetensorsHeader {
    var tensors: [String: SafetensorsTensorInfo]
    var metadata: [String: String]
    var dataOffset: Int

    static func parse(_ raw: UnsafeRawBufferPointer, path: String) throws(InputError) -> Self {
        guard raw.count >= 8 else {
            throw InputError(
                file: path, offset: 0,
                message: "file is \(raw.count) bytes, too short for the 8-byte header length")
        }
        var declared: UInt64 = 0
        for i in 0..<8 { declared |= UInt64(raw[i]) << (8 * UInt64(i)) }
        guard declared <= UInt64(SafetensorsFile.maxHeaderLength) else {
            throw InputError(
                file: path, offset: 0,
                message: "header length \(declared) exceeds the limit of "
                    + "\(SafetensorsFile.maxHeaderLength) bytes")
        }
        let headerLength = Int(declared)
        guard headerLength <= raw.count - 8 else {
            throw InputError(
                file: path, offset: 0,
                message: "header length \(declared) runs past the end of the file "
                    + "(\(raw.count - 8) bytes follow the length); is the file truncated?")
        }
        let headerBytes = UnsafeRawBufferPointer(rebasing: raw[8..<8 + headerLength])
        guard headerBytes.first == UInt8(ascii: "{") else {
            throw InputError(file: path, offset: 8, message: "header must start with '{'")
        }
        var reader = StrictJSONReader(bytes: headerBytes, path: path, fileOffset: 8)
        guard case .object(let members) = try reader.parseDocument() else {
            throw InputError(file: path, offset: 8, message: "header must be a JSON object")
        }

        let dataLength = raw.count - 8 - headerLength
        var seen = Set<String>()
        var infos: [SafetensorsTensorInfo] = []
        var metadata: [String: String] = [:]
        for (name, value) in members {
            guard seen.insert(name).inserted else {
                throw InputError(file: path, field: name, message: "appears twice in the header")
            }
            if name == "__metadata__" {
                metadata = try parseMetadata(value, path: path)
            } else {
                infos.append(
                    try parseEntry(name: name, value, dataLength: dataLength, path: path))
            }
        }

        // The tensors must tile [0, dataLength): sorted by begin, each starts where the last ended.
        infos.sort {
            ($0.byteRange.lowerBound, $0.byteRange.upperBound, $0.name)
                < ($1.byteRange.lowerBound, $1.byteRange.upperBound, $1.name)
        }
        var covered = 0
        var previous = ""
        for info in infos {
            let begin = info.byteRange.lowerBound
            if begin > covered {
                throw InputError(
                    file: path, field: info.name,
                    message: "data_offsets begin at \(begin) but the data before it ends at "
                        + "\(covered): \(begin - covered) bytes belong to no tensor")
            }
            if begin < covered {
                throw InputError(
                    file: path, field: info.name,
                    message: "data_offsets [\(begin), \(info.byteRange.upperBound)] overlap "
                        + "tensor \"\(previous)\", which ends at \(covered)")
            }
            covered = info.byteRange.upperBound
            previous = info.name
        }
        if covered != dataLength {
            throw InputError(
                file: path, offset: 8 + headerLength + covered,
                message: "\(dataLength - covered) bytes after the last tensor belong to no tensor")
        }

        var tensors: [String: SafetensorsTensorInfo] = [:]
        tensors.reserveCapacity(infos.count)
        for info in infos { tensors[info.name] = info }
        return Self(tensors: tensors, metadata: metadata, dataOffset: 8 + headerLength)
    }

    private static func parseMetadata(_ value: StrictJSON, path: String) throws(InputError)
        -> [String: String]
    {
        let field = "__metadata__"
        guard case .object(let members) = value else {
            throw InputError(
                file: path, field: field, message: "must be an object of strings, got \(value.kind)"
            )
        }
        var metadata: [String: String] = [:]
        for (key, entry) in members {
            guard case .string(let text) = entry else {
                throw InputError(
                    file: path, field: field,
                    message: "value of \"\(key)\" must be a string, got \(entry.kind)")
            }
            guard metadata.updateValue(text, forKey: key) == nil else {
                throw InputError(
                    file: path, field: field, message: "key \"\(key)\" appears twice")
            }
        }
        return metadata
    }

    private static func parseEntry(
        name: String, _ value: StrictJSON, dataLength: Int, path: String
    ) throws(InputError) -> SafetensorsTensorInfo {
        func fail(_ message: String) -> InputError {
            InputError(file: path, field: name, message: message)
        }
        guard case .object(let fields) = value else {
            throw fail("must be an object with dtype, shape and data_offsets, got \(value.kind)")
        }
        var dtypeValue: StrictJSON?
        var shapeValue: StrictJSON?
        var offsetsValue: StrictJSON?
        for (key, field) in fields {
            switch key {
            case "dtype":
                guard dtypeValue == nil else { throw fail("key dtype appears twice") }
                dtypeValue = field
            case "shape":
                guard shapeValue == nil else { throw fail("key shape appears twice") }
                shapeValue = field
            case "data_offsets":
                guard offsetsValue == nil else { throw fail("key data_offsets appears twice") }
                offsetsValue = field
            default:
                continue  // unknown keys are ignored, as in the reference implementation
            }
        }

        guard let dtypeValue else { throw fail("missing dtype") }
        guard case .string(let dtypeName) = dtypeValue else {
            throw fail("dtype must be a string, got \(dtypeValue.kind)")
        }
        guard let dtype = SafetensorsDType(rawValue: dtypeName) else {
            throw fail("unsupported dtype \"\(dtypeName)\" (rlhub reads F32, F16 and BF16)")
        }

        guard let shapeValue else { throw fail("missing shape") }
        guard case .array(let dims) = shapeValue else {
            throw fail("shape must be an array of integers, got \(shapeValue.kind)")
        }
        var shape: [Int] = []
        shape.reserveCapacity(dims.count)
        for dim in dims {
            shape.append(try nonNegativeInt(dim, what: "shape", fail: fail))
        }

        guard let offsetsValue else { throw fail("missing data_offsets") }
        guard case .array(let offsets) = offsetsValue, offsets.count == 2 else {
            throw fail("data_offsets must be an array [begin, end] of two integers")
        }
        let begin = try nonNegativeInt(offsets[0], what: "data_offsets", fail: fail)
        let end = try nonNegativeInt(offsets[1], what: "data_offsets", fail: fail)
        guard begin <= end else {
            throw fail("data_offsets [\(begin), \(end)]: end is before begin")
        }

        var elements = 1
        for dim in shape {
            let (product, overflow) = elements.multipliedReportingOverflow(by: dim)
            guard !overflow else { throw fail("shape \(shape) has too many elements") }
            elements = product
        }
        let (byteCount, overflow) = elements.multipliedReportingOverflow(by: dtype.byteSize)
        guard !overflow else { throw fail("shape \(shape) of \(dtypeName) has too many bytes") }
        guard end - begin == byteCount else {
            throw fail(
                "data_offsets [\(begin), \(end)] span \(end - begin) bytes but shape \(shape) of "
                    + "\(dtypeName) needs \(byteCount)")
        }
        guard end <= dataLength else {
            throw fail(
                "data_offsets [\(begin), \(end)] run past the end of the data section "
                    + "(\(dataLength) bytes); is the file truncated?")
        }
        return SafetensorsTensorInfo(name: name, dtype: dtype, shape: shape, byteRange: begin..<end)
    }

    /// A JSON integer in 0...Int.max written without fraction or exponent.
    private static func nonNegativeInt(
        _ value: StrictJSON, what: String, fail: (String) -> InputError
    ) throws(InputError) -> Int {
        guard case .number(let text) = value else {
            throw fail("\(what) must hold integers, got \(value.kind)")
        }
        guard !text.hasPrefix("-") else { throw fail("\(what) must be non-negative, got \(text)") }
        var result = 0
        for byte in text.utf8 {
            guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") else {
                throw fail("\(what) must hold integers, got \(text)")
            }
            let (times10, o1) = result.multipliedReportingOverflow(by: 10)
            let (sum, o2) = times10.addingReportingOverflow(Int(byte - UInt8(ascii: "0")))
            guard !o1, !o2 else { throw fail("\(what) value \(text) is too large") }
            result = sum
        }
        return result
    }
}

// MARK: - Writer

/// Writes F32 safetensors files that Python's `safetensors` and HF transformers load.
public enum SafetensorsWriter {
    /// Writes F32 tensors in the given order; header JSON keys sorted, header padded with spaces
    /// to a multiple of 8 bytes, data contiguous in order, no holes; written to a temp name in the
    /// same folder and renamed (atomic).
    ///
    /// Throws an ``InputError`` naming the tensor if a name repeats or is `__metadata__`, a
    /// dimension is negative, or `data.count != product(shape)`; and one naming `path` if the
    /// file cannot be written (the temporary file is removed).
    public static func write(
        _ tensors: [(name: String, shape: [Int], data: UnsafeBufferPointer<Float>)],
        metadata: [String: String], to path: String
    ) throws {
        // Offsets in the given order.
        var entries: [(name: String, shape: [Int], range: Range<Int>)] = []
        var seen = Set<String>()
        var offset = 0
        for tensor in tensors {
            func fail(_ message: String) -> InputError {
                InputError(file: path, field: tensor.name, message: message)
            }
            guard tensor.name != "__metadata__" else { throw fail("reserved name") }
            guard seen.insert(tensor.name).inserted else { throw fail("tensor name repeats") }
            var elements = 1
            for dim in tensor.shape {
                guard dim >= 0 else { throw fail("negative dimension in shape \(tensor.shape)") }
                let (product, overflow) = elements.multipliedReportingOverflow(by: dim)
                guard !overflow else { throw fail("shape \(tensor.shape) is too large") }
                elements = product
            }
            guard elements == tensor.data.count else {
                throw fail(
                    "shape \(tensor.shape) has \(elements) elements, data has \(tensor.data.count)")
            }
            let (bytes, o1) = elements.multipliedReportingOverflow(by: 4)
            let (end, o2) = offset.addingReportingOverflow(bytes)
            guard !o1, !o2 else { throw fail("tensor is too large") }
            entries.append((tensor.name, tensor.shape, offset..<end))
            offset = end
        }

        var header = headerJSON(entries: entries, metadata: metadata)
        while header.count % 8 != 0 { header.append(0x20) }
        guard header.count <= SafetensorsFile.maxHeaderLength else {
            throw InputError(
                file: path, message: "header would be \(header.count) bytes, over the limit")
        }

        var prefix = [UInt8](repeating: 0, count: 8)
        for i in 0..<8 {
            prefix[i] = UInt8(truncatingIfNeeded: UInt64(header.count) >> (8 * UInt64(i)))
        }
        try SafetensorsAtomicFile.replace(path) {
            (file: SafetensorsAtomicFile) throws(InputError) in
            try file.append(prefix)
            try file.append(header)
            for tensor in tensors where !tensor.data.isEmpty {
                #if _endian(little)
                    try file.append(UnsafeRawBufferPointer(tensor.data))
                #else
                    let le = tensor.data.map { $0.bitPattern.littleEndian }
                    try le.withUnsafeBytes { (raw) throws(InputError) in try file.append(raw) }
                #endif
            }
        }
    }

    /// `{"key":...}` with all keys sorted by their UTF-8 bytes; `__metadata__` omitted if empty.
    private static func headerJSON(
        entries: [(name: String, shape: [Int], range: Range<Int>)], metadata: [String: String]
    ) -> [UInt8] {
        func before(_ a: String, _ b: String) -> Bool { a.utf8.lexicographicallyPrecedes(b.utf8) }
        var members: [(key: String, value: [UInt8])] = []
        for entry in entries {
            let shape = entry.shape.map(String.init).joined(separator: ",")
            let value =
                "{\"data_offsets\":[\(entry.range.lowerBound),\(entry.range.upperBound)],"
                + "\"dtype\":\"F32\",\"shape\":[\(shape)]}"
            members.append((entry.name, Array(value.utf8)))
        }
        if !metadata.isEmpty {
            var value: [UInt8] = [UInt8(ascii: "{")]
            for (i, key) in metadata.keys.sorted(by: before).enumerated() {
                if i > 0 { value.append(UInt8(ascii: ",")) }
                appendJSONString(key, to: &value)
                value.append(UInt8(ascii: ":"))
                appendJSONString(metadata[key] ?? "", to: &value)
            }
            value.append(UInt8(ascii: "}"))
            members.append(("__metadata__", value))
        }
        members.sort { before($0.key, $1.key) }

        var out: [UInt8] = [UInt8(ascii: "{")]
        for (i, member) in members.enumerated() {
            if i > 0 { out.append(UInt8(ascii: ",")) }
            appendJSONString(member.key, to: &out)
            out.append(UInt8(ascii: ":"))
            out += member.value
        }
        out.append(UInt8(ascii: "}"))
        return out
    }

    private static func appendJSONString(_ text: String, to out: inout [UInt8]) {
        let hex = Array("0123456789abcdef".utf8)
        out.append(UInt8(ascii: "\""))
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "\""), UInt8(ascii: "\\"):
                out += [UInt8(ascii: "\\"), byte]
            case 0..<0x20:
                out += Array("\\u00".utf8) + [hex[Int(byte >> 4)], hex[Int(byte & 0xF)]]
            default:
                out.append(byte)
            }
        }
        out.append(UInt8(ascii: "\""))
    }
}

/// A file written under a temporary name in the destination's folder, then renamed into place,
/// so readers see either the old file or the complete new one.
private struct SafetensorsAtomicFile {
    let descriptor: Int32
    let path: String

    static func replace(_ path: String, _ body: (SafetensorsAtomicFile) throws(InputError) -> Void)
        throws(InputError)
    {
        let folder: String
        let base: String
        if let slash = path.lastIndex(of: "/") {
            folder = String(path[..<slash])
            base = String(path[path.index(after: slash)...])
        } else {
            folder = "."
            base = path
        }
        guard !base.isEmpty else {
            throw InputError(file: path, message: "output path names a folder, not a file")
        }
        let temp =
            (folder.isEmpty ? "" : folder + "/") + ".\(base).tmp-\(getpid())-"
            + String(UInt64.random(in: 0...UInt64.max), radix: 16)
        let fd = open(temp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard fd >= 0 else {
            throw InputError(file: path, message: "cannot create \(temp): \(errnoText())")
        }
        let file = SafetensorsAtomicFile(descriptor: fd, path: path)
        do throws(InputError) {
            try body(file)
            guard fsync(fd) == 0 else {
                throw InputError(file: path, message: "fsync failed: \(errnoText())")
            }
        } catch {
            close(fd)
            unlink(temp)
            throw error
        }
        guard close(fd) == 0 else {
            let reason = errnoText()
            unlink(temp)
            throw InputError(file: path, message: "close failed: \(reason)")
        }
        guard rename(temp, path) == 0 else {
            let reason = errnoText()
            unlink(temp)
            throw InputError(file: path, message: "cannot rename \(temp) into place: \(reason)")
        }
    }

    func append(_ bytes: [UInt8]) throws(InputError) {
        let result = bytes.withUnsafeBytes { raw in
            Result { () throws(InputError) in try append(raw) }
        }
        try result.get()
    }

    func append(_ raw: UnsafeRawBufferPointer) throws(InputError) {
        guard var next = raw.baseAddress else { return }
        var remaining = raw.count
        while remaining > 0 {
            let written = write(descriptor, next, min(remaining, 1 << 30))
            if written < 0 {
                if errno == EINTR { continue }
                throw InputError(file: path, message: "write failed: \(errnoText())")
            }
            next += written
            remaining -= written
        }
    }
}

private func errnoText() -> String {
    String(cString: strerror(errno))
}
