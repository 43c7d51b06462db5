// rlhub — flag values from closed sets, parsed by ArgumentParser: `--help` lists the valid ones and
// any other is refused before a command runs (exit status 2, the valid values named).
import ArgumentParser
import LM
import RLAlgorithms

/// `--algo`: an algorithm preset, spelled as in `--help-config` (`-`/`_` and case aside, as the
/// presets' own parser accepts, so `dr_grpo` names `dr-grpo`).
extension AlgorithmPreset: ExpressibleByArgument {
    public init?(argument: String) {
        guard let preset = try? AlgorithmPreset.parse(argument, key: "--algo") else { return nil }
        self = preset
    }
}

/// `init-model --preset`: an architecture preset of ``LlamaConfig``.
struct ModelPresetName: ExpressibleByArgument {
    var name: String

    init?(argument: String) {
        guard LlamaConfig.presetNames.contains(argument) else { return nil }
        name = argument
    }

    var defaultValueDescription: String { name }
    static var allValueStrings: [String] { LlamaConfig.presetNames }
    static var defaultCompletionKind: CompletionKind { .list(allValueStrings) }
}
