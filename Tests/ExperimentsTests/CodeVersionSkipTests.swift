// A commit that changes only docs or tests leaves the source hash as it was, so a grid finds every
// cell it finished before that commit finished (`make baseline` trains nothing); a change to the
// compiled sources makes every cell new. Cells are looked up both ways a grid does: the plan
// (GridPlan.make) and the claim a worker is started from (RunStore.claimCell).
import Foundation
import LM
import RLHubCore
import Store
import Testing
import Experiments

@Suite struct CodeVersionSkipTests {
    static let sourceHash = String(repeating: "5", count: 64)
    /// The commit the cells ran at, a later docs-only commit, and a commit that changed Sources/.
    static let ran = CodeVersion(commit: String(repeating: "a", count: 40), dirty: false, diffHash: "", sourceHash: sourceHash)
    static let docsOnly = CodeVersion(commit: String(repeating: "b", count: 40), dirty: false, diffHash: "", sourceHash: sourceHash)
    static let sourcesChanged = CodeVersion(commit: String(repeating: "c", count: 40), dirty: false, diffHash: "",
                                            sourceHash: String(repeating: "6", count: 64))

    @Test func cellsFinishedBeforeADocsOnlyCommitStayFinished() throws {
        let spec = try ExperimentSpec.parse(smallSpec, path: "small.yaml")
        let dir = NSTemporaryDirectory() + "rlhub-docs-only-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let store = try RunStore(directory: dir)
        _ = try store.upsertExperiment(name: spec.name, specText: spec.text, specHash: GridExpansion.specHash(spec.text))
        let cells = try GridExpansion.cells(spec)
        func newRun(_ cell: GridCell, _ version: CodeVersion) -> NewRun {
            NewRun(experiment: spec.name, cell: cell.key, algo: cell.algorithm, task: cell.task, model: spec.model, seed: cell.seed,
                   configJSON: String(decoding: cell.config.canonicalJSON(), as: UTF8.self), configHash: cell.configHash,
                   groupHash: cell.groupHash, codeVersion: version, threads: 1)
        }
        var finished: [String] = []
        for cell in cells {
            let id = try store.createRun(newRun(cell, Self.ran))
            try store.markFinished(id)
            finished.append(id)
        }

        let afterDocs = try GridPlan.make(spec, store: store, codeVersion: Self.docsOnly)
        #expect(afterDocs.states == finished.map { CellState.finished(run: $0) })
        for (cell, id) in zip(cells, finished) {
            #expect(try store.claimCell(newRun(cell, Self.docsOnly)) == .finished(run: id))
        }

        let afterSources = try GridPlan.make(spec, store: store, codeVersion: Self.sourcesChanged)
        #expect(afterSources.states.allSatisfy { $0 == .new })
        guard case .claimed(let id) = try store.claimCell(newRun(cells[0], Self.sourcesChanged)) else {
            Issue.record("a cell of changed sources was not claimed as new")
            return
        }
        #expect(!finished.contains(id))
        #expect(try store.runs(configHash: cells[0].configHash).count == 2)
    }
}
