// rlhub generate — sample continuations of a prompt, streaming to the terminal.
import ArgumentParser
import Foundation
import Generator
import LM

struct GenerateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "generate",
        abstract: "Sample continuations of a prompt (streamed when --n is 1).",
        discussion: """
            Example: rlhub generate --model models/SmolLM2-135M-Instruct.Q4_1.gguf --chat \\
                       --prompt "What is 12 + 30?" --temperature 0
            With --chat the prompt is a user message rendered with the model's chat template
            (and its default system prompt unless --system is given).
            """)

    @Option(help: "Model reference: preset:NAME, a Hugging Face folder or a .gguf file.") var model: String
    @Option(help: "Prompt text.") var prompt: String
    @Flag(help: "Render the prompt as a user message with the chat template.") var chat = false
    @Option(help: "System message (with --chat).") var system: String?
    @Option(help: "Maximum new tokens.") var maxTokens = 128
    @Option(help: "Temperature; 0 is greedy.") var temperature: Float = 0.7
    @Option(help: "Nucleus mass (1 = off).") var topP: Float = 1
    @Option(help: "Keep the k most probable tokens (0 = off).") var topK = 0
    @Option(help: "Minimum probability relative to the best token (0 = off).") var minP: Float = 0
    @Option(help: "Sampling seed (and initialisation seed of preset models).") var seed: UInt64 = 0
    @Option(help: "Samples to draw.") var n = 1
    @OptionGroup var compute: ComputeOptions
    @OptionGroup var storeOptions: StoreOptions

    func run() throws {
        try compute.apply()
        let start = Date()
        let loaded = try loadModel(model, seed: seed, store: storeOptions)
        let loadSeconds = Date().timeIntervalSince(start)
        var text = prompt
        if chat {
            var messages: [ChatMessage] = []
            if let system { messages.append(ChatMessage(role: "system", content: system)) }
            messages.append(ChatMessage(role: "user", content: prompt))
            text = loaded.chatTemplate.render(messages, addGenerationPrompt: true)
        } else if system != nil {
            throw InputError(file: "--system", message: "only applies with --chat")
        }
        let ids = loaded.tokenizer.encode(text)
        var request = GenerationRequest(prompts: [ids])
        request.samplesPerPrompt = n
        request.maxNewTokens = maxTokens
        request.sampling = SamplingParameters(temperature: temperature, topK: topK, topP: topP, minP: minP)
        request.seed = seed
        request.stopTokens = Set([loaded.tokenizer.eosTokenID, loaded.tokenizer.id(for: "<|im_end|>")].compactMap { $0 })
        let generator = BatchGenerator(model: loaded.model, tokenizer: loaded.tokenizer)
        var stream = StreamingDetokenizer(tokenizer: loaded.tokenizer, skipSpecial: true)
        let out = FileHandle.standardOutput
        let t0 = Date()
        let completions = try generator.generate(request) { _, token in
            if n == 1 { out.write(Data(stream.push(token).utf8)) }
        }
        let seconds = Date().timeIntervalSince(t0)
        if n == 1 {
            out.write(Data((stream.finish() + "\n").utf8))
        } else {
            for c in completions {
                print("--- sample \(c.sample) (\(c.finishReason.rawValue))")
                print(loaded.tokenizer.decode(c.tokens, skipSpecial: true))
            }
        }
        let tokens = completions.reduce(0) { $0 + $1.tokens.count }
        FileHandle.standardError.write(Data(String(
            format: "[load %.2f s · prompt %d tokens · %d new tokens in %.2f s · %.1f tokens/s]\n",
            loadSeconds, ids.count, tokens, seconds, Double(tokens) / max(seconds, 1e-9)).utf8))
    }
}

struct TokenizeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tokenize",
        abstract: "Print the token ids of a text as JSON.",
        discussion: "Example: rlhub tokenize --model models/SmolLM2-135M-Instruct.Q4_1.gguf --text \"a  5\"")

    @Option(help: "Model reference.") var model: String
    @Option(help: "Text to tokenize (special tokens such as <|im_end|> are recognised).") var text: String
    @Flag(help: "Also print each token's string.") var verbose = false

    func run() throws {
        let tokenizer = try ModelLoader.loadTokenizer(model)
        let ids = tokenizer.encode(text)
        if verbose {
            struct Row: Encodable { var id: Int32; var token: String }
            try printJSON(ids.map { Row(id: $0, token: tokenizer.token(for: $0) ?? "") })
        } else {
            print("[" + ids.map(String.init).joined(separator: ", ") + "]")
        }
    }
}

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
