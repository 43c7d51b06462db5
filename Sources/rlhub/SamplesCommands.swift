// rlhub samples / check / diff — what a run's model wrote, whether a run behaves like the
// published seeds, and where two runs stop being the same.
import ArgumentParser
import Evaluation
import Experiments
import Foundation
import LM
import RLHubCore
import Store
import Trainer

/// `--format text|json` of the samples, check and diff verbs.
enum TextFormat: String, ExpressibleByArgument, CaseIterable {
    case text, json
}

struct SamplesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "samples", abstract: "Recorded rollout samples of a run: conversations, rewards, advantages, log-probs per token.",
        discussion: """
            Example: rlhub samples 3fa2c1 --step 20 --where "kind = 'train' and reward > 0"
            Runs record samples_per_step (default 4) trajectories at every samples_every-th (default 10) training step and
            at every held-out evaluation. Fields of --where: step kind position problem group sample reward advantage
            logprob_gap outcome finish_reason truncated turns prompt_tokens response_tokens (operators as `rlhub runs`).
            --tokens prints each policy token with the sampler's and the policy's log-prob and its advantage.
            """)
    @OptionGroup var storeOptions: StoreOptions
    @Argument(help: "Run id (or a unique prefix of ≥ 4 characters).") var runID: String
    @Option(help: "Only the samples of this step.") var step: Int?
    @Option(name: .customLong("where"), help: "Filter over the samples' fields.") var filter: String?
    @Flag(help: "Text format: also print the policy's tokens one per line.") var tokens = false
    @Option(help: "text or json.") var format: TextFormat = .text

    func run() throws {
        let sampleFilter = try filter.map { try SampleFilter(where: $0) } ?? .all
        let store = try storeOptions.open()
        let run = try store.run(runID)
        let stored = try store.samples(run: run.id, step: step, filter: sampleFilter)
        let decoded = try stored.map { s -> (StoredSample, RolloutSample) in
            do { return (s, try RolloutSample.decode(s.json)) } catch {
                throw InputError(file: "run", field: "\(run.id) step \(s.step) \(s.kind) sample \(s.position)", message: (error as? InputError)?.message ?? "\(error)")
            }
        }
        if format == .json {
            try printJSON(decoded.map { SampleOutput(step: $0.0.step, position: $0.0.position, sample: $0.1) })
            return
        }
        if decoded.isEmpty {
            let steps = try store.sampleSteps(run: run.id)
            let note = steps.isEmpty
                ? "run \(run.id) recorded no samples (samples_every = 0, or stored before rlhub kept them)"
                : "no sample matches; steps with samples: " + steps.map { "\($0.step) \($0.kind)" }.joined(separator: ", ")
            FileHandle.standardError.write(Data((note + "\n").utf8))
            return
        }
        print(decoded.map { Self.text($0.0, $0.1, tokens: tokens) }.joined(separator: "\n\n"))
    }

    /// One sample: a header line, the conversation, and with `tokens` the policy's tokens.
    static func text(_ s: StoredSample, _ sample: RolloutSample, tokens: Bool) -> String {
        var head = ["step \(s.step)", s.kind, "problem \(sample.problem)", "group \(sample.group) sample \(sample.sample)",
                    "reward " + fmt(sample.reward)]
        if let a = sample.meanAdvantage { head.append("advantage " + fmt(a)) }
        if let g = sample.maxLogprobGap { head.append("max |Δlogprob| " + fmt(g)) }
        head.append((sample.outcome ?? "-") + " · " + sample.finishReason + (sample.truncated ? " · truncated" : ""))
        head.append("\(sample.promptTokens)+\(sample.responseTokens) tokens")
        var lines = [head.joined(separator: " · ")]
        for m in sample.messages {
            let body = m.content.split(separator: "\n", omittingEmptySubsequences: false).joined(separator: "\n      ")
            lines.append("  \(m.role): \(body)")
        }
        if tokens {
            lines.append("  token            sampler lp   policy lp   advantage")
            for t in sample.tokens.indices where sample.lossMask[t] == 1 {
                let piece = sample.pieces[t].debugDescription
                let padded = piece.count >= 16 ? piece : piece + String(repeating: " ", count: 16 - piece.count)
                func column(_ v: Float?) -> String {
                    let text = v.map { String(format: "%.4f", $0) } ?? "-"
                    return String(repeating: " ", count: max(0, 10 - text.count)) + text
                }
                lines.append("  " + padded + " " + column(sample.samplerLogprobs[t]) + "  " + column(sample.policyLogprobs?[t])
                             + "  " + column(sample.advantages?[t]))
            }
        }
        return lines.joined(separator: "\n")
    }
}

/// A sample as `rlhub samples --format json` prints it.
struct SampleOutput: Encodable {
    var step: Int
    var position: Int
    var sample: RolloutSample
}

struct CheckCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check", abstract: "Is a run inside the band of a reference cell's seeds? Exit 1 when it is not.",
        discussion: """
            Example: rlhub pull baselines/ && rlhub grid experiments/baseline.yaml --only 'grpo/add/seed0' && \\
                     rlhub check RUN --against baselines-v1 --html check.html
            REF is RELEASE or EXPERIMENT, optionally /ALGO/TASK (default: the run's own cell without its seed); the
            reference runs are its finished runs of cell ALGO/TASK/seedN. For each step the run and the reference
            evaluated, the run's held-out test accuracy is compared with the reports' band (mean ± t·sd/√n, 95%) of
            the reference seeds. The run is inside when it is inside at the last compared step and outside at no more
            than a quarter of the steps (rounded down); also printed: the final score's percentile among the reference
            seeds.
            """)
    @OptionGroup var storeOptions: StoreOptions
    @Argument(help: "Run id (or a unique prefix of ≥ 4 characters).") var runID: String
    @Option(help: "Reference: RELEASE or EXPERIMENT[/ALGO/TASK].") var against: String
    @Option(help: "Store holding the reference (default: --store).") var referenceStore: String?
    @Option(help: "Held-out score metric. Default: accuracy.") var metric = "accuracy"
    @Option(help: "Write the verdict, chart and table as an HTML page (no script) to this file.") var html: String?
    @Option(help: "Write the chart as SVG to this file.") var svg: String?
    @Option(help: "text or json.") var format: TextFormat = .text

    func run() throws {
        let store = try storeOptions.open()
        let refStore = try referenceStore.map { try openExistingStore($0, flag: "--reference-store") } ?? store
        let result = try RunCheck.check(run: runID, in: store, against: against, referenceStore: refStore, metric: metric)
        if let html { try Data(result.html().utf8).write(to: URL(fileURLWithPath: html), options: .atomic) }
        if let svg { try Data(result.svg().utf8).write(to: URL(fileURLWithPath: svg), options: .atomic) }
        if format == .json { try printJSON(result) } else { print(result.text()) }
        if !result.inside {
            throw RunFailure(message: "run \(result.run) is outside the band of \(result.reference)")
        }
    }
}

/// Opens another existing store (a reference, or run B's), as ``StoreOptions/open(create:)`` does.
func openExistingStore(_ dir: String, flag: String) throws -> RunStore {
    guard FileManager.default.fileExists(atPath: dir + "/store.sqlite") else {
        throw InputError(file: flag, field: dir, message: "no store here")
    }
    return try RunStore(directory: dir)
}

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
    @Option(help: "text or json.") var format: TextFormat = .text

    func run() throws {
        let store = try storeOptions.open()
        let other = try storeB.map { try openExistingStore($0, flag: "--store-b") } ?? store
        let diff = try RunDiff.compare(runA, in: store, with: runB, in: other)
        if format == .json { try printJSON(diff) } else { print(Self.text(diff)) }
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
