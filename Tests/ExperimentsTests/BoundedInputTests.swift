// Inputs bounded before they are parsed or sized: YAML nesting and size, training settings.
import Foundation
import LM
import RLHubCore
import Testing
import Experiments
import Trainer
import RLAlgorithms

@Suite struct BoundedInputTests {
    func refusal(_ text: String) -> String {
        do { _ = try ExperimentSpec.parse(text, path: "deep.yaml"); return "accepted" } catch { return "\(error)" }
    }

    @Test func deepYAMLIsRefusedBeforeYamsBuildsIt() {
        // 100,000 levels: Yams' recursive composer would overflow the stack long before.
        let flow = "name: x\ndescription: " + String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000)
        #expect(refusal(flow) == "deep.yaml: line 2, column \(13 + BoundedYAML.maxDepth): nested deeper than 64 levels of mappings and lists")
        let block = (0..<200).map { String(repeating: " ", count: $0) + "k\($0):" }.joined(separator: "\n") + " x"
        #expect(refusal(block).hasPrefix("deep.yaml: line 65, column 65: nested deeper than 64 levels"))
        // 64 levels is still YAML the spec reader judges (and refuses for its own reason).
        let fine = "name: x\ndescription: " + String(repeating: "[", count: 63) + String(repeating: "]", count: 63)
        #expect(!refusal(fine).contains("nested deeper"))
    }

    @Test func largeYAMLIsRefused() throws {
        let text = "name: x\ndescription: " + String(repeating: "a", count: BoundedYAML.maxBytes)
        #expect(refusal(text).hasSuffix("YAML is limited to 1048576 bytes (1 MiB)"))
        let path = NSTemporaryDirectory() + "rlhub-big-\(getpid()).yaml"
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        defer { unlink(path) }
        #expect(throws: InputError(file: path, message: "larger than 1048576 bytes, the limit for this file")) { try ExperimentSpec.load(path) }
    }

    @Test func trainingSizesHaveUpperBounds() throws {
        func refusal(_ assignment: String) -> String {
            var config = TrainConfig(algo: "grpo", algorithm: AlgorithmPreset.grpo.config, task: "add:digits=1", model: "preset:tiny")
            do { try config.set(assignment); try config.validate(); return "accepted" } catch { return "\(error)" }
        }
        #expect(refusal("group_size=4611686018427387904") == "group_size: must be ≤ 1024, got 4611686018427387904")
        #expect(refusal("prompts_per_step=4611686018427387904") == "prompts_per_step: must be ≤ 4096, got 4611686018427387904")
        #expect(refusal("group_size=100000") == "group_size: must be ≤ 1024, got 100000")
        #expect(refusal("token_budget=100000000").hasSuffix("token_budget: must be ≤ 131072, got 100000000"))
        #expect(refusal("group_size=1024") == "accepted")
    }
}
