// rlhub train — DIR/run.json: which store holds a run folder's run, so that --resume continues it.
import Foundation
import LM
import RLHubCore
import Store

/// `DIR/run.json` of a `rlhub train` run folder: which store holds the run, under which id, so that
/// `--resume` continues that run.
struct RecordedRun: Codable {
    var run: String
    var store: String

    static func path(_ runDir: String) -> String { runDir + "/run.json" }

    /// The folder's record; nil for a folder without one (made before rlhub recorded train runs).
    static func read(runDir: String) throws -> RecordedRun? {
        let path = Self.path(runDir)
        guard FileManager.default.fileExists(atPath: path) else { return nil }
        do { return try JSONDecoder().decode(RecordedRun.self, from: try BoundedFile.read(path, limit: 1 << 16)) } catch let error as InputError {
            throw error
        } catch {
            throw InputError(file: path, message: "not a run record: \(oneLineReason(error))")
        }
    }

    func write(runDir: String) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        let absolute = RecordedRun(run: run, store: URL(fileURLWithPath: store).standardizedFileURL.path)
        try encoder.encode(absolute).write(to: URL(fileURLWithPath: Self.path(runDir)), options: .atomic)
    }

    /// The store that holds the run; `--store` may name it again, not another.
    func openStore(flag: String?, runDir: String) throws -> RunStore {
        if let flag, URL(fileURLWithPath: flag).standardizedFileURL.path != store {
            throw InputError(file: "--store", field: flag, message: "the run to resume is recorded in \(store) (run.json); pass that store or none")
        }
        guard FileManager.default.fileExists(atPath: store + "/store.sqlite") else {
            throw InputError(file: Self.path(runDir), field: "store", message: "\(store) holds no store; the run \(run) cannot be resumed there")
        }
        return try RunStore(directory: store)
    }
}
