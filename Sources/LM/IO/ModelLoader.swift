// rlhub — resolves a model reference (REF) to a loaded model.
import Foundation
import RLHubCore

/// Model references accepted wherever `--model` is: `preset:NAME` (random init with a seed), a
/// Hugging Face folder, or a `.gguf` file (Llama architecture, dequantised to Float32). Later
/// layers add archives and store references.
public enum ModelLoader {
    /// Loads `ref`. A LoRA adapter folder (PEFT's layout) loads its base — whose reference
    /// `resolveBase` turns into one this loader reads (store references are resolved by the layers
    /// above) — with the adapter attached (``LlamaModel/adapters``).
    /// - Parameter seed: initialisation seed for `preset:NAME`.
    public static func load(
        _ ref: String, seed: UInt64 = 0, resolveBase: (String) throws -> String = { $0 }
    ) throws(InputError) -> LoadedModel {
        switch try kind(of: ref) {
        case .adapter:
            let baseRef = try LoRACheckpoint.base(of: ref).reference
            let resolved: String
            do { resolved = try resolveBase(baseRef) } catch let error as InputError { throw error } catch {
                throw InputError(file: ref + "/" + LoRACheckpoint.baseFile, field: "reference", message: "\(error)")
            }
            let base = try load(resolved, seed: seed, resolveBase: resolveBase)
            // An adapter trained on an adapted model (a LoRA run started from a LoRA warm-up) has
            // that model, merged, as its base: the trainer merged it the same way.
            base.model.mergeAdapters()
            try LoRACheckpoint.attach(ref, to: base)
            return base
        case .preset(let config):
            // A random initialisation has no learned vocabulary: presets use the character tokenizer
            // (its ids are the first ids of any larger vocabulary).
            return LoadedModel(
                model: LlamaModel(config: config, seed: seed), tokenizer: CharTokenizer.standard, source: ref)
        case .folder: return try HFCheckpoint.load(folder: ref)
        case .gguf: return try GGUFModel.load(path: ref)
        }
    }

    /// Checks `ref` as ``load(_:seed:)`` reads it, without reading weights: a preset's name, a
    /// folder's `config.json` (decoded and validated), a GGUF file's header and metadata. Cheap
    /// enough for `rlhub grid --dry-run`.
    public static func check(_ ref: String) throws(InputError) {
        switch try kind(of: ref) {
        case .preset: return
        case .adapter: _ = try LoRACheckpoint.readConfig(ref)
        case .folder: _ = try HFCheckpoint.readConfig(ref + "/config.json")
        case .gguf: _ = try GGUFModel.config(of: try GGUFFile(path: ref))
        }
    }

    private enum Kind {
        case preset(LlamaConfig), folder, adapter, gguf
    }

    /// What `ref` names; an error for a reference that names nothing loadable.
    private static func kind(of ref: String) throws(InputError) -> Kind {
        if ref.hasPrefix("preset:") {
            let name = String(ref.dropFirst("preset:".count))
            do { return .preset(try LlamaConfig.preset(name)) } catch {
                throw InputError(file: "--model", field: ref, message: error.message)
            }
        }
        var isDir: ObjCBool = false
        if FileManager.default.fileExists(atPath: ref, isDirectory: &isDir), isDir.boolValue {
            return LoRACheckpoint.isAdapterFolder(ref) ? .adapter : .folder
        }
        if ref.hasSuffix(".gguf") {
            guard FileManager.default.fileExists(atPath: ref) else {
                throw InputError(file: ref, message: "no such file (run `make model` for SmolLM2-135M-Instruct)")
            }
            return .gguf
        }
        if FileManager.default.fileExists(atPath: ref) {
            throw InputError(file: ref, message: "not a model; expected preset:NAME, a Hugging Face folder or a .gguf file")
        }
        throw InputError(
            file: "--model", field: ref,
            message: "no such file or folder; a REF is preset:NAME (\(LlamaConfig.presetNames.joined(separator: ", "))), a Hugging Face folder or a .gguf file")
    }

    /// Only the tokenizer of `ref` (cheap for GGUF files and folders: weights are not read).
    public static func loadTokenizer(_ ref: String) throws(InputError) -> any Tokenizer {
        if ref.hasSuffix(".gguf") && FileManager.default.fileExists(atPath: ref) {
            return try GGUFModel.loadTokenizer(file: try GGUFFile(path: ref))
        }
        var isDir: ObjCBool = false
        if FileManager.default.fileExists(atPath: ref, isDirectory: &isDir), isDir.boolValue,
           !LoRACheckpoint.isAdapterFolder(ref) {
            return try HFCheckpoint.loadTokenizer(folder: ref, config: try HFCheckpoint.readConfig(ref + "/config.json"))
        }
        return try load(ref).tokenizer
    }
}
