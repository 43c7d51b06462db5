// rlhub runs / show / curve / scores / checkpoints / tag — queries of the store.
import ArgumentParser
import Foundation
import LM
import RLHubCore
import Store

struct RunsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "runs", abstract: "List stored runs, filtered and sorted.",
        discussion: """
            Example: rlhub runs --where "algo in ('grpo', 'dapo') and final.reward/mean > 0.5" --sort -final.eval/accuracy
            Fields: id algo task model seed status experiment cell created started ended config_hash group_hash
            code_version host threads steps release, config.<path>, final.<metric>, best.<metric>,
            score.<metric> (held-out), tag.<key>. Operators: = != < <= > >= in (…) not in like is null; and or not ( ).
            """)
    @OptionGroup var storeOptions: StoreOptions
    @Option(name: .customLong("where"), help: "Filter expression.") var filter: String?
    @Option(parsing: .unconditional, help: "Sort key: KEY, -KEY or \"KEY desc\" (comma-separated).") var sort: String?
    @Option(help: "At most N runs.") var limit: Int?
    @Option(help: "table, csv or json.") var format: ListingFormat = .table

    func run() throws {
        let store = try storeOptions.open()
        let query = try RunQuery(where: filter, sort: sort, limit: limit)
        let rows = try RunListRow.rows(store: store, runs: try store.runs(query)).map { r -> [ListingValue?] in
            [.text(r.id), r.experiment.cell, .text(r.algo), .text(r.task), .int(r.seed), .text(r.status),
             .int(r.steps), r.reward.cell, r.evalAccuracy.cell, .text(r.configHash), .text(r.code), .text(r.created)]
        }
        Listing(columns: RunListRow.columns, rows: rows).print(format)
    }
}

struct ShowCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "show", abstract: "Everything stored about one run.",
        discussion: "Example: rlhub show 3fa2c1 --format json")
    @OptionGroup var storeOptions: StoreOptions
    @Argument(help: "Run id (or a unique prefix of ≥ 4 characters).") var runID: String
    @Option(help: "table or json.") var format: OutputFormat = .table

    func run() throws {
        let store = try storeOptions.open()
        let r = try store.run(runID)
        let summaries = try store.metricSummaries(run: r.id)
        let scores = try store.scores(run: r.id)
        let checkpoints = try store.checkpoints(run: r.id)
        let tags = try store.tags(r.id)
        let releases = try store.releases().filter { $0.runs.contains(r.id) }.map(\.name)
        if format == .json {
            try printJSON(try RunDetail.load(store: store, run: r.id))
            return
        }
        var lines = [
            "run \(r.id) · \(r.status.rawValue)" + (r.error.map { " · \($0)" } ?? ""),
            "experiment \(r.experiment ?? "-") · cell \(r.cell ?? "-")",
            "algo \(r.algo) · task \(r.task) · model \(r.model) · seed \(r.seed) · steps \(r.stepsDone)",
            "config \(r.configHash) · group \(r.groupHash.prefix(12))",
            "code \(r.codeVersion) · rlhub \(r.rlhubVersion) · host \(r.host) · \(r.threads) threads",
            "created \(r.created) · started \(r.started ?? "-") · ended \(r.ended ?? "-")",
        ]
        if !releases.isEmpty { lines.append("releases: " + releases.joined(separator: ", ")) }
        if !tags.isEmpty { lines.append("tags: " + tags.map { "\($0.key)=\($0.value)" }.joined(separator: ", ")) }
        lines.append("\nmetrics (final / best):")
        for s in summaries {
            func pad(_ t: String, _ n: Int) -> String { t.count >= n ? t : t + String(repeating: " ", count: n - t.count) }
            lines.append("  " + pad(s.name, 28) + " " + pad(fmt(s.finalValue) + " @\(s.finalStep)", 20) + " best "
                         + fmt(s.bestValue) + (s.bestStep.map { " @\($0)" } ?? ""))
        }
        if !scores.isEmpty {
            lines.append("\nscores:")
            for s in scores {
                let ci = s.ciLow.map { String(format: " [%.4f, %.4f]", $0, s.ciHigh ?? .nan) } ?? ""
                lines.append("  step \(s.step) \(s.split) \(s.metric) \(String(format: "%.4f", s.value))\(ci) (\(s.episodes) episodes)")
            }
        }
        if !checkpoints.isEmpty {
            lines.append("\ncheckpoints:")
            for c in checkpoints { lines.append("  step \(c.step) sha256:\(c.sha256) \(c.bytes) bytes") }
        }
        lines.append("\nconfig: \(r.configJSON)")
        print(lines.joined(separator: "\n"))
    }
}

func fmt(_ v: Double?) -> String { v.map { String(format: "%.6g", $0) } ?? "-" }

struct CurveCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "curve", abstract: "One metric of a run, step by step.",
        discussion: "Example: rlhub curve 3fa2c1 --metric reward/mean --every 10 --format csv")
    @OptionGroup var storeOptions: StoreOptions
    @Argument(help: "Run id.") var runID: String
    @Option(help: "Metric name (see `rlhub show RUN`).") var metric: String
    @Option(help: "Keep every N-th point (and the last).") var every: Int = 1
    @Option(help: "table, csv or json.") var format: ListingFormat = .table

    func run() throws {
        guard every >= 1 else { throw InputError(file: "--every", message: "must be ≥ 1, got \(every)") }
        let store = try storeOptions.open()
        let r = try store.run(runID)
        let points = try store.curve(run: r.id, metric: metric, every: every)
        if points.isEmpty {
            let names = try store.metricNames(run: r.id)
            throw InputError(file: "--metric", field: metric, message: "not logged by run \(r.id) (metrics: \(names.joined(separator: ", ")))")
        }
        Listing(columns: ["step", metric], rows: points.map { [.int($0.step), $0.value.cell] }).print(format)
    }
}

struct ScoresCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "scores", abstract: "Held-out evaluation scores of a run.", discussion: "Example: rlhub scores 3fa2c1")
    @OptionGroup var storeOptions: StoreOptions
    @Argument(help: "Run id.") var runID: String
    @Option(help: "table, csv or json.") var format: ListingFormat = .table

    func run() throws {
        let store = try storeOptions.open()
        let r = try store.run(runID)
        Listing(columns: ["step", "split", "metric", "value", "ci_low", "ci_high", "episodes"],
                rows: try store.scores(run: r.id).map { [.int($0.step), .text($0.split), .text($0.metric), .double($0.value), $0.ciLow.cell, $0.ciHigh.cell, .int($0.episodes)] })
            .print(format)
    }
}

struct CheckpointsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "checkpoints", abstract: "Stored checkpoint archives (of one run, or all).",
        discussion: "Example: rlhub checkpoints 3fa2c1   (use one as --model run:3fa2c1 or sha256:HEX)")
    @OptionGroup var storeOptions: StoreOptions
    @Argument(help: "Run id.") var runID: String?
    @Option(help: "table, csv or json.") var format: ListingFormat = .table

    func run() throws {
        let store = try storeOptions.open()
        let id = try runID.map { try store.run($0).id }
        Listing(columns: ["run", "step", "sha256", "bytes", "path"],
                rows: try store.checkpoints(run: id).map { [.text($0.run), .int($0.step), .text($0.sha256), .int(Int($0.bytes)), .text($0.path)] })
            .print(format)
    }
}

struct TagCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tag", abstract: "Set tags on a run (KEY=VALUE; filter with tag.KEY).",
        discussion: "Example: rlhub tag 3fa2c1 note=lr-sweep")
    @OptionGroup var storeOptions: StoreOptions
    @Argument(help: "Run id.") var runID: String
    @Argument(help: "KEY=VALUE pairs.") var assignments: [String]

    func run() throws {
        let store = try storeOptions.open()
        let id = try store.run(runID).id
        guard !assignments.isEmpty else { throw InputError(file: "tag", message: "give at least one KEY=VALUE") }
        for a in assignments {
            guard let eq = a.firstIndex(of: "="), eq != a.startIndex else { throw InputError(file: "tag", field: a, message: "expected KEY=VALUE") }
            let key = String(a[..<eq])
            guard key.allSatisfy({ $0.isLetter || $0.isNumber || "_.-/".contains($0) }) else {
                throw InputError(file: "tag", field: key, message: "keys use letters, digits and _ . - /")
            }
            try store.tag(id, key: key, value: String(a[a.index(after: eq)...]))
        }
    }
}

struct ReleaseCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "release", abstract: "Freeze runs as a named release; list and show releases.",
        subcommands: [Create.self, List.self, Show.self])

    struct Create: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Freeze the finished runs matching --where as release NAME (immutable).",
            discussion: "Example: rlhub release create baselines-v1 --where \"experiment = 'baseline'\" --notes 'first baselines'")
        @OptionGroup var storeOptions: StoreOptions
        @Argument(help: "Release name.") var name: String
        @Option(name: .customLong("where"), help: "Filter expression (default: every finished run).") var filter: String?
        @Option(help: "Notes.") var notes: String = ""

        func run() throws {
            let store = try storeOptions.open()
            let f = try filter.map { try RunFilter(where: $0) } ?? .all
            let r = try store.createRelease(name: name, filterText: filter, whereSQL: f.sql, arguments: f.arguments, notes: notes)
            print("release \(r.name): \(r.runs.count) runs frozen")
        }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List releases.")
        @OptionGroup var storeOptions: StoreOptions
        @Option(help: "table, csv or json.") var format: ListingFormat = .table
        func run() throws {
            let store = try storeOptions.open()
            Listing(columns: ["name", "runs", "created", "rlhub_version", "schema", "filter", "notes"],
                    rows: try store.releases().map { [.text($0.name), .int($0.runs.count), .text($0.created), .text($0.rlhubVersion),
                                                       .int($0.schemaVersion), $0.filter.cell, .text($0.notes)] }).print(format)
        }
    }

    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show one release and its runs.")
        @OptionGroup var storeOptions: StoreOptions
        @Argument(help: "Release name.") var name: String
        @Option(help: "table or json.") var format: OutputFormat = .table
        func run() throws {
            let store = try storeOptions.open()
            let r = try store.release(name)
            if format == .json { try printJSON(r); return }
            print("release \(r.name) · \(r.runs.count) runs · created \(r.created) · rlhub \(r.rlhubVersion) · schema \(r.schemaVersion)")
            if let f = r.filter { print("filter: \(f)") }
            if !r.notes.isEmpty { print("notes: \(r.notes)") }
            for id in r.runs {
                let run = try store.run(id)
                print("  \(run.id)  \(run.algo)  \(run.task)  seed \(run.seed)  \(run.configHash.prefix(12))")
            }
        }
    }
}
