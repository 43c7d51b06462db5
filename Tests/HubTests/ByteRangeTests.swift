// The `Range` header parser of `rlhub serve` (RFC 9110 §14.1.2): the forms a resuming client
// sends, the malformed ones (ignored: the whole file, as the RFC allows), and 20,000 fuzzed
// headers whose answer must always lie inside the file.
import HubServer
import Tensor
import Testing

@Suite("rlhub serve: Range headers")
struct ByteRangeTests {
    @Test(arguments: [
        // (header, size, expected)
        ("bytes=0-", 10, ByteRangeRequest.partial(0...9)),
        ("bytes=3-5", 10, .partial(3...5)),
        ("bytes=3-500", 10, .partial(3...9)),
        ("bytes=-4", 10, .partial(6...9)),
        ("bytes=-40", 10, .partial(0...9)),
        ("BYTES = 2-2", 10, .whole),  // whitespace inside the spec is not the grammar
        ("bytes=9-9", 10, .partial(9...9)),
        ("bytes=10-", 10, .unsatisfiable),
        ("bytes=-0", 10, .unsatisfiable),
        ("bytes=0-", 0, .unsatisfiable),
        ("bytes=5-3", 10, .whole),
        ("bytes=1-2,4-5", 10, .whole),
        ("items=0-5", 10, .whole),
        ("bytes=-", 10, .whole),
        ("bytes=a-5", 10, .whole),
        ("bytes=+1-5", 10, .whole),
        ("bytes=99999999999999999999-", 10, .whole),
        ("bytes=٣-٥", 10, .whole),  // Arabic-Indic digits are numbers to Swift, not to HTTP
    ])
    func knownHeaders(_ header: String, _ size: Int, _ expected: ByteRangeRequest) {
        #expect(ByteRangeRequest(header: header, size: Int64(size)) == expected)
    }

    @Test func noHeaderMeansTheWholeFile() {
        #expect(ByteRangeRequest(header: nil, size: 10) == .whole)
    }

    /// Any header, any size: a partial answer is a non-empty range inside the file, and a
    /// satisfiable well-formed `bytes=N-` for N < size is always honoured from N.
    @Test func fuzzedHeadersStayInsideTheFile() {
        let pieces = ["bytes", "=", "-", ",", " ", "0", "1", "9", "18446744073709551616", "-1", "+", "\t", "٣", "e3",
                      "BYTES", "=-", "00", "9223372036854775807", "\u{0}", "é", "bytes=", "*"]
        for i in 0..<20_000 {
            var rng = CounterRNG(seed: 0xB17E, purpose: .testing, index: UInt64(i))
            var header = ""
            for _ in 0..<(1 + rng.next32() % 8) { header += pieces[Int(rng.next32() % UInt32(pieces.count))] }
            let size = Int64(rng.next32() % 4 == 0 ? 0 : rng.next32() % 100_000)
            switch ByteRangeRequest(header: header, size: size) {
            case .whole, .unsatisfiable: break
            case .partial(let r):
                #expect(r.lowerBound >= 0 && r.upperBound < size, "\(header) for \(size) bytes → \(r)")
            }
            let first = Int64(rng.next32() % 200_000)
            let honoured = ByteRangeRequest(header: "bytes=\(first)-", size: size)
            #expect(honoured == (first < size ? .partial(first...(size - 1)) : .unsatisfiable))
        }
    }
}
