// rlhub — `--store DIR` of every verb that reads or writes the store, and model references resolved
// through it.
import ArgumentParser
import Experiments
import Foundation
import LM
import RLHubCore
import Store

/// `--store DIR` (else `RLHUB_STORE`, else `.rlhub`).
struct StoreOptions: ParsableArguments {
    @Option(help: "Store folder (default: RLHUB_STORE or .rlhub).") var store: String?

    var directory: String { RunStore.defaultDirectory(flag: store) }

    /// Opens the store; a read-only verb refuses to create one where none exists.
    func open(create: Bool = false) throws -> RunStore {
        let dir = directory
        if !create && !FileManager.default.fileExists(atPath: dir + "/store.sqlite") {
            throw InputError(file: dir, message: "no store here (run a grid or `rlhub train` first, or pass --store)")
        }
        return try RunStore(directory: dir)
    }
}

/// Opens another existing store (a reference, or run B's), as ``StoreOptions/open(create:)`` does.
func openExistingStore(_ dir: String, flag: String) throws -> RunStore {
    guard FileManager.default.fileExists(atPath: dir + "/store.sqlite") else {
        throw InputError(file: flag, field: dir, message: "no store here")
    }
    return try RunStore(directory: dir)
}

/// Loads a model REF; store references (`run:ID[@STEP]`, `sha256:HEX`, `hub:RELEASE/RUN[@STEP]`,
/// `cell:HASH`, a `.tar.zst` archive)
/// are resolved through the store first.
func loadModel(_ ref: String, seed: UInt64, store: StoreOptions) throws -> LoadedModel {
    let storeRefs = ["run:", "sha256:", "cell:", "hub:"]
    guard storeRefs.contains(where: ref.hasPrefix) || ref.hasSuffix(".tar.zst") else {
        return try ModelLoader.load(ref, seed: seed)
    }
    let resolved = try ModelResolver(store: try store.open(create: ref.hasSuffix(".tar.zst"))).resolve(ref)
    return try ModelLoader.load(resolved, seed: seed)
}
