// rlhub — the messages of the external-environment protocol (docs/environments.md), version 1.
// One JSON object per line each way; every request carries an `id` that its reply repeats.
import Foundation
import RLHubCore

/// The protocol version this build speaks (part of an external task's canonical spec).
public let environmentProtocolVersion = 1

/// Requests rlhub writes (keys as in docs/environments.md).
enum EnvRequest {
    case hello(params: [String: String])
    case reset([ResetItem])
    case step([StepItem])
    case problems([ProblemItem])
    case close([Int])

    struct ResetItem: Encodable {
        var episode: Int
        var split: String
        var index: Int
        var seed: UInt64
    }
    struct StepItem: Encodable {
        var episode: Int
        var action: String
    }
    struct ProblemItem: Encodable {
        var split: String
        var index: Int
        var seed: UInt64
    }

    var op: String {
        switch self {
        case .hello: "hello"
        case .reset: "reset"
        case .step: "step"
        case .problems: "problems"
        case .close: "close"
        }
    }

    /// The request as one line with its `id`, ending in a newline.
    func line(id: Int) -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.withoutEscapingSlashes]
        // Only strings, integers and arrays of them: encoding cannot fail.
        let data = (try? encoder.encode(Framed(request: self, id: id))) ?? Data()
        return [UInt8](data) + [0x0A]
    }

    private struct Framed: Encodable {
        let request: EnvRequest
        let id: Int

        private enum Keys: String, CodingKey { case op, id, `protocol`, params, episodes, problems }

        func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: Keys.self)
            try c.encode(request.op, forKey: .op)
            try c.encode(id, forKey: .id)
            switch request {
            case .hello(let params):
                try c.encode(environmentProtocolVersion, forKey: .protocol)
                try c.encode(params, forKey: .params)
            case .reset(let items): try c.encode(items, forKey: .episodes)
            case .step(let items): try c.encode(items, forKey: .episodes)
            case .problems(let items): try c.encode(items, forKey: .problems)
            case .close(let ids): try c.encode(ids, forKey: .episodes)
            }
        }
    }
}

/// Every reply: the request's `id`, or an `error` the environment reports.
struct EnvReplyHeader: Decodable {
    var id: Int?
    var error: String?
}

/// Reply to `hello`: who the environment is and what it promises.
struct EnvHello: Decodable, Sendable {
    var `protocol`: Int
    var name: String
    var version: String
    /// The parameters as the environment understood them, defaults filled in.
    var params: [String: String]
    var reward_range: [Double]
    var max_turns: Int
    var max_new_tokens: Int
    /// Exact problem counts of enumerated problem spaces (absent: sampled, indices never run out).
    var problem_counts: [String: Int]?
}

/// Reply to `reset`: each episode's first messages.
struct EnvResetReply: Decodable {
    struct Item: Decodable {
        var episode: Int
        var messages: [ChatMessage]
    }
    var episodes: [Item]
}

/// Reply to `step`.
struct EnvStepReply: Decodable {
    struct Item: Decodable {
        var episode: Int
        var observation: [ChatMessage]?
        var reward: Double
        var done: Bool
        var info: [String: String]?
    }
    var episodes: [Item]
}

/// Reply to `problems`: canonical keys and gold demonstrations (null when the environment has none).
struct EnvProblemsReply: Decodable {
    struct Item: Decodable {
        var key: String?
        var demonstration: [ChatMessage]?
    }
    var problems: [Item]
}

/// Reply to `close` (nothing but the header).
struct EnvEmptyReply: Decodable {}

extension DecodingError {
    /// `field episodes[2].reward: missing` — one line for the protocol's errors.
    var protocolDescription: String {
        func path(_ codingPath: [any CodingKey]) -> String {
            let p = codingPath.map { $0.intValue.map { "[\($0)]" } ?? ".\($0.stringValue)" }.joined()
            return p.hasPrefix(".") ? String(p.dropFirst()) : p
        }
        switch self {
        case .keyNotFound(let key, let context): return "field \(path(context.codingPath + [key])) is missing"
        case .typeMismatch(_, let context), .valueNotFound(_, let context):
            return "field \(path(context.codingPath)) has the wrong type"
        case .dataCorrupted(let context):
            return context.codingPath.isEmpty ? "not a JSON object" : "field \(path(context.codingPath)) is invalid"
        @unknown default: return "not a valid reply"
        }
    }
}
