// rlhub — JSON for people and programs reading results: sorted keys, and `null` where a value is
// not a finite number (a diverged loss of ±∞ stays ±∞ in SQLite; JSON has no way to write it, and
// JSONEncoder would fail the whole answer over one point). `rlhub curve` and `rlhub scores`
// already write such points as `null`; every other JSON answer goes through here.
import Foundation

/// Encodes results as JSON with non-finite numbers written as `null`.
public enum OutputJSON {
    /// Sorted-key JSON of `value`, indented when `pretty`, with `null` for ±∞ and NaN.
    public static func encode<T: Encodable>(_ value: T, pretty: Bool) throws -> Data {
        // Stands for a non-finite number while encoding: new for every call, so no string in the
        // data (a pulled store's config, say) can be mistaken for it.
        let marker = "rlhub-non-finite-" + UUID().uuidString
        let encoder = JSONEncoder()
        encoder.outputFormatting = pretty ? [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes] : [.sortedKeys, .withoutEscapingSlashes]
        encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: marker, negativeInfinity: marker, nan: marker)
        let data = try encoder.encode(value)
        let quoted = Data("\"\(marker)\"".utf8)
        guard data.range(of: quoted) != nil else { return data }
        return Data(String(decoding: data, as: UTF8.self).replacingOccurrences(of: "\"\(marker)\"", with: "null").utf8)
    }
}
