// rlhub — the performance harness behind `rlhub bench` / `make bench`.
//
// Every figure is measured in the same run as this machine's sgemm peak, so each entry states
// its achieved GFLOP/s as a fraction of that peak. Times are medians of the timed repetitions.
import Foundation
import LM
import RLHubCore
import Tensor

/// One benchmark result, under a fixed name such as `lm.train_step.smollm2-135m`.
public struct BenchmarkEntry: Codable, Sendable {
    public var name: String
    public var tokens_per_s: Double?
    public var gflops: Double?
    public var fraction_of_sgemm_peak: Double?
    public var peak_rss_mib: Double
    public var seconds: Double
    public var detail: String
    /// Stored metric points per second (store entries).
    public var points_per_s: Double? = nil
    /// Precision of the entry's matrix products (`fp32`, `bf16`); nil for entries without any.
    public var precision: String? = nil
    /// For bf16 entries: GFLOP/s as a fraction of the bf16 peak measured in the same run.
    public var fraction_of_bf16_peak: Double? = nil
}

/// The whole report written by `rlhub bench --json FILE`.
public struct BenchmarkReport: Codable, Sendable {
    public var sgemm_gflops: Double
    /// oneDNN's bf16 matmul at 2048³ (inputs already bf16), the peak of the bf16 entries; nil
    /// when this CPU has no bf16 matmul.
    public var bf16_gflops: Double?
    /// oneDNN's version and the ISA it dispatches to.
    public var onednn: String
    public var openblas_core: String
    public var threads: Int
    public var rlhub: String
    public var date: String
    public var entries: [String: BenchmarkEntry]
}

/// Runs the benchmark suites and prints one line per entry to stderr.
public final class BenchmarkRunner {
    public let suites: Set<String>
    public private(set) var report: BenchmarkReport
    let log: (String) -> Void

    /// Suites: `sgemm`, `gemm` (the GEMM dispatch at the model's shapes), `lm` (presets `tiny` and `smollm2-135m`; `lm.tiny` or `lm.smollm2-135m`
    /// for one), `pretrained` (the real SmolLM2 weights), `rollout`. Empty = all.
    /// The GGUF file of the `pretrained` suite.
    public var pretrainedPath = PretrainedBenchmarks.defaultPath
    /// The rlhub binary (the `store` suite starts writer processes).
    public var executable = CommandLine.arguments[0]

    public init(suites: Set<String>, log: @escaping (String) -> Void) {
        self.suites = suites
        self.log = log
        report = BenchmarkReport(
            sgemm_gflops: 0, bf16_gflops: nil, onednn: "\(OneDNN.version) \(OneDNN.isa)", openblas_core: BLAS.coreName, threads: ComputeThreads.count,
            rlhub: RLHubVersion.string, date: ISO8601DateFormatter().string(from: Date()), entries: [:])
    }

    func wants(_ suite: String) -> Bool { suites.isEmpty || suites.contains(suite) }

    public func run() throws {
        log("sgemm 2048³ …")
        report.sgemm_gflops = SgemmProbe.medianGFLOPS(size: 2048, repeats: 7)
        log(String(format: "sgemm_gflops %.1f (core %@, %d threads)", report.sgemm_gflops, report.openblas_core, report.threads))
        report.bf16_gflops = SgemmProbe.medianBF16GFLOPS(size: 2048, repeats: 7)
        if let g = report.bf16_gflops {
            log(String(format: "bf16_gflops %.1f (oneDNN %@)", g, report.onednn))
        } else {
            log("bf16: \(GEMM.bf16Unavailable ?? "unavailable"); the bf16 entries are skipped")
        }
        if wants("gemm") { GEMMBenchmarks(runner: self).run() }
        for preset in ["tiny", "smollm2-135m"] where wants("lm") || wants("lm.\(preset)") {
            try LMBenchmarks(runner: self, preset: preset).run()
        }
        if wants("rollout") { try TinyRollout(runner: self).run() }
        if wants("store") { try StoreBenchmarks(runner: self, executable: executable).run() }
        if wants("pretrained") || wants("rollout") {
            try PretrainedBenchmarks(runner: self).run(path: pretrainedPath)
        }
    }

    /// The precisions the model entries run at: fp32, and bf16 where this CPU has a bf16 matmul.
    var precisions: [GEMM.Precision] { report.bf16_gflops == nil ? [.fp32] : [.fp32, .bf16] }

    /// An entry's name at `precision`: fp32 entries keep their historical names, bf16 ones end in `.bf16`.
    func name(_ base: String, _ precision: GEMM.Precision) -> String { precision == .fp32 ? base : base + ".bf16" }

    /// Records an entry computed from a median time and its FLOP and token counts; a bf16 entry's
    /// GFLOP/s is also stated against the bf16 peak.
    func record(
        _ name: String, seconds: Double, flops: Double?, tokens: Int?, rss: Double, detail: String,
        precision: GEMM.Precision? = nil
    ) {
        let gflops = flops.map { $0 / seconds / 1e9 }
        var entry = BenchmarkEntry(
            name: name, tokens_per_s: tokens.map { Double($0) / seconds }, gflops: gflops,
            fraction_of_sgemm_peak: gflops.map { $0 / report.sgemm_gflops }, peak_rss_mib: rss,
            seconds: seconds, detail: detail)
        entry.precision = precision?.rawValue
        if precision == .bf16, let g = gflops, let peak = report.bf16_gflops { entry.fraction_of_bf16_peak = g / peak }
        report.entries[name] = entry
        var line = String(format: "%-48@ %8.3f s", name as NSString, seconds)
        if let t = entry.tokens_per_s { line += String(format: "  %9.1f tok/s", t) }
        if let g = gflops, let f = entry.fraction_of_bf16_peak {
            line += String(format: "  %7.1f GFLOP/s (%4.1f%% of bf16 peak)", g, 100 * f)
        } else if let g = gflops, let f = entry.fraction_of_sgemm_peak {
            line += String(format: "  %7.1f GFLOP/s (%4.1f%% of sgemm)", g, 100 * f)
        }
        line += String(format: "  peak RSS %.0f MiB", rss)
        log(line)
    }
}

extension BenchmarkRunner {
    /// Records an entry measured in seconds (and, for the store, points per second).
    func recordPlain(_ name: String, seconds: Double, pointsPerSecond: Double?, detail: String) {
        var entry = BenchmarkEntry(
            name: name, tokens_per_s: nil, gflops: nil, fraction_of_sgemm_peak: nil, peak_rss_mib: PeakMemory.mib(),
            seconds: seconds, detail: detail)
        entry.points_per_s = pointsPerSecond
        report.entries[name] = entry
        var line = name.padding(toLength: 42, withPad: " ", startingAt: 0) + String(format: " %9.2f ms", seconds * 1000)
        if let r = pointsPerSecond { line += String(format: "  %12.0f points/s", r) }
        log(line + "  (" + detail + ")")
    }
}

/// Peak resident memory, resettable between entries (Linux `clear_refs` 5 resets VmHWM).
enum PeakMemory {
    static func reset() {
        try? "5".write(toFile: "/proc/self/clear_refs", atomically: false, encoding: .utf8)
    }

    /// VmHWM in MiB.
    static func mib() -> Double {
        guard let s = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return 0 }
        for line in s.split(separator: "\n") where line.hasPrefix("VmHWM:") {
            let kb = line.split(separator: " ").compactMap { Double($0) }.first ?? 0
            return kb / 1024
        }
        return 0
    }
}

/// Wall-clock seconds of `body`.
func timed(_ body: () throws -> Void) rethrows -> Double {
    let t0 = DispatchTime.now().uptimeNanoseconds
    try body()
    return Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9
}

func median(_ xs: [Double]) -> Double {
    let s = xs.sorted()
    return s.isEmpty ? .nan : s[s.count / 2]
}
