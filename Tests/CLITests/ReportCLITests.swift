// `rlhub report`: the real smoke grid into a temporary store, then its report — three files, the
// printed folder, byte-identical output on a second run, one-line bad-input errors (exit 2).
import Foundation
import Testing

@Suite("rlhub report", .serialized)
struct ReportCLITests {
    static let spec = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("experiments/smoke.yaml").path

    static func contents(_ dir: String) throws -> [String: Data] {
        var out: [String: Data] = [:]
        let fm = FileManager.default
        for case let relative as String in fm.enumerator(atPath: dir) ?? FileManager.DirectoryEnumerator() {
            var isDirectory: ObjCBool = false
            _ = fm.fileExists(atPath: dir + "/" + relative, isDirectory: &isDirectory)
            if !isDirectory.boolValue { out[relative] = try Data(contentsOf: URL(fileURLWithPath: dir + "/" + relative)) }
        }
        return out
    }

    @Test func smokeGridReportIsWrittenAndDeterministic() throws {
        let root = tempDir()
        let store = root + "/store"
        let grid = try rlhub("grid", Self.spec, "--store", store, "--jobs", "2", "--threads", "1")
        try #require(grid.status == 0, "grid: \(grid.err)")

        let out = root + "/report"
        let first = try rlhub("report", Self.spec, "--store", store, "--out", out)
        #expect(first.status == 0, "\(first.err)")
        #expect(first.out == out + "\n")
        for name in ["index.html", "README.md", "data.csv"] {
            #expect(FileManager.default.fileExists(atPath: out + "/" + name), "\(name) missing")
        }
        let csv = try String(contentsOfFile: out + "/data.csv", encoding: .utf8)
        #expect(csv.hasPrefix("algorithm,task,run,seed,step,metric,value\r\n"))
        let html = try String(contentsOfFile: out + "/index.html", encoding: .utf8)
        #expect(html.contains("grpo") && html.contains("rloo") && html.contains("Experiment smoke"))
        #expect(!html.contains(root), "the report names a local path")

        // Again into another folder: the same bytes (no path or time inside).
        let out2 = root + "/report2"
        let second = try rlhub("report", Self.spec, "--store", store, "--out", out2)
        #expect(second.status == 0, "\(second.err)")
        let a = try Self.contents(out), b = try Self.contents(out2)
        #expect(a.keys.sorted() == b.keys.sorted())
        for (name, data) in a { #expect(b[name] == data, "\(name) differs between two reports of one store") }

        // By experiment name: the same numbers (the page lacks only the spec's description).
        let byName = try rlhub("report", "smoke", "--store", store, "--out", root + "/by-name")
        #expect(byName.status == 0, "\(byName.err)")
        #expect(try Self.contents(root + "/by-name")["data.csv"] == a["data.csv"])

        // --where narrows; no match is bad input naming the experiment.
        let grpo = try rlhub("report", "smoke", "--store", store, "--out", root + "/grpo", "--where", "algo = 'grpo'")
        #expect(grpo.status == 0, "\(grpo.err)")
        let none = try rlhub("report", "smoke", "--store", store, "--out", root + "/none", "--where", "algo = 'dapo'")
        expectBadInput(none, ["smoke", "no finished run"])
        expectBadInput(try rlhub("report", "nosuch", "--store", store, "--out", root + "/x"), ["nosuch"])
        expectBadInput(try rlhub("report", "smoke", "--store", store, "--where", "algo ="), ["--where"])
    }
}
