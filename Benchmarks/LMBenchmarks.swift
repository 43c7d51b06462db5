// rlhub — model benchmarks: forward, train step (fwd+bwd+AdamW), batched decode.
//
// Shapes follow the issue: train on 64 sequences × 96 tokens (micro-batches of 16 sequences),
// decode 64 sequences at once after a 32-token prompt. FLOPs are model FLOPs (2 per
// multiply-add of every matmul and attention product; backward = 2 × forward), not counting
// the LM head's recomputation in backward, so the fractions of peak are conservative.
import Foundation
import LM
import Tensor

struct LMBenchmarks {
    let runner: BenchmarkRunner
    let preset: String
    let sequences = 64, length = 96, microBatch = 16
    let decodeBatch = 64, promptLength = 32, decodeSteps = 32

    func run() throws {
        for precision in runner.precisions { try run(precision) }
    }

    func run(_ precision: GEMM.Precision) throws {
        let config = try LlamaConfig.preset(preset)
        let model = LlamaModel(config: config, seed: 0)
        model.trainingPrecision = precision
        model.inferencePrecision = precision
        runner.log("\(preset): \(model.parameterCount) parameters, \(precision.rawValue) products")
        var rng = CounterRNG(seed: 1, purpose: .benchmark)
        let data: [[Int32]] = (0..<sequences).map { _ in
            (0..<length).map { _ in Int32(rng.nextInt(below: config.vocabSize)) }
        }
        let batches = stride(from: 0, to: sequences, by: microBatch).map {
            TrainingBatch(sequences: Array(data[$0..<min(sequences, $0 + microBatch)]))
        }
        let tokens = sequences * length
        let fwdFLOPs = batches.reduce(0.0) {
            $0 + model.forwardFLOPs(tokens: $1.rowCount, logitRows: $1.activeRows.count, attentionPairs: $1.attentionPairs)
        }
        let reps = preset == "tiny" ? 5 : 3

        // Forward only.
        PeakMemory.reset()
        for b in batches { model.forward(b) }  // warm-up, allocates activations
        var times: [Double] = []
        for _ in 0..<reps { times.append(timed { for b in batches { model.forward(b) } }) }
        runner.record(
            runner.name("lm.forward.\(preset)", precision), seconds: median(times), flops: fwdFLOPs, tokens: tokens, rss: PeakMemory.mib(),
            detail: "\(sequences)×\(length) tokens, micro-batches of \(microBatch)", precision: precision)

        // Train step: forward + backward of every micro-batch, clip, AdamW.
        PeakMemory.reset()
        let optimizer = AdamW(layout: model.layout)
        func trainStep() {
            model.zeroGradients()
            for b in batches {
                model.forward(b)
                model.backward(dLogprobs: b.targets.map { $0 >= 0 ? -1 / Float(tokens) : 0 })
            }
            GradientClipping.clip(model.gradients, maxNorm: 1)
            optimizer.update(parameters: model.parameters, gradients: model.gradients, lr: 1e-5)
        }
        trainStep()  // warm-up
        times = []
        for _ in 0..<reps { times.append(timed(trainStep)) }
        runner.record(
            runner.name("lm.train_step.\(preset)", precision), seconds: median(times), flops: 3 * fwdFLOPs, tokens: tokens,
            rss: PeakMemory.mib(),
            detail: "\(sequences)×\(length) tokens, micro-batches of \(microBatch), fwd+bwd+clip+AdamW", precision: precision)
        model.releaseActivations()

        // Batched decode over the KV cache.
        PeakMemory.reset()
        let cache = KVCache(config: config, slots: decodeBatch, capacity: promptLength + decodeSteps + 1)
        var decodeFLOPs = 0.0
        func decode() {
            cache.resetAll()
            let prompt = (0..<decodeBatch).flatMap { b in data[b % sequences].prefix(promptLength) }
            let slots = (0..<decodeBatch).flatMap { b in [Int32](repeating: Int32(b), count: promptLength) }
            var logits = model.extend(
                cache: cache, tokens: Array(prompt), slots: slots,
                logitRows: (0..<decodeBatch).map { $0 * promptLength + promptLength - 1 })
            decodeFLOPs = 0
            let all = (0..<decodeBatch).map { Int32($0) }
            for _ in 0..<decodeSteps {
                let next = (0..<decodeBatch).map { b in argmax(logits + b * config.vocabSize, config.vocabSize) }
                let pairs = cache.lengths.reduce(0) { $0 + Int($1) + 1 }
                decodeFLOPs += model.forwardFLOPs(tokens: decodeBatch, logitRows: decodeBatch, attentionPairs: pairs)
                logits = model.extend(cache: cache, tokens: next, slots: all, logitRows: Array(0..<decodeBatch))
            }
        }
        decode()  // warm-up
        times = []
        var prefillTimes: [Double] = []
        for _ in 0..<reps {
            // Time prefill separately so the decode figure is decode alone.
            let total = timed(decode)
            cache.resetAll()
            let prompt = (0..<decodeBatch).flatMap { b in data[b % sequences].prefix(promptLength) }
            let slots = (0..<decodeBatch).flatMap { b in [Int32](repeating: Int32(b), count: promptLength) }
            let prefill = timed {
                model.extend(cache: cache, tokens: Array(prompt), slots: slots,
                             logitRows: (0..<decodeBatch).map { $0 * promptLength + promptLength - 1 })
            }
            prefillTimes.append(prefill)
            times.append(total - prefill)
        }
        runner.record(
            runner.name("lm.decode.\(preset)", precision), seconds: median(times), flops: decodeFLOPs, tokens: decodeBatch * decodeSteps,
            rss: PeakMemory.mib(),
            detail: "batch \(decodeBatch), \(decodeSteps) greedy steps after a \(promptLength)-token prompt (prefill \(String(format: "%.3f", median(prefillTimes))) s excluded)",
            precision: precision)
    }

    func argmax(_ p: UnsafePointer<Float>, _ n: Int) -> Int32 {
        var best = 0
        for i in 1..<n where p[i] > p[best] { best = i }
        return Int32(best)
    }
}
