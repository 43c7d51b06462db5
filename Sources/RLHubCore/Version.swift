// rlhub — the library's version.

/// rlhub's semantic version, recorded with every stored run.
public enum RLHubVersion {
    public static let string = "0.1.0"
}
