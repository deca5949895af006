import SeamColumnar
import SeamEngine
import SeamSQL
import SeamStorage
import SeamTestSupport
import Testing

/// A large sort (150,000 rows gathered from many blocks and worker threads) over normalized keys, DESC and ASC with
/// ties broken by the next key or kept in table order, and a window numbering rows in that order: the same exact order
/// at 1, 2 and 3 threads.
@Suite struct SortTests {
    static let rowCount = 150_000
    static let rows: [[Value]] = (0..<rowCount).map { i -> [Value] in
        var r = FixtureRandom(seed: UInt64(i))
        return [.integer(Int32(r.next() % 7)), .bigint(Int64(r.next() % 50_000) - 25_000), .bigint(Int64(i))]
    }

    static let engineStore: Store = {
        let schema = Schema([Field("a", .integer), Field("b", .bigint), Field("n", .bigint)])
        return try! EngineFixture.store(table: "s", schema: schema, rows: rows, blockRows: 8192)
    }()

    @Test(arguments: [1, 2, 3]) func sameOrderAtAnyThreadCount(threads: Int) throws {
        let engine = QueryEngine(store: Self.engineStore, options: QueryOptions(threads: threads))
        let expected = Self.rows.sorted { x, y in
            if x[0] != y[0] { return x[0].int32 > y[0].int32 }  // a DESC
            if x[1] != y[1] { return x[1].int64! < y[1].int64! }  // then b
            return x[2].int64! < y[2].int64!
        }.map { $0[2] }
        let got = try engine.query("SELECT n FROM s ORDER BY a DESC, b, n").rows.map { $0[0] }
        #expect(got.count == expected.count)
        if let first = got.indices.first(where: { $0 < expected.count && got[$0] != expected[$0] }) {
            Issue.record("row \(first): got n = \(got[first]), expected \(expected[first])")
        }
        // One and two keys take the radix sort, which must keep ties in table order (n ascending here), as the
        // comparison sort does.
        let byTwo = try engine.query("SELECT n FROM s ORDER BY a DESC, b").rows.map { $0[0] }
        Self.expectSame(byTwo, expected, "ORDER BY a DESC, b")
        let byOne = try engine.query("SELECT n FROM s ORDER BY b DESC").rows.map { $0[0] }
        let expectedByOne = Self.rows.enumerated().sorted { x, y in
            x.element[1] != y.element[1] ? x.element[1].int64! > y.element[1].int64! : x.offset < y.offset
        }.map { $0.element[2] }
        Self.expectSame(byOne, expectedByOne, "ORDER BY b DESC")
        // Top-N (LIMIT ≤ 256 keeps the best rows of each morsel in one pass) gives the prefix of the full order.
        let top = try engine.query("SELECT n FROM s ORDER BY a DESC, b LIMIT 25").rows.map { $0[0] }
        Self.expectSame(top, Array(expected.prefix(25)), "ORDER BY a DESC, b LIMIT 25")
        let topOne = try engine.query("SELECT n FROM s ORDER BY b DESC LIMIT 7 OFFSET 3").rows.map { $0[0] }
        Self.expectSame(topOne, Array(expectedByOne[3..<10]), "ORDER BY b DESC LIMIT 7 OFFSET 3")
        // A window over the same keys numbers rows in that order.
        let numbered = try engine.query("SELECT n, row_number() OVER (ORDER BY a DESC, b, n) FROM s").rows
        var position: [Value: Int64] = [:]
        for (k, v) in expected.enumerated() { position[v] = Int64(k + 1) }
        #expect(numbered.count == expected.count)
        if let bad = numbered.first(where: { position[$0[0]].map(Value.bigint) != $0[1] }) {
            Issue.record("row_number \(bad[1]) for n = \(bad[0])")
        }
    }
}

extension SortTests {
    /// Records the first position where two long orders differ (a message of the whole arrays would take minutes).
    static func expectSame(_ got: [Value], _ want: [Value], _ what: String) {
        #expect(got.count == want.count, "\(what)")
        if let i = zip(got, want).enumerated().first(where: { $0.element.0 != $0.element.1 })?.offset {
            Issue.record("\(what): row \(i) is n = \(got[i]), expected \(want[i])")
        }
    }
}

extension Value {
    var int32: Int32 { if case .integer(let x) = self { return x } else { return .min } }
}
