// rlhub — the read-only JSON API: the store's queries, in the shapes of the CLI's `--format json`.
//
//   GET /api/runs?where=EXPR&sort=KEY&limit=N    as `rlhub runs` (RunListRow)
//   GET /api/runs/ID                             as `rlhub show` (RunDetail)
//   GET /api/runs/ID/curve?metric=M&every=N      as `rlhub curve` ([{"step", M}])
//   GET /api/runs/ID/scores                      as `rlhub scores`
//   GET /api/runs/ID/samples?step=N&where=EXPR   as `rlhub samples --format json` ([StepSample])
//   GET /api/checkpoints?run=ID                  as `rlhub checkpoints`, plus the hub URL of each
//   GET /api/releases                            as `rlhub release list`
//
// A bad parameter is 400 with `{"error": "<one line naming it>"}`; an unknown run 404.
import Foundation
import Hub
import Hummingbird
import RLHubCore
import Store
import Trainer

/// A checkpoint as `rlhub checkpoints` lists it, with the URL of its archive when published.
struct CheckpointRow: Encodable {
    var run: String
    var step: Int
    var sha256: String
    var bytes: Int64
    var path: String
    var url: String?
}

/// A release as `rlhub release list` lists it.
struct ReleaseRow: Encodable {
    var name: String
    var runs: Int
    var created: String
    var rlhub_version: String
    var schema: Int
    var filter: String?
    var notes: String
}

enum StoreQueries {
    /// The runs a query string selects (`where`, `sort`, `limit`).
    static func runs(_ store: RunStore, _ q: QueryParameters) throws -> [RunRecord] {
        let query = try RunQuery(where: q["where"], sort: q["sort"], limit: try q.positiveInt("limit"))
        return try store.runs(query)
    }

    static func checkpoints(_ state: HubState, run: String?) throws -> [CheckpointRow] {
        let files = state.index.index.files
        return try state.store.checkpoints(run: run).map { c in
            let url = HubPath.blob(c.sha256)
            return CheckpointRow(run: c.run, step: c.step, sha256: c.sha256, bytes: c.bytes, path: c.path,
                                 url: files[url] != nil ? "/hub/" + url : nil)
        }
    }

    static func releases(_ store: RunStore) throws -> [ReleaseRow] {
        try store.releases().map {
            ReleaseRow(name: $0.name, runs: $0.runs.count, created: $0.created, rlhub_version: $0.rlhubVersion,
                       schema: $0.schemaVersion, filter: $0.filter, notes: $0.notes)
        }
    }

    /// The points of `metric` for a plot: every N-th so that about `target` remain (and the last).
    static func curve(_ store: RunStore, run: String, metric: String, every: Int? = nil, target: Int = 200) throws -> [(step: Int, value: Double?)] {
        var n = every ?? 1
        if every == nil, let count = try store.metricSummaries(run: run).first(where: { $0.name == metric })?.count, count > target {
            n = (count + target - 1) / target
        }
        return try store.curve(run: run, metric: metric, every: n)
    }
}

/// A route's work, with failures turned into JSON errors.
func api(_ body: () async throws -> Response) async -> Response {
    do { return try await body() } catch { return Reply.failure(error) }
}

func addAPIRoutes(to router: Router<BasicRequestContext>, state: HubState) {
    let store = state.store
    router.get("/api/runs") { request, _ in
        await api {
            let runs = try StoreQueries.runs(store, QueryParameters(request.uri.query))
            return try Reply.json(try RunListRow.rows(store: store, runs: runs))
        }
    }
    router.get("/api/runs/:id") { _, context in
        await api { try Reply.json(try RunDetail.load(store: store, run: try context.parameters.require("id"))) }
    }
    router.get("/api/runs/:id/curve") { request, context in
        await api {
            let q = QueryParameters(request.uri.query)
            let run = try store.run(try context.parameters.require("id"))
            let names = try store.metricNames(run: run.id).joined(separator: ", ")
            guard let metric = q["metric"] else { throw InputError(file: "metric", message: "required (one of: \(names))") }
            let points = try store.curve(run: run.id, metric: metric, every: try q.positiveInt("every") ?? 1)
            if points.isEmpty {
                throw InputError(file: "metric", field: metric, message: "not logged by run \(run.id) (metrics: \(names))")
            }
            return try Reply.json(CurveRows(metric: metric, points: points))
        }
    }
    router.get("/api/runs/:id/scores") { _, context in
        await api { try Reply.json(try store.scores(run: try store.run(try context.parameters.require("id")).id)) }
    }
    router.get("/api/runs/:id/samples") { request, context in
        await api {
            let q = QueryParameters(request.uri.query)
            let run = try store.run(try context.parameters.require("id"))
            let filter = try q["where"].map { try SampleFilter(where: $0) } ?? .all
            let stored = try store.samples(run: run.id, step: try q.nonNegativeInt("step"), filter: filter)
            return try Reply.json(try stored.map { s in
                StepSample(step: s.step, position: s.position, sample: try RolloutSample.decode(s.json))
            })
        }
    }
    router.get("/api/checkpoints") { request, _ in
        await api {
            let run = try QueryParameters(request.uri.query)["run"].map { try store.run($0).id }
            return try Reply.json(try StoreQueries.checkpoints(state, run: run))
        }
    }
    router.get("/api/releases") { _, _ in
        await api { try Reply.json(try StoreQueries.releases(store)) }
    }
}
