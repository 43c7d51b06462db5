// rlhub tokenize — the token ids of a text.
import ArgumentParser
import Foundation
import LM

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
