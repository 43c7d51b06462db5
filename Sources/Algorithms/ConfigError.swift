// rlhub — the one error type for bad algorithm settings (config files, `--set`, presets), one line.
import Foundation

/// A bad algorithm setting: the CLI prints ``description`` on one line and exits with status 2.
///
/// The message names the key and says what to change, so the user can fix the command line
/// without reading the source.
///
/// ```swift
/// throw ConfigError(field: "group_size",
///                   message: "must be ≥ 2 for estimator 'grpo'; set group_size ≥ 2 or use --algo ppo")
/// // group_size: must be ≥ 2 for estimator 'grpo'; set group_size ≥ 2 or use --algo ppo
/// ```
public struct ConfigError: Error, CustomStringConvertible, Sendable, Equatable {
    /// Where the setting came from (`--set`, a config file path, a preset); empty for
    /// ``AlgorithmConfig/validate()``, whose messages stand on their own.
    public var file: String
    /// The config key (snake_case, as in the JSON file and `--set`); empty when the whole input is bad.
    public var field: String
    /// What is wrong and what to do instead.
    public var message: String

    public init(file: String = "", field: String = "", message: String) {
        self.file = file
        self.field = field
        self.message = message
    }

    /// `file: field: message` on one line (empty parts dropped, newlines flattened).
    public var description: String {
        let parts = [file, field, message].filter { !$0.isEmpty }
        return parts.joined(separator: ": ").replacingOccurrences(of: "\n", with: " ")
    }
}
