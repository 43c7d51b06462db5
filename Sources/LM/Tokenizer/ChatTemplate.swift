// rlhub — ChatML chat templates: recognised from their Jinja source, rendered natively.
import RLHubCore

/// A ChatML chat template (`<|im_start|>role\ncontent<|im_end|>\n` per message), optionally with a
/// default system prompt inserted when the first message is not a system message.
///
/// Templates are recognised, not executed: ``init(jinjaSource:path:)`` parses the Jinja source
/// with a small interpreter for the few constructs chat templates use, runs it on probe
/// conversations, and accepts it only if every probe renders exactly as ChatML (extracting the
/// default system prompt). ``render(_:addGenerationPrompt:)`` is then plain string building.
public struct ChatTemplate: Sendable, Equatable {
    /// The Jinja source (for export, e.g. into `tokenizer_config.json`).
    public var source: String
    /// The system prompt inserted before a conversation that does not start with one.
    public var defaultSystemPrompt: String?

    /// Plain ChatML without a default system prompt (the small task models).
    public static let chatML = ChatTemplate(
        source: """
            {% for message in messages %}{{'<|im_start|>' + message['role'] + '\\n' + message['content'] + \
            '<|im_end|>' + '\\n'}}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}
            """,
        defaultSystemPrompt: nil)

    /// ChatML with a default system prompt, and the matching Jinja source (the SmolLM2 form).
    public static func chatML(defaultSystemPrompt: String) -> ChatTemplate {
        let escaped = defaultSystemPrompt.replacingAll("\\", with: "\\\\").replacingAll("'", with: "\\'")
            .replacingAll("\n", with: "\\n")
        let source =
            "{% for message in messages %}{% if loop.first and messages[0]['role'] != 'system' %}"
            + "{{ '<|im_start|>system\\n\(escaped)<|im_end|>\\n' }}{% endif %}"
            + "{{'<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n'}}"
            + "{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}"
        return ChatTemplate(source: source, defaultSystemPrompt: defaultSystemPrompt)
    }

    init(source: String, defaultSystemPrompt: String?) {
        self.source = source
        self.defaultSystemPrompt = defaultSystemPrompt
    }

    /// Recognises a ChatML-style Jinja template (such as GGUF `tokenizer.chat_template`).
    ///
    /// - Throws: ``InputError`` with field `tokenizer.chat_template` and a message starting
    ///   "chat template not supported: " for anything else.
    public init(jinjaSource: String, path: String) throws(InputError) {
        func unsupported(_ why: String) -> InputError {
            InputError(
                file: path, field: "tokenizer.chat_template",
                message: "chat template not supported: \(why) (only ChatML-style templates are recognised)")
        }
        let program: [MiniJinja.Node]
        do {
            program = try MiniJinja.parse(jinjaSource)
        } catch {
            throw unsupported(error.message)
        }
        func run(_ messages: [ChatMessage], _ addGenerationPrompt: Bool) throws(InputError) -> String {
            do {
                return try MiniJinja.render(program, messages: messages, addGenerationPrompt: addGenerationPrompt)
            } catch {
                throw unsupported(error.message)
            }
        }
        // Probe 1: a lone user message shows the default system prompt, if any.
        let user = ChatMessage(role: "user", content: "Hi 'there'\n\"{{x}}\" \\n ü")
        let plain = "<|im_start|>user\n\(user.content)<|im_end|>\n"
        let first = try run([user], false)
        var defaultSystem: String?
        if first != plain {
            let head = "<|im_start|>system\n", tail = "<|im_end|>\n" + plain
            guard first.hasPrefix(head), first.hasSuffix(tail), first.utf8.count >= head.utf8.count + tail.utf8.count
            else {
                throw unsupported("output is not ChatML: \(Self.snippet(first))")
            }
            let body = String(first.dropFirst(head.count).dropLast(tail.count))
            guard !body.contains("<|im_end|>") else {
                throw unsupported("output is not ChatML: \(Self.snippet(first))")
            }
            defaultSystem = body
        }
        let candidate = ChatTemplate(source: jinjaSource, defaultSystemPrompt: defaultSystem)
        let probes: [([ChatMessage], Bool)] = [
            ([user], true),
            ([ChatMessage(role: "system", content: "S"), user], false),
            ([ChatMessage(role: "system", content: "S"), user, ChatMessage(role: "assistant", content: "A\n")], true),
            ([user, ChatMessage(role: "assistant", content: "A"), ChatMessage(role: "user", content: "B")], true),
            ([ChatMessage(role: "assistant", content: "A"), user], false),
            ([ChatMessage(role: "tool", content: "{\"x\": 1}"), ChatMessage(role: "system", content: "")], true),
            ([user, ChatMessage(role: "system", content: "late system")], false),
        ]
        for (messages, generation) in probes {
            let got = try run(messages, generation)
            let want = candidate.render(messages, addGenerationPrompt: generation)
            guard got == want else {
                throw unsupported("output is not ChatML: \(Self.snippet(got)) instead of \(Self.snippet(want))")
            }
        }
        self = candidate
    }

    /// Renders the conversation; with `addGenerationPrompt` it ends with `<|im_start|>assistant\n`.
    public func render(_ messages: [ChatMessage], addGenerationPrompt: Bool) -> String {
        var out = ""
        for (i, message) in messages.enumerated() {
            if i == 0, let system = defaultSystemPrompt, message.role != "system" {
                out += "<|im_start|>system\n" + system + "<|im_end|>\n"
            }
            out += "<|im_start|>" + message.role + "\n" + message.content + "<|im_end|>\n"
        }
        if addGenerationPrompt { out += "<|im_start|>assistant\n" }
        return out
    }

    private static func snippet(_ s: String) -> String {
        let short = s.count > 120 ? String(s.prefix(120)) + "…" : s
        return "\"" + short.replacingAll("\n", with: "\\n") + "\""
    }
}

extension String {
    /// Foundation-free `replacingOccurrences(of:with:)`.
    fileprivate func replacingAll(_ target: String, with replacement: String) -> String {
        guard !target.isEmpty else { return self }
        var out = ""
        var rest = self[...]
        while let r = rest.range(of: target) {
            out += rest[..<r.lowerBound]
            out += replacement
            rest = rest[r.upperBound...]
        }
        out += rest
        return out
    }
}

extension Substring {
    fileprivate func range(of target: String) -> Range<Substring.Index>? {
        var i = startIndex
        while i < endIndex {
            if self[i...].hasPrefix(target) {
                return i..<index(i, offsetBy: target.count)
            }
            i = index(after: i)
        }
        return nil
    }
}

/// The tiny Jinja subset chat templates are checked with: text, `{{ expr }}`, `{# #}`,
/// `{% for x in expr %}`, `{% if %}/{% elif %}/{% else %}`, `{% set x = expr %}`, whitespace
/// control (`-`) and HF's `trim_blocks`/`lstrip_blocks`; expressions with string/int literals,
/// names, `.attr`, `[index]`, `+`, `~`, `==`, `!=`, `and`, `or`, `not`, parentheses and the
/// filters `length` and `trim`. Anything else is rejected.
enum MiniJinja {
    struct Failure: Error { var message: String }

    indirect enum Expr {
        case string(String)
        case int(Int)
        case bool(Bool)
        case none
        case name(String)
        case attribute(Expr, String)
        case index(Expr, Expr)
        case binary(String, Expr, Expr)
        case not(Expr)
        case filter(Expr, String)
    }

    indirect enum Node {
        case text(String)
        case output(Expr)
        case forLoop(variable: String, iterable: Expr, body: [Node])
        case ifElse(branches: [(Expr, [Node])], otherwise: [Node])
        case set(String, Expr)
    }

    enum Value {
        case string(String)
        case int(Int)
        case bool(Bool)
        case none
        case undefined
        case list([Value])
        case dict([String: Value])

        var truthy: Bool {
            switch self {
            case .string(let s): return !s.isEmpty
            case .int(let i): return i != 0
            case .bool(let b): return b
            case .none, .undefined: return false
            case .list(let l): return !l.isEmpty
            case .dict(let d): return !d.isEmpty
            }
        }
    }

    // MARK: Lexing template structure

    private enum Piece {
        case text(String)
        case tag(kind: Character, body: String, stripBefore: Bool, stripAfter: Bool)
    }

    private static func splitPieces(_ source: String) throws(Failure) -> [Piece] {
        var pieces: [Piece] = []
        let chars = Array(source)
        var i = 0
        var text = ""
        while i < chars.count {
            if chars[i] == "{", i + 1 < chars.count, chars[i + 1] == "{" || chars[i + 1] == "%" || chars[i + 1] == "#" {
                let open = chars[i + 1]
                let close: Character = open == "{" ? "}" : open
                var j = i + 2
                var stripBefore = false
                if j < chars.count, chars[j] == "-" {
                    stripBefore = true
                    j += 1
                } else if j < chars.count, chars[j] == "+" {
                    j += 1
                }
                let bodyStart = j
                var found = -1
                var quote: Character? = nil
                while j + 1 < chars.count {
                    let c = chars[j]
                    if open != "#" {
                        if let q = quote {
                            if c == "\\" {
                                j += 2
                                continue
                            }
                            if c == q { quote = nil }
                        } else if c == "'" || c == "\"" {
                            quote = c
                        } else if c == close && chars[j + 1] == "}" {
                            found = j
                            break
                        }
                    } else if c == "#" && chars[j + 1] == "}" {
                        found = j
                        break
                    }
                    j += 1
                }
                guard found >= 0 else { throw Failure(message: "unterminated {\(open) tag") }
                var bodyEnd = found
                var stripAfter = false
                if bodyEnd > bodyStart, chars[bodyEnd - 1] == "-" {
                    stripAfter = true
                    bodyEnd -= 1
                } else if bodyEnd > bodyStart, chars[bodyEnd - 1] == "+" {
                    bodyEnd -= 1
                }
                if !text.isEmpty { pieces.append(.text(text)) }
                text = ""
                pieces.append(
                    .tag(
                        kind: open, body: String(chars[bodyStart..<max(bodyStart, bodyEnd)]), stripBefore: stripBefore,
                        stripAfter: stripAfter))
                i = found + 2
            } else {
                text.append(chars[i])
                i += 1
            }
        }
        if !text.isEmpty { pieces.append(.text(text)) }
        return applyWhitespaceControl(pieces)
    }

    /// `-` markers, `trim_blocks` (newline after a block tag) and `lstrip_blocks` (spaces before a
    /// block tag on its line); comments are dropped afterwards.
    private static func applyWhitespaceControl(_ input: [Piece]) -> [Piece] {
        var pieces = input
        for k in pieces.indices {
            guard case .text(var text) = pieces[k] else { continue }
            if k > 0, case .tag(let kind, _, _, let stripAfter) = pieces[k - 1] {
                if stripAfter {
                    text = String(text.drop(while: { $0.isWhitespace }))
                } else if kind != "{", text.first == "\n" || text.first == "\r\n" {
                    text.removeFirst()
                }
            }
            if k + 1 < pieces.count, case .tag(let kind, _, let stripBefore, _) = pieces[k + 1] {
                if stripBefore {
                    while let last = text.last, last.isWhitespace { text.removeLast() }
                } else if kind != "{" {
                    // lstrip_blocks: only spaces/tabs between the line start and the tag.
                    var trimmed = text
                    while let last = trimmed.last, last == " " || last == "\t" { trimmed.removeLast() }
                    if trimmed.isEmpty && k == 0 || trimmed.last == "\n" || trimmed.last == "\r\n" {
                        text = trimmed
                    }
                }
            }
            pieces[k] = .text(text)
        }
        return pieces.filter {
            if case .tag(kind: "#", _, _, _) = $0 { return false }
            if case .text(let t) = $0, t.isEmpty { return false }
            return true
        }
    }

    // MARK: Expression tokens

    private enum Token: Equatable {
        case name(String)
        case string(String)
        case int(Int)
        case op(String)
    }

    private static func tokenize(_ s: String) throws(Failure) -> [Token] {
        var tokens: [Token] = []
        let chars = Array(s)
        var i = 0
        while i < chars.count {
            let c = chars[i]
            if c.isWhitespace {
                i += 1
            } else if c == "'" || c == "\"" {
                var j = i + 1
                var value = ""
                var closed = false
                while j < chars.count {
                    let d = chars[j]
                    if d == "\\", j + 1 < chars.count {
                        let e = chars[j + 1]
                        switch e {
                        case "n": value.append("\n")
                        case "t": value.append("\t")
                        case "r": value.append("\r")
                        case "\\", "'", "\"": value.append(e)
                        default: throw Failure(message: "unsupported escape \\\(e) in a string literal")
                        }
                        j += 2
                        continue
                    }
                    if d == c {
                        closed = true
                        break
                    }
                    value.append(d)
                    j += 1
                }
                guard closed else { throw Failure(message: "unterminated string literal") }
                tokens.append(.string(value))
                i = j + 1
            } else if c.isLetter || c == "_" {
                var j = i
                while j < chars.count, chars[j].isLetter || chars[j].isNumber || chars[j] == "_" { j += 1 }
                tokens.append(.name(String(chars[i..<j])))
                i = j
            } else if c.isASCII && c.isNumber {
                var j = i
                while j < chars.count, chars[j].isASCII && chars[j].isNumber { j += 1 }
                guard let v = Int(String(chars[i..<j])) else { throw Failure(message: "bad integer literal") }
                tokens.append(.int(v))
                i = j
            } else {
                let two = i + 1 < chars.count ? String(chars[i...i + 1]) : ""
                if two == "==" || two == "!=" {
                    tokens.append(.op(two))
                    i += 2
                } else if "+~()[].|=,".contains(c) {
                    tokens.append(.op(String(c)))
                    i += 1
                } else {
                    throw Failure(message: "unsupported syntax '\(c)'")
                }
            }
        }
        return tokens
    }

    private struct ExprParser {
        var tokens: [Token]
        var pos = 0

        mutating func peek() -> Token? { pos < tokens.count ? tokens[pos] : nil }
        mutating func take(_ t: Token) -> Bool {
            if peek() == t {
                pos += 1
                return true
            }
            return false
        }
        mutating func expect(_ t: Token) throws(Failure) {
            guard take(t) else { throw Failure(message: "expected \(t) in expression") }
        }

        mutating func parseExpression() throws(Failure) -> Expr { try parseOr() }

        mutating func parseOr() throws(Failure) -> Expr {
            var e = try parseAnd()
            while take(.name("or")) { e = .binary("or", e, try parseAnd()) }
            return e
        }
        mutating func parseAnd() throws(Failure) -> Expr {
            var e = try parseNot()
            while take(.name("and")) { e = .binary("and", e, try parseNot()) }
            return e
        }
        mutating func parseNot() throws(Failure) -> Expr {
            if take(.name("not")) { return .not(try parseNot()) }
            return try parseCompare()
        }
        mutating func parseCompare() throws(Failure) -> Expr {
            let e = try parseConcat()
            if take(.op("==")) { return .binary("==", e, try parseConcat()) }
            if take(.op("!=")) { return .binary("!=", e, try parseConcat()) }
            return e
        }
        mutating func parseConcat() throws(Failure) -> Expr {
            var e = try parseAdd()
            while take(.op("~")) { e = .binary("~", e, try parseAdd()) }
            return e
        }
        mutating func parseAdd() throws(Failure) -> Expr {
            var e = try parsePostfix()
            while take(.op("+")) { e = .binary("+", e, try parsePostfix()) }
            return e
        }
        mutating func parsePostfix() throws(Failure) -> Expr {
            var e = try parsePrimary()
            while true {
                if take(.op(".")) {
                    guard case .name(let n) = peek() else { throw Failure(message: "expected a name after '.'") }
                    pos += 1
                    e = .attribute(e, n)
                } else if take(.op("[")) {
                    let i = try parseExpression()
                    try expect(.op("]"))
                    e = .index(e, i)
                } else if take(.op("|")) {
                    guard case .name(let f) = peek(), f == "length" || f == "trim" else {
                        throw Failure(message: "unsupported filter")
                    }
                    pos += 1
                    e = .filter(e, f)
                } else {
                    return e
                }
            }
        }
        mutating func parsePrimary() throws(Failure) -> Expr {
            guard let t = peek() else { throw Failure(message: "unexpected end of expression") }
            pos += 1
            switch t {
            case .string(let s):
                var value = s
                while case .string(let more) = peek() {  // adjacent literals concatenate
                    value += more
                    pos += 1
                }
                return .string(value)
            case .int(let i): return .int(i)
            case .name("true"), .name("True"): return .bool(true)
            case .name("false"), .name("False"): return .bool(false)
            case .name("none"), .name("None"): return .none
            case .name(let n):
                guard !["and", "or", "not", "in", "is", "if", "else"].contains(n) else {
                    throw Failure(message: "unsupported syntax '\(n)'")
                }
                return .name(n)
            case .op("("):
                let e = try parseExpression()
                try expect(.op(")"))
                return e
            default:
                throw Failure(message: "unsupported syntax in expression")
            }
        }
    }

    private static func parseExpression(_ s: String) throws(Failure) -> Expr {
        var p = ExprParser(tokens: try tokenize(s))
        let e = try p.parseExpression()
        guard p.pos == p.tokens.count else { throw Failure(message: "unsupported syntax in '\(s)'") }
        return e
    }

    // MARK: Statements

    static func parse(_ source: String) throws(Failure) -> [Node] {
        let pieces = try splitPieces(source)
        var index = 0
        let (nodes, end) = try parseBlock(pieces, &index, until: [])
        guard end == nil else { throw Failure(message: "unexpected {% \(end!) %}") }
        return nodes
    }

    /// Parses nodes until a statement whose keyword is in `until`; returns that statement's body.
    private static func parseBlock(
        _ pieces: [Piece], _ index: inout Int, until: Set<String>
    ) throws(Failure) -> ([Node], String?) {
        var nodes: [Node] = []
        while index < pieces.count {
            let piece = pieces[index]
            index += 1
            switch piece {
            case .text(let t):
                nodes.append(.text(t))
            case .tag(kind: "{", let body, _, _):
                nodes.append(.output(try parseExpression(body)))
            case .tag(_, let body, _, _):
                let trimmed = body.trimmingWhitespace()
                let keyword = String(trimmed.prefix(while: { !$0.isWhitespace }))
                let rest = String(trimmed.dropFirst(keyword.count))
                if until.contains(keyword) {
                    return (nodes, trimmed)
                }
                switch keyword {
                case "for":
                    let tokens = try tokenize(rest)
                    guard tokens.count >= 3, case .name(let variable) = tokens[0], tokens[1] == .name("in") else {
                        throw Failure(message: "unsupported for loop '\(trimmed)'")
                    }
                    var p = ExprParser(tokens: Array(tokens[2...]))
                    let iterable = try p.parseExpression()
                    guard p.pos == p.tokens.count else { throw Failure(message: "unsupported for loop '\(trimmed)'") }
                    let (body, end) = try parseBlock(pieces, &index, until: ["endfor", "else"])
                    guard end == "endfor" else { throw Failure(message: "for loop without endfor (or with else)") }
                    nodes.append(.forLoop(variable: variable, iterable: iterable, body: body))
                case "if":
                    var branches: [(Expr, [Node])] = []
                    var condition = try parseExpression(rest)
                    var otherwise: [Node] = []
                    while true {
                        let (body, end) = try parseBlock(pieces, &index, until: ["elif", "else", "endif"])
                        guard let end else { throw Failure(message: "if without endif") }
                        branches.append((condition, body))
                        if end.hasPrefix("elif") {
                            condition = try parseExpression(String(end.dropFirst(4)))
                            continue
                        }
                        if end == "else" {
                            let (elseBody, close) = try parseBlock(pieces, &index, until: ["endif"])
                            guard close == "endif" else { throw Failure(message: "if without endif") }
                            otherwise = elseBody
                        } else if end != "endif" {
                            throw Failure(message: "unsupported {% \(end) %}")
                        }
                        break
                    }
                    nodes.append(.ifElse(branches: branches, otherwise: otherwise))
                case "set":
                    let tokens = try tokenize(rest)
                    guard tokens.count >= 3, case .name(let variable) = tokens[0], tokens[1] == .op("=") else {
                        throw Failure(message: "unsupported set statement '\(trimmed)'")
                    }
                    var p = ExprParser(tokens: Array(tokens[2...]))
                    let value = try p.parseExpression()
                    guard p.pos == p.tokens.count else { throw Failure(message: "unsupported set statement '\(trimmed)'") }
                    nodes.append(.set(variable, value))
                default:
                    throw Failure(message: "unsupported statement {% \(keyword) %}")
                }
            }
        }
        return (nodes, nil)
    }

    // MARK: Rendering

    static func render(_ program: [Node], messages: [ChatMessage], addGenerationPrompt: Bool) throws(Failure) -> String {
        var scope: [String: Value] = [
            "messages": .list(messages.map { .dict(["role": .string($0.role), "content": .string($0.content)]) }),
            "add_generation_prompt": .bool(addGenerationPrompt),
        ]
        var out = ""
        try execute(program, &scope, &out, depth: 0)
        return out
    }

    private static func execute(_ nodes: [Node], _ scope: inout [String: Value], _ out: inout String, depth: Int) throws(Failure) {
        guard depth < 32 else { throw Failure(message: "nesting too deep") }
        for node in nodes {
            switch node {
            case .text(let t): out += t
            case .output(let e):
                switch try evaluate(e, scope) {
                case .string(let s): out += s
                case .int(let i): out += String(i)
                case .bool(let b): out += b ? "True" : "False"
                case .none: out += "None"
                case .undefined: break
                default: throw Failure(message: "cannot print a list or mapping")
                }
            case .set(let name, let e):
                scope[name] = try evaluate(e, scope)
            case .ifElse(let branches, let otherwise):
                var done = false
                for (condition, body) in branches where try evaluate(condition, scope).truthy {
                    try execute(body, &scope, &out, depth: depth + 1)
                    done = true
                    break
                }
                if !done { try execute(otherwise, &scope, &out, depth: depth + 1) }
            case .forLoop(let variable, let iterable, let body):
                guard case .list(let items) = try evaluate(iterable, scope) else {
                    throw Failure(message: "for loop over something that is not a list")
                }
                // Jinja loops have their own scope: `set` inside does not leak out.
                let saved = scope
                for (i, item) in items.enumerated() {
                    scope[variable] = item
                    scope["loop"] = .dict([
                        "index0": .int(i), "index": .int(i + 1), "first": .bool(i == 0),
                        "last": .bool(i == items.count - 1), "length": .int(items.count),
                    ])
                    try execute(body, &scope, &out, depth: depth + 1)
                }
                scope = saved
            }
        }
    }

    private static func evaluate(_ e: Expr, _ scope: [String: Value]) throws(Failure) -> Value {
        switch e {
        case .string(let s): return .string(s)
        case .int(let i): return .int(i)
        case .bool(let b): return .bool(b)
        case .none: return .none
        case .name(let n):
            guard let v = scope[n] else { throw Failure(message: "unknown variable '\(n)'") }
            return v
        case .attribute(let base, let name):
            return try lookup(try evaluate(base, scope), .string(name))
        case .index(let base, let i):
            return try lookup(try evaluate(base, scope), try evaluate(i, scope))
        case .not(let inner):
            return .bool(!(try evaluate(inner, scope).truthy))
        case .filter(let inner, let name):
            let v = try evaluate(inner, scope)
            switch (name, v) {
            case ("length", .list(let l)): return .int(l.count)
            case ("length", .string(let s)): return .int(s.count)
            case ("trim", .string(let s)): return .string(s.trimmingWhitespace())
            default: throw Failure(message: "unsupported use of filter \(name)")
            }
        case .binary(let op, let lhs, let rhs):
            let l = try evaluate(lhs, scope)
            switch op {
            case "and": return l.truthy ? try evaluate(rhs, scope) : l
            case "or": return l.truthy ? l : try evaluate(rhs, scope)
            default: break
            }
            let r = try evaluate(rhs, scope)
            switch (op, l, r) {
            case ("+", .string(let a), .string(let b)): return .string(a + b)
            case ("+", .int(let a), .int(let b)): return .int(a &+ b)
            case ("~", _, _): return .string(try stringify(l) + stringify(r))
            case ("==", _, _): return .bool(try equal(l, r))
            case ("!=", _, _): return .bool(!(try equal(l, r)))
            default: throw Failure(message: "unsupported operands for '\(op)'")
            }
        }
    }

    private static func lookup(_ base: Value, _ key: Value) throws(Failure) -> Value {
        switch (base, key) {
        case (.dict(let d), .string(let k)): return d[k] ?? .undefined
        case (.list(let l), .int(let i)):
            let j = i < 0 ? l.count + i : i
            return j >= 0 && j < l.count ? l[j] : .undefined
        default: throw Failure(message: "unsupported attribute or index access")
        }
    }

    private static func stringify(_ v: Value) throws(Failure) -> String {
        switch v {
        case .string(let s): return s
        case .int(let i): return String(i)
        case .bool(let b): return b ? "True" : "False"
        case .none: return "None"
        case .undefined: return ""
        default: throw Failure(message: "cannot concatenate a list or mapping")
        }
    }

    private static func equal(_ a: Value, _ b: Value) throws(Failure) -> Bool {
        switch (a, b) {
        case (.string(let x), .string(let y)): return x == y
        case (.int(let x), .int(let y)): return x == y
        case (.bool(let x), .bool(let y)): return x == y
        case (.none, .none), (.undefined, .undefined): return true
        case (.string, _), (.int, _), (.bool, _), (.none, _), (.undefined, _): return false
        default: throw Failure(message: "unsupported comparison")
        }
    }
}

extension String {
    fileprivate func trimmingWhitespace() -> String {
        var s = self[...]
        while let f = s.first, f.isWhitespace { s = s.dropFirst() }
        while let l = s.last, l.isWhitespace { s = s.dropLast() }
        return String(s)
    }
}
