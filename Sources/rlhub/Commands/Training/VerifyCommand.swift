// rlhub verify — re-run a stored run from its stored config and compare bit for bit.
import ArgumentParser
import Experiments
import Foundation
import LM
import RLHubCore
import Store
import Tensor

struct VerifyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify", abstract: "Re-run a stored run from its stored config and compare bit for bit.",
        discussion: "Example: rlhub verify 3fa2c1 --steps 5   (exit 1 and the first divergence when they differ)")
    @OptionGroup var storeOptions: StoreOptions
    @Argument(help: "Run id.") var runID: String
    @Option(help: "Only the first K steps (default: the whole run, including the final checkpoint hash).") var steps: Int?

    func run() throws {
        let store = try storeOptions.open()
        let scratch = NSTemporaryDirectory() + "rlhub-verify-\(getpid())"
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        let r = try RunVerifier.verify(store: store, run: runID, steps: steps, scratch: scratch)
        var line = "verify \(r.run): \(r.steps) steps, \(r.pointsCompared) metric points"
        if let c = r.checkpoint { line += ", final checkpoint sha256 \(c.stored.prefix(16))… " + (c.stored == c.recomputed ? "identical" : "differs (recomputed \(c.recomputed.prefix(16))…)") }
        print(line)
        let (storedCode, currentCode) = r.codeVersions
        let codeNote = storedCode == currentCode ? "" : " (stored by code \(CodeVersion(recorded: storedCode).abbreviated), re-run by \(CodeVersion(recorded: currentCode).abbreviated))"
        if let d = r.firstDivergence {
            throw RunFailure(message: "verify \(r.run)\(codeNote): first divergence at step \(d.step), \(d.metric): stored \(d.stored.map { "\($0)" } ?? "missing"), recomputed \(d.recomputed.map { "\($0)" } ?? "missing")")
        }
        if !r.matches { throw RunFailure(message: "verify \(r.run)\(codeNote): final checkpoint differs") }
        print("identical")
    }
}
