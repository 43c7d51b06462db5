// rlhub — how idle library threads wait: sleep rather than spin.
//
// Why: rlhub runs two thread pools in one process — OpenBLAS's (pthreads) for fp32 products and
// oneDNN's (OpenMP, libgomp) for bf16 products and the fp32 LM head. After a call, each pool's
// threads spin for a while waiting for the next one (libgomp: up to 300k spins; OpenBLAS: about
// 2²⁸ cycles). On a 2-core machine the spinning threads of one pool take the cores the other pool
// needs next, and alternating calls (a LoRA update: a bf16 base product, then fp32 adapter
// products) pay for it every time. Measured on SmolLM2-135M GRPO, 2 threads, one sitting: LoRA
// r = 16 bf16 update 3.45 s → 2.10 s a step, fp32 generation 5.44 s → 4.62 s. Both libraries
// read their variable once, when they load, so it is set before the process starts (the
// re-execution of OpenBLASCore.reexecIfNeeded); numbers are unaffected, only who waits how.
import Foundation

/// The thread wait policies rlhub sets for OpenBLAS and OpenMP unless the user chose their own.
public enum ThreadWaitPolicy {
    /// OpenMP's standard variable: `PASSIVE` makes idle threads sleep (libgomp: spin count 0).
    public static let openMPKey = "OMP_WAIT_POLICY", openMPValue = "PASSIVE"
    /// libgomp's own spin count; a user who set it has chosen a policy.
    public static let gompSpinKey = "GOMP_SPINCOUNT"
    /// OpenBLAS's idle timeout, 2ⁿ cycles for n in 4…30: 4 lets its threads sleep at once.
    public static let openBLASKey = "OPENBLAS_THREAD_TIMEOUT", openBLASValue = "4"

    /// The variables to set in `environment`, none the user already set.
    public static func pendingVariables(environment env: [String: String]) -> [(String, String)] {
        var pending: [(String, String)] = []
        if env[openMPKey] == nil && env[gompSpinKey] == nil { pending.append((openMPKey, openMPValue)) }
        if env[openBLASKey] == nil { pending.append((openBLASKey, openBLASValue)) }
        return pending
    }

    /// The policy in effect, for `rlhub doctor`: each variable, its value and who set it.
    public static func describe(environment env: [String: String] = ProcessInfo.processInfo.environment) -> [(key: String, value: String?, byRLHub: Bool)] {
        [openMPKey, gompSpinKey, openBLASKey].map { ($0, env[$0], OpenBLASCore.setByRLHub($0)) }
    }
}
