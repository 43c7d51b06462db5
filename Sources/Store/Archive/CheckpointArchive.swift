// rlhub — checkpoint folders as deterministic tar + zstd archives (libarchive), extracted safely.
// The store addresses checkpoints by the SHA-256 of their archive, so the same folder must always
// give the same bytes, and archives from a hub are untrusted input.
import CArchive
import RLHubCore

/// Packs checkpoint folders into `.tar.zst` archives and extracts them back, safely.
///
/// - ``pack(folder:to:)`` is deterministic: the same folder content gives a byte-identical archive
///   (entries sorted by path; mtime, uid and gid 0; empty user and group names; mode 0644 for
///   files and 0755 for folders; no atime, ctime, xattrs or ACLs), so the archive's SHA-256
///   identifies the checkpoint.
/// - ``extract(archive:into:maxTotalBytes:maxEntries:)`` treats the archive as hostile: only
///   regular files and folders, relative names inside the target, bounded size and entry count,
///   all-or-nothing.
///
/// ```swift
/// try CheckpointArchive.pack(folder: "runs/r1/step-100", to: "/tmp/step-100.tar.zst")
/// try CheckpointArchive.extract(archive: "/tmp/step-100.tar.zst", into: "/tmp/restored",
///                               maxTotalBytes: 8 << 30, maxEntries: 10_000)
/// ```
///
/// Failures are ``InputError``s naming the archive (or folder) and the entry, on one line:
/// `x.tar.zst: ../evil: path escapes the target folder`.
public enum CheckpointArchive {
    /// One entry of an archive, as ``listEntries(archive:)`` reports it.
    public struct Entry: Sendable, Equatable, CustomStringConvertible {
        /// The path as stored in the archive (not normalised; folders may end in `/`).
        public var path: String
        /// The size of the entry's data in bytes (0 for folders and links).
        public var size: Int64
        /// What the entry is; only ``EntryType/file`` and ``EntryType/folder`` are extracted.
        public var type: EntryType

        /// An entry as listed (tests build expected listings with it).
        public init(path: String, size: Int64, type: EntryType) {
            self.path = path
            self.size = size
            self.type = type
        }

        /// `file 5000000 model/weights.bin`, for listings.
        public var description: String { "\(type.rawValue) \(size) \(path)" }
    }

    /// The kind of an archive entry (a tar header's type), so that inspection can show what a
    /// refused archive holds.
    public enum EntryType: String, Sendable, Equatable, CaseIterable {
        /// The two kinds that ``CheckpointArchive/pack(folder:to:)`` writes and extraction accepts.
        case file, folder
        /// Kinds that extraction refuses: they could point outside the target or at devices.
        case symbolicLink, hardLink, characterDevice, blockDevice, fifo, socket
        /// A tar type flag libarchive does not map to a file type.
        case unknown
    }

    /// libarchive's version and the versions of its compression libraries, for `rlhub doctor`
    /// (e.g. `libarchive 3.6.2 zlib/1.2.13 … libzstd/1.5.4`).
    public static var libarchiveVersion: String {
        String(cString: archive_version_details())
    }

    /// Whether libarchive was built with libzstd, for `rlhub doctor`: packing and extracting need
    /// it (rlhub never falls back to an external `zstd` program, whose output could vary).
    public static var supportsZstd: Bool {
        guard let writer = archive_write_new() else { return false }
        defer { archive_write_free(writer) }
        guard let reader = archive_read_new() else { return false }
        defer { archive_read_free(reader) }
        return archive_write_add_filter_zstd(writer) == ARCHIVE_OK
            && archive_read_support_filter_zstd(reader) == ARCHIVE_OK
    }

    /// Lists the entries of an archive without extracting or judging them (for tests and the hub).
    ///
    /// - Throws: ``InputError`` naming the archive when it cannot be read or is corrupt.
    public static func listEntries(archive: String) throws(InputError) -> [Entry] {
        let reader = try ArchiveReader(path: archive)
        var entries: [Entry] = []
        while let entry = try reader.nextEntry(after: entries.count) {
            let path = ArchiveReader.pathname(entry) ?? "<unreadable name>"
            entries.append(
                Entry(path: path, size: archive_entry_size(entry), type: entryType(entry)))
        }
        return entries
    }

    /// The type of a libarchive entry; a hard link is reported as such whatever its type bits.
    static func entryType(_ entry: OpaquePointer) -> EntryType {
        if archive_entry_hardlink(entry) != nil { return .hardLink }
        switch archive_entry_filetype(entry) & EntryTypeBits.mask {
        case EntryTypeBits.regular: return .file
        case EntryTypeBits.folder: return .folder
        case EntryTypeBits.symbolicLink: return .symbolicLink
        case EntryTypeBits.characterDevice: return .characterDevice
        case EntryTypeBits.blockDevice: return .blockDevice
        case EntryTypeBits.fifo: return .fifo
        case EntryTypeBits.socket: return .socket
        default: return .unknown
        }
    }
}
