import SeamColumnar
import SeamEngine
import SeamSQL
import SeamStorage
import SeamTestSupport
import Testing

/// Cancellation, timeouts, the memory limit, and the same answers at any thread count.
@Suite struct ExecutionTests {
    /// A cross join of 8 × 5 rows repeated until it is large: 8 rows of t against itself 4 times.
    let bigJoin = "SELECT count(*) FROM t a, t b, t c, t d, t e, t f, t g"

    @Test func aCancelledQueryStopsWithAnInterruptError() throws {
        let engine = QueryEngine(store: try EngineFixture.store(), options: QueryOptions(threads: 2))
        let token = CancellationToken()
        token.cancel("cancelled by Ctrl-C")
        #expect {
            try engine.query(bigJoin, token: token)
        } throws: { e in
            (e as? SQLError)?.kind == .interrupted && (e as? SQLError)?.message.contains("Ctrl-C") == true
        }
    }

    @Test func aTimeoutStopsALongQuery() throws {
        let engine = QueryEngine(store: try EngineFixture.store(), options: QueryOptions(threads: 2))
        // 8^7 = 2,097,152 pairs, produced in bounded batches, each batch checking the deadline.
        #expect {
            try engine.query(bigJoin, token: CancellationToken(timeout: 0))
        } throws: { e in (e as? SQLError)?.message.contains("timed out") == true }
        #expect(try engine.query("SELECT count(*) FROM t a, t b, t c").rows == [[.bigint(512)]])
    }

    @Test func theMemoryLimitFailsClearly() throws {
        let engine = QueryEngine(store: try EngineFixture.store(), options: QueryOptions(threads: 2, memoryLimit: 4_096))
        #expect {
            try engine.query("SELECT a.s, b.s, c.s FROM t a, t b, t c ORDER BY 1, 2, 3")
        } throws: { e in (e as? SQLError)?.message.contains("Out of Memory Error") == true }
        // A query that streams into an aggregate holds little and still runs under the same limit.
        #expect(try engine.query("SELECT count(*), sum(x) FROM t").rows == [[.bigint(8), .bigint(145)]])
    }

    /// DISTINCT's value sets and a window's arrays count against the limit too: 200,000 distinct values need about
    /// 3 MB of pairs, over a 1 MB limit, while counting the same rows without DISTINCT fits.
    @Test func distinctValuesAndWindowsCountAgainstTheLimit() throws {
        let rows: [[Value]] = (0..<200_000).map { [.bigint(Int64($0)), .integer(Int32($0 % 3))] }
        let store = try EngineFixture.store(table: "m", schema: Schema([Field("v", .bigint), Field("g", .integer)]), rows: rows, blockRows: 8192)
        let engine = QueryEngine(store: store, options: QueryOptions(threads: 2, memoryLimit: 1 << 20))
        #expect(try engine.query("SELECT g, count(v) FROM m GROUP BY g ORDER BY g").rows.count == 3)
        for q in ["SELECT g, count(DISTINCT v) FROM m GROUP BY g", "SELECT sum(r) FROM (SELECT row_number() OVER (PARTITION BY g ORDER BY v) AS r FROM m)"] {
            #expect("\(q)") {
                try engine.query(q)
            } throws: { e in (e as? SQLError)?.message.contains("Out of Memory Error") == true }
        }
    }

    /// A breaker's input concatenated into one batch is held twice for a moment (the batches and the copy): a sort
    /// whose input fits the limit once but not twice fails before making the copy, and runs with room for both.
    @Test func concatenatingAnInputCountsTheCopy() throws {
        let rows: [[Value]] = (0..<200_000).map { [.bigint(Int64($0)), .integer(Int32($0 % 3))] }
        let store = try EngineFixture.store(table: "m", schema: Schema([Field("v", .bigint), Field("g", .integer)]), rows: rows, blockRows: 8192)
        let q = "SELECT v, g FROM m ORDER BY g, v DESC"
        #expect {
            try QueryEngine(store: store, options: QueryOptions(threads: 2, memoryLimit: 4 << 20)).query(q)
        } throws: { e in (e as? SQLError)?.message.contains("Out of Memory Error") == true }
        #expect(try QueryEngine(store: store, options: QueryOptions(threads: 2, memoryLimit: 16 << 20)).query(q).rows.count == rows.count)
    }

    @Test(arguments: [1, 2, 3])
    func threadCountDoesNotChangeAnswers(threads: Int) throws {
        let store = try EngineFixture.store(blockRows: 2)
        let engine = QueryEngine(store: store, options: QueryOptions(threads: threads))
        let q = "SELECT grp, count(*), sum(x), min(s), max(ts) FROM t GROUP BY grp ORDER BY grp NULLS FIRST"
        let want = try QueryEngine(store: store, options: QueryOptions(threads: 1)).query(q).rows
        #expect(try engine.query(q).rows == want)
        // Without ORDER BY, rows come back in table order whatever the thread count.
        #expect(try engine.query("SELECT id FROM t WHERE x IS NOT NULL").rows.map { $0[0] } == [1, 2, 4, 5, 6, 7, 8].map { Value.integer($0) })
        #expect(try engine.query("SELECT id FROM t LIMIT 3").rows.map { $0[0] } == [1, 2, 3].map { Value.integer($0) })
    }

    /// An average whose exact integer sum leaves 64 bits is taken in floating point: not wrapped, not an error.
    @Test func averagesPastBigintDoNotWrap() throws {
        let engine = QueryEngine(store: try EngineFixture.store())
        let pair = "(SELECT 9223372036854775807 AS x UNION ALL SELECT 9223372036854775805 AS x)"
        for q in ["SELECT avg(x) FROM \(pair)", "SELECT avg(DISTINCT x) FROM \(pair)", "SELECT avg(x) OVER () FROM \(pair) LIMIT 1"] {
            let rows = try engine.query(q).rows
            guard case .double(let d) = rows.first?.first else {
                Issue.record("\(q): \(rows)")
                continue
            }
            #expect(abs(d - 9.223372036854775806e18) < 1e4, "\(q): \(d)")
        }
    }
}
