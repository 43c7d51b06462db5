// rlhub — helpers for ArchiveTests: scratch folders, folder snapshots (SplitMix64 is in TestSupport), and
// hostile archives written directly with libarchive (names and types our packer never emits).
import CArchive
import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// A fresh folder under the system temporary folder, removed by `cleanup()`.
struct ScratchFolder {
    let path: String

    init(_ label: String) throws {
        path = NSTemporaryDirectory() + "rlhub-\(label)-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    func cleanup() { try? FileManager.default.removeItem(atPath: path) }

    func sub(_ name: String) -> String { path + "/" + name }

    /// Writes `bytes` to `relative`, creating parent folders.
    @discardableResult
    func write(_ relative: String, _ bytes: [UInt8]) throws -> String {
        let full = sub(relative)
        let parent = (full as NSString).deletingLastPathComponent
        try FileManager.default.createDirectory(atPath: parent, withIntermediateDirectories: true)
        try Data(bytes).write(to: URL(fileURLWithPath: full))
        return full
    }
}

/// Every file and folder below `root` by relative path: file contents, or nil for folders.
func snapshot(_ root: String) throws -> [String: [UInt8]?] {
    var out: [String: [UInt8]?] = [:]
    let enumerator = FileManager.default.enumerator(atPath: root)
    while let relative = enumerator?.nextObject() as? String {
        let full = root + "/" + relative
        let attributes = try FileManager.default.attributesOfItem(atPath: full)
        switch attributes[.type] as? FileAttributeType {
        case .typeDirectory: out[relative] = .some(nil)
        case .typeRegular:
            out[relative] = .some(Array(try Data(contentsOf: URL(fileURLWithPath: full))))
        // Links and others: a marker no packed file equals, so the comparison fails.
        default: out[relative] = .some([0xFF, 0xEE])
        }
    }
    return out
}

/// The names in `folder` (hidden ones included).
func listing(_ folder: String) -> [String] {
    ((try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []).sorted()
}

/// One entry of a hand-made archive.
struct CraftedEntry {
    var name: String
    var type: UInt32 = 0o100000
    var data: [UInt8] = []
    /// Declared size, when it must differ from `data.count` (then data is zero-filled to it).
    var size: Int64? = nil
    var symlink: String? = nil
    var hardlink: String? = nil

    static func file(_ name: String, _ data: [UInt8] = Array("x".utf8)) -> Self {
        CraftedEntry(name: name, data: data)
    }
    static func folder(_ name: String) -> Self { CraftedEntry(name: name, type: 0o040000) }
}

/// Writes `entries` as a pax archive, zstd-compressed unless `compress` is false, exactly as given
/// (libarchive's writer does not sanitise names), for the extraction tests.
func craftArchive(_ path: String, _ entries: [CraftedEntry], compress: Bool = true) throws {
    struct CraftError: Error { var message: String }
    guard let writer = archive_write_new() else { throw CraftError(message: "archive_write_new") }
    defer { archive_write_free(writer) }
    archive_write_set_format_pax_restricted(writer)
    if compress { archive_write_add_filter_zstd(writer) }
    guard archive_write_open_filename(writer, path) == ARCHIVE_OK else {
        throw CraftError(message: "open \(path)")
    }
    for crafted in entries {
        guard let entry = archive_entry_new() else {
            throw CraftError(message: "archive_entry_new")
        }
        defer { archive_entry_free(entry) }
        archive_entry_set_pathname_utf8(entry, crafted.name)
        archive_entry_set_filetype(entry, crafted.type)
        archive_entry_set_perm(entry, 0o644)
        if let link = crafted.symlink { archive_entry_set_symlink(entry, link) }
        if let link = crafted.hardlink { archive_entry_set_hardlink(entry, link) }
        if crafted.type == 0o020000 {
            archive_entry_set_rdevmajor(entry, 1)
            archive_entry_set_rdevminor(entry, 3)
        }
        let size = crafted.size ?? Int64(crafted.data.count)
        archive_entry_set_size(
            entry, crafted.type == 0o100000 && crafted.hardlink == nil ? size : 0)
        guard archive_write_header(writer, entry) >= ARCHIVE_WARN else {
            throw CraftError(
                message: "header \(crafted.name): \(String(cString: archive_error_string(writer)))")
        }
        var data = crafted.data
        if Int64(data.count) < size { data += [UInt8](repeating: 0, count: Int(size) - data.count) }
        if !data.isEmpty, crafted.type == 0o100000, crafted.hardlink == nil {
            _ = data.withUnsafeBytes { archive_write_data(writer, $0.baseAddress, $0.count) }
        }
    }
    guard archive_write_close(writer) == ARCHIVE_OK else { throw CraftError(message: "close") }
}

/// The metadata of each header that determinism depends on, read back with libarchive.
struct HeaderFacts: Equatable {
    var path: String
    var mtime: Int
    var uid: Int64
    var gid: Int64
    var uname: String?
    var gname: String?
    var perm: UInt32
    var hasAtime: Bool
    var hasCtime: Bool
    var xattrs: Int32
}

/// Reads every header of `path` (any tar + zstd archive).
func headerFacts(_ path: String) throws -> [HeaderFacts] {
    struct ReadError: Error {}
    guard let reader = archive_read_new() else { throw ReadError() }
    defer { archive_read_free(reader) }
    archive_read_support_filter_zstd(reader)
    archive_read_support_format_tar(reader)
    guard archive_read_open_filename(reader, path, 1 << 16) == ARCHIVE_OK else { throw ReadError() }
    var out: [HeaderFacts] = []
    var entry: OpaquePointer?
    while archive_read_next_header(reader, &entry) == ARCHIVE_OK, let entry {
        out.append(
            HeaderFacts(
                path: String(
                    cString: archive_entry_pathname_utf8(entry) ?? archive_entry_pathname(entry)),
                mtime: archive_entry_mtime(entry), uid: archive_entry_uid(entry),
                gid: archive_entry_gid(entry),
                uname: archive_entry_uname(entry).map { String(cString: $0) },
                gname: archive_entry_gname(entry).map { String(cString: $0) },
                perm: archive_entry_perm(entry), hasAtime: archive_entry_atime_is_set(entry) != 0,
                hasCtime: archive_entry_ctime_is_set(entry) != 0,
                xattrs: archive_entry_xattr_count(entry)))
    }
    return out
}

/// The `S_IFMT` bits of `path` (not following links), or nil when nothing is there.
func testFileType(_ path: String) -> mode_t? {
    var st = stat()
    guard lstat(path, &st) == 0 else { return nil }
    return st.st_mode & S_IFMT
}
