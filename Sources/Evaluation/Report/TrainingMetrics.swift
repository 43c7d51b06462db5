// rlhub — how the report's training metrics look: their charts (learning-curve panels whose y axis
// fits the data, since a metric such as `mismatch/k3` lives near 1e-6 and `response_length/mean`
// near 10) and their table numbers (four significant digits, shared by a row's mean and bounds).
import Foundation

extension ReportFormat {
    /// A training metric's mean and interval bounds as table cells with one precision: four
    /// significant digits of the largest finite magnitude among them, in scientific notation
    /// below 1e-4 ("2.346e-6"), three decimals when all are 0; "–" for NaN.
    public static func metricCells(_ mean: Double, _ low: Double, _ high: Double) -> [String] {
        let largest = [mean, low, high].filter(\.isFinite).map(abs).max() ?? 0
        if largest > 0 && largest < 1e-4 {
            return [mean, low, high].map { $0.isNaN ? "–" : scientific($0, decimals: 3) }
        }
        let decimals = largest > 0 ? min(12, max(0, 3 - Int(floor(log10(largest))))) : 3
        return [mean, low, high].map { cell($0, decimals) }
    }
}

extension ReportCharts {
    /// One task's panel of a training metric: the mean per algorithm with its band, the y axis
    /// fitted to the data (not 0…1).
    public static func trainingMetric(_ panel: LearningCurvePanel, palette: Palette, width: Double = 520) -> String {
        curves(panel, palette: palette, width: width, accessibleTitle: "\(panel.yLabel) over training: \(panel.task)")
    }
}
