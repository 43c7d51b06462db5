// rlhub — trainer checkpoints: a Hugging Face model folder plus everything needed to resume
// bit for bit (architecture.md "Data that flows through", item 4):
//   config.json, model.safetensors, generation_config.json, tokenizer files   (the model REF)
//     — or, for a LoRA run, adapter_config.json, adapter_model.safetensors and rlhub_base.json
//       (PEFT's layout plus the base's reference and parameter hash: LoRACheckpoint.swift); the
//       folder is still a model REF, loading the base with the adapter attached
//   optimizer.safetensors   AdamW moments (and PPO's critic: value head, separate trunk, moments)
//   trainer_state.json      step, optimizer steps, data cursor
//   rlhub.json              config hash, rlhub version, the resolved config
// Randomness needs no saved state: every draw is keyed by (seed, purpose, step, index).
import Foundation
import LM
import RLHubCore
import Tensor

/// Counters that make a resumed run continue exactly where the checkpoint was taken.
public struct TrainerState: Codable, Sendable, Equatable {
    /// Optimizer steps completed (the next step to run is `step + 1`).
    public var step: Int
    /// AdamW's bias-correction counter (steps skipped on empty batches do not count).
    public var optimizerStep: Int
    /// AdamW steps of PPO's critic (head, and trunk when separate); nil without a critic.
    public var valueOptimizerStep: Int?
    /// Problems drawn so far (dynamic sampling draws more than prompts_per_step per step).
    public var problemCursor: Int
    public var configHash: String
    /// β of the adaptive KL controller for the next step (`kl_target`); nil with a fixed β.
    /// Checkpoints written before the controller was wired have none, and had a fixed β.
    public var klCoef: Double? = nil
}

public enum TrainerCheckpoint {
    /// Writes a checkpoint folder atomically (temporary sibling, then rename).
    static func save(
        to folder: String, loaded: LoadedModel, weights: HFCheckpoint.Weights, optimizer: AdamW,
        critic: (any Critic)?, state: TrainerState, resolvedConfig: Data
    ) throws {
        let state = try JSONEncoder.sorted.encode(state)
        var meta: [String: Any] = ["config_hash": "", "rlhub_version": RLHubVersion.string]
        if let obj = try? JSONSerialization.jsonObject(with: resolvedConfig) { meta["config"] = obj }
        let stateObj = try JSONSerialization.jsonObject(with: state) as? [String: Any]
        meta["config_hash"] = stateObj?["configHash"] ?? ""
        let rlhubJSON = try JSONSerialization.data(withJSONObject: meta, options: [.sortedKeys, .prettyPrinted])
        var tensors: [(name: String, shape: [Int], data: UnsafeBufferPointer<Float>)] = [
            ("adam.m", [optimizer.m.count], UnsafeBufferPointer(start: optimizer.m.pointer, count: optimizer.m.count)),
            ("adam.v", [optimizer.v.count], UnsafeBufferPointer(start: optimizer.v.pointer, count: optimizer.v.count)),
        ]
        for (name, b) in critic?.checkpointBuffers ?? [] {
            tensors.append((name, [b.count], UnsafeBufferPointer(start: b.pointer, count: b.count)))
        }
        try HFCheckpoint.save(
            loaded, to: folder, weights: weights, extraFiles: ["trainer_state.json": state, "rlhub.json": rlhubJSON]
        ) { dir in
            try SafetensorsWriter.write(tensors, metadata: ["format": "pt"], to: dir + "/optimizer.safetensors")
        }
    }

    /// Restores model parameters (a LoRA run's adapters: its base is the run's starting model,
    /// checked by parameter hash), optimizer and value-head state from a checkpoint folder.
    static func restore(
        from folder: String, into model: LlamaModel, optimizer: AdamW, critic: (any Critic)?
    ) throws(InputError) -> TrainerState {
        if let adapters = model.adapters {
            try restoreAdapters(from: folder, into: adapters, base: model)
        } else {
            try restoreParameters(from: folder, into: model)
        }
        let statePath = folder + "/trainer_state.json"
        guard let data = FileManager.default.contents(atPath: statePath),
              let state = try? JSONDecoder().decode(TrainerState.self, from: data) else {
            throw InputError(file: statePath, message: "missing or not a trainer state")
        }
        let file = try SafetensorsFile(contentsOf: folder + "/optimizer.safetensors")
        try file.copyFloats("adam.m", into: UnsafeMutableBufferPointer(start: optimizer.m.pointer, count: optimizer.m.count))
        try file.copyFloats("adam.v", into: UnsafeMutableBufferPointer(start: optimizer.v.pointer, count: optimizer.v.count))
        optimizer.restore(step: state.optimizerStep)
        if let critic {
            for (name, b) in critic.checkpointBuffers {
                try file.copyFloats(name, into: UnsafeMutableBufferPointer(start: b.pointer, count: b.count))
            }
            critic.restore(optimizerStep: state.valueOptimizerStep ?? 0)
        }
        return state
    }

    /// A LoRA run's adapters, from a PEFT adapter folder whose base (by parameter hash) and
    /// configuration are the run's.
    static func restoreAdapters(from folder: String, into adapters: LoRAAdapters, base: LlamaModel) throws(InputError) {
        guard LoRACheckpoint.isAdapterFolder(folder) else {
            throw InputError(file: folder, message: "not a LoRA checkpoint, and the run trains LoRA adapters")
        }
        if let hash = try LoRACheckpoint.base(of: folder).sha256, hash != LoRACheckpoint.parameterHash(base) {
            throw InputError(file: folder + "/" + LoRACheckpoint.baseFile, field: "sha256", message: "the checkpoint's base differs from the run's")
        }
        guard try LoRACheckpoint.readConfig(folder) == adapters.config else {
            throw InputError(
                file: folder + "/" + LoRACheckpoint.configFile,
                message: "the checkpoint's adapters differ from the run's (rank, alpha or targets)")
        }
        try LoRACheckpoint.readWeights(folder, into: adapters)
    }

    /// Every parameter of a fully trained run, from a model folder of the same architecture.
    static func restoreParameters(from folder: String, into model: LlamaModel) throws(InputError) {
        guard !LoRACheckpoint.isAdapterFolder(folder) else {
            throw InputError(file: folder, message: "a LoRA checkpoint, and the run trains every parameter")
        }
        let saved = try HFCheckpoint.load(folder: folder)
        guard saved.model.parameterCount == model.parameterCount else {
            throw InputError(file: folder + "/config.json", message: "checkpoint model differs from the run's model")
        }
        model.copyParameters(from: saved.model)
    }
}

extension JSONEncoder {
    /// Sorted keys: canonical JSON for hashing and diffing.
    static var sorted: JSONEncoder {
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys]
        return e
    }
}
