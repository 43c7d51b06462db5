// rlhub — the store's schema. Migrations are registered once, in order, and never edited: a change
// to the schema is a new migration appended at the end.
import GRDB

/// The SQLite schema of a run store and its migrations.
///
/// Tables (all ids of runs are text, globally unique, so that runs pulled from a hub keep theirs):
/// - `experiments(id, name, spec_text, spec_hash, created)`
/// - `runs(pk, id, experiment_id, cell, algo, task, model, seed, config_json, config_hash,
///   group_hash, code_version, code_dirty, rlhub_version, host, threads, pid, pid_start, status,
///   steps_done, created, started, ended, error)`: `group_hash` hashes the config without its seed
///   (what the evaluation groups by); `pid`/`pid_start` identify the process that holds a running
///   run, so a crashed writer is detected on the next open.
/// - `metric_names(id, name)` and `metrics(run, name, step, value)`: one row per point, keyed by
///   integers (`WITHOUT ROWID`), so a per-run per-name range read is one index range scan.
/// - `metric_summaries(run, name, final_step, final_value, best_step, best_value, count)`: kept up
///   to date by every insert so that `final.x` / `best.x` filters over many runs read one row each.
/// - `scores(run, step, split, metric, value, episodes, ci_low, ci_high)`.
/// - `checkpoints(run, step, sha256, bytes, format, path, created)`.
/// - `releases(id, name, notes, filter, created, rlhub_version, schema_version, source)` and
///   `release_runs(release, run)`: runs in a release are immutable (triggers refuse changes).
/// - `tags(run, key, value)`; `store_info(key, value)`.
/// - v2: `ingested_bundles(manifest_sha256, run, ingested)`: run bundles written by Slurm array
///   tasks and copied into this store, so that a bundle seen twice is stored once.
/// - v3: `rollout_samples(run, step, kind, position, problem, group_id, sample, reward, advantage,
///   logprob_gap, outcome, finish_reason, truncated, turns, prompt_tokens, response_tokens,
///   raw_bytes, data)`: recorded trajectories (RunStore+Samples.swift), one row per sample; the
///   columns are what `rlhub samples --where` filters on, `data` the whole sample as zstd-compressed
///   JSON. Frozen with the run like its metrics.
public enum StoreSchema {
    /// Bumped with every appended migration; recorded in `store_info` and in releases.
    public static let version = 3

    /// The migrator with every migration of the store, in order.
    @_spi(StoreInternals)
    public static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1") { db in
            try db.execute(sql: """
                CREATE TABLE store_info(key TEXT PRIMARY KEY NOT NULL, value TEXT NOT NULL);

                CREATE TABLE experiments(
                    id INTEGER PRIMARY KEY,
                    name TEXT NOT NULL UNIQUE,
                    spec_text TEXT NOT NULL,
                    spec_hash TEXT NOT NULL,
                    created TEXT NOT NULL);

                CREATE TABLE runs(
                    pk INTEGER PRIMARY KEY,
                    id TEXT NOT NULL UNIQUE,
                    experiment_id INTEGER REFERENCES experiments(id),
                    cell TEXT,
                    algo TEXT NOT NULL,
                    task TEXT NOT NULL,
                    model TEXT NOT NULL,
                    seed INTEGER NOT NULL,
                    config_json TEXT NOT NULL,
                    config_hash TEXT NOT NULL,
                    group_hash TEXT NOT NULL,
                    code_version TEXT NOT NULL,
                    code_dirty INTEGER NOT NULL DEFAULT 0,
                    rlhub_version TEXT NOT NULL,
                    host TEXT NOT NULL,
                    threads INTEGER NOT NULL,
                    pid INTEGER,
                    pid_start TEXT,
                    status TEXT NOT NULL
                        CHECK (status IN ('queued', 'running', 'finished', 'failed')),
                    steps_done INTEGER NOT NULL DEFAULT 0,
                    created TEXT NOT NULL,
                    started TEXT,
                    ended TEXT,
                    error TEXT);
                CREATE INDEX runs_config ON runs(config_hash, code_version);
                CREATE INDEX runs_group ON runs(group_hash);
                CREATE INDEX runs_experiment ON runs(experiment_id, cell);
                CREATE INDEX runs_status ON runs(status);

                CREATE TABLE metric_names(id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE);

                CREATE TABLE metrics(
                    run INTEGER NOT NULL REFERENCES runs(pk) ON DELETE CASCADE,
                    name INTEGER NOT NULL REFERENCES metric_names(id),
                    step INTEGER NOT NULL,
                    value REAL,
                    PRIMARY KEY (run, name, step)) WITHOUT ROWID;

                CREATE TABLE metric_summaries(
                    run INTEGER NOT NULL REFERENCES runs(pk) ON DELETE CASCADE,
                    name INTEGER NOT NULL REFERENCES metric_names(id),
                    final_step INTEGER NOT NULL,
                    final_value REAL,
                    best_step INTEGER,
                    best_value REAL,
                    count INTEGER NOT NULL,
                    PRIMARY KEY (run, name)) WITHOUT ROWID;
                CREATE INDEX metric_summaries_name ON metric_summaries(name, final_value);

                CREATE TABLE scores(
                    run INTEGER NOT NULL REFERENCES runs(pk) ON DELETE CASCADE,
                    step INTEGER NOT NULL,
                    split TEXT NOT NULL,
                    metric TEXT NOT NULL,
                    value REAL NOT NULL,
                    episodes INTEGER NOT NULL,
                    ci_low REAL,
                    ci_high REAL,
                    PRIMARY KEY (run, step, split, metric)) WITHOUT ROWID;

                CREATE TABLE checkpoints(
                    run INTEGER NOT NULL REFERENCES runs(pk) ON DELETE CASCADE,
                    step INTEGER NOT NULL,
                    sha256 TEXT NOT NULL,
                    bytes INTEGER NOT NULL,
                    format TEXT NOT NULL,
                    path TEXT NOT NULL,
                    created TEXT NOT NULL,
                    PRIMARY KEY (run, step)) WITHOUT ROWID;
                CREATE INDEX checkpoints_sha ON checkpoints(sha256);

                CREATE TABLE releases(
                    id INTEGER PRIMARY KEY,
                    name TEXT NOT NULL UNIQUE,
                    notes TEXT NOT NULL DEFAULT '',
                    filter TEXT,
                    created TEXT NOT NULL,
                    rlhub_version TEXT NOT NULL,
                    schema_version INTEGER NOT NULL,
                    source TEXT);

                CREATE TABLE release_runs(
                    release INTEGER NOT NULL REFERENCES releases(id),
                    run INTEGER NOT NULL REFERENCES runs(pk),
                    PRIMARY KEY (release, run)) WITHOUT ROWID;
                CREATE INDEX release_runs_run ON release_runs(run);

                CREATE TABLE tags(
                    run INTEGER NOT NULL REFERENCES runs(pk) ON DELETE CASCADE,
                    key TEXT NOT NULL,
                    value TEXT NOT NULL,
                    PRIMARY KEY (run, key)) WITHOUT ROWID;
                """)
            // Runs in a release are frozen: every change to them or their rows is refused.
            for table in ["metrics", "scores", "checkpoints", "metric_summaries"] {
                for (event, row) in [("INSERT", "NEW"), ("UPDATE", "OLD"), ("DELETE", "OLD")] {
                    try db.execute(sql: """
                        CREATE TRIGGER \(table)_frozen_\(event.lowercased()) BEFORE \(event) ON \(table)
                        WHEN EXISTS (SELECT 1 FROM release_runs WHERE run = \(row).run)
                        BEGIN SELECT RAISE(ABORT, 'run is part of a release and cannot change'); END;
                        """)
                }
            }
            try db.execute(sql: """
                CREATE TRIGGER runs_frozen_update BEFORE UPDATE ON runs
                WHEN EXISTS (SELECT 1 FROM release_runs WHERE run = OLD.pk)
                BEGIN SELECT RAISE(ABORT, 'run is part of a release and cannot change'); END;
                CREATE TRIGGER runs_frozen_delete BEFORE DELETE ON runs
                WHEN EXISTS (SELECT 1 FROM release_runs WHERE run = OLD.pk)
                BEGIN SELECT RAISE(ABORT, 'run is part of a release and cannot change'); END;
                CREATE TRIGGER release_runs_frozen_delete BEFORE DELETE ON release_runs
                BEGIN SELECT RAISE(ABORT, 'releases are immutable'); END;
                """)
        }
        migrator.registerMigration("v2: ingested bundles") { db in
            try db.execute(sql: """
                CREATE TABLE ingested_bundles(
                    manifest_sha256 TEXT PRIMARY KEY NOT NULL,
                    run TEXT NOT NULL,
                    ingested TEXT NOT NULL) WITHOUT ROWID;
                CREATE INDEX ingested_bundles_run ON ingested_bundles(run);
                """)
        }
        migrator.registerMigration("v3: rollout samples") { db in
            // A rowid table: the rows hold kilobytes of compressed JSON, which WITHOUT ROWID
            // tables store badly.
            try db.execute(sql: """
                CREATE TABLE rollout_samples(
                    run INTEGER NOT NULL REFERENCES runs(pk) ON DELETE CASCADE,
                    step INTEGER NOT NULL,
                    kind TEXT NOT NULL CHECK (kind IN ('train', 'eval')),
                    position INTEGER NOT NULL,
                    problem INTEGER NOT NULL,
                    group_id INTEGER NOT NULL,
                    sample INTEGER NOT NULL,
                    reward REAL,
                    advantage REAL,
                    logprob_gap REAL,
                    outcome TEXT,
                    finish_reason TEXT NOT NULL,
                    truncated INTEGER NOT NULL,
                    turns INTEGER NOT NULL,
                    prompt_tokens INTEGER NOT NULL,
                    response_tokens INTEGER NOT NULL,
                    raw_bytes INTEGER NOT NULL,
                    data BLOB NOT NULL,
                    UNIQUE (run, step, kind, position));
                """)
            for (event, row) in [("INSERT", "NEW"), ("UPDATE", "OLD"), ("DELETE", "OLD")] {
                try db.execute(sql: """
                    CREATE TRIGGER rollout_samples_frozen_\(event.lowercased()) BEFORE \(event) ON rollout_samples
                    WHEN EXISTS (SELECT 1 FROM release_runs WHERE run = \(row).run)
                    BEGIN SELECT RAISE(ABORT, 'run is part of a release and cannot change'); END;
                    """)
            }
        }
        return migrator
    }
}
