// rlhub init-model — write a randomly initialised model folder in Hugging Face layout.
import ArgumentParser
import Foundation
import LM

struct InitModelCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "init-model",
        abstract: "Write a randomly initialised model folder (Hugging Face layout).",
        discussion: """
            Presets: \(LlamaConfig.presetNames.joined(separator: ", ")).
            Example: rlhub init-model --preset tiny --seed 0 --out models/tiny-0
            """)

    @Option(help: "Architecture preset.") var preset: ModelPresetName
    @Option(help: "Seed of the initialisation.") var seed: UInt64 = 0
    @Option(help: "Output folder (must not exist or be empty).") var out: String
    @OptionGroup var compute: ComputeOptions

    func run() throws {
        try compute.apply()
        let config = try LlamaConfig.preset(preset.name)
        let loaded = LoadedModel(
            model: LlamaModel(config: config, seed: seed), tokenizer: CharTokenizer.standard, source: "preset:\(preset.name)")
        try HFCheckpoint.save(loaded, to: out)
        print("wrote \(out) (\(loaded.model.parameterCount) parameters, preset \(preset.name), seed \(seed))")
    }
}
