import SeamColumnar
import SeamEngine
import SeamSQL
import SeamStorage
import SeamTestSupport
import Testing

/// Aggregates without GROUP BY over a filtered scan reduce each block where its values lie (under the filter's flags,
/// over a sparse column's stored values, by position when few rows pass, or with the range decided as the values are
/// summed). Each shape must give what the row path gives: the same aggregates with `FILTER (WHERE true)`, which keeps
/// them on it, and the sums computed here from the rows.
@Suite struct BlockReductionTests {
    /// `x`: BIGINT, one row in nine (stored sparse); `y`: INTEGER, every row; `d`: DECIMAL with a NULL in five
    /// (stored with a value per row); `t`: TIMESTAMP; `s`: text in a dictionary; `n`: the row number; `c`: text in a
    /// dictionary, NULL in three rows of four (stored sparse).
    static let rows: [[Value]] = (0..<9000).map { i -> [Value] in
        let x: Value = i % 9 == 0 ? .bigint(Int64((i &* 7919) % 100_003) - 20_000) : .null
        let y: Value = .integer(Int32((i &* 104_729) % 5_000) - 1_000)
        let d: Value = i % 5 == 2 ? .null : .decimal(Int64((i &* 31) % 90_000))
        let t: Value = .timestamp(1_700_000_000_000_000 + Int64(i) * 60_000_000)
        let s: Value = .varchar(["web", "email", "store_pos", "app", "call_centre"][(i &* 7) % 5])
        let c: Value = i % 4 == 1 ? .varchar(["books", "toys", "garden"][(i / 9) % 3]) : .null
        return [x, y, d, t, s, .bigint(Int64(i)), c]
    }

    static let engine: QueryEngine = {
        let schema = Schema([Field("x", .bigint), Field("y", .integer), Field("d", .decimal), Field("t", .timestamp), Field("s", .varchar), Field("n", .bigint), Field("c", .varchar)])
        let store = try! EngineFixture.store(table: "r", schema: schema, rows: rows, blockRows: 2048)
        return QueryEngine(store: store, options: QueryOptions(threads: 2))
    }()

    static let filters = [
        "x > 1000",  // a range on the sparse column itself
        "x BETWEEN -500 AND 70000",
        "y < 0",  // a range on another column, about a fifth of the rows
        "y >= -1000",  // every row: the zone maps prove it
        "y > 3990",  // under one row in eight: kept rows read by position
        "s = 'web'",  // a dictionary predicate
        "s IN ('web', 'app') AND y < 2500",
        "n >= 4000 AND s <> 'email'",  // blocks below 4000 skipped by zone maps
        "x > 200000",  // nothing
        "d > 500.00 AND x IS NOT NULL",
        "t >= TIMESTAMP '2023-11-17 00:00:00'",  // a range on t: blocks wholly inside answered from their footers
        // Filters decided at x's valid rows only, when x alone is reduced (and count(*) only beside a conjunct on x):
        "x > 1000 AND s = 'web'",
        "c = 'books'",  // a sparse dictionary column, its codes found at x's rows
        "c IN ('books', 'toys') AND x < 50000",
        "s LIKE '%o%' AND y < 3000",  // a LIKE per entry and a range read at x's rows
        "s <> 'email'",  // sums alone of x under one text test: summed on the packed codes of both columns
        "s IN ('web', 'app')",
    ]

    static let aggregates = [
        "count(*), sum(x), avg(x), min(x), max(x), count(x)",
        "sum(y), min(y), max(y), avg(y)",
        "sum(d), avg(d), min(d), max(d), count(d)",
        "min(t), max(t), count(*)",
        "sum(x), sum(y), sum(d)",
        "min(x), max(x), count(x)",
        "min(t), max(t), count(t)",
        "sum(x), avg(x), count(x)",
    ]

    @Test(arguments: filters)
    func blockReductionsEqualTheRowPath(filter: String) throws {
        for aggs in Self.aggregates {
            let reduced = try Self.engine.query("SELECT \(aggs) FROM r WHERE \(filter)").rows
            let onRows = aggs.split(separator: ",").map { "\($0) FILTER (WHERE true)" }.joined(separator: ",")
            let reference = try Self.engine.query("SELECT \(onRows) FROM r WHERE \(filter)").rows
            #expect(reduced == reference, "\(aggs) WHERE \(filter)")
        }
    }

    /// Without a WHERE every block is reduced whole (on its packed codes where no min or max is asked): the same as the
    /// row path, and for the sparse column the rows' own sum.
    @Test func aScanWithoutAFilterReducesEveryBlock() throws {
        for aggs in Self.aggregates {
            let reduced = try Self.engine.query("SELECT \(aggs) FROM r").rows
            let onRows = aggs.split(separator: ",").map { "\($0) FILTER (WHERE true)" }.joined(separator: ",")
            let reference = try Self.engine.query("SELECT \(onRows) FROM r").rows
            #expect(reduced == reference, "\(aggs)")
        }
        let xs = Self.rows.compactMap { r -> Int64? in if case .bigint(let v) = r[0] { return v } else { return nil } }
        #expect(try Self.engine.query("SELECT sum(x), count(x), count(*) FROM r").rows
                == [[.bigint(xs.reduce(0, +)), .bigint(Int64(xs.count)), .bigint(Int64(Self.rows.count))]])
    }

    /// Sums, counts and extremes against the rows themselves, for the sparse column under a range on itself and under
    /// a dictionary predicate.
    @Test func sumsEqualTheRowsOwn() throws {
        func check(_ filter: String, _ keep: ([Value]) -> Bool) throws {
            let xs = Self.rows.filter(keep).compactMap { r -> Int64? in if case .bigint(let v) = r[0] { return v } else { return nil } }
            let got = try Self.engine.query("SELECT count(*), sum(x), min(x), max(x), count(x) FROM r WHERE \(filter)").rows
            let kept = Self.rows.filter(keep).count
            let sum: Value = xs.isEmpty ? .null : .bigint(xs.reduce(0, +))
            let lowest: Value = xs.min().map(Value.bigint) ?? .null
            let highest: Value = xs.max().map(Value.bigint) ?? .null
            let expected: [[Value]] = [[.bigint(Int64(kept)), sum, lowest, highest, .bigint(Int64(xs.count))]]
            #expect(got == expected, "\(filter)")
        }
        try check("x > 1000") { if case .bigint(let v) = $0[0] { return v > 1000 } else { return false } }
        try check("s = 'web'") { $0[4] == .varchar("web") }
        try check("y > 3990") { if case .integer(let v) = $0[1] { return v > 3990 } else { return false } }
    }

    /// One sparse column reduced (and count(*) beside a conjunct on it) has the filter decided at its valid rows only,
    /// as EXPLAIN ANALYZE says; count(*) without such a conjunct counts every row and does not.
    @Test func aSparseColumnIsFilteredAtItsValidRowsOnly() throws {
        func plan(_ sql: String) throws -> String {
            try Self.engine.query("EXPLAIN ANALYZE " + sql).rows.map { "\($0)" }.joined(separator: "\n")
        }
        let blocks = (Self.rows.count + 2047) / 2048
        for sql in ["SELECT sum(x), min(x) FROM r WHERE s = 'web'", "SELECT count(*), sum(x) FROM r WHERE x > 0 AND c = 'toys'"] {
            #expect(try plan(sql).contains("\(blocks)/\(blocks) blocks filtered only at the rows where x is not NULL"), "\(sql)")
        }
        #expect(try !plan("SELECT count(*), sum(x) FROM r WHERE s = 'web'").contains("filtered only at the rows"))
        #expect(try !plan("SELECT sum(x), sum(y) FROM r WHERE s = 'web'").contains("filtered only at the rows"))
        // The sums by hand: x's rows under a sparse dictionary column's predicate.
        let kept = Self.rows.filter { $0[6] == .varchar("toys") }.compactMap { r -> Int64? in if case .bigint(let v) = r[0], v > 0 { return v } else { return nil } }
        #expect(try Self.engine.query("SELECT count(*), sum(x) FROM r WHERE x > 0 AND c = 'toys'").rows
                == [[.bigint(Int64(kept.count)), kept.isEmpty ? .null : .bigint(kept.reduce(0, +))]])
    }

    /// A sum past 64 bits is the row path's error, whichever block it overflows in; the average of such values is
    /// still given (in floating point, as on the row path).
    @Test func overflowIsAnErrorAsOnTheRowPath() throws {
        let big = Int64.max / 3
        let rows: [[Value]] = (0..<5000).map { i in [.bigint(i % 2 == 0 ? big : 1), .integer(Int32(i % 10))] }
        let store = try EngineFixture.store(table: "o", schema: Schema([Field("v", .bigint), Field("k", .integer)]), rows: rows, blockRows: 2048)
        let engine = QueryEngine(store: store, options: QueryOptions(threads: 2))
        for filter in ["k < 5", "v > 0"] {
            #expect(throws: SQLError.self, "\(filter)") { try engine.query("SELECT sum(v) FROM o WHERE \(filter)") }
            let avg = try engine.query("SELECT avg(v) FROM o WHERE \(filter)").rows[0][0]
            let reference = try engine.query("SELECT avg(v) FILTER (WHERE true) FROM o WHERE \(filter)").rows[0][0]
            guard case .double(let a) = avg, case .double(let b) = reference else {
                Issue.record("\(filter): \(avg), \(reference)")
                continue
            }
            #expect(abs(a - b) <= abs(b) * 1e-12, "\(filter): \(a) vs \(b)")
        }
        // Small values in a block of huge ones still sum exactly where the total fits.
        let fits = try engine.query("SELECT sum(v) FROM o WHERE v = 1").rows
        #expect(fits == [[.bigint(2500)]])
    }
}
