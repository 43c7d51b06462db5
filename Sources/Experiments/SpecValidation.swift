// rlhub — semantic checks of a spec: preset names, task specs and config keys, with positions.
import RLAlgorithms
import Foundation
import LM
import RLHubCore
import Tasks
import Trainer
import Yams

enum SpecValidation {
    /// Resolves every cell once (cheap: no model is loaded) so that a bad preset, task or key
    /// is reported before anything runs, at the line and column where it was written.
    static func check(_ spec: ExperimentSpec, reader: SpecReader, top: [String: Node]) throws {
        let presets = AlgorithmPreset.allCases.map(\.rawValue)
        let algorithmNodes = top["algorithms"]?.sequence.map(Array.init) ?? []
        for (i, a) in spec.algorithms.enumerated() where AlgorithmPreset(rawValue: a.preset) == nil {
            throw reader.error(i < algorithmNodes.count ? algorithmNodes[i] : nil,
                               "unknown algorithm preset '\(a.preset)'" + SpecReader.suggestion(a.preset, presets)
                                + " (valid: \(presets.joined(separator: ", ")))")
        }
        if let w = spec.warmup, AlgorithmPreset(rawValue: w.algo) == nil {
            throw reader.error(top["warmup"], "warmup: unknown algorithm preset '\(w.algo)'" + SpecReader.suggestion(w.algo, presets))
        }
        let taskNodes = top["tasks"]?.sequence.map(Array.init) ?? []
        for (i, t) in spec.tasks.enumerated() {
            do { _ = try TaskRegistry.canonicalSpec(t.spec) } catch {
                throw reader.error(i < taskNodes.count ? taskNodes[i] : nil, "task '\(t.spec)': \(error.message)")
            }
        }
        for task in spec.tasks {
            for algorithm in spec.algorithms {
                do { _ = try GridExpansion.resolve(spec, algorithm: algorithm, task: task, seed: spec.seeds[0], model: spec.model) } catch let e as AssignmentError {
                    throw InputError(file: spec.path, field: "line \(e.assignment.line), column \(e.assignment.column)",
                                     message: "\(e.assignment.key): \(e.error.message)")
                } catch let e as ConfigError {
                    throw InputError(file: spec.path, field: "algorithm '\(algorithm.name)' on task '\(task.name)'", message: e.description)
                }
            }
            if spec.warmup != nil {
                do { _ = try GridExpansion.resolveWarmup(spec, task: task, seed: spec.seeds[0]) } catch let e as AssignmentError {
                    throw InputError(file: spec.path, field: "line \(e.assignment.line), column \(e.assignment.column)",
                                     message: "\(e.assignment.key): \(e.error.message)")
                } catch let e as ConfigError {
                    throw InputError(file: spec.path, field: "warmup on task '\(task.name)'", message: e.description)
                }
            }
        }
    }
}

/// A `set:` entry the trainer config refused, with where it was written.
struct AssignmentError: Error {
    var assignment: ExperimentSpec.Assignment
    var error: ConfigError
}
