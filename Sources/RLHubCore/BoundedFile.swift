// rlhub — reading a small input file whole, with a size limit checked while reading (a FIFO,
// /dev/zero or a multi-gigabyte file named by mistake is refused instead of read into memory).
import Foundation

/// Whole-file reads of small inputs (config files, specs, token files).
public enum BoundedFile {
    /// The bytes of the regular file `path`, at most `limit` of them.
    ///
    /// - Throws: ``InputError`` naming `path`: the OS error when it cannot be opened or read,
    ///   "not a regular file" (a folder, FIFO or device), or the limit when the file is larger.
    public static func read(_ path: String, limit: Int) throws(InputError) -> Data {
        // O_NONBLOCK: opening a FIFO with no writer must not hang before the type check.
        let fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)
        guard fd >= 0 else { throw InputError(file: path, message: "cannot read: \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw InputError(file: path, message: "cannot stat: \(String(cString: strerror(errno)))") }
        guard info.st_mode & S_IFMT == S_IFREG else { throw InputError(file: path, message: "not a regular file") }
        var data = Data(count: limit + 1)
        var count = 0
        while count < data.count {
            let n = data.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress! + count, $0.count - count) }
            if n < 0 && errno == EINTR { continue }
            guard n >= 0 else { throw InputError(file: path, message: "read failed: \(String(cString: strerror(errno)))") }
            if n == 0 { break }
            count += n
        }
        guard count <= limit else { throw InputError(file: path, message: "larger than \(limit) bytes, the limit for this file") }
        data.count = count
        return data
    }
}
