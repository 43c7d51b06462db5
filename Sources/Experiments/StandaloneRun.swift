// rlhub — a run started by `rlhub train` rather than by a grid: recorded in the store like a grid
// cell, under an experiment of its own.
import Foundation
import LM
import RLHubCore
import Store
import Trainer

/// The store's record of a `rlhub train` run. It has what a grid cell's run has — an experiment, a
/// cell key `ALGO/TASK/seedN` (so `rlhub check RUN --against RELEASE` finds the published cell
/// of the same algorithm, task and seed), the config with its hash and seed-free group hash, the
/// code version — so `runs`, `show`, `curve`, `samples`, `check`, `diff`, `verify`, `report` and
/// `run:ID` model references treat both alike.
public enum StandaloneRun {
    /// The experiment `rlhub train` records its runs under unless told another.
    public static let defaultExperiment = "train"

    /// The spec text stored with an experiment that `rlhub train` creates: no grid spec, so reports
    /// of it fall back to their defaults (``ExperimentSpec/reportOptions(store:experiment:_:)``).
    static let specText = "# runs recorded by `rlhub train`; each run's resolved config is stored with it\n"

    /// Refuses an experiment name a spec could not have (the rule of a spec's `name`).
    public static func checkExperimentName(_ experiment: String) throws(InputError) {
        guard !experiment.isEmpty, experiment.allSatisfy({ $0.isLetter || $0.isNumber || "-_.".contains($0) }) else {
            throw InputError(file: "--experiment", field: experiment, message: "use letters, digits, '-', '_' and '.'")
        }
    }

    /// Creates the run (state queued) and returns its id. The experiment is registered when the
    /// store lacks it; an existing one (a grid's, or earlier `train` runs') keeps its spec.
    public static func create(in store: RunStore, experiment: String, config: TrainConfig, threads: Int) throws -> String {
        try checkExperimentName(experiment)
        if try store.experimentSpecText(experiment) == nil {
            try store.upsertExperiment(name: experiment, specText: specText, specHash: GridExpansion.specHash(specText))
        }
        let seed = config.algorithm.seed
        return try store.createRun(NewRun(
            experiment: experiment, cell: "\(config.algo)/\(ExperimentSpec.taskLabel(config.task))/seed\(seed)",
            algo: config.algo, task: ExperimentSpec.taskLabel(config.task), model: config.model, seed: seed,
            configJSON: String(decoding: config.canonicalJSON(), as: UTF8.self), configHash: config.hash,
            groupHash: GridExpansion.groupHash(config, model: config.model), threads: threads))
    }
}
