import Foundation
import GRDB
import Testing
@_spi(StoreInternals) import Store

@Suite struct StoreSchemaTests {
    @Test func migratesAnEmptyDatabaseAndFreezesReleasedRuns() throws {
        let db = try DatabaseQueue()
        try StoreSchema.migrator.migrate(db)
        try db.write { db in
            let tables = try String.fetchAll(db, sql: "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
            for table in ["experiments", "runs", "metrics", "metric_names", "metric_summaries", "scores",
                          "checkpoints", "releases", "release_runs", "tags", "store_info"] {
                #expect(tables.contains(table), "missing table \(table)")
            }
            try db.execute(sql: """
                INSERT INTO runs(id, algo, task, model, seed, config_json, config_hash, group_hash,
                    code_version, rlhub_version, host, threads, status, created)
                VALUES ('r1', 'grpo', 'add', 'preset:tiny', 0, '{}', 'h', 'g', 'c', 'v', 'host', 1, 'finished', 't');
                INSERT INTO metric_names(id, name) VALUES (1, 'reward/mean');
                INSERT INTO metrics(run, name, step, value) VALUES (1, 1, 1, 0.5);
                INSERT INTO releases(name, created, rlhub_version, schema_version) VALUES ('v1', 't', 'v', 1);
                INSERT INTO release_runs(release, run) VALUES (1, 1);
                """)
            #expect(throws: DatabaseError.self) {
                try db.execute(sql: "INSERT INTO metrics(run, name, step, value) VALUES (1, 1, 2, 0.7)")
            }
            #expect(throws: DatabaseError.self) { try db.execute(sql: "UPDATE runs SET status = 'failed'") }
            #expect(throws: DatabaseError.self) { try db.execute(sql: "DELETE FROM release_runs") }
            #expect(try Int.fetchOne(db, sql: "SELECT count(*) FROM metrics") == 1)
        }
    }
}
