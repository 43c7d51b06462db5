// The whole model: backward against finite differences, packing and micro-batching invariances,
// and the KV-cache path against the training forward pass.
import Foundation
import LM
import Tensor
import Testing

@Suite("Llama model")
struct ModelGradientTests {
    let sequences: [[Int32]] = [[1, 5, 9, 2, 7, 7, 3], [4, 22, 0], [8, 1, 1, 1, 13]]

    /// L = Σ g·logprob + Σ h·entropy over rows with targets.
    func loss(_ model: LlamaModel, _ batch: TrainingBatch, _ g: [Float], _ h: [Float], _ T: Float) -> Double {
        let r = model.forward(batch, temperature: T)
        var s = 0.0
        for i in 0..<batch.rowCount {
            s += Double(r.logprobs[i]) * Double(g[i]) + Double(r.entropies[i]) * Double(h[i])
        }
        return s
    }

    @Test(arguments: [true, false])
    func wholeModelGradientMatchesFiniteDifferences(tied: Bool) {
        let model = LlamaModel(config: microConfig(tied: tied), seed: 3)
        let batch = TrainingBatch(sequences: sequences, scoreFrom: [1, 0, 0])
        var rng = CounterRNG(seed: 9, purpose: .testing)
        let g = batch.targets.map { $0 >= 0 ? rng.nextUniform() * 2 - 1 : 0 }
        let h = batch.targets.map { $0 >= 0 ? rng.nextUniform() - 0.5 : 0 }
        let T: Float = 0.9
        model.zeroGradients()
        model.forward(batch, temperature: T)
        model.backward(dLogprobs: g, dEntropies: h)
        let analytic = model.gradients.array
        var checked = 0
        var worst = 0.0
        for entry in model.layout.entries {
            // Five parameters of every tensor, spread over the tensor.
            for k in 0..<5 {
                let i = entry.offset + (entry.count * (2 * k + 1)) / 10
                let saved = model.parameters[i]
                let eps: Float = 1e-2
                model.parameters[i] = saved + eps
                let up = loss(model, batch, g, h, T)
                model.parameters[i] = saved - eps
                let down = loss(model, batch, g, h, T)
                model.parameters[i] = saved
                let fd = (up - down) / Double(2 * eps)
                let err = abs(fd - Double(analytic[i]))
                worst = max(worst, err)
                #expect(err <= 2e-3 + 3e-2 * abs(fd), "\(entry.name)[\(i - entry.offset)]: fd \(fd) vs analytic \(analytic[i])")
                checked += 1
            }
        }
        #expect(checked == model.layout.entries.count * 5)
    }

    @Test func hiddenStateGradientMatchesFiniteDifferences() {
        // L = Σ_r Σ_c u[r,c]·h[r,c] over the final hidden states (what a value head backpropagates).
        let model = LlamaModel(config: microConfig(), seed: 8)
        let batch = TrainingBatch(sequences: sequences)
        let C = model.config.hiddenSize, N = batch.rowCount
        var rng = CounterRNG(seed: 10, purpose: .testing)
        let u = (0..<(N * C)).map { _ in rng.nextUniform() - 0.5 }
        func loss() -> Double {
            model.forward(batch)
            let h = model.finalHiddenStates
            return (0..<(N * C)).reduce(0.0) { $0 + Double(h[$1]) * Double(u[$1]) }
        }
        model.zeroGradients()
        _ = loss()
        model.backward(dLogprobs: [Float](repeating: 0, count: N), dHidden: u)
        let analytic = model.gradients.array
        for entry in model.layout.entries {
            let i = entry.offset + entry.count / 3
            let saved = model.parameters[i]
            model.parameters[i] = saved + 1e-2
            let up = loss()
            model.parameters[i] = saved - 1e-2
            let down = loss()
            model.parameters[i] = saved
            let fd = (up - down) / 2e-2
            #expect(abs(fd - Double(analytic[i])) <= 2e-3 + 3e-2 * abs(fd), "\(entry.name): fd \(fd) vs \(analytic[i])")
        }
    }

    @Test func sharedPromptsGiveTheSameLogprobsAndGradients() {
        let model = LlamaModel(config: microConfig(), seed: 11)
        let prompt: [Int32] = [1, 5, 9, 2, 7]
        let conts: [[Int32]] = [[3, 4, 2], [8], [6, 6, 6, 6, 2]]
        let other: [Int32] = [4, 22, 0, 13]
        let groups = [
            SequenceGroup(prefix: prompt, continuations: conts, scoreFrom: prompt.count - 1),
            SequenceGroup(prefix: [4, 22], continuations: [[0, 13]], scoreFrom: 1),
        ]
        let shared = TrainingBatch(groups: groups)
        let plainSeqs = conts.map { prompt + $0 } + [other]
        let plain = TrainingBatch(sequences: plainSeqs, scoreFrom: [4, 4, 4, 1])
        #expect(shared.rowCount == 4 + 4 + 2 + 6 + 4 && plain.rowCount == 8 + 6 + 10 + 4)
        let ls = model.forward(shared).logprobs
        let lp = model.forward(plain).logprobs
        var rng = CounterRNG(seed: 12, purpose: .testing)
        var g = [[Float]]()
        for (k, seq) in plainSeqs.enumerated() {
            let first = k < 3 ? 4 : 1
            var row = [Float]()
            for t in first..<(seq.count - 1) {
                let a = ls[shared.row(sequence: k, position: t)], b = lp[plain.row(sequence: k, position: t)]
                #expect(abs(a - b) < 1e-5, "sequence \(k) position \(t): \(a) vs \(b)")
                row.append(rng.nextUniform() - 0.5)
            }
            g.append(row)
        }
        func grads(_ batch: TrainingBatch) -> [Float] {
            var d = [Float](repeating: 0, count: batch.rowCount)
            for (k, seq) in plainSeqs.enumerated() {
                let first = k < 3 ? 4 : 1
                for t in first..<(seq.count - 1) { d[batch.row(sequence: k, position: t)] += g[k][t - first] }
            }
            model.zeroGradients()
            model.forward(batch)
            model.backward(dLogprobs: d)
            return model.gradients.array
        }
        let a = grads(shared), b = grads(plain)
        var worst: Float = 0
        for i in a.indices { worst = max(worst, abs(a[i] - b[i])) }
        #expect(worst < 1e-5, "max gradient difference \(worst)")
    }

    @Test func packingDoesNotChangeResults() {
        let model = LlamaModel(config: microConfig(), seed: 4)
        let joint = model.forward(TrainingBatch(sequences: sequences)).logprobs
        var offset = 0
        for s in sequences {
            let alone = model.forward(TrainingBatch(sequences: [s])).logprobs
            for t in 0..<(s.count - 1) {
                #expect(abs(alone[t] - joint[offset + t]) < 1e-5)
            }
            offset += s.count
        }
    }

    @Test func microBatchesAccumulateToTheFullBatchGradient() {
        let model = LlamaModel(config: microConfig(), seed: 5)
        let full = TrainingBatch(sequences: sequences)
        let g = full.targets.map { $0 >= 0 ? Float(-1) : 0 }
        model.zeroGradients()
        model.forward(full)
        model.backward(dLogprobs: g)
        let whole = model.gradients.array
        model.zeroGradients()
        for part in [Array(sequences[0..<2]), [sequences[2]]] {
            let b = TrainingBatch(sequences: part)
            model.forward(b)
            model.backward(dLogprobs: b.targets.map { $0 >= 0 ? Float(-1) : 0 })
        }
        let accumulated = model.gradients.array
        var maxDiff: Float = 0
        for i in 0..<whole.count { maxDiff = max(maxDiff, abs(whole[i] - accumulated[i])) }
        #expect(maxDiff < 1e-5, "max diff \(maxDiff)")
    }

    @Test func kvCacheMatchesTrainingForward() {
        let model = LlamaModel(config: microConfig(), seed: 6)
        let V = model.config.vocabSize
        let cache = KVCache(config: model.config, slots: 3, capacity: 16)
        // Prefill two prompts of different lengths in one call, then decode both, plus a copied slot.
        let a: [Int32] = [1, 5, 9, 2], b: [Int32] = [4, 22]
        let logits = model.extend(cache: cache, tokens: a + b, slots: [0, 0, 0, 0, 1, 1], logitRows: [3, 5])
        var next = [Float](UnsafeBufferPointer(start: logits, count: 2 * V))
        cache.copySlot(from: 0, to: 2)
        let step = model.extend(cache: cache, tokens: [7, 0, 3], slots: [0, 1, 2], logitRows: [0, 1, 2])
        next += [Float](UnsafeBufferPointer(start: step, count: 3 * V))
        func logSoftmax(_ z: ArraySlice<Float>) -> [Double] {
            let m = Double(z.max()!)
            let lse = m + log(z.reduce(0.0) { $0 + exp(Double($1) - m) })
            return z.map { Double($0) - lse }
        }
        // Reference: the training forward pass of the full sequences.
        let seqs: [[Int32]] = [a + [7, 11], b + [0, 11], a + [3, 11]]
        let ref = model.forward(TrainingBatch(sequences: seqs)).logprobs
        let batchRef = TrainingBatch(sequences: seqs)
        // (logit row k, sequence s, position t): row k predicts token t+1 of sequence s.
        let checks = [(0, 0, 3), (1, 1, 1), (2, 0, 4), (3, 1, 2), (4, 2, 4)]
        for (k, s, t) in checks {
            let target = seqs[s][t + 1]
            let lp = logSoftmax(next[(k * V)..<((k + 1) * V)])[Int(target)]
            let r = ref[batchRef.row(sequence: s, position: t)]
            #expect(abs(lp - Double(r)) < 1e-5, "row \(k): cache \(lp) vs forward \(r)")
        }
        #expect(cache.lengths == [5, 3, 5])
    }
}
