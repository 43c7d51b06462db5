// A stored run's config is read back from its canonical JSON and checked against its hash. A run
// stored before a config key existed (here: `critic`, added after the first baselines) still
// reads: the text's own SHA-256 is the recorded hash, and the absent key decodes to its old
// behaviour. A text changed after storing is refused, and so is a key this binary does not know.
import Crypto
import Foundation
import LM
import RLHubCore
import Store
import Testing
import Experiments

@Suite struct StoredConfigTests {
    @Test func aConfigStoredBeforeANewKeyStillReads() throws {
        let cell = try GridExpansion.cells(try ExperimentSpec.parse(smallSpec, path: "small.yaml"))[2]
        var object = try JSONSerialization.jsonObject(with: cell.config.canonicalJSON()) as! [String: Any]
        var algorithm = object["algorithm"] as! [String: Any]
        #expect(algorithm.removeValue(forKey: "critic") as? String == "shared")
        object["algorithm"] = algorithm
        let oldText = String(decoding: try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]), as: UTF8.self)
        let oldHash = SHA256.hash(data: Data(oldText.utf8)).map { String(format: "%02x", $0) }.joined()
        #expect(oldHash != cell.configHash)

        let dir = NSTemporaryDirectory() + "rlhub-stored-config-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let store = try RunStore(directory: dir)
        func stored(_ text: String, hash: String) throws -> RunRecord {
            try store.run(try store.createRun(NewRun(
                experiment: nil, cell: nil, algo: cell.config.algo, task: cell.config.task, model: cell.config.model, seed: 0,
                configJSON: text, configHash: hash, groupHash: "g", threads: 1)))
        }
        let config = try CellWorker.config(of: try stored(oldText, hash: oldHash))
        #expect(config.algorithm.critic == .shared)
        #expect(config.hash == cell.configHash)  // the same run as written today
        // Today's form reads too; a changed text under the old hash does not.
        #expect(try CellWorker.config(of: try stored(String(decoding: cell.config.canonicalJSON(), as: UTF8.self), hash: cell.configHash)).hash == cell.configHash)
        let edited = oldText.replacingOccurrences(of: "\"steps\":2", with: "\"steps\":3")
        #expect(edited != oldText)
        #expect(throws: InputError.self) { try CellWorker.config(of: try stored(edited, hash: oldHash)) }
        // A key this binary does not know (stored by newer code) would be dropped by decoding:
        // refused, naming it, even though the text matches its hash.
        object["future_key"] = 1
        let newerText = String(decoding: try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]), as: UTF8.self)
        let newerHash = SHA256.hash(data: Data(newerText.utf8)).map { String(format: "%02x", $0) }.joined()
        #expect {
            try CellWorker.config(of: try stored(newerText, hash: newerHash))
        } throws: { ($0 as? InputError)?.message.contains("future_key") == true }
    }
}
