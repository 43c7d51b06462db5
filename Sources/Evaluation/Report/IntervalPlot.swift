// rlhub — aggregate interval estimates in rliable's layout (Agarwal et al., NeurIPS 2021, Fig. 1
// and `plot_utils.plot_interval_estimates`): one panel per metric side by side, one row per
// algorithm, a bar from the interval's low to its high end and a dark tick at the point estimate.
// An estimate without an interval is drawn as a dot.

extension ReportCharts {
    /// The aggregate metrics (IQM, median, mean, optimality gap) as interval panels.
    ///
    /// - Parameters:
    ///   - metrics: one panel per metric, in order; rows are the algorithms in order of first
    ///     appearance.
    ///   - xLabel: the score's name, written once under the panels.
    public static func aggregateIntervals(_ metrics: [AggregatePanel], xLabel: String,
                                          palette: Palette, panelWidth: Double = 210) -> String {
        var rows: [String] = []
        for metric in metrics {
            for e in metric.estimates where !rows.contains(e.algorithm) { rows.append(e.algorithm) }
        }
        let labelWidth = min(180, rows.map {
            estimatedTextWidth(truncated($0, 28), size: Style.labelSize)
        }.max() ?? 0) + 16
        let gap = 40.0, rowHeight = 32.0, top = 30.0, right = 16.0
        let panels = Double(max(1, metrics.count))
        let width = labelWidth + panels * panelWidth + (panels - 1) * gap + right
        let plotHeight = Double(max(1, rows.count)) * rowHeight
        var canvas = SVGCanvas(width: width, height: top + plotHeight + 52)

        for (r, name) in rows.enumerated() {
            let mid = top + (Double(r) + 0.5) * rowHeight
            canvas.text(truncated(name, 28), x: labelWidth - 10, y: mid + 4, size: Style.labelSize,
                        anchor: .end)
        }
        for (m, metric) in metrics.enumerated() {
            let left = labelWidth + Double(m) * (panelWidth + gap)
            drawPanel(metric, rows: rows, left: left, top: top, width: panelWidth,
                      rowHeight: rowHeight, palette: palette, on: &canvas)
        }
        canvas.text(truncated(xLabel, 80), x: labelWidth + (width - labelWidth - right) / 2,
                    y: top + plotHeight + 44, size: Style.labelSize, anchor: .middle)
        return canvas.render(title: "Aggregate metrics with confidence intervals")
    }

    private static func drawPanel(_ metric: AggregatePanel, rows: [String], left: Double,
                                  top: Double, width: Double, rowHeight: Double,
                                  palette: Palette, on canvas: inout SVGCanvas) {
        var values: [Double] = []
        for e in metric.estimates where e.point.isFinite {
            values.append(e.point)
            if e.low.isFinite && e.high.isFinite { values += [e.low, e.high] }
        }
        let scale = NiceScale(min: values.min() ?? 0, max: values.max() ?? 1, maxTicks: 5)
        let height = Double(max(1, rows.count)) * rowHeight
        let bottom = top + height
        func px(_ v: Double) -> Double { left + scale.fraction(v) * width }

        canvas.text(truncated(metric.name, 30), x: left + width / 2, y: top - 12,
                    size: Style.titleSize, anchor: .middle, bold: true)
        for (tick, label) in zip(scale.ticks, scale.labels) {
            canvas.line(x1: px(tick), y1: top, x2: px(tick), y2: bottom, stroke: Style.grid)
            canvas.line(x1: px(tick), y1: bottom, x2: px(tick), y2: bottom + 4, stroke: Style.axis)
            canvas.text(label, x: px(tick), y: bottom + 17, size: Style.tickSize, anchor: .middle,
                        fill: Style.mutedText)
        }
        canvas.line(x1: left, y1: bottom, x2: left + width, y2: bottom, stroke: Style.axis)
        for (r, name) in rows.enumerated() {
            guard let e = metric.estimates.first(where: { $0.algorithm == name }),
                  e.point.isFinite else { continue }
            let mid = top + (Double(r) + 0.5) * rowHeight
            let colour = palette.colour(name)
            if e.low.isFinite && e.high.isFinite {
                let x0 = px(min(e.low, e.high)), x1 = px(max(e.low, e.high))
                canvas.rect(x: x0, y: mid - 9, width: max(2, x1 - x0), height: 18, fill: colour,
                            opacity: 0.75)
                canvas.line(x1: px(e.point), y1: mid - 11, x2: px(e.point), y2: mid + 11,
                            stroke: Style.text, width: 2)
            } else {
                canvas.circle(cx: px(e.point), cy: mid, r: 5, fill: colour, stroke: Style.text)
            }
        }
    }
}
