// rlhub — writing a file so that a reader (or a crash) sees the old content or the new, never a
// part: write a temporary sibling (same folder, so the same file system), fsync it, rename(2) it
// over the target — the rename is atomic. Nothing half-written is left when a step fails.
import Foundation

/// Atomic replacement of a file through a temporary sibling.
///
/// ```swift
/// try AtomicFile.write(Data(json.utf8), to: "runs/x/report.json")
/// try AtomicFile.replace("out/model.bin") { temporary in try copy(source, to: temporary) }
/// ```
public enum AtomicFile {
    /// Writes `data` to `path` (created or replaced).
    /// - Throws: ``InputError`` naming `path` when the temporary cannot be written or renamed.
    public static func write(_ data: Data, to path: String) throws(InputError) {
        let temporary = temporarySibling(of: path)
        guard FileManager.default.createFile(atPath: temporary, contents: data) else {
            throw InputError(file: path, message: "cannot write: \(String(cString: strerror(errno)))")
        }
        try moveIntoPlace(temporary, path)
    }

    /// Creates or replaces `path` with what `produce` writes at the temporary path it is given (a
    /// file, or a folder it creates when `path` names a new folder), then renames that into place.
    /// When `produce` throws, the temporary is removed and `path` is untouched.
    public static func replace(_ path: String, with produce: (_ temporary: String) throws -> Void) throws {
        let temporary = temporarySibling(of: path)
        do {
            try produce(temporary)
        } catch {
            try? FileManager.default.removeItem(atPath: temporary)
            throw error
        }
        try moveIntoPlace(temporary, path)
    }

    /// Fsyncs `temporary` and renames it to `path`; on failure removes it.
    /// - Throws: ``InputError`` naming `path` with the OS error.
    public static func moveIntoPlace(_ temporary: String, _ path: String) throws(InputError) {
        let fd = open(temporary, O_RDONLY)
        if fd >= 0 {
            fsync(fd)
            close(fd)
        }
        guard rename(temporary, path) == 0 else {
            let reason = String(cString: strerror(errno))
            try? FileManager.default.removeItem(atPath: temporary)
            throw InputError(file: path, message: "cannot move into place: \(reason)")
        }
    }

    /// A fresh hidden name in `path`'s folder: `.NAME.PID.RANDOM.tmp` (unique across processes and
    /// calls, so concurrent writers of one target never share a temporary).
    public static func temporarySibling(of path: String) -> String {
        let url = URL(fileURLWithPath: path)
        let name = ".\(url.lastPathComponent).\(getpid()).\(String(UInt64.random(in: 0...UInt64.max), radix: 16)).tmp"
        let folder = (path as NSString).deletingLastPathComponent
        return folder.isEmpty ? name : folder + "/" + name
    }
}
