// Advantage estimators against algorithms.md §13.2, §13.7, §13.10 and the §14 items 1, 2, 8.
import RLAlgorithms
import Foundation
import TestSupport
import Testing

@Suite("Advantages")
struct AdvantageTests {
    /// Per-row values of a broadcast advantage array (value at column 0 of each row).
    func perRow(_ a: [Double]) -> [Double] { (0..<Fixture.B).map { a[$0 * Fixture.T] } }

    func config(_ estimator: AdvantageEstimator, stdEps: Double = 1e-6, scaling: RewardScaling = .group) -> AlgorithmConfig {
        var c = AlgorithmConfig()
        c.estimator = estimator
        c.stdEps = stdEps
        c.scaleRewards = scaling
        return c
    }

    // §13.2 table, all estimators.
    @Test func section13_2GroupEstimators() {
        let batch = Fixture.batch()
        let grpo = Advantages.compute(for: batch, config: config(.grpo))
        expectClose(perRow(grpo.values), [1.4999970000, -0.4999990000, -0.4999990000, -0.4999990000], atol: 1e-9, "GRPO ε 1e-6")
        let trl = Advantages.compute(for: batch, config: config(.grpo, stdEps: 1e-4))
        expectClose(perRow(trl.values), [1.4997000600, -0.4999000200, -0.4999000200, -0.4999000200], atol: 1e-9, "GRPO ε 1e-4")
        let dr = Advantages.compute(for: batch, config: config(.drGRPO))
        expectClose(perRow(dr.values), [0.75, -0.25, -0.25, -0.25], atol: 1e-12, "Dr. GRPO")
        let none = Advantages.compute(for: batch, config: config(.grpo, scaling: .none))
        #expect(none.values == dr.values, "scale_rewards=none is Dr. GRPO")
        let rloo = Advantages.compute(for: batch, config: config(.rloo))
        expectClose(perRow(rloo.values), [1.0, -1.0 / 3, -1.0 / 3, -1.0 / 3], atol: 1e-12, "RLOO")
        // Masked positions get A = 0 exactly.
        for k in batch.mask.indices where batch.mask[k] == 0 { #expect(grpo.values[k] == 0) }
    }

    // §13.2: REINFORCE++-baseline and REINFORCE++ (γ = 1, no KL) whiten to the same numbers.
    @Test func section13_2ReinforcePlusPlus() {
        let expected = padded(
            Fixture.lengths.enumerated().map { i, n in [Double](repeating: i == 0 ? 1.8451996421 : -0.5032362661, count: n) },
            columns: Fixture.T)
        for estimator in [AdvantageEstimator.reinforcePlusPlusBaseline, .reinforcePlusPlus] {
            let a = Advantages.compute(for: Fixture.batch(), config: config(estimator))
            expectClose(a.values, expected, atol: 1e-9, estimator.rawValue)
        }
        // Whitening check of §13.2: token mean of s − μ is −0.5/14, unbiased variance 2.357142857/13.
        let centred = padded(Fixture.lengths.enumerated().map { i, n in [Double](repeating: i == 0 ? 0.75 : -0.25, count: n) }, columns: 5)
        let w = Whitening.maskedWhiten(centred, mask: Fixture.mask)
        let mean = -0.5 / 14, std = (2.357142857142857 / 13 + 1e-8).squareRoot()
        expectClose(w[0], (0.75 - mean) / std, atol: 1e-12)
    }

    // §14.2 / §13.10: zero variance → exact zeros (float32 7×0.7 too), counted; singleton → 0 + counted.
    @Test func zeroVarianceAndSingletonGroups() {
        let seven = [Double](repeating: Double(Float(0.7)), count: 7)
        let g = GRPO.advantages(scores: seven, groupIDs: [Int](repeating: 3, count: 7), scaling: .group, stdEps: 1e-6)
        #expect(g.perRow == [Double](repeating: 0, count: 7))
        #expect(g.zeroStdGroups == 1)
        for scores in [[1.0, 1, 1, 1], [0.0, 0, 0, 0]] {
            #expect(GRPO.advantages(scores: scores, groupIDs: [1, 1, 1, 1], scaling: .group, stdEps: 1e-6).perRow == [0, 0, 0, 0])
            #expect(RLOO.advantages(scores: scores, groupIDs: [1, 1, 1, 1]).perRow == [0, 0, 0, 0])
        }
        // Mixed: group 5 is a singleton, group 9 has zero variance, group 2 is normal.
        let mixed = GRPO.advantages(scores: [1, 0.5, 0.5, 0, 1], groupIDs: [5, 9, 9, 2, 2], scaling: .group, stdEps: 1e-6)
        #expect(mixed.perRow[0] == 0 && mixed.perRow[1] == 0 && mixed.perRow[2] == 0)
        #expect(mixed.singletonGroups == 1 && mixed.zeroStdGroups == 1 && mixed.groups == 3)
        expectClose(mixed.perRow[3], -0.5 / (0.5.squareRoot() + 1e-6), atol: 1e-12)
        // Metrics through the batch API.
        let batch = try! PolicyBatch(
            rows: 4, columns: 1, mask: [1, 1, 1, 1], logprobs: [0, 0, 0, 0], rewards: [1, 1, 0, 1], groupIDs: [0, 0, 1, 2])
        let adv = Advantages.compute(for: batch, config: config(.grpo))
        #expect(adv.values == [0, 0, 0, 0])
        #expect(adv.metrics["adv/zero_std_groups"] == 1)
        #expect(adv.metrics["adv/singleton_groups"] == 2)
        #expect(adv.metrics["reward/frac_zero_std"] == 1)
    }

    // §11 / §13.10 near-degenerate group: no special case.
    @Test func nearDegenerateGroup() {
        let g = GRPO.advantages(scores: [1, 1, 1, 0.999], groupIDs: [0, 0, 0, 0], scaling: .group, stdEps: 1e-6)
        expectClose(g.perRow, [0.499002, 0.499002, 0.499002, -1.49700599], atol: 1e-6)
    }

    // TRL scale_rewards = batch: μ per group, σ of all scores.
    @Test func batchStdScaling() {
        let scores: [Double] = [1, 0, 1, 1, 0, 0]
        let g = GRPO.advantages(scores: scores, groupIDs: [0, 0, 0, 1, 1, 1], scaling: .batch, stdEps: 1e-6)
        let sigma = (1.5 / 5).squareRoot()
        let centred: [Double] = [1.0 / 3, -2.0 / 3, 1.0 / 3, 2.0 / 3, -1.0 / 3, -1.0 / 3]
        let expected: [Double] = centred.map { (c: Double) -> Double in c / (sigma + 1e-6) }
        expectClose(g.perRow, expected, atol: 1e-12)
    }

    // Overlong-filtered rows (m = 0) stay in their group's statistics (§2, §11).
    @Test func maskedRowsStayInGroupStatistics() {
        var mask = Fixture.mask
        for t in 0..<5 { mask[5 + t] = 0 }  // row 1 filtered
        let batch = Fixture.batch().replacingMask(mask)
        let a = Advantages.compute(for: batch, config: config(.grpo))
        #expect(perRow(a.values)[0] == Advantages.compute(for: Fixture.batch(), config: config(.grpo)).values[0])
        #expect(a.values[5..<10].allSatisfy { $0 == 0 })
    }

    // KL in the reward (§5.3): s_i = R_i − β Σ_t m·k1(lp_old, lp_ref).
    @Test func klInRewardScores() {
        var c = config(.rloo)
        c.klCoef = 0.05
        c.klInReward = true
        c.klEstimator = .k1
        let batch = Fixture.batch(reference: true)
        let a = Advantages.compute(for: batch, config: c)
        let expected: [Double] = (0..<4).map { (i: Int) -> Double in
            var kl = 0.0
            for (old, ref) in zip(Fixture.lpOldRows[i], Fixture.lpRefRows[i]) { kl += old - ref }
            return Fixture.rewards[i] - 0.05 * kl
        }
        expectClose(a.scores, expected, atol: 1e-12)
        let mu = expected.reduce(0, +) / 4
        expectClose(perRow(a.values), expected.map { 4.0 / 3 * ($0 - mu) }, atol: 1e-12)
        #expect(a.metrics["kl/in_reward"] != nil)
    }

    // §2.5 library rule: the reverse cumulative sum skips masked positions without resetting.
    @Test func reinforceReturnsCarryThroughObservationTokens() {
        let r: [Double] = [0, 0, 0, 0, 1, 0]
        let m: [Double] = [1, 1, 0, 1, 1, 0]
        let ret = ReinforcePlusPlus.returns(rewards: r, mask: m, rows: 1, columns: 6, gamma: 0.9)
        expectClose(ret, [0.9 * 0.9 * 0.9, 0.9 * 0.9, 0, 0.9, 1, 0], atol: 1e-15)
    }

    // §13.7 GAE, single turn and multi-turn with an observation token; §14.8 invariance.
    @Test func section13_7GAE() {
        let single = GAE.advantagesAndReturns(
            rewards: [0, 0, 0, 1, 0], values: [0.5, 0.6, 0.7, 0.8, 0], mask: [1, 1, 1, 1, 0], rows: 1, columns: 5,
            gamma: 1, lambda: 0.95)
        expectClose(single.advantages, [0.456725, 0.3755, 0.29, 0.2, 0], atol: 1e-12)
        expectClose(single.returns, [0.956725, 0.9755, 0.99, 1.0, 0], atol: 1e-12)
        let mc = GAE.advantagesAndReturns(
            rewards: [0, 0, 0, 1, 0], values: [0.5, 0.6, 0.7, 0.8, 0], mask: [1, 1, 1, 1, 0], rows: 1, columns: 5,
            gamma: 1, lambda: 1)
        expectClose(mc.advantages, [0.5, 0.4, 0.3, 0.2, 0], atol: 1e-12)
        expectClose(mc.returns, [1, 1, 1, 1, 0], atol: 1e-12)

        let m: [Double] = [1, 1, 0, 1, 1]
        let multi = GAE.advantagesAndReturns(
            rewards: [0, 0, 0, 0, 1], values: [0.5, 0.6, 9.9, 0.7, 0.8], mask: m, rows: 1, columns: 5, gamma: 1, lambda: 0.95)
        expectClose(multi.advantages, [0.456725, 0.3755, 0, 0.29, 0.2], atol: 1e-12)
        expectClose(multi.returns, [0.956725, 0.9755, 0, 0.99, 1.0], atol: 1e-12)
        let discounted = GAE.advantagesAndReturns(
            rewards: [0, 0, 0, 0, 1], values: [0.5, 0.6, 9.9, 0.7, 0.8], mask: m, rows: 1, columns: 5, gamma: 0.9, lambda: 0.95)
        expectClose(discounted.advantages, [0.20527578, 0.193305, 0, 0.191, 0.2], atol: 1e-8)
        expectClose(discounted.returns, [0.70527578, 0.793305, 0, 0.891, 1.0], atol: 1e-8)
        // Values at masked positions never change any output.
        for junk in [-50.0, 0, 1e6] {
            let other = GAE.advantagesAndReturns(
                rewards: [0, 0, 0, 0, 1], values: [0.5, 0.6, junk, 0.7, 0.8], mask: m, rows: 1, columns: 5, gamma: 0.9, lambda: 0.95)
            #expect(other.advantages == discounted.advantages && other.returns == discounted.returns)
        }
    }

    // §14.8: through the estimator API, returns are computed before whitening; A is whitened.
    @Test func gaeReturnsBeforeWhitening() {
        let v: [Double] = [0.5, 0.6, 0.7, 0.8, 0, 0.1, 0.2, 0.3, 0.4, 0.5]
        let batch = try! PolicyBatch(
            rows: 2, columns: 5, mask: [1, 1, 1, 1, 0, 1, 1, 1, 1, 1], logprobs: [Double](repeating: -1, count: 10),
            oldValues: v, rewards: [1, 0], groupIDs: [0, 1])
        var c = config(.gae)
        c.gamma = 1
        c.lam = 0.95
        let a = Advantages.compute(for: batch, config: c)
        let raw = GAE.advantagesAndReturns(
            rewards: Advantages.tokenRewards(for: batch, config: c), values: v, mask: batch.mask, rows: 2, columns: 5,
            gamma: 1, lambda: 0.95)
        #expect(a.returns == raw.returns)
        expectClose(a.values, Whitening.maskedWhiten(raw.advantages, mask: batch.mask), atol: 0)
        expectClose(a.returns?[0] ?? 0, 0.956725, atol: 1e-12)
    }

    // §13.7 RAGEN bi-level GAE (turn ends at 4 and 9 of the loss tokens; an observation token
    // separates the turns here because turn ends are the last tokens of runs of m = 1).
    @Test func section13_7BiLevelGAE() {
        let obs = 5
        var mask = [Double](repeating: 1, count: 11)
        mask[obs] = 0
        let lossValues = (1...10).map { Double($0) / 10 }
        var values = lossValues
        values.insert(99, at: obs)
        var rewards = [Double](repeating: 0, count: 11)
        rewards[4] = 1
        rewards[10] = 1
        let r = GAE.biLevelAdvantagesAndReturns(
            rewards: rewards, values: values, mask: mask, rows: 1, columns: 11, gamma: 1, lambda: 1, turnGamma: 0.95)
        var adv = r.advantages, ret = r.returns
        adv.remove(at: obs)
        ret.remove(at: obs)
        expectClose(adv, [1.85, 1.75, 1.65, 1.55, 1.45, 0.4, 0.3, 0.2, 0.1, 0.0], atol: 1e-12)
        expectClose(ret, [1.95, 1.95, 1.95, 1.95, 1.95, 1, 1, 1, 1, 1], atol: 1e-12)
        // Through the estimator: R on the last token, the turn reward as a token reward, whitened.
        let batch = try! PolicyBatch(
            rows: 1, columns: 11, mask: mask, logprobs: [Double](repeating: -1, count: 11), oldValues: values,
            rewards: [1], tokenRewards: (0..<11).map { $0 == 4 ? 1 : 0 }, groupIDs: [0])
        var c = config(.gae)
        c.biLevelGAE = true
        c.gamma = 1
        c.lam = 1
        c.turnGamma = 0.95
        var a = Advantages.compute(for: batch, config: c).values
        a.remove(at: obs)
        expectClose(
            a,
            [1.18799839, 1.05956613, 0.93113388, 0.80270162, 0.67426936, -0.67426936, -0.80270162, -0.93113388,
             -1.05956613, -1.18799839], atol: 1e-8)
    }

    // §10: the trainer's turn rewards land at their turn ends and leave the score R = Σ_k r_k; with
    // the turns of §13.7 (ends at 4 and 10, rewards 1 and 1, R = 2) bi-level GAE gives §13.7's
    // advantages. A row whose last turn is masked (overlong filter) keeps R where it is.
    @Test func turnRewardsSitAtTurnEnds() {
        let obs = 5
        var mask = [Double](repeating: 1, count: 11)
        mask[obs] = 0
        let extra = TurnRewards.extraTokenRewards(turnEnds: [[4, 10]], turnRewards: [[1, 1]], mask: mask, rows: 1, columns: 11)
        #expect(extra == (0..<11).map { $0 == 4 ? 1 : ($0 == 10 ? -1 : 0) })
        var values = (1...10).map { Double($0) / 10 }
        values.insert(99, at: obs)
        let batch = try! PolicyBatch(
            rows: 1, columns: 11, mask: mask, logprobs: [Double](repeating: -1, count: 11), oldValues: values,
            rewards: [2], tokenRewards: extra, groupIDs: [0])
        var c = config(.gae)
        (c.biLevelGAE, c.gamma, c.lam, c.turnGamma) = (true, 1, 1, 0.95)
        let r = Advantages.tokenRewards(for: batch, config: c)
        #expect(r[4] == 1 && r[10] == 1 && r.reduce(0, +) == 2)
        #expect(Advantages.scores(for: batch, config: c) == [2])
        var a = Advantages.compute(for: batch, config: c).values
        a.remove(at: obs)
        expectClose(
            a,
            [1.18799839, 1.05956613, 0.93113388, 0.80270162, 0.67426936, -0.67426936, -0.80270162, -0.93113388,
             -1.05956613, -1.18799839], atol: 1e-8)
        let masked = TurnRewards.extraTokenRewards(
            turnEnds: [[4, 10]], turnRewards: [[1, 1]], mask: [Double](repeating: 0, count: 11), rows: 1, columns: 11)
        #expect(masked.allSatisfy { $0 == 0 })
    }

    // ReMax (optional): Ret − b.
    @Test func remaxBaseline() {
        let batch = try! PolicyBatch(
            rows: 2, columns: 3, mask: [1, 1, 0, 1, 1, 1], logprobs: [Double](repeating: -1, count: 6), rewards: [1, 0],
            groupIDs: [0, 1])
        let a = Advantages.compute(for: batch, config: config(.remax), greedyRewards: [0.5, 0.5])
        #expect(a.values == [0.5, 0.5, 0, -0.5, -0.5, -0.5])
    }

    // Mini-batch selection of advantages keeps rows aligned with the batch.
    @Test func selectingRows() {
        let a = Advantages.compute(for: Fixture.batch(), config: config(.grpo))
        let s = a.selecting(rows: [2, 0], columns: 5)
        #expect(Array(s.values[0..<5]) == Array(a.values[10..<15]))
        #expect(Array(s.values[5..<10]) == Array(a.values[0..<5]))
    }
}
