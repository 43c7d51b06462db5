// docs/cli.md ships with the code: every verb and every flag the binary defines is documented
// there, under the verb's own heading (read from ArgumentParser's `--experimental-dump-help`).
import Foundation
import Testing
import TestSupport

@Suite struct CLIDocsTests {
    /// One command of the dump: its path, subcommands and the long names of its flags and options.
    struct Command: Decodable {
        struct Argument: Decodable {
            struct Name: Decodable { var kind: String; var name: String }
            var kind: String
            var names: [Name]?
            var shouldDisplay: Bool?
        }
        var commandName: String
        var shouldDisplay: Bool?
        var arguments: [Argument]?
        var subcommands: [Command]?
    }
    struct Dump: Decodable { var command: Command }

    @Test func everyVerbAndFlagIsInDocsCLI() throws {
        let dump = try rlhub("--experimental-dump-help")
        try #require(dump.status == 0, "\(dump.err)")
        let root = try JSONDecoder().decode(Dump.self, from: Data(dump.out.utf8)).command
        let doc = try String(contentsOf: SourceTree.root.appendingPathComponent("docs/cli.md"), encoding: .utf8)
        var verbs = 0
        func check(_ command: Command, path: [String]) {
            guard command.shouldDisplay ?? true, command.commandName != "help" else { return }
            if path.count > 1 {
                verbs += 1
                let heading = "### `\(path.joined(separator: " "))`"
                guard let start = doc.range(of: heading + "\n") else {
                    Issue.record("docs/cli.md has no section \(heading)")
                    return
                }
                let rest = doc[start.upperBound...]
                let body = rest[..<(rest.range(of: "\n### ")?.lowerBound ?? rest.endIndex)]
                for argument in command.arguments ?? [] where argument.shouldDisplay ?? true {
                    for name in argument.names ?? [] where name.kind == "long" && !["help", "version"].contains(name.name) {
                        #expect(body.contains("`--\(name.name)"), "docs/cli.md, \(heading): --\(name.name) is not documented")
                    }
                }
            }
            for sub in command.subcommands ?? [] { check(sub, path: path + [sub.commandName]) }
        }
        check(root, path: [root.commandName])
        #expect(verbs > 25, "only \(verbs) verbs in the dump")
    }
}
