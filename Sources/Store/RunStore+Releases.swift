// rlhub — releases: named, frozen sets of finished runs.
import Foundation
import GRDB
import RLHubCore

extension RunStore {
    /// Freezes the finished runs that `filter` selects (nil: every finished run) as release
    /// `name`, recording the filter's text. Their metrics, scores, checkpoints and status can no
    /// longer change (the schema's triggers refuse it).
    @discardableResult
    public func createRelease(name: String, filter: RunFilter? = nil, notes: String = "", source: String? = nil) throws -> ReleaseRecord {
        let filterText = filter?.text
        let selected = filter ?? .all
        guard !name.isEmpty, name.allSatisfy({ $0.isLetter || $0.isNumber || "-_.".contains($0) }), name.first != "." else {
            throw InputError(file: "release", field: name, message: "names use letters, digits, '-', '_' and '.' only")
        }
        try write { db in
            if try Bool.fetchOne(db, sql: "SELECT 1 FROM releases WHERE name = ?", arguments: [name]) == true {
                throw InputError(file: "release", field: name, message: "already exists (releases are immutable)")
            }
            let keys = try Int64.fetchAll(db, sql: "SELECT r.pk FROM runs r WHERE (\(selected.sql)) AND r.status = 'finished' ORDER BY r.created, r.id", arguments: selected.arguments)
            guard !keys.isEmpty else {
                throw InputError(file: "release", field: name, message: "no finished run matches \(filterText.map { "'\($0)'" } ?? "")")
            }
            try db.execute(
                sql: "INSERT INTO releases(name, notes, filter, created, rlhub_version, schema_version, source) VALUES (?, ?, ?, ?, ?, ?, ?)",
                arguments: [name, notes, filterText, Self.now(), RLHubVersion.string, StoreSchema.version, source])
            let release = db.lastInsertedRowID
            for pk in keys {
                try db.execute(sql: "INSERT INTO release_runs(release, run) VALUES (?, ?)", arguments: [release, pk])
            }
        }
        return try self.release(name)
    }

    /// One release with its runs.
    public func release(_ name: String) throws -> ReleaseRecord {
        try read { db in
            guard let row = try Row.fetchOne(db, sql: "SELECT * FROM releases WHERE name = ?", arguments: [name]) else {
                throw InputError(file: "release", field: name, message: "no such release in the store")
            }
            let runs = try String.fetchAll(db, sql: """
                SELECT r.id FROM release_runs m JOIN runs r ON r.pk = m.run WHERE m.release = ? ORDER BY r.created, r.id
                """, arguments: [row["id"] as Int64])
            return ReleaseRecord(
                name: row["name"], notes: row["notes"], filter: row["filter"], created: row["created"],
                rlhubVersion: row["rlhub_version"], schemaVersion: row["schema_version"], source: row["source"], runs: runs)
        }
    }

    /// Every release, oldest first.
    public func releases() throws -> [ReleaseRecord] {
        let names = try read { db in try String.fetchAll(db, sql: "SELECT name FROM releases ORDER BY created, name") }
        return try names.map { try release($0) }
    }
}
