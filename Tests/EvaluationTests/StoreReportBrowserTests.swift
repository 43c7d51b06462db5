// rlhub — the report of a real small grid (experiments/smoke.yaml run by the built `rlhub`
// binary) opened in headless Chromium: no console messages, no network request, charts drawn.
// Lives beside the browser helpers; the CLI tests check the files and their determinism.
import Foundation
import Testing

import Evaluation

@Suite(.serialized) struct StoreReportBrowserTests {
    /// `.build/release/rlhub` if built, else `.build/debug/rlhub` (or RLHUB_BIN).
    static var binary: String? {
        if let env = ProcessInfo.processInfo.environment["RLHUB_BIN"] { return env }
        return ["release", "debug"].map { packageRoot.appendingPathComponent(".build/\($0)/rlhub").path }
            .first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    @Test(.timeLimit(.minutes(3)))
    func smokeGridReportDrawsItsCharts() throws {
        let required = ProcessInfo.processInfo.environment["RLHUB_REQUIRE_REFERENCE"] == "1"
        guard let chromium = findExecutable("chromium") else {
            if required { Issue.record("chromium is required: apt-get install -y chromium") }
            return
        }
        guard let rlhub = Self.binary else {
            if required { Issue.record("build the rlhub binary first: swift build --product rlhub") }
            return
        }
        let dir = try TemporaryFolder()
        let spec = packageRoot.appendingPathComponent("experiments/smoke.yaml").path
        let grid = try runProcess(rlhub, ["grid", spec, "--store", dir.path("store"), "--jobs", "2", "--threads", "1"])
        try #require(grid.0 == 0, "rlhub grid failed: \(grid.2)")
        let report = dir.path("report")
        let made = try runProcess(rlhub, ["report", spec, "--store", dir.path("store"), "--out", report])
        try #require(made.0 == 0, "rlhub report failed: \(made.2)")
        // One task: its learning curves, the aggregates, the profile and the improvement matrix.
        // Six steps from random weights score 0 everywhere, so the lines lie on the axes and the
        // interval marks are ticks: lower thresholds than the sample report's, still far from blank.
        try expectReportDrawn(chromium: chromium, report: report, dir: dir, charts: 4,
                              screenshotCopy: "/tmp/report-smoke-screenshot.png", minInk: 0.01, minColour: 100)
    }
}
