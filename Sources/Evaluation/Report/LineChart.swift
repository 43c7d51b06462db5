// rlhub — line charts with shaded confidence bands: learning curves (one panel per task) and
// performance profiles (fraction of runs above a threshold τ, after Agarwal et al., "Deep RL at
// the Edge of the Statistical Precipice", NeurIPS 2021, Fig. 5).
//
// A line is broken where the mean is NaN; the band is left out where a bound is NaN; a point with
// no neighbour on its line is drawn as a dot (with an error bar when it has an interval).

/// One line of a ``LineChart``: (x, y, low, high) per point.
struct LineSeries {
    let name: String
    let points: [(x: Double, y: Double, low: Double, high: Double)]
}

/// A line chart with confidence bands, axes and a legend below.
struct LineChart {
    var title: String?
    var xLabel: String
    var yLabel: String
    var series: [LineSeries]
    /// Fixes the y range (a profile is always 0…1); nil fits the data.
    var yRange: ClosedRange<Double>?
    var width = 520.0
    var plotHeight = 240.0

    /// The chart as a standalone `<svg>` element.
    func render(palette: Palette, accessibleTitle: String) -> String {
        let (xs, ys) = dataRanges()
        let xScale = NiceScale(min: xs.lowerBound, max: xs.upperBound, maxTicks: 6)
        let yScale = yRange.map { NiceScale(min: $0.lowerBound, max: $0.upperBound, maxTicks: 6) }
            ?? NiceScale(min: ys.lowerBound, max: ys.upperBound, maxTicks: 6)
        let top = title == nil ? 14.0 : 36.0
        let left = PlotArea.leftMargin(for: yScale)
        let lastLabel = estimatedTextWidth(xScale.labels.last ?? "", size: Style.tickSize)
        let right = max(18, lastLabel / 2 + 6)
        let area = PlotArea(left: left, top: top, width: width - left - right,
                            height: plotHeight, x: xScale, y: yScale)
        let legend = Legend(names: series.map(\.name), left: left, width: area.width)
        let legendTop = area.bottom + 50
        var canvas = SVGCanvas(width: width, height: legendTop + legend.height + 8)

        if let title {
            canvas.text(truncated(title, 64), x: left, y: 22, size: Style.titleSize, bold: true)
        }
        area.drawAxes(on: &canvas, xLabel: xLabel, yLabel: yLabel)
        for s in series { drawBand(s, area: area, palette: palette, on: &canvas) }
        for s in series { drawLine(s, area: area, palette: palette, on: &canvas) }
        legend.draw(on: &canvas, top: legendTop, palette: palette, band: true)
        return canvas.render(title: accessibleTitle)
    }

    // MARK: - Non public

    /// The x range of every finite point and the y range of every finite mean and bound.
    private func dataRanges() -> (ClosedRange<Double>, ClosedRange<Double>) {
        var xs: [Double] = [], ys: [Double] = []
        for s in series {
            for p in s.points where p.x.isFinite && p.y.isFinite {
                xs.append(p.x)
                ys.append(p.y)
                if p.low.isFinite && p.high.isFinite { ys += [p.low, p.high] }
            }
        }
        let x = (xs.min() ?? 0)...(xs.max() ?? 1)
        let y = (ys.min() ?? 0)...(ys.max() ?? 1)
        return (x, y)
    }

    /// Runs of consecutive points that satisfy `keep`.
    private static func runs(
        _ points: [(x: Double, y: Double, low: Double, high: Double)],
        where keep: ((x: Double, y: Double, low: Double, high: Double)) -> Bool
    ) -> [[(x: Double, y: Double, low: Double, high: Double)]] {
        var out: [[(x: Double, y: Double, low: Double, high: Double)]] = [[]]
        for p in points {
            if keep(p) {
                out[out.count - 1].append(p)
            } else if !out[out.count - 1].isEmpty {
                out.append([])
            }
        }
        return out.filter { !$0.isEmpty }
    }

    private func drawBand(_ s: LineSeries, area: PlotArea, palette: Palette,
                          on canvas: inout SVGCanvas) {
        let colour = palette.colour(s.name)
        let banded = Self.runs(s.points) {
            $0.x.isFinite && $0.y.isFinite && $0.low.isFinite && $0.high.isFinite
        }
        for run in banded {
            if run.count == 1 {
                let p = run[0]
                canvas.line(x1: area.px(p.x), y1: area.py(p.low), x2: area.px(p.x),
                            y2: area.py(p.high), stroke: colour, width: 1.5)
                continue
            }
            let upper = run.map { (area.px($0.x), area.py($0.high)) }
            let lower = run.reversed().map { (area.px($0.x), area.py($0.low)) }
            canvas.polygon(upper + lower, fill: colour, opacity: 0.18)
        }
    }

    private func drawLine(_ s: LineSeries, area: PlotArea, palette: Palette,
                          on canvas: inout SVGCanvas) {
        let colour = palette.colour(s.name)
        for run in Self.runs(s.points, where: { $0.x.isFinite && $0.y.isFinite }) {
            if run.count == 1 {
                canvas.circle(cx: area.px(run[0].x), cy: area.py(run[0].y), r: 3.5, fill: colour)
            } else {
                canvas.polyline(run.map { (area.px($0.x), area.py($0.y)) }, stroke: colour,
                                width: 2, dash: palette.dash(s.name))
            }
        }
    }
}

// MARK: - Report charts

/// The charts of a report, each as a standalone `<svg>` element (also inlined in `index.html`).
public enum ReportCharts {
    /// One task's learning curves: mean per algorithm with its confidence band.
    public static func learningCurves(_ panel: LearningCurvePanel, palette: Palette,
                                      width: Double = 520) -> String {
        curves(panel, palette: palette, width: width, accessibleTitle: "Learning curves: \(panel.task)")
    }

    /// A panel's series as a line chart with bands, the y axis fitted to the data.
    static func curves(_ panel: LearningCurvePanel, palette: Palette, width: Double, accessibleTitle: String) -> String {
        let chart = LineChart(
            title: panel.task, xLabel: panel.xLabel, yLabel: panel.yLabel,
            series: panel.series.map { s in
                LineSeries(name: s.label, points: s.points.map { ($0.x, $0.mean, $0.low, $0.high) })
            },
            yRange: nil, width: width)
        return chart.render(palette: palette, accessibleTitle: accessibleTitle)
    }

    /// The performance profile: fraction of runs with score above τ, with bands, on a 0…1 axis.
    public static func performanceProfile(_ profile: ProfileChart, palette: Palette,
                                          width: Double = 640) -> String {
        let series = profile.curves.map { curve in
            LineSeries(name: curve.algorithm, points: zip(profile.taus, curve.values).map {
                ($0, $1.fraction, $1.low, $1.high)
            })
        }
        let chart = LineChart(
            title: nil, xLabel: profile.tauLabel, yLabel: "fraction of runs with score > τ",
            series: series, yRange: 0...1, width: width, plotHeight: 260)
        return chart.render(palette: palette, accessibleTitle: "Performance profile")
    }
}
