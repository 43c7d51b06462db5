// rlhub — the static hub layout: what `rlhub publish` writes and `rlhub pull` reads.
//
//   HUB/index.json                          this file's format: releases, runs, checkpoints, and
//                                           the SHA-256 and size of every other file listed
//   HUB/releases/NAME/store.sqlite          the release's subset of a store (same schema)
//   HUB/blobs/sha256/ab/<64 hex>.tar.zst    checkpoint archives, content-addressed (with the base
//                                           archives of published LoRA adapters, each once)
//
// Any HTTP server or object store can host the folder; nothing in it needs a server to run. Every
// path in the index is checked against these three shapes before it is used, so an index cannot
// name a file outside the hub (or outside the local store) whatever it contains.
import Foundation
import RLHubCore
import Store

/// The `index.json` of a hub folder.
public struct HubIndex: Codable, Sendable, Equatable {
    /// Layout version; a reader refuses a newer one.
    public var format: Int
    /// The rlhub version that wrote the index last.
    public var generator: String
    /// The published releases, by name.
    public var releases: [HubRelease]
    /// Every file of the hub except `index.json`: relative path → SHA-256 and size.
    public var files: [String: HubFile]

    /// The layout version this rlhub writes and reads.
    public static let currentFormat = 1
    /// The index's file name at the root of a hub.
    public static let fileName = "index.json"

    public init(format: Int = HubIndex.currentFormat, generator: String = RLHubVersion.string,
                releases: [HubRelease] = [], files: [String: HubFile] = [:]) {
        self.format = format
        self.generator = generator
        self.releases = releases
        self.files = files
    }

    /// The release called `name`.
    ///
    /// - Throws: ``InputError`` listing the releases the hub has.
    public func release(_ name: String, in source: String) throws -> HubRelease {
        guard let found = releases.first(where: { $0.name == name }) else {
            let names = releases.map(\.name).joined(separator: ", ")
            throw InputError(file: source, field: "release", message: "no release '\(name)' (the hub has: \(names.isEmpty ? "none" : names))")
        }
        return found
    }

    /// Decodes and validates an index: known format, well-formed paths and hashes, every path a
    /// release or checkpoint names listed in ``files``.
    ///
    /// - Throws: ``InputError`` naming `source` and the offending field.
    public static func decode(_ data: Data, source: String) throws -> HubIndex {
        let index: HubIndex
        do {
            index = try JSONDecoder().decode(HubIndex.self, from: data)
        } catch let error as DecodingError {
            throw InputError(file: source, message: "not a hub index: \(Self.describe(error))")
        } catch {
            throw InputError(file: source, message: "not a hub index: \(error)")
        }
        try index.validate(source: source)
        return index
    }

    /// The checks of ``decode(_:source:)`` on an index already in memory.
    public func validate(source: String) throws {
        guard format >= 1, format <= Self.currentFormat else {
            throw InputError(file: source, field: "format", message: "hub format \(format) is not supported (this rlhub reads 1…\(Self.currentFormat)); upgrade rlhub")
        }
        for (path, file) in files {
            try HubPath.validate(path, source: source, field: "files")
            do { try BlobStore.validate(sha256: file.sha256) } catch {
                throw InputError(file: source, field: "files[\(path)].sha256", message: "not a SHA-256 digest")
            }
            guard file.bytes >= 0 else {
                throw InputError(file: source, field: "files[\(path)].bytes", message: "negative size")
            }
        }
        var seen = Set<String>()
        for release in releases {
            let field = "releases[\(release.name)]"
            try HubPath.validateReleaseName(release.name, source: source)
            guard seen.insert(release.name).inserted else {
                throw InputError(file: source, field: field, message: "listed twice")
            }
            guard release.store.path == HubPath.releaseStore(release.name) else {
                throw InputError(file: source, field: field + ".store.path", message: "must be '\(HubPath.releaseStore(release.name))', is '\(release.store.path)'")
            }
            guard files[release.store.path] == release.store.file else {
                throw InputError(file: source, field: field + ".store", message: "differs from its entry in 'files'")
            }
            for run in release.runs {
                for checkpoint in run.checkpoints {
                    let cfield = "\(field).runs[\(run.id)].checkpoints[\(checkpoint.step)]"
                    do { try BlobStore.validate(sha256: checkpoint.sha256) } catch {
                        throw InputError(file: source, field: cfield + ".sha256", message: "not a SHA-256 digest")
                    }
                    guard let url = checkpoint.url else { continue }
                    guard url == HubPath.blob(checkpoint.sha256) else {
                        throw InputError(file: source, field: cfield + ".url", message: "must be '\(HubPath.blob(checkpoint.sha256))', is '\(url)'")
                    }
                    guard files[url]?.sha256 == checkpoint.sha256, files[url]?.bytes == checkpoint.bytes else {
                        throw InputError(file: source, field: cfield, message: "not listed in 'files' with the same hash and size")
                    }
                }
            }
            for base in release.bases ?? [] {
                let bfield = "\(field).bases[\(base.sha256.prefix(16))]"
                do { try BlobStore.validate(sha256: base.sha256) } catch {
                    throw InputError(file: source, field: bfield + ".sha256", message: "not a SHA-256 digest")
                }
                guard base.url == HubPath.blob(base.sha256) else {
                    throw InputError(file: source, field: bfield + ".url", message: "must be '\(HubPath.blob(base.sha256))', is '\(base.url)'")
                }
                guard files[base.url]?.sha256 == base.sha256, files[base.url]?.bytes == base.bytes else {
                    throw InputError(file: source, field: bfield, message: "not listed in 'files' with the same hash and size")
                }
            }
            // A base an archive names is published by the same release.
            let published = release.publishedArchives
            for archive in published.values {
                if let base = archive.base, published[base] == nil {
                    throw InputError(file: source, field: "\(field).base[\(archive.sha256.prefix(16))]", message: "names an archive the release does not publish")
                }
            }
        }
    }

    /// Pretty, sorted-key JSON: the same index always gives the same bytes.
    public func encoded() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
        var data = try encoder.encode(self)
        data.append(0x0a)
        return data
    }

    private static func describe(_ error: DecodingError) -> String {
        func path(_ context: DecodingError.Context) -> String {
            context.codingPath.map { $0.intValue.map { "[\($0)]" } ?? ".\($0.stringValue)" }.joined()
        }
        switch error {
        case .keyNotFound(let key, let c): return "missing field '\(path(c)).\(key.stringValue)'"
        case .typeMismatch(_, let c), .valueNotFound(_, let c): return "field '\(path(c))': \(c.debugDescription)"
        case .dataCorrupted(let c): return "\(path(c).isEmpty ? "" : "field '\(path(c))': ")\(c.debugDescription)"
        @unknown default: return "\(error)"
        }
    }
}

/// A file of the hub: its SHA-256 and size.
public struct HubFile: Codable, Sendable, Equatable {
    public var sha256: String
    public var bytes: Int64

    public init(sha256: String, bytes: Int64) {
        self.sha256 = sha256
        self.bytes = bytes
    }
}

/// A published release: its metadata, its store subset and its runs.
public struct HubRelease: Codable, Sendable, Equatable {
    public var name: String
    public var notes: String
    public var filter: String?
    public var created: String
    public var rlhubVersion: String
    public var schemaVersion: Int
    /// The release's store subset (`releases/NAME/store.sqlite`).
    public var store: HubStoreFile
    public var runs: [HubRun]
    /// The base archives published because a published LoRA adapter names them by content
    /// (`sha256:HEX` in its `rlhub_base.json`), each once; nil when there are none, so an index
    /// without LoRA adapters reads and encodes as before (and an older rlhub ignores the key).
    public var bases: [HubBaseArchive]?

    enum CodingKeys: String, CodingKey {
        case name, notes, filter, created, store, runs, bases
        case rlhubVersion = "rlhub_version", schemaVersion = "schema_version"
    }
}

/// Where a release's store subset is, with its hash.
public struct HubStoreFile: Codable, Sendable, Equatable {
    public var path: String
    public var sha256: String
    public var bytes: Int64

    var file: HubFile { HubFile(sha256: sha256, bytes: bytes) }
}

/// A run of a published release (what `rlhub pull --metadata-only` and the web UI list): the
/// store's ``RunSummary`` of the run and its checkpoints, as one JSON object (the summary's keys
/// beside `checkpoints`). Its fields read as the summary's: `run.id`, `run.algo`, ….
@dynamicMemberLookup
public struct HubRun: Codable, Sendable, Equatable {
    public var summary: RunSummary
    public var checkpoints: [HubCheckpoint]

    public init(summary: RunSummary, checkpoints: [HubCheckpoint]) {
        self.summary = summary
        self.checkpoints = checkpoints
    }

    public subscript<Value>(dynamicMember field: KeyPath<RunSummary, Value>) -> Value { summary[keyPath: field] }

    enum CodingKeys: String, CodingKey {
        case checkpoints
    }

    public init(from decoder: any Decoder) throws {
        summary = try RunSummary(from: decoder)
        checkpoints = try decoder.container(keyedBy: CodingKeys.self).decode([HubCheckpoint].self, forKey: .checkpoints)
    }

    public func encode(to encoder: any Encoder) throws {
        try summary.encode(to: encoder)
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(checkpoints, forKey: .checkpoints)
    }
}

/// A checkpoint of a published run. `url` is nil when the publisher left the archive out (the run's
/// curves and scores are published; its weights are not).
public struct HubCheckpoint: Codable, Sendable, Equatable {
    public var step: Int
    public var sha256: String
    public var bytes: Int64
    /// The archive's path relative to the hub (`blobs/sha256/ab/<hex>.tar.zst`), when published.
    public var url: String?
    /// For a LoRA adapter whose base archive the release publishes: that archive's SHA-256, so a
    /// pull of this checkpoint fetches its base too. Absent otherwise.
    public var base: String?

    public init(step: Int, sha256: String, bytes: Int64, url: String?, base: String? = nil) {
        self.step = step
        self.sha256 = sha256
        self.bytes = bytes
        self.url = url
        self.base = base
    }
}

/// A base archive a release publishes for its LoRA adapters (see ``HubRelease/bases``).
public struct HubBaseArchive: Codable, Sendable, Equatable {
    public var sha256: String
    public var bytes: Int64
    /// `blobs/sha256/ab/<hex>.tar.zst`.
    public var url: String
    /// Its own base, when it is itself a LoRA adapter whose base the release publishes.
    public var base: String?

    public init(sha256: String, bytes: Int64, url: String, base: String? = nil) {
        self.sha256 = sha256
        self.bytes = bytes
        self.url = url
        self.base = base
    }
}

extension HubRelease {
    /// Every archive the release publishes (its checkpoints with a URL and its bases), by SHA-256.
    public var publishedArchives: [String: HubBaseArchive] {
        var all: [String: HubBaseArchive] = [:]
        for run in runs {
            for c in run.checkpoints {
                if let url = c.url { all[c.sha256] = HubBaseArchive(sha256: c.sha256, bytes: c.bytes, url: url, base: c.base) }
            }
        }
        for base in bases ?? [] { all[base.sha256] = base }
        return all
    }

    /// `archives` and, recursively, the bases they name, each once, in first-needed order.
    public func withBases(_ archives: [HubBaseArchive]) -> [HubBaseArchive] {
        let published = publishedArchives
        var seen = Set<String>(), out: [HubBaseArchive] = [], queue = archives
        while !queue.isEmpty {
            let next = queue.removeFirst()
            guard seen.insert(next.sha256).inserted else { continue }
            out.append(next)
            if let base = next.base, let archive = published[base] { queue.append(archive) }
        }
        return out
    }
}

/// The three shapes of path a hub holds, and their validation.
public enum HubPath {
    /// `releases/NAME/store.sqlite`.
    public static func releaseStore(_ release: String) -> String { "releases/\(release)/store.sqlite" }

    /// `blobs/sha256/ab/<hex>.tar.zst` (same relative path as in a store folder).
    public static func blob(_ sha256: String) -> String { "blobs/sha256/\(sha256.prefix(2))/\(sha256).tar.zst" }

    /// Release names: letters, digits, `-`, `_`, `.`, not starting with `.` (as `release create`).
    public static func validateReleaseName(_ name: String, source: String) throws {
        guard !name.isEmpty, name.count <= 128, name.first != ".",
              name.unicodeScalars.allSatisfy({ $0.isASCII && (CharacterSet.alphanumerics.contains($0) || "-_.".unicodeScalars.contains($0)) })
        else {
            throw InputError(file: source, field: "release", message: "'\(name.prefix(80))' is not a release name (letters, digits, '-', '_', '.')")
        }
    }

    /// Accepts exactly `releases/NAME/store.sqlite` and `blobs/sha256/ab/<hex>.tar.zst`; anything
    /// else (`..`, absolute paths, other files) is refused.
    public static func validate(_ path: String, source: String, field: String) throws {
        if path.hasPrefix("releases/"), path.hasSuffix("/store.sqlite") {
            let name = String(path.dropFirst("releases/".count).dropLast("/store.sqlite".count))
            if (try? validateReleaseName(name, source: source)) != nil { return }
        } else if path.hasPrefix("blobs/sha256/"), path.hasSuffix(".tar.zst") {
            let parts = path.split(separator: "/", omittingEmptySubsequences: false)
            if parts.count == 4 {
                let hex = String(parts[3].dropLast(".tar.zst".count))
                if (try? BlobStore.validate(sha256: hex)) != nil, parts[2] == hex.prefix(2) { return }
            }
        }
        throw InputError(file: source, field: field, message: "'\(path.prefix(120))' is not a hub path (expected releases/NAME/store.sqlite or blobs/sha256/ab/HEX.tar.zst)")
    }
}
