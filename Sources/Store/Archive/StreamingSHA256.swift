// rlhub — SHA-256 of files read in 1 MiB chunks (swift-crypto), the blob store's addresses.
import Crypto
import Foundation
import RLHubCore

/// Incremental SHA-256 over a file, so a 1 GB checkpoint is hashed in constant memory.
public enum StreamingSHA256 {
    /// The lowercase hex SHA-256 and the size of the file at `path`.
    public static func hash(file path: String) throws(InputError) -> (sha256: String, bytes: Int64) {
        try copy(file: path, to: nil)
    }

    /// Hashes `path` while copying it to the open descriptor `destination` (when given), so the
    /// digest is of exactly the bytes copied even if the source changes meanwhile.
    static func copy(file path: String, to destination: (fd: Int32, path: String)?)
        throws(InputError) -> (sha256: String, bytes: Int64)
    {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw InputError(file: path, message: "cannot open: \(errnoText())") }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0, info.st_mode & S_IFMT == S_IFREG else {
            throw InputError(file: path, message: "not a regular file")
        }
        let buffer = allocateChunk()
        defer { buffer.deallocate() }
        var hasher = SHA256()
        var bytes: Int64 = 0
        while true {
            let n = try readChunk(fd, into: buffer, path: path)
            if n == 0 { break }
            let chunk = UnsafeRawBufferPointer(rebasing: buffer[0..<n])
            hasher.update(bufferPointer: chunk)
            if let destination { try writeAll(destination.fd, chunk, path: destination.path) }
            bytes += Int64(n)
        }
        return (hex(hasher.finalize()), bytes)
    }

    /// Lowercase hex of a digest.
    public static func hex<Bytes: Sequence>(_ digest: Bytes) -> String where Bytes.Element == UInt8 {
        let digits = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        for byte in digest {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0xF)])
        }
        return String(decoding: out, as: UTF8.self)
    }
}
