// rlhub — pick OpenBLAS's kernel family from the CPU's features before the library runs.
//
// Why: Debian's OpenBLAS 0.3.21 is built with DYNAMIC_ARCH, and it does not recognise recent
// CPUs (e.g. AMD Zen 4, Intel Sapphire Rapids); it then falls back to `Prescott` kernels, about
// 10× slower (measured 32 vs 310 GFLOP/s at 2048³ here). The choice is made in a library
// constructor from the environment variable OPENBLAS_CORETYPE, so the only reliable fix is to
// set the variable and re-execute the program before any work is done.
import Foundation

/// Chooses and enforces the OpenBLAS core type.
public enum OpenBLASCore {
    /// The environment variable OpenBLAS reads at load time.
    public static let environmentKey = "OPENBLAS_CORETYPE"
    /// Marks a process that was already re-executed once (prevents loops).
    static let reexecMarker = "RLHUB_OPENBLAS_REEXEC"

    /// True in the process that ``reexecIfNeeded()`` started (the core type was rlhub's choice).
    public static var wasReexecuted: Bool { ProcessInfo.processInfo.environment[reexecMarker] != nil }

    /// CPU feature flags from `/proc/cpuinfo` (Linux), empty if unreadable.
    public static func cpuFlags(cpuinfo: String? = nil) -> Set<String> {
        let text = cpuinfo ?? ((try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)) ?? "")
        for line in text.split(separator: "\n") where line.hasPrefix("flags") {
            guard let colon = line.firstIndex(of: ":") else { continue }
            return Set(line[line.index(after: colon)...].split(separator: " ").map(String.init))
        }
        return []
    }

    /// The best OpenBLAS 0.3.21 core type for these features.
    ///
    /// AVX-512 (F, BW, DQ, VL, CD) → `SkylakeX` (its AVX-512 sgemm is the fastest kernel this
    /// version ships; `Cooperlake` adds only bf16 routines); AVX2 + FMA → `Haswell`;
    /// AVX → `Sandybridge`; otherwise `Nehalem` (SSE4.2) or `Prescott`.
    public static func bestCore(flags: Set<String>) -> String {
        let avx512 = ["avx512f", "avx512bw", "avx512dq", "avx512vl", "avx512cd"]
        if avx512.allSatisfy(flags.contains) { return "SkylakeX" }
        if flags.contains("avx2") && flags.contains("fma") { return "Haswell" }
        if flags.contains("avx") { return "Sandybridge" }
        if flags.contains("sse4_2") { return "Nehalem" }
        return "Prescott"
    }

    /// Re-executes the current program with `OPENBLAS_CORETYPE` set when OpenBLAS picked a
    /// slower core than the CPU supports. Returns normally when nothing needs doing: the user set
    /// the variable (their choice is honoured), the right core is already active, or this process
    /// is the re-executed one. Call first thing in `main`.
    public static func reexecIfNeeded() {
        let env = ProcessInfo.processInfo.environment
        if env[environmentKey] != nil || env[reexecMarker] != nil { return }
        let best = bestCore(flags: cpuFlags())
        if BLAS.coreName.lowercased() == best.lowercased() { return }
        setenv(environmentKey, best, 1)
        setenv(reexecMarker, "1", 1)
        let args = CommandLine.arguments
        var cArgs = args.map { strdup($0) }
        cArgs.append(nil)
        execv("/proc/self/exe", &cArgs)
        // execv only returns on failure: carry on with the slow kernels rather than fail.
        unsetenv(environmentKey)
    }
}
