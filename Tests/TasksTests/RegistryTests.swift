// rlhub — the task registry: names, spec parsing, one-line errors, canonical specs.
import Tasks
import Testing

@Suite("Task registry")
struct RegistryTests {
    private func message(_ spec: String) -> String {
        do {
            _ = try TaskRegistry.make(spec)
            return "no error"
        } catch {
            return error.description
        }
    }

    @Test("names")
    func names() {
        #expect(TaskRegistry.names == ["add", "sort", "reverse", "countdown", "guess", "frozenlake", "calc"])
        for name in TaskRegistry.names {
            #expect((try? TaskRegistry.make(name))?.name == name)
        }
    }

    @Test("errors are one line naming --task, the key and the valid values")
    func errors() {
        let valid = "add, sort, reverse, countdown, guess, frozenlake, calc, or rg:NAME, py:FILE.py, cmd:PROGRAM"
        let expected = [
            "add:digits=abc": "--task: add: digits must be an integer in 1...20, got 'abc'",
            "add:digits=0": "--task: add: digits must be an integer in 1...20, got '0'",
            "add:digits=99": "--task: add: digits must be an integer in 1...20, got '99'",
            "add:digits=": "--task: add: digits must be an integer in 1...20, got ''",
            "foo": "--task: unknown task 'foo' (valid: \(valid))",
            "Add": "--task: unknown task 'Add' (valid: \(valid))",
            "": "--task: empty task name (valid: \(valid))",
            ":digits=2": "--task: empty task name (valid: \(valid))",
            "add:foo=1": "--task: add: unknown parameter 'foo' (valid: digits, format, lenient, style)",
            "calc:lenient=1": "--task: calc: unknown parameter 'lenient' (valid: digits, format, style, turns)",
            "add:digits": "--task: add: expected key=value, got 'digits' (e.g. add:digits=2)",
            "add:": "--task: add: expected key=value, got '' (e.g. add:digits=2)",
            "add:digits=2,digits=3": "--task: add: parameter 'digits' given twice",
            "add:format=2": "--task: add: format must be a number in 0...1, got '2'",
            "add:format=nan": "--task: add: format must be a number in 0...1, got 'nan'",
            "add:lenient=maybe": "--task: add: lenient must be true or false, got 'maybe'",
            "calc:style=poem": "--task: calc: style must be one of expr, word, got 'poem'",
            "countdown:count=5": "--task: countdown: count must be an integer in 3...4, got '5'",
            "guess:max=1000,turns=5":
                "--task: guess: turns=5 is below the 10 guesses binary search needs for max=1000; "
                + "use turns>=10 or a smaller max",
            "frozenlake:size=2": "--task: frozenlake: size must be an integer in 3...8, got '2'",
        ]
        for (spec, text) in expected {
            let got = message(spec)
            #expect(got == text, "\(spec)")
            #expect(!got.contains("\n"))
        }
    }

    @Test("canonical specs: sorted keys, defaults filled in, values normalised")
    func canonical() throws {
        #expect(try TaskRegistry.make("add").spec == "add:digits=2,format=0,lenient=false,style=expr")
        #expect(try TaskRegistry.make("add:digits=3").spec == "add:digits=3,format=0,lenient=false,style=expr")
        #expect(
            try TaskRegistry.canonicalSpec(" add : lenient=1 , digits=02 ,format=0.10")
                == "add:digits=2,format=0.1,lenient=true,style=expr")
        #expect(
            try TaskRegistry.canonicalSpec("frozenlake:slippery=yes")
                == "frozenlake:format=0,lenient=false,size=4,slippery=true,turns=10")
        #expect(try TaskRegistry.canonicalSpec("calc") == "calc:digits=2,format=0,style=expr,turns=3")
        #expect(try TaskRegistry.canonicalSpec("guess:format=1.0") == "guess:format=1,lenient=false,max=100,turns=10")
        // Canonical specs parse back to themselves.
        for name in TaskRegistry.names {
            let spec = try TaskRegistry.canonicalSpec(name)
            #expect(try TaskRegistry.canonicalSpec(spec) == spec)
        }
    }

    @Test("task metadata")
    func metadata() throws {
        let add = try TaskRegistry.make("add:format=0.1")
        #expect(add.maxTurns == 1 && add.hasFormatReward && add.formatReward == 0.1)
        #expect(try !TaskRegistry.make("add").hasFormatReward)
        #expect(try TaskRegistry.make("guess:turns=12").maxTurns == 12)
        #expect(try TaskRegistry.make("calc").maxTurns == 3)
        for name in TaskRegistry.names {
            let t = try TaskRegistry.make(name)
            #expect(!t.rewardDescription.isEmpty && !t.rewardDescription.contains("\n"))
            #expect(t.maxNewTokensHint > 0)
            #expect(t.parameters["format"] == "0")
        }
        let table = TaskRegistry.parameterTable
        #expect(table.hasPrefix("| task | parameter | default | valid | meaning |"))
        let rows = table.split(separator: "\n").count - 2
        let declared = TaskRegistry.names.reduce(0) { $0 + (TaskRegistry.parameters(of: $1)?.count ?? 0) }
        #expect(rows == declared)
        #expect(table.contains("| add | digits | 2 | an integer in 1...20 | digits of each operand |"))
        #expect(TaskRegistry.parameters(of: "nope") == nil)
    }
}
