// rlhub — named algorithm presets (`rlhub train --algo NAME`), each a documented set of
// hyper-parameters from its paper and reference recipe (algorithms.md §9, §12).
//
//   preset                 advantage (§2)               policy loss (§3)          KL (§5)            aggregation (§1)
//   grpo                   GRPO std-norm                PPO clip 0.2              loss, k3, 0.001    token-mean
//   dr-grpo                Dr. GRPO (no std)            PPO clip 0.2              none               seq-mean-token-sum-norm
//   dapo                   GRPO                         clip 0.2/0.28, dual 10    none               token-mean + dyn. sampling + soft overlong
//   gspo                   GRPO                         GSPO 3e-4/4e-4            none               seq-mean-token-mean, 4 mini-batches
//   rloo                   RLOO leave-one-out           PPO clip 0.2              reward, k1, 0.05   seq-mean-token-sum
//   reinforce++            REINFORCE++ (whitened)       PPO clip 0.2              reward, k1, 0.01   token-mean
//   reinforce++-baseline   group mean + whitening       PPO clip 0.2              loss, k2, 1e-5     token-mean + dyn. sampling
//   ppo                    GAE γ 1, λ 0.95 + critic     PPO clip 0.2              reward, k1, 0.05   token-mean, 4 epochs, separate critic
//   dpo                    —                            DPO sigmoid β 0.1         implicit           mean over pairs
//   sft                    —                            NLL                       —                  token-mean
import Foundation

/// A named starting configuration; `--set` overrides apply on top.
public enum AlgorithmPreset: String, ConfigChoice {
    /// GRPO — Shao et al., DeepSeekMath, arXiv 2402.03300: group-normalised outcome advantages,
    /// PPO clip 0.2, KL in the loss (k3, β = 0.001 per verl's GRPO doc and DeepSeek-R1), token-mean (verl).
    case grpo
    /// Dr. GRPO — Liu et al., arXiv 2503.20783: no std division, constant-length normaliser
    /// (`seq-mean-token-sum-norm`), no KL.
    case drGRPO = "dr-grpo"
    /// DAPO — Yu et al., arXiv 2503.14476: clip-higher 0.2/0.28 (dual clip 10 as in the verl recipe),
    /// token-level loss, dynamic sampling, soft overlong punishment, no KL, weight decay 0.1, 10 warm-up steps.
    case dapo
    /// GSPO — Zheng et al., arXiv 2507.18071: sequence-level ratio clipped at 3e-4/4e-4, no KL, the
    /// rollout batch split into 4 mini-batches (otherwise everything is on-policy and GSPO = GRPO).
    case gspo
    /// RLOO — Ahmadian et al., arXiv 2402.14740: leave-one-out baseline, KL in the reward (k1,
    /// β = 0.05, TRL), `seq-mean-token-sum` (the paper's REINFORCE gradient).
    case rloo
    /// REINFORCE++ — Hu et al., arXiv 2501.03262: token-level discounted returns whitened over the
    /// batch, KL in the reward (k1, β = 0.01, OpenRLHF `init_coef`).
    case reinforcePlusPlus = "reinforce++"
    /// REINFORCE++-baseline — Hu et al., arXiv 2501.03262 / OpenRLHF
    /// `train_reinforce_baseline_hybrid_engine.sh`: group-mean baseline then batch whitening, KL as a
    /// loss (k2, β = 1e-5), dynamic filtering.
    case reinforcePlusPlusBaseline = "reinforce++-baseline"
    /// PPO — Schulman et al., arXiv 1707.06347, with Ouyang et al. (arXiv 2203.02155) KL-in-reward: GAE
    /// (γ = 1, λ = 0.95), value clip 0.2, KL in the reward (k1, β = 0.05), 4 epochs (TRL PPO
    /// defaults), a separate critic (a copy of the policy with its own optimizer, as verl and
    /// OpenRLHF train it), one completion per prompt (64 prompts, the group presets' 64 completions).
    case ppo
    /// DPO — Rafailov et al., arXiv 2305.18290: sigmoid loss, β = 0.1, lr 1e-6 (TRL).
    case dpo
    /// SFT — next-token likelihood on completions (TRL `SFTConfig`: lr 2e-5).
    case sft

    public var summary: String {
        switch self {
        case .grpo: "GRPO (DeepSeekMath, arXiv 2402.03300): group-normalised advantages, KL loss k3 0.001"
        case .drGRPO: "Dr. GRPO (arXiv 2503.20783): no std division, seq-mean-token-sum-norm, no KL"
        case .dapo: "DAPO (arXiv 2503.14476): clip 0.2/0.28, token-mean, dynamic sampling, soft overlong"
        case .gspo: "GSPO (arXiv 2507.18071): sequence-level ratio clipped 3e-4/4e-4, 4 mini-batches"
        case .rloo: "RLOO (arXiv 2402.14740): leave-one-out baseline, KL reward k1 0.05"
        case .reinforcePlusPlus: "REINFORCE++ (arXiv 2501.03262): whitened returns, KL reward k1 0.01"
        case .reinforcePlusPlusBaseline: "REINFORCE++-baseline (arXiv 2501.03262): group mean + whitening, KL loss k2"
        case .ppo: "PPO (arXiv 1707.06347): GAE + separate critic, KL reward k1 0.05, 4 epochs"
        case .dpo: "DPO (arXiv 2305.18290): sigmoid loss, β 0.1"
        case .sft: "SFT: token-mean next-token likelihood, lr 2e-5"
        }
    }

    /// The preset's configuration (library defaults plus the per-paper values).
    public var config: AlgorithmConfig {
        var c = AlgorithmConfig()
        switch self {
        case .grpo:
            c.estimator = .grpo
            c.klCoef = 0.001
            c.klEstimator = .k3
        case .drGRPO:
            c.estimator = .drGRPO
            c.scaleRewards = .none
            c.lossAgg = .seqMeanTokenSumNorm
        case .dapo:
            c.estimator = .grpo
            c.clipLow = 0.2
            c.clipHigh = 0.28
            c.dualClip = 10
            c.dynamicSampling = true
            c.maxResampleRounds = 10
            c.overlongPenalty = 1.0
            c.weightDecay = 0.1
            c.warmupSteps = 10
        case .gspo:
            c.estimator = .grpo
            c.policyLoss = .gspo
            c.clipLow = 3e-4
            c.clipHigh = 4e-4
            c.dualClip = nil
            c.lossAgg = .seqMeanTokenMean
            c.promptsPerStep = 8
            c.miniBatches = 4
        case .rloo:
            c.estimator = .rloo
            c.lossAgg = .seqMeanTokenSum
            c.klCoef = 0.05
            c.klInReward = true
            c.klEstimator = .k1
        case .reinforcePlusPlus:
            c.estimator = .reinforcePlusPlus
            c.klCoef = 0.01
            c.klInReward = true
            c.klEstimator = .k1
        case .reinforcePlusPlusBaseline:
            c.estimator = .reinforcePlusPlusBaseline
            c.klCoef = 1e-5
            c.klEstimator = .k2
            c.dynamicSampling = true
        case .ppo:
            c.estimator = .gae
            c.groupSize = 1
            c.promptsPerStep = 64  // same 64 completions per step as the group presets
            c.klCoef = 0.05
            c.klInReward = true
            c.klEstimator = .k1
            c.ppoEpochs = 4
            c.critic = .separate  // Trainer/SeparateCritic.swift: higher explained variance on tiny
        case .dpo:
            c.objective = .dpo
            c.dpoBeta = 0.1
            c.dpoVariant = .sigmoid
        case .sft:
            c.objective = .sft
            c.lr = 2e-5
        }
        return c
    }
}
