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
/// `cell:HASH`, a `.tar.zst` archive) are resolved through the store first, and so is the base of a
/// LoRA adapter folder.
func loadModel(_ ref: String, seed: UInt64, store: StoreOptions) throws -> LoadedModel {
    let storeRefs = ["run:", "sha256:", "cell:", "hub:"]
    var resolver: ModelResolver?  // the store is opened only when a reference needs it
    func opened(for r: String) throws -> ModelResolver? {
        guard storeRefs.contains(where: r.hasPrefix) || r.hasSuffix(".tar.zst") else { return nil }
        let made = try resolver ?? ModelResolver(store: try store.open(create: r.hasSuffix(".tar.zst")))
        resolver = made
        return made
    }
    func resolve(_ r: String) throws -> String { try opened(for: r)?.resolve(r) ?? r }
    func resolveBase(_ r: String) throws -> String { try opened(for: r)?.resolveBase(r) ?? r }
    return try ModelLoader.load(try resolve(ref), seed: seed, resolveBase: resolveBase)
}
