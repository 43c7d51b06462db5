// rlhub — every task's gold demonstrations earn 1.0; splits are disjoint; problems are
// deterministic; prompts are short ASCII.
import Tasks
import Testing

/// Specs covering every task with a few parameter settings each (extremes included).
let goldSpecs = [
    "add", "add:digits=1", "add:digits=7", "add:digits=20,lenient=true,format=0.1",
    "sort", "sort:length=1", "sort:length=4", "sort:length=20",
    "reverse", "reverse:length=1", "reverse:length=3", "reverse:length=20,lenient=1",
    "countdown", "countdown:count=4,max=100", "countdown:max=2", "countdown:count=4,max=5,format=0.5",
    "guess", "guess:max=2,turns=2", "guess:max=1000,turns=10", "guess:max=10000,turns=14,lenient=true",
    "frozenlake", "frozenlake:slippery=true", "frozenlake:size=8,turns=30,slippery=1", "frozenlake:size=3,turns=2",
    "calc", "calc:style=word", "calc:digits=6,turns=2", "calc:digits=1,style=word,format=0.1",
]

@Suite("Gold demonstrations and splits")
struct GoldAndSplitTests {
    @Test("gold demonstrations replay to reward 1.0 (200 problems per split)", arguments: goldSpecs)
    func goldReplay(spec: String) throws {
        let t = try task(spec)
        for split in Split.allCases {
            for index in 0..<200 {
                let seed = UInt64(index) &* 0x9E37_79B9 &+ 17
                let reward = replay(t, split: split, index: index, seed: seed)
                #expect(reward == 1.0, "\(spec) \(split) #\(index): \(String(describing: reward))")
                if reward != 1.0 { return }
            }
        }
    }

    @Test("no test problem appears in training", arguments: goldSpecs)
    func disjoint(spec: String) throws {
        let t = try task(spec)
        let isDefault = TaskRegistry.names.contains(spec)
        let n = isDefault ? 3_000 : 400
        let trainKeys = Set((0..<n).map { t.problemKey(split: .train, index: $0) })
        let testKeys = Set((0..<n).map { t.problemKey(split: .test, index: $0) })
        #expect(trainKeys.isDisjoint(with: testKeys), "\(spec): \(trainKeys.intersection(testKeys).prefix(3))")
        // Prompts too (guess hides its problem, so all its prompts are equal).
        if !spec.hasPrefix("guess") {
            let trainPrompts = Set((0..<300).map { prompt(t, split: .train, index: $0) })
            let testPrompts = Set((0..<300).map { prompt(t, split: .test, index: $0) })
            #expect(trainPrompts.isDisjoint(with: testPrompts), "\(spec)")
        }
        // Sampled default spaces are large: most draws are distinct.
        if isDefault && t.problemCount(.train) == nil && spec != "countdown" {
            #expect(
                trainKeys.count > n * 3 / 4 && testKeys.count > n * 3 / 4,
                "\(spec): \(trainKeys.count) \(testKeys.count)")
        }
    }

    @Test("enumerated spaces: exact counts, 80/20, indices wrap")
    func enumeratedCounts() throws {
        for (spec, total) in [
            ("add:digits=1", 100), ("add", 8_100), ("sort:length=1", 10), ("reverse:length=2", 676),
            ("guess", 100), ("guess:max=2,turns=2", 2),
        ] {
            let t = try task(spec)
            let train = try #require(t.problemCount(.train))
            let test = try #require(t.problemCount(.test))
            #expect(train + test == total, "\(spec)")
            #expect(test == max(1, total / 5), "\(spec)")
            #expect(Set((0..<train).map { t.problemKey(split: .train, index: $0) }).count == train, "\(spec)")
            #expect(Set((0..<test).map { t.problemKey(split: .test, index: $0) }).count == test, "\(spec)")
            #expect(t.problemKey(split: .train, index: train + 3) == t.problemKey(split: .train, index: 3))
        }
        for spec in ["add:digits=3", "sort", "reverse", "countdown", "frozenlake", "calc"] {
            #expect(try task(spec).problemCount(.train) == nil, "\(spec)")
        }
    }

    @Test("the split and the problems ignore reward-only parameters")
    func rewardParametersDoNotChangeProblems() throws {
        let pairs = [
            ("add", "add:lenient=1,format=0.3"), ("guess", "guess:turns=20,format=0.2"),
            ("frozenlake", "frozenlake:slippery=1,lenient=1"), ("calc", "calc:turns=5,format=0.1"),
        ]
        for (a, b) in pairs {
            let (ta, tb) = (try task(a), try task(b))
            for index in 0..<50 {
                #expect(ta.problemKey(split: .test, index: index) == tb.problemKey(split: .test, index: index))
            }
        }
    }

    @Test("same spec, split and index give the same problem and demonstration", arguments: goldSpecs)
    func deterministic(spec: String) throws {
        let (a, b) = (try task(spec), try task(spec))
        for index in [0, 1, 17, 1_000, 123_456] {
            for split in Split.allCases {
                #expect(
                    a.goldDemonstration(split: split, index: index, seed: 5)
                        == b.goldDemonstration(split: split, index: index, seed: 5))
                #expect(prompt(a, split: split, index: index) == prompt(b, split: split, index: index))
            }
        }
    }

    /// Pinned values: a change here means every stored run's problems changed (a breaking change).
    @Test("problems are pinned across platforms and releases")
    func pinned() throws {
        #expect(prompt(try task("add"), index: 0) == pinnedAddPrompt)
        #expect(goldAnswer(try task("countdown"), split: .test, index: 3) == pinnedCountdownAnswer)
        #expect(try task("frozenlake").problemKey(split: .train, index: 0) == pinnedLake)
    }

    @Test("prompts and demonstrations are plain ASCII and fit a 512-position model")
    func asciiAndShort() throws {
        for spec in goldSpecs {
            let t = try task(spec)
            for index in 0..<50 {
                let demo = t.goldDemonstration(split: .train, index: index, seed: UInt64(index))
                for m in demo {
                    #expect(
                        m.content.utf8.allSatisfy { ($0 >= 0x20 && $0 <= 0x7E) || $0 == 0x0A }, "\(spec): \(m.content)")
                }
                #expect(demo[0].content.count <= 160, "\(spec): prompt \(demo[0].content.count) chars")
                let defaults = ["add", "sort", "reverse", "countdown", "guess", "frozenlake", "calc"]
                if defaults.contains(spec) {
                    #expect(chatMLTokens(demo) <= 512, "\(spec): \(chatMLTokens(demo)) tokens")
                }
                for m in demo where m.role == "assistant" {
                    #expect(m.content.count + 1 <= t.maxNewTokensHint, "\(spec): \(m.content)")
                }
            }
        }
    }

    @Test("runEpisode plays a policy to the end")
    func runEpisode() throws {
        let t = try task("guess")
        let episode = t.runEpisode(split: .test, index: 2, seed: 0) { _ in "1" }
        #expect(episode.turns <= t.maxTurns)
        #expect(episode.messages.first?.role == "user")
        let gold = t.goldDemonstration(split: .test, index: 2)
        var turns = gold.filter { $0.role == "assistant" }.map(\.content)[...]
        let replayed = t.runEpisode(split: .test, index: 2, seed: 0) { _ in turns.popFirst() ?? "" }
        #expect(replayed.reward == 1.0)
        #expect(replayed.messages == gold)
        #expect(replayed.info["outcome"] == "correct")
    }
}

let pinnedAddPrompt = "28+49="
let pinnedCountdownAnswer = "5+10"
let pinnedLake = "___O/____/__OG/_OS_"
