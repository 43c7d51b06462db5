// rlhub compare — two checkpoints side by side: held-out scores on the same problems, P(A > B),
// per-layer parameter deltas and the per-token KL(A‖B). The logic is `CheckpointComparison`.
import ArgumentParser
import Evaluation
import Experiments
import Foundation
import LM
import RLHubCore
import Tasks

/// Output formats of `rlhub compare`.
enum CompareFormat: String, ExpressibleByArgument, CaseIterable {
    case table, json, markdown
}

struct CompareCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "compare",
        abstract: "Compare two checkpoints: held-out scores, P(A > B), parameter deltas per layer, KL(A‖B).",
        discussion: """
            Example: rlhub compare run:3fa2c1@0 run:3fa2c1 --task add:digits=1 --episodes 200
            Both models play the same --episodes held-out problems greedily. P(A > B) is the
            Mann–Whitney probability that an episode of A scores above an episode of B (ties ½),
            with a 95% bootstrap interval; it ignores the pairing of problems (see `discordant`).
            KL(A‖B) is per response token of A's episodes, over the full vocabulary.
            References: preset:NAME, folders, .gguf, run:ID[@STEP], sha256:HEX, .tar.zst.
            """)

    @Argument(help: "Model reference A.") var refA: String
    @Argument(help: "Model reference B (the baseline of the deltas and of KL(A‖B)).") var refB: String
    @Option(help: "Task spec, e.g. add:digits=2.") var task: String
    @Option(help: "Held-out problems to play.") var episodes = 100
    @Option(help: "Output format: table, json or markdown.") var format: CompareFormat = .table
    @Option(help: "Seed of preset initialisation.") var seed: UInt64 = 0
    @OptionGroup var compute: ComputeOptions
    @OptionGroup var storeOptions: StoreOptions

    func run() throws {
        try compute.apply()
        guard episodes > 0 else { throw InputError(file: "--episodes", message: "must be positive") }
        let rlTask = try TaskRegistry.make(task)
        let a = try loadModel(refA, seed: seed, store: storeOptions)
        let b = try loadModel(refB, seed: seed, store: storeOptions)
        let c = try CheckpointComparison.run(a: a, b: b, refA: refA, refB: refB, task: rlTask, episodes: episodes)
        switch format {
        case .json: try printJSON(c)
        case .table, .markdown: print(render(c, markdown: format == .markdown), terminator: "")
        }
    }

    /// The comparison as aligned text (table) or GitHub tables (markdown).
    func render(_ c: CheckpointComparison, markdown: Bool) -> String {
        func f(_ x: Double, _ digits: Int = 4) -> String { String(format: "%.\(digits)f", x) }
        func ci(_ v: Double, _ lo: Double, _ hi: Double) -> String { "\(f(v)) [\(f(lo)), \(f(hi))]" }
        func g(_ x: Double) -> String { String(format: "%.3e", x) }
        func table(_ header: [String], _ rows: [[String]]) -> String {
            if markdown {
                let line = { (cells: [String]) in "| " + cells.joined(separator: " | ") + " |" }
                return ([line(header), line(header.map { _ in "---" })] + rows.map(line)).joined(separator: "\n") + "\n"
            }
            let widths = header.indices.map { i in ([header] + rows).map { $0[i].count }.max() ?? 0 }
            let line = { (cells: [String]) in
                zip(cells, widths).map { $0.padding(toLength: $1, withPad: " ", startingAt: 0) }
                    .joined(separator: "  ").replacingOccurrences(of: "\\s+$", with: "", options: .regularExpression)
            }
            return ([line(header)] + rows.map(line)).joined(separator: "\n") + "\n"
        }
        let h = markdown ? "## " : ""
        var out = "\(h)A = \(c.refA) · B = \(c.refB) · task \(c.task) · \(c.episodes) held-out problems, greedy\n\n"
        let sa = c.scoreA, sb = c.scoreB
        out += table(["metric", "A (95% CI)", "B (95% CI)"], [
            ["accuracy", ci(sa.accuracy, sa.accuracy_ci[0], sa.accuracy_ci[1]), ci(sb.accuracy, sb.accuracy_ci[0], sb.accuracy_ci[1])],
            ["mean reward", ci(sa.mean_reward, sa.mean_reward_ci[0], sa.mean_reward_ci[1]),
             ci(sb.mean_reward, sb.mean_reward_ci[0], sb.mean_reward_ci[1])],
            ["mean length", f(sa.mean_length, 1), f(sb.mean_length, 1)],
        ])
        let p = c.probabilityAOverB
        out += "\nP(A > B) = \(ci(p.estimate, p.lower, p.upper)) (Mann–Whitney over episodes, unpaired); "
        out += "solved by A only: \(c.discordant.aOnly), by B only: \(c.discordant.bOnly)\n"
        out += "KL(A‖B) per token: mean \(g(c.kl.mean)), max \(g(c.kl.max)) over \(c.kl.tokens) tokens of A's responses\n\n"
        out += "\(h)relative L2 ‖A−B‖/‖B‖ per layer\n\n"
        out += table(["group", "tensors", "max", "mean"], c.parameterDeltas.map {
            [$0.group, "\($0.tensors)", g($0.maxRelativeL2), g($0.meanRelativeL2)]
        })
        return out
    }
}
