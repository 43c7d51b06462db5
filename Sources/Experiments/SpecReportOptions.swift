// rlhub — what a report takes from an experiment's spec: its description and the order of its
// algorithms and tasks. `rlhub report SPEC` reads the file; `rlhub report NAME` and the served
// `/reports/NAME` read the spec text stored with the experiment, so all three give the same report.
import Evaluation
import Foundation
import Store

extension ExperimentSpec {
    /// `options` with this spec's description and algorithm and task order.
    public func reportOptions(_ options: StoreReport.Options = StoreReport.Options()) -> StoreReport.Options {
        var options = options
        options.algorithmOrder = algorithms.map(\.name)
        options.taskOrder = tasks.map(\.name)
        options.description = description
        return options
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
