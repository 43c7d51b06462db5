// rlhub — every hyper-parameter of the RL, DPO and SFT objectives, with defaults and validation
// (algorithms.md §9, §12).
//
// Defaults are the library defaults of §12 (verl / TRL values where they agree, TRL PPO for the
// value head); named presets (``AlgorithmPreset``) set the per-paper values. One `///` line per
// field: meaning, default, source. The snake_case key of each field (JSON files, `--set key=value`)
// is in ``AlgorithmConfig/Key``.
import Foundation

/// What one optimizer step minimises.
public enum TrainingObjective: String, ConfigChoice {
    /// Policy gradient from verifiable rewards (GRPO family, PPO, RLOO, REINFORCE++, GSPO; §9).
    case rl
    /// Preference pairs (DPO family, §8.2).
    case dpo
    /// Next-token likelihood on demonstrations (§8.1).
    case sft

    public var summary: String {
        switch self {
        case .rl: "policy gradient on sampled, scored completions"
        case .dpo: "preference optimisation on chosen/rejected pairs"
        case .sft: "supervised next-token likelihood"
        }
    }
}

/// All algorithm hyper-parameters of one run.
///
/// ```swift
/// var config = AlgorithmPreset.dapo.config
/// try config.set("group_size", to: "16")
/// try config.validate()
/// ```
public struct AlgorithmConfig: Sendable, Equatable {
    // MARK: Objective and estimator
    /// What a step minimises: rl | dpo | sft; default rl.
    public var objective: TrainingObjective = .rl
    /// Advantage estimator; default grpo (verl `algorithm.adv_estimator`).
    public var estimator: AdvantageEstimator = .grpo
    /// Policy-gradient surrogate; default ppo_clip (verl `policy_loss.loss_mode` "vanilla").
    public var policyLoss: PolicyLossKind = .ppoClip
    /// Loss aggregation over the mini-batch; default token-mean (verl `loss_agg_mode`; DAPO).
    public var lossAgg: LossAggregation = .tokenMean
    /// L_norm of the Dr. GRPO aggregations; default nil = max_new_tokens (§1 rule 2; Dr. GRPO used 3000).
    public var lossNormConstant: Int? = nil

    // MARK: Rollout
    /// Prompts sampled per optimizer step; default 8 (verl `data.train_batch_size`, DAPO 512).
    public var promptsPerStep: Int = 8
    /// Completions per prompt G; default 8 (TRL `num_generations`; DAPO 16, Dr. GRPO 8).
    public var groupSize: Int = 8
    /// Generation budget per completion (L_max); default 256 (TRL `max_completion_length` 256).
    public var maxNewTokens: Int = 256
    /// Sampling temperature τ, also applied to training log-probs (z/τ); default 1.0 (verl, TRL, DAPO).
    public var temperature: Double = 1.0

    // MARK: Optimisation
    /// Peak learning rate; default 1e-6 (verl actor, TRL GRPO/DPO, DAPO; SFT preset 2e-5).
    public var lr: Double = 1e-6
    /// AdamW decoupled weight decay; default 0.01 (verl actor; DAPO recipe 0.1).
    public var weightDecay: Double = 0.01
    /// Global gradient-norm clip; default 1.0, 0 disables (verl `grad_clip`, TRL `max_grad_norm`).
    public var maxGradNorm: Double = 1.0
    /// Linear learning-rate warm-up steps; default 0 (DAPO recipe 10).
    public var warmupSteps: Int = 0
    /// Passes over each rollout batch; default 1 (verl `ppo_epochs`, TRL `num_iterations`; TRL PPO 4).
    public var ppoEpochs: Int = 1
    /// Optimizer steps per epoch (the rollout batch split by prompts); default 1 (GSPO used 4).
    public var miniBatches: Int = 1
    /// Seed of sampling, initialisation and data order; default 0.
    public var seed: Int = 0

    // MARK: Policy loss
    /// ε_low: ratio floor 1 − ε_low; default 0.2 (verl `clip_ratio_low`, TRL `epsilon`; GSPO 3e-4).
    public var clipLow: Double = 0.2
    /// ε_high: ratio ceiling 1 + ε_high ("clip-higher"); default 0.2 (DAPO 0.28; GSPO 4e-4).
    public var clipHigh: Double = 0.2
    /// Dual-clip constant c > 1 for A < 0, nil = off; default 3.0 (verl `clip_ratio_c`; DAPO recipe 10).
    public var dualClip: Double? = 3.0

    // MARK: KL
    /// KL coefficient β, 0 = no KL and no reference model; default 0 (TRL `beta`; GRPO preset 0.001).
    public var klCoef: Double = 0
    /// Put the KL in the reward (PPO/RLOO/REINFORCE++) instead of the loss (GRPO); default false (verl).
    public var klInReward: Bool = false
    /// KL estimator; default k3 (verl `kl_loss_type=low_var_kl`; PPO/RLOO presets k1).
    public var klEstimator: KLEstimator = .k3
    /// Adaptive-KL target κ (reward form), nil = fixed β; default nil (verl `kl_ctrl.type=fixed`, target 0.1).
    public var klTarget: Double? = nil
    /// Adaptive-KL horizon; default 10000 (verl `kl_ctrl.horizon`, Ziegler et al. 2019).
    public var klHorizon: Double = 10_000

    // MARK: Entropy
    /// Entropy bonus coefficient c_H (L −= c_H·agg(H)); default 0 (verl, TRL, DAPO; RAGEN 0.001).
    public var entropyCoef: Double = 0

    // MARK: Advantages
    /// GRPO std scaling: group | batch | none; default group (TRL `scale_rewards`; Dr. GRPO none).
    public var scaleRewards: RewardScaling = .group
    /// ε_std added to the group std; default 1e-6 (verl; TRL 1e-4).
    public var stdEps: Double = 1e-6
    /// Discount γ (GAE, REINFORCE++); default 1.0 (verl, TRL PPO, OpenRLHF).
    public var gamma: Double = 1.0
    /// GAE λ; default 0.95 (TRL PPO; verl 1.0).
    public var lam: Double = 0.95
    /// RAGEN bi-level GAE over turns for multi-turn rows; default false (RAGEN `bi_level_gae`).
    public var biLevelGAE: Bool = false
    /// Turn-level discount γ_turn of bi-level GAE; default 0.95 (RAGEN `high_level_gamma`).
    public var turnGamma: Double = 0.95

    // MARK: Value head (PPO)
    /// Value-loss weight in L = L_pg + vf_coef·L_v; default 0.1 (TRL PPO `vf_coef`).
    public var vfCoef: Double = 0.1
    /// Value clip c_v around V_old; default 0.2 (TRL PPO `cliprange_value`; verl 0.5).
    public var valueClip: Double = 0.2
    /// The critic's network: shared (a value head on the policy's trunk) | separate (a copy of the
    /// policy with its own optimizer); default shared (TRL), the ppo preset separate. Configs
    /// written before the key existed decode as shared, which is what they ran.
    public var critic: CriticKind = .shared

    // MARK: Off-policy correction
    /// Truncated importance sampling level (needs sampler log-probs): none | token | sequence; default token (§4.1).
    public var tisLevel: TISLevel = .token
    /// TIS cap C; default 2.0 (TIS blog, verl `rollout_is_threshold`).
    public var tisCap: Double = 2.0
    /// Lower edge C_low of the masking levels' band [C_low, C]; default 0 = none (TRL `clip_min`
    /// None; OpenRLHF's icepop uses 0.5).
    public var tisCapLow: Double = 0

    // MARK: GRPO++ (DAPO)
    /// Drop groups whose rewards are all equal and resample; default false (DAPO on).
    public var dynamicSampling: Bool = false
    /// Generation rounds dynamic sampling may use per step, 0 = unlimited; default 10 (verl `max_num_gen_batches`).
    public var maxResampleRounds: Int = 10
    /// Mask rows truncated at max_new_tokens without EOS; default false (TRL `mask_truncated_completions`).
    public var overlongFilter: Bool = false
    /// L_cache of the soft overlong punishment, in tokens; default 64 (DAPO 4096 of 20480).
    public var overlongBuffer: Int = 64
    /// Factor of the soft overlong punishment, 0 = off; default 0 (DAPO 1.0).
    public var overlongPenalty: Double = 0

    // MARK: DPO
    /// DPO β (IPO τ); default 0.1 (TRL `beta`).
    public var dpoBeta: Double = 0.1
    /// DPO loss variant: sigmoid | cdpo | robust | ipo; default sigmoid (TRL `loss_type`).
    public var dpoVariant: DPOVariant = .sigmoid
    /// Label smoothing ε of cdpo/robust; default 0.0 (TRL `label_smoothing`).
    public var labelSmoothing: Double = 0

    public init() {}

    // MARK: - Derived

    /// L_norm used by the Dr. GRPO aggregations (`loss_norm_constant` or `max_new_tokens`).
    public var lengthNorm: Double { Double(lossNormConstant ?? maxNewTokens) }

    /// Where the KL term goes, from `kl_coef` and `kl_in_reward`.
    public var klPlacement: KLPlacement { klCoef == 0 ? .none : (klInReward ? .reward : .loss) }

    /// True when the trainer must compute reference log-probs.
    public var needsReferenceModel: Bool { objective == .dpo || klPlacement != .none }

    /// True when the estimator needs a value head (GAE).
    public var needsValueHead: Bool { objective == .rl && estimator == .gae }

    /// Completions per optimizer step (prompts_per_step × group_size).
    public var rolloutsPerStep: Int { promptsPerStep * groupSize }

    /// The aggregation the policy term actually uses (GSPO/GMPO force seq-mean-token-mean).
    public var policyAggregation: LossAggregation { policyLoss.forcedAggregation ?? lossAgg }

    // MARK: - Validation

    /// Upper bounds of the sizes a step allocates at once (checked before any product is formed,
    /// so none overflows): prompts per step ≤ 4096, group size ≤ 1024, their product (episodes per
    /// step) ≤ 16384, new tokens per turn ≤ 131072 (rlhub's longest context), PPO epochs ≤ 1000.
    public static let maxPromptsPerStep = 4096
    public static let maxGroupSize = 1024
    public static let maxRolloutsPerStep = 16384
    public static let maxNewTokensLimit = 1 << 17
    public static let maxPPOEpochs = 1000

    /// Checks every setting up front.
    /// - Throws: the first problem as a one-line ``ConfigError`` naming the key and what to change.
    public func validate() throws(ConfigError) {
        func fail(_ key: Key, _ message: String) throws(ConfigError) {
            throw ConfigError(field: key.rawValue, message: message)
        }
        if promptsPerStep < 1 { try fail(.promptsPerStep, "must be ≥ 1, got \(promptsPerStep)") }
        if groupSize < 1 { try fail(.groupSize, "must be ≥ 1, got \(groupSize)") }
        if promptsPerStep > Self.maxPromptsPerStep { try fail(.promptsPerStep, "must be ≤ \(Self.maxPromptsPerStep), got \(promptsPerStep)") }
        if groupSize > Self.maxGroupSize { try fail(.groupSize, "must be ≤ \(Self.maxGroupSize), got \(groupSize)") }
        if rolloutsPerStep > Self.maxRolloutsPerStep {
            try fail(.groupSize, "prompts_per_step × group_size must be ≤ \(Self.maxRolloutsPerStep), got \(rolloutsPerStep)")
        }
        if maxNewTokens > Self.maxNewTokensLimit { try fail(.maxNewTokens, "must be ≤ \(Self.maxNewTokensLimit), got \(maxNewTokens)") }
        if ppoEpochs > Self.maxPPOEpochs { try fail(.ppoEpochs, "must be ≤ \(Self.maxPPOEpochs), got \(ppoEpochs)") }
        if objective == .rl && estimator.isGroupEstimator && groupSize < 2 {
            try fail(.groupSize, "must be ≥ 2 for estimator '\(estimator.rawValue)'; set group_size ≥ 2 or use --algo ppo")
        }
        if maxNewTokens < 1 { try fail(.maxNewTokens, "must be ≥ 1, got \(maxNewTokens)") }
        if !(temperature > 0) || !temperature.isFinite {
            try fail(.temperature, "must be > 0, got \(temperature); use a small value such as 0.1 for near-greedy sampling")
        }
        if !(lr > 0) || !lr.isFinite { try fail(.lr, "must be > 0, got \(lr); typical RL values are 1e-6 … 1e-5") }
        if !(weightDecay >= 0) { try fail(.weightDecay, "must be ≥ 0, got \(weightDecay)") }
        if !(maxGradNorm >= 0) { try fail(.maxGradNorm, "must be ≥ 0 (0 disables clipping), got \(maxGradNorm)") }
        if warmupSteps < 0 { try fail(.warmupSteps, "must be ≥ 0, got \(warmupSteps)") }
        if ppoEpochs < 1 { try fail(.ppoEpochs, "must be ≥ 1, got \(ppoEpochs)") }
        if miniBatches < 1 { try fail(.miniBatches, "must be ≥ 1, got \(miniBatches)") }
        if miniBatches > promptsPerStep || promptsPerStep % miniBatches != 0 {
            try fail(.miniBatches, "must divide prompts_per_step (\(promptsPerStep)), got \(miniBatches); mini-batches split the step's prompts evenly")
        }
        if !(clipLow >= 0 && clipLow < 1) {
            try fail(.clipLow, "must be in [0, 1) so that the ratio floor 1 − clip_low stays positive, got \(clipLow)")
        }
        if !(clipHigh >= 0) || !clipHigh.isFinite { try fail(.clipHigh, "must be ≥ 0 (ratio ceiling 1 + clip_high), got \(clipHigh)") }
        if let c = dualClip, !(c > 1) || !c.isFinite {
            try fail(.dualClip, "must be > 1 (verl asserts clip_ratio_c > 1), got \(c); set dual_clip=none to disable")
        }
        if !(klCoef >= 0) || !klCoef.isFinite { try fail(.klCoef, "must be ≥ 0 (0 disables KL), got \(klCoef)") }
        if let t = klTarget, !(t > 0) { try fail(.klTarget, "must be > 0, got \(t); set kl_target=none for a fixed kl_coef") }
        if klTarget != nil && !klInReward {
            try fail(.klTarget, "the adaptive KL controller applies to the reward form; set kl_in_reward=true or kl_target=none")
        }
        if klTarget != nil && !(klCoef > 0) {
            try fail(.klTarget, "the adaptive KL controller adapts β from kl_coef, which is 0; set kl_coef > 0 (e.g. 0.05) or kl_target=none")
        }
        if !(klHorizon > 0) { try fail(.klHorizon, "must be > 0, got \(klHorizon)") }
        if !(entropyCoef >= 0) || !entropyCoef.isFinite { try fail(.entropyCoef, "must be ≥ 0, got \(entropyCoef)") }
        if !(stdEps >= 0) { try fail(.stdEps, "must be ≥ 0, got \(stdEps)") }
        if !(gamma >= 0 && gamma <= 1) { try fail(.gamma, "must be in [0, 1], got \(gamma)") }
        if !(lam >= 0 && lam <= 1) { try fail(.lam, "must be in [0, 1], got \(lam)") }
        if !(turnGamma >= 0 && turnGamma <= 1) { try fail(.turnGamma, "must be in [0, 1], got \(turnGamma)") }
        if biLevelGAE && estimator != .gae { try fail(.biLevelGAE, "needs estimator 'gae', got '\(estimator.rawValue)'") }
        if !(vfCoef >= 0) { try fail(.vfCoef, "must be ≥ 0, got \(vfCoef)") }
        if !(valueClip > 0) { try fail(.valueClip, "must be > 0, got \(valueClip)") }
        if !(tisCap >= 1) || !tisCap.isFinite { try fail(.tisCap, "must be ≥ 1 (the truncation cap C; 2 is the TIS default), got \(tisCap)") }
        if !(tisCapLow >= 0 && tisCapLow <= 1) { try fail(.tisCapLow, "must be in [0, 1] (the band's lower edge C_low; 0 = none), got \(tisCapLow)") }
        if maxResampleRounds < 0 { try fail(.maxResampleRounds, "must be ≥ 0 (0 = unlimited), got \(maxResampleRounds)") }
        if overlongBuffer < 0 { try fail(.overlongBuffer, "must be ≥ 0, got \(overlongBuffer)") }
        if overlongPenalty > 0 && overlongBuffer > maxNewTokens {
            try fail(.overlongBuffer, "must be ≤ max_new_tokens (\(maxNewTokens)), got \(overlongBuffer); lower overlong_buffer")
        }
        if !(overlongPenalty >= 0) { try fail(.overlongPenalty, "must be ≥ 0 (0 disables), got \(overlongPenalty)") }
        if let L = lossNormConstant, L < 1 { try fail(.lossNormConstant, "must be ≥ 1, got \(L); set loss_norm_constant=none to use max_new_tokens") }
        if !(dpoBeta > 0) || !dpoBeta.isFinite { try fail(.dpoBeta, "must be > 0, got \(dpoBeta)") }
        if !(labelSmoothing >= 0 && labelSmoothing < 0.5) {
            try fail(.labelSmoothing, "must be in [0, 0.5), got \(labelSmoothing)")
        }
        if labelSmoothing > 0 && (dpoVariant == .sigmoid || dpoVariant == .ipo) {
            try fail(.labelSmoothing, "applies to dpo_variant 'cdpo' or 'robust', not '\(dpoVariant.rawValue)'; set dpo_variant=cdpo or label_smoothing=0")
        }
    }
}
