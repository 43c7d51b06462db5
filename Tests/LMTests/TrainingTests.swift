// Optimizer, schedules, clipping, and the SFT sanity check (tiny memorises 32 examples).
import Foundation
import LM
import Tensor
import Testing

@Suite("Training core")
struct TrainingTests {
    @Test func adamWMatchesTheFormula() {
        // Two parameters: a matrix entry (decayed) and a norm gain (not decayed).
        let config = LlamaConfig(
            hiddenSize: 2, intermediateSize: 2, numHiddenLayers: 0, numAttentionHeads: 1,
            numKeyValueHeads: 1, vocabSize: 1, tieWordEmbeddings: true)
        let layout = ParameterLayout(config: config)  // embed [1,2], norm [2]
        let opt = AdamW(layout: layout, config: AdamWConfig(beta1: 0.9, beta2: 0.99, epsilon: 1e-8, weightDecay: 0.1))
        let p = FloatBuffer([1, -2, 0.5, 3]), g = FloatBuffer([0.1, -0.3, 2, 0])
        var ref = [1.0, -2, 0.5, 3], m = [0.0, 0, 0, 0], v = [0.0, 0, 0, 0]
        let lr = 0.01
        for t in 1...3 {
            opt.update(parameters: p, gradients: g, lr: Float(lr))
            for i in 0..<4 {
                if i < 2 { ref[i] *= 1 - lr * 0.1 }
                let gi = Double(g[i])
                m[i] = 0.9 * m[i] + 0.1 * gi
                v[i] = 0.99 * v[i] + 0.01 * gi * gi
                let mh = m[i] / (1 - pow(0.9, Double(t))), vh = v[i] / (1 - pow(0.99, Double(t)))
                ref[i] -= lr * mh / (vh.squareRoot() + 1e-8)
            }
        }
        for i in 0..<4 { #expect(abs(Double(p[i]) - ref[i]) < 1e-6, "param \(i): \(p[i]) vs \(ref[i])") }
    }

    @Test func clippingScalesToMaxNorm() {
        let g = FloatBuffer([3, 4, 0, 0])
        let norm = GradientClipping.clip(g, maxNorm: 1)
        #expect(abs(norm - 5) < 1e-6)
        #expect(abs(GradientClipping.globalNorm(g) - 1) < 1e-5)
        let small = FloatBuffer([0.3, 0.4])
        GradientClipping.clip(small, maxNorm: 1)
        #expect(small.array == [0.3, 0.4])
    }

    @Test func schedules() {
        let s = LearningRateSchedule.cosine
        #expect(s.rate(step: 0, base: 1, warmup: 4, total: 14) == 0.25)
        #expect(s.rate(step: 3, base: 1, warmup: 4, total: 14) == 1)
        #expect(abs(s.rate(step: 9, base: 1, warmup: 4, total: 14) - 0.5) < 1e-12)
        #expect(LearningRateSchedule.linear.rate(step: 14, base: 2, warmup: 4, total: 14) == 0)
        #expect(LearningRateSchedule.linearWarmup.rate(step: 100, base: 2, warmup: 4, total: 14) == 2)
        // The warm-up applies to the constant schedule too (a configured warm-up is never ignored).
        #expect(LearningRateSchedule.constant.rate(step: 0, base: 3, warmup: 4, total: 14) == 0.75)
        #expect(LearningRateSchedule.constant.rate(step: 4, base: 3, warmup: 4, total: 14) == 3)
        #expect(LearningRateSchedule.constant.rate(step: 0, base: 3, warmup: 0, total: 14) == 3)
    }

    @Test func emptyBatchSkipsTheUpdate() {
        let model = LlamaModel(config: microConfig(), seed: 1)
        let before = model.parameters.array
        let trainer = SFTTrainer(model: model, config: SFTConfig())
        let r = trainer.step([SFTExample(tokens: [1, 2, 3], promptLength: 3)])
        #expect(r.tokens == 0 && trainer.optimizer.step == 0)
        let same = bitEqual(model.parameters.array, before)
        #expect(same)
    }

    @Test(.timeLimit(.minutes(3)))
    func tinyMemorisesThirtyTwoExamples() throws {
        let loaded = try ModelLoader.load("preset:tiny", seed: 0)
        let tok = loaded.tokenizer
        var rng = CounterRNG(seed: 5, purpose: .testing)
        let examples: [SFTExample] = (0..<32).map { _ in
            let a = rng.nextInt(below: 90) + 10, b = rng.nextInt(below: 90) + 10
            let prompt = tok.encode("<|im_start|>\(a)+\(b)=")
            let answer = tok.encode("\(a + b)<|im_end|>")
            return SFTExample(tokens: prompt + answer, promptLength: prompt.count)
        }
        var config = SFTConfig()
        config.learningRate = 3e-3
        config.totalSteps = 300
        config.warmupSteps = 10
        let trainer = SFTTrainer(model: loaded.model, config: config)
        var lastLoss = Double.infinity
        var first = 0.0
        for step in 0..<config.totalSteps {
            lastLoss = trainer.step(examples).loss
            if step == 0 { first = lastLoss }
            if lastLoss < 0.02 { break }
        }
        let final = trainer.loss(examples)  // after the last update
        #expect(first > 2, "initial loss \(first)")
        #expect(final < 0.05, "final loss \(final) (last step loss \(lastLoss))")
    }
}
