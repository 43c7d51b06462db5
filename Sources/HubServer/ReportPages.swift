// rlhub — `/reports/EXPERIMENT`: an experiment's report (the Evaluation module's `StoreReport` and
// `ReportWriter`, as `rlhub report` writes it), rendered on request into `STORE/cache/reports/` and
// rendered again only when the experiment's finished runs change.
import Evaluation
import Foundation
import Hummingbird
import RLHubCore
import Store

final class ReportCache: @unchecked Sendable {
    private let state: HubState
    private let lock = NSLock()
    /// Experiment → the finished runs its cached report was built from.
    private var built: [String: FinishedRunsStamp] = [:]

    init(state: HubState) {
        self.state = state
    }

    /// The names of the store's experiments.
    func experiments() throws -> [String] {
        try state.store.experimentNames()
    }

    /// The report's `index.html`, built when missing or out of date.
    ///
    /// - Throws: ``InputError`` for an unknown experiment or one without finished, scored runs.
    func page(experiment: String) async throws -> Data {
        guard try experiments().contains(experiment) else {
            throw InputError(file: "experiment", field: experiment, message: "no such experiment in the store")
        }
        let fingerprint = try state.store.finishedRunsStamp(experiment: experiment)
        let folder = state.configuration.reportCacheDirectory + "/" + Self.folderName(experiment)
        let index = folder + "/index.html"
        let fresh = lock.withLock { built[experiment] == fingerprint }
        if !fresh || !FileManager.default.fileExists(atPath: index) {
            let state = self.state
            try await state.maintenance.run {
                let data = try StoreReport.build(store: state.store, experiment: experiment,
                                                 options: state.configuration.reportOptions(state.store, experiment))
                try FileManager.default.createDirectory(atPath: state.configuration.reportCacheDirectory, withIntermediateDirectories: true)
                try ReportWriter.write(data, to: folder)
            }
            lock.withLock { built[experiment] = fingerprint }
        }
        guard let data = FileManager.default.contents(atPath: index) else {
            throw InputError(file: index, message: "the report was not written")
        }
        return data
    }

    /// A folder name for any experiment name: the name itself when it is plain, else its hex.
    static func folderName(_ name: String) -> String {
        let plain = !name.isEmpty && name.count <= 100 && name.first != "."
            && name.unicodeScalars.allSatisfy { $0.isASCII && (CharacterSet.alphanumerics.contains($0) || "-_.".unicodeScalars.contains($0)) }
        return plain ? name : "x-" + name.utf8.map { String(format: "%02x", $0) }.joined()
    }

    /// `/reports/`: links to every experiment's report.
    func listing() throws -> Response {
        let names = try experiments()
        var body = "<h1>Reports</h1>\n"
        body += names.isEmpty ? "<p class=\"muted\">No experiment in the store.</p>\n"
            : "<ul>\n" + names.map { "<li><a href=\"/reports/\(HTMLPage.e(queryEscape($0)))\">\(HTMLPage.e($0))</a></li>" }.joined(separator: "\n") + "\n</ul>\n"
        body += "<p class=\"muted\">A report compares the finished runs of one experiment, as <code>rlhub report</code> writes it.</p>\n"
        return Reply.html(HTMLPage.render(title: "Reports", body: body))
    }
}
