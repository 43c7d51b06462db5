// rlhub — learning-rate schedules, as in transformers' `get_scheduler`.
import Foundation

/// Learning rate as a function of the optimizer step (0-based).
///
/// Every schedule starts with the linear warm-up η·(s+1)/W for s < W (W = `warmup_steps`), as
/// verl applies `lr_warmup_steps` to its constant schedule: a configured warm-up is never
/// ignored (transformers' `constant` would ignore it; the DAPO recipe sets W = 10 with a
/// constant rate and means it).
/// - `constant`: warm-up, then η (`constant_with_warmup`).
/// - `linearWarmup`: the same as `constant` (the name configs written before the warm-up
///   applied to every schedule used for it).
/// - `cosine`: warmup as above, then η·½(1 + cos(π·p)) with p = (s−W)/(S−W) (`cosine`).
/// - `linear`: warmup, then η·(1 − p) (`linear`).
public enum LearningRateSchedule: String, Codable, Sendable, CaseIterable {
    case constant
    case linearWarmup = "linear-warmup"
    case cosine
    case linear

    /// - Parameters:
    ///   - step: the optimizer step about to be taken, from 0.
    ///   - base: peak learning rate η.
    ///   - warmup: warm-up steps W.
    ///   - total: total steps S.
    public func rate(step: Int, base: Double, warmup: Int, total: Int) -> Double {
        if step < warmup { return base * Double(step + 1) / Double(warmup) }
        if self == .constant || self == .linearWarmup { return base }
        let span = max(1, total - warmup)
        let progress = min(1, Double(step - warmup) / Double(span))
        switch self {
        case .cosine: return base * 0.5 * (1 + cos(Double.pi * progress))
        case .linear: return base * (1 - progress)
        default: return base
        }
    }
}
