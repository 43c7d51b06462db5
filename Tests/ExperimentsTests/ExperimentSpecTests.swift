import Foundation
import LM
import RLHubCore
import TestSupport
import Testing
import Experiments

let smallSpec = """
    name: small
    description: two algorithms on add
    model: preset:tiny
    warmup:
      algo: sft
      steps: 3
      set: {lr: 2e-3, prompts_per_step: 4}
    set: {max_new_tokens: 4, token_budget: 64, micro_batch_tokens: 512}
    steps: 2
    evaluation: {every: 1, episodes: 4, k: 2}
    checkpoints: {every: 1}
    algorithms:
      - grpo
      - {name: dapo-buffer, preset: dapo, set: {overlong_buffer: 2}}
    tasks:
      - add:digits=1
    seeds: [0, 1]
    """

@Suite struct ExperimentSpecTests {
    @Test func parsesAndExpandsWithWarmups() throws {
        let spec = try ExperimentSpec.parse(smallSpec, path: "small.yaml")
        #expect(spec.algorithms.map(\.name) == ["grpo", "dapo-buffer"])
        let cells = try GridExpansion.cells(spec)
        #expect(cells.map(\.key) == ["warmup/add/seed0", "warmup/add/seed1", "grpo/add/seed0", "grpo/add/seed1",
                                     "dapo-buffer/add/seed0", "dapo-buffer/add/seed1"])
        let warm0 = cells[0], grpo0 = cells[2], grpo1 = cells[3]
        #expect(grpo0.dependsOn == warm0.configHash)
        #expect(grpo0.config.model == "cell:" + warm0.configHash)
        #expect(grpo0.groupHash == grpo1.groupHash)  // differ by seed only
        #expect(grpo0.configHash != grpo1.configHash)
        #expect(cells[0].groupHash == cells[1].groupHash)
        #expect(grpo0.groupHash != cells[4].groupHash)
        #expect(grpo0.config.algorithm.maxNewTokens == 4 && grpo0.config.steps == 2 && grpo0.config.evalEpisodes == 4 && grpo0.config.evalK == 2)
        #expect(warm0.config.steps == 3 && warm0.config.algo == "sft" && warm0.config.evalEvery == 0)
    }

    @Test func hashesAreStableAcrossKeyOrderAndReparsing() throws {
        let reordered = """
            seeds: [0, 1]
            tasks: [add:digits=1]
            algorithms: [{set: {overlong_buffer: 2}, preset: dapo, name: dapo-buffer}, grpo]
            checkpoints: {every: 1}
            evaluation: {k: 2, episodes: 4, every: 1}
            steps: 2
            set: {micro_batch_tokens: 512, token_budget: 64, max_new_tokens: 4}
            warmup: {set: {prompts_per_step: 4, lr: 0.002}, steps: 3, algo: sft}
            model: preset:tiny
            name: small
            """
        let a = try GridExpansion.cells(ExperimentSpec.parse(smallSpec, path: "a.yaml"))
        let b = try GridExpansion.cells(ExperimentSpec.parse(reordered, path: "b.yaml"))
        #expect(Set(a.map(\.configHash)) == Set(b.map(\.configHash)))
        #expect(Set(a.map(\.groupHash)) == Set(b.map(\.groupHash)))
        let again = try GridExpansion.cells(ExperimentSpec.parse(smallSpec, path: "a.yaml"))
        #expect(a == again)
    }

    /// A task may give its own steps and warm-up (steps, then `set` after the warm-up's own);
    /// the other tasks keep the spec's, and their cells hash as before.
    @Test func aTaskMayGiveItsOwnStepsAndWarmup() throws {
        let perTask = smallSpec.replacingOccurrences(
            of: "  - add:digits=1\n",
            with: "  - add:digits=1\n  - {name: lake, task: \"frozenlake:size=3\", steps: 5, warmup: {steps: 7, set: {lr: 1e-3}}}\n")
        let cells = try GridExpansion.cells(try ExperimentSpec.parse(perTask, path: "per-task.yaml"))
        let plain = try GridExpansion.cells(try ExperimentSpec.parse(smallSpec, path: "small.yaml"))
        func cell(_ key: String) throws -> GridCell { try #require(cells.first { $0.key == key }) }
        #expect(try cell("warmup/lake/seed0").config.steps == 7 && cell("warmup/lake/seed0").config.algorithm.lr == 1e-3)
        #expect(try cell("grpo/lake/seed1").config.steps == 5 && cell("grpo/lake/seed1").config.algorithm.lr != 1e-3)
        #expect(try cell("warmup/add/seed0").config.steps == 3 && cell("grpo/add/seed0").config.steps == 2)
        for c in plain { #expect(try cell(c.key).configHash == c.configHash) }
        #expect(failure(perTask.replacingOccurrences(of: "steps: 7", with: "stepz: 7")).contains("unknown key 'stepz'"))
        #expect(failure(perTask.replacingOccurrences(of: "lr: 1e-3}}}", with: "lr: fast}}}")).contains("lr:"))
        let noWarmup = perTask.replacingOccurrences(of: "warmup:\n  algo: sft\n  steps: 3\n  set: {lr: 2e-3, prompts_per_step: 4}\n", with: "")
        #expect(failure(noWarmup).contains("needs the spec's 'warmup'"))
    }

    /// `warmup: {seed: S}` trains one warm-up per task (with seed S) that every seed's cells start
    /// from; the cells still differ by seed, and share one group hash per algorithm.
    @Test func aSeededWarmupIsSharedByEverySeed() throws {
        let shared = smallSpec.replacingOccurrences(of: "  steps: 3\n", with: "  steps: 3\n  seed: 5\n")
        let cells = try GridExpansion.cells(try ExperimentSpec.parse(shared, path: "shared.yaml"))
        #expect(cells.map(\.key) == ["warmup/add/seed5", "grpo/add/seed0", "grpo/add/seed1", "dapo-buffer/add/seed0", "dapo-buffer/add/seed1"])
        let warm = cells[0]
        #expect(warm.config.algorithm.seed == 5)
        #expect(cells.dropFirst().allSatisfy { $0.dependsOn == warm.configHash && $0.config.model == "cell:" + warm.configHash })
        #expect(cells[1].configHash != cells[2].configHash && cells[1].groupHash == cells[2].groupHash)
        #expect(failure(shared.replacingOccurrences(of: "seed: 5", with: "seed: -1")).contains("expected an integer ≥ 0"))
    }

    func failure(_ text: String) -> String {
        do { _ = try ExperimentSpec.parse(text, path: "bad.yaml"); return "no error" } catch { return "\(error)" }
    }

    @Test func validationErrorsPointAtTheLineAndSuggest() {
        #expect(failure(smallSpec.replacingOccurrences(of: "algorithms:", with: "algoritms:"))
            .contains("line 12, column 1: spec: unknown key 'algoritms' (did you mean 'algorithms'?)"))
        #expect(failure(smallSpec.replacingOccurrences(of: "  - grpo", with: "  - grop")).contains("unknown algorithm preset 'grop' (did you mean 'grpo'?)"))
        #expect(failure(smallSpec.replacingOccurrences(of: "add:digits=1", with: "add:digit=1")).contains("bad.yaml: line 16, column 5: task 'add:digit=1'"))
        #expect(failure(smallSpec.replacingOccurrences(of: "overlong_buffer: 2", with: "overlong_bufer: 2")).contains("line 14, column 45: overlong_bufer"))
        #expect(failure(smallSpec.replacingOccurrences(of: "lr: 2e-3", with: "lr: fast")).contains("line 7, column 9: lr:"))
        #expect(failure(smallSpec.replacingOccurrences(of: "seeds: [0, 1]", with: "seeds: [0, 0]")).contains("seeds: '0' appears twice"))
        #expect(failure(smallSpec.replacingOccurrences(of: "steps: 2\n", with: "steps: -2\n")).contains("expected an integer ≥ 1"))
        #expect(failure("name: x\nalgorithms: [grpo]\n").contains("missing key 'tasks'"))
        #expect(failure("name: [x").contains("not valid YAML"))
        #expect(failure("").contains("bad.yaml"))
        #expect(failure(smallSpec.replacingOccurrences(of: "max_new_tokens: 4", with: "steps: 4")).contains("set it with the spec's steps"))
    }

    /// `report: {metrics: [...]}` names the training metrics of the report, in order, and
    /// changes no cell; a wrong shape or key is an InputError at its line and column.
    @Test func reportMetricsAreReadAndChecked() throws {
        let withReport = smallSpec + "\nreport:\n  metrics: [entropy, mismatch/k3, response_length/mean]\n"
        let spec = try ExperimentSpec.parse(withReport, path: "r.yaml")
        #expect(spec.reportMetrics == ["entropy", "mismatch/k3", "response_length/mean"])
        #expect(spec.reportOptions().metrics == spec.reportMetrics)
        let plain = try ExperimentSpec.parse(smallSpec, path: "r.yaml")
        #expect(plain.reportMetrics.isEmpty && plain.reportOptions().metrics.isEmpty)
        #expect(try GridExpansion.cells(spec).map(\.configHash) == GridExpansion.cells(plain).map(\.configHash))
        #expect(try ExperimentSpec.parse(smallSpec + "\nreport: {}\n", path: "r.yaml").reportMetrics.isEmpty)

        func report(_ line: String) -> String { failure(smallSpec + "\n" + line + "\n") }
        #expect(report("report: {metrics: entropy}") == "bad.yaml: line 18, column 19: report: metrics: expected a list")
        #expect(report("report: [entropy]") == "bad.yaml: line 18, column 9: report: expected a mapping of keys")
        #expect(report("report: {metric: [entropy]}").hasPrefix(
            "bad.yaml: line 18, column 10: report: unknown key 'metric' (did you mean 'metrics'?)"))
        #expect(report("report: {metrics: [entropy, [a, b]]}").hasPrefix("bad.yaml: line 18, column 29: report: metrics: expected a metric name"))
        #expect(report("report: {metrics: [entropy, entropy]}") == "bad.yaml: line 18, column 29: report: metrics: 'entropy' appears twice")
        #expect(report("report: {metrics: [entropy, '']}") == "bad.yaml: line 18, column 29: report: metrics: a metric name is empty")
        #expect(report("reports: {metrics: [entropy]}").contains("line 18, column 1: spec: unknown key 'reports' (did you mean 'report'?)"))
        #expect(throws: InputError.self) { try ExperimentSpec.parse(smallSpec + "\nreport: {metrics: 3}\n", path: "bad.yaml") }
    }

    @Test func editDistance() {
        #expect(SpecReader.editDistance("kitten", "sitting") == 3)
        #expect(SpecReader.editDistance("", "abc") == 3)
        #expect(SpecReader.editDistance("abc", "") == 3)
        #expect(SpecReader.editDistance("grpo", "grpo") == 0)
    }
}

/// Seeded mutations of a valid spec (bytes flipped, inserted, deleted, lines swapped): parsing
/// either succeeds or throws a one-line InputError naming the file — never crashes or hangs.
@Suite struct SpecFuzzTests {
    @Test func mutatedSpecsNeverCrash() {
        var rng = SplitMix64(state: 7)
        let alphabet = Array(":{}[],-'\"#\n\t 0123456789abcxyz=.&*!|>%@`\u{0}é")
        var refused = 0, accepted = 0
        for _ in 0..<400 {
            var chars = Array(smallSpec)
            for _ in 0..<(1 + rng.below(4)) {
                let at = rng.below(chars.count)
                switch rng.below(4) {
                case 0: chars[at] = alphabet[rng.below(alphabet.count)]
                case 1: chars.insert(alphabet[rng.below(alphabet.count)], at: at)
                case 2: chars.remove(at: at)
                default:
                    var lines = String(chars).split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
                    let a = rng.below(lines.count), b = rng.below(lines.count)
                    lines.swapAt(a, b)
                    chars = Array(lines.joined(separator: "\n"))
                }
            }
            do {
                _ = try ExperimentSpec.parse(String(chars), path: "fuzz.yaml")
                accepted += 1
            } catch let e as InputError {
                refused += 1
                #expect(e.file == "fuzz.yaml")
                #expect(!e.description.contains("\n"))
            } catch {
                Issue.record("not an InputError: \(error)")
            }
        }
        #expect(refused > 100 && accepted > 10, "refused \(refused), accepted \(accepted)")
    }
}
