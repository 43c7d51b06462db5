// rlhub doctor — what this machine gives rlhub: BLAS kernel, threads, measured speed, libraries.
import ArgumentParser
import Foundation
import Store
import LM
import RLHubCore
import Tensor

struct DoctorCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "doctor",
        abstract: "Print the code version, OpenBLAS version/core/threads, measured sgemm GFLOP/s, oneDNN's version/ISA and bf16 GFLOP/s, SQLite and libarchive versions.",
        discussion: "Example: rlhub doctor --format json")

    @OptionGroup var output: FormatOptions<TableOrJSON>
    @Flag(help: "Print only the OpenBLAS core type rlhub selects for this CPU (for scripts).")
    var coretype = false
    @Flag(help: "Print only the SHA-256 of the source tree this binary was compiled from (for scripts).")
    var sourceHash = false
    @OptionGroup var compute: ComputeOptions

    struct Report: Encodable {
        var rlhub: String
        var code_version: String
        var source_sha256: String
        var openblas_config: String
        var openblas_core: String
        var openblas_core_selected: String
        var openblas_coretype_env: String?
        var threads: Int
        /// The thread wait policy variables in effect (ThreadWaitPolicy), by name.
        var thread_wait: [String: String]
        var sgemm_gflops_2048: Double
        var onednn_version: String
        var onednn_isa: String
        /// oneDNN's bf16 matmul implementation here, nil when bf16 settings are refused.
        var onednn_bf16: String?
        var bf16_gflops_2048: Double?
        var sqlite: String?
        var libarchive: String?
        var zstd: Bool
        var cpu_flags: [String]
    }

    func run() throws {
        let flags = OpenBLASCore.cpuFlags()
        if coretype {
            print(OpenBLASCore.bestCore(flags: flags))
            return
        }
        if sourceHash {
            print(CodeVersion.current.sourceHash)
            return
        }
        let threads = try compute.apply()
        let gflops = SgemmProbe.medianGFLOPS(size: 2048, repeats: 5)
        let bf16 = SgemmProbe.medianBF16GFLOPS(size: 2048, repeats: 5)
        let archive = SystemLibraries.libarchiveVersion()
        let report = Report(
            rlhub: RLHubVersion.string, code_version: CodeVersion.current.description,
            source_sha256: CodeVersion.current.sourceHash, openblas_config: BLAS.config, openblas_core: BLAS.coreName,
            openblas_core_selected: OpenBLASCore.bestCore(flags: flags),
            openblas_coretype_env: ProcessInfo.processInfo.environment[OpenBLASCore.environmentKey],
            threads: threads,
            thread_wait: Dictionary(uniqueKeysWithValues: ThreadWaitPolicy.describe().compactMap { v in v.value.map { (v.key, $0) } }),
            sgemm_gflops_2048: (gflops * 10).rounded() / 10,
            onednn_version: OneDNN.version, onednn_isa: OneDNN.isa, onednn_bf16: OneDNN.bf16Implementation,
            bf16_gflops_2048: bf16.map { ($0 * 10).rounded() / 10 },
            sqlite: SystemLibraries.sqliteVersion(), libarchive: archive?.details ?? CheckpointArchive.libarchiveVersion,
            zstd: CheckpointArchive.supportsZstd,
            cpu_flags: flags.filter { $0.hasPrefix("avx") || $0 == "fma" }.sorted())
        if output.format == .json { return try printJSON(report) }
        print("rlhub          \(report.rlhub)")
        print("  commit       \(CodeVersion.current.commit)" + (CodeVersion.current.dirty ? " (uncommitted changes \(CodeVersion.current.diffHash))" : ""))
        print("  source       \(report.source_sha256) (SHA-256 of the source tree this binary was compiled from)")
        print("OpenBLAS       \(report.openblas_config)")
        print("  core         \(report.openblas_core) (selected for this CPU: \(report.openblas_core_selected)"
              + (report.openblas_coretype_env.map { ", OPENBLAS_CORETYPE=\($0)" + (OpenBLASCore.setByRLHub(OpenBLASCore.environmentKey) ? " set by rlhub" : " set by the user") } ?? "") + ")")
        print("  threads      \(threads)")
        let waits = ThreadWaitPolicy.describe().compactMap { v in v.value.map { "\(v.key)=\($0)" + (v.byRLHub ? " (rlhub)" : " (user)") } }
        print("  idle threads " + (waits.isEmpty ? "spin (library defaults)" : waits.joined(separator: ", ")))
        print(String(format: "  sgemm        %.1f GFLOP/s (2048³, median of 5)", gflops))
        print("oneDNN         \(report.onednn_version) (ISA \(report.onednn_isa))")
        if let bf16, let impl = report.onednn_bf16 {
            print(String(format: "  bf16 matmul  %.1f GFLOP/s (2048³, median of 5; %@)", bf16, impl as NSString))
        } else {
            print("  bf16 matmul  none: \(GEMM.bf16Unavailable ?? "unavailable") — rollout_dtype/train_dtype=bf16 are refused")
        }
        print("SQLite         \(report.sqlite ?? "not found (apt-get install libsqlite3-dev)")")
        print("libarchive     \(report.libarchive ?? "not found (apt-get install libarchive-dev)")")
        print("  zstd         \(report.zstd ? "yes" : "no")")
        print("CPU            \(report.cpu_flags.joined(separator: " "))")
    }
}

/// Versions of the system libraries later layers link (SQLite, libarchive), read with dlopen so
/// that `doctor` works before they are needed.
enum SystemLibraries {
    static func sqliteVersion() -> String? {
        guard let h = dlopen("libsqlite3.so.0", RTLD_NOW), let sym = dlsym(h, "sqlite3_libversion") else { return nil }
        typealias Fn = @convention(c) () -> UnsafePointer<CChar>?
        return unsafeBitCast(sym, to: Fn.self)().map { String(cString: $0) }
    }

    static func libarchiveVersion() -> (details: String, version: String)? {
        guard let h = dlopen("libarchive.so.13", RTLD_NOW) else { return nil }
        typealias Fn = @convention(c) () -> UnsafePointer<CChar>?
        let version = dlsym(h, "archive_version_string").flatMap { unsafeBitCast($0, to: Fn.self)() }
            .map { String(cString: $0) } ?? "libarchive"
        let details = dlsym(h, "archive_version_details").flatMap { unsafeBitCast($0, to: Fn.self)() }
            .map { String(cString: $0) } ?? version
        return (details, version)
    }
}
