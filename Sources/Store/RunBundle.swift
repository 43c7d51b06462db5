// rlhub — run bundles: a run written away from the central store (a Slurm array task on a compute
// node), then copied in. A bundle is a folder on the shared file system:
//
//   BUNDLE/store.sqlite    a store of its own (rollback journal: one writer, no WAL shared memory)
//   BUNDLE/blobs/          its checkpoint archives, content-addressed
//   BUNDLE/work/           resume checkpoints of the run in flight
//   BUNDLE/MANIFEST.json   written last, through a temp file and rename: the bundle is complete
//
// The manifest holds the SHA-256 of store.sqlite and of every blob; ingestion verifies all of them
// before anything enters the central store, copies the run's rows in one IMMEDIATE transaction,
// and records the manifest's own hash so that a bundle seen twice is stored once.
import Foundation
import GRDB
import RLHubCore

/// The completion record of a run bundle (`MANIFEST.json`).
public struct BundleManifest: Codable, Sendable, Equatable {
    /// Layout version of the bundle.
    public var format: Int
    /// The run the bundle holds (same id as in the central store).
    public var run: String
    /// The run's final state in the bundle (`finished`).
    public var status: String
    /// SHA-256 and size of `store.sqlite`.
    public var sqliteSHA256: String
    public var sqliteBytes: Int64
    /// Every archive in `blobs/`: SHA-256 → size.
    public var blobs: [String: Int64]
    public var created: String

    enum CodingKeys: String, CodingKey {
        case format, run, status, blobs, created
        case sqliteSHA256 = "sqlite_sha256", sqliteBytes = "sqlite_bytes"
    }
}

/// What ``RunStore/ingestBundle(at:)`` did.
public enum BundleIngestion: Sendable, Equatable {
    /// The bundle's rows are now in the store.
    case ingested(run: String)
    /// This exact bundle was ingested before: nothing changed.
    case alreadyIngested(run: String)
}

/// Reading, sealing and verifying run bundles.
public enum RunBundle {
    public static let manifestName = "MANIFEST.json"

    /// Whether `dir` holds a complete (sealed) bundle.
    public static func isSealed(_ dir: String) -> Bool {
        FileManager.default.fileExists(atPath: dir + "/" + manifestName)
    }

    /// Writes the manifest of a finished bundle: hashes of its database and blobs, through a temp
    /// file, fsync and rename, so a reader sees either no manifest or a whole one.
    ///
    /// - precondition: the bundle store is closed or idle (nothing writes it meanwhile).
    @discardableResult
    public static func seal(_ dir: String, run: String) throws -> BundleManifest {
        let (sqlite, bytes) = try StreamingSHA256.hash(file: dir + "/store.sqlite")
        var blobs: [String: Int64] = [:]
        for (sha, path) in try blobFiles(dir) { blobs[sha] = try StreamingSHA256.hash(file: path).bytes }
        let manifest = BundleManifest(format: 1, run: run, status: RunStatus.finished.rawValue, sqliteSHA256: sqlite,
                                      sqliteBytes: bytes, blobs: blobs, created: RunStore.now())
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted]
        try AtomicFile.write(try encoder.encode(manifest), to: dir + "/" + manifestName)
        return manifest
    }

    /// Reads the manifest and checks every hash it lists; returns it with the manifest's own hash.
    ///
    /// - Throws: ``InputError`` naming the first file that is missing or differs.
    public static func verify(_ dir: String) throws -> (manifest: BundleManifest, sha256: String) {
        let path = dir + "/" + manifestName
        guard let data = FileManager.default.contents(atPath: path) else {
            throw InputError(file: dir, message: "bundle is not complete (no \(manifestName)); the task may still be running")
        }
        let manifest: BundleManifest
        do { manifest = try JSONDecoder().decode(BundleManifest.self, from: data) } catch {
            throw InputError(file: path, message: "corrupted bundle manifest: \(error)")
        }
        let own = try StreamingSHA256.hash(file: path).sha256
        func check(_ file: String, _ expected: String, _ bytes: Int64) throws {
            guard FileManager.default.fileExists(atPath: file) else {
                throw InputError(file: file, message: "corrupted bundle: file missing; nothing ingested")
            }
            let got = try StreamingSHA256.hash(file: file)
            guard got.sha256 == expected, got.bytes == bytes else {
                throw InputError(file: file, message: "corrupted bundle: sha256 \(got.sha256.prefix(16))… (\(got.bytes) bytes), manifest says \(expected.prefix(16))… (\(bytes) bytes); nothing ingested")
            }
        }
        try check(dir + "/store.sqlite", manifest.sqliteSHA256, manifest.sqliteBytes)
        let blobStore = BlobStore(root: dir + "/blobs")
        for (sha, bytes) in manifest.blobs.sorted(by: { $0.key < $1.key }) {
            try check(try blobStore.path(sha256: sha), sha, bytes)
        }
        return (manifest, own)
    }

    /// The archives under `DIR/blobs`, by hash (file name = hash).
    static func blobFiles(_ dir: String) throws -> [(String, String)] {
        let root = dir + "/blobs"
        guard let e = FileManager.default.enumerator(atPath: root) else { return [] }
        var out: [(String, String)] = []
        for case let rel as String in e {
            var name = (rel as NSString).lastPathComponent
            if name.hasSuffix(".tar.zst") { name.removeLast(".tar.zst".count) }
            let full = root + "/" + rel
            var isDir: ObjCBool = false
            guard FileManager.default.fileExists(atPath: full, isDirectory: &isDir), !isDir.boolValue else { continue }
            if (try? BlobStore.validate(sha256: name)) != nil, (try? BlobStore(root: root).path(sha256: name)) == full {
                out.append((name, full))
            }
        }
        return out.sorted { $0.0 < $1.0 }
    }
}

extension RunStore {
    /// Inserts a copy of a run row from another store, same id (a bundle gets the run it will
    /// execute; ingestion creates it centrally if the bundle came from elsewhere). The experiment
    /// link is kept when an experiment of that name exists here.
    public func insertRun(copying run: RunRecord, status: RunStatus) throws {
        try write { db in
            let experimentID = try run.experiment.flatMap {
                try Int64.fetchOne(db, sql: "SELECT id FROM experiments WHERE name = ?", arguments: [$0])
            }
            try RunRow(copying: run, experimentID: experimentID, status: status).insert(db)
        }
    }

    /// Whether the bundle with this manifest hash has been ingested.
    public func hasIngested(manifestSHA256: String) throws -> Bool {
        try read { db in
            try Bool.fetchOne(db, sql: "SELECT 1 FROM ingested_bundles WHERE manifest_sha256 = ?", arguments: [manifestSHA256]) ?? false
        }
    }

    /// Copies a sealed bundle's run into this store: verifies every checksum first, then puts the
    /// blobs (content-addressed, verified again while copying) and writes the run's metrics,
    /// summaries, scores, rollout samples, checkpoints and status in one IMMEDIATE transaction that also records
    /// the manifest's hash. A second ingestion of the same bundle changes nothing.
    ///
    /// - Throws: ``InputError`` for an incomplete or corrupted bundle; nothing of it is stored.
    @discardableResult
    public func ingestBundle(at dir: String) throws -> BundleIngestion {
        let (manifest, manifestSHA) = try RunBundle.verify(dir)
        if try hasIngested(manifestSHA256: manifestSHA) { return .alreadyIngested(run: manifest.run) }
        // Read the bundle (read-only: it may sit on a network file system).
        let bundle = try RunStore(directory: dir, access: .readOnly)
        let record = try bundle.run(manifest.run)
        guard record.id == manifest.run, record.status == .finished else {
            throw InputError(file: dir, message: "corrupted bundle: run \(manifest.run) is \(record.status.rawValue) in its store; nothing ingested")
        }
        let points = try bundle.allMetrics(run: record.id)
        let scores = try bundle.scores(run: record.id)
        let checkpoints = try bundle.checkpoints(run: record.id)
        for c in checkpoints where manifest.blobs[c.sha256] == nil {
            throw InputError(file: dir, message: "corrupted bundle: checkpoint \(c.sha256.prefix(16))… is not in the manifest; nothing ingested")
        }
        if (try? self.run(record.id)) == nil { try insertRun(copying: record, status: .queued) }
        // Blobs first (durable before the rows that point at them); an identical blob is kept.
        for c in checkpoints {
            let put = try blobs.put(file: try bundle.blobs.path(sha256: c.sha256))
            guard put.sha256 == c.sha256 else {
                throw InputError(file: dir, message: "corrupted bundle: blob \(c.sha256.prefix(16))… changed while it was copied; nothing ingested")
            }
        }
        var byStep: [Int: [String: Double]] = [:]
        for p in points { byStep[p.step, default: [:]][p.name] = p.value ?? .nan }
        let records = byStep.keys.sorted().map { (step: $0, metrics: byStep[$0]!) }
        return try write { db in
            if try Bool.fetchOne(db, sql: "SELECT 1 FROM ingested_bundles WHERE manifest_sha256 = ?", arguments: [manifestSHA]) ?? false {
                return .alreadyIngested(run: record.id)
            }
            let pk = try runKey(record.id, db)
            for table in ["metrics", "metric_summaries", "scores", "checkpoints", "rollout_samples"] {
                try db.execute(sql: "DELETE FROM \(table) WHERE run = ?", arguments: [pk])
            }
            try insertMetrics(run: record.id, pk: pk, records: records, db)
            try bundle.read { src in
                // A bundle written before schema v3 has no samples table.
                if try src.tableExists("rollout_samples") {
                    try Self.copySamples(from: src, sourcePK: try bundle.runKey(record.id, src), to: db, pk: pk)
                }
            }
            for s in scores {
                try db.execute(
                    sql: "INSERT INTO scores(run, step, split, metric, value, episodes, ci_low, ci_high) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    arguments: [pk, s.step, s.split, s.metric, s.value, s.episodes, s.ciLow, s.ciHigh])
            }
            for c in checkpoints {
                try db.execute(
                    sql: "INSERT INTO checkpoints(run, step, sha256, bytes, format, path, created) VALUES (?, ?, ?, ?, ?, ?, ?)",
                    arguments: [pk, c.step, c.sha256, c.bytes, c.format, "blobs/" + (try blobs.relativePath(sha256: c.sha256)), c.created])
            }
            try db.execute(
                sql: """
                    UPDATE runs SET status = 'finished', steps_done = ?, host = ?, threads = ?, started = ?, ended = ?,
                        pid = NULL, pid_start = NULL, error = NULL WHERE pk = ?
                    """,
                arguments: [record.stepsDone, record.host, record.threads, record.started, record.ended, pk])
            try db.execute(sql: "INSERT INTO ingested_bundles(manifest_sha256, run, ingested) VALUES (?, ?, ?)",
                           arguments: [manifestSHA, record.id, Self.now()])
            return .ingested(run: record.id)
        }
    }
}
