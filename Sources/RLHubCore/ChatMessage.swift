// rlhub — one turn of a conversation, as tasks, tokenizers' chat templates and the store see it.

/// One chat turn.
public struct ChatMessage: Codable, Sendable, Equatable {
    public var role: String
    public var content: String

    public init(role: String, content: String) {
        self.role = role
        self.content = content
    }
}
