// rlhub — packing a folder into a deterministic tar (pax restricted) + zstd archive.
import CArchive
import Foundation
import RLHubCore

#if canImport(Glibc)
    import Glibc
#endif

extension CheckpointArchive {
    /// The zstd level of packed archives (zstd's default): fixed, because it changes the bytes.
    static let zstdLevel = "3"

    /// Writes `folder` (recursively) to `archivePath` as a tar compressed with zstd.
    ///
    /// The archive is deterministic: entries sorted by path (UTF-8 byte order), mtime 0, uid and
    /// gid 0, empty user and group names, mode 0644 for files and 0755 for folders, no atime,
    /// ctime, xattrs or ACLs. Files are read in 1 MiB chunks. The archive is written under a
    /// temporary name beside `archivePath`, fsynced, then renamed into place, so readers never see
    /// a partial archive.
    ///
    /// - Parameters:
    ///   - folder: the folder to pack; its own name is not stored (entries are relative to it).
    ///     It may itself be a symlink to a folder; links inside it are refused.
    ///   - archivePath: where to write the archive (replaced if it exists; not inside `folder`).
    /// - Throws: ``InputError`` naming the folder and the entry for a symlink, device, fifo or
    ///   socket inside `folder`, a file that changed size while being packed, or an I/O failure.
    public static func pack(folder: String, to archivePath: String) throws(InputError) {
        var info = stat()
        guard stat(folder, &info) == 0, info.st_mode & S_IFMT == S_IFDIR else {
            throw InputError(file: folder, message: "not a folder")
        }
        try refuseArchiveInside(folder: folder, archivePath: archivePath)
        var entries: [PackEntry] = []
        try collect(root: folder, relative: "", into: &entries)
        entries.sort { $0.path.utf8.lexicographicallyPrecedes($1.path.utf8) }

        let temp = temporarySibling(of: archivePath, tag: "pack")
        let fd = open(temp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard fd >= 0 else {
            throw InputError(file: archivePath, message: "cannot create \(temp): \(errnoText())")
        }
        do throws(InputError) {
            try writeArchive(entries, root: folder, fd: fd, path: archivePath)
            try syncAndClose(fd, path: temp)
        } catch {
            close(fd)
            unlink(temp)
            throw error
        }
        guard rename(temp, archivePath) == 0 else {
            let reason = errnoText()
            unlink(temp)
            throw InputError(
                file: archivePath, message: "cannot rename \(temp) into place: \(reason)")
        }
        try syncFolder(splitParent(archivePath).folder)
    }

    // MARK: - Walking the folder

    /// A file or folder to pack, by its path relative to the packed folder.
    private struct PackEntry {
        var path: String
        var isFolder: Bool
    }

    /// Appends the entries below `root/relative`; anything but files and folders is an error.
    private static func collect(root: String, relative: String, into entries: inout [PackEntry])
        throws(InputError)
    {
        let here = relative.isEmpty ? root : root + "/" + relative
        let names: [String]
        do {
            names = try FileManager.default.contentsOfDirectory(atPath: here)
        } catch {
            throw InputError(file: root, field: relative, message: "cannot list folder: \(error)")
        }
        for name in names {
            let path = relative.isEmpty ? name : relative + "/" + name
            switch fileTypeBits(root + "/" + path) {
            case S_IFREG:
                entries.append(PackEntry(path: path, isFolder: false))
            case S_IFDIR:
                entries.append(PackEntry(path: path, isFolder: true))
                try collect(root: root, relative: path, into: &entries)
            case S_IFLNK:
                throw InputError(
                    file: root, field: path,
                    message: "is a symbolic link; only regular files and folders are packed")
            case nil:
                throw InputError(file: root, field: path, message: "vanished while packing")
            default:
                throw InputError(
                    file: root, field: path,
                    message:
                        "is not a regular file or folder (device, fifo or socket); cannot pack it")
            }
        }
    }

    /// Refuses to write the archive into the folder being packed (it would pack itself).
    private static func refuseArchiveInside(folder: String, archivePath: String) throws(InputError)
    {
        let parent = splitParent(archivePath).folder
        guard let realFolder = realPath(folder), let realParent = realPath(parent) else {
            throw InputError(file: archivePath, message: "its folder \(parent) does not exist")
        }
        if realParent == realFolder || realParent.hasPrefix(realFolder + "/") {
            throw InputError(
                file: archivePath, message: "is inside \(folder), the folder being packed")
        }
    }

    /// `realpath(3)` of `path`, nil if it does not resolve.
    private static func realPath(_ path: String) -> String? {
        guard let resolved = realpath(path, nil) else { return nil }
        defer { free(resolved) }
        return String(cString: resolved)
    }

    // MARK: - Writing the archive

    /// Writes every entry through libarchive (pax restricted + zstd) to the open descriptor.
    private static func writeArchive(_ entries: [PackEntry], root: String, fd: Int32, path: String)
        throws(InputError)
    {
        guard let writer = archive_write_new() else {
            throw InputError(file: path, message: "libarchive could not allocate a writer")
        }
        defer { archive_write_free(writer) }
        // hdrcharset=BINARY: names are stored as their UTF-8 bytes with no conversion through the
        // process's locale, whose charset would otherwise change the bytes (or fail, in "C").
        guard archive_write_set_format_pax_restricted(writer) == ARCHIVE_OK,
            archive_write_set_format_option(writer, "pax", "hdrcharset", "BINARY") == ARCHIVE_OK,
            archive_write_add_filter_zstd(writer) == ARCHIVE_OK
        else {
            throw InputError(
                file: path, message: "this libarchive cannot write zstd (see rlhub doctor)")
        }
        guard
            archive_write_set_filter_option(writer, "zstd", "compression-level", zstdLevel)
                == ARCHIVE_OK, archive_write_open_fd(writer, fd) == ARCHIVE_OK
        else {
            throw InputError(
                file: path, message: "cannot start archive: \(archiveErrorText(writer))")
        }
        let buffer = allocateChunk()
        defer { buffer.deallocate() }
        for entry in entries {
            try writeEntry(entry, root: root, writer: writer, buffer: buffer, archivePath: path)
        }
        guard archive_write_close(writer) == ARCHIVE_OK else {
            throw InputError(
                file: path, message: "cannot finish archive: \(archiveErrorText(writer))")
        }
    }

    /// Writes one entry's header (fixed metadata) and, for a file, its data in chunks.
    private static func writeEntry(
        _ item: PackEntry, root: String, writer: OpaquePointer,
        buffer: UnsafeMutableRawBufferPointer, archivePath: String
    ) throws(InputError) {
        let source = root + "/" + item.path
        var fd: Int32 = -1
        var size: Int64 = 0
        if !item.isFolder {
            fd = open(source, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)
            var info = stat()
            guard fd >= 0, fstat(fd, &info) == 0, info.st_mode & S_IFMT == S_IFREG else {
                if fd >= 0 { close(fd) }
                throw InputError(
                    file: root, field: item.path, message: "cannot open: \(errnoText())")
            }
            size = Int64(info.st_size)
        }
        defer { if fd >= 0 { close(fd) } }

        guard let header = archive_entry_new() else {
            throw InputError(file: archivePath, message: "libarchive could not allocate an entry")
        }
        defer { archive_entry_free(header) }
        archive_entry_copy_pathname(header, item.path)  // UTF-8 bytes, written as is (BINARY)
        archive_entry_set_filetype(
            header, item.isFolder ? EntryTypeBits.folder : EntryTypeBits.regular)
        archive_entry_set_perm(header, item.isFolder ? 0o755 : 0o644)
        archive_entry_set_size(header, size)
        archive_entry_set_mtime(header, 0, 0)
        archive_entry_set_uid(header, 0)
        archive_entry_set_gid(header, 0)
        guard archive_write_header(writer, header) == ARCHIVE_OK else {
            throw InputError(
                file: archivePath, field: item.path,
                message: "cannot write header: \(archiveErrorText(writer))")
        }
        if !item.isFolder {
            try copyData(
                from: fd, size: size, writer: writer, buffer: buffer, root: root, item: item.path)
        }
    }

    /// Streams exactly `size` bytes of `fd` into the current entry; a file that shrinks or grows
    /// meanwhile is an error (the archive would not be a consistent checkpoint).
    private static func copyData(
        from fd: Int32, size: Int64, writer: OpaquePointer,
        buffer: UnsafeMutableRawBufferPointer, root: String, item: String
    ) throws(InputError) {
        var remaining = size
        while remaining > 0 {
            let want = Int(min(Int64(buffer.count), remaining))
            let n = try readChunk(
                fd, into: UnsafeMutableRawBufferPointer(rebasing: buffer[0..<want]),
                path: root + "/" + item)
            guard n > 0 else {
                throw InputError(file: root, field: item, message: "file shrank while being packed")
            }
            guard archive_write_data(writer, buffer.baseAddress, n) == n else {
                throw InputError(
                    file: root, field: item,
                    message: "cannot write data: \(archiveErrorText(writer))")
            }
            remaining -= Int64(n)
        }
        let extra = try readChunk(
            fd, into: UnsafeMutableRawBufferPointer(rebasing: buffer[0..<1]),
            path: root + "/" + item)
        guard extra == 0 else {
            throw InputError(file: root, field: item, message: "file grew while being packed")
        }
    }
}
