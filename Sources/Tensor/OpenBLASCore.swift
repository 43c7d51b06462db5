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

    /// True in the process that ``reexecIfNeeded()`` started.
    public static var wasReexecuted: Bool { ProcessInfo.processInfo.environment[reexecMarker] != nil }

    /// True when rlhub, not the user, set the environment variable `key` (it re-executed with it).
    public static func setByRLHub(_ key: String) -> Bool {
        (ProcessInfo.processInfo.environment[reexecMarker] ?? "").split(separator: ",").contains { $0 == key }
    }

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

    /// The variables to set before the libraries load, given the environment and the CPU: the
    /// core type when OpenBLAS picked (`active`) a slower one than `flags` allow, and the thread
    /// wait policies of ``ThreadWaitPolicy``. A variable the user set is never overridden.
    public static func pendingVariables(environment env: [String: String], flags: Set<String>, active: String) -> [(String, String)] {
        var pending: [(String, String)] = []
        let best = bestCore(flags: flags)
        if env[environmentKey] == nil && active.lowercased() != best.lowercased() { pending.append((environmentKey, best)) }
        pending += ThreadWaitPolicy.pendingVariables(environment: env)
        return pending
    }

    /// Re-executes the current program once with ``pendingVariables(environment:flags:active:)``
    /// set. Returns normally when nothing needs doing or this process is the re-executed one (its
    /// marker lists the variables rlhub set). Call first thing in `main`.
    public static func reexecIfNeeded() {
        let env = ProcessInfo.processInfo.environment
        if env[reexecMarker] != nil { return }
        let pending = pendingVariables(environment: env, flags: cpuFlags(), active: BLAS.coreName)
        if pending.isEmpty { return }
        for (key, value) in pending { setenv(key, value, 1) }
        setenv(reexecMarker, pending.map(\.0).joined(separator: ","), 1)
        let args = CommandLine.arguments
        var cArgs = args.map { strdup($0) }
        cArgs.append(nil)
        execv("/proc/self/exe", &cArgs)
        // execv only returns on failure: carry on as we are rather than fail.
        for (key, _) in pending { unsetenv(key) }
        unsetenv(reexecMarker)
    }
}
