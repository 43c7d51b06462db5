// The docs ship with the code: every section of docs/algorithms.md that a comment cites exists, and
// nothing in the repository points at a folder outside it.
import Foundation
import Testing
import TestSupport

@Suite struct DocsTests {
    /// Section numbers of docs/algorithms.md: its headings `## 2.` / `### 2.1 …` / `### 13.10 …`.
    static func algorithmSections() throws -> Set<String> {
        let text = try String(contentsOf: SourceTree.root.appendingPathComponent("docs/algorithms.md"), encoding: .utf8)
        var sections: Set<String> = []
        for line in text.split(separator: "\n") where line.hasPrefix("#") {
            let words = line.drop(while: { $0 == "#" }).split(separator: " ")
            if let first = words.first, let number = first.wholeMatch(of: /(\d+(?:\.\d+)*)\.?/)?.1 {
                sections.insert(String(number))
            }
        }
        return sections
    }

    /// Swift files under Sources/, Benchmarks/ and Tests/, relative to the package root.
    static func swiftFiles() -> [String] {
        var out: [String] = []
        for folder in ["Sources", "Benchmarks", "Tests"] {
            let base = SourceTree.root.appendingPathComponent(folder)
            guard let walk = FileManager.default.enumerator(atPath: base.path) else { continue }
            while let path = walk.nextObject() as? String {
                if path.hasSuffix(".swift") { out.append(folder + "/" + path) }
            }
        }
        return out
    }

    /// In a file that cites algorithms.md, every `§N` is a section of it (files citing other
    /// documents' sections — RFC 9110, FIPS 180-4, Agarwal et al. — do not name algorithms.md).
    @Test func everyCitedSectionOfAlgorithmsMdExists() throws {
        let sections = try Self.algorithmSections()
        #expect(sections.isSuperset(of: ["0", "0.1", "1", "2.1", "13.10", "14.15"]), "headings not found: \(sections.sorted())")
        var citations = 0
        for file in Self.swiftFiles() {
            let text = try String(contentsOf: SourceTree.root.appendingPathComponent(file), encoding: .utf8)
            guard text.contains("algorithms.md") else { continue }
            for (number, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
                for match in line.matches(of: /§(\d+(?:\.\d+)*)/) {
                    citations += 1
                    #expect(sections.contains(String(match.1)), "\(file):\(number + 1) cites §\(match.1), which docs/algorithms.md does not have")
                }
            }
        }
        #expect(citations > 100, "found only \(citations) citations: is the scan looking at the sources?")
    }

    /// No committed text names the shared folder the project was briefed from: users do not have it.
    @Test func nothingPointsOutsideTheRepository() throws {
        let outside = ["..", "shared"].joined(separator: "/")
        var offenders: [String] = []
        let skip: Set<String> = [".git", ".build", ".swiftpm", "models", ".rlhub", ".slurm", "runs"]
        guard let walk = FileManager.default.enumerator(atPath: SourceTree.root.path) else { return }
        while let path = walk.nextObject() as? String {
            if skip.contains(where: { path == $0 || path.hasPrefix($0 + "/") }) || path.hasPrefix(".build") {
                walk.skipDescendants()
                continue
            }
            let url = SourceTree.root.appendingPathComponent(path)
            guard (try url.resourceValues(forKeys: [.isRegularFileKey])).isRegularFile == true,
                  let text = try? String(contentsOf: url, encoding: .utf8) else { continue }
            if text.contains(outside) { offenders.append(path) }
        }
        #expect(offenders.isEmpty, "files naming \(outside): \(offenders)")
    }
}
