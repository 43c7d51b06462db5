// Independent references the tests compare with (numpy/gguf/tokenizers/rliable scripts under
// Tests/reference, the SmolLM2 GGUF file, Chromium): present → the test runs; missing → the test is
// skipped with the reason and the command that installs it, or fails under RLHUB_REQUIRE_REFERENCE=1
// (`make test` sets it, so CI never passes without them).
import Foundation
import Testing

/// What the reference checks need and whether their absence is a failure.
public enum Reference {
    /// True under `RLHUB_REQUIRE_REFERENCE=1`: a missing reference fails instead of skipping.
    public static let required = ProcessInfo.processInfo.environment["RLHUB_REQUIRE_REFERENCE"] == "1"

    private static let pythonChecks = Cache<String, Bool>()

    /// `/usr/bin/env` (run as `env python3 SCRIPT …`) when python3 can import `modules`
    /// (comma-separated), else nil. Each module list is tried once per process.
    public static func python(_ modules: String) -> String? {
        let ok = pythonChecks.value(for: modules) {
            (try? runProcess("/usr/bin/env", ["python3", "-c", "import \(modules)"]))?.status == 0
        }
        return ok ? "/usr/bin/env" : nil
    }

    /// The first executable named `name` on PATH (or in /usr/bin, /usr/local/bin), else nil.
    public static func executable(_ name: String) -> String? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? ""
        for dir in path.split(separator: ":").map(String.init) + ["/usr/bin", "/usr/local/bin"] {
            let candidate = dir + "/" + name
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        return nil
    }
}

extension Trait where Self == ConditionTrait {
    /// Runs the test when python3 imports `modules`; otherwise it is skipped with the reason (or
    /// run, to fail on its `#require`, under RLHUB_REQUIRE_REFERENCE=1).
    public static func requiresPython(_ modules: String, install: String) -> Self {
        .enabled(
            if: Reference.required || Reference.python(modules) != nil,
            "python3 with \(modules) not found: run `make deps` (pip install \(install))")
    }

    /// Runs the test when `available` holds; otherwise skipped with `reason` (run, to fail, under
    /// RLHUB_REQUIRE_REFERENCE=1).
    public static func requiresReference(_ available: @autoclosure @escaping @Sendable () -> Bool, _ reason: Comment) -> Self {
        .enabled(if: Reference.required || available(), reason)
    }
}

/// A value computed once per key, shared across concurrently running tests.
final class Cache<Key: Hashable & Sendable, Value: Sendable>: @unchecked Sendable {
    private var values: [Key: Value] = [:]
    private let lock = NSLock()

    func value(for key: Key, _ make: () -> Value) -> Value {
        lock.lock()
        defer { lock.unlock() }
        if let v = values[key] { return v }
        let v = make()
        values[key] = v
        return v
    }
}
