// rlhub show — everything the store holds about one run.
import ArgumentParser
import Foundation
import LM
import Store

struct ShowCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "show", abstract: "Everything stored about one run.",
        discussion: "Example: rlhub show 3fa2c1 --format json")
    @OptionGroup var storeOptions: StoreOptions
    @Argument(help: "Run id (or a unique prefix of ≥ 4 characters).") var runID: String
    @OptionGroup var output: FormatOptions<TableOrJSON>

    func run() throws {
        let store = try storeOptions.open()
        let r = try store.run(runID)
        let summaries = try store.metricSummaries(run: r.id)
        let scores = try store.scores(run: r.id)
        let checkpoints = try store.checkpoints(run: r.id)
        let tags = try store.tags(r.id)
        let releases = try store.releases().filter { $0.runs.contains(r.id) }.map(\.name)
        if output.format == .json {
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
