// rlhub — means, medians, percentiles and trimmed means with NumPy's and SciPy's exact rules, so
// that point estimates match rliable's to rounding.

/// Order statistics as NumPy/SciPy compute them.
public enum Quantiles {
    /// Arithmetic mean (left to right).
    /// - precondition: `x` is not empty.
    public static func mean<C: Collection<Double>>(_ x: C) -> Double {
        precondition(!x.isEmpty, "mean of an empty sample")
        var s = 0.0
        for v in x { s += v }
        return s / Double(x.count)
    }

    /// `numpy.median`: the middle value, or the mean of the two middle values when `n` is even.
    /// - precondition: `x` is not empty.
    public static func median(_ x: [Double]) -> Double {
        precondition(!x.isEmpty, "median of an empty sample")
        let s = x.sorted()
        let n = s.count
        return n % 2 == 1 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2
    }

    /// `numpy.percentile(x, q)` with the default `linear` method, on already sorted values.
    ///
    /// The value at the virtual index `h = (n − 1)·q/100` interpolated between its neighbours
    /// `s[⌊h⌋]` and `s[⌊h⌋ + 1]` (NumPy's `_lerp`, which interpolates from the nearer end).
    /// - precondition: `sorted` is sorted and not empty; `0 ≤ q ≤ 100`.
    public static func percentile(sorted s: [Double], _ q: Double) -> Double {
        precondition(!s.isEmpty, "percentile of an empty sample")
        precondition(q >= 0 && q <= 100, "percentile q must be in [0, 100], got \(q)")
        let h = Double(s.count - 1) * (q / 100)
        let lo = min(Int(h.rounded(.down)), s.count - 1)
        let hi = min(lo + 1, s.count - 1)
        let t = h - Double(lo)
        let a = s[lo], b = s[hi]
        let d = b - a
        return t >= 0.5 ? b - d * (1 - t) : a + d * t
    }

    /// `scipy.stats.trim_mean(x, p, axis=None)`: the mean after cutting `g = int(p·n)` values
    /// (rounded toward zero) from each end of the sorted sample.
    ///
    ///     g = ⌊p·n⌋,   trim_mean = (1 / (n − 2g)) · Σ_{i=g}^{n−g−1} x_(i)
    ///
    /// No fractional weights: with p = 0.25, n = 5 drops one value at each end (mean of 3),
    /// n = 6 drops one (mean of 4), n = 3 drops none (the plain mean).
    /// - precondition: `x` is not empty; `0 ≤ p < 0.5`.
    public static func trimMean(_ x: [Double], proportionToCut p: Double) -> Double {
        precondition(!x.isEmpty, "trimmed mean of an empty sample")
        precondition(p >= 0 && p < 0.5, "proportionToCut must be in [0, 0.5), got \(p)")
        let n = x.count
        let g = Int(p * Double(n))
        let s = x.sorted()
        return mean(s[g..<(n - g)])
    }
}
