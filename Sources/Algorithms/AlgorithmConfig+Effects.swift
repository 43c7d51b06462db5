// rlhub — settings that validate but change nothing under the rest of the configuration.
//
// A key that is silently ignored is the commonest way an RL experiment measures something other
// than what its author meant (rLLM documents several for one of its backends). `validate()`
// refuses combinations that cannot run; this lists the ones that run but where a key set away
// from its library default has no effect, so the trainer can say so in one line.
//
// On-policy clipping is the subtle case: with one epoch and one mini-batch the ratio
// π_θ/π_old is exactly 1 at the only gradient evaluation (lp_old is the same forward's lp,
// detached), so no token is ever clipped and ε_low, ε_high and the dual clip do nothing.
// verl's DAPO gets its clip-higher effect from several mini-batches per step.
import Foundation

extension AlgorithmConfig {
    /// Keys whose value differs from the library default (``AlgorithmConfig/init()``) but that
    /// have no effect under the rest of this configuration, each with a one-line reason.
    public func ineffectiveSettings() -> [(key: Key, message: String)] {
        let defaults = AlgorithmConfig()
        var out: [(Key, String)] = []
        func note(_ key: Key, changed: Bool, _ reason: String) {
            if changed { out.append((key, "\(key.rawValue) has no effect: \(reason)")) }
        }
        let rl = objective == .rl
        let onPolicy = ppoEpochs == 1 && miniBatches == 1
        let hasRatioClip = rl && [PolicyLossKind.ppoClip, .gspo, .cispo, .gmpo].contains(policyLoss)
        let clipReason =
            !hasRatioClip
            ? "policy_loss '\(policyLoss.rawValue)'\(rl ? "" : " is not used by objective '\(objective.rawValue)'") has no ratio clip"
            : "on-policy (ppo_epochs=1, mini_batches=1) the ratio is exactly 1; set mini_batches or ppo_epochs > 1"
        let clipsInert = !hasRatioClip || onPolicy
        note(.clipLow, changed: clipLow != defaults.clipLow && clipsInert, clipReason)
        note(.clipHigh, changed: clipHigh != defaults.clipHigh && clipsInert, clipReason)
        note(
            .dualClip, changed: dualClip != defaults.dualClip && dualClip != nil && (clipsInert || policyLoss != .ppoClip),
            policyLoss != .ppoClip ? "only policy_loss 'ppo_clip' has a dual clip" : clipReason)
        let aggregation = rl ? policyAggregation : lossAgg
        note(
            .lossNormConstant,
            changed: lossNormConstant != nil && ![.seqMeanTokenSumNorm, .drGRPOTRL].contains(aggregation) && objective != .sft,
            "only loss_agg seq-mean-token-sum-norm and dr-grpo-trl divide by L_norm")
        note(.klEstimator, changed: klEstimator != defaults.klEstimator && klCoef == 0 && rl, "kl_coef is 0")
        note(.klInReward, changed: klInReward != defaults.klInReward && klCoef == 0 && rl, "kl_coef is 0")
        note(.klHorizon, changed: klHorizon != defaults.klHorizon && klTarget == nil, "no kl_target (fixed β)")
        note(
            .scaleRewards, changed: scaleRewards != defaults.scaleRewards && rl && estimator != .grpo,
            "only estimator 'grpo' scales by the std")
        note(
            .stdEps, changed: stdEps != defaults.stdEps && rl && (estimator != .grpo || scaleRewards == .none),
            "only estimator 'grpo' with scale_rewards group|batch divides by σ + ε")
        note(
            .gamma, changed: gamma != defaults.gamma && rl && ![.reinforcePlusPlus, .gae].contains(estimator),
            "only estimators reinforce_plus_plus and gae discount")
        note(.lam, changed: lam != defaults.lam && rl && estimator != .gae, "only estimator 'gae' uses λ")
        note(.turnGamma, changed: turnGamma != defaults.turnGamma && !biLevelGAE, "bi_level_gae is off")
        let noCritic = !needsValueHead
        note(.vfCoef, changed: vfCoef != defaults.vfCoef && noCritic, "no critic (estimator is not 'gae')")
        note(.valueClip, changed: valueClip != defaults.valueClip && noCritic, "no critic (estimator is not 'gae')")
        note(.critic, changed: critic != defaults.critic && noCritic, "no critic (estimator is not 'gae')")
        note(.tisCap, changed: tisCap != defaults.tisCap && tisLevel == .none, "tis_level is none")
        note(.tisCapLow, changed: tisCapLow != defaults.tisCapLow && !tisLevel.masks, "tis_level is not a masking level (token_mask, sequence_mask)")
        note(
            .maxResampleRounds, changed: maxResampleRounds != defaults.maxResampleRounds && !(dynamicSampling && rl),
            "dynamic_sampling is off")
        note(.overlongBuffer, changed: overlongBuffer != defaults.overlongBuffer && overlongPenalty == 0, "overlong_penalty is 0")
        for key in [Key.dpoBeta, .dpoVariant, .labelSmoothing] where objective != .dpo {
            let changed =
                key == .dpoBeta ? dpoBeta != defaults.dpoBeta
                : key == .dpoVariant ? dpoVariant != defaults.dpoVariant : labelSmoothing != defaults.labelSmoothing
            note(key, changed: changed, "objective is '\(objective.rawValue)', not dpo")
        }
        if !rl {
            let notRL = "objective is '\(objective.rawValue)', not rl"
            note(.estimator, changed: estimator != defaults.estimator, notRL)
            note(.policyLoss, changed: policyLoss != defaults.policyLoss, notRL)
            note(.entropyCoef, changed: entropyCoef != defaults.entropyCoef, notRL)
            note(.tisLevel, changed: tisLevel != defaults.tisLevel, notRL)
            note(.dynamicSampling, changed: dynamicSampling != defaults.dynamicSampling, notRL)
            note(.overlongFilter, changed: overlongFilter != defaults.overlongFilter, notRL)
            note(.overlongPenalty, changed: overlongPenalty != defaults.overlongPenalty, notRL)
            note(.biLevelGAE, changed: biLevelGAE != defaults.biLevelGAE, notRL)
        }
        if objective == .sft {
            note(.groupSize, changed: groupSize != defaults.groupSize, "SFT replays one gold demonstration per prompt")
            note(.temperature, changed: temperature != defaults.temperature, "SFT's log-probs are taken at τ = 1")
            note(.lossAgg, changed: lossAgg != defaults.lossAgg, "SFT's loss is the token mean")
            note(.klCoef, changed: klCoef != defaults.klCoef, "SFT has no KL term")
        }
        if objective == .dpo {
            let one = "DPO takes one optimizer step per batch of pairs"
            note(.lossAgg, changed: lossAgg != defaults.lossAgg, "DPO's loss is the mean over pairs")
            note(.ppoEpochs, changed: ppoEpochs != defaults.ppoEpochs, one)
            note(.miniBatches, changed: miniBatches != defaults.miniBatches, one)
            note(.klCoef, changed: klCoef != defaults.klCoef, "DPO's β (dpo_beta) plays the KL's role")
        }
        return out
    }
}
