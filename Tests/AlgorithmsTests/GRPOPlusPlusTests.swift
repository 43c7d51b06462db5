// DAPO tricks: soft overlong punishment, overlong filtering and dynamic sampling (algorithms.md
// §7, §13.10, §14 items 12, 13).
import RLAlgorithms
import Foundation
import Testing

@Suite("GRPO++")
struct GRPOPlusPlusTests {
    // §13.10 soft overlong table and L_cache = 0.
    @Test func softOverlongPunishment() {
        let dapo = [16000, 16384, 18432, 20480, 20481].map { OverlongShaping.softPenalty(length: $0, maxLength: 20480, buffer: 4096) }
        #expect(dapo == [0, 0, -0.5, -1, -1])
        let small = [80, 90, 100].map { OverlongShaping.softPenalty(length: $0, maxLength: 100, buffer: 20) }
        #expect(small == [0, -0.5, -1])
        let step = [99, 100, 101].map { OverlongShaping.softPenalty(length: $0, maxLength: 100, buffer: 0) }
        #expect(step == [0, 0, -1])
        #expect(OverlongShaping.softPenalty(length: 0, maxLength: 100, buffer: 20) == 0)
        // Shaped rewards use the longest turn's length (EOS included).
        #expect(OverlongShaping.shapedRewards(rewards: [1, -1], turnLengths: [90, 50], maxLength: 100, buffer: 20, factor: 1) == [0.5, -1])
    }

    // Overlong filtering zeroes the mask of truncated rows; they stay in the group statistics.
    @Test func overlongFilter() {
        let batch = Fixture.batch()
        let mask = OverlongShaping.filteredMask(batch: batch, truncated: [false, true, false, false])
        #expect(mask[5..<10].allSatisfy { $0 == 0 } && mask[0] == 1)
        let filtered = batch.replacingMask(mask)
        #expect(filtered.tokenCount == 9 && filtered.nonEmptyRowCount == 3)
    }

    // §7.1 / §14.13: keep informative groups, exact truncation, error after max rounds.
    @Test func dynamicSampling() throws {
        #expect(DynamicSampling.keepGroup([1, 0, 0]) && !DynamicSampling.keepGroup([1, 1, 1]) && DynamicSampling.keepGroup([1]))
        struct Group: Sendable, Equatable { var id: Int; var rewards: [Double] }
        var buffer = DynamicSampling.Buffer<Group>(targetGroups: 3, maxRounds: 3)
        let round1 = [Group(id: 1, rewards: [1, 1]), Group(id: 2, rewards: [0, 1]), Group(id: 3, rewards: [0, 0])]
        #expect(try buffer.add(round1, values: \.rewards) == nil)
        let round2 = [Group(id: 4, rewards: [1, 0]), Group(id: 5, rewards: [1, 1]), Group(id: 6, rewards: [0.5, 0]),
                      Group(id: 7, rewards: [1, 0])]
        let batch = try buffer.add(round2, values: \.rewards)
        #expect(batch?.map(\.id) == [2, 4, 6])  // exactly target groups, in order
        #expect(buffer.metrics["dynamic_sampling/rounds"] == 2)
        #expect(buffer.metrics["dynamic_sampling/dropped_groups"] == 3)  // ids 1, 3 and 5

        var hard = DynamicSampling.Buffer<Group>(targetGroups: 2, maxRounds: 2)
        #expect(try hard.add([Group(id: 1, rewards: [0, 0])], values: \.rewards) == nil)
        do {
            _ = try hard.add([Group(id: 2, rewards: [0, 0])], values: \.rewards)
            Issue.record("expected DynamicSamplingError")
        } catch {
            #expect(error.rounds == 2 && error.kept == 0)
            #expect(error.description.contains("max_resample_rounds"))
        }
        var unlimited = DynamicSampling.Buffer<Group>(targetGroups: 1, maxRounds: 0)
        for _ in 0..<20 { #expect(try unlimited.add([Group(id: 0, rewards: [1, 1])], values: \.rewards) == nil) }
    }
}
