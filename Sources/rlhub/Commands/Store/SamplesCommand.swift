// rlhub samples — what a run's model wrote: the recorded rollout samples of a run.
import ArgumentParser
import Evaluation
import Experiments
import Foundation
import LM
import RLHubCore
import Store
import Trainer

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
    @OptionGroup var output: FormatOptions<TextOrJSON>

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
        if output.format == .json {
            try printJSON(decoded.map { StepSample(step: $0.0.step, position: $0.0.position, sample: $0.1) })
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

