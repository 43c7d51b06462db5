// rlhub — POSIX file helpers shared by the checkpoint archive and the blob store: chunked reads,
// complete writes, fsync of files and folders, temporary sibling names, recursive removal.
import Foundation
import RLHubCore

#if canImport(Glibc)
    import Glibc
#endif

/// Size of every streaming read and write (1 MiB): checkpoint files (~1 GB) are never loaded whole.
let archiveChunkBytes = 1 << 20

/// `strerror(errno)` as a String.
func errnoText() -> String {
    String(cString: strerror(errno))
}

/// Splits `a/b/c` into (`a/b`, `c`); a bare name lives in `.`, `/x` in `/`.
func splitParent(_ path: String) -> (folder: String, name: String) {
    var trimmed = Substring(path)
    while trimmed.count > 1, trimmed.hasSuffix("/") { trimmed.removeLast() }
    guard let slash = trimmed.lastIndex(of: "/") else { return (".", String(trimmed)) }
    let folder = trimmed[..<slash]
    return (folder.isEmpty ? "/" : String(folder), String(trimmed[trimmed.index(after: slash)...]))
}

/// `folder/.name.tag-pid-random`: a hidden temporary sibling of `path` (same file system, so a
/// final `rename` is atomic), unique per process and call.
func temporarySibling(of path: String, tag: String) -> String {
    let (folder, name) = splitParent(path)
    let random = String(UInt64.random(in: 0...UInt64.max), radix: 16)
    return (folder == "/" ? "" : folder) + "/.\(name).\(tag)-\(getpid())-\(random)"
}

/// The file type bits (`S_IFMT`) of `path` without following a final symlink; nil if absent.
func fileTypeBits(_ path: String) -> mode_t? {
    var info = stat()
    guard lstat(path, &info) == 0 else { return nil }
    return info.st_mode & S_IFMT
}

/// The size of the file at `path` (following symlinks), naming the OS error when it has none.
func fileSize(_ path: String) throws(InputError) -> Int64 {
    var info = stat()
    guard stat(path, &info) == 0 else { throw InputError(file: path, message: "cannot stat: \(errnoText())") }
    return Int64(info.st_size)
}

/// Reads up to `buffer.count` bytes (retrying on EINTR); 0 means end of file.
func readChunk(_ fd: Int32, into buffer: UnsafeMutableRawBufferPointer, path: String)
    throws(InputError) -> Int
{
    while true {
        let n = read(fd, buffer.baseAddress, buffer.count)
        if n >= 0 { return n }
        if errno == EINTR { continue }
        throw InputError(file: path, message: "read failed: \(errnoText())")
    }
}

/// Writes all of `bytes` (retrying on short writes and EINTR).
func writeAll(_ fd: Int32, _ bytes: UnsafeRawBufferPointer, path: String) throws(InputError) {
    guard var next = bytes.baseAddress else { return }
    var remaining = bytes.count
    while remaining > 0 {
        let written = write(fd, next, remaining)
        if written < 0 {
            if errno == EINTR { continue }
            throw InputError(file: path, message: "write failed: \(errnoText())")
        }
        next += written
        remaining -= written
    }
}

/// fsyncs then closes `fd`; the file is durable once this returns.
func syncAndClose(_ fd: Int32, path: String) throws(InputError) {
    guard fsync(fd) == 0 else {
        let reason = errnoText()
        close(fd)
        throw InputError(file: path, message: "fsync failed: \(reason)")
    }
    guard close(fd) == 0 else {
        throw InputError(file: path, message: "close failed: \(errnoText())")
    }
}

/// fsyncs a folder, so that names created or renamed in it survive a crash.
func syncFolder(_ path: String) throws(InputError) {
    let fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
    guard fd >= 0 else {
        throw InputError(file: path, message: "cannot open folder: \(errnoText())")
    }
    try syncAndClose(fd, path: path)
}

/// Creates `path` and any missing parents as folders (mode 0755); existing folders are fine.
func makeFolders(_ path: String) throws(InputError) {
    if fileTypeBits(path) == S_IFDIR { return }
    let (parent, _) = splitParent(path)
    if parent != path, parent != ".", parent != "/" { try makeFolders(parent) }
    guard mkdir(path, 0o755) == 0 || (errno == EEXIST && fileTypeBits(path) == S_IFDIR) else {
        throw InputError(file: path, message: "cannot create folder: \(errnoText())")
    }
}

/// Removes a temporary file or folder tree that this process created (best effort: used on
/// failure paths, where the original error is the one worth reporting).
func removeTemporary(_ path: String) {
    try? FileManager.default.removeItem(atPath: path)
}

/// A page-aligned 1 MiB scratch buffer, freed by its owner's `defer`.
func allocateChunk() -> UnsafeMutableRawBufferPointer {
    UnsafeMutableRawBufferPointer.allocate(byteCount: archiveChunkBytes, alignment: 4096)
}
