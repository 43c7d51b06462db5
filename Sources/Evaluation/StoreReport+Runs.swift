// rlhub — what a report reads from the store: an experiment's finished runs, each run's scores
// read once, and the runs the report compares (selected, not warm-ups, with a held-out score).
import Foundation
import RLHubCore
import Store

extension StoreReport {
    /// The runs of one report and their scores; every later stage is a pure function of these.
    struct ExperimentRuns {
        /// The compared runs: selected by the filter, not warm-ups, with a held-out score; in
        /// creation order.
        var scored: [RunRecord]
        /// Selected compared runs left out because they have no held-out score.
        var unscoredCount: Int
        /// Warm-up runs of the shown tasks that have a held-out score (the filter aside).
        var warmups: [RunRecord]
        /// Algorithm labels in report order (the options' order first, then first appearance).
        var algorithms: [String]
        /// Tasks in report order, likewise.
        var tasks: [String]
        /// Every stored score of every run read, by run id.
        var scores: [String: [ScoreRecord]]

        /// The run's held-out accuracy at each evaluated step, in step order.
        func curve(_ run: RunRecord) -> [(step: Int, value: Double)] {
            (scores[run.id] ?? []).filter { $0.split == scoreSplit && $0.metric == scoreMetric }
                .map { ($0.step, $0.value) }
        }

        /// The run's score: its held-out accuracy at its last evaluated step.
        func final(_ run: RunRecord) -> Double { curve(run).max { $0.step < $1.step }?.value ?? .nan }

        /// The run's held-out accuracy at step 0 (the warm start it began from), if evaluated.
        func start(_ run: RunRecord) -> Double? { curve(run).first { $0.step == 0 }?.value }

        /// The compared runs of one (algorithm, task) cell.
        func runs(_ algorithm: String, _ task: String) -> [RunRecord] {
            scored.filter { $0.algo == algorithm && $0.task == task }
        }

        /// The final scores of one cell's runs (its seeds).
        func finalScores(_ algorithm: String, _ task: String) -> [Double] { runs(algorithm, task).map(final) }

        /// The paired gains (final − start) of one cell's runs that were scored at step 0.
        func gains(_ algorithm: String, _ task: String) -> [Double] {
            runs(algorithm, task).compactMap { run in start(run).map { final(run) - $0 } }
        }

        /// Warm-up runs first (they ran first), then the compared runs: the runs the report's
        /// provenance and data list.
        var reported: [RunRecord] { warmups + scored }
    }

    /// Reads the finished runs of `experiment` and their scores.
    ///
    /// - Throws: ``InputError`` naming the experiment when no finished run matches `filter`, or
    ///   when none of them has a held-out accuracy score.
    static func loadRuns(store: RunStore, experiment: String, filter: RunFilter, options: Options) throws -> ExperimentRuns {
        let finished = try store.finishedRuns(experiment: experiment)
        let selected = try store.finishedRuns(experiment: experiment, matching: filter)
        let compared = selected.filter { !isWarmup($0) }
        guard !compared.isEmpty else {
            let what = filter.text.isEmpty ? "" : " matching '\(filter.text)'"
            throw InputError(
                file: "experiment", field: experiment,
                message: "no finished run\(what) in the store (warm-up runs are not compared); see `rlhub runs`")
        }
        var scores: [String: [ScoreRecord]] = [:]
        for run in finished + selected where scores[run.id] == nil { scores[run.id] = try store.scores(run: run.id) }
        var runs = ExperimentRuns(scored: [], unscoredCount: 0, warmups: [], algorithms: [], tasks: [], scores: scores)
        runs.scored = compared.filter { !runs.curve($0).isEmpty }
        guard !runs.scored.isEmpty else {
            throw InputError(
                file: "experiment", field: experiment,
                message: "no finished run has a '\(scoreSplit)' '\(scoreMetric)' score to report")
        }
        runs.unscoredCount = compared.count - runs.scored.count
        runs.algorithms = ordered(runs.scored.map(\.algo), first: options.algorithmOrder)
        runs.tasks = ordered(runs.scored.map(\.task), first: options.taskOrder)
        runs.warmups = finished.filter { isWarmup($0) && runs.tasks.contains($0.task) && !runs.curve($0).isEmpty }
        return runs
    }
}
