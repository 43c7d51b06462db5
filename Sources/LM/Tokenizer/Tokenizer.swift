// rlhub — the tokenizer protocol shared by the character tokenizer of the task models and the
// byte-level BPE tokenizer of pretrained models.

/// Turns text into token ids and back.
///
/// Implementations are value types (`Sendable`) so a loaded tokenizer can be shared by the
/// generator's threads. Ids are `Int32`, the width the model's embedding lookup takes.
public protocol Tokenizer: Sendable {
    /// Number of ids (the model's `vocab_size` may be larger, never smaller).
    var vocabularySize: Int { get }
    /// Beginning-of-sequence id, if the model uses one.
    var bosTokenID: Int32? { get }
    /// End-of-sequence id (generation stops on it).
    var eosTokenID: Int32? { get }
    /// Padding id used when sequences are right-padded.
    var padTokenID: Int32? { get }

    /// Encodes `text`. Special-token strings such as `<|im_end|>` in the text become their ids when
    /// `parseSpecial` is true, and are encoded as plain text otherwise.
    func encode(_ text: String, parseSpecial: Bool) -> [Int32]
    /// Decodes ids to text. Special tokens are rendered as their strings unless `skipSpecial`.
    func decode(_ ids: [Int32], skipSpecial: Bool) -> String
    /// The string form of one id (for debugging and `rlhub tokenize`), `nil` if out of range.
    func token(for id: Int32) -> String?
    /// The id of an exact token string (special tokens included), `nil` if absent.
    func id(for token: String) -> Int32?
    /// Appends the UTF-8 bytes that id stands for (a byte-level token may hold part of a
    /// character; ``StreamingDetokenizer`` reassembles them).
    func appendBytes(of id: Int32, skipSpecial: Bool, to bytes: inout [UInt8])
}

extension Tokenizer {
    /// Encodes with special-token parsing on (the common case for chat-formatted prompts).
    public func encode(_ text: String) -> [Int32] { encode(text, parseSpecial: true) }
    /// Default for tokenizers whose tokens are whole characters.
    public func appendBytes(of id: Int32, skipSpecial: Bool, to bytes: inout [UInt8]) {
        bytes.append(contentsOf: decode([id], skipSpecial: skipSpecial).utf8)
    }

    /// Decodes with special tokens kept.
    public func decode(_ ids: [Int32]) -> String { decode(ids, skipSpecial: false) }
}
