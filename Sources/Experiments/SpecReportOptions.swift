// rlhub — what a report takes from an experiment's spec: its description, the order of its
// algorithms and tasks, and the training metrics of its `report: {metrics}`. `rlhub report SPEC` reads the file; `rlhub report NAME` and the served
// `/reports/NAME` read the spec text stored with the experiment, so all three give the same report.
import Evaluation
import Foundation
import Store
import Tasks

extension ExperimentSpec {
    /// `options` with this spec's description, algorithm and task order and report metrics.
    public func reportOptions(_ options: StoreReport.Options = StoreReport.Options()) -> StoreReport.Options {
        var options = options
        options.algorithmOrder = algorithms.map(\.name)
        options.taskOrder = tasks.map(\.name)
        options.description = description
        options.heldOut = heldOutSets()
        options.metrics = reportMetrics
        return options
    }

    /// Each task's held-out set as its RL cells evaluate it: `eval_episodes` problems, indices
    /// `0..<eval_episodes` of the test split, and how many of them are distinct. External tasks
    /// (`rg:`, `py:`, `cmd:`) are left out: counting would start their environment.
    func heldOutSets() -> [StoreReport.HeldOutSet] {
        guard let cells = try? GridExpansion.cells(self) else { return [] }
        return tasks.compactMap { entry in
            guard let cell = cells.first(where: { $0.task == entry.name && !$0.isWarmup }),
                  !ExternalTask.handles(cell.config.task), let task = try? TaskRegistry.make(cell.config.task) else { return nil }
            let n = cell.config.evalEpisodes
            let distinct = Set((0..<n).map { task.problemKey(split: .test, index: $0) }).count
            return StoreReport.HeldOutSet(task: entry.name, problems: n, distinct: distinct)
        }
    }

    /// `options` completed from the spec stored with `experiment`; unchanged when the store has
    /// no spec text for it or the text no longer parses (a spec written for another rlhub).
    public static func reportOptions(store: RunStore, experiment: String,
                                     _ options: StoreReport.Options = StoreReport.Options()) -> StoreReport.Options {
        guard let text = try? store.experimentSpecText(experiment),
              let spec = try? ExperimentSpec.parse(text, path: "stored spec of \(experiment)"), spec.name == experiment
        else { return options }
        return spec.reportOptions(options)
    }
}
