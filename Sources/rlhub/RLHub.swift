// rlhub — the entry point: the root command, its verbs in groups, and the mapping of errors to the
// exit codes of docs/cli.md (0 success · 1 a run or check failed · 2 bad input).
import RLAlgorithms
import ArgumentParser
import Experiments
import RLHubCore
import Store
import Foundation
import LM
import Tensor

/// `rlhub`: reinforcement learning for language models, with a reproducible baselines hub.
///
/// Every verb is a subcommand of the root (`rlhub runs`, not `rlhub store runs`: the verbs are
/// promised to users as they are); the groups only arrange `rlhub --help`. Verbs that wait on the
/// network (`pull`, `serve`, `push`) are `AsyncParsableCommand`s, the others run synchronously on
/// the main thread.
@main
struct RLHub: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rlhub",
        abstract: "Train language models with RL from verifiable rewards; store, compare and share the results.",
        version: RLHubVersion.string,
        subcommands: [
            // Processes rlhub starts itself (grid workers, the store bench's writers, the fuzz tests' reader).
            GridWorkerCommand.self, BenchStoreWriterCommand.self, CheckInputsCommand.self,
        ],
        groupedSubcommands: [
            CommandGroup(name: "Machine", subcommands: [DoctorCommand.self, BenchCommand.self]),
            CommandGroup(name: "Models", subcommands: [
                InitModelCommand.self, LogprobsCommand.self, TokenizeCommand.self, GenerateCommand.self,
                ExportCommand.self, EvalCommand.self, CompareCommand.self,
            ]),
            CommandGroup(name: "Training", subcommands: [TrainCommand.self, GridCommand.self, VerifyCommand.self]),
            CommandGroup(name: "Store", subcommands: [
                RunsCommand.self, ShowCommand.self, CurveCommand.self, ScoresCommand.self, SamplesCommand.self,
                CheckCommand.self, DiffCommand.self, CheckpointsCommand.self, TagCommand.self, ReleaseCommand.self,
            ]),
            CommandGroup(name: "Analysis", subcommands: [StatsCommand.self, ReportCommand.self]),
            CommandGroup(name: "Hub", subcommands: [
                PublishCommand.self, PullCommand.self, ServeCommand.self, PushCommand.self,
            ]),
        ])

    /// OpenBLAS's kernel family must be fixed before any work (see OpenBLASCore.swift): the process
    /// re-executes itself once when it has to; then the command line is parsed and run.
    static func main() async {
        OpenBLASCore.reexecIfNeeded()
        await runMain()
    }

    /// Parses and runs, printing errors on one line with the documented exit codes.
    static func runMain() async {
        do {
            // The synchronous parse (ArgumentParser ≥ 1.0) suffices: no option completes asynchronously.
            var command = try parseAsRoot()
            if var asyncCommand = command as? AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch let error as InputError {
            FileHandle.standardError.write(Data("rlhub: error: \(error)\n".utf8))
            Foundation.exit(2)
        } catch let error as ConfigError {
            FileHandle.standardError.write(Data("rlhub: error: \(error)\n".utf8))
            Foundation.exit(2)
        } catch let error as RunFailure {
            FileHandle.standardError.write(Data("rlhub: \(error.message)\n".utf8))
            Foundation.exit(1)
        } catch let error as RunFailureText {
            FileHandle.standardError.write(Data("rlhub: \(error.message)\n".utf8))
            Foundation.exit(1)
        } catch let error as StoreWriteFailure {
            FileHandle.standardError.write(Data("rlhub: error: \(error)\n".utf8))
            Foundation.exit(1)
        } catch {
            let code = exitCode(for: error)
            if code == .success || error is ExitCode || error is CleanExit {
                exit(withError: error)
            }
            // Argument errors (ArgumentParser uses 64): one message, exit status 2.
            FileHandle.standardError.write(Data("rlhub: error: \(oneLine(self.message(for: error))) (see rlhub --help)\n".utf8))
            Foundation.exit(2)
        }
    }

    /// ArgumentParser's message on one line: its bulleted lists of valid values (`  - grpo`) as a
    /// comma-separated list.
    static func oneLine(_ message: String) -> String {
        var out = ""
        var listing = false
        for line in message.split(separator: "\n").map({ $0.trimmingCharacters(in: .whitespaces) }) where !line.isEmpty {
            if line.hasPrefix("- ") {
                out += (listing ? ", " : " ") + line.dropFirst(2)
                listing = true
            } else {
                out += (out.isEmpty ? "" : " ") + line
                listing = false
            }
        }
        return out
    }
}

/// A run or check that failed (exit status 1), as opposed to bad input (2). (Library code throws
/// `Experiments.RunFailureText` for the same meaning.)
struct RunFailure: Error {
    var message: String
}
