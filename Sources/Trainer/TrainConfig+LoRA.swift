// rlhub — the LoRA keys of a run (docs/algorithms.md §15): `lora_rank` (nil = every parameter
// trains), `lora_alpha` (PEFT's default 8) and `lora_targets` (PEFT's default for Llama, q_proj and
// v_proj). Defaults are stored as nil, absent from the canonical JSON, and targets sorted, so one
// adapter configuration has one config hash however it was written.
import Foundation
import LM
import RLAlgorithms

extension TrainConfig {
    /// Applies `lora_rank`, `lora_alpha` or `lora_targets` = `value`.
    mutating func setLoRA(_ key: String, _ value: String) throws(ConfigError) {
        switch key {
        case "lora_rank":
            guard let r = Int(value), r >= 0 else {
                throw ConfigError(file: "--set", field: key, message: "must be a non-negative integer, got '\(value)'")
            }
            loraRank = r == 0 ? nil : r
        case "lora_alpha":
            guard let v = Double(value), v > 0, v.isFinite else {
                throw ConfigError(file: "--set", field: key, message: "must be a positive number, got '\(value)'")
            }
            loraAlphaOverride = v == Self.defaultLoRAAlpha ? nil : v
        default:
            let targets = try Self.parseLoRATargets(value)
            loraTargetsOverride = targets == Self.defaultLoRATargets ? nil : targets
        }
    }

    /// `lora_alpha` and `lora_targets` need a rank; the rank has an upper bound.
    func validateLoRA() throws(ConfigError) {
        if loraRank == nil, loraAlphaOverride != nil || loraTargetsOverride != nil {
            throw ConfigError(
                file: "--set", field: loraAlphaOverride != nil ? "lora_alpha" : "lora_targets",
                message: "applies to LoRA only: set lora_rank too")
        }
        if let r = loraRank, let bound = Self.upperBounds["lora_rank"], r > bound {
            throw ConfigError(file: "--set", field: "lora_rank", message: "must be ≤ \(bound), got \(r)")
        }
    }

    /// `lora_targets`: PEFT module names separated by `+` or `,` (`q_proj+v_proj`), or `all-linear`
    /// (PEFT's shorthand: every projection of the blocks, not the LM head).
    static func parseLoRATargets(_ value: String) throws(ConfigError) -> [LoRATarget] {
        if value == "all-linear" { return LoRATarget.allCases }
        var targets: [LoRATarget] = []
        for name in value.split(whereSeparator: { $0 == "+" || $0 == "," }) {
            let name = name.trimmingCharacters(in: .whitespaces)
            guard let t = LoRATarget(rawValue: name) else {
                throw ConfigError(
                    file: "--set", field: "lora_targets",
                    message: "'\(name)' is not a projection; valid: all-linear, \(LoRATarget.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            targets.append(t)
        }
        guard !targets.isEmpty else {
            throw ConfigError(file: "--set", field: "lora_targets", message: "names no projection")
        }
        return Array(Set(targets)).sorted()
    }
}
