// The shared statistics: pass@k against the binomial definition (and its edges: no correct
// sample, all correct, n − c < k, n < k, binomials that overflow a Double) and the exact Student
// t quantile against scipy.
import RLHubCore
import Testing
import TestSupport

@Suite struct PassAtKTests {
    /// 1 − C(n−c, k)/C(n, k) with the binomials as Doubles: the definition, exact for small n.
    static func byDefinition(n: Int, c: Int, k: Int) -> Double {
        func choose(_ a: Int, _ b: Int) -> Double {
            if b < 0 || b > a { return 0 }
            var r = 1.0
            for i in 0..<b { r = r * Double(a - i) / Double(i + 1) }
            return r
        }
        return 1 - choose(n - c, k) / choose(n, k)
    }

    @Test func isTheUnbiasedEstimatorForEveryKUpToN() {
        for n in 1...8 {
            for c in 0...n {
                for k in 1...n {
                    expectClose(PassAtK.estimate(n: n, correct: c, k: k), Self.byDefinition(n: n, c: c, k: k), atol: 1e-12, "n \(n) c \(c) k \(k)")
                }
            }
        }
    }

    @Test func handExamplesAndEdges() {
        expectClose(PassAtK.estimate(n: 10, correct: 3, k: 1), 0.3, atol: 1e-15, "pass@1 is c/n")
        expectClose(PassAtK.estimate(n: 5, correct: 2, k: 2), 0.7, atol: 1e-15, "1 − C(3,2)/C(5,2)")
        #expect(PassAtK.estimate(n: 10, correct: 0, k: 5) == 0, "no correct sample")
        #expect(PassAtK.estimate(n: 10, correct: 10, k: 5) == 1, "every sample correct")
        #expect(PassAtK.estimate(n: 10, correct: 3, k: 8) == 1, "n − c < k: every 8-subset has a correct sample")
        #expect(PassAtK.estimate(n: 10, correct: 3, k: 10) == 1, "k = n with a correct sample")
        // n = 200: C(200, 100) ≈ 9e58 and the ratio is fine in Doubles, but the product form does
        // not need them: one correct of 200, k = 100 → exactly half the 100-subsets contain it.
        expectClose(PassAtK.estimate(n: 200, correct: 1, k: 100), 0.5, atol: 1e-14, "pass@100 of 200 with one correct")
    }

    /// n < k (fewer samples than k): no unbiased estimate exists; the estimate is pass@n.
    @Test func fewerSamplesThanKIsPassAtN() {
        for n in 1...4 {
            for c in 0...n {
                for k in (n + 1)...(n + 3) {
                    #expect(PassAtK.estimate(n: n, correct: c, k: k) == PassAtK.estimate(n: n, correct: c, k: n), "n \(n) c \(c) k \(k)")
                    #expect(PassAtK.estimate(n: n, correct: c, k: k) == (c > 0 ? 1 : 0), "n \(n) c \(c) k \(k)")
                }
            }
        }
    }
}

@Suite struct StudentTTests {
    @Test(arguments: [
        // scipy.stats.t.ppf(p, df), scipy 1.17.1
        (0.975, 1.0, 12.706204736174694), (0.975, 2.0, 4.302652729749462), (0.975, 4.0, 2.7764451051977934),
        (0.975, 9.0, 2.262157162798205), (0.975, 29.0, 2.045229642132703), (0.975, 200.0, 1.9718962236339088),
        (0.95, 3.0, 2.3533634348018233), (0.995, 7.0, 3.4994832973504924), (0.025, 5.0, -2.5705818356363155),
    ] as [(Double, Double, Double)])
    func quantileMatchesScipy(p: Double, df: Double, expected: Double) {
        expectClose(StudentT.quantile(p, df: df), expected, atol: 0, rtol: 1e-11, "t.ppf(\(p), \(df))")
    }

    /// The quantile inverts the CDF, and the CDF is symmetric: P(T ≤ −t) = 1 − P(T ≤ t).
    @Test func quantileInvertsTheCDF() {
        for df in [1.0, 3.0, 30.0, 1000.0] {
            for p in [0.6, 0.9, 0.975, 0.999] {
                let t = StudentT.quantile(p, df: df)
                expectClose(StudentT.cdf(t, df: df), p, atol: 1e-12, "cdf(quantile(\(p))), df \(df)")
                expectClose(StudentT.cdf(-t, df: df), 1 - p, atol: 1e-12, "symmetry, df \(df)")
            }
        }
    }
}
