// Floating-point comparison for every suite: |actual − expected| ≤ atol + rtol·|expected|, with the
// worst difference and the first offending index in the failure.
import Testing

/// Element-wise closeness of two arrays; one failure naming the max |Δ| and the first bad index
/// (NaN counts as bad).
public func expectClose<T: BinaryFloatingPoint>(
    _ actual: [T], _ expected: [T], atol: T, rtol: T = 0, _ what: @autoclosure () -> String = "",
    sourceLocation: SourceLocation = #_sourceLocation
) {
    guard actual.count == expected.count else {
        Issue.record("\(what()): \(actual.count) vs \(expected.count) entries", sourceLocation: sourceLocation)
        return
    }
    var worst: T = 0
    var first: Int? = nil
    for k in actual.indices {
        let d = abs(actual[k] - expected[k])
        if first == nil && !(d <= atol + rtol * abs(expected[k])) { first = k }
        worst = max(worst, d.isNaN ? .infinity : d)
    }
    if let k = first {
        Issue.record(
            "\(what()): max |Δ| = \(worst) (atol \(atol), rtol \(rtol)); first bad index \(k): \(actual[k]) vs \(expected[k])",
            sourceLocation: sourceLocation)
    }
}

/// Closeness of two numbers.
public func expectClose<T: BinaryFloatingPoint>(
    _ actual: T, _ expected: T, atol: T, rtol: T = 0, _ what: @autoclosure () -> String = "",
    sourceLocation: SourceLocation = #_sourceLocation
) {
    let d = abs(actual - expected)
    #expect(d <= atol + rtol * abs(expected), "\(what()): \(actual) vs \(expected) (|Δ| = \(d), atol \(atol), rtol \(rtol))",
            sourceLocation: sourceLocation)
}
