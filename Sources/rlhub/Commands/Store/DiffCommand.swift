// rlhub diff — where two runs stop being the same: config, code, threads, metrics, tensors.
import ArgumentParser
import Evaluation
import Experiments
import Foundation
import LM
import Store
import Trainer

struct DiffCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "diff", abstract: "Where two runs differ: config, code, threads, the first differing step and metric, checkpoints.",
        discussion: """
            Example: rlhub diff 3fa2c1 9b07d4 (or --store-b DIR for a run of another store)
            Logged values are compared bit for bit in step then metric order (time/ and perf/ aside); when both runs
            stored a checkpoint at the same step, tensors are compared in the model's order and the first differing
            one is given with ‖A − B‖/‖B‖. For runs that differ, the likely cause: a config key, the seed, the code
            version (source hash), the thread count or the machine. Exit status 1 when the runs differ (as diff).
            """)
    @OptionGroup var storeOptions: StoreOptions
    @Argument(help: "Run A.") var runA: String
    @Argument(help: "Run B.") var runB: String
    @Option(help: "Store holding run B (default: --store).") var storeB: String?
    @OptionGroup var output: FormatOptions<TextOrJSON>

    func run() throws {
        let store = try storeOptions.open()
        let other = try storeB.map { try openExistingStore($0, flag: "--store-b") } ?? store
        let diff = try RunDiff.compare(runA, in: store, with: runB, in: other)
        if output.format == .json { try printJSON(diff) } else { print(Self.text(diff)) }
        if !diff.identical { throw RunFailure(message: "runs \(diff.runA) and \(diff.runB) differ") }
    }

    static func text(_ d: RunDiff) -> String {
        var lines = ["diff \(d.runA) \(d.runB)"]
        if d.configChanges.isEmpty {
            lines.append("config: same")
        } else {
            lines.append("config: \(d.configChanges.count) " + (d.configChanges.count == 1 ? "key differs" : "keys differ"))
            for c in d.configChanges { lines.append("  \(c.key): \(c.a ?? "(absent)") → \(c.b ?? "(absent)")") }
        }
        lines.append("code: " + (d.codeA == d.codeB ? "\(d.codeA) (both)" : "\(d.codeA) → \(d.codeB)") + (d.sameCode ? " · same source" : " · different source"))
        lines.append("threads: \(d.threadsA) → \(d.threadsB) · host: \(d.hostA) → \(d.hostB) · steps: \(d.stepsA) → \(d.stepsB)")
        if let f = d.firstDifference {
            lines.append("metrics: first difference at step \(f.step), \(f.metric): \(exact(f.a)) → \(exact(f.b)) (after \(d.pointsCompared - 1) equal points)")
        } else {
            lines.append("metrics: \(d.pointsCompared) points equal bit for bit")
        }
        if let c = d.checkpoint {
            if c.tensorsDiffering == 0 && c.sha256A == c.sha256B {
                lines.append("checkpoint step \(c.step): identical (sha256 \(c.sha256A.prefix(16))…)")
            } else if let name = c.firstTensor {
                lines.append("checkpoint step \(c.step): \(c.tensorsDiffering) of \(c.tensorsCompared) tensors differ; first \(name), ‖A − B‖/‖B‖ = "
                             + (c.relativeDifference.map { String(format: "%.3e", $0) } ?? "n/a (shape)"))
            } else {
                lines.append("checkpoint step \(c.step): archives differ (\(c.sha256A.prefix(16))… → \(c.sha256B.prefix(16))…), every tensor equal")
            }
        } else {
            lines.append("checkpoint: none stored at a common step (or not pulled)")
        }
        lines.append(d.identical ? "no difference" : "likely cause: \(d.likelyCause ?? "-")")
        return lines.joined(separator: "\n")
    }

    /// A value with every digit its bits need.
    static func exact(_ v: Double?) -> String { v.map { String(format: "%.17g", $0) } ?? "(not logged)" }
}
