// rlhub — the report's words and records: the summary a reader needs first (what was run, the
// starting point, the gain, anything to know), each reported run's provenance, and the data table
// of every stored score and compute figure.
import Foundation
import Store

extension StoreReport {
    /// The summary, sentence by sentence: the spec's description, what was run, the held-out
    /// sets, the starting point, the gain over the warm start, and notes on what was left out or
    /// mixed.
    static func summary(
        _ runs: ExperimentRuns, filter: RunFilter, options: Options, gains: [GainRow], gainSummary: [ReportInterval]
    ) -> String {
        var sentences: [String] = []
        if !options.description.isEmpty {
            let d = options.description.trimmingCharacters(in: .whitespacesAndNewlines)
            sentences.append(d.hasSuffix(".") ? d : d + ".")
        }
        let seeds = Set(runs.scored.map(\.seed)).count
        sentences.append(
            "\(count(runs.algorithms.count, "algorithm")) × \(count(runs.tasks.count, "task")) × "
                + "\(count(seeds, "seed")) (\(count(runs.scored.count, "finished run"))); the score of a run is its "
                + "held-out test accuracy at its final step, in [0, 1] (not normalised).")
        let heldOut = options.heldOut.filter { runs.tasks.contains($0.task) }
        if !heldOut.isEmpty {
            sentences.append("Held-out evaluation (greedy, the same problems for every run of a task): "
                + heldOut.map { "\($0.task) \($0.problems) problems (\($0.distinct) distinct)" }.joined(separator: ", ") + ".")
        }
        if let start = startingPointSentence(runs) { sentences.append(start) }
        if !gains.isEmpty { sentences.append(gainSentence(gains: gains, gainSummary: gainSummary)) }
        if runs.unscoredCount > 0 {
            sentences.append("\(count(runs.unscoredCount, "finished run")) without a test accuracy score left out.")
        }
        sentences += mixedConfigurationNotes(runs)
        if !filter.text.isEmpty { sentences.append("Runs selected by --where \(filter.text).") }
        return sentences.joined(separator: " ")
    }

    /// The warm-ups' mean test accuracy per shown task (the point every algorithm started from),
    /// nil when no warm-up was scored.
    static func startingPointSentence(_ runs: ExperimentRuns) -> String? {
        let startingPoints: [(task: String, mean: Double, runs: Int)] = runs.tasks.compactMap { task in
            let values = runs.warmups.filter { $0.task == task }.map(runs.final)
            return values.isEmpty ? nil : (task, Quantiles.mean(values), values.count)
        }
        guard !startingPoints.isEmpty else { return nil }
        return "Starting point (warm-up \(runs.warmups.first.map(\.algo) ?? "sft"), mean test accuracy): "
            + startingPoints.map { "\($0.task) \(fixed($0.mean)) (\(count($0.runs, "run")))" }.joined(separator: ", ") + "."
    }

    /// Each algorithm's mean gain over the warm start with its interval, and how many cells'
    /// gains are above 0.
    static func gainSentence(gains: [GainRow], gainSummary: [ReportInterval]) -> String {
        let above = gains.filter { $0.excludesZero && $0.gain > 0 }.count
        return "Gain over the warm start (final minus step-0 test accuracy of the same run, paired by seed; "
            + "mean over tasks with its 95% stratified bootstrap interval): "
            + gainSummary.map { "\($0.algorithm) \(signed($0.point)) [\(signed($0.low)), \(signed($0.high))]" }
                .joined(separator: ", ")
            + "; \(above) of \(count(gains.count, "algorithm × task gain")) have a 95% interval above 0."
    }

    /// A note for every cell whose runs carry more than one group hash (the spec changed between
    /// its runs).
    static func mixedConfigurationNotes(_ runs: ExperimentRuns) -> [String] {
        var notes: [String] = []
        for algorithm in runs.algorithms {
            for task in runs.tasks {
                let hashes = Set(runs.runs(algorithm, task).map(\.groupHash))
                if hashes.count > 1 {
                    notes.append("Note: \(algorithm) on \(task) mixes \(hashes.count) configurations (group hashes).")
                }
            }
        }
        return notes
    }

    /// The experiment, the store schema and the code versions the reported runs ran — never a
    /// time or a path.
    static func generatedFrom(experiment: String, reported: [RunRecord]) -> String {
        "experiment \(experiment) · store schema \(StoreSchema.version) · code "
            + ordered(reported.map(\.codeVersion), first: []).joined(separator: ", ")
    }

    /// How the intervals were computed, as the report states it.
    static func intervalMethod(_ options: Options) -> String {
        "95% stratified bootstrap confidence intervals, "
            + "\(grouped(options.bootstrapReps)) resamples (seed \(options.bootstrapSeed)); "
            + "learning-curve bands and final-score intervals: Student-t 95% over seeds, clipped to [0, 1]"
    }

    /// What each reported run cost, by run id.
    static func runCosts(store: RunStore, of reported: [RunRecord]) throws -> [String: RunCompute] {
        var costs: [String: RunCompute] = [:]
        for run in reported { costs[run.id] = try runCompute(store: store, run: run.id) }
        return costs
    }

    /// Each reported run: its cell, seed, status, steps, config and code, the releases holding
    /// it, and its compute.
    static func provenanceRows(_ reported: [RunRecord], releases: [ReleaseRecord], costs: [String: RunCompute]) -> [ProvenanceRow] {
        reported.map { run in
            ProvenanceRow(
                runID: run.id, algorithm: label(run), task: run.task, seed: run.seed, status: run.status.rawValue,
                steps: run.stepsDone, configHash: run.configHash, codeVersion: run.codeVersion,
                release: releases.filter { $0.runs.contains(run.id) }.map(\.name).joined(separator: " "),
                compute: costs[run.id] ?? RunCompute())
        }
    }

    /// Every stored score of every reported run, then its compute at its last step (left out
    /// where it was not recorded), then the run means of the report's training metrics
    /// (`run_mean/NAME`, where the run recorded the metric).
    static func dataTable(
        _ reported: [RunRecord], scores: [String: [ScoreRecord]], costs: [String: RunCompute],
        runMeans: [String: [(metric: String, value: Double)]] = [:]
    ) -> DataTable {
        var rows: [[DataValue]] = []
        for run in reported {
            for score in scores[run.id] ?? [] {
                rows.append([.text(label(run)), .text(run.task), .text(run.id), .integer(run.seed), .integer(score.step),
                             .text(score.split + "/" + score.metric), .number(score.value)])
            }
            let cost = costs[run.id] ?? RunCompute()
            for (name, value) in [("compute/cpu_s", cost.cpuSeconds), ("compute/tokens_generated", cost.tokensGenerated),
                                  ("compute/tokens_trained", cost.tokensTrained)] where value.isFinite {
                rows.append([.text(label(run)), .text(run.task), .text(run.id), .integer(run.seed), .integer(run.stepsDone),
                             .text(name), .number(value)])
            }
            for (metric, value) in runMeans[run.id] ?? [] {
                rows.append([.text(label(run)), .text(run.task), .text(run.id), .integer(run.seed), .integer(run.stepsDone),
                             .text(runMeanPrefix + metric), .number(value)])
            }
        }
        return DataTable(columns: ["algorithm", "task", "run", "seed", "step", "metric", "value"], rows: rows)
    }
}
