// rlhub — each verifier on hand-made right, wrong and adversarial replies.
import RLHubCore
import Tasks
import Testing

/// Expected outcome of one reply: reward and `info["outcome"]`.
private func expectScore(
    _ t: any RLTask, _ reply: String, _ reward: Double, _ outcome: String, index: Int = 0,
    sourceLocation: SourceLocation = #_sourceLocation
) {
    let r = score(t, reply, index: index)
    #expect(r.done, sourceLocation: sourceLocation)
    #expect(r.reward == reward, "\(t.spec) reply \(reply.debugDescription): \(r.info)", sourceLocation: sourceLocation)
    #expect(
        r.info["outcome"] == outcome, "\(t.spec) reply \(reply.debugDescription): \(r.info)",
        sourceLocation: sourceLocation)
}

private let huge = String(repeating: "9", count: 100_000)

@Suite("Verifiers")
struct VerifierTests {
    @Test("add: strict")
    func addStrict() throws {
        let t = try task("add:format=0.25")
        let p = prompt(t)  // "ab+cd="
        let g = goldAnswer(t)
        #expect(p.hasSuffix("=") && p.contains("+"))
        for ok in [g, "  \(g) \n", "\(g)<|im_end|>", "\(g)<|im_end|>junk 12", "+\(g)", "000\(g)", "\t\(g)\r\n"] {
            expectScore(t, ok, 1, "correct")
        }
        for wrongButNumber in ["-\(g)", "\(g)0", "0", "-0", huge, "-" + huge] {
            expectScore(t, wrongButNumber, 0.25, "wrong")
        }
        for malformed in [
            "", "   ", "<|im_end|>", "\(g) \(g)", "The answer is \(g).", "\(g).", "\(g).0", "\(g)!",
            "1,\(g)", "--\(g)", "+-\(g)", "\(g)e0", "４６", "٤٦", "\(g)\u{0301}", "<answer>\(g)</answer>",
        ] {
            expectScore(t, malformed, 0, "malformed")
        }
    }

    @Test("add: lenient takes the last number")
    func addLenient() throws {
        let t = try task("add:lenient=true")
        let g = goldAnswer(t)
        for ok in [
            g, "The answer is \(g).", "\(p(t)) \(g)", "**\(g)**", "12 + 34 = 5, no wait: \(g)", "\(g).0",
            "answer: +\(g)",
        ] {
            expectScore(t, ok, 1, "correct")
        }
        for wrong in ["\(g) or 7", "\(g) 0", "\(g)-1", "\(g).5", "\(g)\(huge)"] {
            let r = score(t, wrong)
            #expect(r.reward == 0, "\(wrong.prefix(40))")
        }
        expectScore(t, "no digits here", 0, "malformed")
        expectScore(t, "４６", 0, "malformed")
        // Thousands separators in long sums.
        let big = try task("add:digits=4,lenient=1")
        let sum = Int(goldAnswer(big)) ?? -1
        let grouped = "\(sum / 1000),\(String(sum % 1000).leftPadded(3))"
        expectScore(big, "The sum is \(grouped).", 1, "correct")
    }

    @Test("add: negative zero and zero sums")
    func addZero() throws {
        let t = try task("add:digits=1")
        let split: Split = (0..<80).contains { prompt(t, split: .train, index: $0) == "0+0=" } ? .train : .test
        let index = try #require((0..<80).first { prompt(t, split: split, index: $0) == "0+0=" })
        for ok in ["0", "-0", "+0", "000", " -00 "] {
            let r = score(t, ok, split: split, index: index)
            #expect(r.reward == 1, "\(ok)")
        }
        #expect(score(t, "-", split: split, index: index).reward == 0)
        #expect(score(t, "1", split: split, index: index).reward == 0)
    }

    @Test("add: huge operands never overflow")
    func addHuge() throws {
        let t = try task("add:digits=20")
        let p = prompt(t)
        let parts = p.dropLast().split(separator: "+").map(String.init)
        #expect(parts.count == 2 && parts.allSatisfy { $0.count == 20 })
        let g = goldAnswer(t)
        #expect(g.count >= 20 && g.count <= 21)
        expectScore(t, g, 1, "correct")
        expectScore(t, String(g.dropLast()), 0, "wrong")
    }

    @Test("sort: strict and lenient")
    func sort() throws {
        let t = try task("sort:length=6,format=0.1")
        let digits = String(prompt(t).dropFirst("sort ".count))
        let g = goldAnswer(t)
        #expect(g == String(digits.sorted()))
        let spaced = g.map(String.init).joined(separator: " ")
        let commas = g.map(String.init).joined(separator: ", ")
        for ok in [g, " \(g)\n", spaced, commas, "[\(commas)]", "(\(spaced))", "\(g)<|endoftext|>"] {
            expectScore(t, ok, 1, "correct")
        }
        for wrong in [g + "0", String(g.dropLast()), "9" + String(g.dropFirst()), huge] {
            expectScore(t, wrong, 0.1, "wrong")
        }
        let grouped = String(g.prefix(2)) + " " + String(g.dropFirst(2))
        for malformed in ["", "Sorted: \(g)", grouped, "[\(g)", "\(g).", "a b c", "１２３"] {
            expectScore(t, malformed, 0, "malformed")
        }
        let lenient = try task("sort:length=6,lenient=1")
        for ok in ["Sorted: \(commas).", "The digits \(digits) sorted are [\(commas)]", "\(spaced)"] {
            expectScore(lenient, ok, 1, "correct")
        }
        expectScore(lenient, "\(g) from \(digits)", digits == g ? 1 : 0, digits == g ? "correct" : "wrong")
    }

    @Test("reverse: strict and lenient")
    func reverse() throws {
        let t = try task("reverse:length=7,format=0.2")
        let word = String(prompt(t).dropFirst("reverse ".count))
        let g = goldAnswer(t)
        #expect(g == String(word.reversed()))
        for ok in [g, " \(g) ", "\(g)<|im_end|>"] { expectScore(t, ok, 1, "correct") }
        if g != word { expectScore(t, word, 0.2, "wrong") }
        for wrong in [g + "a", String(g.dropLast())] { expectScore(t, wrong, 0.2, "wrong") }
        for malformed in ["", g.uppercased(), "\"\(g)\"", "The answer is \(g)", "\(g) \(g)", "\(g)1", "ｅ"] {
            expectScore(t, malformed, 0, "malformed")
        }
        let lenient = try task("reverse:length=7,lenient=true")
        for ok in ["The reverse is \"\(g)\".", "Reversed: \(g)", "\(word) -> \(g)"] {
            expectScore(lenient, ok, 1, "correct")
        }
        expectScore(lenient, "\(g) is the answer", 0, "wrong")
        expectScore(lenient, "123", 0, "malformed")
    }

    @Test("countdown: exact rational verification, numbers used at most once")
    func countdown() throws {
        let t = try task("countdown:count=4,max=20,format=0.1")
        // Find a problem whose four numbers are distinct, for hand-made replies.
        let index = try #require(
            (0..<200).first { i in
                let (numbers, _) = parseCountdown(prompt(t, index: i))
                return Set(numbers).count == 4 && !numbers.contains(1)
            })
        let (n, target) = parseCountdown(prompt(t, index: index))
        let g = goldAnswer(t, index: index)
        func check(
            _ reply: String, _ reward: Double, _ outcome: String, sourceLocation: SourceLocation = #_sourceLocation
        ) {
            expectScore(t, reply, reward, outcome, index: index, sourceLocation: sourceLocation)
        }
        check(g, 1, "correct")
        check(" \(g) = \(target) ", 1, "correct")
        check("(\(g))", 1, "correct")
        check("\(g)*1", 0.1, "wrong")  // 1 is not given
        check("\(g) = \(target + 1)", 0.1, "wrong")  // wrong claim
        check("\(target)", 0.1, "wrong")  // target is never a given number
        check("\(n[0])+\(n[0])", 0.1, "wrong")  // used twice
        check(
            "\(n[0])*\(n[1])-\(n[2])+\(n[3])", n[0] * n[1] - n[2] + n[3] == target ? 1 : 0.1,
            n[0] * n[1] - n[2] + n[3] == target ? "correct" : "wrong")
        check("0\(n[0])+\(n[1])", n[0] + n[1] == target ? 1 : 0.1, n[0] + n[1] == target ? "correct" : "wrong")
        check("\(n[0])/(\(n[1])-\(n[1]))", 0, "malformed")  // division by zero
        check("-\(n[0])+\(n[1])", 0, "malformed")  // no unary minus
        check("(\(n[0])+\(n[1])", 0, "malformed")
        check("\(n[0])++\(n[1])", 0, "malformed")
        check("\(n[0]).5+\(n[1])", 0, "malformed")
        check("\(g) = \(target) = \(target)", 0, "malformed")
        check("", 0, "malformed")
        check(huge, 0, "malformed")
        check(String(repeating: "(", count: 10_000) + "1" + String(repeating: ")", count: 10_000), 0, "malformed")
        check("The answer is \(g)", 0, "malformed")
        check("\(n[0]) × \(n[1])", 0, "malformed")
        // Exact fractions: (a/b)*b == a even when a/b is not an integer.
        let fractional = try task("countdown:count=3,max=10")
        let fi = try #require(
            (0..<500).first { i in
                let (m, _) = parseCountdown(prompt(fractional, index: i))
                return Set(m).count == 3
            })
        let (m, tgt) = parseCountdown(prompt(fractional, index: fi))
        let value = Double(m[0]) / Double(m[1]) * Double(m[1]) + Double(m[2])
        expectScore(
            fractional, "\(m[0])/\(m[1])*\(m[1])+\(m[2])", value == Double(tgt) ? 1 : 0,
            value == Double(tgt) ? "correct" : "wrong", index: fi)
        // Lenient: last line, after the last colon, markdown stripped, unicode operators mapped.
        let lenient = try task("countdown:count=4,max=20,lenient=true")
        for ok in [
            "Let me think.\n**Answer:** \(g) = \(target).", "`\(g)`", "Answer:\r\n\(g)\r\n",
            "Answer: \(g.replacing("*", with: " × "))",
        ] {
            expectScore(lenient, ok, 1, "correct", index: index)
        }
    }

    @Test("guess: feedback, scaled reward, malformed and huge guesses")
    func guess() throws {
        let t = try task("guess:max=100,turns=20,format=0.05")
        let secret = try #require(Int(goldAnswer(t)))
        var env = t.makeEnvironment(split: .train, index: 0)
        let first = env.reset(seed: 0)
        #expect(
            first == [
                ChatMessage(
                    role: "user", content: "Guess my number from 1 to 100. I say higher or lower. Reply with a number.")
            ])
        let low = env.step("0")
        #expect(low.observation == [ChatMessage(role: "user", content: "higher")] && !low.done && low.reward == 0)
        #expect(env.step("-0").observation?.first?.content == "higher")
        #expect(env.step("-\(huge)").observation?.first?.content == "higher")
        #expect(env.step(huge).observation?.first?.content == "lower")
        #expect(env.step(" 101 \n").observation?.first?.content == "lower")
        let hit = env.step("\(secret)<|im_end|>")
        #expect(hit.done && hit.observation == nil && hit.info["outcome"] == "correct")
        #expect(hit.reward == 1)  // 6 guesses <= 7 (binary search's worst case): full reward
        // Reward after k guesses: 1 up to 7, then 1 - 0.1 (k - 7), floored at 0.1.
        for k in [1, 7, 8, 10, 16, 17, 20] {
            var e = t.makeEnvironment(split: .train, index: 0)
            _ = e.reset(seed: 0)
            let wrong = secret == 1 ? "2" : "1"
            for _ in 1..<k { #expect(!e.step(wrong).done) }
            let r = e.step(String(secret))
            let expected = k <= 7 ? 1.0 : max(0.1, 1 - 0.1 * Double(k - 7))
            #expect(abs(r.reward - expected) < 1e-12, "k=\(k): \(r.reward)")
        }
        // Timeout after well-formed guesses earns the format reward; malformed earns 0 at once.
        var e = t.makeEnvironment(split: .train, index: 0)
        _ = e.reset(seed: 0)
        let wrong = secret == 1 ? "2" : "1"
        var last = e.step(wrong)
        while !last.done { last = e.step(wrong) }
        #expect(last.info["outcome"] == "timeout" && last.reward == 0.05 && last.info["turn"] == "20")
        for malformed in ["", "fifty", "50 60", "My guess is 50", "５０", "50.5", "<|im_end|>50"] {
            expectScore(t, malformed, 0, "malformed")
        }
        let lenient = try task("guess:lenient=1")
        let s = goldAnswer(lenient)
        expectScore(lenient, "I will guess \(s).", 1, "correct")
        let r = score(lenient, "Is it 10 or \(s == "99" ? "98" : "99")?")
        #expect(!r.done && r.info["parsed"] == (s == "99" ? "98" : "99"))
    }

    @Test("frozenlake: actions, grid observations, outcomes")
    func frozenlake() throws {
        let t = try task("frozenlake:format=0.1")
        let demo = t.goldDemonstration(split: .train, index: 0)
        let first = demo[0].content
        #expect(first.hasPrefix("Move P to G. Avoid holes O. Reply U, D, L or R.\n"))
        let grid = first.split(separator: "\n").dropFirst()
        #expect(grid.count == 4 && grid.allSatisfy { $0.count == 4 && $0.allSatisfy { "_OGP".contains($0) } })
        #expect(grid.joined().filter { $0 == "P" }.count == 1 && grid.joined().filter { $0 == "G" }.count == 1)
        for m in demo.dropFirst() where m.role == "user" {
            #expect(m.content.split(separator: "\n").count == 4 && m.content.filter { $0 == "P" }.count == 1)
        }
        let moves = demo.filter { $0.role == "assistant" }.map(\.content)
        // Words and letters in any case are the same action.
        let words = ["U": "up", "D": "Down", "L": "LEFT", "R": " right\n"]
        var env = t.makeEnvironment(split: .train, index: 0)
        _ = env.reset(seed: 0)
        var last: StepResult?
        for m in moves { last = env.step(words[m] ?? "") }
        #expect(last?.reward == 1 && last?.info["outcome"] == "correct")
        // Malformed actions end the episode with 0.
        for malformed in ["", "up up", "move up", "north", "Ｕ", "<U>"] {
            expectScore(t, malformed, 0, "malformed")
        }
        // Lenient: the last action word; lowercase single letters never count.
        let lenient = try task("frozenlake:lenient=true")
        var le = lenient.makeEnvironment(split: .train, index: 0)
        _ = le.reset(seed: 0)
        let reply = "I think going \(words[moves[0]]?.trimmingCharacters() ?? "") is best, a d."
        let r = le.step(reply)
        #expect(r.info["parsed"] == moves[0], "\(r.info)")
        // Walking into holes (format reward) and timeouts: a policy that only says the first move
        // until the episode ends never gets reward 1 unless the path is straight.
        let episode = t.runEpisode(split: .test, index: 1, seed: 0) { _ in "U" }
        #expect(["correct", "hole", "timeout"].contains(episode.info["outcome"] ?? ""))
        #expect(episode.reward == (episode.info["outcome"] == "correct" ? 1 : 0.1))
    }

    @Test("frozenlake: slippery moves are a pure function of the seed")
    func slippery() throws {
        let t = try task("frozenlake:slippery=true,size=6,turns=40")
        func moves(seed: UInt64, index: Int) -> [String] {
            var env = t.makeEnvironment(split: .train, index: index)
            _ = env.reset(seed: seed)
            var out: [String] = []
            for i in 0..<40 {
                let r = env.step(["U", "D", "L", "R"][i % 4])
                out.append(r.info["moved"] ?? "-")
                if r.done { break }
            }
            return out
        }
        for index in 0..<20 {
            #expect(moves(seed: 7, index: index) == moves(seed: 7, index: index))
        }
        let bySeed = Set((0..<20).map { moves(seed: UInt64($0), index: 3) })
        #expect(bySeed.count > 10)
        // About two moves in three slip-free? No: one in three goes as intended (Gymnasium).
        var intended = 0
        var total = 0
        for seed in 0..<300 {
            var env = t.makeEnvironment(split: .train, index: seed % 7)
            _ = env.reset(seed: UInt64(seed))
            let r = env.step("R")
            total += 1
            if r.info["moved"] == "R" { intended += 1 }
        }
        #expect(Double(intended) / Double(total) > 0.25 && Double(intended) / Double(total) < 0.42)
        // Not slippery: always the intended move.
        let still = try task("frozenlake:size=6,turns=40")
        var env = still.makeEnvironment(split: .train, index: 3)
        _ = env.reset(seed: 99)
        for a in ["U", "R", "D", "L", "D"] {
            let r = env.step(a)
            #expect(r.info["moved"] == a)
            if r.done { break }
        }
        // Gold demonstrations depend on the seed only when slippery.
        #expect(
            still.goldDemonstration(split: .test, index: 0, seed: 1)
                == still.goldDemonstration(split: .test, index: 0, seed: 2))
    }

    @Test("calc: tool messages")
    func calcTool() throws {
        let t = try task("calc:turns=10")
        let cases: [(String, String)] = [
            ("<calc>37*24-15</calc>", "873"), ("<calc> 2*(3+4) </calc>", "14"), ("<calc>7/2</calc>", "3.5"),
            ("<calc>1/3</calc>", "1/3"), ("<calc>-5+2</calc>", "-3"), ("<calc>0.1+0.2</calc>", "0.3"),
            ("<calc>-(2-7)*-1</calc>", "-5"), ("<calc>1/8</calc>", "0.125"), ("<calc>22/7*7</calc>", "22"),
            ("<calc>1/0</calc>", "error: division by zero"),
            ("<calc>2+</calc>", "error: invalid expression (unexpected end)"),
            ("<calc>2^3</calc>", "error: invalid expression (unexpected '^3')"),
            ("<calc>99999999999999999999</calc>", "error: number too large"),
            ("<calc>999999999*999999999*999999999</calc>", "error: number too large"),
            (
                "<calc>" + String(repeating: "(", count: 100) + "1" + String(repeating: ")", count: 100) + "</calc>",
                "error: too many nested parentheses"
            ),
            ("<calc>1+2", "error: missing </calc>"), ("let me see <calc>6*7</calc> then", "42"),
            ("<calc>6*7</calc><calc>1+1</calc>", "42"), ("<calc></calc>", "error: invalid expression (unexpected end)"),
            ("<calc>Answer: 5</calc>", "error: invalid expression (unexpected 'Answer: ')"),
            ("<calc>４+1</calc>", "error: invalid expression (unexpected '???+1')"),
        ]
        for (reply, result) in cases {
            let r = score(t, reply)
            #expect(!r.done && r.reward == 0, "\(reply.prefix(40))")
            #expect(
                r.observation == [ChatMessage(role: "tool", content: result)],
                "\(reply.prefix(40)): \(String(describing: r.observation))")
        }
        // The gold demonstration: one call, the tool's exact result, then the answer.
        let demo = t.goldDemonstration(split: .test, index: 4)
        #expect(demo.map(\.role) == ["user", "assistant", "tool", "assistant"])
        #expect(
            demo[0].content.hasPrefix("Compute ")
                && demo[0].content.hasSuffix(" Use <calc>expr</calc> if needed, then reply Answer: N."))
        #expect(demo[1].content.hasPrefix("<calc>") && demo[1].content.hasSuffix("</calc>"))
        #expect(demo[3].content == "Answer: \(demo[2].content)")
        let r = score(t, demo[1].content, split: .test, index: 4)
        #expect(r.observation == [demo[2]])
        // A call on the last allowed turn ends the episode with 0.
        let short = try task("calc:turns=2")
        var env = short.makeEnvironment(split: .train, index: 0)
        _ = env.reset(seed: 0)
        #expect(!env.step("<calc>1+1</calc>").done)
        let end = env.step("<calc>1+1</calc>")
        #expect(end.done && end.reward == 0 && end.info["outcome"] == "timeout")
    }

    @Test("calc: final answers")
    func calcAnswer() throws {
        let t = try task("calc:style=word,format=0.1")
        let a = String(goldAnswer(t).dropFirst("Answer: ".count))
        let n = try #require(Int(a))
        for ok in [
            "Answer: \(a)", "answer:\(a)<|im_end|>", "The answer is \(a).", "**Answer:** \(a)", "\\boxed{\(a)}",
            a, " \(a).0 ", "Answer: \(n * 2)/2", "<calc>\(n)+0</calc> Answer: \(a)", "Answer: 0 ... final answer: \(a)",
            "Answer: $\(a)", "ANSWER = \(a)",
        ] {
            expectScore(t, ok, 1, "correct")
        }
        for wrong in [
            "Answer: \(n + 1)", "Answer: -\(a)", "Answer: \(a).5", "Answer: \(huge)", "Answer: \(a)/0",
            "Answer: \(a) answer: 0", "answer is \(n + 1) (not \(a))",
        ] {
            expectScore(t, wrong, 0.1, "wrong")
        }
        for malformed in ["", "Answer:", "Answer: about a lot", "I think \(a)", "\(a) \(a)", "Answer: ４２"] {
            expectScore(t, malformed, 0, "malformed")
        }
        // The answer inside tags is a tool call, not an answer.
        #expect(!score(t, "<calc>Answer: \(a)</calc>").done)
    }
}

/// Numbers and target from "Make T from a b c with + - * /, each number at most once."
func parseCountdown(_ prompt: String) -> (numbers: [Int], target: Int) {
    let words = prompt.split(separator: " ")
    let target = Int(words[1]) ?? -1
    let numbers = words.dropFirst(3).prefix { Int($0) != nil }.compactMap { Int($0) }
    return (numbers, target)
}

private func p(_ t: any RLTask) -> String { prompt(t) }

extension String {
    func leftPadded(_ width: Int) -> String { String(repeating: "0", count: max(0, width - count)) + self }
    func trimmingCharacters() -> String {
        String(drop { $0 == " " || $0 == "\n" }.reversed().drop { $0 == " " || $0 == "\n" }.reversed())
    }
}
