// The PPO critic path in isolation: value head + trunk fit sample-dependent returns on a fixed
// batch, so its gradients (head and ∂L/∂hidden into the trunk) are right.
import RLAlgorithms
import Foundation
import LM
import Tensor
import Testing
import Trainer

@Suite("Value head")
struct ValueHeadTests {
    @Test func fitsReturnsThatDependOnTheSequence() throws {
        let loaded = try ModelLoader.load("preset:tiny", seed: 1)
        let model = loaded.model
        let head = ValueHead(channels: model.config.hiddenSize)
        let optimizer = AdamW(layout: model.layout)
        // 8 sequences; the return is 1 when the answer starts with '7', else 0.
        let tok = loaded.tokenizer
        let prompt = tok.encode("<|im_start|>user\n3+4=<|im_end|>\n<|im_start|>assistant\n")
        let answers = ["7", "8", "77", "9", "7x", "1", "70", "6"].map { tok.encode($0 + "<|im_end|>") }
        let R: [Double] = answers.map { $0.first == tok.encode("7")[0] ? 1 : 0 }
        let T = answers.map(\.count).max()!
        let B = answers.count
        var mask = [Double](repeating: 0, count: B * T), returns = mask
        for i in 0..<B {
            for t in 0..<answers[i].count { mask[i * T + t] = 1; returns[i * T + t] = R[i] }
        }
        let batch = TrainingBatch(sequences: answers.map { prompt + $0 }, scoreFrom: [Int](repeating: prompt.count - 1, count: B))
        let pb = try PolicyBatch(
            rows: B, columns: T, mask: mask, logprobs: [Double](repeating: 0, count: B * T),
            rewards: R, groupIDs: Array(0..<B))
        let normalizer = AggregationNormalizer(pb, lengthNorm: Double(T))
        // Packed rows of response column t of sequence i (the alignment rule: position P + t − 1).
        let rows = (0..<B).flatMap { i in (0..<T).map { t in t < answers[i].count ? batch.row(sequence: i, position: prompt.count + t - 1) : 0 } }
        // Column 0's value is read before any answer token exists (same input for every sample),
        // so only columns ≥ 1 can explain the differences between samples.
        func explainedVariance(_ v: [Double]) -> Double {
            let idx = mask.indices.filter { mask[$0] != 0 && $0 % T != 0 }
            let mr = idx.reduce(0.0) { $0 + returns[$1] } / Double(idx.count)
            let varR = idx.reduce(0.0) { $0 + (returns[$1] - mr) * (returns[$1] - mr) }
            let d = idx.map { returns[$0] - v[$0] }
            let md = d.reduce(0, +) / Double(d.count)
            return 1 - d.reduce(0.0) { $0 + ($1 - md) * ($1 - md) } / varR
        }
        var first = 0.0, last = 0.0
        for step in 0..<60 {
            model.zeroGradients()
            model.forward(batch)
            let v = head.values(hidden: model.finalHiddenStates, rows: rows)
            let ev = explainedVariance(v)
            if step == 0 { first = ev }
            last = ev
            let loss = ValueLoss.evaluate(
                values: v, oldValues: v, returns: returns, batch: pb, clip: 1e9, aggregation: .tokenMean, normalizer: normalizer)
            let used = mask.indices.filter { mask[$0] != 0 }
            let dHidden = head.backward(
                hidden: model.finalHiddenStates, rows: used.map { rows[$0] }, dValues: used.map { loss.dValues[$0] },
                totalRows: batch.rowCount)
            model.backward(dLogprobs: [Float](repeating: 0, count: batch.rowCount), dHidden: dHidden)
            optimizer.update(parameters: model.parameters, gradients: model.gradients, lr: 1e-3)
            head.update(lr: 1e-2)
        }
        print(String(format: "value head on a fixed batch: explained variance (columns ≥ 1) %.3f → %.3f", first, last))
        #expect(last > 0.9 && last > first + 0.5)
    }
}
