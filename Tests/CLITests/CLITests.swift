// The real `rlhub` binary: outputs, exit codes (0 ok · 1 failed run · 2 bad input) and one-line
// errors that name the file and field.
import Foundation
import Testing
import TestSupport

/// The built binary (`.build/release/rlhub`, debug, or RLHUB_BIN), once it is known to be built from
/// this tree: a stale one makes every CLI test fail with the command that rebuilds it.
var rlhubBinary: String {
    get throws { try RLHubBinary.path() }
}

@discardableResult
func rlhub(_ args: String..., environment: [String: String] = [:]) throws -> (status: Int32, out: String, err: String) {
    try rlhub(arguments: args, environment: environment)
}

@discardableResult
func rlhub(arguments args: [String], environment: [String: String] = [:]) throws -> (status: Int32, out: String, err: String) {
    try runProcess(try rlhubBinary, args, environment: environment)
}

func tempDir() -> String { makeTemporaryFolder(prefix: "rlhub-cli") }

/// A bad-input run: exit 2 and exactly one line on stderr containing all of `parts`.
func expectBadInput(_ r: (status: Int32, out: String, err: String), _ parts: [String], sourceLocation: SourceLocation = #_sourceLocation) {
    #expect(r.status == 2, "exit \(r.status): \(r.err)", sourceLocation: sourceLocation)
    let lines = r.err.split(separator: "\n")
    #expect(lines.count == 1, "stderr should be one line: \(r.err)", sourceLocation: sourceLocation)
    for p in parts { #expect(r.err.contains(p), "'\(p)' missing from: \(r.err)", sourceLocation: sourceLocation) }
}

@Suite("rlhub CLI", .serialized)
struct CLITests {
    @Test func doctorReportsTheKernelAndLibraries() throws {
        let r = try rlhub("doctor", "--format", "json", "--threads", "1")
        #expect(r.status == 0, "\(r.err)")
        let json = try JSONSerialization.jsonObject(with: Data(r.out.utf8)) as? [String: Any]
        let core = json?["openblas_core"] as? String
        #expect(core != nil && core != "Prescott", "OpenBLAS fell back to \(core ?? "?")")
        #expect(core?.lowercased() == (json?["openblas_core_selected"] as? String)?.lowercased())
        #expect((json?["sgemm_gflops_2048"] as? Double ?? 0) > 1)
        #expect(json?["sqlite"] as? String != nil)
        #expect((json?["threads"] as? Int) == 1)
    }

    @Test func userCoreTypeIsHonoured() throws {
        let r = try rlhub("doctor", "--format", "json", environment: ["OPENBLAS_CORETYPE": "Haswell"])
        let json = try JSONSerialization.jsonObject(with: Data(r.out.utf8)) as? [String: Any]
        #expect((json?["openblas_core"] as? String)?.lowercased() == "haswell")
    }

    @Test func initModelThenLogprobs() throws {
        let dir = tempDir() + "/tiny"
        let made = try rlhub("init-model", "--preset", "tiny", "--seed", "3", "--out", dir)
        #expect(made.status == 0, "\(made.err)")
        let fromFolder = try rlhub("logprobs", "--model", dir, "--text", "7+5=12", "--format", "json")
        let fromPreset = try rlhub("logprobs", "--model", "preset:tiny", "--seed", "3", "--text", "7+5=12", "--format", "json")
        #expect(fromFolder.status == 0 && fromPreset.status == 0, "\(fromFolder.err) \(fromPreset.err)")
        #expect(fromFolder.out == fromPreset.out, "a saved model scores exactly like the preset it came from")
        let rows = try JSONSerialization.jsonObject(with: Data(fromFolder.out.utf8)) as? [[String: Any]]
        #expect(rows?.count == 6)
        #expect(rows?.first?["logprob"] == nil)
        let lp = rows?[1]["logprob"] as? Double ?? 0
        #expect(lp < 0 && lp > -10)
        let byIds = try rlhub("logprobs", "--model", dir, "--tokens", "1,24,25", "--format", "json")
        #expect(byIds.status == 0)
    }

    @Test func badInputIsOneLineWithExitTwo() throws {
        expectBadInput(try rlhub("init-model", "--preset", "huge", "--out", tempDir() + "/x"), ["--preset", "huge", "tiny", "smollm2-135m"])
        expectBadInput(try rlhub("logprobs", "--model", "preset:tiny", "--tokens", "1,abc"), ["--tokens", "item 1"])
        expectBadInput(try rlhub("logprobs", "--model", "/nonexistent/model", "--text", "x"), ["--model", "/nonexistent/model"])
        expectBadInput(try rlhub("logprobs", "--model", "preset:tiny"), ["--text"])
        expectBadInput(try rlhub("doctor", "--threads", "0"), ["--threads"])
        expectBadInput(try rlhub("bench", "--suite", "nope"), ["--suite", "nope"])
        expectBadInput(try rlhub("frobnicate"), ["frobnicate"])
        // Closed sets of values are refused by the parser, naming the valid ones on one line.
        expectBadInput(try rlhub("runs", "--format", "text"), ["--format", "text", "'table', 'csv' or 'json'"])
        expectBadInput(try rlhub("show", "abcd", "--format", "csv"), ["--format", "csv", "'table' and 'json'"])
        expectBadInput(try rlhub("train", "--algo", "nope", "--task", "add", "--model", "preset:tiny"),
                       ["--algo", "nope", "grpo, dr-grpo, dapo"])
        // A config.json with inconsistent heads.
        let dir = tempDir() + "/m"
        try rlhub("init-model", "--preset", "tiny", "--out", dir)
        let config = dir + "/config.json"
        let text = try String(contentsOfFile: config, encoding: .utf8)
            .replacingOccurrences(of: "\"num_key_value_heads\" : 2", with: "\"num_key_value_heads\" : 3")
        try text.write(toFile: config, atomically: true, encoding: .utf8)
        expectBadInput(try rlhub("logprobs", "--model", dir, "--text", "x"), ["config.json", "num_key_value_heads"])
        // A truncated safetensors file names the file and the tensor or offset.
        let dir2 = tempDir() + "/m2"
        try rlhub("init-model", "--preset", "tiny", "--out", dir2)
        let weights = dir2 + "/model.safetensors"
        let data = try Data(contentsOf: URL(fileURLWithPath: weights))
        try data.prefix(1000).write(to: URL(fileURLWithPath: weights))
        expectBadInput(try rlhub("logprobs", "--model", dir2, "--text", "x"), ["model.safetensors"])
    }

    @Test func initModelRefusesANonEmptyFolderAndWritesNothingHalfway() throws {
        let dir = tempDir()
        try "keep".write(toFile: dir + "/note.txt", atomically: true, encoding: .utf8)
        expectBadInput(try rlhub("init-model", "--preset", "tiny", "--out", dir), ["not empty"])
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir) == ["note.txt"])
    }

    @Test func helpHasExamples() throws {
        for verb in ["doctor", "bench", "init-model", "logprobs", "compare"] {
            let r = try rlhub(verb, "--help")
            #expect(r.status == 0)
            #expect(r.out.contains("Example"), "\(verb) --help lacks an example")
        }
    }
}
