// rlhub check-inputs — runs rlhub's own readers over many input files in one process and reports
// each as accepted or refused. The fuzz tests drive it under `ulimit -v`: a file that crashes a
// reader kills the process, and the last `begin` line names it.
import ArgumentParser
import Experiments
import Foundation
import LM
import RLAlgorithms
import RLHubCore
import Store
import Trainer

struct CheckInputsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check-inputs",
        abstract: "Read each FILE as FORMAT with rlhub's readers; print 'ok' or the one-line refusal per file.",
        discussion: """
            Formats: gguf (header, metadata, tokenizer, weights), safetensors (header and every tensor), config \
            (a Hugging Face config.json), tokenizer (a tokenizer.json), spec (an experiment YAML, expanded to cells), \
            set (one `--set key=value` per line, applied to the grpo preset), where (a `--where` filter, run on an \
            empty store), archive (a .tar.zst checkpoint, extracted into --scratch). Lines: `begin FILE`, then \
            `ok FILE` or `refused FILE: REASON`. Exit 0 unless a reader crashes.
            """,
        shouldDisplay: false)

    enum Format: String, ExpressibleByArgument, CaseIterable {
        case gguf, safetensors, config, tokenizer, spec, set, `where`, archive
    }

    @Option(help: "gguf, safetensors, config, tokenizer, spec, set, where or archive.") var format: Format
    @Option(help: "Folder for extracted archives (emptied after each).") var scratch: String?
    @Argument(help: "Input files.") var files: [String]

    func run() throws {
        let store = try RunStore(inMemoryWithBlobsAt: NSTemporaryDirectory() + "rlhub-check-inputs-\(getpid())")
        for file in files {
            // Written unbuffered: after a crash, the last `begin` line names the input.
            FileHandle.standardOutput.write(Data("begin \(file)\n".utf8))
            let line: String
            do {
                try check(file, store: store)
                line = "ok \(file)"
            } catch {
                line = "refused \(file): " + oneLineReason(error)
            }
            FileHandle.standardOutput.write(Data((line + "\n").utf8))
        }
    }

    func check(_ file: String, store: RunStore) throws {
        switch format {
        case .gguf:
            _ = try GGUFModel.load(path: file)
        case .safetensors:
            let weights = try SafetensorsFile(contentsOf: file)
            for name in weights.names { _ = try weights.floats(name) }
        case .config:
            _ = try HFCheckpoint.readConfig(file)
        case .tokenizer:
            let data = try BoundedFile.read(file, limit: 64 << 20)
            let tokenizer: any Tokenizer
            if let chars = try? CharTokenizer.load(huggingFaceJSON: data, path: file) {
                tokenizer = chars
            } else {
                tokenizer = try ByteLevelBPETokenizer.load(tokenizerJSON: data, path: file)
            }
            _ = tokenizer.decode(tokenizer.encode("Hello, world! 12 + 30 = 42 <|im_end|>"))
        case .spec:
            _ = try GridExpansion.cells(try ExperimentSpec.load(file))
        case .set:
            let text = String(decoding: try BoundedFile.read(file, limit: 1 << 20), as: UTF8.self)
            let preset = AlgorithmPreset.grpo
            var config = TrainConfig(algo: preset.rawValue, algorithm: preset.config, task: "add:digits=2", model: "preset:tiny")
            for assignment in text.split(separator: "\n") { try config.set(String(assignment)) }
            try config.validate()
        case .where:
            let text = String(decoding: try BoundedFile.read(file, limit: 1 << 20), as: UTF8.self)
            _ = try store.runs(RunQuery(where: text, sort: nil, limit: nil))
        case .archive:
            guard let scratch else { throw InputError(file: "--scratch", message: "required for archives") }
            let target = scratch + "/extracted"
            try? FileManager.default.removeItem(atPath: target)
            defer { try? FileManager.default.removeItem(atPath: target) }
            try CheckpointArchive.extract(
                archive: file, into: target, maxTotalBytes: try BlobStore.extractionLimit(archive: file),
                maxEntries: BlobStore.defaultMaxEntries)
        }
    }
}
