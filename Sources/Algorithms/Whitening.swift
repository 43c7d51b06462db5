// rlhub — masked whitening of token-level advantages (verl `masked_whiten`), algorithms.md §2.5.
//
//   μ   = Σ m·X / N
//   var = Σ m·(X − μ)² / (N − 1)                       unbiased (verl: biased var · N/(N−1))
//   X̂   = (X − μ) · (var + 1e-8)^(−1/2)                 on loss tokens; 0 where m = 0
//
// Token-weighted (long rows count more). Library rule: N ≤ 1 or var = 0 → X̂ = X − μ (verl raises
// for N = 1). Statistics in Float64.
import Foundation

/// Batch-level whitening over loss tokens, used by REINFORCE++, REINFORCE++-baseline and GAE.
public enum Whitening {
    /// The ε added to the variance (verl `masked_whiten`).
    public static let varianceEpsilon = 1e-8

    /// `(X − μ)/sqrt(var_unbiased + 1e-8)` on m = 1 positions, 0 elsewhere.
    /// - precondition: `x.count == mask.count`.
    public static func maskedWhiten(_ x: [Double], mask: [Double]) -> [Double] {
        precondition(x.count == mask.count, "maskedWhiten: \(x.count) values for \(mask.count) mask entries")
        var n = 0.0, sum = 0.0
        for k in x.indices where mask[k] != 0 {
            n += 1
            sum += x[k]
        }
        guard n > 0 else { return [Double](repeating: 0, count: x.count) }
        let mean = sum / n
        var ss = 0.0
        for k in x.indices where mask[k] != 0 { ss += (x[k] - mean) * (x[k] - mean) }
        let variance = n > 1 ? ss / (n - 1) : 0
        let scale = n > 1 && variance > 0 ? 1 / (variance + varianceEpsilon).squareRoot() : 1
        return x.indices.map { mask[$0] != 0 ? (x[$0] - mean) * scale : 0 }
    }
}
