// rlhub — the root command and the mapping of errors to exit codes.
import RLAlgorithms
import ArgumentParser
import Experiments
import RLHubCore
import Store
import Foundation
import LM
import Tensor

/// `rlhub`: reinforcement learning for language models, with a reproducible baselines hub.
struct RLHub: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rlhub",
        abstract: "Train language models with RL from verifiable rewards; store, compare and share the results.",
        version: RLHubVersion.string,
        subcommands: [
            DoctorCommand.self, BenchCommand.self, InitModelCommand.self, LogprobsCommand.self,
            TokenizeCommand.self, GenerateCommand.self, ExportCommand.self, EvalCommand.self, CompareCommand.self, TrainCommand.self,
            GridCommand.self, GridWorkerCommand.self, VerifyCommand.self, RunsCommand.self, ShowCommand.self,
            CurveCommand.self, ScoresCommand.self, SamplesCommand.self, CheckCommand.self, DiffCommand.self, CheckpointsCommand.self, TagCommand.self, ReleaseCommand.self, BenchStoreWriterCommand.self,
            StatsCommand.self, ReportCommand.self, PublishCommand.self, PullCommand.self,
            ServeCommand.self, PushCommand.self, CheckInputsCommand.self,
        ])

    /// Parses and runs, printing errors on one line with the documented exit codes.
    static func runMain() {
        do {
            var command = try parseAsRoot()
            try command.run()
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
            let message = self.message(for: error).trimmingCharacters(in: .whitespacesAndNewlines)
                .replacingOccurrences(of: "\n", with: " ")
            FileHandle.standardError.write(Data("rlhub: error: \(message) (see rlhub --help)\n".utf8))
            Foundation.exit(2)
        }
    }
}

/// A run or check that failed (exit status 1), as opposed to bad input (2). (Library code throws
/// `Experiments.RunFailureText` for the same meaning.)
struct RunFailure: Error {
    var message: String
}

/// Options every compute verb takes.
struct ComputeOptions: ParsableArguments {
    @Option(help: "Threads for rlhub's kernels and OpenBLAS (default: RLHUB_THREADS or all cores).")
    var threads: Int?

    /// Applies the thread count; returns it.
    @discardableResult
    func apply() throws(InputError) -> Int {
        var n = ProcessInfo.processInfo.activeProcessorCount
        if let env = ProcessInfo.processInfo.environment["RLHUB_THREADS"] {
            guard let v = Int(env), v > 0 else {
                throw InputError(file: "RLHUB_THREADS", message: "must be a positive integer, got '\(env)'")
            }
            n = v
        }
        if let threads {
            guard threads > 0 else { throw InputError(file: "--threads", message: "must be positive, got \(threads)") }
            n = threads
        }
        ComputeThreads.set(n)
        return n
    }
}

enum OutputFormat: String, ExpressibleByArgument, CaseIterable {
    case table, json
}

/// Prints `value` as indented JSON (non-finite numbers as `null`).
func printJSON<T: Encodable>(_ value: T) throws {
    let data = try OutputJSON.encode(value, pretty: true)
    FileHandle.standardOutput.write(data)
    FileHandle.standardOutput.write(Data("\n".utf8))
}
