// KL estimators and the entropy bonus against algorithms.md §13.4, §13.8 and §14 items 5, 10.
import RLAlgorithms
import Foundation
import TestSupport
import Testing

@Suite("KL and entropy")
struct KLEntropyTests {
    // §13.4: k3 values, token means of k1/k2/k3, β·agg gradients (token-mean, β = 0.001).
    @Test func section13_4Estimators() {
        let batch = Fixture.batch(reference: true)
        let k3 = Fixture.mask.indices.map { k in
            Fixture.mask[k] != 0 ? KLEstimator.k3.evaluate(logprob: Fixture.lp[k], reference: Fixture.lpRef[k]).value : 0
        }
        expectClose(
            k3,
            padded(
                [[0.04081822, 0.01873075, 0.02140276], [0.00127110, 0.22211880, 0.07032005, 0.36787944, 0.00483742],
                 [0.00517092, 0.00483742], [0.04081822, 0.03402542, 0.02880078, 0.09182470]], columns: 5), atol: 1e-8)
        for (estimator, mean) in [(KLEstimator.k1, 0.0750000000), (.k2, 0.0749107143), (.k3, 0.0680611420)] {
            var c = Fixture.lossConfig(.tokenMean)
            c.klCoef = 0.001
            c.klEstimator = estimator
            let zeroA = [Double](repeating: 0, count: 20)
            let r = PolicyObjective.evaluate(batch, advantages: zeroA, config: c)
            expectClose(r.metrics["kl/ref"] ?? -1, mean, atol: 1e-10, "\(estimator) mean")
            expectClose(r.loss, 0.001 * mean, atol: 1e-12, "\(estimator) loss")
            let x = zip(Fixture.lp, Fixture.lpRef).map { $0 - $1 }
            let expected = Fixture.mask.indices.map { k -> Double in
                guard Fixture.mask[k] != 0 else { return 0 }
                switch estimator {
                case .k1: return 0.001 / 14
                case .k2: return 0.001 * x[k] / 14
                default: return 0.001 * (1 - exp(-x[k])) / 14
                }
            }
            expectClose(r.dLogprobs, expected, atol: 1e-15, "\(estimator) gradient")
            let fd = finiteDifference(Fixture.lp, mask: Fixture.mask) {
                PolicyObjective.evaluate(batch.replacingLogprobs($0), advantages: zeroA, config: c).loss
            }
            expectClose(r.dLogprobs, fd, atol: 1e-10, "\(estimator) finite differences")
        }
        // Spot values of the §13.4 k3 gradient table.
        var c = Fixture.lossConfig(.tokenMean)
        c.klCoef = 0.001
        c.klEstimator = .k3
        let r = PolicyObjective.evaluate(batch, advantages: [Double](repeating: 0, count: 20), config: c)
        expectClose([r.dLogprobs[0], r.dLogprobs[6], r.dLogprobs[18]], [1.8513e-05, -5.8723e-05, -3.5130e-05], atol: 1e-9)
    }

    // §5.1 / §14.5: k3 clamps the log at ±20 and the value at 10; gradient 0 where a clamp is active.
    @Test func k3Clamps() {
        let far = KLEstimator.k3.evaluate(logprob: 0, reference: 25)  // u = 25 → 20
        #expect(far.gradient == 0 && far.value == 10)
        let farBelow = KLEstimator.k3.evaluate(logprob: 0, reference: -25)  // u = −25 → −20: e^−20 + 19 → 10
        #expect(farBelow.gradient == 0 && farBelow.value == 10)
        let valueClamp = KLEstimator.k3.evaluate(logprob: 0, reference: 3)  // e³ − 4 = 16.1 > 10
        #expect(valueClamp.value == 10 && valueClamp.gradient == 0)
        let inside = KLEstimator.k3.evaluate(logprob: -1, reference: -1.5)
        expectClose(inside.gradient, 1 - exp(-0.5), atol: 1e-15)
        let absolute = KLEstimator.abs.evaluate(logprob: 1, reference: 2)
        #expect(absolute.value == 1 && absolute.gradient == -1)
        // verl names are accepted.
        #expect((try? KLEstimator.parse("low_var_kl", key: "kl_estimator")) == .k3)
        #expect((try? KLEstimator.parse("mse", key: "kl_estimator")) == .k2)
    }

    // Adaptive KL controller (§5.3).
    @Test func adaptiveController() {
        var controller = AdaptiveKLController(initialCoef: 0.05, target: 0.1, horizon: 10_000)
        controller.update(currentKL: 0.2, steps: 256)
        expectClose(controller.coef, 0.05 * (1 + 0.2 * 256 / 10_000), atol: 1e-15)
        controller.update(currentKL: 0.1, steps: 256)
        expectClose(controller.coef, 0.05 * (1 + 0.2 * 256 / 10_000), atol: 1e-15)
    }

    // §13.8: entropy, ∂H/∂z, ∂L/∂z = c_H·w·p(log p + H), log-prob gradient; finite differences.
    @Test func section13_8Entropy() {
        let z: [Double] = [2.0, 1.0, 0.5, -1.0]
        let e = EntropyBonus.entropy(logits: z)
        expectClose(e.probabilities, [0.60946004, 0.22420782, 0.13598892, 0.03034323], atol: 1e-8)
        expectClose(e.entropy, 1.0144027755, atol: 1e-10)
        expectClose(e.dEntropyDLogits, [-0.31644438, 0.10779444, 0.13337509, 0.07527485], atol: 1e-8)
        expectClose(e.dEntropyDLogits, finiteDifference(z) { EntropyBonus.entropy(logits: $0).entropy }, atol: 1e-9)
        expectClose(
            EntropyBonus.logprobGradient(logits: z, target: 1), [-0.60946004, 0.77579218, -0.13598892, -0.03034323], atol: 1e-8)
        // The objective's ∂L/∂H with c_H = 0.01 and token-mean weight 1/14, chained into the logits.
        var c = Fixture.lossConfig(.tokenMean)
        c.entropyCoef = 0.01
        let batch = Fixture.batch().replacingLogprobs(Fixture.lp, entropies: [Double](repeating: e.entropy, count: 20))
        let r = PolicyObjective.evaluate(batch, advantages: [Double](repeating: 0, count: 20), config: c)
        let dH = r.dEntropies?[0] ?? 0
        expectClose(dH, -0.01 / 14, atol: 1e-18)
        expectClose(e.dEntropyDLogits.map { dH * $0 }, [2.26032e-4, -7.69960e-5, -9.52679e-5, -5.37677e-5], atol: 1e-9)
        #expect(r.dEntropies?[3] == 0)
        // ∂L/∂H by finite differences of the loss in H.
        let fd = finiteDifference(batch.entropies ?? [], mask: batch.mask) {
            PolicyObjective.evaluate(batch.replacingLogprobs(Fixture.lp, entropies: $0), advantages: [Double](repeating: 0, count: 20), config: c).loss
        }
        expectClose(r.dEntropies ?? [], fd, atol: 1e-12)
    }

    // §0.1 temperature: derivatives with respect to raw logits carry 1/τ.
    @Test func temperatureScaling() {
        let z: [Double] = [0.3, -1.2, 2.2, 0.0, 1.1]
        for tau in [0.5, 0.7, 2.0] {
            let e = EntropyBonus.entropy(logits: z, temperature: tau)
            let scaled = EntropyBonus.entropy(logits: z.map { $0 / tau })
            expectClose(e.entropy, scaled.entropy, atol: 1e-14)
            expectClose(e.dEntropyDLogits, scaled.dEntropyDLogits.map { $0 / tau }, atol: 1e-14)
            expectClose(e.dEntropyDLogits, finiteDifference(z) { EntropyBonus.entropy(logits: $0, temperature: tau).entropy }, atol: 1e-9)
            let g = EntropyBonus.logprobGradient(logits: z, target: 2, temperature: tau)
            let fd = finiteDifference(z) { zz in
                let p = EntropyBonus.entropy(logits: zz, temperature: tau).probabilities
                return log(p[2])
            }
            expectClose(g, fd, atol: 1e-9)
        }
    }
}
