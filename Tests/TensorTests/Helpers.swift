// Test helpers: seeded inputs and a central finite-difference gradient check (the comparison,
// llm.c's check_tensor, is TestSupport's expectClose).
import TestSupport
import Testing
import Tensor

/// Deterministic random floats in [-scale, scale).
func randomFloats(_ n: Int, seed: UInt64, scale: Float = 1) -> [Float] {
    var rng = CounterRNG(seed: seed, purpose: .testing)
    return (0..<n).map { _ in (rng.nextUniform() * 2 - 1) * scale }
}

/// Central differences of `loss` w.r.t. `x[i]` for the sampled indices, compared with `analytic`.
/// `loss` is evaluated in Float kernels and reduced in Double, so eps is kept large (1e-2) and
/// the tolerance relative (2%) plus an absolute floor.
func gradientCheck(
    _ x: inout [Float], analytic: [Float], indices: [Int], eps: Float = 1e-2,
    rtol: Double = 2e-2, atol: Double = 2e-3, _ what: String,
    sourceLocation: SourceLocation = #_sourceLocation, loss: ([Float]) -> Double
) {
    var worst = 0.0
    for i in indices {
        let saved = x[i]
        x[i] = saved + eps
        let up = loss(x)
        x[i] = saved - eps
        let down = loss(x)
        x[i] = saved
        let fd = (up - down) / Double(2 * eps)
        let an = Double(analytic[i])
        let err = abs(fd - an)
        worst = max(worst, err / (atol + rtol * abs(fd)))
        if !(err <= atol + rtol * abs(fd)) {
            Issue.record("\(what)[\(i)]: finite difference \(fd) vs analytic \(an)", sourceLocation: sourceLocation)
            return
        }
    }
    _ = worst
}

/// Weighted sum Σ w·y in Double: a scalar loss whose gradient w.r.t. y is w.
func weightedSum(_ y: [Float], _ w: [Float]) -> Double {
    var s = 0.0
    for i in 0..<y.count { s += Double(y[i]) * Double(w[i]) }
    return s
}

extension Array where Element == Float {
    func withPtr<R>(_ body: (UnsafePointer<Float>) -> R) -> R { withUnsafeBufferPointer { body($0.baseAddress!) } }
    mutating func withMutPtr<R>(_ body: (UnsafeMutablePointer<Float>) -> R) -> R {
        withUnsafeMutableBufferPointer { body($0.baseAddress!) }
    }
}

/// Strided sample of indices (at most `k`).
func sampleIndices(_ n: Int, _ k: Int = 40) -> [Int] {
    let step = max(1, n / k)
    return Array(Swift.stride(from: step / 2, to: n, by: step))
}
