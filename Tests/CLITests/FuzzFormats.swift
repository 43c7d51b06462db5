// Structured seeds the fuzz suite mutates: a tiny Llama GGUF file (whose every count, length,
// type and offset field is recorded while it is written, to be overwritten with edge values) and
// tar archives built entry by entry.
import Foundation

/// A GGUF file as fields: metadata, tensor infos, data.
struct GGUFSeed {
    enum Value {
        case u32(UInt32), i32(Int32), u64(UInt64), f32(Float), bool(Bool), string(String)
        case array(type: UInt32, [Value])
        /// Arrays of arrays, `depth` levels, around one u32 (written in a loop, not recursively).
        case nested(depth: Int)
    }
    var version: UInt32 = 3
    var metadata: [(String, Value)]
    var tensors: [(name: String, dims: [UInt64], type: UInt32, offset: UInt64)]
    var data: [UInt8]

    /// A one-layer Llama (C 8, 2 heads of 4, 1 KV head, I 16) with a 6-token byte-level vocabulary.
    static func tinyLlama() -> GGUFSeed {
        let tokens = ["a", "b", "ab", "Ġ", "<|im_start|>", "<|im_end|>"]
        let metadata: [(String, Value)] = [
            ("general.architecture", .string("llama")), ("llama.block_count", .u32(1)),
            ("llama.context_length", .u32(64)), ("llama.embedding_length", .u32(8)),
            ("llama.feed_forward_length", .u32(16)), ("llama.attention.head_count", .u32(2)),
            ("llama.attention.head_count_kv", .u32(1)), ("llama.rope.freq_base", .f32(10000)),
            ("llama.attention.layer_norm_rms_epsilon", .f32(1e-5)), ("llama.vocab_size", .u32(UInt32(tokens.count))),
            ("tokenizer.ggml.model", .string("gpt2")), ("tokenizer.ggml.pre", .string("smollm")),
            ("tokenizer.ggml.tokens", .array(type: 8, tokens.map { .string($0) })),
            ("tokenizer.ggml.merges", .array(type: 8, [.string("a b")])),
            ("tokenizer.ggml.token_type", .array(type: 5, [1, 1, 1, 1, 3, 3].map { .i32($0) })),
            ("tokenizer.ggml.bos_token_id", .u32(4)), ("tokenizer.ggml.eos_token_id", .u32(5)),
        ]
        var shapes: [(String, [UInt64])] = [("token_embd.weight", [8, UInt64(tokens.count)]), ("output_norm.weight", [8])]
        for (name, dims) in [("attn_norm", [8]), ("attn_q", [8, 8]), ("attn_k", [8, 4]), ("attn_v", [8, 4]),
                             ("attn_output", [8, 8]), ("ffn_norm", [8]), ("ffn_gate", [8, 16]), ("ffn_up", [8, 16]),
                             ("ffn_down", [16, 8])] as [(String, [UInt64])] {
            shapes.append(("blk.0.\(name).weight", dims))
        }
        var tensors: [(name: String, dims: [UInt64], type: UInt32, offset: UInt64)] = []
        var data: [UInt8] = []
        for (name, dims) in shapes {
            tensors.append((name, dims, 0, UInt64(data.count)))
            let count = Int(dims.reduce(1, *))
            for i in 0..<count { withUnsafeBytes(of: Float(i % 7) * 0.01) { data += $0 } }
            while data.count % 32 != 0 { data.append(0) }
        }
        return GGUFSeed(metadata: metadata, tensors: tensors, data: data)
    }

    /// The file's bytes, and the (offset, width) of every count, length, type, dimension and
    /// offset field in them.
    func serialized() -> (bytes: [UInt8], fields: [(offset: Int, width: Int)]) {
        var out: [UInt8] = Array("GGUF".utf8)
        var fields: [(Int, Int)] = []
        func put<T: FixedWidthInteger>(_ v: T, field: Bool = true) {
            if field { fields.append((out.count, MemoryLayout<T>.size)) }
            withUnsafeBytes(of: v.littleEndian) { out += $0 }
        }
        func string(_ s: String) { put(UInt64(s.utf8.count)); out += Array(s.utf8) }
        func value(_ v: Value) {
            switch v {
            case .u32(let x): put(x, field: true)
            case .i32(let x): put(x, field: true)
            case .u64(let x): put(x, field: true)
            case .f32(let x): put(x.bitPattern, field: false)
            case .bool(let b): put(UInt8(b ? 1 : 0))
            case .string(let s): string(s)
            case .array(let type, let items):
                put(type)
                put(UInt64(items.count))
                items.forEach(value)
            case .nested(let depth):
                for level in 0..<depth {
                    put(UInt32(level == depth - 1 ? 4 : 9), field: false)
                    put(UInt64(1), field: false)
                }
                put(UInt32(1), field: false)
            }
        }
        func typeCode(_ v: Value) -> UInt32 {
            switch v {
            case .u32: 4
            case .i32: 5
            case .f32: 6
            case .bool: 7
            case .string: 8
            case .array, .nested: 9
            case .u64: 10
            }
        }
        put(version)
        put(UInt64(tensors.count))
        put(UInt64(metadata.count))
        for (key, v) in metadata {
            string(key)
            put(typeCode(v))
            value(v)
        }
        for t in tensors {
            string(t.name)
            put(UInt32(t.dims.count))
            t.dims.forEach { put($0) }
            put(t.type)
            put(t.offset)
        }
        while out.count % 32 != 0 { out.append(0) }
        return (out + data, fields)
    }

    /// One structure-aware mutation (the caller may apply several).
    mutating func mutate(_ rng: inout FuzzRNG) {
        let edge = rng.pick(boundaryIntegers)
        switch rng.below(7) {
        case 0:  // a metadata number to an edge value, keeping or changing its width
            let i = rng.below(metadata.count)
            metadata[i].1 = rng.chance(50) ? .u32(UInt32(truncatingIfNeeded: edge)) : .u64(edge)
        case 1:  // a tensor dimension or offset
            let i = rng.below(tensors.count)
            if rng.chance(50), !tensors[i].dims.isEmpty {
                tensors[i].dims[rng.below(tensors[i].dims.count)] = edge
            } else {
                tensors[i].offset = edge
            }
        case 2:  // a tensor type or rank
            let i = rng.below(tensors.count)
            if rng.chance(50) { tensors[i].type = UInt32(truncatingIfNeeded: rng.pick([1, 2, 3, 8, 12, 30, 40, 1000] + boundaryIntegers)) }
            else { tensors[i].dims += [1, 1, 1, 1, 1] }
        case 3:  // a metadata entry dropped, repeated or given another type
            let i = rng.below(metadata.count)
            switch rng.below(3) {
            case 0: metadata.remove(at: i)
            case 1: metadata.append(metadata[i])
            default: metadata[i].1 = rng.pick([.string("9"), .bool(true), .f32(.nan), .array(type: 4, [.u32(1)])])
            }
        case 4:  // nested arrays (an array of arrays of …)
            metadata.append(("rlhub.nested", .nested(depth: rng.pick([2, 64, 1000, 100_000]))))
        case 5:  // the vocabulary: duplicates, empty tokens, bad merges, huge ids
            switch rng.below(3) {
            case 0: metadata.append(("tokenizer.ggml.eos_token_id", .u64(edge)))
            case 1: metadata.append(("tokenizer.ggml.merges", .array(type: 8, [.string(rng.pick(["a", " ", "a  b", "x y", "a b c"]))])))
            default: metadata.append(("tokenizer.ggml.tokens", .array(type: 8, [.string("a"), .string("a"), .string("")])))
            }
        default:
            version = UInt32(truncatingIfNeeded: rng.pick([1, 2, 4, 0] + boundaryIntegers))
        }
    }
}

/// A tar archive written entry by entry (ustar headers, optionally a pax header before an entry).
struct TarSeed {
    struct Entry {
        var name: String
        var type: UInt8 = UInt8(ascii: "0")
        var content: [UInt8] = Array("x".utf8)
        /// The size written in the header (nil: the content's).
        var claimedSize: String? = nil
        var linkName = ""
        var pax: [String: String] = [:]
    }
    var entries: [Entry]

    static func checkpoint() -> TarSeed {
        TarSeed(entries: [
            Entry(name: "./", type: UInt8(ascii: "5"), content: []),
            Entry(name: "config.json", content: Array(#"{"hidden_size": 8}"#.utf8)),
            Entry(name: "sub/", type: UInt8(ascii: "5"), content: []),
            Entry(name: "sub/model.safetensors", content: [UInt8](repeating: 7, count: 600)),
        ])
    }

    var bytes: [UInt8] {
        var out: [UInt8] = []
        for e in entries {
            if !e.pax.isEmpty {
                let body = e.pax.sorted { $0.key < $1.key }.map { k, v -> String in
                    let rest = " \(k)=\(v)\n"
                    var n = rest.utf8.count + 1
                    while "\(n)\(rest)".utf8.count != n { n += 1 }
                    return "\(n)\(rest)"
                }.joined()
                out += Self.header(name: "PaxHeader", type: UInt8(ascii: "x"), size: String(body.utf8.count, radix: 8), link: "")
                out += Self.padded(Array(body.utf8))
            }
            out += Self.header(name: e.name, type: e.type, size: e.claimedSize ?? String(e.content.count, radix: 8), link: e.linkName)
            out += Self.padded(e.content)
        }
        return out + [UInt8](repeating: 0, count: 1024)
    }

    static func padded(_ bytes: [UInt8]) -> [UInt8] { bytes + [UInt8](repeating: 0, count: (512 - bytes.count % 512) % 512) }

    static func header(name: String, type: UInt8, size: String, link: String) -> [UInt8] {
        var h = [UInt8](repeating: 0, count: 512)
        func field(_ at: Int, _ width: Int, _ text: [UInt8]) { for (i, b) in text.prefix(width).enumerated() { h[at + i] = b } }
        field(0, 100, Array(name.utf8))
        field(100, 8, Array("0000644\0".utf8))
        field(108, 8, Array("0000000\0".utf8))
        field(116, 8, Array("0000000\0".utf8))
        field(124, 12, Array(size.utf8))
        field(136, 12, Array("00000000000\0".utf8))
        h[156] = type
        field(157, 100, Array(link.utf8))
        field(257, 8, Array("ustar\u{0}00".utf8))
        field(148, 8, Array("        ".utf8))
        let sum = h.reduce(0) { $0 + Int($1) }
        field(148, 8, Array(String(format: "%06o\0 ", sum).utf8))
        return h
    }

    mutating func mutate(_ rng: inout FuzzRNG) {
        let i = rng.below(entries.count)
        switch rng.below(6) {
        case 0:
            entries[i].name = rng.pick(["../escape", "/etc/passwd", "", "a/../../b", "sub/../../x", String(repeating: "d/", count: 60) + "f",
                                        "ok\u{0}hidden", "\u{FF}\u{FE}", "sub", "config.json", "./.", "a//b"])
        case 1:
            entries[i].type = rng.pick(Array("1234567gKLSxV".utf8) + [0, 0xFF])
            entries[i].linkName = rng.pick(["../../etc/passwd", "config.json", "/tmp/x", ""])
        case 2:
            entries[i].claimedSize = rng.pick(["77777777777", "00000000000", "-1", "zzzz", "1" + String(repeating: "7", count: 11),
                                               String(UInt64(1) << 33, radix: 8), "\u{80}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{FF}\u{FF}\u{FF}"])
        case 3:
            entries[i].pax = [rng.pick(["path", "size", "linkpath", "GNU.sparse.size", "uid"]):
                                rng.pick(["../x", "99999999999999999999", "-5", "1e3", "", "a/b"])]
        case 4:
            entries.append(entries[i])
        default:
            entries += (0..<rng.pick([50, 500])).map { Entry(name: "many/\($0)") }
        }
    }
}
