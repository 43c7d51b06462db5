// AlgorithmConfig: validation messages, `--set` parsing, presets, JSON round trip, help text
// (algorithms.md §9, §12; style.md item 7).
import RLAlgorithms
import Foundation
import Testing

@Suite("Config")
struct ConfigTests {
    func validationError(_ edit: (inout AlgorithmConfig) -> Void) -> ConfigError? {
        var c = AlgorithmConfig()
        edit(&c)
        do {
            try c.validate()
            return nil
        } catch {
            return error
        }
    }

    @Test func defaultsAndPresetsValidate() throws {
        try AlgorithmConfig().validate()
        for preset in AlgorithmPreset.allCases { try preset.config.validate() }
    }

    // The keys promised by cli.md exist with exactly these names.
    @Test func fixedKeyNames() {
        for name in ["prompts_per_step", "group_size", "max_new_tokens", "temperature", "lr", "kl_coef", "clip_low",
                     "clip_high", "loss_agg", "ppo_epochs", "mini_batches", "seed"] {
            #expect(AlgorithmConfig.Key(rawValue: name) != nil, "\(name)")
        }
    }

    // §14.2 and style.md item 7: one-line messages naming the key and what to change.
    @Test func validationMessages() {
        #expect(validationError { $0.groupSize = 1 }?.description
                == "group_size: must be ≥ 2 for estimator 'grpo'; set group_size ≥ 2 or use --algo ppo")
        #expect(validationError { $0.groupSize = 1; $0.estimator = .rloo }?.field == "group_size")
        #expect(validationError { $0.groupSize = 1; $0.estimator = .gae } == nil)
        #expect(validationError { $0.groupSize = 1; $0.objective = .sft } == nil)
        #expect(validationError { $0.clipHigh = -0.1 }?.field == "clip_high")
        #expect(validationError { $0.clipLow = 1 }?.field == "clip_low")
        #expect(validationError { $0.temperature = 0 }?.description.hasPrefix("temperature: must be > 0") == true)
        #expect(validationError { $0.dualClip = 0.9 }?.field == "dual_clip")
        #expect(validationError { $0.dualClip = nil } == nil)
        #expect(validationError { $0.lr = 0 }?.field == "lr")
        #expect(validationError { $0.miniBatches = 3 }?.field == "mini_batches")
        #expect(validationError { $0.labelSmoothing = 0.1 }?.field == "label_smoothing")
        #expect(validationError { $0.labelSmoothing = 0.1; $0.dpoVariant = .cdpo } == nil)
        #expect(validationError { $0.overlongPenalty = 1; $0.overlongBuffer = 300 }?.field == "overlong_buffer")
        #expect(validationError { $0.klTarget = 0.1 }?.field == "kl_target")
        #expect(validationError { $0.tisCap = 0.5 }?.field == "tis_cap")
        #expect(validationError { $0.gamma = 1.5 }?.field == "gamma")
        #expect(validationError { $0.biLevelGAE = true }?.field == "bi_level_gae")
        #expect(validationError { $0.lossNormConstant = 0 }?.field == "loss_norm_constant")
        for error in [validationError { $0.groupSize = 1 }, validationError { $0.tisCap = 0 }] {
            #expect(error?.description.contains("\n") == false)
        }
    }

    @Test func settingValues() throws {
        let c = try AlgorithmConfig().applying([
            "group_size=16", "clip_high=0.28", "loss_agg=seq-mean-token-sum-norm", "dual_clip=none", "kl_estimator=low_var_kl",
            "kl_in_reward=true", "kl_coef=0.05", "estimator=drgrpo", "loss_norm_constant=3000", "policy_loss=gspo",
            "lr=2e-6", "tis_level=sequence",
        ])
        #expect(c.groupSize == 16 && c.clipHigh == 0.28 && c.lossAgg == .seqMeanTokenSumNorm && c.dualClip == nil)
        #expect(c.klEstimator == .k3 && c.klPlacement == .reward && c.estimator == .drGRPO && c.lengthNorm == 3000)
        #expect(c.policyLoss == .gspo && c.policyAggregation == .seqMeanTokenMean && c.lr == 2e-6 && c.tisLevel == .sequence)
        #expect(try c.setting("dual_clip", to: "10").dualClip == 10)
        #expect(try c.setting("loss-norm-constant", to: "none").lossNormConstant == nil)
        #expect(c.value(of: .dualClip) == "none" && c.value(of: .groupSize) == "16")
    }

    @Test func settingErrors() {
        do {
            _ = try AlgorithmConfig().setting("grup_size", to: "4")
            Issue.record("unknown key accepted")
        } catch {
            #expect(error.description.hasPrefix("--set: grup_size: unknown key; did you mean 'group_size'? valid keys: objective, estimator"))
            #expect(!error.description.contains("\n"))
        }
        do {
            _ = try AlgorithmConfig().setting("loss_agg", to: "token_avg")
            Issue.record("bad choice accepted")
        } catch {
            #expect(error.description == "--set: loss_agg: unknown value 'token_avg'; valid values: token-mean, seq-mean-token-sum, seq-mean-token-mean, seq-mean-token-sum-norm, dr-grpo-trl")
        }
        #expect(throws: ConfigError(file: "--set", field: "group_size", message: "must be an integer, got 'many'")) {
            try AlgorithmConfig().setting("group_size", to: "many")
        }
        #expect(throws: ConfigError.self) { try AlgorithmConfig().setting("lr", to: "nan") }
        #expect(throws: ConfigError.self) { try AlgorithmConfig().setting("dynamic_sampling", to: "maybe") }
        #expect(throws: ConfigError.self) { try AlgorithmConfig().applying(["group_size"]) }
        do {
            _ = try AlgorithmConfig().setting("zzzzzzzzzzzz", to: "1")
        } catch {
            #expect(!error.description.contains("did you mean"))
        }
    }

    @Test func presetsRoundTripThroughJSON() throws {
        for preset in AlgorithmPreset.allCases {
            let config = preset.config
            let data = config.canonicalJSON()
            let back = try AlgorithmConfig.decode(json: data, file: "x.json")
            #expect(back == config, "\(preset.rawValue)")
            let object = try JSONSerialization.jsonObject(with: data) as? [String: Any]
            #expect(Set(object?.keys.map { $0 } ?? []) == Set(AlgorithmConfig.Key.allCases.map(\.rawValue)))
        }
        #expect(AlgorithmPreset.ppo.config.canonicalJSON() == AlgorithmPreset.ppo.config.canonicalJSON())
        #expect(String(decoding: AlgorithmPreset.gspo.config.canonicalJSON(), as: UTF8.self).contains("\"dual_clip\":null"))
        // Preset names.
        #expect(try AlgorithmPreset.parse("reinforce++", key: "--algo") == .reinforcePlusPlus)
        #expect(try AlgorithmPreset.parse("dr_grpo", key: "--algo") == .drGRPO)
        #expect(throws: ConfigError.self) { try AlgorithmPreset.parse("trpo", key: "--algo") }
        // Per-paper values of §9/§12.
        let dapo = AlgorithmPreset.dapo.config
        #expect(dapo.clipHigh == 0.28 && dapo.dynamicSampling && dapo.overlongPenalty == 1 && dapo.klPlacement == .none)
        let gspo = AlgorithmPreset.gspo.config
        #expect(gspo.clipLow == 3e-4 && gspo.clipHigh == 4e-4 && gspo.miniBatches == 4)
        #expect(AlgorithmPreset.drGRPO.config.lossAgg == .seqMeanTokenSumNorm)
        #expect(AlgorithmPreset.ppo.config.needsValueHead && AlgorithmPreset.ppo.config.klPlacement == .reward)
        #expect(AlgorithmPreset.grpo.config.klPlacement == .loss && AlgorithmPreset.grpo.config.needsReferenceModel)
    }

    @Test func decodingFiles() throws {
        let partial = try AlgorithmConfig.decode(json: Data(#"{"group_size": 4, "loss_agg": "seq-mean-token-mean", "dual_clip": null}"#.utf8), file: "c.json")
        #expect(partial.groupSize == 4 && partial.lossAgg == .seqMeanTokenMean && partial.dualClip == nil && partial.lr == 1e-6)
        do {
            _ = try AlgorithmConfig.decode(json: Data(#"{"clip_hgh": 0.3}"#.utf8), file: "c.json")
            Issue.record("unknown key accepted")
        } catch {
            #expect(error.description.hasPrefix("c.json: clip_hgh: unknown key; did you mean 'clip_high'?"))
        }
        do {
            _ = try AlgorithmConfig.decode(json: Data(#"{"estimator": "ppo2"}"#.utf8), file: "c.json")
            Issue.record("bad estimator accepted")
        } catch {
            #expect(error.description.hasPrefix("c.json: estimator: unknown value 'ppo2'; valid values: grpo, dr_grpo"))
        }
        do {
            _ = try AlgorithmConfig.decode(json: Data(#"{"group_size": "eight"}"#.utf8), file: "c.json")
            Issue.record("string group size accepted")
        } catch {
            #expect(error.field == "group_size" && error.file == "c.json")
        }
    }

    @Test func helpTextListsEveryKey() {
        let help = AlgorithmConfig.helpText()
        let defaults = AlgorithmConfig()
        for key in AlgorithmConfig.Key.allCases {
            let line = help.split(separator: "\n").first { $0.hasPrefix("  \(key.rawValue) ") }
            #expect(line != nil, "\(key.rawValue) missing")
            #expect(line?.contains(" \(defaults.value(of: key)) ") == true, "\(key.rawValue) default")
        }
        for preset in AlgorithmPreset.allCases { #expect(help.contains(preset.rawValue)) }
    }
}
