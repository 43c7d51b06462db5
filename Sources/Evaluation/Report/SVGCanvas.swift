// rlhub — the byte-deterministic building blocks of report charts: fixed-precision numbers, XML
// escaping, a rough text-width estimate and an SVG element writer.
//
// Nothing here reads the locale, the clock or a dictionary's order: the same calls give the same
// bytes on every machine.

import Foundation

/// Locale-free number formatting with a fixed number of decimals.
public enum ReportFormat {
    /// `value` rounded half away from zero to `decimals` places: `fixed(0.125, 2)` is "0.13",
    /// `fixed(-0.0001, 2)` is "0.00" (never "-0.00"). NaN is "NaN", infinities "inf"/"-inf".
    public static func fixed(_ value: Double, _ decimals: Int) -> String {
        precondition(decimals >= 0 && decimals <= 12, "fixed: decimals must be in 0...12")
        guard value.isFinite else { return value.isNaN ? "NaN" : (value < 0 ? "-inf" : "inf") }
        var scale: Double = 1
        for _ in 0..<decimals { scale *= 10 }
        let scaled = (value * scale).rounded(.toNearestOrAwayFromZero)
        // Beyond 2^53 the digits are not exact any more; Swift's shortest form is still stable.
        guard abs(scaled) < 9.0e15 else { return "\(value)" }
        let units = Int64(scaled)
        let negative = units < 0
        let magnitude = negative ? UInt64(-units) : UInt64(units)
        var digits = String(magnitude)
        if decimals > 0 {
            if digits.count <= decimals {
                digits = String(repeating: "0", count: decimals - digits.count + 1) + digits
            }
            digits.insert(".", at: digits.index(digits.endIndex, offsetBy: -decimals))
        }
        return (negative ? "-" : "") + digits
    }

    /// `value` as `M.De±X` with `decimals` (0…12) in the mantissa ("-7.0e-16", "2.5e21"), for
    /// numbers too small or too large for ``fixed(_:_:)``; "0" for zero.
    public static func scientific(_ value: Double, decimals: Int = 1) -> String {
        guard value.isFinite else { return value.isNaN ? "NaN" : (value < 0 ? "-inf" : "inf") }
        guard value != 0 else { return "0" }
        let places = min(12, max(0, decimals))
        var exponent = Int(floor(log10(abs(value))))
        var scale: Double = 1
        for _ in 0..<places { scale *= 10 }
        var mantissa = (value / pow(10, Double(exponent)) * scale).rounded(.toNearestOrAwayFromZero) / scale
        if abs(mantissa) >= 10 { mantissa /= 10; exponent += 1 }
        // A subnormal's power of ten underflows to 0 (mantissa ∞): print the value as Swift does.
        guard mantissa.isFinite, mantissa != 0 else { return "\(value)" }
        return fixed(mantissa, places) + "e" + String(exponent)
    }

    /// A coordinate for SVG attributes: two decimals with trailing zeros removed ("12.5", "40").
    public static func coordinate(_ value: Double) -> String {
        var text = fixed(value.isFinite ? value : 0, 2)
        if text.contains(".") {
            while text.hasSuffix("0") { text.removeLast() }
            if text.hasSuffix(".") { text.removeLast() }
        }
        return text == "-0" ? "0" : text
    }

    /// A table number with `decimals` places, or "–" for NaN (no value, e.g. no interval).
    public static func cell(_ value: Double, _ decimals: Int = 3) -> String {
        value.isNaN ? "–" : fixed(value, decimals)
    }

    /// A run's compute as table cells: CPU seconds with one decimal, token counts whole; "–" where
    /// not recorded.
    public static func computeCells(_ c: RunCompute) -> [String] {
        [cell(c.cpuSeconds, 1), cell(c.tokensGenerated, 0), cell(c.tokensTrained, 0)]
    }

    /// "0.62 [0.55, 0.70]", or "0.62" when the interval is missing.
    public static func interval(_ point: Double, _ low: Double, _ high: Double,
                                decimals: Int = 3) -> String {
        let head = cell(point, decimals)
        guard low.isFinite, high.isFinite else { return head }
        return "\(head) [\(fixed(low, decimals)), \(fixed(high, decimals))]"
    }
}

/// Escapes text for XML and HTML text and attribute values (`& < > " '`). Characters that XML 1.0
/// forbids (control characters other than tab, newline, carriage return) become U+FFFD.
public func xmlEscape(_ text: String) -> String {
    var out = ""
    out.reserveCapacity(text.utf8.count)
    for scalar in text.unicodeScalars {
        switch scalar {
        case "&": out += "&amp;"
        case "<": out += "&lt;"
        case ">": out += "&gt;"
        case "\"": out += "&quot;"
        case "'": out += "&#39;"
        case "\t", "\n", "\r": out.unicodeScalars.append(scalar)
        default:
            let v = scalar.value
            if v < 0x20 || v == 0xFFFE || v == 0xFFFF {
                out += "\u{FFFD}"
            } else {
                out.unicodeScalars.append(scalar)
            }
        }
    }
    return out
}

/// Estimated width in pixels of `text` in a generic sans-serif font of `size` pixels. Fonts differ
/// between machines, so layouts leave slack; the estimate is on the wide side (DejaVu Sans).
func estimatedTextWidth(_ text: String, size: Double) -> Double {
    var em = 0.0
    for ch in text.unicodeScalars {
        switch ch {
        case "i", "j", "l", ".", ",", ":", ";", "'", "|", "!", "I", " ": em += 0.32
        case "f", "t", "r", "(", ")", "[", "]", "-": em += 0.42
        case "m", "w", "M", "W": em += 0.92
        case "A"..."Z": em += 0.70
        default: em += 0.62
        }
    }
    return em * size
}

/// `text` cut to at most `limit` characters, with an ellipsis when cut.
func truncated(_ text: String, _ limit: Int) -> String {
    text.count <= limit ? text : String(text.prefix(max(1, limit - 1))) + "…"
}

// MARK: - SVG writer

/// Text anchor of an SVG `<text>`.
enum TextAnchor: String {
    case start, middle, end
}

/// Accumulates SVG elements as text. Attribute order is fixed by each method, numbers go through
/// ``ReportFormat/coordinate(_:)`` and text through ``xmlEscape(_:)``.
struct SVGCanvas {
    let width: Double
    let height: Double
    private(set) var body = ""

    init(width: Double, height: Double) {
        self.width = width
        self.height = height
    }

    private static func c(_ v: Double) -> String { ReportFormat.coordinate(v) }

    mutating func raw(_ element: String) {
        body += element
        body += "\n"
    }

    mutating func rect(x: Double, y: Double, width: Double, height: Double, fill: String,
                       opacity: Double? = nil, stroke: String? = nil) {
        var element = "<rect x=\"\(Self.c(x))\" y=\"\(Self.c(y))\""
            + " width=\"\(Self.c(max(0, width)))\" height=\"\(Self.c(max(0, height)))\" fill=\"\(fill)\""
        if let opacity { element += " fill-opacity=\"\(ReportFormat.coordinate(opacity))\"" }
        if let stroke { element += " stroke=\"\(stroke)\" stroke-width=\"1\"" }
        raw(element + "/>")
    }

    mutating func line(x1: Double, y1: Double, x2: Double, y2: Double, stroke: String,
                       width: Double = 1, dash: String? = nil) {
        var element = "<line x1=\"\(Self.c(x1))\" y1=\"\(Self.c(y1))\" x2=\"\(Self.c(x2))\""
            + " y2=\"\(Self.c(y2))\" stroke=\"\(stroke)\" stroke-width=\"\(Self.c(width))\""
        if let dash { element += " stroke-dasharray=\"\(dash)\"" }
        raw(element + "/>")
    }

    /// A polyline through `points` (at least two).
    mutating func polyline(_ points: [(Double, Double)], stroke: String, width: Double,
                           dash: String? = nil) {
        guard points.count >= 2 else { return }
        var element = "<path d=\"\(Self.pathData(points, close: false))\" fill=\"none\""
            + " stroke=\"\(stroke)\" stroke-width=\"\(Self.c(width))\""
            + " stroke-linejoin=\"round\" stroke-linecap=\"round\""
        if let dash { element += " stroke-dasharray=\"\(dash)\"" }
        raw(element + "/>")
    }

    /// A filled polygon through `points` (at least three).
    mutating func polygon(_ points: [(Double, Double)], fill: String, opacity: Double) {
        guard points.count >= 3 else { return }
        raw("<path d=\"\(Self.pathData(points, close: true))\" fill=\"\(fill)\""
            + " fill-opacity=\"\(Self.c(opacity))\" stroke=\"none\"/>")
    }

    mutating func circle(cx: Double, cy: Double, r: Double, fill: String, stroke: String? = nil) {
        var element = "<circle cx=\"\(Self.c(cx))\" cy=\"\(Self.c(cy))\" r=\"\(Self.c(r))\""
            + " fill=\"\(fill)\""
        if let stroke { element += " stroke=\"\(stroke)\" stroke-width=\"1.5\"" }
        raw(element + "/>")
    }

    /// A `<text>` at (x, y) (y is the baseline), optionally rotated about that point.
    mutating func text(_ content: String, x: Double, y: Double, size: Double,
                       anchor: TextAnchor = .start, fill: String = Style.text, bold: Bool = false,
                       rotate: Double? = nil) {
        var element = "<text x=\"\(Self.c(x))\" y=\"\(Self.c(y))\" font-size=\"\(Self.c(size))\""
        if anchor != .start { element += " text-anchor=\"\(anchor.rawValue)\"" }
        element += " fill=\"\(fill)\""
        if bold { element += " font-weight=\"bold\"" }
        if let rotate {
            element += " transform=\"rotate(\(Self.c(rotate)) \(Self.c(x)) \(Self.c(y)))\""
        }
        raw(element + ">\(xmlEscape(content))</text>")
    }

    /// The finished `<svg>` element: white background, generic sans-serif, `<title>` for screen
    /// readers. No ids, so several charts can be inlined in one page.
    func render(title: String) -> String {
        let w = Self.c(width), h = Self.c(height)
        return "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(w)\" height=\"\(h)\""
            + " viewBox=\"0 0 \(w) \(h)\" font-family=\"sans-serif\" role=\"img\">\n"
            + "<title>\(xmlEscape(title))</title>\n"
            + "<rect x=\"0\" y=\"0\" width=\"\(w)\" height=\"\(h)\" fill=\"#ffffff\"/>\n"
            + body + "</svg>\n"
    }

    private static func pathData(_ points: [(Double, Double)], close: Bool) -> String {
        var d = ""
        for (i, p) in points.enumerated() {
            d += (i == 0 ? "M" : " L") + c(p.0) + " " + c(p.1)
        }
        return close ? d + " Z" : d
    }
}

/// Shared colours and sizes of every chart.
enum Style {
    static let text = "#1f2328"
    static let mutedText = "#57606a"
    static let axis = "#6e7781"
    static let grid = "#e6e8eb"
    static let titleSize = 14.0
    static let labelSize = 12.0
    static let tickSize = 11.0
}
