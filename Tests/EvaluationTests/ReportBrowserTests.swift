// rlhub — the report opened in headless Chromium (Debian's `chromium`): no console messages (SVG
// attribute errors and script errors land there), no network request made by the page, and
// pixels drawn where the charts are.
//
// Two runs of the browser: the report itself, screenshotted with console logging and a net log;
// and a probe copy of it with a script at the end that writes the charts' bounding boxes into the
// DOM, read with --dump-dom. The report has no script; the probe's runs after layout and appends
// below everything, so the boxes match the screenshot. The PNG is inflated with the system zlib
// (libz.so.1, which Chromium itself needs) and unfiltered here.
import Foundation
import Testing
import TestSupport

import Evaluation

extension ReportTests {
    @Suite(.serialized) struct Browser {
        static let width = 1200, height = 3000

        @Test(.timeLimit(.minutes(5)), .requiresChromium)
        func reportOpensInHeadlessChromiumAndDrawsItsCharts() throws {
            let chromium = try #require(Reference.executable("chromium"))
            let dir = try TemporaryFolder()
            let report = dir.path("report")
            try ReportWriter.write(ReportSamples.grid(), to: report)
            try expectReportDrawn(chromium: chromium, report: report, dir: dir, charts: 5,
                                  screenshotCopy: "/tmp/report-screenshot.png")
        }

        /// Writes the page-coordinate box of every chart into a `<pre>` for --dump-dom.
        static let probeScript = """
            <script>
            const boxes = Array.from(document.querySelectorAll("figure > svg")).map(function (s) {
              const r = s.getBoundingClientRect();
              return [r.left + window.scrollX, r.top + window.scrollY, r.width, r.height]
                .map(Math.round).join(",");
            });
            const pre = document.createElement("pre");
            pre.textContent = "CHART" + "BOXES[" + boxes.join(";") + "]";
            document.body.appendChild(pre);
            </script>

            """
    }
}

// MARK: - Browser helpers

/// Opens `report/index.html` in headless Chromium and checks it: no console messages, no network
/// request, `charts` charts found by a probe copy of the page, a white page, and ink and colour in
/// every chart (and in each horizontal quarter of it) on the screenshot, which is copied to
/// `screenshotCopy` for a person to look at.
///
/// `minInk` (fraction of a chart's pixels) and `minColour` (saturated pixels) are the thresholds
/// of "drawn"; a report whose scores are all 0 has its marks on the axes and needs lower ones.
func expectReportDrawn(chromium: String, report: String, dir: TemporaryFolder, charts: Int,
                       screenshotCopy: String, minInk: Double = 0.02, minColour: Int = 400,
                       sourceLocation: SourceLocation = #_sourceLocation) throws {
    let width = ReportTests.Browser.width, height = ReportTests.Browser.height
    let html = try String(contentsOfFile: report + "/index.html", encoding: .utf8)
    try html.replacingOccurrences(of: "</body>", with: ReportTests.Browser.probeScript + "</body>")
        .write(toFile: report + "/probe.html", atomically: true, encoding: .utf8)
    defer { try? FileManager.default.removeItem(atPath: report + "/probe.html") }

    // 1. The report itself: screenshot, console log, net log.
    let shot = dir.path("shot.png"), netLog = dir.path("net.json")
    let page = try runBrowser(chromium, dir: dir, name: "page", arguments: [
        "--enable-logging=stderr", "--v=0", "--log-net-log=\(netLog)",
        "--screenshot=\(shot)", "--window-size=\(width),\(height)",
        "file://\(report)/index.html",
    ])
    let console = page.stderr.split(separator: "\n").filter { $0.contains(":CONSOLE") }
    #expect(console.isEmpty, "console messages:\n\(console.joined(separator: "\n"))", sourceLocation: sourceLocation)
    #expect(try pageRequests(netLog).isEmpty, "the page made network requests", sourceLocation: sourceLocation)

    // 2. The probe: where the charts are.
    let probe = try runBrowser(chromium, dir: dir, name: "probe", arguments: [
        "--dump-dom", "--window-size=\(width),\(height)",
        "file://\(report)/probe.html",
    ])
    let boxes = try chartBoxes(probe.stdout)
    #expect(boxes.count == charts, "expected \(charts) charts, found \(boxes.count)", sourceLocation: sourceLocation)

    // 3. Pixels: white page, ink and colour inside every chart on the screenshot.
    let image = try PNGImage(contentsOf: shot)
    #expect(image.width == width && image.height == height, sourceLocation: sourceLocation)
    try? FileManager.default.removeItem(atPath: screenshotCopy)
    try? FileManager.default.copyItem(atPath: shot, toPath: screenshotCopy)
    let margin = image.stats(x: image.width - 30, y: 0, width: 30, height: image.height)
    #expect(margin.ink < margin.total / 100, "the page background is not white", sourceLocation: sourceLocation)
    var checked = 0
    for box in boxes where box.y + box.height <= image.height {
        let s = image.stats(x: box.x, y: box.y, width: box.width, height: box.height)
        #expect(Double(s.ink) > minInk * Double(s.total), "chart at \(box) is nearly blank: \(s)",
                sourceLocation: sourceLocation)
        #expect(s.colour > minColour, "chart at \(box) has no coloured marks: \(s)", sourceLocation: sourceLocation)
        // Every horizontal band of the plot has something in it (no half-drawn chart).
        let bands = 4
        for k in 0..<bands {
            let top = box.y + box.height * k / bands
            let band = image.stats(x: box.x, y: top, width: box.width, height: box.height / bands)
            #expect(band.ink > band.total / 200, "band \(k) of chart at \(box) is blank", sourceLocation: sourceLocation)
        }
        checked += 1
    }
    #expect(checked >= min(charts, 4), "only \(checked) charts fit in the screenshot", sourceLocation: sourceLocation)
}

/// The output of one browser run.
struct BrowserRun {
    let stdout: String
    let stderr: String
}

/// Runs headless Chromium with a fresh profile and no network (every host resolves to nothing,
/// background services off), output to files so that a chatty stderr cannot block it.
func runBrowser(_ chromium: String, dir: TemporaryFolder, name: String,
                arguments: [String]) throws -> BrowserRun {
    let out = dir.path("\(name).out"), err = dir.path("\(name).err")
    _ = FileManager.default.createFile(atPath: out, contents: nil)
    _ = FileManager.default.createFile(atPath: err, contents: nil)
    let process = Process()
    process.executableURL = URL(fileURLWithPath: chromium)
    process.arguments = [
        "--headless=new", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
        "--force-device-scale-factor=1", "--user-data-dir=\(dir.path("\(name)-profile"))",
        "--no-first-run", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--disable-default-apps", "--disable-extensions",
        "--host-resolver-rules=MAP * ~NOTFOUND",
    ] + arguments
    process.standardOutput = FileHandle(forWritingAtPath: out)
    process.standardError = FileHandle(forWritingAtPath: err)
    try process.run()
    let deadline = Date().addingTimeInterval(40)
    while process.isRunning && Date() < deadline { Thread.sleep(forTimeInterval: 0.05) }
    if process.isRunning {
        process.terminate()
        process.waitUntilExit()
        Issue.record("chromium (\(name)) did not finish in 40 s")
    }
    return BrowserRun(stdout: (try? String(contentsOfFile: out, encoding: .utf8)) ?? "",
                      stderr: (try? String(contentsOfFile: err, encoding: .utf8)) ?? "")
}

/// URLs of network requests made on behalf of a `file://` page, from a Chromium net log. The
/// browser's own background requests carry another network isolation key and are ignored.
func pageRequests(_ netLogPath: String) throws -> [String] {
    let data = try Data(contentsOf: URL(fileURLWithPath: netLogPath))
    let object = try JSONSerialization.jsonObject(with: data)
    let events = try #require((object as? [String: Any])?["events"] as? [[String: Any]])
    return events.compactMap { event in
        guard let params = event["params"] as? [String: Any],
              let url = params["url"] as? String,
              let key = params["network_isolation_key"] as? String,
              key.hasPrefix("file://") else { return nil }
        return url
    }
}

/// A chart's box in page pixels.
struct ChartBox: CustomStringConvertible {
    let x: Int, y: Int, width: Int, height: Int
    var description: String { "(\(x), \(y), \(width)×\(height))" }
}

func chartBoxes(_ dom: String) throws -> [ChartBox] {
    let start = try #require(dom.range(of: "CHARTBOXES["), "the probe wrote no boxes")
    let end = try #require(dom[start.upperBound...].firstIndex(of: "]"))
    return dom[start.upperBound..<end].split(separator: ";").compactMap { item in
        let v = item.split(separator: ",").compactMap { Int($0) }
        return v.count == 4 ? ChartBox(x: v[0], y: v[1], width: v[2], height: v[3]) : nil
    }
}

extension Trait where Self == ConditionTrait {
    /// Skips a report check, with the reason, where headless Chromium is not installed.
    static var requiresChromium: Self {
        .requiresReference(Reference.executable("chromium") != nil, "chromium not found: apt-get install -y chromium (make test-deps)")
    }
}

// MARK: - PNG

/// An 8-bit RGB or RGBA, non-interlaced PNG decoded to RGB, as Chromium writes screenshots.
struct PNGImage {
    let width: Int
    let height: Int
    /// RGB triples, row-major.
    let rgb: [UInt8]

    struct Stats: CustomStringConvertible {
        var total = 0
        /// Pixels visibly darker than white.
        var ink = 0
        /// Saturated pixels (data marks, not grey text or axes).
        var colour = 0
        var description: String { "ink \(ink), colour \(colour) of \(total)" }
    }

    init(contentsOf path: String) throws {
        let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        try #require(bytes.count > 8 && Array(bytes[0..<8]) == [137, 80, 78, 71, 13, 10, 26, 10])
        func u32(_ i: Int) -> Int {
            bytes[i..<i + 4].reduce(0) { $0 << 8 | Int($1) }
        }
        var pos = 8, w = 0, h = 0, channels = 0
        var idat: [UInt8] = []
        while pos + 8 <= bytes.count {
            let length = u32(pos)
            let type = String(decoding: bytes[pos + 4..<pos + 8], as: UTF8.self)
            let body = pos + 8
            if type == "IHDR" {
                w = u32(body)
                h = u32(body + 4)
                try #require(bytes[body + 8] == 8 && bytes[body + 12] == 0,
                             "need 8-bit, no interlace")
                try #require([2, 6].contains(bytes[body + 9]), "need RGB or RGBA")
                channels = bytes[body + 9] == 2 ? 3 : 4
            } else if type == "IDAT" {
                idat += bytes[body..<body + length]
            } else if type == "IEND" {
                break
            }
            pos = body + length + 4
        }
        let stride = w * channels
        let raw = try zlibInflate(idat, expectedSize: h * (stride + 1))
        var pixels = [UInt8](repeating: 0, count: h * stride)
        for y in 0..<h {
            let filter = raw[y * (stride + 1)]
            let line = y * (stride + 1) + 1
            for i in 0..<stride {
                let a = i >= channels ? Int(pixels[y * stride + i - channels]) : 0
                let b = y > 0 ? Int(pixels[(y - 1) * stride + i]) : 0
                let c = y > 0 && i >= channels ? Int(pixels[(y - 1) * stride + i - channels]) : 0
                let predictor: Int
                switch filter {
                case 0: predictor = 0
                case 1: predictor = a
                case 2: predictor = b
                case 3: predictor = (a + b) / 2
                default:
                    let p = a + b - c, pa = abs(p - a), pb = abs(p - b), pc = abs(p - c)
                    predictor = pa <= pb && pa <= pc ? a : (pb <= pc ? b : c)
                }
                pixels[y * stride + i] = UInt8((Int(raw[line + i]) + predictor) & 0xFF)
            }
        }
        var rgb = [UInt8](repeating: 0, count: w * h * 3)
        for p in 0..<(w * h) {
            for k in 0..<3 { rgb[p * 3 + k] = pixels[p * channels + k] }
        }
        (width, height, self.rgb) = (w, h, rgb)
    }

    func stats(x: Int, y: Int, width: Int, height: Int) -> Stats {
        var s = Stats()
        for row in max(0, y)..<min(self.height, y + height) {
            for col in max(0, x)..<min(self.width, x + width) {
                let i = (row * self.width + col) * 3
                let r = Int(rgb[i]), g = Int(rgb[i + 1]), b = Int(rgb[i + 2])
                s.total += 1
                if min(r, g, b) < 235 { s.ink += 1 }
                if max(r, g, b) - min(r, g, b) > 60 { s.colour += 1 }
            }
        }
        return s
    }
}

/// zlib's `uncompress` from the system library, loaded at run time (no module map needed).
func zlibInflate(_ compressed: [UInt8], expectedSize: Int) throws -> [UInt8] {
    typealias Uncompress = @convention(c) (
        UnsafeMutablePointer<UInt8>?, UnsafeMutablePointer<UInt>?, UnsafePointer<UInt8>?, UInt
    ) -> Int32
    let handle = try #require(dlopen("libz.so.1", RTLD_NOW), "libz.so.1 not found")
    defer { dlclose(handle) }
    let symbol = try #require(dlsym(handle, "uncompress"))
    let uncompress = unsafeBitCast(symbol, to: Uncompress.self)
    var out = [UInt8](repeating: 0, count: expectedSize)
    var size = UInt(expectedSize)
    let status = out.withUnsafeMutableBufferPointer { o in
        compressed.withUnsafeBufferPointer { c in
            uncompress(o.baseAddress, &size, c.baseAddress, UInt(c.count))
        }
    }
    try #require(status == 0 && Int(size) == expectedSize, "zlib uncompress failed: \(status)")
    return out
}
