// rlhub — LoRA adapters on disk, in PEFT's layout:
//   adapter_config.json         peft_type LORA, r, lora_alpha, target_modules, base_model_name_or_path, …
//   adapter_model.safetensors   base_model.model.model.layers.L.self_attn.q_proj.lora_A.weight (r, in),
//                               … .lora_B.weight (out, r), F32
//   rlhub_base.json             the base's model reference and the SHA-256 of its parameters
//                               (fp32, arena order), so an adapter is never applied to another base
// PEFT's `PeftModel.from_pretrained(base, folder)` reads the first two; rlhub reads what PEFT
// writes for the Llama projections (no DoRA, rsLoRA, bias, rank/alpha patterns or extra modules).
import Crypto
import Foundation
import RLHubCore
import Tensor

/// Reads and writes LoRA adapter folders.
public enum LoRACheckpoint {
    public static let configFile = AdapterFolder.configFile
    public static let weightsFile = "adapter_model.safetensors"
    public static let baseFile = AdapterFolder.baseFile

    /// Whether `folder` holds an adapter (PEFT's `adapter_config.json`).
    public static func isAdapterFolder(_ folder: String) -> Bool {
        FileManager.default.fileExists(atPath: folder + "/" + configFile)
    }

    /// SHA-256 (hex) of a model's parameters as fp32 bytes in arena order: the identity of a base.
    public static func parameterHash(_ model: LlamaModel) -> String {
        let bytes = UnsafeRawBufferPointer(start: model.parameters.pointer, count: model.parameterCount * 4)
        return SHA256.hash(data: bytes).map { String(format: "%02x", $0) }.joined()
    }

    /// Writes the adapter files of `adapters` into `dir` (an existing folder).
    /// - Parameters:
    ///   - baseReference: the base's model reference (`base_model_name_or_path`).
    ///   - baseHash: ``parameterHash(_:)`` of the base.
    public static func writeFiles(
        _ adapters: LoRAAdapters, baseReference: String, baseHash: String, into dir: String
    ) throws {
        let c = adapters.config
        let config: [String: Any] = [
            "peft_type": "LORA", "task_type": "CAUSAL_LM", "base_model_name_or_path": baseReference,
            "r": c.rank, "lora_alpha": c.alpha, "lora_dropout": 0.0, "bias": "none",
            "target_modules": c.targets.map(\.rawValue), "fan_in_fan_out": false, "inference_mode": true,
            "init_lora_weights": true, "use_rslora": false, "use_dora": false, "modules_to_save": NSNull(),
            "rank_pattern": [String: Any](), "alpha_pattern": [String: Any](), "revision": NSNull(),
            "layers_to_transform": NSNull(), "layers_pattern": NSNull(),
        ]
        try JSONSerialization.data(withJSONObject: config, options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes])
            .write(to: URL(fileURLWithPath: dir + "/" + configFile))
        let base: [String: Any] = ["reference": baseReference, "sha256": baseHash]
        try JSONSerialization.data(withJSONObject: base, options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes])
            .write(to: URL(fileURLWithPath: dir + "/" + baseFile))
        let r = c.rank, p = adapters.parameters.pointer
        var tensors: [(name: String, shape: [Int], data: UnsafeBufferPointer<Float>)] = []
        for ad in adapters.adapters {
            tensors.append((ad.nameA, [r, ad.inFeatures], UnsafeBufferPointer(start: p + ad.a, count: r * ad.inFeatures)))
            tensors.append((ad.nameB, [ad.outFeatures, r], UnsafeBufferPointer(start: p + ad.b, count: ad.outFeatures * r)))
        }
        try SafetensorsWriter.write(tensors, metadata: ["format": "pt"], to: dir + "/" + weightsFile)
    }

    /// The adapter folder's base reference and the base's parameter hash when recorded
    /// (``AdapterFolder/base(of:)``).
    public static func base(of folder: String) throws(InputError) -> (reference: String, sha256: String?) {
        try AdapterFolder.base(of: folder)
    }

    /// Reads the adapter folder's configuration, checked against what rlhub implements.
    public static func readConfig(_ folder: String) throws(InputError) -> LoRAConfig {
        let path = folder + "/" + configFile
        let obj = try readObject(path)
        guard (obj["peft_type"] as? String) == "LORA" else {
            throw InputError(file: path, field: "peft_type", message: "must be LORA")
        }
        guard let r = obj["r"] as? Int, r >= 1, r <= 4096 else {
            throw InputError(file: path, field: "r", message: "must be an integer in 1…4096")
        }
        guard let alpha = (obj["lora_alpha"] as? NSNumber)?.doubleValue, alpha > 0, alpha.isFinite else {
            throw InputError(file: path, field: "lora_alpha", message: "must be a positive number")
        }
        let targets: [LoRATarget]
        if (obj["target_modules"] as? String) == "all-linear" {
            targets = LoRATarget.allCases
        } else if let names = obj["target_modules"] as? [String], !names.isEmpty {
            var parsed: [LoRATarget] = []
            for name in names {
                guard let t = LoRATarget(rawValue: name) else {
                    throw InputError(file: path, field: "target_modules", message: "'\(name)' is not a Llama projection rlhub adapts")
                }
                parsed.append(t)
            }
            targets = parsed
        } else {
            throw InputError(file: path, field: "target_modules", message: "must be a list of projection names or all-linear")
        }
        // What PEFT can express and rlhub does not compute is refused, not ignored.
        for (key, allowed) in [("use_rslora", false), ("use_dora", false), ("fan_in_fan_out", false)] {
            if let v = obj[key] as? Bool, v != allowed {
                throw InputError(file: path, field: key, message: "\(v) is not supported")
            }
        }
        if let bias = obj["bias"] as? String, bias != "none" {
            throw InputError(file: path, field: "bias", message: "'\(bias)' is not supported (none only)")
        }
        for key in ["rank_pattern", "alpha_pattern"] {
            if let d = obj[key] as? [String: Any], !d.isEmpty {
                throw InputError(file: path, field: key, message: "per-module ranks and alphas are not supported")
            }
        }
        for key in ["modules_to_save", "layers_to_transform"] where !(obj[key] == nil || obj[key] is NSNull) {
            throw InputError(file: path, field: key, message: "is not supported (must be null)")
        }
        return LoRAConfig(rank: r, alpha: alpha, targets: targets)
    }

    /// Reads the adapter folder's weights into `adapters` (built for the same configuration and base
    /// shape); every tensor must be present with its shape.
    public static func readWeights(_ folder: String, into adapters: LoRAAdapters) throws(InputError) {
        let path = folder + "/" + weightsFile
        let file = try SafetensorsFile(contentsOf: path)
        let r = adapters.config.rank, p = adapters.parameters.pointer
        for ad in adapters.adapters {
            for (name, shape, offset) in [(ad.nameA, [r, ad.inFeatures], ad.a), (ad.nameB, [ad.outFeatures, r], ad.b)] {
                let info = try file.info(name)
                guard info.shape == shape else {
                    throw InputError(file: path, field: name, message: "shape \(info.shape), the base needs \(shape)")
                }
                try file.copyFloats(name, into: UnsafeMutableBufferPointer(start: p + offset, count: shape[0] * shape[1]))
            }
        }
        let expected = Set(adapters.adapters.flatMap { [$0.nameA, $0.nameB] })
        if let extra = file.names.first(where: { !expected.contains($0) }) {
            throw InputError(file: path, field: extra, message: "not an adapter of the configured targets")
        }
        adapters.parameters.markModified()
    }

    /// Attaches the adapter in `folder` to `base` (its base, checked by parameter hash when the folder
    /// records one).
    public static func attach(_ folder: String, to loaded: LoadedModel) throws(InputError) {
        let (_, hash) = try base(of: folder)
        if let hash {
            let actual = parameterHash(loaded.model)
            guard hash == actual else {
                throw InputError(
                    file: folder + "/" + baseFile, field: "sha256",
                    message: "the adapter was trained on another base (parameters \(hash.prefix(12)), loaded base \(actual.prefix(12)))")
            }
        }
        let adapters = LoRAAdapters(for: loaded.model, config: try readConfig(folder), seed: nil)
        try readWeights(folder, into: adapters)
        loaded.model.adapters = adapters
    }

    private static func readObject(_ path: String) throws(InputError) -> [String: Any] {
        try AdapterFolder.readObject(path)
    }

    /// Writes an adapted model for PEFT: `out/base` (the base, Hugging Face layout) and `out/adapter`
    /// (PEFT's layout, `base_model_name_or_path` = `out/base`'s absolute path), all or nothing.
    /// `AutoPeftModelForCausalLM.from_pretrained("out/adapter")` then loads the adapted model.
    public static func exportPEFT(_ loaded: LoadedModel, to out: String) throws {
        guard let adapters = loaded.model.adapters else {
            throw InputError(file: out, message: "the model has no adapter to export")
        }
        let fm = FileManager.default
        let target = URL(fileURLWithPath: out).standardizedFileURL
        if let contents = try? fm.contentsOfDirectory(atPath: target.path), !contents.isEmpty {
            throw InputError(file: out, message: "output folder exists and is not empty")
        }
        try fm.createDirectory(at: target.deletingLastPathComponent(), withIntermediateDirectories: true)
        try AtomicFile.replace(target.path) { temp in
            try fm.createDirectory(atPath: temp, withIntermediateDirectories: false)
            try HFCheckpoint.save(loaded, to: temp + "/base")
            try HFCheckpoint.save(
                loaded, to: temp + "/adapter",
                weights: .adapters(
                    adapters, baseReference: target.appendingPathComponent("base").path,
                    baseHash: parameterHash(loaded.model)))
        }
    }
}
