// rlhub export — a model in Hugging Face layout.
import ArgumentParser
import Foundation
import LM

struct ExportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Write a model in Hugging Face layout (loads in transformers as LlamaForCausalLM).",
        discussion: "Example: rlhub export --model models/SmolLM2-135M-Instruct.Q4_1.gguf --out models/smollm2-hf")

    @Option(help: "Model reference.") var model: String
    @Option(help: "Output folder (must not exist or be empty).") var out: String
    @Option(help: "Initialisation seed of preset models.") var seed: UInt64 = 0
    @OptionGroup var compute: ComputeOptions
    @OptionGroup var storeOptions: StoreOptions

    func run() throws {
        try compute.apply()
        let loaded = try loadModel(model, seed: seed, store: storeOptions)
        try HFCheckpoint.save(loaded, to: out)
        print("wrote \(out): config.json, model.safetensors (F32, \(loaded.model.parameterCount) parameters), generation_config.json, tokenizer.json, tokenizer_config.json")
    }
}
