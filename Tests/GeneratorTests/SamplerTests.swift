// Sampler distributions against exact probabilities (chi-square), and batched generation that
// does not depend on batch composition.
import Foundation
import Generator
import LM
import RLHubCore
import Tensor
import Testing

/// Exact probabilities of the truncated, renormalised distribution, computed independently.
func exactDistribution(_ z: [Float], _ p: SamplingParameters) -> [Double] {
    let tau = Double(p.temperature)
    let m = Double(z.max()!)
    var probs = z.map { exp((Double($0) - m) / tau) }
    let s = probs.reduce(0, +)
    probs = probs.map { $0 / s }
    let order = probs.indices.sorted { probs[$0] != probs[$1] ? probs[$0] > probs[$1] : $0 < $1 }
    var keep = Set(order)
    if p.topK > 0 { keep = Set(order.prefix(p.topK)) }
    if p.topP < 1 {
        var acc = 0.0, nucleus = Set<Int>()
        for i in order where keep.contains(i) {
            nucleus.insert(i)
            acc += probs[i]
            if acc >= Double(p.topP) - 1e-7 { break }
        }
        keep = nucleus
    }
    if p.minP > 0 { keep = keep.filter { probs[$0] >= Double(p.minP) * probs.max()! } }
    let mass = keep.reduce(0.0) { $0 + probs[$1] }
    return probs.indices.map { keep.contains($0) ? probs[$0] / mass : 0 }
}

@Suite("Sampler")
struct SamplerTests {
    let logits: [Float] = [2.0, 1.5, 0.3, -0.2, 1.0, -3.0, 0.0, 0.7]

    @Test(arguments: [
        SamplingParameters(temperature: 1), SamplingParameters(temperature: 0.5),
        SamplingParameters(temperature: 2), SamplingParameters(temperature: 1, topK: 3),
        SamplingParameters(temperature: 1, topP: 0.8), SamplingParameters(temperature: 0.7, topP: 0.5),
        SamplingParameters(temperature: 1, minP: 0.2), SamplingParameters(temperature: 1.3, topK: 5, topP: 0.9),
    ])
    func chiSquareAgainstExactProbabilities(_ p: SamplingParameters) {
        let sampler = Sampler(vocabularySize: logits.count)
        let draws = 40_000
        var counts = [Int](repeating: 0, count: logits.count)
        logits.withUnsafeBufferPointer { z in
            for i in 0..<draws {
                let u = samplingUniform(seed: 11, step: 0, prompt: 0, sample: i % 1000, position: i / 1000)
                counts[Int(sampler.sample(z.baseAddress!, p, u: u).token)] += 1
            }
        }
        let expected = exactDistribution(logits, p)
        var chi2 = 0.0, dof = -1
        for i in 0..<logits.count {
            if expected[i] == 0 {
                #expect(counts[i] == 0, "token \(i) is outside the kept set but was drawn")
                continue
            }
            let e = expected[i] * Double(draws)
            chi2 += (Double(counts[i]) - e) * (Double(counts[i]) - e) / e
            dof += 1
        }
        // 99.9% quantile of chi-square with ≤ 7 degrees of freedom is 24.3.
        #expect(chi2 < 24.3, "chi² = \(chi2) with \(dof) dof for \(p)")
    }

    @Test func greedyIsArgmaxAndLogprobIsUntruncated() {
        let sampler = Sampler(vocabularySize: logits.count)
        let t = logits.withUnsafeBufferPointer { sampler.sample($0.baseAddress!, SamplingParameters(temperature: 0), u: 0.99) }
        #expect(t.token == 0)
        let m = Double(logits.max()!)
        let lse = m + log(logits.reduce(0.0) { $0 + exp(Double($1) - m) })
        #expect(abs(Double(t.logprob) - (2.0 - lse)) < 1e-6)
        let k = logits.withUnsafeBufferPointer { sampler.sample($0.baseAddress!, SamplingParameters(temperature: 0.5, topK: 1), u: 0.5) }
        #expect(k.token == 0)
        #expect(abs(Double(k.logprob) - (4.0 - (2 * m + log(logits.reduce(0.0) { $0 + exp(2 * Double($1) - 2 * m) })))) < 1e-5)
    }

    @Test func badParametersNameTheFlag() {
        #expect(throws: InputError.self) { try SamplingParameters(temperature: -1).validate() }
        #expect(throws: InputError.self) { try SamplingParameters(topP: 0).validate() }
        #expect(throws: InputError.self) { try SamplingParameters(minP: 1).validate() }
    }
}

@Suite("Batch generation")
struct BatchGenerationTests {
    func setup() -> BatchGenerator {
        let config = LlamaConfig(
            hiddenSize: 32, intermediateSize: 48, numHiddenLayers: 2, numAttentionHeads: 4, numKeyValueHeads: 2,
            vocabSize: CharTokenizer.standard.vocabularySize, maxPositionEmbeddings: 64, initializerRange: 0.5)
        return BatchGenerator(model: LlamaModel(config: config, seed: 1), tokenizer: CharTokenizer.standard)
    }

    @Test func sameSeedSameCompletionsWhateverTheBatch() throws {
        let gen = setup()
        let prompts: [[Int32]] = [[1, 20, 21], [1, 30], [1, 40, 41, 42, 43]]
        var all = GenerationRequest(prompts: prompts)
        all.samplesPerPrompt = 4
        all.maxNewTokens = 12
        all.seed = 9
        let together = try gen.generate(all)
        // One prompt at a time, keyed by its index in the full batch.
        var separate: [Completion] = []
        for i in prompts.indices {
            var one = all
            one.prompts = [prompts[i]]
            one.firstPromptIndex = i
            separate += try gen.generate(one).map { var c = $0; c.prompt = i; return c }
        }
        #expect(together.map(\.tokens) == separate.map(\.tokens))
        // Log-probs agree to float32 rounding: the batch's row count picks OpenBLAS's kernel and
        // blocking (on AVX2's Haswell kernels batches of 4 and 12 rows differ by up to 2e-5).
        for (a, b) in zip(together, separate) {
            for (x, y) in zip(a.logprobs, b.logprobs) { #expect(abs(x - y) < 5e-5, "\(x) vs \(y)") }
        }
        // Samples of a group differ (the key includes the sample index), and a rerun is identical.
        #expect(Set(together.prefix(4).map(\.tokens)).count > 1)
        #expect(try gen.generate(all).map(\.tokens) == together.map(\.tokens))
        // The thread count of rlhub's kernels does not change completions (scoped to this test:
        // suites run in parallel, so the process-wide count is not touched).
        for threads in [1, 2, 3] {
            let again = try ComputeThreads.withCount(threads) { try gen.generate(all) }
            #expect(again.map(\.tokens) == together.map(\.tokens), "\(threads) threads")
        }
    }

    @Test func sampledLogprobsMatchTheTrainingForward() throws {
        let gen = setup()
        var r = GenerationRequest(prompts: [[1, 20, 21, 22]])
        r.samplesPerPrompt = 2
        r.maxNewTokens = 10
        r.sampling = SamplingParameters(temperature: 0.8)
        let out = try gen.generate(r)
        for c in out {
            let seq = r.prompts[0] + c.tokens
            let batch = TrainingBatch(sequences: [seq], scoreFrom: [r.prompts[0].count - 1])
            let lp = gen.model.forward(batch, temperature: 0.8).logprobs
            for (t, sampled) in c.logprobs.enumerated() {
                #expect(abs(lp[r.prompts[0].count - 1 + t] - sampled) < 1e-4)
            }
        }
    }

    @Test func stopsOnTokensStringsAndLength() throws {
        let gen = setup()
        var r = GenerationRequest(prompts: [[1, 20]])
        r.samplesPerPrompt = 8
        r.maxNewTokens = 30
        r.sampling = SamplingParameters(temperature: 1.5)
        r.stopTokens = [CharTokenizer.eos]
        r.stopStrings = ["a"]
        for c in try gen.generate(r) {
            let text = CharTokenizer.standard.decode(c.tokens, skipSpecial: true)
            switch c.finishReason {
            case .stopToken: #expect(c.tokens.last == CharTokenizer.eos)
            case .stopString: #expect(text.hasSuffix("a"))
            case .length: #expect(c.tokens.count == 30 && !text.contains("a"))
            }
        }
        r.maxNewTokens = 100
        #expect(throws: InputError.self) { try gen.generate(r) }  // 2 + 100 > 64 positions
    }
}

@Suite("Evaluation statistics")
struct EvaluationStatisticsTests {
    /// Brute force: probability that k draws without replacement from n contain a correct one.
    @Test func confidenceIntervalUsesStudentT() {
        let ci = HeldOutEvaluation.confidenceInterval([0, 1, 1, 0, 1])
        // mean 0.6, sd √0.3, t_{0.975}(4) = 2.7764451051977934 (scipy.stats.t.ppf) → half-width 0.680
        let half = 2.7764451051977934 * 0.3.squareRoot() / 5.0.squareRoot()
        #expect(abs(ci[0] - (0.6 - half)) < 1e-12 && abs(ci[1] - (0.6 + half)) < 1e-12)
        #expect(HeldOutEvaluation.confidenceInterval([0.5]) == [0.5, 0.5])
    }
}
