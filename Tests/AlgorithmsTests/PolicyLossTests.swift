// Policy objective against algorithms.md §13.3, §13.5, §13.6, §13.10 and §14 items 3, 4, 6, 7, 14, 15.
import RLAlgorithms
import Foundation
import TestSupport
import Testing

let allModes: [LossAggregation] = [.tokenMean, .seqMeanTokenSum, .seqMeanTokenMean, .seqMeanTokenSumNorm, .drGRPOTRL]

@Suite("Policy loss")
struct PolicyLossTests {
    func evaluate(
        _ batch: PolicyBatch, _ config: AlgorithmConfig, advantages: [Double]? = nil, normalizer: AggregationNormalizer? = nil
    ) -> PolicyObjectiveResult {
        PolicyObjective.evaluate(batch, advantages: advantages ?? Fixture.grpoAdvantages, config: config, normalizer: normalizer)
    }

    // §13.3(a): on-policy, every mode: loss and ∂L/∂lp = −A_i·w per row.
    @Test(arguments: zip(allModes, [
        (0.0714284286, [-0.10714264, 0.03571421, 0.03571421, 0.03571421]),
        (0.2499995000, [-0.37499925, 0.12499975, 0.12499975, 0.12499975]),
        (0.0, [-0.12499975, 0.02499995, 0.06249988, 0.03124994]),
        (0.1999996000, [-0.29999940, 0.09999980, 0.09999980, 0.09999980]),
        (0.0499999000, [-0.07499985, 0.02499995, 0.02499995, 0.02499995]),
    ]))
    func section13_3aOnPolicy(mode: LossAggregation, expected: (Double, [Double])) {
        let r = evaluate(Fixture.batch(onPolicy: true), Fixture.lossConfig(mode))
        expectClose(r.loss, expected.0, atol: 1e-9, "\(mode.rawValue) loss")
        let grad = padded(Fixture.lengths.enumerated().map { [Double](repeating: expected.1[$0], count: $1) }, columns: 5)
        expectClose(r.dLogprobs, grad, atol: 1e-8, "\(mode.rawValue) gradient")
        #expect(!r.skipped)
    }

    static let section13_3bLosses = [0.1248392744, 0.4369374604, 0.0274945862, 0.3495499683, 0.0873874921]
    static let section13_3bGradients: [[[Double]]] = [
        [[-0.11841093, 0, -0.07937322], [0.03397241, 0, 0.04362144, 0, 0.03571421], [0.03571421, 0.03231556],
         [0.04585796, 0.03073951, 0.03754532, 0]],
        [[-0.41443827, 0, -0.27780628], [0.11890344, 0, 0.15267504, 0, 0.12499975], [0.12499975, 0.11310445],
         [0.16050286, 0.10758828, 0.13140862, 0]],
        [[-0.13814609, 0, -0.09260209], [0.02378069, 0, 0.03053501, 0, 0.02499995], [0.06249988, 0.05655223],
         [0.04012571, 0.02689707, 0.03285216, 0]],
        [[-0.33155061, 0, -0.22224502], [0.09512275, 0, 0.12214003, 0, 0.09999980], [0.09999980, 0.09048356],
         [0.12840228, 0.08607063, 0.10512690, 0]],
        [[-0.08288765, 0, -0.05556126], [0.02378069, 0, 0.03053501, 0, 0.02499995], [0.02499995, 0.02262089],
         [0.03210057, 0.02151766, 0.02628172, 0]],
    ]

    // §13.3(b): off-policy, GRPO advantages, DAPO clip 0.2/0.28, dual clip 3, every mode.
    @Test(arguments: 0..<5)
    func section13_3bOffPolicyDAPO(index: Int) {
        let mode = allModes[index]
        let r = evaluate(Fixture.batch(), Fixture.lossConfig(mode))
        expectClose(r.loss, Self.section13_3bLosses[index], atol: 1e-9, "\(mode.rawValue) loss")
        expectClose(r.dLogprobs, padded(Self.section13_3bGradients[index], columns: 5), atol: 1e-8, "\(mode.rawValue) gradient")
    }

    // §13.3(b) per-token losses and clip pattern (§14.4: exact zeros at C/D, non-zero at U).
    @Test func section13_3bTokenLossesAndClipPattern() {
        let A = Fixture.grpoAdvantages
        let expected: [[Double]] = [
            [-1.65775306, -1.91999616, -1.11122511], [0.47561376, 0.39999920, 0.61070016, 1.49999700, 0.49999900],
            [0.49999900, 0.45241780], [0.64201142, 0.43035313, 0.52563450, 0.39999920],
        ]
        // C = clipped, D = dual-clipped, U = unclipped.
        let pattern: [[Character]] = [["U", "C", "U"], ["U", "C", "U", "D", "U"], ["U", "U"], ["U", "U", "U", "C"]]
        for i in 0..<4 {
            for t in 0..<Fixture.lengths[i] {
                let k = i * 5 + t
                let term = PPOClip.token(
                    logprob: Fixture.lp[k], oldLogprob: Fixture.lpOld[k], advantage: A[k], clipLow: 0.2, clipHigh: 0.28, dualClip: 3)
                expectClose(term.value, expected[i][t], atol: 1e-8, "ℓ[\(i),\(t)]")
                switch pattern[i][t] {
                case "C":
                    #expect(term.gradient == 0 && (term.clip == .low || term.clip == .high), "[\(i),\(t)] should be clipped")
                case "D":
                    #expect(term.gradient == 0 && term.clip == .dual, "[\(i),\(t)] should be dual-clipped")
                default:
                    #expect(term.gradient != 0 && term.clip == .none, "[\(i),\(t)] should carry gradient")
                }
            }
        }
        let r = evaluate(Fixture.batch(), Fixture.lossConfig(.tokenMean))
        expectClose(r.metrics["policy/clipfrac_high"] ?? -1, 1.0 / 14, atol: 1e-12)
        expectClose(r.metrics["policy/clipfrac_low"] ?? -1, 2.0 / 14, atol: 1e-12)
        expectClose(r.metrics["policy/clipfrac_dual"] ?? -1, 1.0 / 14, atol: 1e-12)
        expectClose(r.metrics["policy/clipfrac"] ?? -1, 3.0 / 14, atol: 1e-12)
    }

    // §13.3(c): Dr. GRPO advantages, symmetric ε = 0.2, dual clip 3.
    @Test func section13_3cDrGRPO() {
        var c = AlgorithmConfig()
        c.estimator = .drGRPO
        let A = Advantages.compute(for: Fixture.batch(), config: c).values
        let losses = [0.0667054763, 0.2334691671, 0.0187473206, 0.1867753337, 0.0466938334]
        for (mode, loss) in zip(allModes, losses) {
            let r = evaluate(Fixture.batch(), Fixture.lossConfig(mode, clipHigh: 0.2), advantages: A)
            expectClose(r.loss, loss, atol: 1e-9, "\(mode.rawValue)")
            if mode == .tokenMean {
                let g: [[Double]] = [
                    [-0.05920558, 0, -0.03968669], [0.01698624, 0, 0.02181076, 0, 0.01785714],
                    [0.01785714, 0.01615781], [0.02292903, 0.01536979, 0.01877270, 0],
                ]
                expectClose(r.dLogprobs, padded(g, columns: 5), atol: 1e-8, "token-mean gradient")
            }
        }
    }

    // §14.15: one epoch, one mini-batch, lp_old = sg(lp) → ∂L/∂lp = −A·w exactly.
    @Test(arguments: allModes)
    func onPolicyShortcutIsExact(mode: LossAggregation) {
        let batch = try! PolicyBatch(
            rows: 4, columns: 5, mask: Fixture.mask, logprobs: Fixture.lp, rewards: Fixture.rewards, groupIDs: [0, 0, 0, 0])
        let config = Fixture.lossConfig(mode)
        let A = Fixture.grpoAdvantages
        let r = evaluate(batch, config)
        let w = mode.weights(for: batch, normalizer: AggregationNormalizer(batch, lengthNorm: 5))
        #expect(r.dLogprobs == zip(A, w).map { -$0 * $1 })
    }

    // §14.3: gradient equals central finite differences of the loss, random inputs away from clip
    // boundaries, every mode × surrogate, with KL (k3) in the loss and TIS on: per token for the
    // token surrogates and GMPO (whose token level is the row's geometric mean, one weight per
    // sequence term), per sequence for GSPO (its token form gives each token its own weight,
    // which is not the derivative of a sequence loss). CISPO's weight is detached by design, so
    // its clip band is made narrow enough (±1e-4) that every ratio here lies outside it: the
    // weight is then locally constant and the finite difference of the reported loss is exact.
    @Test(arguments: allModes)
    func gradientMatchesFiniteDifferences(mode: LossAggregation) {
        var rng = SplitMix64(seed: 42)
        let B = 6, T = 6
        let lengths = [6, 3, 0, 5, 1, 4]  // row 2 all masked; row 5 has A = 0 (zero-variance group)
        let mask = padded(lengths.map { [Double](repeating: 1, count: $0) }, columns: T)
        func near(_ rho: Double, _ bounds: [Double]) -> Bool { bounds.contains { abs(rho - $0) < 1e-3 } }
        var lpOld = [Double](), lp = [Double](), ref = [Double](), roll = [Double](), A = [Double]()
        for i in 0..<B {
            let a = [1.3, -0.7, 0.4, -1.1, 0.9, 0][i]
            for _ in 0..<T {
                let old = Double.random(in: -3 ... -0.1, using: &rng)
                var d: Double
                repeat { d = Double.random(in: -0.5...1.3, using: &rng) } while near(exp(d), [0.8, 1.28, 3, 1])
                lpOld.append(old)
                lp.append(old + d)
                ref.append(old + Double.random(in: -0.5...0.5, using: &rng))
                roll.append(old + Double.random(in: -1...1, using: &rng))
                A.append(a)
            }
        }
        let batch = try! PolicyBatch(
            rows: B, columns: T, mask: mask, logprobs: lp, oldLogprobs: lpOld, refLogprobs: ref, rolloutLogprobs: roll,
            rewards: [Double](repeating: 0, count: B), groupIDs: [0, 0, 0, 1, 1, 2])
        for kind in [PolicyLossKind.ppoClip, .reinforce, .gspo, .gmpo, .cispo] {
            var config = Fixture.lossConfig(mode)
            config.policyLoss = kind
            config.klCoef = 0.05
            config.klEstimator = .k3
            config.tisLevel = kind == .gspo ? .sequence : .token
            config.tisCap = 1.5  // some weights truncated, some not
            if kind == .gspo { (config.clipLow, config.clipHigh) = (0.05, 0.08) }
            if kind == .gmpo { (config.clipLow, config.clipHigh) = (0.4, 0.4) }
            if kind == .cispo { (config.clipLow, config.clipHigh) = (1e-4, 1e-4) }
            let r = PolicyObjective.evaluate(batch, advantages: A, config: config)
            let fd = finiteDifference(lp, mask: mask) {
                PolicyObjective.evaluate(batch.replacingLogprobs($0), advantages: A, config: config).loss
            }
            expectClose(r.dLogprobs, fd, atol: 1e-7, "\(mode.rawValue) \(kind.rawValue)")
            #expect((r.metrics["tis/weight_mean"] ?? 0) != 1, "\(kind.rawValue): TIS must be active in this test")
            for k in mask.indices where mask[k] == 0 { #expect(r.dLogprobs[k] == 0) }
            // The A = 0 row gets no policy gradient: only its KL term remains (= all-zero advantages).
            let klOnly = PolicyObjective.evaluate(batch, advantages: [Double](repeating: 0, count: B * T), config: config)
            #expect(Array(r.dLogprobs[30..<36]) == Array(klOnly.dLogprobs[30..<36]))
            #expect(r.dLogprobs.contains { $0 == 0 } && r.dLogprobs.contains { $0 != 0 })
        }
    }

    // CISPO: ∂ℓ/∂lp = −clip(ρ)·A, never zeroed by the clip.
    @Test func cispoGradient() {
        let t = CISPO.token(logprob: -0.5, oldLogprob: -1.0, advantage: 2, clipLow: 0.2, clipHigh: 0.28)
        expectClose(t.gradient, -1.28 * 2, atol: 1e-15)
        #expect(t.clip == .high)
        let u = CISPO.token(logprob: -1.0, oldLogprob: -1.0, advantage: -1, clipLow: 0.2, clipHigh: 0.28)
        #expect(u.gradient == 1)
    }

    // §13.5: token TIS with C = 2 on the off-policy DAPO loss; §14.6: weights carry no gradient.
    @Test func section13_5TruncatedImportanceSampling() {
        var c = Fixture.lossConfig(.tokenMean)
        c.tisLevel = .token
        c.tisCap = 2
        let batch = Fixture.batch(rollout: true)
        let (w, raw) = TruncatedImportanceSampling.weights(batch: batch, level: .token, cap: 2)
        expectClose(
            raw,
            padded(
                [[1.05127110, 0.95122942, 1.0], [1.0, 1.05127110, 1.0, 2.71828183, 1.0], [1.0, 0.95122942],
                 [1.0, 1.0, 1.10517092, 1.0]], columns: 5), atol: 1e-8)
        #expect(w[8] == 2)
        let r = evaluate(batch, c)
        expectClose(r.loss, 0.2364368947, atol: 1e-9)
        let g: [[Double]] = [
            [-0.12448199, 0, -0.07937322], [0.03397241, 0, 0.04362144, 0, 0.03571421], [0.03571421, 0.03073951],
            [0.04585796, 0.03073951, 0.04149400, 0],
        ]
        expectClose(r.dLogprobs, padded(g, columns: 5), atol: 1e-8)
        // Perturbing lp does not change the weights; the gradient is the finite difference.
        let moved = batch.replacingLogprobs(batch.logprobs.map { $0 + 0.3 })
        #expect(TruncatedImportanceSampling.weights(batch: moved, level: .token, cap: 2).weights == w)
        let fd = finiteDifference(batch.logprobs, mask: batch.mask) {
            PolicyObjective.evaluate(batch.replacingLogprobs($0), advantages: Fixture.grpoAdvantages, config: c).loss
        }
        expectClose(r.dLogprobs, fd, atol: 1e-7)
        expectClose(r.metrics["tis/clip_frac"] ?? -1, 1.0 / 14, atol: 1e-12)
        expectClose(r.metrics["tis/weight_max"] ?? -1, 2.71828183, atol: 1e-8)
        // Sequence level: one weight per row from the summed log-ratio.
        let seq = TruncatedImportanceSampling.weights(batch: batch, level: .sequence, cap: 2).weights
        expectClose(seq[0], 1, atol: 1e-12)  // Σ(lp_old − lp_roll) = 0 on row 0
        expectClose(seq[5], 2, atol: 0)  // e^1.05 truncated to C
    }

    // §13.6: GSPO per-sequence clip decision and on-policy equivalence with GRPO seq-mean-token-mean.
    @Test func section13_6GSPO() {
        var c = Fixture.lossConfig(.tokenMean, clipLow: 3e-4, clipHigh: 4e-4, dual: nil)
        c.policyLoss = .gspo
        let batch = Fixture.batch()
        expectClose((0..<4).map { GSPO.logSequenceRatio(batch: batch, row: $0) }, [0.0333333333, 0.25, -0.05, -0.0375], atol: 1e-9)
        let rows = (0..<4).map { GSPO.row(batch: batch, row: $0, advantages: Fixture.grpoAdvantages, clipLow: 3e-4, clipHigh: 4e-4) }
        expectClose(rows.map { $0[0].value }, [-1.5005969988, 0.6420114243, 0.4998490003, 0.4998490003], atol: 1e-9)
        #expect(rows.map { $0[0].clip } == [.high, .none, .low, .low])
        let r = evaluate(batch, c)  // loss_agg is ignored: GSPO always uses seq-mean-token-mean
        expectClose(r.loss, 0.0352781065, atol: 1e-9)
        expectClose(r.dLogprobs, padded([[0, 0, 0], [Double](repeating: 0.03210057, count: 5), [0, 0], [0, 0, 0, 0]], columns: 5), atol: 1e-8)
        for k in [0, 1, 2, 10, 11, 15, 16, 17, 18] { #expect(r.dLogprobs[k] == 0) }
        // On-policy: s ≡ 1, loss 0, gradient = GRPO with seq-mean-token-mean.
        let on = evaluate(Fixture.batch(onPolicy: true), c)
        expectClose(on.loss, 0, atol: 1e-12)
        let grpo = evaluate(Fixture.batch(onPolicy: true), Fixture.lossConfig(.seqMeanTokenMean))
        expectClose(on.dLogprobs, grpo.dLogprobs, atol: 1e-15)
        expectClose(on.dLogprobs[0], -0.12499975, atol: 1e-8)
    }

    // Masked importance sampling on the §13.5 batch (raw ratios e^0.05, e^−0.05, e^1, e^0.1, …):
    // a ratio outside [C_low, C] drops its token (token_mask) or its row (sequence_mask).
    @Test func maskedImportanceSamplingDropsOutsideTheBand() {
        let batch = Fixture.batch(rollout: true)
        let e05 = 1.05127110, em05 = 0.95122942
        // token_mask, band [0.96, 2]: e^−0.05 (twice) and e^1 are dropped, the rest keep their ratio.
        let token = TruncatedImportanceSampling.weights(batch: batch, level: .tokenMask, cap: 2, capLow: 0.96).weights
        expectClose(
            token, padded([[e05, 0, 1], [1, e05, 1, 0, 1], [1, 0], [1, 1, 1.10517092, 1]], columns: 5), atol: 1e-8)
        // sequence_mask, band [0, 2]: row sums 0, 1.05 (e^1.05 = 2.86 > 2: row dropped), −0.05, 0.1.
        let seq = TruncatedImportanceSampling.weights(batch: batch, level: .sequenceMask, cap: 2).weights
        expectClose(
            seq, padded([[1, 1, 1], [0, 0, 0, 0, 0], [em05, em05], [1.10517092, 1.10517092, 1.10517092, 1.10517092]], columns: 5),
            atol: 1e-8)
        var c = Fixture.lossConfig(.tokenMean)
        c.tisLevel = .tokenMask
        c.tisCap = 2
        c.tisCapLow = 0.96
        let r = evaluate(batch, c)
        // Dropped tokens get no policy gradient; the rest is the derivative of the reported loss.
        for (row, t) in [(0, 1), (1, 3), (2, 1)] { #expect(r.dLogprobs[row * 5 + t] == 0) }
        let fd = finiteDifference(batch.logprobs, mask: batch.mask) {
            PolicyObjective.evaluate(batch.replacingLogprobs($0), advantages: Fixture.grpoAdvantages, config: c).loss
        }
        expectClose(r.dLogprobs, fd, atol: 1e-7)
        expectClose(r.metrics["tis/clip_frac"] ?? -1, 3.0 / 14, atol: 1e-12)
    }

    // The mismatch metrics on the same batch: Δ = lp_old − lp_roll is ±0.05 (twice each), 1, 0.1 and
    // 0 on the other 8 of 14 loss tokens.
    @Test func samplerMismatchMetrics() {
        let batch = Fixture.batch(rollout: true)
        let m = SamplerMismatch.metrics(old: batch.oldLogprobs, rollout: batch.rolloutLogprobs!, mask: batch.mask, cap: 2)
        expectClose(m["mismatch/logp_abs_mean"] ?? -1, 1.3 / 14, atol: 1e-9)
        expectClose(m["mismatch/logp_abs_max"] ?? -1, 1, atol: 1e-9)
        // k3 = mean(e^Δ − 1 − Δ) = (2·0.00127110 + 2·0.00122942 + 0.71828183 + 0.00517092) / 14
        expectClose(m["mismatch/k3"] ?? -1, 0.72845379 / 14, atol: 1e-8)
        expectClose(m["mismatch/outside_frac"] ?? -1, 1.0 / 14, atol: 1e-12)
        let same = SamplerMismatch.metrics(old: batch.oldLogprobs, rollout: batch.oldLogprobs, mask: batch.mask, cap: 2)
        #expect(same["mismatch/logp_abs_max"] == 0 && same["mismatch/k3"] == 0)
    }

    // §13.10: an extra row with n_i = 0 leaves every verl mode unchanged; dr-grpo-trl divides by B = 5.
    @Test func emptyRowChangesOnlyDrGRPOTRL() {
        let b = try! PolicyBatch(
            rows: 5, columns: 5, mask: Fixture.mask + [0, 0, 0, 0, 0], logprobs: Fixture.lp + [.nan, 1, 1, 1, 1],
            oldLogprobs: Fixture.lpOld + [0, 0, 0, 0, 0], rewards: Fixture.rewards + [1], groupIDs: [0, 0, 0, 0, 7])
        let A = Fixture.grpoAdvantages + [0, 0, 0, 0, 0]
        for (index, mode) in allModes.enumerated() {
            let r = evaluate(b, Fixture.lossConfig(mode), advantages: A)
            let scale = mode == .drGRPOTRL ? 4.0 / 5 : 1
            expectClose(r.loss, Self.section13_3bLosses[index] * scale, atol: 1e-9, mode.rawValue)
            expectClose(Array(r.dLogprobs[0..<20]), padded(Self.section13_3bGradients[index], columns: 5).map { $0 * scale }, atol: 1e-8)
            #expect(r.dLogprobs[20..<25].allSatisfy { $0 == 0 })
        }
    }

    // §13.10: a zero-variance group adds its tokens to N (1/14 → 1/30) under token-mean.
    @Test func zeroVarianceGroupDilutesTokenMean() {
        let T = 5
        let mask = Fixture.mask + padded([[1, 1, 1, 1], [1, 1, 1, 1], [1, 1, 1, 1], [1, 1, 1, 1]], columns: T)
        let lp = Fixture.lpOld + padded([[Double]](repeating: [-1, -1, -1, -1], count: 4), columns: T, pad: .nan)
        let batch = try! PolicyBatch(
            rows: 8, columns: T, mask: mask, logprobs: lp, rewards: Fixture.rewards + [1, 1, 1, 1], groupIDs: [0, 0, 0, 0, 1, 1, 1, 1])
        var c = Fixture.lossConfig(.tokenMean)
        c.estimator = .grpo
        let adv = Advantages.compute(for: batch, config: c)
        #expect(adv.values[20..<40].allSatisfy { $0 == 0 })
        let r = PolicyObjective.evaluate(batch, advantages: adv.values, config: c)
        expectClose(r.dLogprobs[0], -1.499997 / 30, atol: 1e-12)
        #expect(r.dLogprobs[20..<40].allSatisfy { $0 == 0 })
    }

    // §1 rule 4 / §14.14: whole mini-batch masked → loss 0, gradients 0, skipped.
    @Test func emptyBatchIsSkipped() {
        let batch = try! PolicyBatch(
            rows: 2, columns: 3, mask: [0, 0, 0, 0, 0, 0], logprobs: [.nan, .nan, .nan, 1, 2, 3], rewards: [1, 0], groupIDs: [0, 0])
        var c = Fixture.lossConfig(.tokenMean)
        c.entropyCoef = 0.01
        for mode in allModes {
            c.lossAgg = mode
            let r = PolicyObjective.evaluate(batch.replacingLogprobs(batch.logprobs, entropies: [Double](repeating: 1, count: 6)),
                                             advantages: [Double](repeating: 1, count: 6), config: c)
            #expect(r.skipped && r.loss == 0 && r.dLogprobs.allSatisfy { $0 == 0 })
            #expect(r.dEntropies?.allSatisfy { $0 == 0 } == true)
            #expect(r.metrics["skipped"] == 1)
        }
        let zero = PolicyObjective.evaluate(
            try! PolicyBatch(rows: 0, columns: 4, mask: [], logprobs: [], rewards: [], groupIDs: []), advantages: [], config: c)
        #expect(zero.skipped && zero.loss == 0)
    }

    // §14.14: multi-turn observation tokens get zero gradient and are not counted in N.
    @Test func observationTokensAreExcluded() {
        let mask: [Double] = [1, 1, 0, 0, 1, 1]
        let lp: [Double] = [-1, -2, .nan, .infinity, -0.5, -0.25]
        let batch = try! PolicyBatch(rows: 1, columns: 6, mask: mask, logprobs: lp, rewards: [1], groupIDs: [0])
        let r = PolicyObjective.evaluate(batch, advantages: [2, 2, 7, 7, 2, 2], config: Fixture.lossConfig(.tokenMean))
        #expect(r.dLogprobs == [-0.5, -0.5, 0, 0, -0.5, -0.5])
        #expect(r.metrics["tokens"] == 4)
        #expect(r.loss.isFinite)
    }

    // §14.14: a reward on a masked position is rejected by the batch.
    @Test func rewardOnMaskedPositionIsRejected() {
        #expect(throws: BatchError.self) {
            try PolicyBatch(
                rows: 1, columns: 3, mask: [1, 1, 0], logprobs: [-1, -1, 0], rewards: [0], tokenRewards: [0, 0, 1], groupIDs: [0])
        }
        do {
            _ = try PolicyBatch(rows: 1, columns: 3, mask: [1, 0.5, 0], logprobs: [-1, -1, 0], rewards: [0], groupIDs: [0])
            Issue.record("mask 0.5 accepted")
        } catch {
            #expect(error.description.hasPrefix("batch: mask:"))
        }
        #expect(throws: BatchError.self) {
            try PolicyBatch(rows: 2, columns: 2, mask: [1, 1, 1], logprobs: [0, 0, 0, 0], rewards: [0, 0], groupIDs: [0, 0])
        }
        #expect(throws: BatchError.self) {
            try PolicyBatch(rows: 1, columns: 2, mask: [1, 1], logprobs: [0, .nan], rewards: [0], groupIDs: [0])
        }
    }

    // §11 on-policy shortcut: a forward pass swapped into a selected micro-batch keeps lp_old
    // off-policy and sets lp_old := lp on-policy (ratio 1), and is checked like a new batch.
    @Test func afterForwardPassSwapsInTheCurrentPolicy() throws {
        let rollout = Fixture.batch(onPolicy: true, rollout: true, reference: true)
        let rows = [3, 1]
        let micro = rollout.selecting(rows: rows)
        let lp = PolicyBatch.gather(Fixture.lp, rows: rows, columns: Fixture.T)
        let entropies = (0..<10).map { Double($0) / 4 }
        let values = (0..<10).map { Double($0) / 8 }

        let offPolicy = try micro.afterForwardPass(logprobs: lp, entropies: entropies, values: values, onPolicy: false)
        #expect(offPolicy.oldLogprobs.elementsEqual(PolicyBatch.gather(Fixture.lpOld, rows: rows, columns: Fixture.T)) { $0 == $1 || ($0.isNaN && $1.isNaN) })
        #expect(offPolicy.logprobs.elementsEqual(lp) { $0 == $1 || ($0.isNaN && $1.isNaN) })
        #expect(offPolicy.entropies == entropies && offPolicy.values == values)
        #expect(offPolicy.mask == micro.mask && offPolicy.rewards == [0, 0] && offPolicy.responseLengths == [4, 5])
        #expect(offPolicy.refLogprobs.map { $0.map(\.bitPattern) } == micro.refLogprobs.map { $0.map(\.bitPattern) })

        let onPolicy = try micro.afterForwardPass(logprobs: lp, entropies: nil, values: nil, onPolicy: true)
        #expect(onPolicy.oldLogprobs.elementsEqual(lp) { $0 == $1 || ($0.isNaN && $1.isNaN) })
        #expect(onPolicy.entropies == nil && onPolicy.values == nil)
        var c = Fixture.lossConfig(.tokenMean)
        c.tisLevel = .none
        let ratios = PolicyObjective.evaluate(onPolicy, advantages: [Double](repeating: 1, count: 10), config: c).metrics
        #expect(abs((ratios["policy/ratio_mean"] ?? 0) - 1) < 1e-12 && ratios["policy/ratio_max"] == 1)

        var broken = lp
        broken[0] = .infinity  // row 3, column 0: a loss token
        #expect(throws: BatchError.self) {
            try micro.afterForwardPass(logprobs: broken, entropies: nil, values: nil, onPolicy: true)
        }
    }

    // §1 rule 1: with the mini-batch's normaliser, micro-batch losses and gradients add up exactly
    // (up to rounding) to the mini-batch's, for every mode and for GSPO; metrics merge too.
    @Test(arguments: allModes)
    func microBatchesAddUp(mode: LossAggregation) {
        for kind in [PolicyLossKind.ppoClip, .gspo] {
            var c = Fixture.lossConfig(mode)
            c.policyLoss = kind
            c.klCoef = 0.01
            c.entropyCoef = 0.02
            c.tisLevel = .token
            let full = Fixture.batch(rollout: true, reference: true)
                .replacingLogprobs(Fixture.lp, entropies: (0..<20).map { Double($0 % 7) / 3 })
            let A = Fixture.grpoAdvantages
            let whole = PolicyObjective.evaluate(full, advantages: A, config: c)
            let global = AggregationNormalizer(full, lengthNorm: c.lengthNorm)
            let parts = [[1, 3], [0], [2]]
            #expect(parts.map { AggregationNormalizer(full.selecting(rows: $0), lengthNorm: 5) }.reduce(
                AggregationNormalizer(tokens: 0, nonEmptyRows: 0, rows: 0, lengthNorm: 5), +) == global)
            var loss = 0.0
            var grad = [Double](repeating: 0, count: 20), dH = grad
            var metrics: [String: Double] = [:]
            for rows in parts {
                let r = PolicyObjective.evaluate(
                    full.selecting(rows: rows), advantages: PolicyBatch.gather(A, rows: rows, columns: 5), config: c,
                    normalizer: global)
                loss += r.loss
                for (j, i) in rows.enumerated() {
                    for t in 0..<5 {
                        grad[i * 5 + t] = r.dLogprobs[j * 5 + t]
                        dH[i * 5 + t] = r.dEntropies?[j * 5 + t] ?? .nan
                    }
                }
                metrics = PolicyObjective.mergeMetrics(metrics, r.metrics)
            }
            expectClose(loss, whole.loss, atol: 1e-14, "\(mode.rawValue) \(kind.rawValue) loss")
            expectClose(grad, whole.dLogprobs, atol: 1e-15)
            expectClose(dH, whole.dEntropies ?? [], atol: 1e-15)
            for key in PolicyObjective.metricNames {
                expectClose(metrics[key] ?? .nan, whole.metrics[key] ?? .nan, atol: 1e-12, key)
            }
        }
    }

    // Every emitted metric key is in the documented list.
    @Test func metricNamesAreFixed() {
        var c = Fixture.lossConfig(.tokenMean)
        c.klCoef = 0.001
        c.entropyCoef = 0.01
        c.tisLevel = .token
        let batch = Fixture.batch(rollout: true, reference: true).replacingLogprobs(Fixture.lp, entropies: [Double](repeating: 1, count: 20))
        let r = PolicyObjective.evaluate(batch, advantages: Fixture.grpoAdvantages, config: c)
        #expect(Set(r.metrics.keys) == Set(PolicyObjective.metricNames))
        expectClose(r.metrics["loss/total"] ?? 0, r.loss, atol: 0)
        expectClose(r.metrics["entropy"] ?? 0, 1, atol: 1e-12)
        expectClose(r.metrics["tokens"] ?? 0, 14, atol: 0)
    }
}
