// rlhub — extracting an untrusted tar + zstd archive: every entry name is checked by EntryPath,
// files are written with POSIX calls (never libarchive's disk writer), and the result appears
// only when the whole archive was extracted.
import CArchive
import Foundation
import RLHubCore

#if canImport(Glibc)
    import Glibc
#endif

extension CheckpointArchive {
    /// Extracts `archive` into the new folder `target`, refusing anything unsafe.
    ///
    /// Only regular files and folders are accepted. Refused, each with an ``InputError`` naming
    /// the archive and the entry: absolute paths, `..` components, empty names, names that are not
    /// UTF-8, symlinks, hard links, devices, fifos, sockets, sparse files, duplicate entries, a
    /// total size over `maxTotalBytes`, more than `maxEntries` entries, and corrupt data. Files get
    /// mode 0644 and folders 0755 whatever the archive says.
    ///
    /// Entries go to a temporary sibling folder that is renamed to `target` only when every entry
    /// succeeded (files and folders fsynced first); on failure it is removed, so `target` either
    /// holds the complete archive or does not exist.
    ///
    /// - Parameters:
    ///   - archive: the `.tar.zst` file.
    ///   - target: the folder to create; it must not exist, its parent must.
    ///   - maxTotalBytes: bound on the sum of the files' sizes.
    ///   - maxEntries: bound on the number of entries (files and folders).
    /// - Throws: ``InputError``, e.g. `x.tar.zst: ../evil: path escapes the target folder`.
    public static func extract(
        archive: String, into target: String, maxTotalBytes: Int64, maxEntries: Int
    ) throws(InputError) {
        precondition(maxTotalBytes >= 0 && maxEntries >= 0, "extraction bounds must be ≥ 0")
        guard fileTypeBits(target) == nil else {
            throw InputError(file: target, message: "already exists; extract into a new folder")
        }
        let parent = splitParent(target).folder
        guard fileTypeBits(parent) == S_IFDIR else {
            throw InputError(file: target, message: "parent folder \(parent) does not exist")
        }
        let temp = temporarySibling(of: target, tag: "extract")
        guard mkdir(temp, 0o755) == 0 else {
            throw InputError(file: target, message: "cannot create \(temp): \(errnoText())")
        }
        do throws(InputError) {
            var session = try Extraction(
                archive: archive, root: temp, maxTotalBytes: maxTotalBytes, maxEntries: maxEntries)
            try session.run()
            guard fileTypeBits(target) == nil else {
                throw InputError(file: target, message: "appeared while extracting; not replaced")
            }
            guard rename(temp, target) == 0 else {
                throw InputError(
                    file: target, message: "cannot rename \(temp) into place: \(errnoText())")
            }
        } catch {
            removeTemporary(temp)
            throw error
        }
        try syncFolder(parent)
    }
}

/// The state of one extraction: the reader, the bounds, and what was already written.
private struct Extraction {
    let reader: ArchiveReader
    let archive: String
    /// The temporary folder entries are written into.
    let root: String
    let maxTotalBytes: Int64
    let maxEntries: Int
    var totalBytes: Int64 = 0
    var entryCount = 0
    /// Normalised paths of the entries seen so far (duplicates are refused).
    var seen: Set<String> = []
    /// Folders created below `root` (explicit entries and implicit parents), relative.
    var folders: Set<String> = []

    init(archive: String, root: String, maxTotalBytes: Int64, maxEntries: Int) throws(InputError) {
        reader = try ArchiveReader(path: archive)
        self.archive = archive
        self.root = root
        self.maxTotalBytes = maxTotalBytes
        self.maxEntries = maxEntries
    }

    /// Extracts every entry, then fsyncs the folders deepest first.
    mutating func run() throws(InputError) {
        let buffer = allocateChunk()
        defer { buffer.deallocate() }
        while let entry = try reader.nextEntry(after: entryCount) {
            entryCount += 1
            try extractEntry(entry, buffer: buffer)
        }
        for folder in folders.sorted(by: { $0.utf8.count > $1.utf8.count }) {
            try syncFolder(root + "/" + folder)
        }
        try syncFolder(root)
    }

    /// Checks one entry (name, type, duplicates, bounds), then writes it.
    private mutating func extractEntry(
        _ entry: OpaquePointer, buffer: UnsafeMutableRawBufferPointer
    )
        throws(InputError)
    {
        guard let name = ArchiveReader.pathname(entry) else {
            throw InputError(
                file: archive, field: "entry \(entryCount)", message: "name is missing or not UTF-8"
            )
        }
        let file = archive
        let field = name.isEmpty ? "entry \(entryCount)" : name
        let refuse = { (message: String) in InputError(file: file, field: field, message: message) }
        guard entryCount <= maxEntries else { throw refuse("more than \(maxEntries) entries") }
        let relative: String
        switch EntryPath.normalise(name) {
        case .success(let path): relative = path
        case .failure(let refusal): throw refuse(refusal.message)
        }
        let type = CheckpointArchive.entryType(entry)
        guard type == .file || type == .folder, archive_entry_symlink(entry) == nil else {
            throw refuse(
                "\(Self.describe(type)) refused; only regular files and folders are extracted")
        }
        guard archive_entry_sparse_count(entry) == 0 else {
            throw refuse("sparse files are refused")
        }
        guard seen.insert(relative).inserted else { throw refuse("duplicate entry") }
        try checkInside(relative, refuse: refuse)
        // Every entry's size counts, folders' too: libarchive decompresses the data it skips.
        let size = archive_entry_size(entry)
        guard size >= 0 else { throw refuse("negative size") }
        guard size <= maxTotalBytes - totalBytes else {
            throw refuse("archive expands to more than \(maxTotalBytes) bytes")
        }
        totalBytes += size
        try makeParents(of: relative, refuse: refuse)
        if type == .folder {
            try makeFolder(relative, refuse: refuse)
        } else {
            try writeFile(relative, size: size, buffer: buffer, refuse: refuse)
        }
    }

    /// Defence in depth: the joined path stays below `root` (normalise already guarantees it).
    private func checkInside(_ relative: String, refuse: (String) -> InputError) throws(InputError)
    {
        let joined = root + "/" + relative
        let components = relative.split(separator: "/", omittingEmptySubsequences: false)
        guard joined.hasPrefix(root + "/"),
            !components.contains(where: { $0.isEmpty || $0 == "." || $0 == ".." })
        else { throw refuse("path escapes the target folder") }
    }

    /// Creates the missing parent folders of `relative` (archives need not list them).
    private mutating func makeParents(of relative: String, refuse: (String) -> InputError)
        throws(InputError)
    {
        var prefix = ""
        for component in relative.split(separator: "/").dropLast() {
            prefix += prefix.isEmpty ? String(component) : "/" + component
            if !folders.contains(prefix) { try makeFolder(prefix, refuse: refuse) }
        }
    }

    /// Creates one folder (mode 0755); an existing folder we created is fine, anything else not.
    private mutating func makeFolder(_ relative: String, refuse: (String) -> InputError)
        throws(InputError)
    {
        if folders.contains(relative) { return }
        let path = root + "/" + relative
        guard mkdir(path, 0o755) == 0 else {
            if errno == EEXIST {
                throw refuse("\(relative) is already a file in the target (conflicting entries)")
            }
            throw refuse("cannot create folder: \(errnoText())")
        }
        folders.insert(relative)
    }

    /// Writes exactly `size` bytes of the current entry's data to a new file, then fsyncs it.
    private func writeFile(
        _ relative: String, size: Int64, buffer: UnsafeMutableRawBufferPointer,
        refuse: (String) -> InputError
    ) throws(InputError) {
        let path = root + "/" + relative
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o644)
        guard fd >= 0 else {
            if errno == EEXIST { throw refuse("conflicts with a folder of an earlier entry") }
            throw refuse("cannot create file: \(errnoText())")
        }
        var written: Int64 = 0
        do throws(InputError) {
            while true {
                let n = archive_read_data(reader.handle, buffer.baseAddress, buffer.count)
                if n == 0 { break }
                guard n > 0 else {
                    throw refuse("corrupt data: \(archiveErrorText(reader.handle))")
                }
                written += Int64(n)
                guard written <= size else { throw refuse("data longer than the header's size") }
                try writeAll(fd, UnsafeRawBufferPointer(rebasing: buffer[0..<n]), path: path)
            }
            guard written == size else { throw refuse("data shorter than the header's size") }
        } catch {
            close(fd)
            throw error
        }
        try syncAndClose(fd, path: path)
    }

    /// "a symbolic link", "a fifo", … for error messages.
    private static func describe(_ type: CheckpointArchive.EntryType) -> String {
        switch type {
        case .file: "a regular file"
        case .folder: "a folder"
        case .symbolicLink: "a symbolic link"
        case .hardLink: "a hard link"
        case .characterDevice: "a character device"
        case .blockDevice: "a block device"
        case .fifo: "a fifo"
        case .socket: "a socket"
        case .unknown: "an entry of unknown type"
        }
    }
}
