// rlhub export — a model in Hugging Face layout; a LoRA model for PEFT (base + adapter) or merged.
import ArgumentParser
import Foundation
import LM

struct ExportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Write a model in Hugging Face layout (loads in transformers as LlamaForCausalLM).",
        discussion: """
            A LoRA model (an adapter checkpoint) is written for PEFT: OUT/base (the base model) and \
            OUT/adapter (adapter_config.json + adapter_model.safetensors); --merge writes one merged model instead.
            Example: rlhub export --model models/SmolLM2-135M-Instruct.Q4_1.gguf --out models/smollm2-hf
            """)

    @Option(help: "Model reference.") var model: String
    @Option(help: "Output folder (must not exist or be empty).") var out: String
    @Option(help: "Initialisation seed of preset models.") var seed: UInt64 = 0
    @Flag(help: "Merge a LoRA adapter into its base (W + s·B·A) and write one model.") var merge = false
    @OptionGroup var compute: ComputeOptions
    @OptionGroup var storeOptions: StoreOptions

    func run() throws {
        try compute.apply()
        let loaded = try loadModel(model, seed: seed, store: storeOptions)
        if let adapters = loaded.model.adapters, !merge {
            try LoRACheckpoint.exportPEFT(loaded, to: out)
            let c = adapters.config
            print("wrote \(out)/base (config.json, model.safetensors: F32, \(loaded.model.parameterCount) parameters, tokenizer) and \(out)/adapter (adapter_config.json, adapter_model.safetensors: r \(c.rank), alpha \(c.alpha), \(c.targets.map(\.rawValue).joined(separator: "+")), \(adapters.parameterCount) parameters)")
            return
        }
        let merged = loaded.model.adapters != nil
        loaded.model.mergeAdapters()
        try HFCheckpoint.save(loaded, to: out)
        print("wrote \(out): config.json, model.safetensors (F32, \(loaded.model.parameterCount) parameters\(merged ? ", LoRA adapter merged" : "")), generation_config.json, tokenizer.json, tokenizer_config.json")
    }
}
