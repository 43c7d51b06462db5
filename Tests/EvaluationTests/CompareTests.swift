// Parameter deltas and per-token KL between two models (the library half of `rlhub compare`).
import Foundation
import LM
import RLHubCore
import Testing
import Evaluation

/// A tiny model and an independent copy of its weights.
private func tinyPair(seed: UInt64 = 1) throws -> (LlamaModel, LlamaModel) {
    let config = try LlamaConfig.preset("tiny")
    let a = LlamaModel(config: config, seed: seed)
    let b = LlamaModel(config: config)
    b.copyParameters(from: a)
    return (a, b)
}

/// Token sequences of different lengths (ids inside the vocabulary) and every row but the last.
private func sequences(vocab: Int) -> ([[Int32]], [[Int]]) {
    let seqs: [[Int32]] = [5, 9, 3, 12].enumerated().map { s, n in
        (0..<n).map { i in Int32((7 * i + 3 * s + 1) % vocab) }
    }
    return (seqs, seqs.map { Array(0..<($0.count - 1)) })
}

/// KL(softmax(p) ‖ softmax(q)) the textbook way: probabilities, then Σ p log(p/q), all Float64.
private func naiveKL(_ p: [Float], _ q: [Float]) -> Double {
    let ep = p.map { exp(Double($0)) }, eq = q.map { exp(Double($0)) }
    let zp = ep.reduce(0, +), zq = eq.reduce(0, +)
    return zip(ep, eq).reduce(0.0) { acc, e in
        let pi = e.0 / zp, qi = e.1 / zq
        return acc + pi * log(pi / qi)
    }
}

@Suite struct CompareTests {
    @Test func aModelAgainstItselfHasZeroDeltasAndZeroKL() throws {
        let (a, b) = try tinyPair()
        let deltas = ParameterDeltas.tensors(a, b)
        #expect(deltas.count == a.layout.entries.count)
        #expect(deltas.allSatisfy { $0.relativeL2 == 0 && $0.normB > 0 })
        let groups = ParameterDeltas.summarize(deltas)
        #expect(groups.map(\.group) == ["embed"] + (0..<5).map { "layer \($0)" } + ["norm"])
        #expect(groups.dropFirst().first?.tensors == 9)
        let (seqs, rows) = sequences(vocab: a.config.vocabSize)
        let kl = TokenKL.summary(a: a, b: b, sequences: seqs, rows: rows)
        #expect(kl.mean == 0 && kl.max == 0)
        #expect(kl.tokens == rows.joined().count && kl.sequences == 4)
        // The same object on both sides: logits are copied out before the second forward.
        #expect(TokenKL.summary(a: a, b: a, sequences: seqs, rows: rows).max == 0)
    }

    @Test func aPerturbedCopyHasTheHandComputedDeltaAndPositiveKL() throws {
        let (a, b) = try tinyPair()
        let name = "model.layers.2.mlp.up_proj.weight"
        let e = try #require(b.layout.entry(named: name))
        // A = B + δ on one tensor: ‖A − B‖/‖B‖ = ‖δ‖/‖B‖.
        var dd = 0.0, bb = 0.0
        for i in 0..<e.count {
            let delta = Float(0.01) * Float((i % 7) - 3)
            let bv = Double(b.parameters.pointer[e.offset + i])
            a.parameters.pointer[e.offset + i] += delta
            let diff = Double(a.parameters.pointer[e.offset + i]) - bv
            dd += diff * diff
            bb += bv * bv
        }
        let expected = (dd / bb).squareRoot()
        let deltas = ParameterDeltas.tensors(a, b)
        let changed = try #require(deltas.first { $0.name == name })
        #expect(abs(changed.relativeL2 - expected) <= 1e-12 * expected, "\(changed.relativeL2) vs \(expected)")
        #expect(deltas.filter { $0.relativeL2 != 0 }.map(\.name) == [name])
        let layer2 = try #require(ParameterDeltas.summarize(deltas).first { $0.layer == 2 })
        #expect(layer2.maxRelativeL2 == changed.relativeL2)
        #expect(abs(layer2.meanRelativeL2 - changed.relativeL2 / 9) < 1e-15)
        let (seqs, rows) = sequences(vocab: a.config.vocabSize)
        let kl = TokenKL.summary(a: a, b: b, sequences: seqs, rows: rows)
        #expect(kl.mean > 0 && kl.max >= kl.mean && kl.mean.isFinite)
    }

    @Test func klMatchesANaiveFloat64ComputationRowByRow() throws {
        let (a, _) = try tinyPair(seed: 1)
        let b = LlamaModel(config: a.config, seed: 2)
        let V = a.config.vocabSize
        let (seqs, rows) = sequences(vocab: V)
        // Packed (one call for all sequences) and one sequence per chunk give the same values.
        let packed = TokenKL.perToken(a: a, b: b, sequences: seqs, rows: rows)
        let single = TokenKL.perToken(a: a, b: b, sequences: seqs, rows: rows, maxTokens: 1)
        var maxDiff = 0.0
        for (s, seq) in seqs.enumerated() {
            func logits(_ m: LlamaModel) -> [Float] {
                let cache = KVCache(config: m.config, slots: 1, capacity: seq.count)
                let p = m.extend(cache: cache, tokens: seq, slots: [Int32](repeating: 0, count: seq.count), logitRows: rows[s])
                return Array(UnsafeBufferPointer(start: p, count: rows[s].count * V))
            }
            let la = logits(a), lb = logits(b)
            for k in rows[s].indices {
                let ref = naiveKL(Array(la[(k * V)..<((k + 1) * V)]), Array(lb[(k * V)..<((k + 1) * V)]))
                #expect(ref > 0 && ref.isFinite)
                maxDiff = max(maxDiff, abs(packed[s][k] - ref) / ref, abs(single[s][k] - ref) / ref)
            }
        }
        #expect(maxDiff < 1e-4, "max relative difference from the naive KL: \(maxDiff)")
    }

    @Test func differentArchitecturesNameTheField() throws {
        let tiny = try LlamaConfig.preset("tiny")
        var other = tiny
        other.numHiddenLayers = 3
        #expect(throws: InputError(file: "A vs B", field: "num_hidden_layers",
                                   message: "different architectures (5 vs 3); compare needs the same shapes")) {
            try ParameterDeltas.requireSameArchitecture(tiny, other, refA: "A", refB: "B")
        }
        var theta = tiny
        theta.ropeTheta = 500
        try ParameterDeltas.requireSameArchitecture(tiny, theta, refA: "A", refB: "B")
    }
}
