// Shared helpers for the LM tests.
import Foundation
import LM
import Tensor
import Testing

/// A small config for exhaustive checks: 2 layers, GQA 4/2, vocab 23.
func microConfig(tied: Bool = true) -> LlamaConfig {
    LlamaConfig(
        hiddenSize: 16, intermediateSize: 24, numHiddenLayers: 2, numAttentionHeads: 4,
        numKeyValueHeads: 2, rmsNormEps: 1e-5, ropeTheta: 1000, vocabSize: 23,
        tieWordEmbeddings: tied, maxPositionEmbeddings: 64, initializerRange: 0.3)
}

/// Root of the package (for scripts under Tests/reference).
let packageRoot: URL = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    .deletingLastPathComponent().deletingLastPathComponent()

/// A fresh temporary folder.
func temporaryFolder(_ name: String = "rlhub-test") -> URL {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("\(name)-\(UUID().uuidString)")
    try? FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
}

/// Runs a program; returns (status, stdout, stderr).
@discardableResult
func runProcess(_ executable: String, _ arguments: [String], environment: [String: String]? = nil) throws -> (Int32, String, String) {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: executable)
    p.arguments = arguments
    if let environment { p.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 } }
    let out = Pipe(), err = Pipe()
    p.standardOutput = out
    p.standardError = err
    try p.run()
    let o = out.fileHandleForReading.readDataToEndOfFile()
    let e = err.fileHandleForReading.readDataToEndOfFile()
    p.waitUntilExit()
    return (p.terminationStatus, String(decoding: o, as: UTF8.self), String(decoding: e, as: UTF8.self))
}

/// python3 with the reference packages, or nil (a failure when RLHUB_REQUIRE_REFERENCE=1).
func referencePython(_ modules: String = "numpy, safetensors") -> String? {
    for path in ["/usr/bin/env"] {
        if let (status, _, _) = try? runProcess(path, ["python3", "-c", "import \(modules)"]), status == 0 {
            return "/usr/bin/env"
        }
    }
    if ProcessInfo.processInfo.environment["RLHUB_REQUIRE_REFERENCE"] == "1" {
        Issue.record("python3 with \(modules) is required: run `make deps` (pip install numpy safetensors)")
    }
    return nil
}

/// Array equality outside `#expect`: a failing `#expect(a == b)` on million-element arrays makes
/// Swift Testing compute a diff that takes minutes.
func bitEqual(_ a: [Float], _ b: [Float]) -> Bool { a == b }
