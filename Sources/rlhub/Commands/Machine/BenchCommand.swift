// rlhub bench — the performance harness (`make bench`).
import ArgumentParser
import Benchmarks
import Foundation
import LM
import RLHubCore
import Store

struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Measure the sgemm and bf16 peaks, then model forward / train step / decode / rollout / GRPO step speed against them, in fp32 and (where the CPU has a bf16 matmul) bf16.",
        discussion: """
            Results are named like lm.train_step.smollm2-135m (bf16: ….bf16), each with tokens_per_s, gflops,
            fraction_of_sgemm_peak (bf16 entries also fraction_of_bf16_peak) and peak_rss_mib. Example: rlhub bench --suite lm --json bench.json
            """)

    @Option(help: "Comma-separated suites: sgemm, gemm, lm, lm.tiny, lm.smollm2-135m, pretrained, rollout, store (default: all).")
    var suite: String?
    @Option(help: "GGUF file of the pretrained suite.") var model = "models/SmolLM2-135M-Instruct.Q4_1.gguf"
    @Option(help: "Write the results as JSON to this file.") var json: String?
    @OptionGroup var compute: ComputeOptions

    func run() throws {
        try compute.apply()
        let known: Set<String> = ["sgemm", "gemm", "lm", "lm.tiny", "lm.smollm2-135m", "pretrained", "rollout", "store"]
        let suites = Set((suite ?? "").split(separator: ",").map(String.init))
        for s in suites where !known.contains(s) {
            throw InputError(file: "--suite", field: s, message: "unknown suite; valid: \(known.sorted().joined(separator: ", "))")
        }
        let runner = BenchmarkRunner(suites: suites) { line in
            FileHandle.standardError.write(Data((line + "\n").utf8))
        }
        runner.pretrainedPath = model
        runner.executable = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        try runner.run()
        if let json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            let data = try encoder.encode(runner.report)
            try AtomicFile.write(data, to: json)
            FileHandle.standardError.write(Data("wrote \(json)\n".utf8))
        }
    }
}
