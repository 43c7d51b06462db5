// rlhub — loss aggregation (verl `agg_loss` / `loss_agg_mode`, TRL `loss_type`), algorithms.md §1.
//
// Every token-level loss ℓ[i,t] (policy, KL, entropy, value) is reduced as
//
//   agg(ℓ) = Σ_{i,t} w[i,t]·ℓ[i,t],   so   ∂agg/∂lp[i,t] = w[i,t]·∂ℓ[i,t]/∂lp[i,t]
//
//   token-mean                Σ m·ℓ / N                         w = m/N           DAPO "token-level loss"
//   seq-mean-token-sum        (1/B') Σ_i Σ_t m·ℓ                w = m/B'          RLOO (REINFORCE, Ahmadian et al. 2024)
//   seq-mean-token-mean       (1/B') Σ_i (1/n_i) Σ_t m·ℓ        w = m/(n_i·B')    GRPO (DeepSeekMath, arXiv 2402.03300)
//   seq-mean-token-sum-norm   Σ m·ℓ / L_norm                    w = m/L_norm      Dr. GRPO (arXiv 2503.20783), verl form
//   dr-grpo-trl               Σ m·ℓ / (B·L_norm)                w = m/(B·L_norm)  Dr. GRPO, TRL / oat form
//
// Library rules (§1): the normaliser is global over the optimiser mini-batch (all micro-batches of
// one step), so the trainer computes an ``AggregationNormalizer`` over the mini-batch and passes it
// to every micro-batch; empty rows are not in B'; B (dr-grpo-trl only) counts every row, empty
// ones included (TRL `per_token_loss.size(0)`); N = 0 ⇒ loss 0, gradients 0, optimizer step skipped;
// L_norm is a config constant (default `max_new_tokens`), never the padded length of the batch.
import Foundation

/// How token losses are reduced to one scalar (verl `loss_agg_mode`).
public enum LossAggregation: String, ConfigChoice {
    /// `Σ m·ℓ / N`: every token weighs the same. DAPO (arXiv 2503.14476) token-level loss;
    /// verl default; TRL `loss_type="dapo"`.
    case tokenMean = "token-mean"
    /// `(1/B') Σ_i Σ_t m·ℓ`: the RLOO/REINFORCE gradient `−(1/B) Σ_i A_i Σ_t ∇lp` (verl).
    case seqMeanTokenSum = "seq-mean-token-sum"
    /// `(1/B') Σ_i (1/n_i) Σ_t m·ℓ`: original GRPO (DeepSeekMath); forced for GSPO; TRL `"grpo"`.
    case seqMeanTokenMean = "seq-mean-token-mean"
    /// `Σ m·ℓ / L_norm` with a constant `L_norm`: Dr. GRPO (arXiv 2503.20783), verl's form
    /// (no division by the number of rows).
    case seqMeanTokenSumNorm = "seq-mean-token-sum-norm"
    /// `Σ m·ℓ / (B·L_norm)`: Dr. GRPO as TRL `loss_type="dr_grpo"` and oat compute it (B counts
    /// empty rows); equals `seq-mean-token-sum-norm / B`.
    case drGRPOTRL = "dr-grpo-trl"

    public static var aliases: [String: LossAggregation] {
        ["dapo": .tokenMean, "grpo": .seqMeanTokenMean, "dr_grpo": .drGRPOTRL]
    }

    public var summary: String {
        switch self {
        case .tokenMean: "Σ m·ℓ / N (DAPO token-level loss; verl default)"
        case .seqMeanTokenSum: "(1/B') Σ_i Σ_t m·ℓ (RLOO / REINFORCE)"
        case .seqMeanTokenMean: "(1/B') Σ_i (1/n_i) Σ_t m·ℓ (original GRPO, DeepSeekMath)"
        case .seqMeanTokenSumNorm: "Σ m·ℓ / L_norm (Dr. GRPO, verl form)"
        case .drGRPOTRL: "Σ m·ℓ / (B·L_norm) (Dr. GRPO, TRL/oat form)"
        }
    }

    /// Weight `w[i,t]` of one loss token of a row with `rowTokens` = n_i loss tokens; 0 when the
    /// denominator is 0 (nothing to aggregate).
    public func tokenWeight(rowTokens: Int, normalizer: AggregationNormalizer) -> Double {
        guard rowTokens > 0 else { return 0 }
        let denominator: Double
        switch self {
        case .tokenMean: denominator = Double(normalizer.tokens)
        case .seqMeanTokenSum: denominator = Double(normalizer.nonEmptyRows)
        case .seqMeanTokenMean: denominator = Double(rowTokens) * Double(normalizer.nonEmptyRows)
        case .seqMeanTokenSumNorm: denominator = normalizer.lengthNorm
        case .drGRPOTRL: denominator = Double(normalizer.rows) * normalizer.lengthNorm
        }
        return denominator > 0 ? 1 / denominator : 0
    }

    /// `w[i,t]` for every position of `batch` ([B*T], 0 where m = 0).
    public func weights(for batch: PolicyBatch, normalizer: AggregationNormalizer) -> [Double] {
        var w = [Double](repeating: 0, count: batch.rows * batch.columns)
        for i in 0..<batch.rows {
            let wi = tokenWeight(rowTokens: batch.lossTokens(row: i), normalizer: normalizer)
            for t in 0..<batch.columns where batch.mask[i * batch.columns + t] != 0 {
                w[i * batch.columns + t] = wi
            }
        }
        return w
    }

    /// `agg(ℓ)` of a [B*T] token-loss array.
    public func aggregate(_ loss: [Double], batch: PolicyBatch, normalizer: AggregationNormalizer) -> Double {
        let w = weights(for: batch, normalizer: normalizer)
        var total = 0.0
        for k in w.indices where w[k] != 0 { total += w[k] * loss[k] }
        return total
    }
}

/// The denominators of ``LossAggregation`` (N, B', B, L_norm), computed over the whole optimiser
/// mini-batch and handed to every micro-batch (§1 library rule 1).
///
/// ```swift
/// let global = AggregationNormalizer(miniBatch, lengthNorm: config.lengthNorm)
/// for micro in microBatches {                      // rows of miniBatch, in any split
///     let r = PolicyObjective.evaluate(micro, advantages: a, config: config, normalizer: global)
///     model.backward(dLogprobs: r.dLogprobs.map(Float.init), …)   // gradients add up exactly
/// }
/// ```
/// Micro-batch normalisers add up with `+` to the mini-batch one.
public struct AggregationNormalizer: Sendable, Equatable, Codable {
    /// N: loss tokens.
    public var tokens: Int
    /// B': rows with at least one loss token.
    public var nonEmptyRows: Int
    /// B: all rows, empty ones included (only ``LossAggregation/drGRPOTRL`` uses it).
    public var rows: Int
    /// L_norm: the Dr. GRPO constant (config `loss_norm_constant`, default `max_new_tokens`).
    public var lengthNorm: Double

    public init(tokens: Int, nonEmptyRows: Int, rows: Int, lengthNorm: Double) {
        self.tokens = tokens
        self.nonEmptyRows = nonEmptyRows
        self.rows = rows
        self.lengthNorm = lengthNorm
    }

    /// The counts of `batch`.
    public init(_ batch: PolicyBatch, lengthNorm: Double) {
        let n = batch.rowLossTokens
        self.init(
            tokens: n.reduce(0, +), nonEmptyRows: n.filter { $0 > 0 }.count, rows: batch.rows,
            lengthNorm: lengthNorm)
    }

    /// True when there is nothing to train on (N = 0, hence B' = 0): the step must be skipped.
    public var isEmpty: Bool { tokens == 0 }

    /// Counts of two disjoint sets of rows (micro-batches of one mini-batch).
    /// - precondition: same L_norm.
    public static func + (a: AggregationNormalizer, b: AggregationNormalizer) -> AggregationNormalizer {
        precondition(a.lengthNorm == b.lengthNorm, "AggregationNormalizer: L_norm differs between micro-batches")
        return AggregationNormalizer(
            tokens: a.tokens + b.tokens, nonEmptyRows: a.nonEmptyRows + b.nonEmptyRows,
            rows: a.rows + b.rows, lengthNorm: a.lengthNorm)
    }
}
