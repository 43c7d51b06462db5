// rlhub — `rlhub runs --where … --sort … --limit N` as one statement, and the groups of runs that
// share a configuration up to the seed (what the evaluation aggregates over).
import GRDB
import RLHubCore

/// A filter, an order and an optional limit over runs.
///
/// ```swift
/// let query = try RunQuery(where: "task = 'add'", sort: "-final.reward/mean", limit: 5)
/// let runs = try store.runs(query)
/// ```
public struct RunQuery: Sendable, Hashable {
    public let filter: RunFilter
    public let order: RunOrder
    /// At most this many runs (≥ 1); `nil` for all.
    public let limit: Int?

    /// - precondition: `limit` is `nil` or at least 1 (flags go through ``init(where:sort:limit:)``).
    public init(filter: RunFilter = .all, order: RunOrder = .default, limit: Int? = nil) {
        precondition(limit.map { $0 >= 1 } ?? true, "limit must be at least 1; validate --limit first")
        self.filter = filter
        self.order = order
        self.limit = limit
    }

    /// Compiles the `--where`, `--sort` and `--limit` flags (each `nil` when absent).
    ///
    /// - Throws: ``InputError`` naming the bad flag (`--where`, `--sort` or `--limit`).
    public init(where filter: String?, sort: String?, limit: Int?) throws(InputError) {
        if let limit, limit < 1 {
            throw InputError(file: "--limit", message: "must be at least 1, got \(limit)")
        }
        var compiledFilter = RunFilter.all
        if let filter { compiledFilter = try RunFilter(where: filter) }
        var compiledOrder = RunOrder.default
        if let sort { compiledOrder = try RunOrder(sort: sort) }
        self.init(filter: compiledFilter, order: compiledOrder, limit: limit)
    }

    /// `SELECT <columns> FROM runs r WHERE … ORDER BY … [LIMIT ?]` and its arguments.
    ///
    /// - Parameter columns: SQL over `r` written by the caller (never user input), e.g. `r.id`.
    @_spi(StoreInternals)
    public func statement(selecting columns: String = "r.*") -> (sql: String, arguments: StatementArguments) {
        var sql = "SELECT \(columns) FROM runs r WHERE \(filter.sql) ORDER BY \(order.sql)"
        var arguments = filter.arguments + order.arguments
        if let limit {
            sql += " LIMIT ?"
            arguments += [limit]
        }
        return (sql, arguments)
    }

    /// The ids of the selected runs, in order.
    @_spi(StoreInternals)
    public func fetchRunIDs(_ db: Database) throws -> [String] {
        let (sql, arguments) = statement(selecting: "r.id")
        return try String.fetchAll(db, sql: sql, arguments: arguments)
    }
}

/// Runs that share a configuration up to the seed (equal `runs.group_hash`).
public struct RunGroup: Sendable, Hashable {
    /// The hash of the configuration without its seed.
    public let groupHash: String
    /// The runs of the group, by seed, then creation time, then id.
    public let runIDs: [String]
    /// The seed of each run in ``runIDs``.
    public let seeds: [Int]

    /// The groups of the runs that `filter` selects, the group with the earliest run first (ties by
    /// hash); a group holds only its selected runs.
    ///
    /// ```swift
    /// let groups = try RunGroup.fetchAll(db, filter: RunFilter(where: "task = 'add'"))
    /// ```
    @_spi(StoreInternals)
    public static func fetchAll(_ db: Database, filter: RunFilter = .all) throws -> [RunGroup] {
        let rows = try Row.fetchAll(
            db,
            sql: """
                SELECT r.group_hash, r.id, r.seed,
                       min(r.created) OVER (PARTITION BY r.group_hash) AS first_created
                FROM runs r WHERE \(filter.sql)
                ORDER BY first_created, r.group_hash, r.seed, r.created, r.id
                """,
            arguments: filter.arguments)
        // Rows come grouped: cut where the hash changes.
        var groups: [(hash: String, ids: [String], seeds: [Int])] = []
        for row in rows {
            let hash: String = row[0]
            if groups.last?.hash != hash { groups.append((hash, [], [])) }
            groups[groups.count - 1].ids.append(row[1])
            groups[groups.count - 1].seeds.append(row[2])
        }
        return groups.map { RunGroup(groupHash: $0.hash, runIDs: $0.ids, seeds: $0.seeds) }
    }
}
