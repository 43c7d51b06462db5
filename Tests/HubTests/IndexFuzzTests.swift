// Fuzzing what a hub serves to a pull: a published index.json mutated 400 ways (bytes flipped,
// spans cut or repeated, the file truncated, and JSON values swapped for hostile ones: paths with
// `..`, wrong hashes, negative or huge sizes, other types), then pulled into a fresh store.
// Every outcome is one of two: the pull succeeds and the store holds exactly the published
// release, or it fails with a one-line InputError and the store holds nothing (no release, no
// run, no archive). A crash, a hang or a half-import fails the test.
import Foundation
import Hub
import RLHubCore
import Store
import Tensor
import Testing

@Suite("Hub: fuzzed index.json")
struct IndexFuzzTests {
    @Test(.timeLimit(.minutes(5)))
    func aMutatedIndexIsRefusedOrHarmless() async throws {
        let f = try HubFixture("index-fuzz", runs: 2, checkpointBytes: 4 << 10)
        let hub = f.root + "/hub"
        let published = try HubPublisher.publish(store: f.store, release: f.release, to: hub)
        let original = try Data(contentsOf: URL(fileURLWithPath: hub + "/" + HubIndex.fileName))
        let expected = try HubFixture.snapshot(f.store, release: f.release)
        let json = try JSONSerialization.jsonObject(with: original)
        let cases = 400
        var refused = 0, harmless = 0
        for i in 0..<cases {
            var rng = CounterRNG(seed: 0x1DE7, purpose: .testing, index: UInt64(i))
            let mutated = i % 2 == 0 ? Self.mutateBytes(original, &rng) : try Self.mutateJSON(json, &rng)
            let folder = f.root + "/case-\(i)"
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
            // The hub's other files stay intact; only the index changes.
            for name in ["blobs", "releases"] {
                try FileManager.default.createSymbolicLink(atPath: folder + "/" + name, withDestinationPath: hub + "/" + name)
            }
            try mutated.write(to: URL(fileURLWithPath: folder + "/" + HubIndex.fileName))
            let local = try RunStore(directory: folder + "/store")
            do {
                try await HubPuller(store: local, source: try hubSource(folder)).pull(PullRequest())
                harmless += 1
                #expect(try HubFixture.snapshot(local, release: f.release) == expected, "case \(i) pulled something else")
            } catch let error as InputError {
                refused += 1
                #expect(!error.description.contains("\n"), "case \(i): \(error.description)")
                #expect(try local.releases().isEmpty && local.runs().isEmpty, "case \(i) imported rows before failing")
                for file in published.files.values {
                    #expect(try !local.blobs.contains(sha256: file.sha256), "case \(i) stored an archive before failing")
                }
            } catch {
                Issue.record("case \(i): not an InputError: \(error)")
            }
            try? FileManager.default.removeItem(atPath: folder)
        }
        print("index fuzz: \(cases) mutated indices, \(refused) refused, \(harmless) pulled the release intact")
        // Both outcomes occur: the mutations reach past the JSON parser.
        #expect(refused > cases / 4 && harmless > 10, "refused \(refused), harmless \(harmless)")
    }

    /// One raw change: a flipped byte, a cut span, a repeated span, or a truncation.
    static func mutateBytes(_ data: Data, _ rng: inout CounterRNG) -> Data {
        var bytes = [UInt8](data)
        let at = Int(rng.next32() % UInt32(bytes.count))
        let span = 1 + Int(rng.next32() % 40)
        switch rng.next32() % 4 {
        case 0: bytes[at] ^= UInt8(truncatingIfNeeded: 1 + rng.next32() % 255)
        case 1: bytes.removeSubrange(at..<min(bytes.count, at + span))
        case 2: bytes.insert(contentsOf: bytes[at..<min(bytes.count, at + span)], at: at)
        default: bytes.removeSubrange(at...)
        }
        return Data(bytes)
    }

    /// Hostile values for any field of the index.
    static var hostile: [Any] { [
        -1, 0, 1, Int64.max, 1e300, "", "../../etc/passwd", "/etc/passwd", "blobs/sha256/00/../../../x.tar.zst",
        "releases/../../store.sqlite", String(repeating: "0", count: 64), String(repeating: "g", count: 64),
        "demo-v1", "other-v1", NSNull(), [Any](), [String: Any](), true, String(repeating: "a", count: 5000), "a\u{0}b",
    ] }

    /// One structural change: a value anywhere in the tree replaced by a hostile one, a key removed,
    /// or an object key renamed.
    static func mutateJSON(_ root: Any, _ rng: inout CounterRNG) throws -> Data {
        var paths: [[Any]] = []
        func walk(_ node: Any, _ path: [Any]) {
            paths.append(path)
            if let object = node as? [String: Any] {
                for key in object.keys.sorted() { walk(object[key]!, path + [key]) }
            } else if let array = node as? [Any] {
                for (k, item) in array.enumerated() { walk(item, path + [k]) }
            }
        }
        walk(root, [])
        let target = paths[1 + Int(rng.next32() % UInt32(paths.count - 1))]
        let action = rng.next32() % 4
        let choices = hostile
        let replacement = choices[Int(rng.next32() % UInt32(choices.count))]
        func edit(_ node: Any, _ path: ArraySlice<Any>) -> Any? {
            guard let head = path.first else { return replacement }
            let last = path.count == 1
            if var object = node as? [String: Any], let key = head as? String {
                if last && action == 0 {
                    object[key] = nil
                } else if last && action == 1 {
                    object[key + (rng.next32() % 2 == 0 ? "x" : "/../x")] = object.removeValue(forKey: key)
                } else {
                    object[key] = edit(object[key]!, path.dropFirst())
                }
                return object
            }
            if var array = node as? [Any], let k = head as? Int {
                if last && action == 0 { array.remove(at: k) } else { array[k] = edit(array[k], path.dropFirst()) as Any }
                return array
            }
            return node
        }
        let mutated = edit(root, target[...]) ?? root
        return try JSONSerialization.data(withJSONObject: mutated, options: [.sortedKeys, .fragmentsAllowed])
    }
}
