// rlhub — the unbiased pass@k estimator (Chen et al. 2021, "Evaluating large language models
// trained on code", §2.1 and its numerically stable numpy form), the one both the held-out
// evaluation (Generator) and the report statistics (Evaluation) use.

/// pass@k from `n` samples of a problem of which `c` are correct.
///
/// For `n ≥ k` it is Chen et al.'s unbiased estimator of P(at least one of k samples is correct):
///
///     pass@k = 1 − C(n − c, k) / C(n, k) = 1 − Π_{i = n−c+1}^{n} (1 − k / i)
///
/// The product form avoids the huge binomials (C(200, 100) overflows a Double); when `n − c < k`
/// every k-subset contains a correct sample and pass@k = 1; when `c = 0` it is 0.
///
/// With fewer samples than k (`n < k`: a problem whose episodes were cut short) no unbiased
/// estimate exists (C(n, k) = 0). It is then pass@n — 1 if any of the n samples is correct, else
/// 0 — the estimate from every sample there is, which can only understate pass@k.
///
/// ```swift
/// PassAtK.estimate(n: 10, correct: 3, k: 1)   // 0.3
/// PassAtK.estimate(n: 10, correct: 3, k: 8)   // 1
/// PassAtK.estimate(n: 3, correct: 0, k: 5)    // 0 (pass@3)
/// ```
public enum PassAtK {
    /// - precondition: `n ≥ 1`, `0 ≤ c ≤ n` and `k ≥ 1`.
    public static func estimate(n: Int, correct c: Int, k: Int) -> Double {
        precondition(n >= 1, "pass@k needs at least one sample, got n \(n)")
        precondition(c >= 0 && c <= n, "pass@k needs 0 ≤ correct ≤ n, got correct \(c), n \(n)")
        precondition(k >= 1, "pass@k needs k ≥ 1, got k \(k)")
        let k = min(k, n)  // n < k: pass@n, see above
        if n - c < k { return 1 }
        var product = 1.0
        for i in (n - c + 1)..<(n + 1) { product *= 1 - Double(k) / Double(i) }
        return 1 - product
    }
}
