// rlhub — DAPO dynamic sampling: train only on groups whose rewards differ (algorithms.md §7.1).
//
// Yu et al., "DAPO: An Open-Source LLM Reinforcement Learning System at Scale", arXiv 2503.14476
// (Eq. 11: 0 < |{o_i : is_equivalent(a, o_i)}| < G); verl `recipe/dapo/dapo_ray_trainer.py`;
// OpenRLHF dynamic filtering `(0, 1)`.
//
//   keep group g  ⇔  its metric values v_j (j ∈ S_g) are not all equal   or   G = 1
//   append kept groups to the pending batch; rounds += 1
//   pending ≥ target groups   → train on exactly the first `target` groups (in order)
//   else if max_rounds > 0 and rounds ≥ max_rounds → error (data too hard / too easy)
//   else generate another batch
//
// Exact comparison of values, no float std threshold. Why: zero-variance groups have A = 0 but
// still count in the token-mean denominator N, diluting every other gradient.
import Foundation

/// Dynamic sampling gave up: too many generation rounds without enough informative groups.
public struct DynamicSamplingError: Error, CustomStringConvertible, Sendable, Equatable {
    /// Generation rounds used.
    public var rounds: Int
    /// Informative groups collected.
    public var kept: Int
    /// Groups needed per step.
    public var target: Int

    /// One line with the counts and what to change.
    public var description: String {
        "dynamic_sampling: only \(kept) of \(target) groups had differing rewards after \(rounds) generation rounds; the tasks are too hard or too easy for the model — raise max_resample_rounds (0 = unlimited), change the task difficulty, or set dynamic_sampling=false"
    }
}

/// DAPO's group filter and the buffer that assembles one training batch from several rounds.
///
/// ```swift
/// var buffer = DynamicSampling.Buffer<Group>(targetGroups: config.promptsPerStep,
///                                            maxRounds: config.maxResampleRounds)
/// while true {
///     let fresh = generateAndScore()                      // [Group], each with its rewards
///     if let batch = try buffer.add(fresh, values: { $0.rewards }) { train(batch); break }
/// }
/// ```
public enum DynamicSampling {
    /// True when the group is informative: its values are not all equal, or it has one member.
    public static func keepGroup(_ values: [Double]) -> Bool {
        values.count <= 1 || values.min() != values.max()
    }

    /// Collects informative groups over generation rounds until a training batch is full.
    public struct Buffer<Group> {
        /// Groups per training step (prompts_per_step).
        public let targetGroups: Int
        /// Maximum generation rounds (verl `max_num_gen_batches`); 0 = unlimited.
        public let maxRounds: Int
        /// Kept groups so far, in arrival order.
        public private(set) var pending: [Group] = []
        /// Generation rounds so far.
        public private(set) var rounds = 0
        /// Groups dropped for zero variance so far.
        public private(set) var dropped = 0

        public init(targetGroups: Int, maxRounds: Int) {
            precondition(targetGroups >= 1, "DynamicSampling.Buffer: targetGroups must be ≥ 1")
            self.targetGroups = targetGroups
            self.maxRounds = maxRounds
        }

        /// Adds one round of freshly generated groups.
        /// - Parameter values: the metric of each group's rows (acc, or the summed reward).
        /// - Returns: exactly ``targetGroups`` groups (the first ones kept) once enough were
        ///   collected, else nil (generate another round).
        /// - Throws: ``DynamicSamplingError`` when ``maxRounds`` rounds did not suffice.
        public mutating func add(_ groups: [Group], values: (Group) -> [Double]) throws(DynamicSamplingError) -> [Group]? {
            rounds += 1
            for g in groups {
                if DynamicSampling.keepGroup(values(g)) { pending.append(g) } else { dropped += 1 }
            }
            if pending.count >= targetGroups { return Array(pending.prefix(targetGroups)) }
            if maxRounds > 0 && rounds >= maxRounds {
                throw DynamicSamplingError(rounds: rounds, kept: pending.count, target: targetGroups)
            }
            return nil
        }

        /// `dynamic_sampling/rounds`, `dynamic_sampling/kept_groups`, `dynamic_sampling/dropped_groups`.
        public var metrics: [String: Double] {
            [
                "dynamic_sampling/rounds": Double(rounds), "dynamic_sampling/kept_groups": Double(pending.count),
                "dynamic_sampling/dropped_groups": Double(dropped),
            ]
        }
    }
}

extension DynamicSampling.Buffer: Sendable where Group: Sendable {}
