// rlhub — closed sets of named choices (estimators, losses, aggregation modes, …) chosen by name.
//
// verl and TRL select algorithm variants with strings (`adv_estimator="grpo"`,
// `loss_agg_mode="token-mean"`, `loss_type="dapo"`); rlhub keeps those names as the raw values
// of closed Swift enums, so every call site is an exhaustive `switch` and an unknown name fails up
// front with the list of valid ones (style.md items 8–9).
import Foundation

/// A closed set of named choices whose raw values are the config names.
///
/// ```swift
/// let mode = try LossAggregation.parse("token-mean", key: "loss_agg")   // .tokenMean
/// try KLEstimator.parse("k5", key: "kl_estimator")
/// // throws: kl_estimator: unknown value 'k5'; valid values: k1, k2, k3, abs
/// ```
public protocol ConfigChoice: RawRepresentable, CaseIterable, ConfigValue, Hashable
where RawValue == String {
    /// Other accepted spellings (e.g. verl's `low_var_kl` for ``KLEstimator/k3``), lower-cased.
    static var aliases: [String: Self] { get }
    /// One line: what this choice does and where it comes from (for `--help-config`).
    var summary: String { get }
}

extension ConfigChoice {
    public static var aliases: [String: Self] { [:] }

    /// The valid names, in declaration order, comma-separated.
    public static var validNames: String { allCases.map(\.rawValue).joined(separator: ", ") }

    /// Looks `name` up among the raw values and ``aliases``; `-` and `_` are interchangeable and
    /// case is ignored.
    /// - Throws: ``ConfigError`` naming `key` and listing the valid values.
    public static func parse(_ name: String, key: String) throws(ConfigError) -> Self {
        let wanted = normalizedChoiceName(name)
        for choice in allCases where normalizedChoiceName(choice.rawValue) == wanted {
            return choice
        }
        for (alias, choice) in aliases where normalizedChoiceName(alias) == wanted {
            return choice
        }
        throw ConfigError(field: key, message: "unknown value '\(name)'; valid values: \(validNames)")
    }
}

/// Lower-case with `-` → `_`, so `dr-grpo` and `dr_grpo` name the same thing.
func normalizedChoiceName(_ name: String) -> String {
    name.trimmingCharacters(in: .whitespaces).lowercased().replacingOccurrences(of: "-", with: "_")
}
