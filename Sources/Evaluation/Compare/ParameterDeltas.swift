// rlhub — how far two checkpoints of the same architecture are apart, tensor by tensor.
//
//   relative L2 of tensor w   = ‖w_A − w_B‖₂ / ‖w_B‖₂      (Float64 accumulation)
//
// summarised per group of the Hugging Face name: `embed` (model.embed_tokens), `layer N`
// (model.layers.N.*), `norm` (model.norm) and `head` (lm_head, absent when tied).
import LM
import RLHubCore

/// The relative L2 distance of one named tensor between two models.
public struct TensorDelta: Codable, Sendable, Equatable {
    /// Hugging Face tensor name.
    public var name: String
    /// ``ParameterDeltas/group(of:)`` of the name.
    public var group: String
    /// ‖A − B‖₂.
    public var normDifference: Double
    /// ‖B‖₂.
    public var normB: Double
    /// ‖A − B‖₂ / ‖B‖₂ (‖A − B‖₂ itself when ‖B‖₂ = 0).
    public var relativeL2: Double

    enum CodingKeys: String, CodingKey {
        case name, group, normDifference = "norm_difference", normB = "norm_b", relativeL2 = "relative_l2"
    }
}

/// Max and mean relative L2 over the tensors of one group (a layer, the embedding, …).
public struct GroupDelta: Codable, Sendable, Equatable {
    /// `embed`, `layer N`, `norm` or `head`.
    public var group: String
    /// The layer index for `layer N`, else nil.
    public var layer: Int?
    public var tensors: Int
    public var maxRelativeL2: Double
    public var meanRelativeL2: Double

    enum CodingKeys: String, CodingKey {
        case group, layer, tensors, maxRelativeL2 = "max_relative_l2", meanRelativeL2 = "mean_relative_l2"
    }
}

/// Per-tensor parameter deltas between two models that share an architecture.
public enum ParameterDeltas {
    /// The config fields that fix the parameter arena's names and shapes.
    ///
    /// RoPE θ, RMSNorm ε and the position limit change the function but not the tensors, so
    /// checkpoints differing only there still compare.
    public static func architectureFields(_ c: LlamaConfig) -> [(key: String, value: String)] {
        [("hidden_size", "\(c.hiddenSize)"), ("intermediate_size", "\(c.intermediateSize)"),
         ("num_hidden_layers", "\(c.numHiddenLayers)"), ("num_attention_heads", "\(c.numAttentionHeads)"),
         ("num_key_value_heads", "\(c.numKeyValueHeads)"), ("head_dim", "\(c.headDim)"),
         ("vocab_size", "\(c.vocabSize)"), ("tie_word_embeddings", "\(c.tieWordEmbeddings)")]
    }

    /// Throws when the two configs differ in an ``architectureFields(_:)`` field, naming both
    /// references and the first differing field.
    public static func requireSameArchitecture(
        _ a: LlamaConfig, _ b: LlamaConfig, refA: String, refB: String
    ) throws(InputError) {
        for (fa, fb) in zip(architectureFields(a), architectureFields(b)) where fa.value != fb.value {
            throw InputError(
                file: "\(refA) vs \(refB)", field: fa.key,
                message: "different architectures (\(fa.value) vs \(fb.value)); compare needs the same shapes")
        }
    }

    /// The group of a Hugging Face tensor name: `layer N` for `model.layers.N.…`, `embed`,
    /// `norm`, `head`, or the name itself for anything else.
    public static func group(of name: String) -> (name: String, layer: Int?) {
        let prefix = "model.layers."
        if name.hasPrefix(prefix) {
            let rest = name.dropFirst(prefix.count)
            if let dot = rest.firstIndex(of: "."), let l = Int(rest[..<dot]) { return ("layer \(l)", l) }
        }
        switch name {
        case "model.embed_tokens.weight": return ("embed", nil)
        case "model.norm.weight": return ("norm", nil)
        case "lm_head.weight": return ("head", nil)
        default: return (name, nil)
        }
    }

    /// ‖A − B‖ / ‖B‖ of every tensor of the arena, in arena order.
    /// - precondition: both models have the same layout (see ``requireSameArchitecture(_:_:refA:refB:)``).
    public static func tensors(_ a: LlamaModel, _ b: LlamaModel) -> [TensorDelta] {
        precondition(a.layout.entries == b.layout.entries, "parameter deltas need the same architecture")
        let pa = a.parameters.pointer, pb = b.parameters.pointer
        return a.layout.entries.map { e in
            var diff = 0.0, norm = 0.0
            for i in e.offset..<(e.offset + e.count) {
                let x = Double(pa[i]), y = Double(pb[i])
                diff += (x - y) * (x - y)
                norm += y * y
            }
            let d = diff.squareRoot(), n = norm.squareRoot()
            return TensorDelta(
                name: e.name, group: group(of: e.name).name, normDifference: d, normB: n,
                relativeL2: n > 0 ? d / n : d)
        }
    }

    /// Max and mean relative L2 per group: embed, layer 0 … L−1, norm, head, then anything else.
    public static func summarize(_ deltas: [TensorDelta]) -> [GroupDelta] {
        var order: [String] = []
        var byGroup: [String: [Double]] = [:]
        for d in deltas {
            if byGroup[d.group] == nil { order.append(d.group) }
            byGroup[d.group, default: []].append(d.relativeL2)
        }
        func rank(_ g: String) -> (Int, Int) {
            if g.hasPrefix("layer "), let l = Int(g.dropFirst(6)) { return (1, l) }
            switch g {
            case "embed": return (0, 0)
            case "norm": return (2, 0)
            case "head": return (3, 0)
            default: return (4, order.firstIndex(of: g) ?? 0)
            }
        }
        return order.sorted { rank($0) < rank($1) }.map { g in
            let v = byGroup[g] ?? []
            let layer = g.hasPrefix("layer ") ? Int(g.dropFirst(6)) : nil
            return GroupDelta(
                group: g, layer: layer, tensors: v.count, maxRelativeL2: v.max() ?? 0,
                meanRelativeL2: v.isEmpty ? 0 : v.reduce(0, +) / Double(v.count))
        }
    }
}
