// rlhub — tests of the report renderer: determinism, well-formed SVG, escaping, nice ticks,
// degenerate inputs, CSV quoting, the folder writer, and a headless Chromium rendering check.
import Foundation
import Testing

import Evaluation

#if canImport(FoundationXML)
import FoundationXML
#endif

@Suite struct ReportTests {
    // MARK: - Determinism

    @Test func sameDataRendersToIdenticalBytes() throws {
        let a = ReportWriter.render(ReportSamples.grid())
        let b = ReportWriter.render(ReportSamples.grid())
        #expect(a.map(\.path) == b.map(\.path))
        for (x, y) in zip(a, b) { #expect(x.contents == y.contents, "\(x.path) differs") }

        let dir = try TemporaryFolder()
        try ReportWriter.write(ReportSamples.grid(), to: dir.path("one"))
        try ReportWriter.write(ReportSamples.grid(), to: dir.path("two"))
        let one = try folderContents(dir.path("one")), two = try folderContents(dir.path("two"))
        #expect(one.keys.sorted() == two.keys.sorted())
        #expect(one.keys.sorted() == ["README.md", "charts/aggregate-intervals.svg",
                                      "charts/learning-curve-arith-add.svg",
                                      "charts/learning-curve-arith-mul.svg",
                                      "charts/performance-profile.svg",
                                      "charts/probability-of-improvement.svg", "data.csv",
                                      "index.html"])
        for (path, bytes) in one { #expect(two[path] == bytes, "\(path) differs") }
    }

    // MARK: - Well-formedness

    @Test func everySVGAndTheHTMLChartsAreWellFormedXML() throws {
        #expect(parseXML("<svg><text>a & b</text></svg>").error != nil, "the parser accepts junk")
        let files = ReportWriter.render(ReportSamples.grid())
        for file in files where file.path.hasSuffix(".svg") {
            let result = parseXML(file.contents)
            #expect(result.error == nil, "\(file.path): \(result.error ?? "")")
            #expect(result.root == "svg")
        }
        let html = try #require(files.first { $0.path == "index.html" }).contents
        let svgs = svgElements(in: html)
        #expect(svgs.count == 5)
        for svg in svgs {
            let result = parseXML(svg)
            #expect(result.error == nil, "inline svg: \(result.error ?? "")")
        }
    }

    @Test func htmlIsSelfContained() throws {
        let html = try #require(ReportWriter.render(ReportSamples.grid()).first).contents
        #expect(!html.localizedCaseInsensitiveContains("<script"))
        #expect(!html.localizedCaseInsensitiveContains("<link"))
        #expect(!html.localizedCaseInsensitiveContains("<img"))
        #expect(!html.contains("url("))
        #expect(!html.contains("@import"))
        let urls = html.components(separatedBy: "http").dropFirst().map { String($0.prefix(30)) }
        #expect(urls.allSatisfy { $0.hasPrefix("://www.w3.org/2000/svg\"") }, "\(urls)")
        let families = html.components(separatedBy: "font-family").dropFirst()
            .map { String($0.prefix(13)) }
        #expect(families.allSatisfy { $0 == "=\"sans-serif\"" || $0 == ": sans-serif;" },
                "\(families)")
        for section in ["summary", "aggregates", "learning-curves", "performance-profile",
                        "probability-of-improvement", "final-scores", "provenance"] {
            #expect(html.contains("<section id=\"\(section)\">"), "no section \(section)")
        }
    }

    // MARK: - Escaping

    @Test func labelsWithMarkupCharactersAreEscaped() throws {
        let nasty = "a<b>&\"c'"
        var data = ReportSamples.grid(algorithms: [nasty, "plain"], tasks: ["t<&>\"", "u"])
        data.title = "Title <script>alert(1)</script> & co"
        data.generatedFrom = "store \"x\" & <y>"
        let files = ReportWriter.render(data)
        for file in files where file.path.hasSuffix(".svg") {
            let result = parseXML(file.contents)
            #expect(result.error == nil, "\(file.path): \(result.error ?? "")")
            if file.path.contains("curve") || file.path.contains("improvement")
                || file.path.contains("aggregate") {
                #expect(result.texts.contains(nasty), "\(file.path) lost the label")
            }
        }
        let html = try #require(files.first { $0.path == "index.html" }).contents
        #expect(!html.contains("<script>"))
        #expect(html.contains("Title &lt;script&gt;alert(1)&lt;/script&gt; &amp; co"))
        #expect(html.contains("a&lt;b&gt;&amp;&quot;c&#39;"))
        for svg in svgElements(in: html) { #expect(parseXML(svg).error == nil) }
        let md = try #require(files.first { $0.path == "README.md" }).contents
        #expect(md.contains("a&lt;b&gt;&amp;\"c'"))
        #expect(!md.contains("<script>"))
        #expect(MarkdownReport.escape("x|y*z_") == "x\\|y\\*z\\_")
        #expect(xmlEscape("\u{1}ok") == "\u{FFFD}ok")
    }

    // MARK: - Numbers and ticks

    @Test func fixedFormattingIsLocaleFreeAndRoundsHalfAway() {
        #expect(ReportFormat.fixed(0.125, 2) == "0.13")
        #expect(ReportFormat.fixed(-0.125, 2) == "-0.13")
        #expect(ReportFormat.fixed(-0.0001, 2) == "0.00")
        #expect(ReportFormat.fixed(1234.5, 0) == "1235")
        #expect(ReportFormat.fixed(0.05, 3) == "0.050")
        #expect(ReportFormat.fixed(.nan, 2) == "NaN")
        #expect(ReportFormat.coordinate(12.50) == "12.5")
        #expect(ReportFormat.coordinate(-0.001) == "0")
        #expect(ReportFormat.coordinate(40) == "40")
        #expect(ReportFormat.interval(0.5, .nan, 0.6) == "0.500")
        #expect(ReportFormat.interval(0.5, 0.4, 0.6, decimals: 2) == "0.50 [0.40, 0.60]")
    }

    @Test(arguments: [
        (0.0, 1.0, [0.0, 0.2, 0.4, 0.6, 0.8, 1.0], ["0.0", "0.2", "0.4", "0.6", "0.8", "1.0"]),
        (0.03, 0.91, [0.0, 0.2, 0.4, 0.6, 0.8, 1.0], ["0.0", "0.2", "0.4", "0.6", "0.8", "1.0"]),
        (0.0, 97.0, [0, 20, 40, 60, 80, 100], ["0", "20", "40", "60", "80", "100"]),
        (0.0, 200.0, [0, 50, 100, 150, 200], ["0", "50", "100", "150", "200"]),
        (-0.3, 0.7, [-0.4, -0.2, 0.0, 0.2, 0.4, 0.6, 0.8],
         ["-0.4", "-0.2", "0.0", "0.2", "0.4", "0.6", "0.8"]),
        (0.3, 0.5, [0.3, 0.35, 0.4, 0.45, 0.5], ["0.30", "0.35", "0.40", "0.45", "0.50"]),
        (1200.0, 98000.0, [0, 20000, 40000, 60000, 80000, 100000],
         ["0", "20000", "40000", "60000", "80000", "100000"]),
    ])
    func niceTicksFollowTheOneTwoFiveRule(min: Double, max: Double, ticks: [Double],
                                          labels: [String]) {
        let scale = NiceScale(min: min, max: max)
        #expect(scale.labels == labels)
        #expect(scale.ticks.count == ticks.count)
        for (a, b) in zip(scale.ticks, ticks) { #expect(abs(a - b) < 1e-12) }
        #expect(scale.lower <= min && scale.upper >= max)
        let mantissa = scale.step / pow(10, floor(log10(scale.step)))
        #expect([1, 2, 5].contains { abs(mantissa - $0) < 1e-9 })
    }

    @Test func degenerateRangesStillGiveAnAxis() {
        let flat = NiceScale(min: 0.5, max: 0.5)
        #expect(flat.lower < 0.5 && flat.upper > 0.5 && flat.ticks.count >= 2)
        let zero = NiceScale(min: 0, max: 0)
        #expect(zero.lower <= -1 && zero.upper >= 1)
        let nan = NiceScale(min: .nan, max: 3)
        #expect(nan.lower == 0 && nan.upper == 1)
        let swapped = NiceScale(min: 5, max: 1)
        #expect(swapped.lower <= 1 && swapped.upper >= 5)
        let tiny = NiceScale(min: 1e-9, max: 3e-9)
        #expect(tiny.ticks.count >= 2 && tiny.decimals > 8)
        // A PPO run's adv/mean: whitened advantages average to ±1e-16 (this crashed rlhub serve).
        let whitened = NiceScale(min: -7.433667208359744e-16, max: 4.82442368882568e-16)
        #expect(whitened.labels == ["-1.0e-15", "-5.0e-16", "0", "5.0e-16"], "\(whitened.labels)")
    }

    /// Any pair of finite or non-finite bounds, from subnormal to ±max: finite ticks that cover
    /// the range, distinct labels, no trap (a trap here took `rlhub serve` down with it).
    @Test func anyRangeGivesAnAxis() {
        let magnitudes: [Double] = [0, 5e-324, 1e-310, 1e-300, 1e-200, 1e-16, 1e-9, 0.3, 1, 7, 1e6, 1e16, 1e200, 1e307, .greatestFiniteMagnitude, .infinity, .nan]
        var count = 0
        for a in magnitudes {
            for b in magnitudes {
                for (sa, sb) in [(1.0, 1.0), (-1.0, 1.0), (-1.0, -1.0), (1.0, -1.0)] {
                    let lo = sa * a, hi = sb * b
                    let scale = NiceScale(min: lo, max: hi)
                    #expect(scale.ticks.count >= 2 && scale.ticks.allSatisfy(\.isFinite), "\(lo)…\(hi)")
                    #expect(Set(scale.labels).count == scale.labels.count, "\(lo)…\(hi): \(scale.labels)")
                    if lo.isFinite, hi.isFinite, abs(lo) < 1e307, abs(hi) < 1e307 {
                        // Within 1e-9 of a step a bound counts as on the tick (0.3 / 0.1 is 2.9999…).
                        let slack = 1e-9 * scale.step
                        #expect(scale.lower <= Swift.min(lo, hi) + slack && scale.upper >= Swift.max(lo, hi) - slack, "\(lo)…\(hi)")
                    }
                    count += 1
                }
            }
        }
        #expect(count == 17 * 17 * 4)
        // Just above the "one value" width: labels must still differ.
        for width in [2e-12, 2e-10, 3e-9] {
            let near = NiceScale(min: 1, max: 1 + width)
            #expect(Set(near.labels).count == near.labels.count, "1…1+\(width): \(near.labels)")
        }
        #expect(ReportFormat.scientific(-7.44e-16) == "-7.4e-16" && ReportFormat.scientific(9.96e21) == "1.0e22")
    }

    // MARK: - Degenerate inputs

    @Test func degenerateInputsRenderValidSVG() throws {
        let files = ReportWriter.render(ReportSamples.degenerate())
        for file in files where file.path.hasSuffix(".svg") {
            let result = parseXML(file.contents)
            #expect(result.error == nil, "\(file.path): \(result.error ?? "")")
            #expect(!file.contents.contains("NaN") && !file.contents.contains("inf\""),
                    "\(file.path) has a non-finite number")
        }
        let html = try #require(files.first { $0.path == "index.html" }).contents
        for svg in svgElements(in: html) { #expect(parseXML(svg).error == nil) }
        #expect(html.contains(Notes.noProvenance))
        #expect(html.contains(Notes.noPoints))
        #expect(!html.contains("NaN"))
        let paths = files.map(\.path)
        #expect(paths.contains("charts/learning-curve-only.svg"))
        #expect(paths.contains("charts/learning-curve-flat.svg"))
        #expect(!paths.contains("charts/learning-curve-nothing.svg"))

        let empty = ReportWriter.render(ReportData(title: "Empty", generatedFrom: "nothing"))
        let emptyHTML = try #require(empty.first).contents
        for note in [Notes.noAggregates, Notes.noCurves, Notes.noProfile, Notes.noImprovement,
                     Notes.noFinalScores, Notes.noProvenance] {
            #expect(emptyHTML.contains(note))
        }
        #expect(empty.count == 3)
    }

    @Test func repeatedTaskNamesGetDistinctChartFiles() {
        var data = ReportSamples.grid(tasks: ["a b", "a-b", "A B"])
        data.tasks = ["a b", "a-b", "A B"]
        let charts = ReportWriter.render(data).map(\.path).filter { $0.contains("learning-curve") }
        #expect(charts == ["charts/learning-curve-a-b.svg", "charts/learning-curve-a-b-2.svg",
                           "charts/learning-curve-a-b-3.svg"])
    }

    @Test func coloursFollowAlgorithmOrderInEveryChart() {
        let data = ReportSamples.grid()
        let palette = Palette(for: data)
        #expect(palette.colour("grpo") == "#0072B2")
        #expect(palette.colour("rloo") == "#D55E00")
        #expect(palette.colour("ppo") == "#009E73")
        let files = ReportWriter.render(data)
        for file in files where file.path.hasSuffix(".svg") && !file.path.contains("improvement") {
            for name in data.algorithms {
                #expect(file.contents.contains(palette.colour(name)), "\(file.path) lacks \(name)")
            }
        }
    }

    // MARK: - CSV

    @Test func csvQuotesPerRFC4180() {
        let table = DataTable(columns: ["name", "value", "note"], rows: [
            [.text("plain"), .number(0.5), .text("a,b")],
            [.text("say \"hi\""), .integer(3), .text("line\nbreak")],
            [.text(""), .number(.nan), .missing],
            [.text("cr\r"), .number(1e-5), .text(" spaced ")],
        ])
        #expect(CSV.render(table) == "name,value,note\r\n"
            + "plain,0.5,\"a,b\"\r\n"
            + "\"say \"\"hi\"\"\",3,\"line\nbreak\"\r\n"
            + ",,\r\n"
            + "\"cr\r\",1e-05, spaced \r\n")
        #expect(CSV.render(DataTable(columns: [], rows: [])) == "")
    }

    // MARK: - Writer

    @Test func writerReplacesAReportButNotAForeignFolder() throws {
        let dir = try TemporaryFolder()
        let out = dir.path("report")
        try ReportWriter.write(ReportSamples.degenerate(), to: out)
        try ReportWriter.write(ReportSamples.grid(), to: out)
        let contents = try folderContents(out)
        #expect(contents["charts/learning-curve-flat.svg"] == nil, "stale chart left behind")
        #expect(contents["charts/learning-curve-arith-add.svg"] != nil)
        let siblings = try FileManager.default.contentsOfDirectory(atPath: dir.url.path)
        #expect(siblings == ["report"], "temporary folders left: \(siblings)")

        let foreign = dir.path("foreign")
        try FileManager.default.createDirectory(atPath: foreign, withIntermediateDirectories: true)
        try Data("keep".utf8).write(to: URL(fileURLWithPath: foreign + "/notes.txt"))
        do {
            try ReportWriter.write(ReportSamples.grid(), to: foreign)
            Issue.record("a folder with other files was replaced")
        } catch {
            #expect("\(error)".hasSuffix("which a report does not write; choose an empty or new "
                + "folder for --out"), "\(error)")
        }
        #expect(FileManager.default.fileExists(atPath: foreign + "/notes.txt"))
    }
}

extension ReportTests {
    /// `RLHUB_REPORT_SAMPLES=DIR swift test --filter ReportTests` writes sample reports to look at.
    @Test(.enabled(if: ProcessInfo.processInfo.environment["RLHUB_REPORT_SAMPLES"] != nil))
    func writeSampleReportsToLookAt() throws {
        let dir = try #require(ProcessInfo.processInfo.environment["RLHUB_REPORT_SAMPLES"])
        try ReportWriter.write(ReportSamples.grid(), to: dir + "/grid")
        try ReportWriter.write(ReportSamples.degenerate(), to: dir + "/degenerate")
        try ReportWriter.write(ReportData(title: "Empty", generatedFrom: "nothing"),
                               to: dir + "/empty")
        let many = (1...10).map { "algorithm-\($0)" } + ["a<b>&\"c' with a rather long name"]
        try ReportWriter.write(ReportSamples.grid(algorithms: many, tasks: ["t<&>\"", "u"]),
                               to: dir + "/many")
    }
}

// MARK: - Helpers

/// A temporary folder removed when the value goes away.
final class TemporaryFolder {
    let url: URL

    init() throws {
        url = FileManager.default.temporaryDirectory
            .appendingPathComponent("rlhub-report-tests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }

    func path(_ name: String) -> String { url.appendingPathComponent(name).path }

    deinit { try? FileManager.default.removeItem(at: url) }
}

/// Every file under `dir`, by relative path.
func folderContents(_ dir: String) throws -> [String: Data] {
    var out: [String: Data] = [:]
    let fm = FileManager.default
    guard let walker = fm.enumerator(atPath: dir) else { return out }
    for case let relative as String in walker {
        var isDirectory: ObjCBool = false
        _ = fm.fileExists(atPath: dir + "/" + relative, isDirectory: &isDirectory)
        if !isDirectory.boolValue {
            out[relative] = try Data(contentsOf: URL(fileURLWithPath: dir + "/" + relative))
        }
    }
    return out
}

/// The `<svg …>…</svg>` elements of an HTML page (charts are never nested).
func svgElements(in html: String) -> [String] {
    html.components(separatedBy: "<svg ").dropFirst().compactMap { part in
        guard let end = part.range(of: "</svg>") else { return nil }
        return "<svg " + part[..<end.upperBound]
    }
}

/// Parses `text` as XML: the first error (nil when well-formed), the root element and the text of
/// every element.
func parseXML(_ text: String) -> (error: String?, root: String?, texts: [String]) {
    let collector = XMLCollector()
    let parser = XMLParser(data: Data(text.utf8))
    parser.delegate = collector
    let ok = parser.parse()
    let error = ok ? nil : (parser.parserError.map { "\($0)" } ?? "parse failed")
        + " at line \(parser.lineNumber)"
    return (error, collector.root, collector.texts)
}

private final class XMLCollector: NSObject, XMLParserDelegate {
    var root: String?
    var texts: [String] = []
    private var current = ""

    func parser(_ parser: XMLParser, didStartElement elementName: String, namespaceURI: String?,
                qualifiedName qName: String?, attributes attributeDict: [String: String] = [:]) {
        if root == nil { root = elementName }
        current = ""
    }

    func parser(_ parser: XMLParser, foundCharacters string: String) { current += string }

    func parser(_ parser: XMLParser, didEndElement elementName: String, namespaceURI: String?,
                qualifiedName qName: String?) {
        if !current.isEmpty { texts.append(current) }
        current = ""
    }
}
