// rlhub grid — run a declared grid of algorithms × tasks × seeds into the store (`grid run`,
// the default), here or as a Slurm array; `grid status`, `grid collect` and `grid cancel` follow it.
import ArgumentParser
import Experiments
import Foundation
import LM
import RLHubCore
import Store
import Tensor

struct GridCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "grid", abstract: "Run a declared grid (experiments/NAME.yaml) into the store; resumable.",
        discussion: """
            Example: rlhub grid experiments/baseline.yaml --jobs 2
            Cells already finished in the store (same config hash, same source hash: rlhub doctor) are skipped; interrupted
            or failed cells resume from their last checkpoint. Ctrl-C stops the workers; run the same
            command again to continue. Logs: STORE/logs/RUN.log.
            On a cluster: rlhub grid SPEC --executor slurm --wait  (one sbatch array, one task per cell;
            logs in STORE/slurm/logs/JOB_INDEX.log; results come home as run bundles).
            """,
        subcommands: [Run.self, Status.self, Collect.self, Cancel.self],
        defaultSubcommand: Run.self)
}
