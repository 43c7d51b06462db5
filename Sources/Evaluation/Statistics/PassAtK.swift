// rlhub — the unbiased pass@k estimator (Chen et al. 2021, "Evaluating large language models
// trained on code", §2.1 and its numerically stable numpy form).

/// Unbiased pass@k from `n ≥ k` samples of which `c` are correct.
///
///     pass@k = 1 − C(n − c, k) / C(n, k) = 1 − Π_{i = n−c+1}^{n} (1 − k / i)
///
/// The product form avoids the huge binomials; when `n − c < k` every k-subset contains a
/// correct sample and pass@k = 1.
///
/// ```swift
/// PassAtK.estimate(n: 10, correct: 3, k: 1)   // 0.3
/// PassAtK.estimate(n: 10, correct: 3, k: 8)   // 1
/// ```
public enum PassAtK {
    /// - precondition: `0 ≤ c ≤ n` and `1 ≤ k ≤ n`.
    public static func estimate(n: Int, correct c: Int, k: Int) -> Double {
        precondition(c >= 0 && c <= n, "pass@k needs 0 ≤ correct ≤ n, got correct \(c), n \(n)")
        precondition(k >= 1 && k <= n, "pass@k needs 1 ≤ k ≤ n, got k \(k), n \(n)")
        if n - c < k { return 1 }
        var product = 1.0
        for i in (n - c + 1)..<(n + 1) { product *= 1 - Double(k) / Double(i) }
        return 1 - product
    }
}
