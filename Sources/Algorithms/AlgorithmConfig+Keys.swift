// rlhub — the snake_case keys of ``AlgorithmConfig``: JSON coding, `--set key=value`, and the
// `rlhub train --help-config` text, all driven by one table (``AlgorithmConfig/Key``).
//
// Unknown keys are errors everywhere (a typo must not silently fall back to a default) and name
// the closest valid key by edit distance.
import Foundation

/// A value settable by `--set key=value` and stored in config JSON.
public protocol ConfigValue: Codable, Sendable, Equatable {
    /// Parses the text of `--set key=value`.
    /// - Throws: ``ConfigError`` naming `key` and the expected form.
    static func parseConfig(_ text: String, key: String) throws(ConfigError) -> Self
    /// The value as `--set` accepts it.
    var configText: String { get }
    /// The kind of value, for help text (`int`, `float`, `bool`, or the valid names).
    static var configType: String { get }
    /// Decodes the value at `key` (choices parse their name and list the valid ones on error).
    static func decodeConfig(_ container: KeyedDecodingContainer<ConfigCodingKey>, key: ConfigCodingKey) throws -> Self
}

extension ConfigValue {
    public static func decodeConfig(_ container: KeyedDecodingContainer<ConfigCodingKey>, key: ConfigCodingKey) throws -> Self {
        try container.decode(Self.self, forKey: key)
    }
}

extension ConfigChoice {
    public static func parseConfig(_ text: String, key: String) throws(ConfigError) -> Self { try parse(text, key: key) }
    public var configText: String { rawValue }
    public static var configType: String { allCases.map(\.rawValue).joined(separator: "|") }
    public static func decodeConfig(_ container: KeyedDecodingContainer<ConfigCodingKey>, key: ConfigCodingKey) throws -> Self {
        try parse(container.decode(String.self, forKey: key), key: key.stringValue)
    }
}

extension Int: ConfigValue {
    public static func parseConfig(_ text: String, key: String) throws(ConfigError) -> Int {
        guard let v = Int(text.trimmingCharacters(in: .whitespaces)) else {
            throw ConfigError(field: key, message: "must be an integer, got '\(text)'")
        }
        return v
    }
    public var configText: String { String(self) }
    public static var configType: String { "int" }
}

extension Double: ConfigValue {
    public static func parseConfig(_ text: String, key: String) throws(ConfigError) -> Double {
        guard let v = Double(text.trimmingCharacters(in: .whitespaces)), v.isFinite else {
            throw ConfigError(field: key, message: "must be a finite number, got '\(text)'")
        }
        return v
    }
    public var configText: String { "\(self)" }
    public static var configType: String { "float" }
}

extension Bool: ConfigValue {
    public static func parseConfig(_ text: String, key: String) throws(ConfigError) -> Bool {
        switch text.trimmingCharacters(in: .whitespaces).lowercased() {
        case "true", "1", "yes", "on": return true
        case "false", "0", "no", "off": return false
        default: throw ConfigError(field: key, message: "must be true or false, got '\(text)'")
        }
    }
    public var configText: String { self ? "true" : "false" }
    public static var configType: String { "bool" }
}

extension Optional: ConfigValue where Wrapped: ConfigValue {
    /// `none`, `null` or an empty value unset the option.
    public static func parseConfig(_ text: String, key: String) throws(ConfigError) -> Wrapped? {
        let t = text.trimmingCharacters(in: .whitespaces).lowercased()
        if t.isEmpty || t == "none" || t == "null" || t == "off" { return nil }
        return try Wrapped.parseConfig(text, key: key)
    }
    public var configText: String { map(\.configText) ?? "none" }
    public static var configType: String { Wrapped.configType + "|none" }
    public static func decodeConfig(_ container: KeyedDecodingContainer<ConfigCodingKey>, key: ConfigCodingKey) throws -> Wrapped? {
        try container.decodeNil(forKey: key) ? nil : Wrapped.decodeConfig(container, key: key)
    }
}

/// A JSON key of a config object (any string, so unknown keys can be reported).
public struct ConfigCodingKey: CodingKey, Sendable, Hashable {
    public var stringValue: String
    public var intValue: Int? { nil }
    public init(stringValue: String) { self.stringValue = stringValue }
    public init?(intValue: Int) { nil }
}

extension AlgorithmConfig {
    /// The config keys (JSON and `--set`), in help order.
    public enum Key: String, CaseIterable, Sendable {
        case objective, estimator
        case policyLoss = "policy_loss"
        case lossAgg = "loss_agg"
        case lossNormConstant = "loss_norm_constant"
        case promptsPerStep = "prompts_per_step"
        case groupSize = "group_size"
        case maxNewTokens = "max_new_tokens"
        case temperature, lr
        case weightDecay = "weight_decay"
        case maxGradNorm = "max_grad_norm"
        case warmupSteps = "warmup_steps"
        case ppoEpochs = "ppo_epochs"
        case miniBatches = "mini_batches"
        case seed
        case clipLow = "clip_low"
        case clipHigh = "clip_high"
        case dualClip = "dual_clip"
        case klCoef = "kl_coef"
        case klInReward = "kl_in_reward"
        case klEstimator = "kl_estimator"
        case klTarget = "kl_target"
        case klHorizon = "kl_horizon"
        case entropyCoef = "entropy_coef"
        case scaleRewards = "scale_rewards"
        case stdEps = "std_eps"
        case gamma, lam
        case biLevelGAE = "bi_level_gae"
        case turnGamma = "turn_gamma"
        case vfCoef = "vf_coef"
        case valueClip = "value_clip"
        case critic
        case tisLevel = "tis_level"
        case tisCap = "tis_cap"
        case tisCapLow = "tis_cap_low"
        case dynamicSampling = "dynamic_sampling"
        case maxResampleRounds = "max_resample_rounds"
        case overlongFilter = "overlong_filter"
        case overlongBuffer = "overlong_buffer"
        case overlongPenalty = "overlong_penalty"
        case dpoBeta = "dpo_beta"
        case dpoVariant = "dpo_variant"
        case labelSmoothing = "label_smoothing"

        /// One line: meaning and source (the default is read from ``AlgorithmConfig/init()``).
        public var summary: String {
            switch self {
            case .objective: "what a step minimises (rl = policy gradient, dpo, sft)"
            case .estimator: "advantage estimator (verl adv_estimator)"
            case .policyLoss: "policy-gradient surrogate (verl policy_loss.loss_mode)"
            case .lossAgg: "loss aggregation over the mini-batch (verl loss_agg_mode)"
            case .lossNormConstant: "L_norm of seq-mean-token-sum-norm / dr-grpo-trl; none = max_new_tokens (Dr. GRPO)"
            case .promptsPerStep: "prompts sampled per optimizer step (verl train_batch_size)"
            case .groupSize: "completions per prompt G (TRL num_generations, verl rollout.n)"
            case .maxNewTokens: "generation budget per completion, L_max"
            case .temperature: "sampling temperature τ; training log-probs use z/τ too"
            case .lr: "peak learning rate (AdamW)"
            case .weightDecay: "AdamW decoupled weight decay"
            case .maxGradNorm: "global gradient-norm clip; 0 disables"
            case .warmupSteps: "linear learning-rate warm-up steps"
            case .ppoEpochs: "passes over each rollout batch (TRL num_iterations)"
            case .miniBatches: "optimizer steps per epoch; must divide prompts_per_step"
            case .seed: "seed of sampling, initialisation and data order"
            case .clipLow: "ε_low: PPO ratio floor 1 − clip_low (GSPO 3e-4; GMPO: log bound)"
            case .clipHigh: "ε_high: PPO ratio ceiling 1 + clip_high (DAPO clip-higher 0.28)"
            case .dualClip: "dual-clip constant c > 1 for negative advantages; none disables"
            case .klCoef: "KL coefficient β; 0 = no KL term and no reference model"
            case .klInReward: "KL as a reward penalty (PPO/RLOO/REINFORCE++) instead of a loss term (GRPO)"
            case .klEstimator: "KL estimator (Schulman's k1/k2/k3; verl kl_penalty names accepted)"
            case .klTarget: "adaptive-KL target (reward form); none = fixed kl_coef"
            case .klHorizon: "adaptive-KL horizon (Ziegler et al. 2019)"
            case .entropyCoef: "entropy bonus c_H: L −= c_H·agg(H)"
            case .scaleRewards: "GRPO std scaling of centred rewards (TRL scale_rewards)"
            case .stdEps: "ε added to the std in GRPO (verl 1e-6, TRL 1e-4)"
            case .gamma: "discount γ (GAE, REINFORCE++)"
            case .lam: "GAE λ"
            case .biLevelGAE: "RAGEN bi-level GAE across turns (estimator gae)"
            case .turnGamma: "turn-level discount of bi-level GAE (RAGEN high_level_gamma)"
            case .vfCoef: "value-loss weight: L = L_pg + vf_coef·L_v (PPO)"
            case .valueClip: "value clip c_v around the rollout-time values (PPO)"
            case .critic: "PPO critic: shared (value head on the policy) or separate (own copy + optimizer)"
            case .tisLevel: "truncated importance sampling vs the sampler's log-probs"
            case .tisCap: "TIS truncation cap C (the masking levels' upper band edge)"
            case .tisCapLow: "lower band edge C_low of tis_level=token_mask|sequence_mask; 0 = none"
            case .dynamicSampling: "DAPO dynamic sampling: drop groups with equal rewards, resample"
            case .maxResampleRounds: "generation rounds dynamic sampling may use per step; 0 = unlimited"
            case .overlongFilter: "mask completions truncated at max_new_tokens without EOS"
            case .overlongBuffer: "L_cache of DAPO's soft overlong punishment (tokens before max_new_tokens)"
            case .overlongPenalty: "factor of DAPO's soft overlong punishment; 0 disables"
            case .dpoBeta: "DPO β (IPO τ)"
            case .dpoVariant: "DPO loss variant (TRL loss_type)"
            case .labelSmoothing: "label smoothing ε of dpo_variant cdpo/robust"
            }
        }
    }

    // MARK: - `--set key=value`

    /// A copy with `key` set from its `--set` text.
    /// - Throws: ``ConfigError`` for an unknown key (listing the valid keys, with a "did you mean"
    ///   suggestion) or a value of the wrong form. Call ``validate()`` after all settings.
    public func setting(_ key: String, to value: String) throws(ConfigError) -> AlgorithmConfig {
        var copy = self
        try copy.set(key, to: value)
        return copy
    }

    /// Sets `key` from its `--set` text (see ``setting(_:to:)``).
    public mutating func set(_ key: String, to value: String) throws(ConfigError) {
        let k = try Self.key(named: key)
        var setter = TextSetter(text: value)
        do {
            try visit(k, &setter)
        } catch let error as ConfigError {
            throw ConfigError(file: "--set", field: error.field, message: error.message)
        } catch {
            throw ConfigError(file: "--set", field: k.rawValue, message: "\(error)")
        }
    }

    /// A copy with every `key=value` of `assignments` applied in order (the CLI's `--set` list).
    public func applying(_ assignments: [String]) throws(ConfigError) -> AlgorithmConfig {
        var copy = self
        for a in assignments {
            guard let eq = a.firstIndex(of: "=") else {
                throw ConfigError(file: "--set", field: a, message: "expected key=value, e.g. --set group_size=16")
            }
            try copy.set(String(a[..<eq]), to: String(a[a.index(after: eq)...]))
        }
        return copy
    }

    /// The current value of `key` as `--set` text.
    public func value(of key: Key) -> String {
        var copy = self
        var reader = TextReader()
        try? copy.visit(key, &reader)
        return reader.text
    }

    /// The key named `name` (snake_case; `-` accepted for `_`).
    /// - Throws: ``ConfigError`` listing the valid keys and the closest one.
    public static func key(named name: String) throws(ConfigError) -> Key {
        let normalized = name.trimmingCharacters(in: .whitespaces).lowercased().replacingOccurrences(of: "-", with: "_")
        if let k = Key(rawValue: normalized) { return k }
        let names = Key.allCases.map(\.rawValue)
        let best = names.min { editDistance($0, normalized) < editDistance($1, normalized) } ?? ""
        let hint = editDistance(best, normalized) <= max(2, normalized.count / 3) ? "did you mean '\(best)'? " : ""
        throw ConfigError(
            file: "--set", field: name,
            message: "unknown key; \(hint)valid keys: \(names.joined(separator: ", "))")
    }

    // MARK: - Help

    /// Every key with its type, default and meaning, then the presets (for `rlhub train --help-config`).
    public static func helpText() -> String {
        let defaults = AlgorithmConfig()
        var lines = [
            "Algorithm settings: rlhub train --algo PRESET [--set key=value …] [--config FILE.json]",
            "JSON config files use the same snake_case keys. Values: numbers, true/false, names; 'none' unsets an optional.",
            "",
        ]
        let rows = Key.allCases.map { k -> (String, String, String, String) in
            var copy = defaults
            var reader = TextReader()
            try? copy.visit(k, &reader)
            return (k.rawValue, reader.type, reader.text, k.summary)
        }
        let w0 = rows.map(\.0.count).max() ?? 0, w2 = rows.map(\.2.count).max() ?? 0
        func pad(_ s: String, _ w: Int) -> String { s + String(repeating: " ", count: max(0, w - s.count)) }
        lines.append("  " + pad("key", w0) + "  " + pad("default", w2) + "  meaning [type]")
        for (key, type, value, summary) in rows {
            lines.append("  " + pad(key, w0) + "  " + pad(value, w2) + "  \(summary) [\(type)]")
        }
        lines.append("")
        lines.append("Presets (--algo):")
        let wp = AlgorithmPreset.allCases.map(\.rawValue.count).max() ?? 0
        for p in AlgorithmPreset.allCases { lines.append("  " + pad(p.rawValue, wp) + "  " + p.summary) }
        return lines.joined(separator: "\n")
    }

    // MARK: - JSON

    /// Decodes a config file: missing keys keep their defaults, unknown keys and bad values fail.
    /// - Throws: one-line ``ConfigError`` with `file` and the key.
    public static func decode(json data: Data, file: String) throws(ConfigError) -> AlgorithmConfig {
        do {
            return try JSONDecoder().decode(AlgorithmConfig.self, from: data)
        } catch let error as ConfigError {
            throw ConfigError(file: file, field: error.field, message: error.message)
        } catch let DecodingError.typeMismatch(type, context), let DecodingError.valueNotFound(type, context) {
            throw ConfigError(
                file: file, field: context.codingPath.map(\.stringValue).joined(separator: "."),
                message: "expected a value of type \(type)")
        } catch {
            throw ConfigError(file: file, message: "not a JSON object of algorithm settings (\(error))")
        }
    }

    /// Canonical JSON (sorted keys, every key present, `null` for unset optionals): the form a
    /// run's config hash is computed from.
    public func canonicalJSON() -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return (try? encoder.encode(self)) ?? Data()
    }

    /// Dispatches one field to a visitor: the only place that maps keys to stored properties.
    fileprivate mutating func visit<F: FieldVisitor>(_ key: Key, _ f: inout F) throws {
        switch key {
        case .objective: try f.visit(&objective, key)
        case .estimator: try f.visit(&estimator, key)
        case .policyLoss: try f.visit(&policyLoss, key)
        case .lossAgg: try f.visit(&lossAgg, key)
        case .lossNormConstant: try f.visit(&lossNormConstant, key)
        case .promptsPerStep: try f.visit(&promptsPerStep, key)
        case .groupSize: try f.visit(&groupSize, key)
        case .maxNewTokens: try f.visit(&maxNewTokens, key)
        case .temperature: try f.visit(&temperature, key)
        case .lr: try f.visit(&lr, key)
        case .weightDecay: try f.visit(&weightDecay, key)
        case .maxGradNorm: try f.visit(&maxGradNorm, key)
        case .warmupSteps: try f.visit(&warmupSteps, key)
        case .ppoEpochs: try f.visit(&ppoEpochs, key)
        case .miniBatches: try f.visit(&miniBatches, key)
        case .seed: try f.visit(&seed, key)
        case .clipLow: try f.visit(&clipLow, key)
        case .clipHigh: try f.visit(&clipHigh, key)
        case .dualClip: try f.visit(&dualClip, key)
        case .klCoef: try f.visit(&klCoef, key)
        case .klInReward: try f.visit(&klInReward, key)
        case .klEstimator: try f.visit(&klEstimator, key)
        case .klTarget: try f.visit(&klTarget, key)
        case .klHorizon: try f.visit(&klHorizon, key)
        case .entropyCoef: try f.visit(&entropyCoef, key)
        case .scaleRewards: try f.visit(&scaleRewards, key)
        case .stdEps: try f.visit(&stdEps, key)
        case .gamma: try f.visit(&gamma, key)
        case .lam: try f.visit(&lam, key)
        case .biLevelGAE: try f.visit(&biLevelGAE, key)
        case .turnGamma: try f.visit(&turnGamma, key)
        case .vfCoef: try f.visit(&vfCoef, key)
        case .valueClip: try f.visit(&valueClip, key)
        case .critic: try f.visit(&critic, key)
        case .tisLevel: try f.visit(&tisLevel, key)
        case .tisCap: try f.visit(&tisCap, key)
        case .tisCapLow: try f.visit(&tisCapLow, key)
        case .dynamicSampling: try f.visit(&dynamicSampling, key)
        case .maxResampleRounds: try f.visit(&maxResampleRounds, key)
        case .overlongFilter: try f.visit(&overlongFilter, key)
        case .overlongBuffer: try f.visit(&overlongBuffer, key)
        case .overlongPenalty: try f.visit(&overlongPenalty, key)
        case .dpoBeta: try f.visit(&dpoBeta, key)
        case .dpoVariant: try f.visit(&dpoVariant, key)
        case .labelSmoothing: try f.visit(&labelSmoothing, key)
        }
    }
}

extension AlgorithmConfig: Codable {
    /// Missing keys keep their defaults; unknown keys throw ``ConfigError``.
    public init(from decoder: any Decoder) throws {
        self.init()
        let container = try decoder.container(keyedBy: ConfigCodingKey.self)
        for k in container.allKeys where Key(rawValue: k.stringValue) == nil {
            _ = try Self.key(named: k.stringValue)  // throws with the suggestion
        }
        var reader = JSONReader(container: container)
        for key in Key.allCases { try visit(key, &reader) }
    }

    /// Every key, `null` for unset optionals.
    public func encode(to encoder: any Encoder) throws {
        var writer = JSONWriter(container: encoder.container(keyedBy: ConfigCodingKey.self))
        var copy = self
        for key in Key.allCases { try copy.visit(key, &writer) }
    }
}

// MARK: - Visitors (non public)

private protocol FieldVisitor {
    mutating func visit<V: ConfigValue>(_ value: inout V, _ key: AlgorithmConfig.Key) throws
}

private struct TextSetter: FieldVisitor {
    let text: String
    func visit<V: ConfigValue>(_ value: inout V, _ key: AlgorithmConfig.Key) throws {
        value = try V.parseConfig(text, key: key.rawValue)
    }
}

private struct TextReader: FieldVisitor {
    var text = "", type = ""
    mutating func visit<V: ConfigValue>(_ value: inout V, _ key: AlgorithmConfig.Key) throws {
        text = value.configText
        type = V.configType
    }
}

private struct JSONReader: FieldVisitor {
    let container: KeyedDecodingContainer<ConfigCodingKey>
    func visit<V: ConfigValue>(_ value: inout V, _ key: AlgorithmConfig.Key) throws {
        let k = ConfigCodingKey(stringValue: key.rawValue)
        if container.contains(k) { value = try V.decodeConfig(container, key: k) }
    }
}

private struct JSONWriter: FieldVisitor {
    var container: KeyedEncodingContainer<ConfigCodingKey>
    mutating func visit<V: ConfigValue>(_ value: inout V, _ key: AlgorithmConfig.Key) throws {
        try container.encode(value, forKey: ConfigCodingKey(stringValue: key.rawValue))
    }
}

/// Levenshtein distance (for "did you mean").
func editDistance(_ a: String, _ b: String) -> Int {
    let a = Array(a), b = Array(b)
    if a.isEmpty { return b.count }
    if b.isEmpty { return a.count }
    var previous = Array(0...b.count)
    for i in 1...a.count {
        var current = [i] + [Int](repeating: 0, count: b.count)
        for j in 1...b.count {
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
        }
        previous = current
    }
    return previous[b.count]
}
