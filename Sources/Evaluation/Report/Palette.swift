// rlhub — one colour per algorithm, the same in every chart of a report.
//
// Colours are Okabe & Ito's colour-blind-safe set ("Color Universal Design", 2008), ordered for
// contrast on white: blue, vermillion, bluish green, reddish purple, orange, sky blue, black,
// yellow. After eight names the colours repeat with a dash pattern, so lines stay distinguishable.

/// Colours assigned by position: the n-th name gets the n-th colour.
public struct Palette: Sendable, Equatable {
    /// Okabe–Ito, ordered for contrast on a white background.
    public static let okabeIto = [
        "#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000", "#F0E442",
    ]
    /// Dash patterns for the second, third, … round of colours ("" is solid).
    static let dashes = ["", "6 3", "2 3", "8 3 2 3"]

    /// Names in colour order.
    public let names: [String]
    private let positions: [String: Int]

    /// A palette for `names` in order; repeated names keep their first position.
    public init(_ names: [String]) {
        var unique: [String] = []
        var positions: [String: Int] = [:]
        for name in names where positions[name] == nil {
            positions[name] = unique.count
            unique.append(name)
        }
        self.names = unique
        self.positions = positions
    }

    /// The palette of a report: ``ReportData/algorithms`` first, then any other name in order of
    /// first appearance (learning curves, aggregates, profile, matrix, scores, provenance, training
    /// metrics).
    public init(for data: ReportData) {
        var names = data.algorithms
        for panel in data.learningCurves { names += panel.series.map(\.label) }
        for metric in data.aggregates { names += metric.estimates.map(\.algorithm) }
        names += data.performanceProfile?.curves.map(\.algorithm) ?? []
        names += data.improvement?.algorithms ?? []
        names += data.finalScores.map(\.algorithm)
        names += data.provenance.map(\.algorithm)
        for section in data.metrics {
            for panel in section.curves { names += panel.series.map(\.label) }
            names += section.rows.map(\.algorithm)
        }
        self.init(names)
    }

    /// The colour of `name` (grey for a name the palette does not know).
    public func colour(_ name: String) -> String {
        guard let i = positions[name] else { return "#8c959f" }
        return Self.okabeIto[i % Self.okabeIto.count]
    }

    /// The dash pattern of `name`'s lines: nil (solid) for the first eight names.
    func dash(_ name: String) -> String? {
        guard let i = positions[name] else { return nil }
        let pattern = Self.dashes[(i / Self.okabeIto.count) % Self.dashes.count]
        return pattern.isEmpty ? nil : pattern
    }

    public static func == (a: Palette, b: Palette) -> Bool { a.names == b.names }
}
