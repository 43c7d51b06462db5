// rlhub — the probability-of-improvement matrix as a heatmap with the numbers in its cells.
//
// Cell (X, Y) is P(X > Y) (Agarwal et al., NeurIPS 2021, §4.3) with its interval underneath.
// Colours run through ColorBrewer's BrBG, a colour-blind-safe diverging scale: brown below 0.5,
// near-white at 0.5 ("no difference"), teal above. The scale is not an algorithm colour, so the
// matrix never suggests that a cell belongs to an algorithm.

extension ReportCharts {
    /// The probability-of-improvement matrix: rows X, columns Y, cells P(X > Y).
    public static func improvementMatrix(_ matrix: ImprovementMatrix) -> String {
        let names = matrix.algorithms
        let n = names.count
        let cellWidth = 92.0, cellHeight = 48.0
        let rowLabelWidth = min(180, names.map {
            estimatedTextWidth(truncated($0, 24), size: Style.labelSize)
        }.max() ?? 0) + 16
        let widestColumn = names.map {
            estimatedTextWidth(truncated($0, 24), size: Style.labelSize)
        }.max() ?? 0
        let rotate = widestColumn > cellWidth - 8
        let headerHeight = 30 + (rotate ? widestColumn * 0.6 : 20)
        let left = 28 + rowLabelWidth
        let gridWidth = Double(n) * cellWidth, gridHeight = Double(n) * cellHeight
        let barTop = headerHeight + gridHeight + 24
        // A rotated label runs up and to the right of its column's centre.
        let overhang = rotate ? max(0, widestColumn * 0.82 - cellWidth / 2) : 0
        let width = max(left + gridWidth + 20 + overhang, left + 260)
        var canvas = SVGCanvas(width: width, height: barTop + 52)

        canvas.text("column algorithm (Y)", x: left + gridWidth / 2, y: 16, size: Style.labelSize,
                    anchor: .middle, fill: Style.mutedText)
        canvas.text("row algorithm (X)", x: 16, y: headerHeight + gridHeight / 2,
                    size: Style.labelSize, anchor: .middle, fill: Style.mutedText, rotate: -90)
        for (j, name) in names.enumerated() {
            let x = left + (Double(j) + 0.5) * cellWidth
            if rotate {
                canvas.text(truncated(name, 24), x: x, y: headerHeight - 8, size: Style.labelSize,
                            rotate: -35)
            } else {
                canvas.text(name, x: x, y: headerHeight - 8, size: Style.labelSize, anchor: .middle)
            }
        }
        for (i, name) in names.enumerated() {
            let top = headerHeight + Double(i) * cellHeight
            canvas.text(truncated(name, 24), x: left - 8, y: top + cellHeight / 2 + 4,
                        size: Style.labelSize, anchor: .end)
            for j in 0..<n {
                let cell = i < matrix.cells.count && j < matrix.cells[i].count
                    ? matrix.cells[i][j] : nil
                drawCell(cell, diagonal: i == j, x: left + Double(j) * cellWidth, y: top,
                         width: cellWidth, height: cellHeight, on: &canvas)
            }
        }
        drawColourBar(left: left, top: barTop, width: max(gridWidth, 240), on: &canvas)
        return canvas.render(title: "Probability of improvement P(X > Y)")
    }

    private static func drawCell(_ cell: ProbabilityCell?, diagonal: Bool, x: Double, y: Double,
                                 width: Double, height: Double, on canvas: inout SVGCanvas) {
        guard let cell, cell.p.isFinite else {
            canvas.rect(x: x, y: y, width: width, height: height, fill: "#f6f8fa",
                        stroke: "#ffffff")
            canvas.text(diagonal ? "—" : "n/a", x: x + width / 2, y: y + height / 2 + 4,
                        size: Style.labelSize, anchor: .middle, fill: Style.mutedText)
            return
        }
        let (fill, dark) = Self.diverging(cell.p)
        let ink = dark ? "#ffffff" : Style.text
        canvas.rect(x: x, y: y, width: width, height: height, fill: fill, stroke: "#ffffff")
        if cell.low.isFinite && cell.high.isFinite {
            canvas.text(ReportFormat.fixed(cell.p, 2), x: x + width / 2, y: y + 21, size: 13,
                        anchor: .middle, fill: ink, bold: true)
            let ci = "[\(ReportFormat.fixed(cell.low, 2)), \(ReportFormat.fixed(cell.high, 2))]"
            canvas.text(ci, x: x + width / 2, y: y + 37, size: 10, anchor: .middle, fill: ink)
        } else {
            canvas.text(ReportFormat.fixed(cell.p, 2), x: x + width / 2, y: y + height / 2 + 5,
                        size: 13, anchor: .middle, fill: ink, bold: true)
        }
    }

    private static func drawColourBar(left: Double, top: Double, width: Double,
                                      on canvas: inout SVGCanvas) {
        let steps = 20
        let w = width / Double(steps)
        for k in 0..<steps {
            let (fill, _) = diverging((Double(k) + 0.5) / Double(steps))
            canvas.rect(x: left + Double(k) * w, y: top, width: w + 0.5, height: 10, fill: fill)
        }
        for t in [0.0, 0.25, 0.5, 0.75, 1.0] {
            let x = left + t * width
            canvas.line(x1: x, y1: top + 10, x2: x, y2: top + 14, stroke: Style.axis)
            canvas.text(ReportFormat.fixed(t, 2), x: x, y: top + 26, size: Style.tickSize,
                        anchor: .middle, fill: Style.mutedText)
        }
        canvas.text("P(row > column)", x: left + width / 2, y: top + 44, size: Style.labelSize,
                    anchor: .middle)
    }

    /// BrBG at `p` ∈ [0, 1], and whether the colour is dark enough for white text.
    static func diverging(_ p: Double) -> (String, Bool) {
        let stops: [(Double, Double, Double)] = [
            (0x8C, 0x51, 0x0A), (0xD8, 0xB3, 0x65), (0xF5, 0xF5, 0xF5), (0x5A, 0xB4, 0xAC),
            (0x01, 0x66, 0x5E),
        ]
        let t = min(1, max(0, p.isFinite ? p : 0.5)) * Double(stops.count - 1)
        let k = min(stops.count - 2, Int(t))
        let f = t - Double(k)
        let a = stops[k], b = stops[k + 1]
        let rgb = [a.0 + (b.0 - a.0) * f, a.1 + (b.1 - a.1) * f, a.2 + (b.2 - a.2) * f]
            .map { Int(($0).rounded()) }
        let luminance = (0.299 * Double(rgb[0]) + 0.587 * Double(rgb[1]) + 0.114 * Double(rgb[2]))
            / 255
        return ("#" + rgb.map(hexByte).joined(), luminance < 0.5)
    }

    private static func hexByte(_ v: Int) -> String {
        let digits = Array("0123456789ABCDEF")
        let b = min(255, max(0, v))
        return String([digits[b / 16], digits[b % 16]])
    }
}
