// config.json read strictly and bounded: every field's type, repeated keys, and upper bounds on
// every size, checked before anything is allocated.
import Foundation
import LM
import RLHubCore
import Testing

@Suite struct ConfigJSONTests {
    /// tiny's config.json with `edit` applied to its text.
    func refusal(_ edit: (String) -> String) -> String {
        let base = String(decoding: try! JSONEncoder().encode(try! LlamaConfig.preset("tiny")), as: UTF8.self)
        do {
            let config = try LlamaConfig.decodeHuggingFace(Data(edit(base).utf8), path: "config.json")
            try config.validate()
            return "accepted"
        } catch { return "\(error)" }
    }

    func setting(_ key: String, _ value: String) -> (String) -> String {
        { text in text.replacingOccurrences(of: #""\#(key)":"#, with: #""\#(key)":\#(value),"ignored_\#(key)":"#) }
    }

    @Test func theTinyPresetRoundTrips() {
        #expect(refusal { $0 } == "accepted")
    }

    @Test func fieldsHaveTheirTypes() {
        #expect(refusal(setting("num_hidden_layers", "128.5")) == "config.json: num_hidden_layers: must be an integer, got the number 128.5")
        #expect(refusal(setting("hidden_size", "1e300")) == "config.json: hidden_size: must be an integer, got the number 1e300")
        #expect(refusal(setting("eos_token_id", #""2""#)).hasPrefix("config.json: eos_token_id: must be an integer or a non-empty list of integers"))
        #expect(refusal(setting("model_type", "2")) == "config.json: model_type: must be a string, got the number 2")
        #expect(refusal(setting("model_type", #""gpt2""#)) == "config.json: model_type: 'gpt2' is not supported (only llama)")
        #expect(refusal(setting("rope_theta", "1e999")).hasPrefix("config.json: rope_theta: must be a finite number"))
        #expect(refusal { "{\"vocab_size\": 3, " + $0.dropFirst() } == "config.json: vocab_size: appears twice")
    }

    @Test func sizesHaveUpperBoundsCheckedFirst() {
        #expect(refusal(setting("head_dim", "4611686018427387904")) == "config.json: head_dim: 4611686018427387904 exceeds rlhub's limit of 512")
        #expect(refusal(setting("num_attention_heads", "4611686018427387904")).hasPrefix("config.json: num_attention_heads: 4611686018427387904 exceeds"))
        #expect(refusal(setting("intermediate_size", "4611686018427387904")).hasPrefix("config.json: intermediate_size: 4611686018427387904 exceeds"))
        #expect(refusal(setting("max_position_embeddings", "100000000")) == "config.json: max_position_embeddings: 100000000 exceeds rlhub's limit of 131072")
        #expect(refusal(setting("num_hidden_layers", "1000000000")) == "config.json: num_hidden_layers: 1000000000 exceeds rlhub's limit of 1024")
    }

    @Test func aFIFOIsNotASafetensorsFile() throws {
        let path = NSTemporaryDirectory() + "rlhub-fifo-\(getpid())"
        #expect(mkfifo(path, 0o644) == 0)
        defer { unlink(path) }
        #expect(throws: InputError(file: path, message: "not a regular file (a FIFO, socket or device)")) { try SafetensorsFile(contentsOf: path) }
    }
}
