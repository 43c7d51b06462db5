// rlhub — zstd frames in memory through libarchive's "raw" format (no tar around the bytes): the
// store's compressed columns (rollout samples). libarchive is already the store's zstd codec for
// checkpoint archives, so no second compression library is linked.
import CArchive
import Foundation
import RLHubCore

/// Compresses and decompresses byte strings as single zstd frames (level 3, libarchive's default),
/// deterministically: the same bytes give the same frame with the same libzstd.
public enum ZstdData {
    /// The frame of `data`.
    public static func compress(_ data: Data) throws(InputError) -> Data {
        guard let handle = archive_write_new() else {
            throw InputError(file: "zstd", message: "libarchive could not allocate a writer")
        }
        defer { archive_write_free(handle) }
        // zstd's bound (input + input/256 + frame overhead), plus room for libarchive's block flushes.
        let capacity = data.count + data.count / 128 + 4096
        var output = [UInt8](repeating: 0, count: capacity)
        var used = 0
        let status = output.withUnsafeMutableBytes { buffer -> Int32 in
            guard archive_write_add_filter_zstd(handle) == ARCHIVE_OK,
                  archive_write_set_format_raw(handle) == ARCHIVE_OK,
                  // One output block per call: libarchive pads the last block otherwise.
                  archive_write_set_bytes_per_block(handle, 0) == ARCHIVE_OK,
                  archive_write_open_memory(handle, buffer.baseAddress, capacity, &used) == ARCHIVE_OK
            else { return ARCHIVE_FATAL }
            guard let entry = archive_entry_new() else { return ARCHIVE_FATAL }
            defer { archive_entry_free(entry) }
            archive_entry_set_pathname(entry, "data")
            archive_entry_set_filetype(entry, EntryTypeBits.regular)
            archive_entry_set_size(entry, la_int64_t(data.count))
            guard archive_write_header(handle, entry) == ARCHIVE_OK else { return ARCHIVE_FATAL }
            let written = data.withUnsafeBytes { raw in
                raw.count == 0 ? 0 : archive_write_data(handle, raw.baseAddress, raw.count)
            }
            guard written == data.count else { return ARCHIVE_FATAL }
            return archive_write_close(handle)
        }
        guard status == ARCHIVE_OK else {
            throw InputError(file: "zstd", message: "cannot compress \(data.count) bytes: \(archiveErrorText(handle))")
        }
        return Data(output[0..<used])
    }

    /// The bytes of a frame written by ``compress(_:)``, refusing more than `limit` of them (a
    /// pulled store is untrusted: a small frame can expand enormously).
    public static func decompress(_ frame: Data, limit: Int) throws(InputError) -> Data {
        guard let handle = archive_read_new() else {
            throw InputError(file: "zstd", message: "libarchive could not allocate a reader")
        }
        defer { archive_read_free(handle) }
        var out = Data()
        var failure: String? = nil
        frame.withUnsafeBytes { raw in
            guard archive_read_support_filter_zstd(handle) == ARCHIVE_OK,
                  archive_read_support_format_raw(handle) == ARCHIVE_OK,
                  archive_read_open_memory(handle, raw.baseAddress, raw.count) == ARCHIVE_OK
            else { failure = "not a zstd frame: \(archiveErrorText(handle))"; return }
            var entry: OpaquePointer?
            guard archive_read_next_header(handle, &entry) == ARCHIVE_OK,
                  archive_filter_code(handle, 0) == ARCHIVE_FILTER_ZSTD
            else { failure = "not a zstd frame"; return }
            var chunk = [UInt8](repeating: 0, count: 1 << 16)
            while true {
                let n = chunk.withUnsafeMutableBytes { archive_read_data(handle, $0.baseAddress, $0.count) }
                if n == 0 { break }
                guard n > 0 else { failure = "corrupt zstd frame: \(archiveErrorText(handle))"; return }
                guard out.count + n <= limit else { failure = "expands past \(limit) bytes"; return }
                out.append(contentsOf: chunk[0..<n])
            }
        }
        if let failure { throw InputError(file: "zstd", message: failure) }
        return out
    }
}
