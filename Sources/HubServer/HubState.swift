// rlhub — what every request of `rlhub serve` shares: the store, and the hub's current index (read
// once per publish; file ETags are the SHA-256s it lists).
import Foundation
import Hub
import RLHubCore
import Store

/// The store and the published hub, shared by all requests.
final class HubState: @unchecked Sendable {
    let configuration: ServeConfiguration
    let store: RunStore
    /// Serialises publishing and imports (the publisher's temporary names are per process).
    let maintenance = AsyncSerialQueue()
    private let lock = NSLock()
    private var current: (index: HubIndex, data: Data, etag: String)

    init(configuration: ServeConfiguration, store: RunStore) {
        self.configuration = configuration
        self.store = store
        current = (HubIndex(), Data(), "\"\"")
    }

    /// The index as served, its bytes and its strong ETag.
    var index: (index: HubIndex, data: Data, etag: String) { lock.withLock { current } }

    /// Publishes every release of the store into `STORE/hub` (an existing hub keeps what it has),
    /// writes an empty index when there is no release, and loads the result.
    func publishAll() throws {
        let dir = configuration.hubDirectory
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        for release in try store.releases() {
            try HubPublisher.publish(store: store, release: release.name, to: dir)
        }
        let indexPath = dir + "/" + HubIndex.fileName
        if !FileManager.default.fileExists(atPath: indexPath) {
            try AtomicFile.write(try HubIndex().encoded(), to: indexPath)
        }
        try reload()
    }

    /// Publishes one release (after a push) and loads the new index.
    func publish(_ release: String) throws {
        try HubPublisher.publish(store: store, release: release, to: configuration.hubDirectory)
        try reload()
    }

    /// Reads `STORE/hub/index.json` again.
    func reload() throws {
        let path = configuration.hubDirectory + "/" + HubIndex.fileName
        guard let data = FileManager.default.contents(atPath: path) else {
            throw InputError(file: path, message: "cannot read the hub index")
        }
        let index = try HubIndex.decode(data, source: path)
        let etag = "\"" + (try StreamingSHA256.hash(file: path).sha256) + "\""
        lock.withLock { current = (index, data, etag) }
    }
}

/// A lock for async code: one holder at a time, the others wait in order (an actor alone would
/// let a second caller in at every suspension point).
actor AsyncSerialQueue {
    private var busy = false
    private var waiters: [CheckedContinuation<Void, Never>] = []

    /// Runs `body` when every earlier caller has finished.
    func run<T: Sendable>(_ body: @Sendable () async throws -> T) async throws -> T {
        await acquire()
        defer { release() }
        return try await body()
    }

    private func acquire() async {
        if !busy { busy = true; return }
        await withCheckedContinuation { waiters.append($0) }
    }

    private func release() {
        if waiters.isEmpty { busy = false } else { waiters.removeFirst().resume() }
    }
}
