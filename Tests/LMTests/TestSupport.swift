// Shared helpers for the LM tests.
import Foundation
import LM
import Tensor
import Testing

/// A small config for exhaustive checks: 2 layers, GQA 4/2, vocab 23.
func microConfig(tied: Bool = true) -> LlamaConfig {
    LlamaConfig(
        hiddenSize: 16, intermediateSize: 24, numHiddenLayers: 2, numAttentionHeads: 4,
        numKeyValueHeads: 2, rmsNormEps: 1e-5, ropeTheta: 1000, vocabSize: 23,
        tieWordEmbeddings: tied, maxPositionEmbeddings: 64, initializerRange: 0.3)
}

/// A fresh temporary folder.
func temporaryFolder(_ name: String = "rlhub-test") -> URL {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("\(name)-\(UUID().uuidString)")
    try? FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
}

/// Array equality outside `#expect`: a failing `#expect(a == b)` on million-element arrays makes
/// Swift Testing compute a diff that takes minutes.
func bitEqual(_ a: [Float], _ b: [Float]) -> Bool { a == b }
