// rlhub — the `Range: bytes=…` header of RFC 9110 §14, for one range (what resuming downloads send).
//
// Supported: `bytes=FIRST-`, `bytes=FIRST-LAST`, `bytes=-SUFFIX`. A header with several ranges, or
// another unit, is ignored (the whole file is sent with 200, which the RFC allows). A well-formed
// range that starts past the end of the file is unsatisfiable (416).

/// What a `Range` header asks of a file of a known size.
public enum ByteRangeRequest: Equatable, Sendable {
    /// No usable range: send the whole file (200).
    case whole
    /// Send these bytes (206), `lower...upper` inside the file.
    case partial(ClosedRange<Int64>)
    /// The range lies outside the file (416 with `Content-Range: bytes */SIZE`).
    case unsatisfiable

    /// Interprets `header` (nil when the request has none) for a file of `size` bytes.
    public init(header: String?, size: Int64) {
        guard let header else { self = .whole; return }
        let text = header.trimmingCharacters(in: .whitespaces)
        guard text.lowercased().hasPrefix("bytes="), !text.contains(",") else { self = .whole; return }
        let spec = text.dropFirst("bytes=".count).trimmingCharacters(in: .whitespaces)
        guard let dash = spec.firstIndex(of: "-") else { self = .whole; return }
        let first = spec[..<dash], last = spec[spec.index(after: dash)...]
        func number(_ s: Substring) -> Int64? {
            guard !s.isEmpty, s.count <= 18, s.allSatisfy({ $0.isASCII && $0.isNumber }) else { return nil }
            return Int64(s)
        }
        if first.isEmpty {
            // The last N bytes.
            guard let suffix = number(last) else { self = .whole; return }
            guard suffix > 0, size > 0 else { self = .unsatisfiable; return }
            self = .partial(max(0, size - suffix)...(size - 1))
            return
        }
        guard let lower = number(first) else { self = .whole; return }
        var upper = size - 1
        if !last.isEmpty {
            guard let given = number(last), given >= lower else { self = .whole; return }
            upper = min(given, size - 1)
        }
        guard lower < size else { self = .unsatisfiable; return }
        self = .partial(lower...upper)
    }
}
