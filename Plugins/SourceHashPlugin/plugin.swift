// rlhub — the build-tool plugin that embeds the source tree's SHA-256 in RLHubCore, so a binary
// knows which code it was compiled from (CodeVersion.sourceHash) without looking at a checkout.
//
// The inputs are every file in the folders of the targets the rlhub executable is compiled from
// (Sources/…, Benchmarks/) plus Package.swift, and the resolved version of every package dependency, as
// SwiftPM resolved them (Package.resolved is not committed). SwiftPM re-runs the tool only when
// one of those files or versions changes; the tool rewrites its output only when the hash changes,
// so an unchanged tree recompiles nothing.
import Foundation
import PackagePlugin

@main
struct SourceHashPlugin: BuildToolPlugin {
    func createBuildCommands(context: PluginContext, target: Target) throws -> [Command] {
        let root = context.package.directoryURL.standardizedFileURL
        var files = [root.appending(path: "Package.swift")]
        for folder in Set(try Self.compiledTargets(context.package).map(\.directoryURL)) {
            files += Self.files(under: folder)
        }
        let output = context.pluginWorkDirectoryURL.appending(path: "EmbeddedSourceHash.swift")
        var arguments = [output.path, root.path]
        arguments += Self.dependencies(of: context.package).map { "--dependency=\($0)" }
        arguments += files.map(\.path)
        return [
            .buildCommand(
                displayName: "Hashing the source tree of \(target.name)",
                executable: try context.tool(named: "SourceHashTool").url,
                arguments: arguments, inputFiles: files, outputFiles: [output])
        ]
    }

    /// The targets of this package the `rlhub` executable is compiled from: its own and every
    /// local target it depends on (not this tool, the plugins, the test targets and their helpers;
    /// other packages' targets are covered by their resolved versions).
    static func compiledTargets(_ package: Package) throws -> [Target] {
        guard let binary = package.products.first(where: { $0.name == "rlhub" }) else {
            throw PluginError(message: "SourceHashPlugin: the package has no product named rlhub")
        }
        let local = Set(package.targets.map(\.id))
        return (binary.targets + binary.targets.flatMap(\.recursiveTargetDependencies)).filter { local.contains($0.id) }
    }

    struct PluginError: Error, CustomStringConvertible {
        var message: String
        var description: String { message }
    }

    /// Regular files below `folder`, hidden files and folders (editor and OS litter) left out.
    static func files(under folder: URL) -> [URL] {
        guard let walk = FileManager.default.enumerator(
            at: folder, includingPropertiesForKeys: [.isRegularFileKey], options: [.skipsHiddenFiles])
        else { return [] }
        var out: [URL] = []
        for case let url as URL in walk where (try? url.resourceValues(forKeys: [.isRegularFileKey]))?.isRegularFile == true {
            out.append(url.standardizedFileURL)
        }
        return out
    }

    /// `IDENTITY VERSION` of every package the root depends on, directly or not, sorted (SwiftPM
    /// gives plugins the resolved version, not the commit).
    static func dependencies(of package: Package) -> [String] {
        var seen: [String: String] = [:]
        var stack = package.dependencies.map(\.package)
        while let next = stack.popLast() {
            guard seen[next.id] == nil else { continue }
            switch next.origin {
            case .repository(_, let version, _): seen[next.id] = "\(next.id) \(version)"
            case .registry(_, let version): seen[next.id] = "\(next.id) \(version)"
            case .local(let path): seen[next.id] = "\(next.id) local \(path)"
            case .root: seen[next.id] = "\(next.id) root"
            @unknown default: seen[next.id] = "\(next.id) unknown"
            }
            stack += next.dependencies.map(\.package)
        }
        return seen.values.sorted()
    }
}
