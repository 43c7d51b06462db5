// rlhub — what names a LoRA adapter's base, read where it is needed: the LM layer loads adapters
// on their base, and the hub publishes an adapter's base archive with it (the hub does not link LM).
import Foundation

/// The base-naming files of a LoRA adapter folder (PEFT's layout plus rlhub's record of its base).
public enum AdapterFolder {
    /// PEFT's configuration; its presence makes a folder an adapter.
    public static let configFile = "adapter_config.json"
    /// rlhub's record of the base: its model reference and the SHA-256 of its parameters.
    public static let baseFile = "rlhub_base.json"

    /// The adapter folder's base reference (``baseFile``'s, else PEFT's `base_model_name_or_path`)
    /// and the base's parameter hash when recorded.
    public static func base(of folder: String) throws(InputError) -> (reference: String, sha256: String?) {
        let basePath = folder + "/" + baseFile
        if FileManager.default.fileExists(atPath: basePath) {
            let obj = try readObject(basePath)
            guard let ref = obj["reference"] as? String, !ref.isEmpty else {
                throw InputError(file: basePath, field: "reference", message: "missing or not a string")
            }
            guard let hash = obj["sha256"] as? String, hash.count == 64, hash.allSatisfy(\.isHexDigit) else {
                throw InputError(file: basePath, field: "sha256", message: "missing or not 64 hex digits")
            }
            return (ref, hash)
        }
        let configPath = folder + "/" + configFile
        guard let ref = try readObject(configPath)["base_model_name_or_path"] as? String, !ref.isEmpty else {
            throw InputError(file: configPath, field: "base_model_name_or_path", message: "missing or not a string")
        }
        return (ref, nil)
    }

    /// A JSON object file; a one-line error naming the file otherwise.
    public static func readObject(_ path: String) throws(InputError) -> [String: Any] {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw InputError(file: path, message: "missing or unreadable")
        }
        guard let obj = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] else {
            throw InputError(file: path, message: "not a JSON object")
        }
        return obj
    }
}
