// rlhub — the parts charts share: a plot area mapping data to pixels, axes with grid lines and
// tick labels, and a legend that wraps into rows.

/// A rectangle of the canvas with a nice scale on each axis.
struct PlotArea {
    /// Left, top, width and height in pixels.
    let left: Double, top: Double, width: Double, height: Double
    let x: NiceScale
    let y: NiceScale

    var right: Double { left + width }
    var bottom: Double { top + height }

    func px(_ value: Double) -> Double { left + x.fraction(value) * width }
    func py(_ value: Double) -> Double { top + (1 - y.fraction(value)) * height }

    /// Grid lines, the left and bottom axis lines, ticks, tick labels and axis labels.
    func drawAxes(on canvas: inout SVGCanvas, xLabel: String, yLabel: String) {
        for (tick, label) in zip(y.ticks, y.labels) {
            let yy = py(tick)
            canvas.line(x1: left, y1: yy, x2: right, y2: yy, stroke: Style.grid)
            canvas.line(x1: left - 4, y1: yy, x2: left, y2: yy, stroke: Style.axis)
            canvas.text(label, x: left - 7, y: yy + 4, size: Style.tickSize, anchor: .end,
                        fill: Style.mutedText)
        }
        for (tick, label) in zip(x.ticks, x.labels) {
            let xx = px(tick)
            canvas.line(x1: xx, y1: top, x2: xx, y2: bottom, stroke: Style.grid)
            canvas.line(x1: xx, y1: bottom, x2: xx, y2: bottom + 4, stroke: Style.axis)
            canvas.text(label, x: xx, y: bottom + 17, size: Style.tickSize, anchor: .middle,
                        fill: Style.mutedText)
        }
        canvas.line(x1: left, y1: top, x2: left, y2: bottom, stroke: Style.axis)
        canvas.line(x1: left, y1: bottom, x2: right, y2: bottom, stroke: Style.axis)
        canvas.text(truncated(xLabel, 70), x: left + width / 2, y: bottom + 36,
                    size: Style.labelSize, anchor: .middle)
        let yLabelX = 16.0
        canvas.text(truncated(yLabel, Int(height / 7)), x: yLabelX, y: top + height / 2,
                    size: Style.labelSize, anchor: .middle, rotate: -90)
    }

    /// Room left of the plot for y tick labels and the rotated y label.
    static func leftMargin(for y: NiceScale) -> Double {
        let widest = y.labels.map { estimatedTextWidth($0, size: Style.tickSize) }.max() ?? 0
        return 30 + widest + 10
    }
}

/// A legend laid out in rows under a chart: each entry is a colour swatch and a name.
struct Legend {
    struct Entry {
        let name: String
        let x: Double
    }

    static let rowHeight = 20.0
    static let swatchWidth = 22.0

    /// Entries per row; entries wrap when the next one would pass `left + width`.
    let rows: [[Entry]]

    init(names: [String], left: Double, width: Double) {
        var rows: [[Entry]] = []
        var row: [Entry] = []
        var x = left
        for name in names {
            let label = truncated(name, 40)
            let w = Self.swatchWidth + 6 + estimatedTextWidth(label, size: Style.labelSize) + 18
            if !row.isEmpty && x + w > left + width {
                rows.append(row)
                row = []
                x = left
            }
            row.append(Entry(name: name, x: x))
            x += w
        }
        if !row.isEmpty { rows.append(row) }
        self.rows = rows
    }

    var height: Double { Double(rows.count) * Self.rowHeight }

    /// Draws the legend with its first row's centre line at `top + 10`; `band` adds a pale box
    /// behind each swatch, as the charts shade confidence bands.
    func draw(on canvas: inout SVGCanvas, top: Double, palette: Palette, band: Bool) {
        for (r, row) in rows.enumerated() {
            let mid = top + Double(r) * Self.rowHeight + 10
            for entry in row {
                let colour = palette.colour(entry.name)
                if band {
                    canvas.rect(x: entry.x, y: mid - 6, width: Self.swatchWidth, height: 12,
                                fill: colour, opacity: 0.2)
                }
                canvas.line(x1: entry.x, y1: mid, x2: entry.x + Self.swatchWidth, y2: mid,
                            stroke: colour, width: 2.5, dash: palette.dash(entry.name))
                canvas.text(truncated(entry.name, 40), x: entry.x + Self.swatchWidth + 6,
                            y: mid + 4, size: Style.labelSize)
            }
        }
    }
}
