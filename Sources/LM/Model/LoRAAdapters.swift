// rlhub — LoRA adapters of a Llama model (Hu et al. 2021), with PEFT's conventions:
//
//   W' = W + s·B·A,   A: (r, in) ~ U(−1/√in, 1/√in) (kaiming_uniform with a = √5),   B: (out, r) = 0,
//   s = α / r
//
// so an adapted model starts as its base, bit for bit. Adapters live in their own flat arena (and
// gradients beside it), tensors named as PEFT saves them
// (`base_model.model.model.layers.L.self_attn.q_proj.lora_A.weight`). The base stays frozen: with
// adapters on, the training backward computes no base gradient at all.
import Foundation
import Tensor

/// A projection LoRA can adapt (PEFT's `target_modules` names).
public enum LoRATarget: String, CaseIterable, Codable, Sendable, Comparable {
    case q = "q_proj", k = "k_proj", v = "v_proj", o = "o_proj"
    case gate = "gate_proj", up = "up_proj", down = "down_proj"

    public static func < (a: Self, b: Self) -> Bool {
        allCases.firstIndex(of: a)! < allCases.firstIndex(of: b)!
    }

    /// The product of a decoder block this projection is part of.
    var product: BlockProduct {
        switch self {
        case .q, .k, .v: .qkv
        case .o: .o
        case .gate, .up: .gateUp
        case .down: .down
        }
    }

    /// PEFT's module path below `model.layers.L.`.
    var modulePath: String {
        switch self {
        case .q, .k, .v, .o: "self_attn." + rawValue
        case .gate, .up, .down: "mlp." + rawValue
        }
    }
}

/// The four matrix products of a decoder block (q/k/v and gate/up are fused).
enum BlockProduct { case qkv, o, gateUp, down }

/// What to adapt and how: rank r, α, the target projections.
public struct LoRAConfig: Codable, Sendable, Equatable {
    public var rank: Int
    public var alpha: Double
    /// Sorted, without duplicates.
    public var targets: [LoRATarget]

    public init(rank: Int, alpha: Double, targets: [LoRATarget]) {
        self.rank = rank
        self.alpha = alpha
        self.targets = Array(Set(targets)).sorted()
    }

    /// s = α / r.
    public var scale: Float { Float(alpha / Double(rank)) }
}

/// The adapters of one model: parameters, gradients and where each adapter applies.
public final class LoRAAdapters: @unchecked Sendable {
    /// One adapter: A and B in the arena, the base weight it adapts and where its output goes.
    public struct Adapter: Sendable {
        public let layer: Int
        public let target: LoRATarget
        /// Offsets of A (r × in) and B (out × r) in ``LoRAAdapters/parameters``.
        public let a: Int, b: Int
        public let inFeatures: Int, outFeatures: Int
        /// Offset of the adapted weight (out × in) in the base model's arena.
        public let baseWeight: Int
        /// First column of this projection in the fused output it shares (q, k, v in qkv; gate, up in gate/up).
        public let outputColumn: Int
        /// PEFT's names of A and B.
        public var nameA: String { "base_model.model.model.layers.\(layer).\(target.modulePath).lora_A.weight" }
        public var nameB: String { "base_model.model.model.layers.\(layer).\(target.modulePath).lora_B.weight" }
    }

    public let config: LoRAConfig
    public let adapters: [Adapter]
    /// Every A and B, laid out by ``adapters``.
    public let parameters: FloatBuffer
    /// Gradients with the same layout, allocated on first use.
    public private(set) lazy var gradients = FloatBuffer(count: parameters.count)
    /// (L, N, Σr) the forward's u = s·x·Aᵀ per adapter, and the backward's du scratch; grown with N.
    var activations: (u: FloatBuffer, du: FloatBuffer, rows: Int)?

    /// Adapters for `model` with PEFT's initialisation; A draws from a counter-based stream keyed by
    /// (seed, adapter index, 4096-element block), so it does not depend on the thread count. A nil
    /// seed leaves A and B zero, for adapters about to be read from a checkpoint.
    public init(for model: LlamaModel, config: LoRAConfig, seed: UInt64?) {
        self.config = config
        let c = model.config, r = config.rank
        let C = c.hiddenSize, I = c.intermediateSize, D = c.headDim
        let Q = c.numAttentionHeads * D, KV = c.numKeyValueHeads * D
        var adapters: [Adapter] = []
        var offset = 0
        for (l, lw) in model.layout.layers.enumerated() {
            for t in config.targets {
                let (inF, outF, base, column): (Int, Int, Int, Int) = switch t {
                case .q: (C, Q, lw.qkv, 0)
                case .k: (C, KV, lw.qkv + Q * C, Q)
                case .v: (C, KV, lw.qkv + (Q + KV) * C, Q + KV)
                case .o: (Q, C, lw.o, 0)
                case .gate: (C, I, lw.gateUp, 0)
                case .up: (C, I, lw.gateUp + I * C, I)
                case .down: (I, C, lw.down, 0)
                }
                adapters.append(Adapter(
                    layer: l, target: t, a: offset, b: offset + r * inF, inFeatures: inF, outFeatures: outF,
                    baseWeight: base, outputColumn: column))
                offset += r * inF + outF * r
            }
        }
        self.adapters = adapters
        parameters = FloatBuffer(count: offset)
        guard let seed else { return }
        for (index, adapter) in adapters.enumerated() {
            let bound = 1 / Float(adapter.inFeatures).squareRoot()
            let a = parameters.pointer + adapter.a
            let n = r * adapter.inFeatures
            for block in stride(from: 0, to: n, by: 4096) {
                var rng = CounterRNG(
                    seed: seed, purpose: .adapterInitialization, step: UInt64(index), index: UInt64(block / 4096))
                for i in block..<min(n, block + 4096) { a[i] = (rng.nextUniform() * 2 - 1) * bound }
            }
        }
        parameters.markModified()
    }

    /// Number of adapter parameters (what the optimizer updates).
    public var parameterCount: Int { parameters.count }

    /// Sets all adapter gradients to zero (backward accumulates).
    public func zeroGradients() { gradients.zero() }

    /// Adapters of layer `l`, in target order.
    func adapters(ofLayer l: Int) -> ArraySlice<Adapter> {
        let perLayer = config.targets.count
        return adapters[(l * perLayer)..<((l + 1) * perLayer)]
    }

    /// The `u` (adapter k's at k·N·r) and `du` buffers for a batch of N rows, grown when N grows.
    func workspace(rows N: Int) -> (u: FloatBuffer, du: FloatBuffer) {
        if let w = activations, w.rows >= N { return (w.u, w.du) }
        activations = nil
        let u = FloatBuffer(count: adapters.count * N * config.rank)
        let du = FloatBuffer(count: N * config.rank)
        activations = (u, du, N)
        return (u, du)
    }

    /// Adds the adapters of layer `l` on `product` to its output: `out[:, column..] += s·(x·Aᵀ)·Bᵀ`,
    /// keeping each adapter's u in `u` for the backward.
    func forward(
        layer l: Int, product: BlockProduct, out: UnsafeMutablePointer<Float>, outStride: Int,
        inp: UnsafePointer<Float>, N: Int, u: FloatBuffer
    ) {
        let r = config.rank
        for k in adapters(ofLayer: l).indices where adapters[k].target.product == product {
            let ad = adapters[k]
            LoRA.forward(
                out: out + ad.outputColumn, outStride: outStride, u: u.pointer + k * N * r, inp: inp,
                inStride: ad.inFeatures, a: parameters.pointer + ad.a, b: parameters.pointer + ad.b,
                N: N, I: ad.inFeatures, O: ad.outFeatures, r: r, scale: config.scale)
        }
    }

    /// Backward of ``forward(layer:product:out:outStride:inp:N:u:)``: accumulates the adapters'
    /// gradients and adds their part of ∂L/∂x to `dInp`.
    func backward(
        layer l: Int, product: BlockProduct, dInp: UnsafeMutablePointer<Float>, dOut: UnsafePointer<Float>,
        dOutStride: Int, inp: UnsafePointer<Float>, N: Int, u: FloatBuffer, du: FloatBuffer
    ) {
        let r = config.rank
        for k in adapters(ofLayer: l).indices where adapters[k].target.product == product {
            let ad = adapters[k]
            LoRA.backward(
                dInp: dInp, dA: gradients.pointer + ad.a, dB: gradients.pointer + ad.b, du: du.pointer,
                dOut: dOut + ad.outputColumn, dOutStride: dOutStride, inp: inp, inStride: ad.inFeatures,
                u: u.pointer + k * N * r, a: parameters.pointer + ad.a, b: parameters.pointer + ad.b,
                N: N, I: ad.inFeatures, O: ad.outFeatures, r: r, scale: config.scale)
        }
    }
}
