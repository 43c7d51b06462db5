// Run configurations of the end-to-end tests, built one way.
import RLAlgorithms
import Tasks
import Trainer

/// `preset` on `task` from `model` for `steps` steps, evaluated (on `evalEpisodes` held-out
/// problems) only when the test asks, episodes of at most `tokenBudget` tokens; `settings`
/// (`key=value`) applied in order.
func runConfig(
    _ preset: AlgorithmPreset, task: String, model: String, steps: Int, evalEpisodes: Int, tokenBudget: Int,
    _ settings: [String]
) throws -> TrainConfig {
    var c = TrainConfig(algo: preset.rawValue, algorithm: preset.config, task: try TaskRegistry.canonicalSpec(task), model: model)
    c.steps = steps
    c.evalEvery = 0
    c.evalEpisodes = evalEpisodes
    c.tokenBudget = tokenBudget
    for s in settings { try c.set(s) }
    return c
}
