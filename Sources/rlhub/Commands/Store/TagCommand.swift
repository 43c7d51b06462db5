// rlhub tag — KEY=VALUE tags on a run (filtered with tag.KEY).
import ArgumentParser
import Foundation
import LM
import RLHubCore
import Store

struct TagCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tag", abstract: "Set tags on a run (KEY=VALUE; filter with tag.KEY).",
        discussion: "Example: rlhub tag 3fa2c1 note=lr-sweep")
    @OptionGroup var storeOptions: StoreOptions
    @Argument(help: "Run id.") var runID: String
    @Argument(help: "KEY=VALUE pairs.") var assignments: [String]

    func run() throws {
        let store = try storeOptions.open()
        let id = try store.run(runID).id
        guard !assignments.isEmpty else { throw InputError(file: "tag", message: "give at least one KEY=VALUE") }
        for a in assignments {
            guard let eq = a.firstIndex(of: "="), eq != a.startIndex else { throw InputError(file: "tag", field: a, message: "expected KEY=VALUE") }
            let key = String(a[..<eq])
            guard key.allSatisfy({ $0.isLetter || $0.isNumber || "_.-/".contains($0) }) else {
                throw InputError(file: "tag", field: key, message: "keys use letters, digits and _ . - /")
            }
            try store.tag(id, key: key, value: String(a[a.index(after: eq)...]))
        }
    }
}
