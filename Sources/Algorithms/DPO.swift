// rlhub — Direct Preference Optimization and its variants (algorithms.md §8.2).
//
// Rafailov et al., "Direct Preference Optimization: Your Language Model is Secretly a Reward
// Model", arXiv 2305.18290; cDPO: Mitchell, "A Note on DPO with Noisy Preferences" (2023);
// robust DPO: Chowdhury et al., "Provably Robust DPO", arXiv 2403.00409; IPO: Azar et al.,
// "A General Theoretical Paradigm to Understand Learning from Human Preferences", arXiv 2310.12036.
// TRL `dpo_trainer.py` (`loss_type`).
//
// Per pair (chosen w, rejected l), sequence log-probs are sums over the completion mask:
//   LP_w = Σ_t m_w·lp_w,   LPref_w likewise (frozen reference, τ = 1)
//   Δ = (LP_w − LPref_w) − (LP_l − LPref_l)
//   sigmoid  ℓ = softplus(−βΔ)                                   ∂ℓ/∂Δ = −β·σ(−βΔ)
//   cdpo     ℓ = (1−ε)·softplus(−βΔ) + ε·softplus(βΔ)             ∂ℓ/∂Δ = β(σ(βΔ) − (1−ε))
//   robust   ℓ = [(1−ε)·softplus(−βΔ) − ε·softplus(βΔ)] / (1−2ε)   ∂ℓ/∂Δ = −β[(1−ε)σ(−βΔ) + εσ(βΔ)]/(1−2ε)
//   ipo      Δ̄ = (LP_w−LPref_w)/n_w − (LP_l−LPref_l)/n_l,  ℓ = (Δ̄ − 1/(2β))²
//   L = mean over P pairs;  ∂L/∂LP_w = (1/P)·∂ℓ/∂Δ,  ∂L/∂LP_l = −(1/P)·∂ℓ/∂Δ
//        (IPO: ∂L/∂LP_w = 2(Δ̄ − 1/(2β))/(n_w·P),  ∂L/∂LP_l = −2(Δ̄ − 1/(2β))/(n_l·P))
//   token gradient: ∂L/∂lp_w[t] = m_w[t]·∂L/∂LP_w  (the trainer broadcasts over the mask)
//   implicit rewards: β(LP_w − LPref_w), β(LP_l − LPref_l)
// log σ is always evaluated as −softplus(−x), softplus(x) = max(x,0) + log1p(exp(−|x|)).
import Foundation

/// The DPO loss variant (TRL `loss_type`).
public enum DPOVariant: String, ConfigChoice {
    /// `−log σ(βΔ)` (Rafailov et al. 2023; TRL default `"sigmoid"`).
    case sigmoid
    /// Conservative DPO with label smoothing ε (TRL's pre-refactor `sigmoid` with `label_smoothing`).
    case cdpo
    /// Robust DPO, unbiased under preference-flip rate ε ∈ [0, 0.5) (TRL `"robust"`).
    case robust
    /// IPO: squared loss on the per-token-averaged margin, target 1/(2β) (TRL `"ipo"`).
    case ipo

    public static var aliases: [String: DPOVariant] { ["c_dpo": .cdpo, "conservative": .cdpo] }

    public var summary: String {
        switch self {
        case .sigmoid: "−log σ(βΔ) (DPO)"
        case .cdpo: "label-smoothed −log σ (cDPO)"
        case .robust: "noise-robust DPO (Chowdhury et al.)"
        case .ipo: "(Δ̄ − 1/(2β))² on per-token averages (IPO)"
        }
    }
}

/// One preference pair's summed completion log-probs (and lengths, for IPO).
public struct DPOPair: Sendable, Equatable, Codable {
    /// LP_w: Σ_t m_w·lp_w under the policy (the quantity with gradient).
    public var policyChosen: Double
    /// LP_l under the policy.
    public var policyRejected: Double
    /// LPref_w under the frozen reference.
    public var referenceChosen: Double
    /// LPref_l under the frozen reference.
    public var referenceRejected: Double
    /// n_w: completion tokens of the chosen response (IPO).
    public var chosenTokens: Int
    /// n_l: completion tokens of the rejected response (IPO).
    public var rejectedTokens: Int

    public init(
        policyChosen: Double, policyRejected: Double, referenceChosen: Double, referenceRejected: Double,
        chosenTokens: Int = 1, rejectedTokens: Int = 1
    ) {
        self.policyChosen = policyChosen
        self.policyRejected = policyRejected
        self.referenceChosen = referenceChosen
        self.referenceRejected = referenceRejected
        self.chosenTokens = chosenTokens
        self.rejectedTokens = rejectedTokens
    }
}

/// Value, gradients with respect to the summed policy log-probs, and metrics of a DPO batch.
public struct DPOResult: Sendable, Equatable {
    /// L = mean over pairs.
    public var loss: Double
    /// ∂L/∂LP_w per pair (each chosen loss token gets this value).
    public var dPolicyChosen: [Double]
    /// ∂L/∂LP_l per pair (each rejected loss token gets this value).
    public var dPolicyRejected: [Double]
    /// `loss/dpo`, `rewards/chosen`, `rewards/rejected`, `rewards/margin`, `rewards/accuracy`
    /// (means over pairs).
    public var metrics: [String: Double]
}

/// DPO-family losses.
public enum DPO {
    /// `log(1 + eˣ)` without overflow.
    public static func softplus(_ x: Double) -> Double { max(x, 0) + Foundation.log1p(Foundation.exp(-Swift.abs(x))) }

    /// `1/(1 + e^{−x})` without overflow.
    public static func sigmoid(_ x: Double) -> Double {
        x >= 0 ? 1 / (1 + Foundation.exp(-x)) : Foundation.exp(x) / (1 + Foundation.exp(x))
    }

    /// One pair's loss and its derivatives with respect to LP_w and LP_l.
    public static func pair(
        _ p: DPOPair, beta: Double, variant: DPOVariant, labelSmoothing eps: Double
    ) -> (loss: Double, dChosen: Double, dRejected: Double) {
        let chosen = p.policyChosen - p.referenceChosen
        let rejected = p.policyRejected - p.referenceRejected
        let delta = chosen - rejected
        let x = beta * delta
        switch variant {
        case .sigmoid:
            let d = -beta * sigmoid(-x)
            return (softplus(-x), d, -d)
        case .cdpo:
            let d = beta * (sigmoid(x) - (1 - eps))
            return ((1 - eps) * softplus(-x) + eps * softplus(x), d, -d)
        case .robust:
            let loss = ((1 - eps) * softplus(-x) - eps * softplus(x)) / (1 - 2 * eps)
            let d = -beta * ((1 - eps) * sigmoid(-x) + eps * sigmoid(x)) / (1 - 2 * eps)
            return (loss, d, -d)
        case .ipo:
            precondition(p.chosenTokens > 0 && p.rejectedTokens > 0, "IPO: chosen/rejected token counts must be ≥ 1")
            let nw = Double(p.chosenTokens), nl = Double(p.rejectedTokens)
            let gap = chosen / nw - rejected / nl - 1 / (2 * beta)
            return (gap * gap, 2 * gap / nw, -2 * gap / nl)
        }
    }

    /// Mean loss over `pairs`, gradients with respect to each pair's summed policy log-probs.
    /// An empty batch gives loss 0 and no gradients.
    public static func evaluate(
        pairs: [DPOPair], beta: Double, variant: DPOVariant, labelSmoothing: Double = 0
    ) -> DPOResult {
        let P = Double(pairs.count)
        var result = DPOResult(loss: 0, dPolicyChosen: [], dPolicyRejected: [], metrics: [:])
        var chosenReward = 0.0, rejectedReward = 0.0, accuracy = 0.0
        for p in pairs {
            let (loss, dw, dl) = pair(p, beta: beta, variant: variant, labelSmoothing: labelSmoothing)
            result.loss += loss / P
            result.dPolicyChosen.append(dw / P)
            result.dPolicyRejected.append(dl / P)
            let rw = beta * (p.policyChosen - p.referenceChosen), rl = beta * (p.policyRejected - p.referenceRejected)
            chosenReward += rw / P
            rejectedReward += rl / P
            accuracy += rw > rl ? 1 / P : 0
        }
        result.metrics = [
            "loss/dpo": result.loss, "rewards/chosen": chosenReward, "rewards/rejected": rejectedReward,
            "rewards/margin": chosenReward - rejectedReward, "rewards/accuracy": accuracy,
        ]
        return result
    }
}
