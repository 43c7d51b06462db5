// rlhub — the thin layer over libarchive's C API (CArchive): handle lifetimes, error text, file
// type bits. Only Sources/Store/Archive imports CArchive.
import CArchive
import RLHubCore

/// libarchive's `AE_IF*` file type bits (archive_entry.h defines them with casts, which Swift
/// does not import).
enum EntryTypeBits {
    static let mask: UInt32 = 0o170000
    static let regular: UInt32 = 0o100000
    static let symbolicLink: UInt32 = 0o120000
    static let socket: UInt32 = 0o140000
    static let characterDevice: UInt32 = 0o020000
    static let blockDevice: UInt32 = 0o060000
    static let folder: UInt32 = 0o040000
    static let fifo: UInt32 = 0o010000
}

/// The last error libarchive recorded on a handle.
func archiveErrorText(_ handle: OpaquePointer) -> String {
    guard let text = archive_error_string(handle) else { return "unknown libarchive error" }
    return String(cString: text)
}

/// A libarchive reader of a tar (ustar, pax, gnu) stream, zstd-compressed or not, freed on deinit.
///
/// Only the tar formats and the zstd filter are enabled: the store reads what it writes, and a
/// smaller set of enabled parsers is a smaller attack surface.
final class ArchiveReader {
    let handle: OpaquePointer
    let path: String

    init(path: String) throws(InputError) {
        guard fileTypeBits(path) != nil else {
            throw InputError(file: path, message: "no such file")
        }
        guard let handle = archive_read_new() else {
            throw InputError(file: path, message: "libarchive could not allocate a reader")
        }
        self.handle = handle
        self.path = path
        guard archive_read_support_filter_zstd(handle) == ARCHIVE_OK else {
            throw InputError(
                file: path, message: "this libarchive cannot read zstd (see rlhub doctor)")
        }
        guard archive_read_support_format_tar(handle) == ARCHIVE_OK,
            archive_read_open_filename(handle, path, 1 << 16) == ARCHIVE_OK
        else {
            throw InputError(file: path, message: "cannot open: \(archiveErrorText(handle))")
        }
    }

    deinit { archive_read_free(handle) }

    /// The next entry, nil at the end of the archive; warnings are errors (fail closed).
    func nextEntry(after count: Int) throws(InputError) -> OpaquePointer? {
        var entry: OpaquePointer?
        let status = archive_read_next_header(handle, &entry)
        if status == ARCHIVE_EOF { return nil }
        guard status == ARCHIVE_OK, let entry else {
            throw InputError(
                file: path, field: "entry \(count + 1)",
                message: "corrupt archive: \(archiveErrorText(handle))")
        }
        return entry
    }

    /// The entry's path as UTF-8 text, nil when it has none or it is not valid UTF-8.
    ///
    /// The raw bytes come first: packed archives store UTF-8 names as is (`hdrcharset=BINARY`),
    /// which a conversion through a non-UTF-8 locale would garble.
    static func pathname(_ entry: OpaquePointer) -> String? {
        guard let raw = archive_entry_pathname(entry) ?? archive_entry_pathname_utf8(entry) else {
            return nil
        }
        return String(validatingCString: raw)
    }
}
