// rlhub — model folders in Hugging Face layout: config.json, model.safetensors,
// generation_config.json, tokenizer.json, tokenizer_config.json. transformers loads them as
// LlamaForCausalLM without conversion (weights are F32, [out, in], HF names).
import Foundation
import RLHubCore
import Tensor

/// A model with the tokenizer it was trained with.
public struct LoadedModel: @unchecked Sendable {
    public let model: LlamaModel
    public let tokenizer: any Tokenizer
    /// Where it came from (a folder path, `preset:NAME`, …).
    public let source: String
    /// How chat messages become a prompt (ChatML for rlhub's task models).
    public let chatTemplate: ChatTemplate

    public init(model: LlamaModel, tokenizer: any Tokenizer, source: String, chatTemplate: ChatTemplate? = nil) {
        self.model = model
        self.tokenizer = tokenizer
        self.source = source
        self.chatTemplate = chatTemplate ?? .chatML
    }
}

/// Reads and writes Hugging Face model folders.
public enum HFCheckpoint {
    /// Writes `loaded` to `folder` atomically: files go to a temporary sibling folder that is
    /// renamed into place. `folder` must not exist or be an empty folder.
    /// - Parameters:
    ///   - extraFiles: more files to place in the folder (name → bytes).
    ///   - writeExtras: writes more files into the (temporary) folder whose path it is given, so
    ///     that large files are written once, straight into place.
    public static func save(
        _ loaded: LoadedModel, to folder: String, weights: Weights = .model, extraFiles: [String: Data] = [:],
        writeExtras: ((String) throws -> Void)? = nil
    ) throws {
        let fm = FileManager.default
        let target = URL(fileURLWithPath: folder).standardizedFileURL
        if fm.fileExists(atPath: target.path) {
            let contents = (try? fm.contentsOfDirectory(atPath: target.path)) ?? ["?"]
            guard contents.isEmpty else {
                throw InputError(file: folder, message: "output folder exists and is not empty")
            }
            try fm.removeItem(at: target)
        }
        let parent = target.deletingLastPathComponent()
        try fm.createDirectory(at: parent, withIntermediateDirectories: true)
        try AtomicFile.replace(target.path) { temp in
            try fm.createDirectory(atPath: temp, withIntermediateDirectories: false)
            switch weights {
            case .model: try writeModelFiles(loaded.model, into: temp)
            case .adapters(let adapters, let reference, let hash):
                try LoRACheckpoint.writeFiles(adapters, baseReference: reference, baseHash: hash, into: temp)
            }
            try writeTokenizerFiles(loaded, into: temp)
            for (name, data) in extraFiles { try data.write(to: URL(fileURLWithPath: temp).appendingPathComponent(name)) }
            try writeExtras?(temp)
        }
    }

    /// What a folder holds besides the tokenizer: the whole model, or a LoRA adapter and the
    /// reference and parameter hash of its base (LoRACheckpoint.swift).
    public enum Weights {
        case model
        case adapters(LoRAAdapters, baseReference: String, baseHash: String)
    }

    private static func writeModelFiles(_ model: LlamaModel, into dir: String) throws {
        let config = model.config
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try encoder.encode(config).write(to: URL(fileURLWithPath: dir + "/config.json"))
        var generation: [String: Any] = ["_from_model_config": true, "transformers_version": "4.46.0"]
        if let b = config.bosTokenID { generation["bos_token_id"] = b }
        if let e = config.eosTokenID { generation["eos_token_id"] = e }
        if let p = config.padTokenID { generation["pad_token_id"] = p }
        try JSONSerialization.data(withJSONObject: generation, options: [.prettyPrinted, .sortedKeys])
            .write(to: URL(fileURLWithPath: dir + "/generation_config.json"))
        let tensors = model.layout.entries.map { e in
            (name: e.name, shape: e.shape,
             data: UnsafeBufferPointer(start: model.parameters.pointer + e.offset, count: e.count))
        }
        try SafetensorsWriter.write(tensors, metadata: ["format": "pt"], to: dir + "/model.safetensors")
    }

    private static func writeTokenizerFiles(_ loaded: LoadedModel, into dir: String) throws {
        let template = loaded.chatTemplate.source
        if let chars = loaded.tokenizer as? CharTokenizer {
            try chars.huggingFaceJSON().write(to: URL(fileURLWithPath: dir + "/tokenizer.json"))
            try chars.huggingFaceConfigJSON(chatTemplate: template)
                .write(to: URL(fileURLWithPath: dir + "/tokenizer_config.json"))
        } else if let bpe = loaded.tokenizer as? ByteLevelBPETokenizer {
            try bpe.huggingFaceJSON().write(to: URL(fileURLWithPath: dir + "/tokenizer.json"))
            try bpe.huggingFaceConfigJSON(chatTemplate: template)
                .write(to: URL(fileURLWithPath: dir + "/tokenizer_config.json"))
        }
    }

    /// Loads a model folder; every problem is an ``InputError`` naming the file and field.
    public static func load(folder: String) throws(InputError) -> LoadedModel {
        let configPath = folder + "/config.json"
        let config = try readConfig(configPath)
        let weightsPath = folder + "/model.safetensors"
        guard FileManager.default.fileExists(atPath: weightsPath) else {
            throw InputError(file: weightsPath, message: "missing (sharded checkpoints are not supported)")
        }
        let file = try SafetensorsFile(contentsOf: weightsPath)
        // Every tensor is checked against config.json before the model is allocated, so the
        // allocation is bounded by what the file holds, not by what config.json claims.
        let layout = ParameterLayout(config: config)
        var expected = Set<String>()
        for entry in layout.entries {
            expected.insert(entry.name)
            guard let info = file.tensors[entry.name] else {
                throw InputError(file: weightsPath, field: entry.name, message: "tensor missing")
            }
            guard info.shape == entry.shape else {
                throw InputError(
                    file: weightsPath, field: entry.name,
                    message: "shape \(info.shape) does not match config.json (expected \(entry.shape))")
            }
        }
        for name in file.names where !expected.contains(name) {
            // A tied checkpoint may still carry lm_head.weight (a copy of the embedding).
            if name == "lm_head.weight" && config.tieWordEmbeddings { continue }
            if name.hasSuffix("rotary_emb.inv_freq") { continue }
            throw InputError(file: weightsPath, field: name, message: "unexpected tensor for this config")
        }
        let model = LlamaModel(config: config)
        for entry in layout.entries {
            try file.copyFloats(
                entry.name, into: UnsafeMutableBufferPointer(start: model.parameters.pointer + entry.offset, count: entry.count))
        }
        model.parameters.markModified()
        let tokenizer = try loadTokenizer(folder: folder, config: config)
        return LoadedModel(
            model: model, tokenizer: tokenizer, source: folder, chatTemplate: try loadChatTemplate(folder: folder))
    }

    /// Decodes (strictly, see ``LlamaConfig/decodeHuggingFace(_:path:)``) and validates `config.json`.
    public static func readConfig(_ path: String) throws(InputError) -> LlamaConfig {
        let data = try BoundedFile.read(path, limit: LlamaConfig.maxConfigJSONBytes)
        let config = try LlamaConfig.decodeHuggingFace(data, path: path)
        try config.validate(file: path)
        return config
    }

    /// The `chat_template` of `tokenizer_config.json`, if the folder has one.
    static func loadChatTemplate(folder: String) throws(InputError) -> ChatTemplate? {
        let path = folder + "/tokenizer_config.json"
        guard let data = FileManager.default.contents(atPath: path) else { return nil }
        let root = try StrictJSON.parseObject(data, path: path)
        guard let value = root["chat_template"], !value.isNull else { return nil }
        guard let source = value.string else {
            throw InputError(file: path, field: "chat_template", message: "only a single template string is supported")
        }
        return try ChatTemplate(jinjaSource: source, path: path)
    }

    /// The folder's tokenizer: rlhub's character tokenizer or a byte-level BPE `tokenizer.json`.
    static func loadTokenizer(folder: String, config: LlamaConfig) throws(InputError) -> any Tokenizer {
        let path = folder + "/tokenizer.json"
        guard let data = FileManager.default.contents(atPath: path) else {
            throw InputError(file: path, message: "missing: a model folder needs its tokenizer")
        }
        let tokenizer: any Tokenizer
        if let chars = try? CharTokenizer.load(huggingFaceJSON: data, path: path) {
            tokenizer = chars
        } else {
            tokenizer = try ByteLevelBPETokenizer.load(huggingFaceFolder: folder)
        }
        guard tokenizer.vocabularySize <= config.vocabSize else {
            throw InputError(
                file: path, field: "model.vocab",
                message: "\(tokenizer.vocabularySize) tokens exceed vocab_size \(config.vocabSize) of config.json")
        }
        return tokenizer
    }
}
