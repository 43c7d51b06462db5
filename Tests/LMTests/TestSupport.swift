// Shared helpers for the LM tests.
import Foundation
import LM
import Tensor
import TestSupport
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
    URL(fileURLWithPath: makeTemporaryFolder(prefix: name))
}

/// Array equality outside `#expect`: a failing `#expect(a == b)` on million-element arrays makes
/// Swift Testing compute a diff that takes minutes.
func bitEqual(_ a: [Float], _ b: [Float]) -> Bool { a == b }

/// The 3-layer model the numpy reference checks use (seed 7, character vocabulary), saved as an HF
/// folder `ref-model` in a fresh temporary folder.
func savedReferenceModel() throws -> (model: LlamaModel, folder: URL) {
    let config = LlamaConfig(
        hiddenSize: 64, intermediateSize: 96, numHiddenLayers: 3, numAttentionHeads: 4,
        numKeyValueHeads: 2, rmsNormEps: 1e-5, ropeTheta: 10000, vocabSize: CharTokenizer.standard.vocabularySize,
        tieWordEmbeddings: true, maxPositionEmbeddings: 128, initializerRange: 0.1)
    let model = LlamaModel(config: config, seed: 7)
    let dir = temporaryFolder().appendingPathComponent("ref-model")
    try HFCheckpoint.save(LoadedModel(model: model, tokenizer: CharTokenizer.standard, source: "test"), to: dir.path)
    return (model, dir)
}
