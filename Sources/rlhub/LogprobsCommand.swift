// rlhub logprobs — each token's log-probability given its prefix.
import ArgumentParser
import Foundation
import LM
import RLHubCore

struct LogprobsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "logprobs",
        abstract: "Print each token's log-probability given its prefix.",
        discussion: """
            Example: rlhub logprobs --model preset:tiny --text "12+30=42" --format json
            The first token has no prefix and no log-prob.
            """)

    @Option(help: "Model reference: preset:NAME or a Hugging Face folder.") var model: String
    @Option(help: "Text to tokenize and score.") var text: String?
    @Option(help: "Comma-separated token ids to score.") var tokens: String?
    @Option(help: "Seed for preset:NAME models.") var seed: UInt64 = 0
    @Option(help: "Output format: table or json.") var format: OutputFormat = .table
    @OptionGroup var compute: ComputeOptions
    @OptionGroup var storeOptions: StoreOptions

    struct Row: Encodable {
        var position: Int
        var token: Int32
        var text: String
        var logprob: Float?
    }

    func run() throws {
        try compute.apply()
        let loaded = try loadModel(model, seed: seed, store: storeOptions)
        let ids: [Int32]
        switch (text, tokens) {
        case (let t?, nil): ids = loaded.tokenizer.encode(t)
        case (nil, let list?): ids = try Self.parseTokens(list, vocab: loaded.model.config.vocabSize)
        default: throw InputError(file: "--text/--tokens", message: "give exactly one of --text or --tokens")
        }
        guard !ids.isEmpty else { throw InputError(file: "--text", message: "encodes to no tokens") }
        guard ids.count <= loaded.model.config.maxPositionEmbeddings else {
            throw InputError(file: "--text", message: "\(ids.count) tokens exceed max_position_embeddings \(loaded.model.config.maxPositionEmbeddings)")
        }
        let result = loaded.model.forward(TrainingBatch(sequences: [ids]))
        let rows = ids.enumerated().map { i, id in
            Row(position: i, token: id, text: loaded.tokenizer.token(for: id) ?? "?",
                logprob: i == 0 ? nil : result.logprobs[i - 1])
        }
        if format == .json {
            try printJSON(rows)
        } else {
            print("pos  token  logprob    text")
            for r in rows {
                let lp = r.logprob.map { String(format: "%9.4f", $0) } ?? "        -"
                print(String(format: "%3d  %5d  ", r.position, r.token) + lp + "  " + r.text.debugDescription)
            }
            let total = rows.compactMap(\.logprob).reduce(0, +)
            print(String(format: "sum %.4f over %d tokens", total, rows.count - 1))
        }
    }

    static func parseTokens(_ list: String, vocab: Int) throws(InputError) -> [Int32] {
        var out: [Int32] = []
        for (i, part) in list.split(separator: ",", omittingEmptySubsequences: false).enumerated() {
            let s = part.trimmingCharacters(in: .whitespaces)
            guard let v = Int32(s), v >= 0, Int(v) < vocab else {
                throw InputError(file: "--tokens", field: "item \(i)", message: "'\(s)' is not a token id in 0..<\(vocab)")
            }
            out.append(v)
        }
        return out
    }
}
