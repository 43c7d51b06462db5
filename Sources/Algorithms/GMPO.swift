// rlhub — GMPO, Geometric-Mean Policy Optimization (optional; algorithms.md §3.5).
//
// Zhao et al., "Geometric-Mean Policy Optimization", arXiv 2507.20673; verl
// `compute_policy_loss_geo_mean`.
//
//   Δ[i,t] = clamp(lp − lp_old, −20, 20)
//   Δ̃[i,t] = sgn(A_i)·min( sgn(A_i)·Δ, sgn(A_i)·clamp(Δ, −ε_low, ε_high) )     token clip in log space
//   ρ_i    = exp( (1/n_i) Σ_t m·Δ̃[i,t] ),   ℓ_i = −A_i·ρ_i,   L = (1/B') Σ_{i: n_i>0} ℓ_i
//
//   ∂L/∂lp[i,t] = −A_i·ρ_i / (n_i·B') · [token t unclipped]
//   unclipped ⇔ A_i > 0: Δ ≤ ε_high ;  A_i < 0: Δ ≥ −ε_low   (and |lp − lp_old| ≤ 20)
//
// Here ε_low/ε_high are log-space bounds (config `clip_low`/`clip_high`; paper (e^−0.4, e^0.4) →
// 0.4/0.4). A_i is the mean advantage over the row's loss tokens (= A_i for outcome estimators).
import Foundation

/// GMPO's geometric-mean objective in token form (each token carries ℓ_i).
public enum GMPO {
    /// Per-token `ℓ_i` and own-gradient `−A_i·ρ_i·[unclipped]` of row `i` ([T]; zero at m = 0).
    public static func row(
        batch: PolicyBatch, row i: Int, advantages: [Double], clipLow: Double, clipHigh: Double
    ) -> [TokenPolicyLoss] {
        let T = batch.columns
        let loss = (0..<T).filter { batch.mask[i * T + $0] != 0 }
        guard !loss.isEmpty else { return [TokenPolicyLoss](repeating: TokenPolicyLoss(value: 0, gradient: 0), count: T) }
        let A = loss.reduce(0) { $0 + advantages[i * T + $1] } / Double(loss.count)
        let sign: Double = A > 0 ? 1 : (A < 0 ? -1 : 0)
        var sum = 0.0
        var clips = [TokenPolicyLoss.Clip](repeating: .none, count: T)
        for t in loss {
            let raw = batch.logprobs[i * T + t] - batch.oldLogprobs[i * T + t]
            let delta = min(max(raw, -20), 20)
            let clippedDelta = min(max(delta, -clipLow), clipHigh)
            let tilde = sign == 0 ? delta : sign * min(sign * delta, sign * clippedDelta)
            sum += tilde
            if A > 0 && delta > clipHigh {
                clips[t] = .high
            } else if A < 0 && delta < -clipLow {
                clips[t] = .low
            } else if delta != raw {
                clips[t] = .clamp
            }
        }
        let rho = Foundation.exp(sum / Double(loss.count))
        return (0..<T).map { t in
            guard batch.mask[i * T + t] != 0 else { return TokenPolicyLoss(value: 0, gradient: 0) }
            return TokenPolicyLoss(value: -A * rho, gradient: clips[t] == .none && A != 0 ? -A * rho : 0, clip: clips[t])
        }
    }
}
