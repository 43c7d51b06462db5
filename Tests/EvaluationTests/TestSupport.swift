// Shared helpers for the Evaluation tests.
import Foundation
import Testing

/// Root of the package (for scripts under Tests/reference).
let packageRoot: URL = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    .deletingLastPathComponent().deletingLastPathComponent()

/// Runs a program with optional standard input; returns (status, stdout, stderr).
@discardableResult
func runProcess(_ executable: String, _ arguments: [String], input: Data? = nil) throws -> (Int32, String, String) {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: executable)
    p.arguments = arguments
    let out = Pipe(), err = Pipe()
    p.standardOutput = out
    p.standardError = err
    if input != nil { p.standardInput = Pipe() }
    try p.run()
    if let input, let pipe = p.standardInput as? Pipe {
        pipe.fileHandleForWriting.write(input)
        try pipe.fileHandleForWriting.close()
    }
    // Read stderr on another thread so that neither pipe can fill up and block the child.
    nonisolated(unsafe) var e = Data()
    let group = DispatchGroup()
    DispatchQueue.global().async(group: group) { e = err.fileHandleForReading.readDataToEndOfFile() }
    let o = out.fileHandleForReading.readDataToEndOfFile()
    group.wait()
    p.waitUntilExit()
    return (p.terminationStatus, String(decoding: o, as: UTF8.self), String(decoding: e, as: UTF8.self))
}

/// python3 with the reference packages, or nil (a failure when RLHUB_REQUIRE_REFERENCE=1).
func referencePython(_ modules: String, install: String) -> String? {
    if let (status, _, _) = try? runProcess("/usr/bin/env", ["python3", "-c", "import \(modules)"]), status == 0 {
        return "/usr/bin/env"
    }
    if ProcessInfo.processInfo.environment["RLHUB_REQUIRE_REFERENCE"] == "1" {
        Issue.record("python3 with \(modules) is required: run `make deps` (pip install \(install))")
    }
    return nil
}

/// |a − b| ≤ atol + rtol·|b|, reporting the difference.
func expectClose(
    _ a: Double, _ b: Double, atol: Double = 1e-12, rtol: Double = 0, _ what: @autoclosure () -> String = "",
    sourceLocation: SourceLocation = #_sourceLocation
) {
    let ok = abs(a - b) <= atol + rtol * abs(b)
    #expect(ok, "\(what()): \(a) vs \(b) (diff \(abs(a - b)), atol \(atol))", sourceLocation: sourceLocation)
}
