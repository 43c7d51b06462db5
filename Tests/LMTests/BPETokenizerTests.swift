// rlhub — tests of the byte-level BPE tokenizer, the streaming detokenizer and ChatML templates.
//
// Reference tests need the SmolLM2 GGUF (`make model`, or RLHUB_SMOLLM2_GGUF=path) and python with
// `pip install gguf tokenizers jinja2` (llama-cpp-python, when installed, is used as the reference
// instead of HF tokenizers; RLHUB_BPE_REFERENCE_BACKEND=hf|llama forces one). Without them these
// tests fail saying what to install, unless RLHUB_SKIP_PYTHON=1, or RLHUB_SKIP_MODEL=1 with the model
// absent. The model-free suites always run.
import Foundation
import RLHubCore
import TestSupport
import Testing

import LM

// MARK: - Corpus

/// Lines chosen to exercise the pre-tokenizer and the special-token splitter.
private let bpeCorpus: [String] = [
    "Hello, world! This is a test.",
    "",
    " ",
    "   ",
    "a  5",
    "a 5",
    "a   5 b",
    "12345",
    "3.14",
    "pi ≈ 3.14159, e = 2.71828; 1,000,000 and 1_000 and 0x1F",
    "The year 2024 had 366 days.",
    "Numbers: ² ³ ½ Ⅻ ٣٤ १२ １２３",
    "Café naïve résumé façade jalapeño Ångström",
    "e\u{301} vs é, n\u{303} vs ñ, a\u{308}\u{301}",
    "日本語のテキストです。中文也可以。",
    "한국어 텍스트입니다",
    "مرحبا بالعالم، كيف حالك؟",
    "नमस्ते दुनिया, क्या हाल है?",
    "Привет, мир! Ελληνικά κείμενα.",
    "สวัสดีครับ",
    "Emoji: 😀 👍🏽 ❤️ 🎉",
    "Family: 👨‍👩‍👧‍👦 and 👩🏽‍💻 and 🏳️‍🌈",
    "Flags: 🇫🇷🇩🇪🇯🇵 🇺🇸",
    "tabs\tand\t\ttabs",
    "line one\nline two\n\nline four",
    "windows\r\nline\r\n\r\nend",
    "trailing spaces   ",
    "   leading spaces",
    "mixed \t \n  \r\n whitespace",
    "\n\n\n",
    "non\u{A0}breaking\u{3000}ideographic\u{2003}em space",
    "zero\u{200B}width\u{200D}joiner\u{FEFF}bom",
    "I'm sure you're right, they've said we'll go and he'd agree; it's done, don't.",
    "DON'T SHOUT, I'M HERE. It'S mixed. ’s curly",
    "rock'n'roll 'quoted' ''double''",
    "func f(x: Int) -> Int {\n    return x * 2 // double\n}",
    "if (a != b && c <= d) { printf(\"%d\\n\", x[i++]); }",
    "def main():\n\tfor i in range(10):\n\t\tprint(f\"{i:03d}\")\n",
    "{\"key\": [1, 2.5, null, true], \"nested\": {\"a\": \"b\"}}",
    "<html><body class=\"x\">&amp; &lt;tag&gt;</body></html>",
    "https://example.com/path?query=1&x=y#frag user@example.org",
    "$$\\sum_{i=1}^{n} i^2 = \\frac{n(n+1)(2n+1)}{6}$$",
    "----- ===== ***** ..... !!!!! ????? ~~~~~",
    "<|im_start|>user\nWhat is 2+2?<|im_end|>\n<|im_start|>assistant\n4<|im_end|>\n",
    "<|im_start|><|im_end|><|endoftext|>",
    "text<|endoftext|>more text",
    " <|im_start|> spaced <|im_end|> ",
    "<|im_sta partial <|im_end <|endoftext",
    "<repo_name>rlhub<file_sep>main.swift<filename>x<gh_stars>5",
    "αβγ ∀x∈ℝ: x² ≥ 0 → ∞",
    "℃ № ™ © ® ° ± × ÷",
    "A\u{0}B\u{1}C\u{7F}D\u{85}E",
    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
    "Supercalifragilisticexpialidocious antidisestablishmentarianism",
    "Mixed123Numbers456and789Letters",
    "x=1;y=22;z=333;w=4444",
]

/// The whole corpus as one text (also checked against the reference).
private let bpeCorpusJoined = bpeCorpus.joined(separator: "\n")

/// Deterministic random texts from an alphabet that stresses the split rules, also compared with
/// the reference.
private let bpeRandomTexts: [String] = {
    let pieces: [String] = [
        "a", "Z", "é", "ß", "日", "한", "ع", "न", "\u{94D}", "\u{301}", "0", "7", "²", "½", "٣", " ", "  ", "\t", "\n",
        "\r\n", "\u{A0}", "\u{3000}", "'", "'s", "'ll", "’", "!", ".", ",", "-", "_", "(", ")", "{", "}", "<", ">",
        "|", "😀", "👍🏽", "\u{200D}", "🇫🇷", "<|im_start|>", "<|im_end|>", "<|endoftext|>", "<|im", "the", " the",
        "ing", "12", "\u{0}", "\u{7F}", "\u{85}", "\u{FEFF}", "\u{4}", "\u{1D}", "\u{50000}", "\u{A0000}",
    ]
    var rng = SplitMix64(seed: 42)
    return (0..<300).map { _ in
        (0..<Int(1 + rng.next() % 24)).map { _ in pieces[Int(rng.next() % UInt64(pieces.count))] }.joined()
    }
}()

private let smolLMDefaultSystemPrompt = "You are a helpful AI assistant named SmolLM, trained by Hugging Face"

// MARK: - Reference data (python)

private struct BPEReference: Sendable {
    var tokenizer: ByteLevelBPETokenizer
    var chatTemplateSource: String
    var backend: String
    var parseSpecial: [String: [Int32]]
    var noSpecial: [String: [Int32]]
    /// `load(huggingFaceFolder:)` on a tokenizer.json folder built from the GGUF, and its load time.
    var hfTokenizer: Result<ByteLevelBPETokenizer, InputError>
    var hfLoadTime: Duration
    var chatCases: [([ChatMessage], Bool)]
    var chatRenders: [String]
}

private enum ReferenceEnvironment {
    static var modelPath: String {
        if let p = ProcessInfo.processInfo.environment["RLHUB_SMOLLM2_GGUF"], !p.isEmpty { return p }
        return SourceTree.root.appendingPathComponent("models/SmolLM2-135M-Instruct.Q4_1.gguf").path
    }

    static var skipPython: Bool { ProcessInfo.processInfo.environment["RLHUB_SKIP_PYTHON"] == "1" }
    static var skipModel: Bool { ProcessInfo.processInfo.environment["RLHUB_SKIP_MODEL"] == "1" }
    static var modelPresent: Bool { FileManager.default.fileExists(atPath: modelPath) }

    /// Whether the reference tests run at all (they fail loudly when they run and cannot work).
    static var enabled: Bool { !skipPython && !(skipModel && !modelPresent) }

    static let chatCases: [([ChatMessage], Bool)] = [
        ([ChatMessage(role: "user", content: "Hello!")], true),
        ([ChatMessage(role: "user", content: "Hello!")], false),
        ([ChatMessage(role: "system", content: "Be brief."), ChatMessage(role: "user", content: "2+2?")], true),
        (
            [
                ChatMessage(role: "system", content: "You are terse."),
                ChatMessage(role: "user", content: "Hi"),
                ChatMessage(role: "assistant", content: "Hello."),
                ChatMessage(role: "user", content: "Tell me a joke\nwith two lines"),
            ], true
        ),
        (
            [
                ChatMessage(role: "user", content: "Q1"), ChatMessage(role: "assistant", content: "A1"),
                ChatMessage(role: "user", content: "Q2"), ChatMessage(role: "assistant", content: "A2"),
            ], false
        ),
        ([ChatMessage(role: "assistant", content: "I start."), ChatMessage(role: "user", content: "ok")], true),
        ([ChatMessage(role: "user", content: "quotes ' \" {{ }} {% %} \\ ü 日本")], true),
        ([], true),
        ([], false),
    ]

    /// Runs Tests/reference/bpe_reference.py once and loads everything it produced.
    static let reference: Result<BPEReference, ReferenceFailure> = load()

    struct ReferenceFailure: Error, CustomStringConvertible {
        var description: String
    }

    private static func load() -> Result<BPEReference, ReferenceFailure> {
        guard modelPresent else {
            return .failure(
                ReferenceFailure(
                    description:
                        "model not found at \(modelPath): run `make model` or set RLHUB_SMOLLM2_GGUF (RLHUB_SKIP_MODEL=1 skips)"
                ))
        }
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("rlhub-bpe-\(UUID().uuidString)")
        do {
            try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(at: dir) }
            let corpusURL = dir.appendingPathComponent("corpus.json")
            try JSONSerialization.data(withJSONObject: bpeCorpus + [bpeCorpusJoined] + bpeRandomTexts).write(
                to: corpusURL)
            let chatURL = dir.appendingPathComponent("chat.json")
            let chatJSON: [[String: Any]] = chatCases.map { messages, generation in
                [
                    "messages": messages.map { ["role": $0.role, "content": $0.content] },
                    "add_generation_prompt": generation,
                ]
            }
            try JSONSerialization.data(withJSONObject: chatJSON).write(to: chatURL)
            let script = SourceTree.root.appendingPathComponent("Tests/reference/bpe_reference.py").path
            let out = dir.appendingPathComponent("encodings.json")
            let fixture = dir.appendingPathComponent("fixture.json")
            let hfDir = dir.appendingPathComponent("hf")
            let chatOut = dir.appendingPathComponent("chat_out.json")
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            process.arguments = [
                "python3", script, "--gguf", modelPath, "--corpus", corpusURL.path, "--out", out.path,
                "--fixture", fixture.path, "--tokenizer-json", hfDir.path, "--chat", chatURL.path,
                "--chat-out", chatOut.path,
            ]
            let stderr = Pipe()
            process.standardError = stderr
            try process.run()
            let errData = stderr.fileHandleForReading.readDataToEndOfFile()
            process.waitUntilExit()
            guard process.terminationStatus == 0 else {
                let message = String(decoding: errData, as: UTF8.self).split(separator: "\n").suffix(3)
                    .joined(separator: " | ")
                return .failure(
                    ReferenceFailure(
                        description:
                            "python reference failed (\(message)): `pip install gguf tokenizers jinja2` (RLHUB_SKIP_PYTHON=1 skips)"
                    ))
            }
            let fx = try JSONSerialization.jsonObject(with: Data(contentsOf: fixture)) as! [String: Any]
            func id(_ key: String) -> Int32? { (fx[key] as? Int).map(Int32.init) }
            let tokenizer = try ByteLevelBPETokenizer(
                ggufTokens: fx["tokens"] as! [String], merges: fx["merges"] as! [String],
                tokenTypes: (fx["token_types"] as! [Int]).map(Int32.init), bos: id("bos"), eos: id("eos"),
                pad: id("pad"), unk: id("unk"), pre: fx["pre"] as! String, path: modelPath)
            let enc = try JSONSerialization.jsonObject(with: Data(contentsOf: out)) as! [String: Any]
            func table(_ key: String) -> [String: [Int32]] {
                (enc[key] as! [String: [Int]]).mapValues { $0.map(Int32.init) }
            }
            let renders = try JSONSerialization.jsonObject(with: Data(contentsOf: chatOut)) as! [String]
            let hfStart = ContinuousClock.now
            let hf = Result { () throws(InputError) in try ByteLevelBPETokenizer.load(huggingFaceFolder: hfDir.path) }
            let hfLoadTime = ContinuousClock.now - hfStart
            return .success(
                BPEReference(
                    tokenizer: tokenizer, chatTemplateSource: fx["chat_template"] as! String,
                    backend: enc["backend"] as! String, parseSpecial: table("parse_special"),
                    noSpecial: table("no_special"), hfTokenizer: hf, hfLoadTime: hfLoadTime, chatCases: chatCases, chatRenders: renders))
        } catch {
            return .failure(ReferenceFailure(description: "reference setup failed: \(error)"))
        }
    }

    /// The reference, or `nil` after recording why it is unavailable.
    static func require() -> BPEReference? {
        switch reference {
        case .success(let r): return r
        case .failure(let f):
            Issue.record(Comment(rawValue: f.description))
            return nil
        }
    }
}

// MARK: - Reference tests (SmolLM2 GGUF + python)

@Suite(
    "BPE tokenizer vs reference",
    .enabled(if: ReferenceEnvironment.enabled, "RLHUB_SKIP_PYTHON=1, or RLHUB_SKIP_MODEL=1 and no models/SmolLM2-135M-Instruct.Q4_1.gguf (make model)"))
struct BPEReferenceTests {
    @Test func specialIDsAndVocabulary() throws {
        guard let r = ReferenceEnvironment.require() else { return }
        let t = r.tokenizer
        #expect(t.vocabularySize == 49152)
        #expect(t.bosTokenID == 1)
        #expect(t.eosTokenID == 2)
        #expect(t.padTokenID == 2)
        #expect(t.unknownTokenID == 0)
        #expect(t.preTokenizer == .smollm)
        #expect(t.token(for: 2) == "<|im_end|>")
        #expect(t.id(for: "<|im_start|>") == 1)
        #expect(t.id(for: "<|endoftext|>") == 0)
        #expect(t.token(for: -1) == nil && t.token(for: 49152) == nil)
        #expect(t.isSpecial(0) && t.isSpecial(16) && !t.isSpecial(17))
        #expect(t.endOfGenerationIDs == [0, 2])
    }

    @Test func encodeMatchesReferencePerLine() throws {
        guard let r = ReferenceEnvironment.require() else { return }
        var mismatches = 0
        for text in bpeCorpus + [bpeCorpusJoined] {
            let want = try #require(r.parseSpecial[text], "no reference for \(text.debugDescription)")
            let got = r.tokenizer.encode(text, parseSpecial: true)
            if got != want {
                mismatches += 1
                Issue.record("parseSpecial \(text.debugDescription): got \(got), want \(want) (\(r.backend))")
            }
            let wantPlain = try #require(r.noSpecial[text])
            let gotPlain = r.tokenizer.encode(text, parseSpecial: false)
            if gotPlain != wantPlain {
                mismatches += 1
                Issue.record("no special \(text.debugDescription): got \(gotPlain), want \(wantPlain) (\(r.backend))")
            }
        }
        #expect(mismatches == 0)
        print("reference backend: \(r.backend), \(bpeCorpus.count + 1) corpus texts")
    }

    @Test func encodeMatchesReferenceOnRandomTexts() throws {
        guard let r = ReferenceEnvironment.require() else { return }
        var mismatches = 0
        let missing = Set(r.tokenizer.unrepresentableBytes)
        for text in bpeRandomTexts {
            // HF tokenizers drops a character without a token before merging (so its neighbours may
            // merge); llama.cpp, which we follow, keeps it as a barrier. Only llama.cpp is a
            // reference for such texts.
            if r.backend != "llama.cpp" && text.utf8.contains(where: missing.contains) { continue }
            let want = try #require(r.parseSpecial[text], "no reference for \(text.debugDescription)")
            let wantPlain = try #require(r.noSpecial[text])
            let got = r.tokenizer.encode(text, parseSpecial: true)
            let gotPlain = r.tokenizer.encode(text, parseSpecial: false)
            if got != want || gotPlain != wantPlain {
                mismatches += 1
                if mismatches <= 10 {
                    Issue.record("\(text.debugDescription): got \(got) / \(gotPlain), want \(want) / \(wantPlain) (\(r.backend))")
                }
            }
            let kept = String(decoding: text.utf8.filter { !missing.contains($0) }, as: UTF8.self)
            #expect(r.tokenizer.decode(got) == kept)
        }
        #expect(mismatches == 0)
    }

    @Test func encodeKnownIDs() throws {
        guard let r = ReferenceEnvironment.require() else { return }
        let t = r.tokenizer
        // Each digit is one token; "a  5" keeps both spaces together before the digit.
        #expect(t.encode("12345") == [33, 34, 35, 36, 37])
        #expect(t.encode("a  5") == [81, 256, 37])
        #expect(t.encode("<|im_start|>user\n") == [1, 4093, 198])
        #expect(t.encode("<|im_start|>", parseSpecial: false) != [1])
    }

    @Test func roundTrip() throws {
        guard let r = ReferenceEnvironment.require() else { return }
        for text in bpeCorpus + [bpeCorpusJoined] {
            #expect(r.tokenizer.decode(r.tokenizer.encode(text, parseSpecial: true)) == text)
            #expect(r.tokenizer.decode(r.tokenizer.encode(text, parseSpecial: false)) == text)
        }
        let ids = r.tokenizer.encode("<|im_start|>user\nHi<|im_end|>\n")
        #expect(r.tokenizer.decode(ids, skipSpecial: true) == "user\nHi\n")
    }

    @Test func streamingMatchesDecode() throws {
        guard let r = ReferenceEnvironment.require() else { return }
        for skip in [false, true] {
            for text in bpeCorpus {
                let ids = r.tokenizer.encode(text)
                var stream = StreamingDetokenizer(tokenizer: r.tokenizer, skipSpecial: skip)
                var pieces: [String] = []
                for id in ids { pieces.append(stream.push(id)) }
                pieces.append(stream.finish())
                #expect(pieces.joined() == r.tokenizer.decode(ids, skipSpecial: skip))
                // No piece may end inside a character split across tokens.
                #expect(!pieces.dropLast().contains { $0.unicodeScalars.contains("\u{FFFD}") })
            }
        }
        // Arbitrary id sequences (invalid UTF-8 included) still stream to the one-shot decode.
        var rng = SplitMix64(seed: 7)
        for _ in 0..<300 {
            let ids = (0..<Int(rng.next() % 24)).map { _ in Int32(truncatingIfNeeded: rng.next() % 49160) }
            var stream = StreamingDetokenizer(tokenizer: r.tokenizer)
            var out = ""
            for id in ids { out += stream.push(id) }
            out += stream.finish()
            #expect(out == r.tokenizer.decode(ids))
        }
    }

    @Test func fuzzRandomBytesRoundTrip() throws {
        guard let r = ReferenceEnvironment.require() else { return }
        let missing = Set(r.tokenizer.unrepresentableBytes)
        #expect(missing == [0x04, 0x06, 0x13, 0x14, 0x16, 0x1D, 0xC0, 0xC1, 0xF1, 0xF2, 0xF5, 0xF6, 0xF7, 0xF8, 0xF9, 0xFA, 0xFB, 0xFC, 0xFD, 0xFE, 0xFF])
        var rng = SplitMix64(seed: 5)
        for _ in 0..<500 {
            let bytes = (0..<Int(rng.next() % 64)).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
            let text = String(decoding: bytes, as: UTF8.self)
            // Bytes without a token are dropped (as by llama.cpp); everything else round-trips.
            let kept = String(decoding: text.utf8.filter { !missing.contains($0) }, as: UTF8.self)
            #expect(r.tokenizer.decode(r.tokenizer.encode(text)) == kept)
            _ = bytes.withUnsafeBufferPointer { r.tokenizer.encode(utf8: $0, parseSpecial: true) }
        }
    }

    @Test func exportRoundTrip() throws {
        guard let r = ReferenceEnvironment.require() else { return }
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("rlhub-bpe-export-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        try r.tokenizer.huggingFaceJSON().write(to: dir.appendingPathComponent("tokenizer.json"))
        try r.tokenizer.huggingFaceConfigJSON(chatTemplate: r.chatTemplateSource)
            .write(to: dir.appendingPathComponent("tokenizer_config.json"))
        let back = try ByteLevelBPETokenizer.load(huggingFaceFolder: dir.path)
        #expect(back.tokens == r.tokenizer.tokens && back.tokenTypes == r.tokenizer.tokenTypes)
        #expect(back.merges == r.tokenizer.merges && back.merges.count == 48900)
        #expect(back.bosTokenID == 1 && back.eosTokenID == 2 && back.padTokenID == 2 && back.unknownTokenID == 0)
        #expect(back.preTokenizer == .smollm)
        for text in bpeCorpus { #expect(back.encode(text) == r.parseSpecial[text]) }
    }

    @Test func huggingFaceFolderMatchesGGUF() throws {
        guard let r = ReferenceEnvironment.require() else { return }
        let hf = try r.hfTokenizer.get()
        print("tokenizer.json load: \(r.hfLoadTime)")
        #expect(hf.tokens == r.tokenizer.tokens)
        #expect(hf.tokenTypes == r.tokenizer.tokenTypes)
        #expect(hf.preTokenizer == .smollm)
        #expect(hf.bosTokenID == 1 && hf.eosTokenID == 2 && hf.padTokenID == 2 && hf.unknownTokenID == 0)
        for text in bpeCorpus {
            #expect(hf.encode(text) == r.parseSpecial[text])
        }
    }

    @Test func chatTemplateMatchesJinja() throws {
        guard let r = ReferenceEnvironment.require() else { return }
        let template = try ChatTemplate(jinjaSource: r.chatTemplateSource, path: ReferenceEnvironment.modelPath)
        #expect(template.defaultSystemPrompt == smolLMDefaultSystemPrompt)
        #expect(template.source == r.chatTemplateSource)
        for (i, (messages, generation)) in r.chatCases.enumerated() {
            #expect(template.render(messages, addGenerationPrompt: generation) == r.chatRenders[i], "case \(i)")
        }
        // The Swift-generated source for the same prompt is recognised as the same template.
        let rebuilt = try ChatTemplate(
            jinjaSource: ChatTemplate.chatML(defaultSystemPrompt: smolLMDefaultSystemPrompt).source, path: "x")
        #expect(rebuilt.defaultSystemPrompt == smolLMDefaultSystemPrompt)
    }

    @Test func encodeSpeed() throws {
        guard let r = ReferenceEnvironment.require() else { return }
        var text = ""
        while text.utf8.count < 1_000_000 { text += bpeCorpusJoined + "\n" + "The quick brown fox \(text.count) jumps. " }
        let start = ContinuousClock.now
        let ids = r.tokenizer.encode(text)
        let elapsed = ContinuousClock.now - start
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18
        print("encode: \(text.utf8.count) bytes → \(ids.count) tokens in \(seconds) s")
        #expect(r.tokenizer.decode(ids) == text)
        #if !DEBUG
            #expect(seconds < 1.0)
        #endif
    }
}

// MARK: - Model-free tests

/// A toy vocabulary: the 256 byte tokens, a few merges and special tokens.
private enum Toy {
    static let byteTokens: [String] = (0..<256).map {
        ByteLevelBPETokenizer.byteLevelSpelling(of: [UInt8($0)])
    }
    static let merges = ["Ġ t", "h e", "Ġt he", "t he", "Ġ Ġ", "1 2", "i n", "in g"]
    static let specials = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]
    static var tokens: [String] {
        specials + byteTokens + ["Ġt", "he", "Ġthe", "the", "ĠĠ", "12", "in", "ing", "<tool>"]
    }
    static var types: [BPETokenType] {
        Array(repeating: .control, count: 3) + Array(repeating: .normal, count: 256 + 8) + [.userDefined]
    }

    static func tokenizer(_ kind: BPEPreTokenizer = .smollm) throws -> ByteLevelBPETokenizer {
        try ByteLevelBPETokenizer(
            tokens: tokens, merges: merges, tokenTypes: types, bos: 1, eos: 2, pad: 2, unk: 0, preTokenizer: kind)
    }

    /// A tokenizer.json for the toy vocabulary.
    static func tokenizerJSON() -> [String: Any] {
        var vocab: [String: Int] = [:]
        for (i, t) in tokens.enumerated() { vocab[t] = i }
        let added: [[String: Any]] = tokens.enumerated().compactMap { i, t in
            types[i] == .normal
                ? nil
                : [
                    "id": i, "content": t, "single_word": false, "lstrip": false, "rstrip": false, "normalized": false,
                    "special": types[i] == .control,
                ]
        }
        return [
            "version": "1.0", "truncation": NSNull(), "padding": NSNull(), "added_tokens": added,
            "normalizer": NSNull(),
            "pre_tokenizer": [
                "type": "Sequence",
                "pretokenizers": [
                    ["type": "Digits", "individual_digits": true],
                    ["type": "ByteLevel", "add_prefix_space": false, "trim_offsets": true, "use_regex": true],
                ],
            ],
            "post_processor": NSNull(),
            "decoder": ["type": "ByteLevel", "add_prefix_space": true, "trim_offsets": true, "use_regex": true],
            "model": [
                "type": "BPE", "dropout": NSNull(), "unk_token": NSNull(), "continuing_subword_prefix": NSNull(),
                "end_of_word_suffix": NSNull(), "fuse_unk": false, "byte_fallback": false, "ignore_merges": false,
                "vocab": vocab, "merges": merges.map { $0.split(separator: " ").map(String.init) },
            ],
        ]
    }
}

/// Words the pre-tokenizer produces for `text`.
private func preTokenize(_ text: String, _ kind: BPEPreTokenizer) -> [String] { kind.split(text) }

@Suite("BPE tokenizer (model-free)")
struct BPETokenizerUnitTests {
    @Test func byteMappingIsGPT2() {
        #expect(ByteLevelBPETokenizer.byteLevelSpelling(of: Array(" \n\t!~".utf8)) == "ĠĊĉ!~")
        #expect(ByteLevelBPETokenizer.byteLevelSpelling(of: [0xAD, 0xA0, 0x7F, 0x00]) == "\u{143}\u{142}\u{121}\u{100}")
        for b in 0..<256 {
            #expect(ByteLevelBPETokenizer.rawBytes(ofByteLevelSpelling: ByteLevelBPETokenizer.byteLevelSpelling(of: [UInt8(b)])) == [UInt8(b)])
        }
        #expect(Set(Toy.byteTokens).count == 256)
    }

    @Test func gpt2Split() {
        #expect(preTokenize("Hello world", .gpt2) == ["Hello", " world"])
        #expect(preTokenize("a  5", .gpt2) == ["a", " ", " 5"])
        #expect(preTokenize("12345 3.14", .gpt2) == ["12345", " 3", ".", "14"])
        #expect(preTokenize("I'm you're DON'T", .gpt2) == ["I", "'m", " you", "'re", " DON", "'", "T"])
        #expect(preTokenize("x   \n\ny", .gpt2) == ["x", "   \n", "\n", "y"])
        #expect(preTokenize("end   ", .gpt2) == ["end", "   "])
        #expect(preTokenize("a\t\tb", .gpt2) == ["a", "\t", "\t", "b"])
        #expect(preTokenize("!!? ..", .gpt2) == ["!!?", " .."])
        #expect(preTokenize("日本 語", .gpt2) == ["日本", " 語"])
        #expect(preTokenize("e\u{301}x", .gpt2) == ["e", "\u{301}", "x"])
    }

    @Test func smollmSplitsEveryDigit() {
        #expect(preTokenize("a  5", .smollm) == ["a", "  ", "5"])
        #expect(preTokenize("12345", .smollm) == ["1", "2", "3", "4", "5"])
        #expect(preTokenize("3.14", .smollm) == ["3", ".", "1", "4"])
        #expect(preTokenize("x 7y", .smollm) == ["x", " ", "7", "y"])
        #expect(preTokenize("½²٣", .smollm) == ["½", "²", "٣"])
    }

    @Test func llama3Split() {
        #expect(preTokenize("Hello world", .llama3) == ["Hello", " world"])
        #expect(preTokenize("12345", .llama3) == ["123", "45"])
        #expect(preTokenize("I'M ok", .llama3) == ["I", "'M", " ok"])
        #expect(preTokenize("a\n\n  b", .llama3) == ["a", "\n\n", " ", " b"])
        #expect(preTokenize("(x)", .llama3) == ["(x", ")"])
        #expect(preTokenize("}\n\nfoo", .llama3) == ["}\n\n", "foo"])
    }

    @Test func toyMergesAndSpecials() throws {
        let t = try Toy.tokenizer()
        let the = try #require(t.id(for: "the")), spaceThe = try #require(t.id(for: "Ġthe"))
        #expect(t.encode("the the") == [the, spaceThe])
        #expect(t.encode("<|im_start|>the<|im_end|>") == [1, the, 2])
        // Without parseSpecial, control strings are text; user-defined ones are still matched.
        let plain = t.encode("<|im_start|><tool>", parseSpecial: false)
        #expect(!plain.contains(1) && plain.last == t.id(for: "<tool>"))
        #expect(t.decode(plain) == "<|im_start|><tool>")
        #expect(t.decode([1, the, 2], skipSpecial: true) == "the")
        #expect(t.decode([1, the, 2]) == "<|im_start|>the<|im_end|>")
        #expect(t.encode("12") == [t.id(for: "1")!, t.id(for: "2")!])  // smollm: digits never merge
        #expect(try Toy.tokenizer(.gpt2).encode("12") == [t.id(for: "12")!])
        #expect(t.encode("") == [])
        #expect(t.decode([-5, 99999]) == "")
    }

    @Test func invalidUTF8DecodesToReplacementAtTheEnd() throws {
        let t = try Toy.tokenizer()
        let e2 = t.id(for: ByteLevelBPETokenizer.byteLevelSpelling(of: [0xE2]))!
        let x82 = t.id(for: ByteLevelBPETokenizer.byteLevelSpelling(of: [0x82]))!
        let xAC = t.id(for: ByteLevelBPETokenizer.byteLevelSpelling(of: [0xAC]))!
        #expect(t.decode([e2, x82, xAC]) == "€")
        #expect(t.decode([e2, x82]) == "\u{FFFD}")
        var stream = StreamingDetokenizer(tokenizer: t)
        #expect(stream.push(e2) == "")
        #expect(stream.push(x82) == "")
        #expect(stream.push(xAC) == "€")
        #expect(stream.push(e2) == "")
        #expect(stream.finish() == "\u{FFFD}")
    }

    @Test func initErrorsNameTheField() {
        func error(_ body: () throws(InputError) -> Void) -> InputError? {
            do {
                try body()
                return nil
            } catch { return error }
        }
        let tokens = Toy.tokens, types = Toy.types.map { $0.rawValue }
        let badPre = error { () throws(InputError) in
            _ = try ByteLevelBPETokenizer(
                ggufTokens: tokens, merges: Toy.merges, tokenTypes: types, bos: 1, eos: 2, pad: nil, unk: nil,
                pre: "qwen2", path: "m.gguf")
        }
        #expect(badPre?.field == "tokenizer.ggml.pre" && badPre?.file == "m.gguf")
        let badMerge = error { () throws(InputError) in
            _ = try ByteLevelBPETokenizer(
                ggufTokens: tokens, merges: Toy.merges + ["x yz"], tokenTypes: types, bos: 1, eos: 2, pad: nil,
                unk: nil, pre: "smollm", path: "m.gguf")
        }
        #expect(badMerge?.field == "tokenizer.ggml.merges[\(Toy.merges.count)]")
        let badType = error { () throws(InputError) in
            _ = try ByteLevelBPETokenizer(
                ggufTokens: tokens, merges: Toy.merges, tokenTypes: [9] + types.dropFirst(), bos: 1, eos: 2, pad: nil,
                unk: nil, pre: "smollm", path: "m.gguf")
        }
        #expect(badType?.field == "tokenizer.ggml.token_type[0]")
        let badBOS = error { () throws(InputError) in
            _ = try ByteLevelBPETokenizer(
                ggufTokens: tokens, merges: Toy.merges, tokenTypes: types, bos: 100_000, eos: 2, pad: nil, unk: nil,
                pre: "smollm", path: "m.gguf")
        }
        #expect(badBOS?.field == "tokenizer.ggml.bos_token_id")
        #expect(badBOS.map { !$0.description.contains("\n") } == true)
    }

    @Test func huggingFaceLoaderRecognisesShapes() throws {
        let json = Toy.tokenizerJSON()
        let data = try JSONSerialization.data(withJSONObject: json)
        let t = try ByteLevelBPETokenizer.load(tokenizerJSON: data, path: "t.json")
        #expect(t.preTokenizer == .smollm)
        #expect(t.tokens == Toy.tokens && t.tokenTypes == Toy.types && t.merges == Toy.merges)
        for kind in BPEPreTokenizer.allCases {
            let original = try Toy.tokenizer(kind)
            let back = try ByteLevelBPETokenizer.load(tokenizerJSON: original.huggingFaceJSON(), path: "e.json")
            #expect(back.preTokenizer == kind && back.tokens == original.tokens && back.merges == original.merges)
            #expect(back.ignoreMerges == original.ignoreMerges)
        }
        #expect(t.encode("the the") == (try Toy.tokenizer()).encode("the the"))

        var gpt2 = json
        gpt2["pre_tokenizer"] = ["type": "ByteLevel", "add_prefix_space": false, "use_regex": true]
        #expect(try ByteLevelBPETokenizer.load(tokenizerJSON: JSONSerialization.data(withJSONObject: gpt2), path: "t").preTokenizer == .gpt2)

        var llama = json
        llama["pre_tokenizer"] = [
            "type": "Sequence",
            "pretokenizers": [
                ["type": "Split", "pattern": ["Regex": ByteLevelBPETokenizer.llama3Regex], "behavior": "Isolated", "invert": false],
                ["type": "ByteLevel", "add_prefix_space": false, "trim_offsets": true, "use_regex": false],
            ],
        ]
        #expect(try ByteLevelBPETokenizer.load(tokenizerJSON: JSONSerialization.data(withJSONObject: llama), path: "t").preTokenizer == .llama3)

        var metaspace = json
        metaspace["pre_tokenizer"] = ["type": "Metaspace", "replacement": "▁"]
        do {
            _ = try ByteLevelBPETokenizer.load(tokenizerJSON: JSONSerialization.data(withJSONObject: metaspace), path: "t.json")
            Issue.record("Metaspace accepted")
        } catch let e as InputError {
            #expect(e.file == "t.json" && e.field == "pre_tokenizer.type")
        }
        var wordPiece = json
        wordPiece["model"] = ["type": "WordPiece", "vocab": [:] as [String: Int]]
        do {
            _ = try ByteLevelBPETokenizer.load(tokenizerJSON: JSONSerialization.data(withJSONObject: wordPiece), path: "t.json")
            Issue.record("WordPiece accepted")
        } catch let e as InputError {
            #expect(e.field == "model.type")
        }
    }

    @Test func huggingFaceFolderReadsSpecialTokens() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("rlhub-bpe-toy-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        try JSONSerialization.data(withJSONObject: Toy.tokenizerJSON()).write(to: dir.appendingPathComponent("tokenizer.json"))
        let config: [String: Any] = [
            "bos_token": "<|im_start|>", "eos_token": ["content": "<|im_end|>"], "pad_token": "<|im_end|>",
            "unk_token": NSNull(),
        ]
        try JSONSerialization.data(withJSONObject: config).write(to: dir.appendingPathComponent("tokenizer_config.json"))
        let t = try ByteLevelBPETokenizer.load(huggingFaceFolder: dir.path)
        #expect(t.bosTokenID == 1 && t.eosTokenID == 2 && t.padTokenID == 2 && t.unknownTokenID == nil)
        do {
            _ = try ByteLevelBPETokenizer.load(huggingFaceFolder: dir.appendingPathComponent("missing").path)
            Issue.record("missing folder accepted")
        } catch {
            #expect(error.file.hasSuffix("missing/tokenizer.json"))
        }
    }

    @Test func jsonParsing() throws {
        // Ids 0 and 1 stay numbers, a leading U+FEFF survives, escapes and surrogate pairs decode.
        var json = Toy.tokenizerJSON()
        var added = json["added_tokens"] as! [[String: Any]]
        added.append(["id": Toy.tokens.count, "content": "\u{FEFF}x\u{e9}😀\n", "special": false])
        json["added_tokens"] = added
        var text = String(decoding: try JSONSerialization.data(withJSONObject: json), as: UTF8.self)
        text = text.replacingOccurrences(of: "😀", with: "\\ud83d\\ude00")
        let t = try ByteLevelBPETokenizer.load(tokenizerJSON: Data(text.utf8), path: "p.json")
        #expect(t.token(for: Int32(Toy.tokens.count)) == "\u{FEFF}x\u{e9}😀\n")
        #expect(t.token(for: 0) == "<|endoftext|>" && t.token(for: 1) == "<|im_start|>")
        let bad = [
            "", "{", "{\"a\" 1}", "[1,]", "{\"a\": 01}", "{\"a\": \"\n\"}", "{} x", "{\"a\": 1e999}", "[1]",
            "{\"a\": \"\\x\"}", "{\"a\": tru}", String(repeating: "[", count: 100_000),
        ]
        for source in bad {
            do {
                _ = try ByteLevelBPETokenizer.load(tokenizerJSON: Data(source.utf8), path: "p.json")
                Issue.record("accepted \(source.prefix(20).debugDescription)")
            } catch {
                #expect(error.file == "p.json" && !error.description.contains("\n"))
            }
        }
    }

    @Test func fuzzTokenizerJSONLoader() throws {
        let base = try JSONSerialization.data(withJSONObject: Toy.tokenizerJSON(), options: [.sortedKeys])
        var rng = SplitMix64(seed: 2024)
        var accepted = 0, rejected = 0
        // Byte-level mutations.
        for _ in 0..<400 {
            var bytes = [UInt8](base)
            for _ in 0..<(1 + Int(rng.next() % 4)) {
                let i = Int(rng.next() % UInt64(bytes.count))
                switch rng.next() % 4 {
                case 0: bytes[i] = UInt8(truncatingIfNeeded: rng.next())
                case 1: bytes.remove(at: i)
                case 2: bytes.insert(Array("{}[]\",:-0123456789e".utf8).randomElement(using: &rng)!, at: i)
                default: bytes = Array(bytes[..<i])
                }
            }
            do {
                _ = try ByteLevelBPETokenizer.load(tokenizerJSON: Data(bytes), path: "fuzz.json")
                accepted += 1
            } catch {
                #expect(error.file == "fuzz.json" && !error.message.isEmpty)
                rejected += 1
            }
        }
        // Structural mutations: replace or delete one value somewhere in the tree.
        let replacements: [Any] = [NSNull(), -1, 1 << 40, 2.5, true, "", "x", [Any](), [String: Any](), ["a b"], [1, 2]]
        func mutate(_ value: Any, _ rng: inout SplitMix64, depth: Int) -> Any? {
            if depth > 0 || rng.next() % 3 == 0 {
                if rng.next() % 4 == 0 { return nil }
                return replacements[Int(rng.next() % UInt64(replacements.count))]
            }
            if var dict = value as? [String: Any], !dict.isEmpty {
                let keys = dict.keys.sorted()
                let k = keys[Int(rng.next() % UInt64(keys.count))]
                dict[k] = mutate(dict[k]!, &rng, depth: rng.next() % 3 == 0 ? 1 : 0)
                return dict
            }
            if var list = value as? [Any], !list.isEmpty {
                let i = Int(rng.next() % UInt64(list.count))
                if let v = mutate(list[i], &rng, depth: rng.next() % 2 == 0 ? 1 : 0) { list[i] = v } else { list.remove(at: i) }
                return list
            }
            return replacements[Int(rng.next() % UInt64(replacements.count))]
        }
        let root = Toy.tokenizerJSON()
        for _ in 0..<400 {
            let mutated = mutate(root, &rng, depth: 0) ?? [String: Any]()
            guard JSONSerialization.isValidJSONObject(mutated) else { continue }
            let data = try JSONSerialization.data(withJSONObject: mutated)
            do {
                let t = try ByteLevelBPETokenizer.load(tokenizerJSON: data, path: "fuzz.json")
                _ = t.decode(t.encode("the 12 <|im_end|> 日本"))
                accepted += 1
            } catch {
                #expect(error.file == "fuzz.json" && !error.message.isEmpty)
                rejected += 1
            }
        }
        #expect(accepted > 0 && rejected > 0)
    }

    @Test func fuzzEncodeRoundTrip() throws {
        let tokenizers = [try Toy.tokenizer(.smollm), try Toy.tokenizer(.gpt2), try Toy.tokenizer(.llama3)]
        var rng = SplitMix64(seed: 99)
        let alphabet = Array("the 12 \t\n\r ing <|im_end|><tool>'s é日😀\u{301}\u{200D}".utf8)
        for round in 0..<600 {
            let count = Int(rng.next() % 40)
            var bytes: [UInt8] = []
            for _ in 0..<count {
                bytes.append(rng.next() % 2 == 0 ? UInt8(truncatingIfNeeded: rng.next()) : alphabet[Int(rng.next() % UInt64(alphabet.count))])
            }
            let text = String(decoding: bytes, as: UTF8.self)
            let t = tokenizers[round % tokenizers.count]
            for parse in [true, false] {
                let ids = t.encode(text, parseSpecial: parse)
                #expect(t.decode(ids) == text)
                #expect(ids.allSatisfy { $0 >= 0 && Int($0) < t.vocabularySize })
            }
            // Raw (possibly invalid) UTF-8 never crashes the byte-level entry point.
            _ = bytes.withUnsafeBufferPointer { t.encode(utf8: $0, parseSpecial: true) }
        }
    }
}

// MARK: - Chat templates (model-free)

@Suite("Chat templates")
struct ChatTemplateTests {
    let smolSource =
        "{% for message in messages %}{% if loop.first and messages[0]['role'] != 'system' %}{{ '<|im_start|>system\nYou are a helpful AI assistant named SmolLM, trained by Hugging Face<|im_end|>\n' }}{% endif %}{{'<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n'}}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}"

    @Test func plainChatML() throws {
        let t = ChatTemplate.chatML
        #expect(t.defaultSystemPrompt == nil)
        let messages = [ChatMessage(role: "user", content: "hi"), ChatMessage(role: "assistant", content: "yo")]
        #expect(t.render(messages, addGenerationPrompt: false) == "<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\nyo<|im_end|>\n")
        #expect(t.render([], addGenerationPrompt: true) == "<|im_start|>assistant\n")
        let parsed = try ChatTemplate(jinjaSource: t.source, path: "x")
        #expect(parsed == t)
    }

    @Test func smolLMTemplate() throws {
        let t = try ChatTemplate(jinjaSource: smolSource, path: "m.gguf")
        #expect(t.defaultSystemPrompt == smolLMDefaultSystemPrompt)
        #expect(
            t.render([ChatMessage(role: "user", content: "Hi")], addGenerationPrompt: true)
                == "<|im_start|>system\n\(smolLMDefaultSystemPrompt)<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n")
    }

    @Test func whitespaceVariantsAreRecognised() throws {
        let source = """
            {%- for message in messages %}
                {{- '<|im_start|>' + message.role + '\\n' + message.content + '<|im_end|>' + '\\n' }}
            {%- endfor %}
            {%- if add_generation_prompt %}
                {{- '<|im_start|>assistant\\n' }}
            {%- endif %}
            """
        let t = try ChatTemplate(jinjaSource: source, path: "x")
        #expect(t.defaultSystemPrompt == nil)
    }

    @Test func unsupportedTemplatesThrow() {
        let sources = [
            "{{ bos_token }}{% for m in messages %}[INST] {{ m['content'] }} [/INST]{% endfor %}",
            "{% for message in messages %}{{ message['content'] }}{% endfor %}",
            "{% for message in messages %}<|user|>\n{{ message.content }}</s>{% endfor %}",
            "{% macro x() %}{% endmacro %}",
            "{{ 'unterminated }}",
            "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\n' + message['content'] | upper + '<|im_end|>\n'}}{% endfor %}",
        ]
        for source in sources {
            do {
                _ = try ChatTemplate(jinjaSource: source, path: "m.gguf")
                Issue.record("accepted: \(source)")
            } catch {
                #expect(error.field == "tokenizer.chat_template")
                #expect(error.file == "m.gguf")
                #expect(error.message.hasPrefix("chat template not supported: "))
                #expect(!error.description.contains("\n"))
            }
        }
    }
}
