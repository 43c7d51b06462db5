// Value loss, DPO family and SFT against algorithms.md §13.7, §13.9 and §14 items 9, 11.
import RLAlgorithms
import Foundation
import TestSupport
import Testing

@Suite("Value, DPO, SFT")
struct ValueDPOSFTTests {
    func valueBatch(_ values: [Double]) -> PolicyBatch {
        try! PolicyBatch(rows: 1, columns: 5, mask: [1, 1, 1, 1, 0], logprobs: [-1, -1, -1, -1, .nan], values: values + [3],
                         oldValues: [0.4, 0.3, 0.0, 0.5, 0], rewards: [0], groupIDs: [0])
    }

    // §13.7 value loss: c_v = 0.5, token-mean over 4 tokens.
    @Test func section13_7ValueLoss() {
        let batch = valueBatch([1.0, 0.2, -0.9, 0.55])
        let norm = AggregationNormalizer(batch, lengthNorm: 5)
        let returns: [Double] = [1.2, 0.0, -1.0, 0.5, 0]
        let v = ValueLoss.evaluate(
            values: batch.values ?? [], oldValues: batch.oldValues ?? [], returns: returns, batch: batch, clip: 0.5,
            aggregation: .tokenMean, normalizer: norm)
        expectClose(v.loss, 0.0478125, atol: 1e-12)
        expectClose(v.dValues, [0, 0.05, 0, 0.0125, 0], atol: 1e-12)
        #expect(v.dValues[0] == 0 && v.dValues[2] == 0 && v.dValues[4] == 0)
        expectClose(v.clipFraction, 0.5, atol: 1e-15)
        // Inside the objective: vf_coef·L_v and vf_coef·∂L_v/∂V; finite differences away from the kinks.
        var c = Fixture.lossConfig(.tokenMean)
        c.valueClip = 0.5
        c.vfCoef = 0.1
        let r = PolicyObjective.evaluate(batch, advantages: [0, 0, 0, 0, 0], returns: returns, config: c)
        expectClose(r.metrics["loss/value"] ?? -1, 0.00478125, atol: 1e-12)
        expectClose(r.dValues ?? [], [0, 0.005, 0, 0.00125, 0], atol: 1e-12)
        let fd = finiteDifference(batch.values ?? [], mask: batch.mask) {
            PolicyObjective.evaluate(batch.replacingValues($0), advantages: [0, 0, 0, 0, 0], returns: returns, config: c).loss
        }
        expectClose(r.dValues ?? [], fd, atol: 1e-9)
    }

    // §13.9: every variant's loss and ∂ℓ/∂Δ, implicit rewards, finite differences.
    @Test func section13_9DPO() {
        let pair = DPOPair(policyChosen: -12, policyRejected: -15, referenceChosen: -13, referenceRejected: -14.5,
                           chosenTokens: 10, rejectedTokens: 12)
        let sigmoid = DPO.evaluate(pairs: [pair], beta: 0.1, variant: .sigmoid)
        expectClose(sigmoid.loss, 0.6209570478, atol: 1e-10)
        expectClose(sigmoid.dPolicyChosen[0], -0.0462570155, atol: 1e-10)
        expectClose(sigmoid.dPolicyRejected[0], 0.0462570155, atol: 1e-10)
        expectClose(sigmoid.metrics["rewards/chosen"] ?? 0, 0.1, atol: 1e-12)
        expectClose(sigmoid.metrics["rewards/rejected"] ?? 0, -0.05, atol: 1e-12)
        #expect(sigmoid.metrics["rewards/accuracy"] == 1)
        let cdpo = DPO.evaluate(pairs: [pair], beta: 0.1, variant: .cdpo, labelSmoothing: 0.1)
        expectClose(cdpo.loss, 0.6359570478, atol: 1e-10)
        expectClose(cdpo.dPolicyChosen[0], -0.0362570155, atol: 1e-10)
        let robust = DPO.evaluate(pairs: [pair], beta: 0.1, variant: .robust, labelSmoothing: 0.1)
        expectClose(robust.loss, 0.6022070478, atol: 1e-10)
        let ipo = DPO.evaluate(pairs: [pair], beta: 0.1, variant: .ipo)
        expectClose(ipo.loss, 23.6034027778, atol: 1e-9)
        expectClose(ipo.dPolicyChosen[0], -0.9716666667, atol: 1e-10)
        expectClose(ipo.dPolicyRejected[0], 0.8097222222, atol: 1e-10)
        // Gradients against finite differences, averaged over P = 2 pairs.
        let other = DPOPair(policyChosen: -3, policyRejected: -2, referenceChosen: -2.5, referenceRejected: -2.2,
                            chosenTokens: 4, rejectedTokens: 3)
        for (variant, eps) in [(DPOVariant.sigmoid, 0.0), (.cdpo, 0.1), (.robust, 0.2), (.ipo, 0)] {
            let r = DPO.evaluate(pairs: [pair, other], beta: 0.1, variant: variant, labelSmoothing: eps)
            let x = [pair.policyChosen, pair.policyRejected, other.policyChosen, other.policyRejected]
            let fd = finiteDifference(x) { v in
                var a = pair, b = other
                (a.policyChosen, a.policyRejected, b.policyChosen, b.policyRejected) = (v[0], v[1], v[2], v[3])
                return DPO.evaluate(pairs: [a, b], beta: 0.1, variant: variant, labelSmoothing: eps).loss
            }
            expectClose([r.dPolicyChosen[0], r.dPolicyRejected[0], r.dPolicyChosen[1], r.dPolicyRejected[1]], fd, atol: 1e-8, variant.rawValue)
        }
    }

    // §14.11: softplus stability at |βΔ| = 1000.
    @Test func dpoStableAtLargeMargins() {
        for delta in [10_000.0, -10_000.0] {
            let p = DPOPair(policyChosen: delta, policyRejected: 0, referenceChosen: 0, referenceRejected: 0)
            for variant in [DPOVariant.sigmoid, .cdpo, .robust] {
                let r = DPO.evaluate(pairs: [p], beta: 0.1, variant: variant, labelSmoothing: 0.1)
                #expect(r.loss.isFinite && r.dPolicyChosen[0].isFinite && r.dPolicyRejected[0].isFinite)
            }
            let s = DPO.evaluate(pairs: [p], beta: 0.1, variant: .sigmoid)
            expectClose(s.loss, delta > 0 ? 0 : 1000, atol: 1e-9)
            expectClose(s.dPolicyChosen[0], delta > 0 ? 0 : -0.1, atol: 1e-12)
        }
        #expect(DPO.softplus(-1000) == 0 && DPO.softplus(1000) == 1000)
        #expect(DPO.sigmoid(-1000) == 0 && DPO.sigmoid(1000) == 1)
    }

    // §8.1 SFT: −m/N, global N over micro-batches, empty → skipped.
    @Test func sftLoss() {
        let lp: [Double] = [-1, -2, .nan, -0.5]
        let mask: [Double] = [1, 1, 0, 1]
        let r = SFT.evaluate(logprobs: lp, mask: mask)
        expectClose(r.loss, 3.5 / 3, atol: 1e-15)
        let third: Double = -1.0 / 3
        #expect(r.dLogprobs == [third, third, 0, third])
        let fd = finiteDifference([-1, -2, 0, -0.5], mask: mask) { SFT.evaluate(logprobs: $0, mask: mask).loss }
        expectClose(r.dLogprobs, fd, atol: 1e-9)
        let half = SFT.evaluate(logprobs: [-1, -2], mask: [1, 1], totalTokens: 4)
        #expect(half.dLogprobs == [-0.25, -0.25])
        let empty = SFT.evaluate(logprobs: [.nan], mask: [0])
        #expect(empty.skipped && empty.loss == 0 && empty.dLogprobs == [0])
    }
}
