// rlhub — the `--where` / `--sort` compiler against a small in-memory store: selections, errors with
// columns, injection attempts, and a seeded fuzz test.
import Foundation
import GRDB
import RLHubCore
import TestSupport
import Testing
@_spi(StoreInternals) import Store

/// Twelve runs over two experiments, with summaries, scores, tags, releases and config JSON.
///
/// | run | exp | cell | algo | task | seed | status | steps | threads | config | group |
/// |---|---|---|---|---|---|---|---|---|---|---|
/// | r01 | baseline | c0 | grpo | add | 0 | finished | 100 | 2 | kl 0, lr 1e-3, beta .9, use_kl false | gA |
/// | r02 | baseline | c0 | grpo | add | 1 | finished | 100 | 2 | same as r01 | gA |
/// | r03 | baseline | c1 | dapo | add | 0 | finished | 200 | 4 | kl .01, lr 1e-3, beta .95, use_kl true | gB |
/// | r04 | baseline | c1 | dapo | add | 1 | failed | 40 | 4 | same as r03 | gB |
/// | r05 | ablation | c0 | ppo | calc | 0 | finished | 150 | 2 | kl .05, lr 3e-4, use_kl true | gC |
/// | r06 | ablation | c0 | ppo | calc | 1 | running | 70 | 2 | same as r05 | gC |
/// | r07 | – | – | rloo | countdown | 2 | queued | 0 | 1 | kl null, lr 'auto' | gD |
/// | r08 | ablation | c2 | grpo | calc | 10 | finished | 300 | 8 | kl .1, lr 1e-3 | gE |
/// | r09 | baseline | c2 | reinforce | add | 2 | failed | 10 | 1 | lr 2e-3, note "O'Brien" | gF |
/// | r10 | – | – | a'b | add | 3 | finished | 5 | 1 | {} | gG |
/// | r11 | – | – | x'; DROP TABLE runs; -- | add | 4 | finished | 5 | 1 | {} | gG |
/// | r12 | baseline | c0 | grpo | add | 2 | queued | 0 | 2 | same as r01 | gA |
private func makeStore() throws -> DatabaseQueue {
    let queue = try DatabaseQueue()
    try StoreSchema.migrator.migrate(queue)
    try queue.write { db in
        try db.execute(sql: """
            INSERT INTO experiments(id, name, spec_text, spec_hash, created) VALUES
                (1, 'baseline', '', 'h1', '2025-01-01'), (2, 'ablation', '', 'h2', '2025-01-01');
            """)
        let a = #"{"kl_coef": 0, "lr": 0.001, "opt": {"beta": 0.9}, "use_kl": false}"#
        let b = #"{"kl_coef": 0.01, "lr": 0.001, "opt": {"beta": 0.95}, "use_kl": true}"#
        let c = #"{"kl_coef": 0.05, "lr": 0.0003, "use_kl": true}"#
        let runs: [(String, Int?, String?, String, String, String, Int, String, String, String, Int, Int)] = [
            ("r01", 1, "c0", "grpo", "add", "tiny", 0, a, "gA", "finished", 100, 2),
            ("r02", 1, "c0", "grpo", "add", "tiny", 1, a, "gA", "finished", 100, 2),
            ("r03", 1, "c1", "dapo", "add", "tiny", 0, b, "gB", "finished", 200, 4),
            ("r04", 1, "c1", "dapo", "add", "tiny", 1, b, "gB", "failed", 40, 4),
            ("r05", 2, "c0", "ppo", "calc", "small", 0, c, "gC", "finished", 150, 2),
            ("r06", 2, "c0", "ppo", "calc", "small", 1, c, "gC", "running", 70, 2),
            ("r07", nil, nil, "rloo", "countdown", "tiny", 2, #"{"kl_coef": null, "lr": "auto"}"#, "gD", "queued", 0, 1),
            ("r08", 2, "c2", "grpo", "calc", "tiny", 10, #"{"kl_coef": 0.1, "lr": 0.001}"#, "gE", "finished", 300, 8),
            ("r09", 1, "c2", "reinforce", "add", "tiny", 2, #"{"lr": 0.002, "note": "O'Brien"}"#, "gF", "failed", 10, 1),
            ("r10", nil, nil, "a'b", "add", "tiny", 3, "{}", "gG", "finished", 5, 1),
            ("r11", nil, nil, "x'; DROP TABLE runs; --", "add", "tiny", 4, "{}", "gG", "finished", 5, 1),
            ("r12", 1, "c0", "grpo", "add", "tiny", 2, a, "gA", "queued", 0, 2),
        ]
        for (k, run) in runs.enumerated() {
            let created = String(format: "2025-01-01T00:00:%02d", k + 1)
            let started: String? = run.9 == "queued" ? nil : created
            let ended: String? = ["finished", "failed"].contains(run.9) ? created : nil
            try db.execute(
                sql: """
                    INSERT INTO runs(pk, id, experiment_id, cell, algo, task, model, seed, config_json,
                        config_hash, group_hash, code_version, rlhub_version, host, threads, status,
                        steps_done, created, started, ended)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'abc123', '0.1', ?, ?, ?, ?, ?, ?, ?)
                    """,
                arguments: [k + 1, run.0, run.1, run.2, run.3, run.4, run.5, run.6, run.7, "c-\(run.0)", run.8,
                            k % 2 == 0 ? "h1" : "h2", run.11, run.9, run.10, created, started, ended])
        }
        try db.execute(sql: """
            INSERT INTO metric_names(id, name) VALUES (1, 'reward/mean'), (2, 'eval/accuracy'), (3, 'loss');
            INSERT INTO metric_summaries(run, name, final_step, final_value, best_step, best_value, count) VALUES
                (1, 1, 100, 0.6, 80, 0.7, 100), (2, 1, 100, 0.4, 60, 0.8, 100), (3, 1, 200, 0.9, 200, 0.9, 200),
                (4, 1, 40, 0.2, 30, 0.3, 40), (5, 1, 150, 0.55, 140, 0.6, 150), (6, 1, 70, 0.5, 70, 0.5, 70),
                (8, 1, 300, 0.51, 250, 0.75, 300), (9, 1, 10, NULL, NULL, NULL, 10),
                (1, 2, 100, 0.5, 90, 0.65, 10), (3, 2, 200, 0.7, 150, 0.8, 20), (8, 2, 300, 0.2, 100, 0.9, 30),
                (1, 3, 100, 1.5, 90, 1.2, 100);
            INSERT INTO scores(run, step, split, metric, value, episodes) VALUES
                (1, 50, 'test', 'accuracy', 0.5, 64), (1, 100, 'test', 'accuracy', 0.65, 64),
                (1, 100, 'train', 'accuracy', 0.95, 64), (2, 100, 'test', 'accuracy', 0.62, 64),
                (3, 200, 'test', 'accuracy', 0.7, 64), (3, 200, 'train', 'accuracy', 0.9, 64),
                (5, 150, 'test', 'accuracy', 0.6, 64), (8, 10, 'test', 'accuracy', 0.9, 64),
                (8, 300, 'test', 'accuracy', 0.3, 64);
            INSERT INTO tags(run, key, value) VALUES
                (1, 'note', 'lr sweep'), (2, 'note', 'LR high'), (3, 'note', 'baseline'), (8, 'note', 'late'),
                (5, 'owner', 'ann'), (9, 'priority', '2');
            INSERT INTO releases(id, name, created, rlhub_version, schema_version) VALUES
                (1, 'v1', '2025-02-01', '0.1', 1), (2, 'v2', '2025-02-02', '0.1', 1);
            INSERT INTO release_runs(release, run) VALUES (1, 1), (1, 3), (2, 3), (2, 5);
            """)
    }
    return queue
}

/// The ids the filter selects, sorted.
private func select(_ filter: String, in queue: DatabaseQueue) throws -> [String] {
    let compiled = try RunFilter(where: filter)
    return try queue.read { db in
        try String.fetchAll(
            db, sql: "SELECT r.id FROM runs r WHERE \(compiled.sql) ORDER BY r.id", arguments: compiled.arguments)
    }
}

/// The error a `--where` expression fails with.
private func whereError(_ filter: String) -> InputError? {
    do {
        _ = try RunFilter(where: filter)
        return nil
    } catch {
        return error
    }
}

/// The error a `--sort` specification fails with.
private func sortError(_ sort: String) -> InputError? {
    do {
        _ = try RunOrder(sort: sort)
        return nil
    } catch {
        return error
    }
}

private func ids(_ numbers: Int...) -> [String] { numbers.map { String(format: "r%02d", $0) } }
private func allBut(_ numbers: Int...) -> [String] {
    (1...12).filter { !numbers.contains($0) }.map { String(format: "r%02d", $0) }
}

@Suite struct RunFilterTests {
    // MARK: - Selections

    static let selections: [(String, [String])] = [
        // The examples of `rlhub runs --help`.
        ("algo in ('grpo', 'dapo') and task = 'add' and final.reward/mean > 0.5", ids(1, 3)),
        ("config.kl_coef = 0 or not (status = 'failed')", allBut(4, 9)),
        ("experiment = 'baseline' and seed >= 1 and tag.note like 'lr%' and score.accuracy >= 0.6", ids(2)),
        // Precedence: not > and > or; parentheses.
        ("algo = 'grpo' or algo = 'dapo' and seed = 1", ids(1, 2, 4, 8, 12)),
        ("(algo = 'grpo' or algo = 'dapo') and seed = 1", ids(2, 4)),
        ("not algo = 'grpo' and task = 'add'", ids(3, 4, 9, 10, 11)),
        ("not (algo = 'grpo' and task = 'add')", ids(3, 4, 5, 6, 7, 8, 9, 10, 11)),
        ("NOT NOT algo = 'ppo'", ids(5, 6)),
        ("((((seed = 0))))", ids(1, 3, 5)),
        ("ALGO = 'grpo' AnD Seed = 0", ids(1)),
        ("seed = 0 or seed = 1 and not (task = 'add' or task = 'calc')", ids(1, 3, 5)),
        // in, like.
        ("algo not in ('grpo', 'dapo', 'ppo')", ids(7, 9, 10, 11)),
        ("seed in (0)", ids(1, 3, 5)),
        ("task like 'c%'", ids(5, 6, 7, 8)),
        ("task not like 'c%'", ids(1, 2, 3, 4, 9, 10, 11, 12)),
        ("task like '_dd'", ids(1, 2, 3, 4, 9, 10, 11, 12)),
        // NULL behaves as in SQL.
        ("cell is null", ids(7, 10, 11)),
        ("cell is not null", allBut(7, 10, 11)),
        ("cell = null", []),
        ("not cell = null", []),
        ("cell != 'c0'", ids(3, 4, 8, 9)),
        ("seed in (0, null)", ids(1, 3, 5)),
        ("experiment is null", ids(7, 10, 11)),
        ("ended is null", ids(6, 7, 12)),
        ("started is not null and ended is null", ids(6)),
        // Numbers compare numerically with integer columns, strings as text.
        ("seed > 2", ids(8, 10, 11)),
        ("seed = '10'", ids(8)),
        ("seed > -1 and seed < 1", ids(1, 3, 5)),
        ("seed = -1", []),
        ("seed <> 0 and seed != 1 and seed <= 2", ids(7, 9, 12)),
        ("steps >= 150", ids(3, 5, 8)),
        ("steps = 0", ids(7, 12)),
        ("threads = 4", ids(3, 4)),
        ("threads = 4.0", ids(3, 4)),
        ("created >= '2025-01-01T00:00:10'", ids(10, 11, 12)),
        ("status in ('queued', 'running')", ids(6, 7, 12)),
        // Plain columns.
        ("id = 'r05'", ids(5)),
        ("model = 'small'", ids(5, 6)),
        ("group_hash = 'gA'", ids(1, 2, 12)),
        ("config_hash = 'c-r03'", ids(3)),
        ("code_version = 'abc123' and host = 'h2' and seed = 1", ids(2, 4, 6)),
        ("cell = 'c2'", ids(8, 9)),
        // Quotes.
        ("algo = 'a''b'", ids(10)),
        ("algo = \"a'b\"", ids(10)),
        ("config.note = \"O'Brien\"", ids(9)),
        ("config.note = 'O''Brien'", ids(9)),
        // Config paths: numbers, strings, nested keys, JSON null and booleans.
        ("config.lr = 0.001", ids(1, 2, 3, 4, 8, 12)),
        ("config.lr = 1E-3", ids(1, 2, 3, 4, 8, 12)),
        ("config.lr < 1e-3", ids(5, 6)),
        ("config.lr = 'auto'", ids(7)),
        ("config.opt.beta > 0.92", ids(3, 4)),
        ("config.kl_coef is null", ids(7, 9, 10, 11)),
        ("config.kl_coef >= .05", ids(5, 6, 8)),
        ("config.use_kl = true", ids(3, 4, 5, 6)),
        ("config.use_kl = false", ids(1, 2, 12)),
        ("config.missing.deeper = 1", []),
        // Summaries, scores and tags.
        ("final.reward/mean>0.5", ids(1, 3, 5, 8)),
        ("best.reward/mean >= 0.75", ids(2, 3, 8)),
        ("final.reward/mean is null", ids(7, 9, 10, 11, 12)),
        ("best.eval/accuracy > 0.85", ids(8)),
        ("final.eval/accuracy < 0.6", ids(1, 8)),
        ("final.loss = 1.5 and best.loss = 1.2", ids(1)),
        ("final.nope > 0 or final.nope is null", Array(ids(1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12))),
        ("score.accuracy >= 0.6", ids(1, 2, 3, 5)),
        ("score.test.accuracy < 0.5", ids(8)),
        ("score.train.accuracy > 0.92", ids(1)),
        ("score.accuracy is null", ids(4, 6, 7, 9, 10, 11, 12)),
        ("tag.note like 'lr%'", ids(1, 2)),
        ("tag.owner = 'ann'", ids(5)),
        ("tag.priority = 2", ids(9)),
        ("tag.note is null", allBut(1, 2, 3, 8)),
        // Releases: membership.
        ("release = 'v1'", ids(1, 3)),
        ("release = 'v2'", ids(3, 5)),
        ("release != 'v1'", allBut(1, 3)),
        ("release in ('v1', 'v2')", ids(1, 3, 5)),
        ("release not in ('v1')", allBut(1, 3)),
        ("release like 'V%'", ids(1, 3, 5)),
        ("release not like 'v1'", allBut(1, 3)),
        ("release is null", allBut(1, 3, 5)),
        ("release is not null", ids(1, 3, 5)),
        ("release = 'v1' and release = 'v2'", ids(3)),
        ("release = 'v3'", []),
        // Experiments (a subquery, so NULL experiments stay unknown).
        ("experiment = 'ablation'", ids(5, 6, 8)),
        ("experiment != 'ablation'", ids(1, 2, 3, 4, 9, 12)),
        ("experiment in ('ablation') and final.reward/mean > 0.5", ids(5, 8)),
    ]

    @Test(arguments: selections)
    func selects(filter: String, expected: [String]) throws {
        let queue = try makeStore()
        #expect(try select(filter, in: queue) == expected, "\(filter)")
    }

    @Test func allSelectsEveryRun() throws {
        let queue = try makeStore()
        let count = try queue.read { db in
            try Int.fetchOne(db, sql: "SELECT count(*) FROM runs r WHERE \(RunFilter.all.sql)")
        }
        #expect(count == 12)
    }

    @Test func compiledTextKeepsUserTextOutOfTheSQL() throws {
        for filter in [
            "algo = 'zqzq'", "final.zqzq > 0", "best.zqzq/x < 1", "score.train.zqzq = 1", "tag.zqzq like 'zqzq%'",
            "config.zqzq.zqzq = 'zqzq'", "release in ('zqzq')", "experiment not like \"zqzq\"",
        ] {
            let compiled = try RunFilter(where: filter)
            #expect(!compiled.sql.contains("zqzq"), "\(filter) → \(compiled.sql)")
            #expect(compiled.text == filter)
        }
        let order = try RunOrder(sort: "-tag.zqzq, config.zqzq")
        #expect(!order.sql.contains("zqzq"))
    }

    @Test func configPathIsBoundAsJSONPath() throws {
        let compiled = try RunFilter(where: "config.opt.beta > 0.5")
        #expect(compiled.sql == "json_extract(r.config_json, ?) > ?")
        #expect(compiled.arguments == ["$.opt.beta", 0.5])
        let score = try RunFilter(where: "score.test.acc = 1 and score.acc = 2 and score.dev.acc = 3")
        #expect(score.arguments == ["test", "acc", 1, "test", "acc", 2, "test", "dev.acc", 3])
    }

    // MARK: - Sorting, limits, groups

    static let orders: [(String, [String])] = [
        ("seed", ids(1, 3, 5, 2, 4, 6, 7, 9, 12, 10, 11, 8)),
        ("-final.reward/mean", ids(3, 1, 5, 8, 6, 2, 4, 7, 9, 10, 11, 12)),
        ("final.reward/mean DESC", ids(3, 1, 5, 8, 6, 2, 4, 7, 9, 10, 11, 12)),
        ("final.reward/mean", ids(4, 2, 6, 8, 5, 1, 3, 7, 9, 10, 11, 12)),
        ("final.reward/mean asc", ids(4, 2, 6, 8, 5, 1, 3, 7, 9, 10, 11, 12)),
        ("task, -seed", ids(11, 10, 9, 12, 2, 4, 1, 3, 8, 6, 5, 7)),
        ("-experiment", ids(1, 2, 3, 4, 9, 12, 5, 6, 8, 7, 10, 11)),
        ("-score.accuracy", ids(3, 1, 2, 5, 8, 4, 6, 7, 9, 10, 11, 12)),
        ("config.lr, -id", ids(6, 5, 12, 8, 4, 3, 2, 1, 9, 7, 11, 10)),
    ]

    @Test(arguments: orders)
    func sorts(sort: String, expected: [String]) throws {
        let queue = try makeStore()
        let query = try RunQuery(where: nil, sort: sort, limit: nil)
        #expect(try queue.read { db in try query.fetchRunIDs(db) } == expected, "\(sort)")
    }

    @Test func filtersSortsAndLimitsTogether() throws {
        let queue = try makeStore()
        let query = try RunQuery(where: "task = 'add' and final.reward/mean is not null", sort: "-seed", limit: 3)
        #expect(try queue.read { db in try query.fetchRunIDs(db) } == ids(2, 4, 1))
        let defaultOrder = try RunQuery(where: "tag.note is not null", sort: nil, limit: 2)
        #expect(try queue.read { db in try defaultOrder.fetchRunIDs(db) } == ids(1, 2))
        #expect(throws: InputError(file: "--limit", message: "must be at least 1, got 0")) {
            try RunQuery(where: nil, sort: nil, limit: 0)
        }
        #expect(throws: InputError.self) { try RunQuery(where: "seed =", sort: nil, limit: 1) }
        #expect(sortError("release")?.message == "cannot sort by 'release' (a run can be in several releases)")
    }

    @Test func groupsRunsByConfigurationWithoutSeed() throws {
        let queue = try makeStore()
        let groups = try queue.read { db in try RunGroup.fetchAll(db) }
        #expect(groups.map(\.groupHash) == ["gA", "gB", "gC", "gD", "gE", "gF", "gG"])
        #expect(groups[0].runIDs == ids(1, 2, 12))
        #expect(groups[0].seeds == [0, 1, 2])
        let finished = try queue.read { db in
            try RunGroup.fetchAll(db, filter: RunFilter(where: "task = 'add' and status = 'finished'"))
        }
        #expect(finished.map(\.groupHash) == ["gA", "gB", "gG"])
        #expect(finished.map(\.runIDs) == [ids(1, 2), ids(3), ids(10, 11)])
        #expect(finished.map(\.seeds) == [[0, 1], [0], [3, 4]])
    }

    // MARK: - Errors

    /// A filter, the column of its first bad token and the message.
    struct BadFilter: Sendable, CustomTestStringConvertible {
        var filter: String
        var column: Int
        var message: String
        init(_ filter: String, _ column: Int, _ message: String) {
            self.filter = filter
            self.column = column
            self.message = message
        }
        var testDescription: String { filter }
    }

    static let errors: [BadFilter] = [
        BadFilter("algo = )", 8, "expected a value after '=', found ')'"),
        BadFilter("algo = grpo", 8, "expected a value after '=', found 'grpo' (quote text: 'grpo')"),
        BadFilter("algo = 'grpo", 8, "unterminated string (a quote inside a string is written twice: 'it''s')"),
        BadFilter("algo = \"grpo'", 8, "unterminated string (a quote inside a string is written twice: 'it''s')"),
        BadFilter("algo = 'grpo' seed = 1", 15, "expected 'and', 'or' or the end of the filter, found 'seed'"),
        BadFilter("(algo = 'grpo'", 15, "expected ')' to close the '(' at column 1, found the end"),
        BadFilter("algo = 'grpo')", 14, "unmatched ')'"),
        BadFilter("", 1, "expected a condition, found the end"),
        BadFilter("   ", 4, "expected a condition, found the end"),
        BadFilter("seed = 1 and", 13, "expected a condition, found the end"),
        BadFilter("seed = 1 or or seed = 2", 13, "expected a field, found 'or'"),
        BadFilter("seed in ()", 10, "expected a value after '(', found ')'"),
        BadFilter("seed in (1 2)", 12, "expected ',' or ')' in the list, found '2'"),
        BadFilter("seed in (1,)", 12, "expected a value after ',', found ')'"),
        BadFilter("seed in 1", 9, "expected '(' after 'in', found '1'"),
        BadFilter("seed == 1", 6, "'==' is not an operator; use '='"),
        BadFilter("seed ! 1", 6, "unexpected character '!' (did you mean '!='?)"),
        BadFilter("seed = 1.2.3", 8, "malformed number '1.2.3'"),
        BadFilter("seed = 5x", 8, "malformed number '5x'"),
        BadFilter("seed = 1e999", 8, "number '1e999' is out of range"),
        BadFilter("seed = - 1", 8, "expected a value after '=', found '-'"),
        BadFilter("seed 1", 6, "expected an operator after 'seed' (=, !=, <>, <, <=, >, >=, in, like or is), found '1'"),
        BadFilter("seed is 1", 9, "expected 'null' after 'is', found '1'"),
        BadFilter("seed is not true", 13, "expected 'null' after 'is not', found 'true'"),
        BadFilter("seed not between 1", 10, "expected 'in' or 'like' after 'not', found 'between'"),
        BadFilter("tag.note like 5", 15, "expected a string pattern after 'like', found '5'"),
        BadFilter("'grpo' = algo", 1, "expected a field, found 'grpo'"),
        BadFilter("= 1", 1, "expected a field, found '='"),
        BadFilter("score = 1", 1, "'score' needs a name after it, as in score.<metric>"),
        BadFilter("config. = 1", 8, "expected a name after 'config.'"),
        BadFilter("config.a-b = 1", 9, "unexpected '-' in a config path: its keys are [A-Za-z_][A-Za-z0-9_]* separated by '.'"),
        BadFilter("config.a..b = 1", 10, "empty name in config path 'a..b'"),
        BadFilter("config.a. = 1", 10, "config path 'a.' ends with '.'"),
        BadFilter("config.1a = 1", 8, "unexpected '1' in a config path: its keys are [A-Za-z_][A-Za-z0-9_]* separated by '.'"),
        BadFilter("final.reward@1 > 0", 13, "unexpected '@': metric names contain only letters, digits and _ . / -"),
        BadFilter("tag.a;b = 'x'", 6, "unexpected ';': tag keys contain only letters, digits and _ . / -"),
        BadFilter("algo = 'x' \u{0}", 12, "unexpected character 'U+0'"),
        BadFilter("algo = 'x' é", 12, "unexpected character 'é'"),
    ]

    @Test(arguments: errors)
    func reportsTheColumnOfTheFirstBadToken(_ bad: BadFilter) throws {
        let error = try #require(whereError(bad.filter), "\(bad.filter) compiled")
        #expect(error == InputError(file: "--where", field: "column \(bad.column)", message: bad.message))
        #expect(!error.description.contains("\n"))
    }

    @Test func describesErrorsOnOneLine() throws {
        let error = try #require(whereError("algo = )"))
        #expect(error.description == "--where: column 8: expected a value after '=', found ')'")
        let newline = try #require(whereError("algo = 'a\nb' and\n)"))
        #expect(!newline.description.contains("\n"))
        #expect(newline.field == "column 18")
    }

    @Test func unknownFieldsSuggestAndListTheValidOnes() throws {
        let alg = try #require(whereError("alg = 'grpo'"))
        #expect(alg.field == "column 1")
        #expect(alg.message.hasPrefix("unknown field 'alg' (did you mean 'algo'?); fields are id, algo, task,"))
        #expect(alg.message.hasSuffix("score.<split>.<metric>, tag.<key>"))
        let confg = try #require(whereError("final.reward/mean > 0.5 and confg.kl_coef = 0"))
        #expect(confg.field == "column 29")
        #expect(confg.message.hasPrefix("unknown field 'confg.kl_coef' (did you mean 'config.kl_coef'?)"))
        #expect(whereError("sede = 1")?.message.hasPrefix("unknown field 'sede' (did you mean 'seed'?)") == true)
        #expect(whereError("step > 1")?.message.hasPrefix("unknown field 'step' (did you mean 'steps'?)") == true)
        #expect(whereError("experimnt = 'a'")?.message.hasPrefix("unknown field 'experimnt' (did you mean 'experiment'?)") == true)
        #expect(whereError("fianl.x > 1")?.message.hasPrefix("unknown field 'fianl.x' (did you mean 'final.x'?)") == true)
        #expect(whereError("zebra = 1")?.message.hasPrefix("unknown field 'zebra'; fields are id,") == true)
        #expect(whereError("algo.x = 1")?.message.hasPrefix("unknown field 'algo.x'; fields are") == true)
        #expect(whereError("seed = 1 and and = 2")?.message == "expected a field, found 'and'")
    }

    @Test func deepNestingIsAnErrorNotACrash() throws {
        let deep = String(repeating: "(", count: 40) + "seed = 1" + String(repeating: ")", count: 40)
        #expect(whereError(deep) == InputError(
            file: "--where", field: "column 33", message: "too deeply nested (at most 32 levels of '(' and 'not')"))
        let nots = String(repeating: "not ", count: 1000) + "seed = 1"
        #expect(whereError(nots)?.message.hasPrefix("too deeply nested") == true)
        let ok = String(repeating: "(", count: 32) + "seed = 1" + String(repeating: ")", count: 32)
        #expect(try select(ok, in: makeStore()) == ids(2, 4, 6))
        let many = Array(repeating: "seed = 1", count: 201).joined(separator: " or ")
        #expect(whereError(many)?.message == "too many comparisons (at most 200)")
        let wide = "seed in (" + Array(repeating: "1", count: 1000).joined(separator: ",") + ")"
        #expect(whereError(wide)?.message == "too many values (at most 999)")
        let long = "algo = '" + String(repeating: "x", count: 10_000) + "'"
        #expect(whereError(long)?.message == "filter is longer than 10000 characters")
    }

    @Test func sortErrors() {
        #expect(sortError("-seed desc") == InputError(
            file: "--sort", field: "column 7", message: "use either '-KEY' or 'KEY desc', not both"))
        #expect(sortError("seed,") == InputError(
            file: "--sort", field: "column 6", message: "expected a field to sort by, found the end"))
        #expect(sortError("seed desc desc")?.message == "expected ',', 'asc', 'desc' or the end, found 'desc'")
        #expect(sortError("sede")?.message.hasPrefix("unknown field 'sede' (did you mean 'seed'?)") == true)
        #expect(sortError("seed; drop table runs")?.field == "column 5")
        #expect(sortError("tag.x' desc")?.message.hasPrefix("unterminated string") == true)
        #expect(sortError("") == InputError(
            file: "--sort", field: "column 1", message: "expected a field to sort by, found the end"))
    }

    // MARK: - Injection

    /// Inputs that try to break out of a literal or a name: each is a syntax error or a literal
    /// comparison; the table keeps all its rows either way.
    static let injections: [(String, [String]?)] = [
        ("algo = 'x'; DROP TABLE runs; --'", nil),
        ("algo = 'x''; DROP TABLE runs; --'", ids(11)),
        ("algo = \"x'; DROP TABLE runs; --\"", ids(11)),
        ("algo = 'x' or 1=1 --", nil),
        ("algo = 'x' or '1'='1'", nil),
        ("algo = \"a'b\"", ids(10)),
        ("algo = 'grpo' or algo = 'x'' or ''1''=''1'", ids(1, 2, 8, 12)),
        ("config.x') or 1=1 --", nil),
        ("config.x = 1) or (1 = 1", nil),
        ("config.x' = 1 or 'a' = 'a", nil),
        ("final.reward/mean;DROP TABLE runs > 0", nil),
        ("tag.note') = 1 or ('1' = '1", nil),
        ("tag.x = 1 union select id from runs", nil),
        ("algo = 'grpo' -- comment", nil),
        ("algo = 'grpo' /* c */", nil),
        ("release = 'v1') or (1", nil),
        ("release = 'v1'' OR 1=1 --'", []),
        ("experiment = 'baseline'' or ''1''=''1'", []),
        ("seed = 0x10", nil),
        ("seed = 1; DELETE FROM runs", nil),
        ("algo like '%' escape '\\'", nil),
    ]

    @Test(arguments: injections)
    func injectionIsASyntaxErrorOrALiteral(filter: String, expected: [String]?) throws {
        let queue = try makeStore()
        if let expected {
            #expect(try select(filter, in: queue) == expected, "\(filter)")
        } else {
            #expect(throws: InputError.self, "\(filter)") { try RunFilter(where: filter) }
        }
        #expect(try queue.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM runs") } == 12)
        #expect(try queue.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM releases") } == 2)
    }

    // MARK: - Fuzz

    /// Thousands of random token strings from the grammar's alphabet plus junk, and random
    /// grammatical filters: the compiler never crashes, and its SQL always prepares and runs.
    @Test func fuzzNeverCrashesAndAlwaysYieldsRunnableSQL() throws {
        let queue = try makeStore()
        var rng = SplitMix64(seed: 0x5EED_F11E)
        var compiled = 0
        var rejected = 0
        func check(_ text: String) throws {
            do {
                let filter = try RunFilter(where: text)
                compiled += 1
                try queue.read { db in
                    _ = try Int.fetchOne(
                        db, sql: "SELECT count(*) FROM runs r WHERE \(filter.sql)", arguments: filter.arguments)
                }
            } catch let error as InputError {
                rejected += 1
                #expect(error.file == "--where")
                let column = Int(error.field.dropFirst("column ".count)) ?? 0
                #expect(error.field.hasPrefix("column ") && column >= 1 && column <= text.count + 1, "\(text)")
                #expect(!error.description.contains("\n"))
            }
            do {
                let order = try RunOrder(sort: text)
                try queue.read { db in
                    _ = try String.fetchAll(db, sql: "SELECT r.id FROM runs r ORDER BY \(order.sql)",
                                            arguments: order.arguments)
                }
            } catch let error as InputError {
                #expect(error.file == "--sort" && !error.description.contains("\n"))
            }
        }
        for _ in 0..<2500 {
            let count = rng.below(12) + 1
            var text = ""
            for _ in 0..<count {
                text += rng.below(8) == 0 ? Self.junk(&rng) : Self.alphabet[rng.below(Self.alphabet.count)]
                text += rng.below(4) == 0 ? "" : " "
            }
            try check(text)
        }
        for _ in 0..<1000 {
            let text = Self.grammatical(&rng, depth: 0)
            let before = compiled
            try check(text)
            #expect(compiled == before + 1, "grammatical filter rejected: \(text)")
        }
        #expect(compiled > 1000)
        #expect(rejected > 1000)
        #expect(try queue.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM runs") } == 12)
    }

    static let alphabet = [
        "algo", "seed", "task", "experiment", "release", "steps", "created", "config.kl_coef",
        "config.opt.beta", "config.a..b", "final.reward/mean", "best.eval/accuracy", "score.accuracy",
        "score.train.accuracy", "tag.note", "alg", "sede", "config", "and", "or", "not", "in", "like", "is",
        "null", "true", "false", "asc", "desc", "(", ")", ",", "=", "!=", "<>", "<", "<=", ">", ">=", "==",
        "!", "-", "'grpo'", "'a''b'", "\"x\"", "'", "\"", "''", "0", "1", "-1", "0.5", "1e-3", "1e999",
        "99999999999999999999", ".5", "-.5", "1.2.3", "5.", "'lr%'", "'%'", ";", "--", "*", "/", ".", "@",
        "\\", "\0", "é", "🙂", "\u{202E}", "\t", "\n", "\r\n",
    ]

    /// A random character: ASCII punctuation, a control character or any Unicode scalar.
    static func junk(_ rng: inout SplitMix64) -> String {
        switch rng.below(3) {
        case 0: return String(UnicodeScalar(UInt8(rng.below(128))))
        case 1:
            let pool = Array("'\"()=<>!,;.-_%$#@`~[]{}|\\^&*+?:")
            return String(pool[rng.below(pool.count)])
        default:
            let value = UInt32(rng.below(0x11_0000))
            return UnicodeScalar(value).map { String($0) } ?? "\u{FFFD}"
        }
    }

    /// A random filter in the grammar, over valid fields.
    static func grammatical(_ rng: inout SplitMix64, depth: Int) -> String {
        let fields = [
            "id", "algo", "task", "model", "seed", "status", "experiment", "cell", "created", "started", "ended",
            "config_hash", "group_hash", "code_version", "host", "threads", "steps", "release", "config.kl_coef",
            "config.opt.beta", "config.use_kl", "final.reward/mean", "best.eval/accuracy", "final.x-y.z",
            "score.accuracy", "score.train.accuracy", "tag.note", "tag.priority",
        ]
        let values = ["'grpo'", "\"a'b\"", "'it''s'", "0", "-1", "0.5", "1e-3", "true", "false", "null", "''", "'%'"]
        func value() -> String { values[rng.below(values.count)] }
        if depth < 4 {
            switch rng.below(6) {
            case 0: return "not " + grammatical(&rng, depth: depth + 1)
            case 1: return "(" + grammatical(&rng, depth: depth + 1) + ")"
            case 2:
                return grammatical(&rng, depth: depth + 1) + [" and ", " or ", " AND ", " Or "][rng.below(4)]
                    + grammatical(&rng, depth: depth + 1)
            default: break
            }
        }
        let field = fields[rng.below(fields.count)]
        switch rng.below(5) {
        case 0:
            let list = (0...rng.below(3)).map { _ in value() }.joined(separator: ", ")
            return field + (rng.below(2) == 0 ? " in (" : " not in (") + list + ")"
        case 1: return field + (rng.below(2) == 0 ? " like 'a%'" : " NOT LIKE '%_'")
        case 2: return field + (rng.below(2) == 0 ? " is null" : " is not null")
        default:
            let ops = ["=", "!=", "<>", "<", "<=", ">", ">="]
            return field + " " + ops[rng.below(ops.count)] + " " + value()
        }
    }
}

