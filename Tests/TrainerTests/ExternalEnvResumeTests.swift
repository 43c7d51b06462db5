// A served environment keeps the trainer's guarantees: SFT on gold demonstrations that a Python
// environment gives over the protocol (multi-turn, tool observations) resumes bit for bit from a
// checkpoint taken in another trainer, as built-in tasks do.
import Foundation
import LM
import RLAlgorithms
import Tasks
import Testing
import Trainer

@Suite("External environment resume")
struct ExternalEnvResumeTests {
    @Test("SFT on a served multi-turn task: 2 steps + checkpoint + 2 steps equals 4 steps, bit for bit")
    func resumeIsBitExact() throws {
        let counting = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("envs/counting.py").path
        let config = try smallConfig(.sft, task: "py:\(counting):turns=2", steps: 4)
        #expect(config.task.contains("env.name=counting,env.protocol=1,env.version=1.0"))
        let checkpoint = FileManager.default.temporaryDirectory.appendingPathComponent("ext-resume-\(UUID())").path
        defer { try? FileManager.default.removeItem(atPath: checkpoint) }
        let straight = try tinyModel()
        let a = try RLTrainer(config: config, loaded: straight, sink: MemoryMetricSink())
        for _ in 0..<4 { try a.runStep() }
        let first = try RLTrainer(config: config, loaded: try tinyModel(), sink: MemoryMetricSink())
        for _ in 0..<2 { try first.runStep() }
        try first.saveCheckpoint(to: checkpoint)
        let resumed = try tinyModel()
        let second = try RLTrainer(config: config, loaded: resumed, sink: MemoryMetricSink())
        try second.resume(from: checkpoint)
        for _ in 0..<2 { try second.runStep() }
        #expect(straight.model.parameters.array != (try tinyModel()).model.parameters.array, "SFT moved nothing")
        #expect(bitEqual(resumed.model.parameters.array, straight.model.parameters.array), "final weights differ after resume")
    }
}
