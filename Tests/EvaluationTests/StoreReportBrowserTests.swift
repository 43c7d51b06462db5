// rlhub — the report of a real small grid (experiments/smoke.yaml run by the built `rlhub`
// binary) opened in headless Chromium: no console messages, no network request, charts drawn.
// Lives beside the browser helpers; the CLI tests check the files and their determinism.
import Foundation
import Testing
import TestSupport

import Evaluation

@Suite(.serialized) struct StoreReportBrowserTests {
    @Test(.timeLimit(.minutes(3)), .requiresChromium)
    func smokeGridReportDrawsItsCharts() throws {
        let chromium = try #require(Reference.executable("chromium"))
        let rlhub = try RLHubBinary.path()
        let dir = try TemporaryFolder()
        let spec = SourceTree.root.appendingPathComponent("experiments/smoke.yaml").path
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
