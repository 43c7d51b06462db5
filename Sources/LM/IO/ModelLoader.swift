// rlhub — resolves a model reference (REF) to a loaded model.
import Foundation

/// Model references accepted wherever `--model` is: `preset:NAME` (random init with a seed) or a
/// Hugging Face folder. Later layers add `.gguf` files, archives and store references.
public enum ModelLoader {
    /// Loads `ref`.
    /// - Parameter seed: initialisation seed for `preset:NAME`.
    public static func load(_ ref: String, seed: UInt64 = 0) throws(InputError) -> LoadedModel {
        if ref.hasPrefix("preset:") {
            let name = String(ref.dropFirst("preset:".count))
            let config: LlamaConfig
            do { config = try LlamaConfig.preset(name) } catch {
                throw InputError(file: "--model", field: ref, message: error.message)
            }
            // A random initialisation has no learned vocabulary: presets use the character tokenizer
            // (its ids are the first ids of any larger vocabulary).
            return LoadedModel(
                model: LlamaModel(config: config, seed: seed), tokenizer: CharTokenizer.standard, source: ref)
        }
        var isDir: ObjCBool = false
        if FileManager.default.fileExists(atPath: ref, isDirectory: &isDir), isDir.boolValue {
            return try HFCheckpoint.load(folder: ref)
        }
        if FileManager.default.fileExists(atPath: ref) {
            throw InputError(file: ref, message: "not a model folder; expected preset:NAME or a Hugging Face folder")
        }
        throw InputError(
            file: "--model", field: ref,
            message: "no such file or folder; a REF is preset:NAME (\(LlamaConfig.presetNames.joined(separator: ", "))) or a Hugging Face folder")
    }
}
