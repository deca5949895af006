import SeamColumnar
@testable import SeamEngine
import SeamSQL
import SeamStorage
import SeamTestSupport
import Testing

/// The fast paths of scans, grouping and windows give the answers of the plain ones: a filter over a scan that decodes
/// the other columns only for passing rows, grouping on several small keys by packed ids, and windows partitioned by a
/// counting sort over an integer key.
@Suite struct ScanAndWindowPathTests {
    static let schema = Schema([
        Field("id", .integer), Field("k", .integer), Field("s", .varchar), Field("amount", .decimal),
        Field("ts", .timestamp), Field("v", .bigint),
    ])

    /// 6,000 rows in blocks of 256, shaped so blocks take different codecs (dictionary, run-length, frame of reference,
    /// delta), with NULLs in every column but `id`, negative and repeated partition keys, and ties in `ts`.
    static let rows: [[Value]] = {
        var rng = FixtureRandom(seed: 77)
        let words = ["a", "b", "c", "purchase", "view", ""]
        return (0..<6000).map { i -> [Value] in
            let k: Value = Int.random(in: 0..<25, using: &rng) == 0 ? .null : .integer(Int32(Int.random(in: -40..<160, using: &rng)))
            let s: Value = Int.random(in: 0..<15, using: &rng) == 0 ? .null : .varchar(words[(i / 7 + Int.random(in: 0..<2, using: &rng)) % words.count])
            let amount: Value = (i / 40) % 3 == 0 ? .null : .decimal(Int64((i / 40) % 11) * 250 - 500)
            let ts: Value = Int.random(in: 0..<30, using: &rng) == 0 ? .null : .timestamp(1_700_000_000_000_000 + Int64(i / 3) * 1_000_000)
            let v: Value = Int.random(in: 0..<10, using: &rng) == 0 ? .null : .bigint(Int64(Int.random(in: -1000..<1000, using: &rng)))
            return [.integer(Int32(i)), k, s, amount, ts, v]
        }
    }()

    static func engine(threads: Int = 2) throws -> QueryEngine {
        let store = try EngineFixture.store(table: "t", schema: schema, rows: rows, blockRows: 256)
        return QueryEngine(store: store, options: QueryOptions(threads: threads))
    }

    @Test func aFilterOverAScanReturnsExactlyThePassingRows() throws {
        let engine = try Self.engine()
        func int(_ v: Value) -> Int64? {
            switch v {
            case .integer(let x): return Int64(x)
            case .bigint(let x), .decimal(let x), .timestamp(let x): return x
            default: return nil
            }
        }
        let cases: [(String, ([Value]) -> Bool)] = [
            ("s = 'purchase'", { $0[2] == .varchar("purchase") }),
            ("k > 50", { int($0[1]).map { $0 > 50 } ?? false }),
            ("k IS NULL", { $0[1].isNull }),
            ("amount > 300", { int($0[3]).map { $0 > 30_000 } ?? false }),
            ("s IN ('a', 'view') AND ts >= TIMESTAMP '2023-11-14 23:00:00'", { row in
                (row[2] == .varchar("a") || row[2] == .varchar("view")) && (int(row[4]).map { $0 >= 1_700_002_800_000_000 } ?? false)
            }),
            ("v < 0 OR s = ''", { row in (int(row[5]).map { $0 < 0 } ?? false) || row[2] == .varchar("") }),
            ("id >= 0", { _ in true }),
            ("id < 0", { _ in false }),
        ]
        for (predicate, keep) in cases {
            let got = try engine.query("SELECT id, k, s, amount, ts, v FROM t WHERE \(predicate)").rows
            let want = Self.rows.filter(keep)
            #expect(got.count == want.count, "\(predicate)")
            #expect(got == want, "\(predicate)")
        }
        // Consumers that read only some columns (the others stay undecoded): an aggregate and a projection.
        let sums = try engine.query("SELECT s, sum(v), count(*) FROM t WHERE k > 10 AND ts >= TIMESTAMP '2023-11-14 23:00:00' GROUP BY s ORDER BY s NULLS FIRST").rows
        var want: [String?: (Int64?, Int64)] = [:]
        for row in Self.rows where (int(row[1]).map { $0 > 10 } ?? false) && (int(row[4]).map { $0 >= 1_700_002_800_000_000 } ?? false) {
            let key: String? = { if case .varchar(let x) = row[2] { return x } else { return nil } }()
            var (sum, count) = want[key] ?? (nil, 0)
            if let v = int(row[5]) { sum = (sum ?? 0) + v }
            want[key] = (sum, count + 1)
        }
        let wantRows: [[Value]] = want.keys.sorted { ($0 ?? "") < ($1 ?? "") || ($0 == nil && $1 != nil) }.map { k in
            [k.map { .varchar($0) } ?? .null, want[k]!.0.map { .bigint($0) } ?? .null, .bigint(want[k]!.1)]
        }
        #expect(sums == wantRows)
        let projected = try engine.query("SELECT v + 1 FROM t WHERE s = 'view' AND id >= 100").rows.map { $0[0] }
        #expect(projected == Self.rows.filter { $0[2] == .varchar("view") && int($0[0])! >= 100 }.map { int($0[5]).map { .bigint($0 + 1) } ?? .null })
        // Only the predicate's columns, and none of them.
        #expect(try engine.query("SELECT s FROM t WHERE s = 'b'").rows.count == Self.rows.filter { $0[2] == .varchar("b") }.count)
        #expect(try engine.query("SELECT count(*) FROM t WHERE amount IS NOT NULL").rows == [[.bigint(Int64(Self.rows.filter { !$0[3].isNull }.count))]])
    }

    /// A comparison on a run-length block runs once per run; NULL rows, stored with a neighbour's value inside the
    /// run, must still not match.
    @Test func predicatesOnRunLengthBlocksKeepNullsOut() throws {
        let rows: [[Value]] = (0..<8192).map { i in
            let x: Value = i % 10 == 3 ? .null : .bigint(i % 512 < 256 ? 500 : 7)
            let s: Value = i % 10 == 3 ? .null : .varchar(i % 1024 < 512 ? "big" : "small")
            return [.integer(Int32(i)), x, s]
        }
        let schema = Schema([Field("id", .integer), Field("x", .bigint), Field("s", .varchar)])
        let store = try EngineFixture.store(table: "r", schema: schema, rows: rows, blockRows: 4096)
        let engine = QueryEngine(store: store)
        let big = rows.filter { $0[1] == .bigint(500) }
        #expect(try engine.query("SELECT count(*) FROM r WHERE x > 100").rows == [[.bigint(Int64(big.count))]])
        #expect(try engine.query("SELECT id FROM r WHERE x > 100").rows == big.map { [$0[0]] })
        #expect(try engine.query("SELECT count(*) FROM r WHERE x IN (500, 1)").rows == [[.bigint(Int64(big.count))]])
        let bigText = rows.filter { $0[2] == .varchar("big") }
        #expect(try engine.query("SELECT count(*) FROM r WHERE s = 'big'").rows == [[.bigint(Int64(bigText.count))]])
        #expect(try engine.query("SELECT count(*) FROM r WHERE s = 'big' AND x > 100").rows
            == [[.bigint(Int64(rows.filter { $0[2] == .varchar("big") && $0[1] == .bigint(500) }.count))]])
    }

    /// `count(*)` under one comparison on a run-length integer block compares and counts the runs in one pass: every
    /// operator, both operand orders, bounds at the run values and past the 32-bit range, 32- and 64-bit and DECIMAL
    /// columns with NULL rows inside the runs, give the count of the plain path.
    @Test func countingRunsAgainstAConstantMatchesEveryRow() throws {
        let rows: [[Value]] = (0..<9000).map { i in
            let null = i % 10 == 3 || (i / 700) % 5 == 2
            let level = Int64([7, 500, -3, 500, 12][(i / 300) % 5])
            return [
                .integer(Int32(i)), null ? .null : .bigint(level), null ? .null : .integer(Int32(level)),
                null ? .null : .decimal(level * 100),
            ]
        }
        let schema = Schema([Field("id", .integer), Field("x", .bigint), Field("y", .integer), Field("d", .decimal)])
        let store = try EngineFixture.store(table: "r", schema: schema, rows: rows, blockRows: 4096)
        let engine = QueryEngine(store: store)
        func count(_ column: Int, _ test: (Int64) -> Bool) -> Int64 {
            Int64(rows.filter { row in
                switch row[column] {
                case .bigint(let v): return test(v)
                case .integer(let v): return test(Int64(v))
                case .decimal(let v): return test(v / 100)
                default: return false
                }
            }.count)
        }
        let tests: [(String, (Int64) -> Bool)] = [
            ("> 7", { $0 > 7 }), (">= 7", { $0 >= 7 }), ("< 12", { $0 < 12 }), ("<= -3", { $0 <= -3 }), ("= 500", { $0 == 500 }),
            ("<> 500", { $0 != 500 }), ("> 9999999999", { _ in false }), ("> -9999999999", { _ in true }),
            ("< -9999999999", { _ in false }), ("= 8", { _ in false }),
        ]
        for (column, name) in [(1, "x"), (2, "y"), (3, "d")] {
            for (predicate, test) in tests {
                let want = count(column, test)
                #expect(try engine.query("SELECT count(*) FROM r WHERE \(name) \(predicate)").rows == [[.bigint(want)]], "\(name) \(predicate)")
            }
            // The constant first: `7 < x` is `x > 7`.
            #expect(try engine.query("SELECT count(*) FROM r WHERE 7 < \(name)").rows == [[.bigint(count(column) { $0 > 7 })]], "7 < \(name)")
        }
    }

    /// A mostly-NULL column is stored sparse (only its valid rows' values) and every way a scan reads it gives the
    /// rows' answer: count(*) under a range counted on the packed values, a filter with a second conjunct (rows
    /// expanded over the validity), values of the rows another filter selected (read by their position among the
    /// valid rows), IS NULL, and grouping on it.
    @Test func aMostlyNullColumnReadsAlikeEveryWay() throws {
        var rng = FixtureRandom(seed: 0x5A5E)
        let rows: [[Value]] = (0..<20_000).map { i in
            let a: Value = Int.random(in: 0..<9, using: &rng) == 0 ? .decimal(Int64.random(in: 1...50_000, using: &rng)) : .null
            let k: Value = Int.random(in: 0..<4, using: &rng) == 0 ? .bigint(Int64(i % 5)) : .null
            return [.integer(Int32(i)), a, k]
        }
        let schema = Schema([Field("id", .integer), Field("a", .decimal), Field("k", .bigint)])
        let store = try EngineFixture.store(table: "s", schema: schema, rows: rows, blockRows: 4096)
        let stats = try store.stats().first { $0.table == "s" }!
        #expect(!stats.columnEncodings[1].isEmpty && stats.columnEncodings[1].keys.allSatisfy { $0.contains("+sparse") }, "\(stats.columnEncodings[1])")
        #expect(stats.columnEncodings[2].keys.contains { $0.contains("+sparse") }, "\(stats.columnEncodings[2])")
        let engine = QueryEngine(store: store)
        func cents(_ v: Value) -> Int64? { if case .decimal(let x) = v { x } else { nil } }
        let amounts = rows.map { cents($0[1]) }
        for (predicate, test) in [("a > 100.00", { (x: Int64) in x > 10_000 }), ("a <= 7.5", { $0 <= 750 }), ("a = 123.45", { $0 == 12_345 })] {
            let want = amounts.filter { $0.map(test) ?? false }.count
            #expect(try engine.query("SELECT count(*) FROM s WHERE \(predicate)").rows == [[.bigint(Int64(want))]], "\(predicate)")
            let withID = rows.indices.filter { $0 % 3 == 0 && (amounts[$0].map(test) ?? false) }.count
            #expect(
                try engine.query("SELECT count(*) FROM s WHERE \(predicate) AND id % 3 = 0").rows == [[.bigint(Int64(withID))]],
                "\(predicate) and id")
        }
        // Counted from the footers where the zone map proves every non-NULL amount passes (`a > 0.00`, `a >= 0.01`);
        // blocks counted in place and blocks filtered row by row (`id`) add up in one count.
        let valid = amounts.filter { $0 != nil }.count
        for predicate in ["a > 0.00", "a >= 0.01", "0.00 < a"] {
            #expect(try engine.query("SELECT count(*) FROM s WHERE \(predicate)").rows == [[.bigint(Int64(valid))]], "\(predicate)")
        }
        #expect(try engine.query("SELECT count(*) FROM s WHERE id >= 7000").rows == [[.bigint(Int64(rows.count - 7000))]])
        #expect(try engine.query("SELECT count(*) FROM s WHERE id % 2 = 0").rows == [[.bigint(Int64(rows.count / 2))]])
        // EXPLAIN ANALYZE says how many of the blocks read were counted without their rows: every sparse amount block
        // for a range, none for a computed predicate.
        func plan(_ predicate: String) throws -> String {
            try engine.query("EXPLAIN ANALYZE SELECT count(*) FROM s WHERE \(predicate)").rows.map { "\($0)" }.joined()
        }
        let counted = try plan("a > 100.00")
        #expect(counted.contains("count(*) of 5/5 blocks without their rows"))
        // Those counts read the packed values, not the validity bitmaps: the bytes read are the stored bytes less
        // one bitmap per block (four blocks of 4,096 rows and one of 3,616, a 64-bit word per 64 rows).
        let bitmaps = [4096, 4096, 4096, 4096, 3616].reduce(0) { $0 + ($1 + 63) / 64 * 8 }
        let bytes = try #require(counted.firstMatch(of: /reading (\d+) of their (\d+) stored bytes/))
        #expect(Int(bytes.2)! - Int(bytes.1)! == bitmaps, "\(counted)")
        #expect(try plan("id % 2 = 0").contains("count(*) of 0/5 blocks without their rows"))
        let picked = rows.indices.filter { $0 % 7 == 2 }
        let sum = picked.compactMap { amounts[$0] }.reduce(0, +)
        let got = try engine.query("SELECT sum(a), count(a), count(*), min(id), max(id) FROM s WHERE id % 7 = 2").rows
        #expect(got == [[.decimal(sum), .bigint(Int64(picked.filter { amounts[$0] != nil }.count)), .bigint(Int64(picked.count)),
                         .integer(Int32(picked.first!)), .integer(Int32(picked.last!))]])
        let listed = try engine.query("SELECT id, a FROM s WHERE id BETWEEN 1000 AND 1400 ORDER BY id").rows
        #expect(listed == (1000...1400).map { [.integer(Int32($0)), rows[$0][1]] })
        // count(*) over the whole table decodes no block: the footers' row counts are enough.
        #expect(try engine.query("SELECT count(*) FROM s").rows == [[.bigint(Int64(rows.count))]])
        let plan = try engine.query("EXPLAIN ANALYZE SELECT count(*) FROM s").rows.map { "\($0)" }.joined()
        #expect(plan.contains("no column read (row counts only)"), "\(plan)")
        let nulls = amounts.filter { $0 == nil }.count
        #expect(try engine.query("SELECT count(*) FROM s WHERE a IS NULL").rows == [[.bigint(Int64(nulls))]])
        var groups: [Int64?: Int] = [:]
        for r in rows { groups[{ if case .bigint(let x) = r[2] { x } else { nil } }(), default: 0] += 1 }
        let grouped = try engine.query("SELECT k, count(*) FROM s GROUP BY k ORDER BY k NULLS LAST").rows
        #expect(grouped == groups.keys.sorted { ($0 ?? .max) < ($1 ?? .max) }.map { [$0.map { .bigint($0) } ?? .null, .bigint(Int64(groups[$0]!))] })
    }

    /// A scan that reads no column hands on its rows as a few large placeholder batches (not one per block): the
    /// consumers still see every row, also where the total is not a multiple of a batch's rows.
    @Test(arguments: [1, 2])
    func aScanReadingNoColumnCountsEveryRow(threads: Int) throws {
        let n = 2 * Executor.placeholderRows + 4097
        let rows: [[Value]] = (0..<n).map { [.integer(Int32($0 % 7))] }
        let store = try EngineFixture.store(table: "c", schema: Schema([Field("x", .integer)]), rows: rows, blockRows: 4096)
        let engine = try QueryEngine(store: store, options: QueryOptions(threads: threads))
        #expect(try engine.query("SELECT count(*) FROM c").rows == [[.bigint(Int64(n))]])
        #expect(try engine.query("SELECT count(*), count(*) FILTER (WHERE true), sum(2) FROM c").rows
            == [[.bigint(Int64(n)), .bigint(Int64(n)), .bigint(2 * Int64(n))]])
        #expect(try engine.query("SELECT count(*) FROM (SELECT 1 AS one FROM c) t WHERE one = 1").rows == [[.bigint(Int64(n))]])
        #expect(try engine.query("SELECT 5 AS five FROM c LIMIT 3").rows == [[.integer(5)], [.integer(5)], [.integer(5)]])
    }

    /// Planning judges `text = 'a'` and `text IN (…)` from the block's text zone and the constants' bytes; it keeps
    /// and skips the blocks the expression walk does, for constants below, at, between and past the zone's ends, a
    /// minimum that is a prefix, a zone without a maximum, multi-byte text, all-NULL blocks and blocks of another
    /// zone. A NULL in the list matches nothing (the walk keeps every block for it, which is safe).
    @Test func textZoneCheckAgreesWithTheExpressionWalk() {
        let zones: [(zone: ZoneMap, rows: Int, nulls: Int)] = [
            (.string(min: "app", max: "web"), 100, 0), (.string(min: "we", max: nil), 100, 3), (.string(min: "b", max: "b"), 10, 0),
            (.string(min: "café", max: "caféx"), 10, 0), (.string(min: "a", max: "z"), 100, 100), (.none, 100, 0),
            (.integer(min: 1, max: 2), 5, 0),
        ]
        let constants = ["", "a", "app", "apq", "b", "ba", "caf", "café", "cafée", "web", "webs", "we", "x", "zz"]
        var judged = 0
        for z in zones {
            for c in constants {
                let e = BoundExpr.compare(.equal, .column(0, .varchar), .constant(.varchar(c), .varchar))
                let flipped = BoundExpr.compare(.equal, .constant(.varchar(c), .varchar), .column(0, .varchar))
                for x in [e, flipped] {
                    let t = ZoneCheck.textEquality(x)
                    #expect(t?.column == 0 && t?.constants == [Array(c.utf8)])
                    #expect(ZoneCheck.mayMatch(equalToOneOf: t!.constants, z) == ZoneCheck.mayMatch(x) { _ in z }, "\(x) over \(z)")
                    judged += 1
                }
                let list = BoundExpr.inList(.column(0, .varchar), values: [.varchar(c), .varchar("b")], listHasNull: false, negated: false)
                let t = ZoneCheck.textEquality(list)!
                #expect(ZoneCheck.mayMatch(equalToOneOf: t.constants, z) == ZoneCheck.mayMatch(list) { _ in z }, "\(list) over \(z)")
                let withNull = BoundExpr.inList(.column(0, .varchar), values: [.varchar(c), .null], listHasNull: true, negated: false)
                #expect(ZoneCheck.mayMatch(equalToOneOf: ZoneCheck.textEquality(withNull)!.constants, z)
                    == ZoneCheck.mayMatch(.compare(.equal, .column(0, .varchar), .constant(.varchar(c), .varchar))) { _ in z })
            }
        }
        #expect(judged == 7 * 14 * 2)
        // Not an equality on text: left to the walk.
        #expect(ZoneCheck.textEquality(.compare(.less, .column(0, .varchar), .constant(.varchar("a"), .varchar))) == nil)
        #expect(ZoneCheck.textEquality(.inList(.column(0, .varchar), values: [.varchar("a")], listHasNull: false, negated: true)) == nil)
    }

    /// Planning judges a range on an integer column from the block's plain summary; it keeps and skips the blocks the
    /// expression walk over zone maps does, for every comparison, edge constants, all-NULL blocks and blocks without an
    /// integer zone; a range no value can satisfy skips every block.
    @Test func rangeZoneCheckAgreesWithTheExpressionWalk() {
        let zones: [(zone: ZoneMap, rows: Int, nulls: Int)] = [
            (.integer(min: -5, max: 5), 100, 0), (.integer(min: 10, max: 10), 100, 3), (.integer(min: 0, max: 0), 100, 100),
            (.none, 100, 0), (.integer(min: .min, max: .max), 7, 1), (.integer(min: 100, max: 200), 50, 49),
        ]
        let constants: [Int64] = [.min, -6, -5, 0, 5, 6, 10, 11, 100, 150, 200, 201, .max]
        let ops: [ComparisonOperator] = [.equal, .less, .lessEqual, .greater, .greaterEqual]
        var judged = 0
        for z in zones {
            let summary: (rows: Int, nulls: Int, integerZone: (min: Int64, max: Int64)?) = {
                if case .integer(let lo, let hi) = z.zone { return (z.rows, z.nulls, (lo, hi)) }
                return (z.rows, z.nulls, nil)
            }()
            for op in ops {
                for c in constants {
                    for e in [BoundExpr.compare(op, .column(0, .bigint), .constant(.bigint(c), .bigint)),
                              .compare(op, .constant(.bigint(c), .bigint), .column(0, .bigint))] {
                        let range = FilteredScan.acceptedRange(e)!
                        #expect(FilteredScan.rangeColumn(e) == 0)
                        if range.lo > range.hi {
                            // `x < MIN`, `x > MAX`: no value can match, so no block is read (the walk keeps blocks
                            // without an integer zone, which is safe but reads them for nothing).
                            #expect(!ZoneCheck.mayMatch(range: range, summary), "\(e) over \(z)")
                        } else {
                            #expect(ZoneCheck.mayMatch(range: range, summary) == ZoneCheck.mayMatch(e) { _ in z }, "\(e) over \(z)")
                        }
                        judged += 1
                    }
                }
            }
        }
        #expect(judged == 6 * 5 * 13 * 2)
    }

    /// A column read through a key map (merged customer ids) is filtered on the keys queries see, never on the stored
    /// ones: count(*) under a range on it cannot be judged from its zone maps or counted on its packed values.
    @Test func countingOverAKeyMappedColumnSeesTheMappedKeys() throws {
        let store = try Store(path: VectorFixtures.temporaryDirectory("keymapped") + "/store", create: true)
        let mapSchema = Schema([Field("node", .bigint), Field("customer", .bigint)])
        try store.createTable("m", schema: mapSchema)
        // Stored keys 0..<4000 map to 7 for the even ones and to 5000 + key for the odd ones.
        try store.append(Chunk(schema: mapSchema, rows: (0..<4000).map { k in [.bigint(Int64(k)), .bigint(k % 2 == 0 ? 7 : 5000 + Int64(k))] }), to: "m")
        let schema = Schema([Field("id", .integer), Field("c", .bigint)])
        try store.createTable("t", schema: schema, layout: TableLayout(keyMap: KeyMap(column: "c", table: "m", from: "node", to: "customer")))
        var options = SegmentOptions()
        options.blockRows = 512
        try store.append(Chunk(schema: schema, rows: (0..<4000).map { i in [.integer(Int32(i)), .bigint(Int64(i))] }), to: "t", options: options)
        let engine = QueryEngine(store: store)
        for (predicate, want) in [("c = 7", 2000), ("c > 100", 2000), ("c < 100", 2000), ("c >= 5000", 2000), ("c BETWEEN 7 AND 7", 2000), ("c = 8", 0)] {
            #expect(try engine.query("SELECT count(*) FROM t WHERE \(predicate)").rows == [[.bigint(Int64(want))]], "\(predicate)")
        }
    }

    /// GROUP BY on two to four keys that are dictionary text or integers takes packed ids; the same keys with the text
    /// made plain (`s || ''`) take serialized keys. Both give the same groups and aggregates, with NULL keys, and when a
    /// column outgrows its share of the packed word part way through (`u`: 70,000 distinct values, over 16 bits).
    @Test(arguments: [1, 2])
    func groupingOnSeveralSmallKeysMatchesTheSerializedKeyPath(threads: Int) throws {
        let engine = try Self.engine(threads: threads)
        for keys in ["s, k", "k, s", "s, k, amount", "date_trunc('hour', ts), s, k, amount"] {
            let plain = keys.replacingOccurrences(of: "s,", with: "s || '',").replacingOccurrences(of: ", s", with: ", s || ''")
            func run(_ k: String) throws -> [[Value]] {
                try engine.query("SELECT \(k), count(*), count(DISTINCT v), sum(v) FROM t GROUP BY ALL ORDER BY ALL").rows
            }
            let packed = try run(keys)
            #expect(packed.count > 10)
            let other = try run(plain)
            let firstDiff = zip(packed, other).first { $0.0.suffix(3) != $0.1.suffix(3) }
            #expect(packed.map { $0.suffix(3) } == other.map { $0.suffix(3) }, "\(keys) \(packed.count) \(other.count) \(String(describing: firstDiff))")
        }
        var rng = FixtureRandom(seed: 5)
        let rows: [[Value]] = (0..<70_000).map { i in
            // NULL text and integer keys too: the workers' packed groups merge by value, NULL with NULL.
            let s: Value = i % 11 == 4 ? .null : .varchar(["x", "y", "z"][Int.random(in: 0..<3, using: &rng)])
            return [.integer(Int32(i)), s, i % 13 == 5 ? .null : .integer(Int32(i % 7)), .boolean(i % 3 == 0)]
        }
        let schema = Schema([Field("u", .integer), Field("s", .varchar), Field("k", .integer), Field("b", .boolean)])
        let wide = QueryEngine(
            store: try EngineFixture.store(table: "w", schema: schema, rows: rows, blockRows: 4096), options: QueryOptions(threads: threads))
        let packed = try wide.query("SELECT u, s, k, b, count(*) AS c FROM w GROUP BY s, k, b, u ORDER BY u").rows
        let plain = try wide.query("SELECT u, s || '', k, b, count(*) AS c FROM w GROUP BY s || '', k, b, u ORDER BY u").rows
        #expect(packed.count == 70_000)
        #expect(packed == plain)
        // Two small keys over 18 blocks: every worker stays packed, and their groups merge by value.
        let fewPacked = try wide.query("SELECT s, k, count(*), sum(u) FROM w GROUP BY s, k ORDER BY ALL").rows
        let fewPlain = try wide.query("SELECT s || '', k, count(*), sum(u) FROM w GROUP BY s || '', k ORDER BY ALL").rows
        #expect(fewPacked.count == 4 * 8)
        #expect(fewPacked == fewPlain)
        #expect(packed.prefix(2) == [
            [.integer(0), rows[0][1], .integer(0), .boolean(true), .bigint(1)], [.integer(1), rows[1][1], .integer(1), .boolean(false), .bigint(1)],
        ])
    }

    /// FILTER and WHERE masks on a dictionary-form VARCHAR (decided once per entry, then per row by code: compared
    /// eight rows at a time with up to four passing or four failing entries, looked up otherwise) match the same
    /// predicates on the flattened column, with NULL rows, repeated entries and a count that is not a multiple of 8.
    @Test func dictionaryMasksMatchTheFlatColumn() throws {
        var rng = FixtureRandom(seed: 0xD1C7)
        let words = ["view", "cart", "purchase", "return", "email", "sms", "ads", "call", "pos", "web", "view"]
        var builder = ColumnBuilder(.varchar)
        for w in words { builder.append(string: w) }
        let entries = builder.finish()
        let n = 203
        let codes = (0..<n).map { _ in UInt32(rng.next() % UInt64(words.count)) }
        var bits = [UInt64](repeating: 0, count: (n + 63) / 64)
        for i in 0..<n where i % 13 != 5 { bits[i >> 6] |= 1 << UInt64(i & 63) }
        let coded = ColumnVector(codes: Buffer(copying: codes), entries: entries, count: n, validity: Buffer(copying: bits))
        var flatBuilder = ColumnBuilder(.varchar)
        for i in 0..<n { if i % 13 == 5 { flatBuilder.appendNull() } else { flatBuilder.append(string: words[Int(codes[i])]) } }
        let flat = flatBuilder.finish()
        #expect(coded.dictionary != nil && flat.dictionary == nil)
        func inList(_ values: [String], negated: Bool = false) -> BoundExpr {
            .inList(.column(0, .varchar), values: values.map { .varchar($0) }, listHasNull: false, negated: negated)
        }
        let predicates: [BoundExpr] = [
            .compare(.equal, .column(0, .varchar), .constant(.varchar("purchase"), .varchar)),  // one passing entry
            .compare(.equal, .column(0, .varchar), .constant(.varchar("view"), .varchar)),  // two entries hold it
            inList(["view", "cart", "purchase"]),  // four passing entries
            .compare(.notEqual, .column(0, .varchar), .constant(.varchar("sms"), .varchar)),  // one failing entry
            inList(["return", "ads", "call"], negated: true),  // three failing entries
            inList(["view", "cart", "purchase", "email", "sms"]),  // six passing, five failing: looked up
            .compare(.equal, .column(0, .varchar), .constant(.varchar("nothing"), .varchar)),  // none
        ]
        let evaluator = Evaluator(now: 0)
        for e in predicates {
            let got = try evaluator.mask(e, Batch(columns: [coded], count: n))
            let want = try evaluator.mask(e, Batch(columns: [flat], count: n))
            #expect(got.allValues == want.allValues, "\(e)")
        }
    }

    /// DISTINCT pairs: 1.1M appended pairs (a pass runs while appending, past 2^20), another set merged in with its
    /// groups renumbered, then the last pass: the pairs left are exactly the distinct ones. A copy taken before more
    /// appends keeps its own pairs (the array behind them is copied on write).
    @Test func groupValuePairsKeepEachDistinctPairOnce() {
        var rng = FixtureRandom(seed: 0x9A1F)
        var a = GroupValuePairs(), b = GroupValuePairs()
        func key(_ g: Int32, _ v: Int64) -> Int64 { Int64(g) << 32 | (v & 0xFFFF_FFFF) }
        var want = Set<Int64>()
        for _ in 0..<1_100_000 {
            let g = Int32(rng.next() % 50), v = Int64(rng.next() % 20_000) - 10_000
            a.append(g, v)
            want.insert(key(g, v))
        }
        let snapshot = a
        let before = snapshot.count
        for v in Int64(50_000)..<50_010 {
            a.append(1, v)
            want.insert(key(1, v))
        }
        for _ in 0..<100_000 {
            let g = Int32(rng.next() % 7), v = Int64(rng.next() % 30_000)
            b.append(g, v)
            want.insert(key(g * 10 + 3, v))
        }
        a.append(contentsOf: b, groups: (0..<7).map { Int32($0 * 10 + 3) })
        a.makeDistinct(parallel: true)
        var got: [Int64] = []
        a.forEach { g, v in got.append(key(g, v)) }
        #expect(got.count == want.count)
        #expect(Set(got) == want)
        #expect(snapshot.count == before)
        var seen = 0
        snapshot.forEach { _, _ in seen += 1 }
        #expect(seen == before)
    }

    /// Two workers' packed groups merge by value: the second worker's column ids (its own first-appearance order,
    /// NULLs included) are mapped to the first's, and the key columns come out in the first's group order.
    @Test func packedGroupsOfTwoWorkersMergeByValue() throws {
        func batch(_ rows: [(String?, Int32?)]) -> [ColumnVector] {
            var entries: [String] = []
            for case (let s?, _) in rows where !entries.contains(s) { entries.append(s) }
            var builder = ColumnBuilder(.varchar)
            for e in entries { builder.append(string: e) }
            var bits = [UInt64](repeating: 0, count: 1)
            for (i, r) in rows.enumerated() where r.0 != nil { bits[0] |= 1 << UInt64(i) }
            let text = ColumnVector(
                codes: Buffer(copying: rows.map { r in UInt32(r.0.flatMap { entries.firstIndex(of: $0) } ?? 0) }), entries: builder.finish(),
                count: rows.count, validity: Buffer(copying: bits))
            var ints = ColumnBuilder(.integer)
            for r in rows { if let k = r.1 { ints.append(int32: k) } else { ints.appendNull() } }
            return [text, ints.finish()]
        }
        let first = PackedKeys(keyTypes: [.varchar, .integer]), second = PackedKeys(keyTypes: [.varchar, .integer])
        let a = batch([("x", 1), ("y", nil), (nil, 2), ("x", 1)])
        let b = batch([("y", nil), ("z", 1), ("x", 1), (nil, nil), ("z", 1)])
        var gids = [Int32](repeating: 0, count: 5)
        #expect(first.groupIDs(a, 4, &gids) && Array(gids.prefix(4)) == [0, 1, 2, 0])
        #expect(second.groupIDs(b, 5, &gids) && gids == [0, 1, 2, 3, 1])
        let map = try #require(first.absorb(second))
        #expect(map == [1, 3, 0, 4])
        let keys = first.keyColumns([.varchar, .integer])
        #expect(keys[0].allValues == [.varchar("x"), .varchar("y"), .null, .varchar("z"), .null])
        #expect(keys[1].allValues == [.integer(1), .null, .integer(2), .integer(1), .null])
    }

    /// A window partitioned by the integer `k` (counting sort) against the same window partitioned by `k` as text
    /// (one sort over all rows): the same value for every row.
    @Test(arguments: [1, 2])
    func windowsByAnIntegerKeyMatchTheGeneralSort(threads: Int) throws {
        let engine = try Self.engine(threads: threads)
        let calls = [
            "row_number() OVER (PARTITION BY %@ ORDER BY ts, id)",
            "rank() OVER (PARTITION BY %@ ORDER BY ts DESC NULLS LAST)",
            "dense_rank() OVER (PARTITION BY %@ ORDER BY s)",
            "lag(v) OVER (PARTITION BY %@ ORDER BY ts, id)",
            "lead(s, 2, 'none') OVER (PARTITION BY %@ ORDER BY ts, id)",
            "sum(v) OVER (PARTITION BY %@ ORDER BY ts)",
            "count(*) OVER (PARTITION BY %@)",
            "ntile(3) OVER (PARTITION BY %@ ORDER BY v NULLS FIRST, id)",
            "first_value(id) OVER (PARTITION BY %@ ORDER BY amount DESC, id)",
        ]
        for call in calls {
            func run(_ key: String) throws -> [[Value]] {
                try engine.query("SELECT id, \(call.replacingOccurrences(of: "%@", with: key)) AS w FROM t ORDER BY id").rows
            }
            let dense = try run("k")
            #expect(dense.count == Self.rows.count)
            #expect(dense == (try run("CAST(k AS VARCHAR)")), "\(call)")
        }
    }

    /// Several calls in one SELECT: the window hands rows on in the first call's order, calls over that window read
    /// them in place, calls over other windows sort again and write back, and columns nothing reads stay behind.
    /// Each call must give every row the value it gets alone.
    @Test(arguments: [1, 2])
    func callsOverSeveralWindowsInOneSelectMatchEachCallAlone(threads: Int) throws {
        let engine = try Self.engine(threads: threads)
        let calls = [
            "lead(v) OVER (PARTITION BY k ORDER BY ts, id)",
            "row_number() OVER (PARTITION BY s ORDER BY id DESC)",
            "lag(s, 2, 'none') OVER (PARTITION BY k ORDER BY ts, id)",
            "sum(v) OVER (PARTITION BY k ORDER BY ts)",
            "rank() OVER (ORDER BY amount NULLS FIRST)",
            "lead(id, 3) OVER (PARTITION BY k ORDER BY ts, id)",
        ]
        let together = try engine.query("SELECT id, \(calls.joined(separator: ", ")) FROM t ORDER BY id").rows
        #expect(together.count == Self.rows.count)
        for (c, call) in calls.enumerated() {
            let alone = try engine.query("SELECT id, \(call) FROM t ORDER BY id").rows
            #expect(together.map { [$0[0], $0[c + 1]] } == alone, "\(call)")
        }
        // Over a subquery that reads only the window's results and one input column.
        let counted = try engine.query("""
            SELECT count(*) FILTER (WHERE s = 'view' AND n1 = 'purchase'), count(n2), count(*)
            FROM (SELECT s, lead(s) OVER (PARTITION BY k ORDER BY ts, id) AS n1, lead(s, 2) OVER (PARTITION BY k ORDER BY ts, id) AS n2 FROM t)
            """).rows
        let listed = try engine.query("SELECT s, lead(s) OVER (PARTITION BY k ORDER BY ts, id), lead(s, 2) OVER (PARTITION BY k ORDER BY ts, id) FROM t").rows
        #expect(counted == [[
            .bigint(Int64(listed.filter { $0[0] == .varchar("view") && $0[1] == .varchar("purchase") }.count)),
            .bigint(Int64(listed.filter { !$0[2].isNull }.count)), .bigint(Int64(Self.rows.count)),
        ]])
    }

    @Test func aWindowPartitionedByAnIntegerKeyIsCheckedByHand() throws {
        let rows: [[Value]] = [
            [.integer(1), .integer(5), .timestamp(30)], [.integer(2), .integer(-2), .timestamp(10)],
            [.integer(3), .integer(5), .timestamp(10)], [.integer(4), .null, .timestamp(5)],
            [.integer(5), .integer(5), .timestamp(20)], [.integer(6), .null, .timestamp(1)],
        ]
        let schema = Schema([Field("id", .integer), Field("k", .integer), Field("ts", .timestamp)])
        let store = try EngineFixture.store(table: "w", schema: schema, rows: rows, blockRows: 2)
        let r = try QueryEngine(store: store).query(
            "SELECT id, row_number() OVER (PARTITION BY k ORDER BY ts) AS n, lead(id) OVER (PARTITION BY k ORDER BY ts) AS next FROM w ORDER BY id").rows
        #expect(r == [
            [.integer(1), .bigint(3), .null], [.integer(2), .bigint(1), .null], [.integer(3), .bigint(1), .integer(5)],
            [.integer(4), .bigint(2), .null], [.integer(5), .bigint(2), .integer(1)], [.integer(6), .bigint(1), .integer(4)],
        ])
    }

    /// Rows of a partition keep their input order where ORDER BY does not decide (here there is none), also when
    /// the counting sort by the partition key runs on several workers, each placing a range of the rows.
    @Test(arguments: [1, 2])
    func partitionsKeepInputOrderAcrossWorkers(threads: Int) throws {
        let schema = Schema([Field("id", .integer), Field("k", .integer)])
        let rows: [[Value]] = (0..<20_000).map { i in [.integer(Int32(i)), .integer(Int32(i % 37))] }
        let store = try EngineFixture.store(table: "o", schema: schema, rows: rows, blockRows: 1024)
        let engine = QueryEngine(store: store, options: QueryOptions(threads: threads))
        let got = try engine.query("SELECT id, row_number() OVER (PARTITION BY k) FROM o").rows
        #expect(got.count == rows.count)
        for row in got {
            guard case .integer(let id) = row[0], case .bigint(let rn) = row[1] else {
                Issue.record("unexpected row \(row)")
                return
            }
            #expect(rn == Int64(id / 37) + 1, "row \(id)")
        }
    }

    /// A comparison on a dictionary block runs once per entry and is looked up per row; NULL rows, stored with a
    /// neighbour's code, stay out of it.
    @Test func predicatesOnDictionaryBlocksKeepNullsOut() throws {
        let texts = ["view", "cart", "buy", "return", "open"]
        let rows: [[Value]] = (0..<9000).map { i in
            [.integer(Int32(i)), i % 7 == 3 ? .null : .varchar(texts[(i * 7 + i / 5) % texts.count])]
        }
        let schema = Schema([Field("id", .integer), Field("s", .varchar)])
        let store = try EngineFixture.store(table: "d", schema: schema, rows: rows, blockRows: 2048)
        let engine = QueryEngine(store: store)
        for (predicate, keep) in [
            ("s = 'buy'", { (v: Value) in v == .varchar("buy") }),
            ("s IN ('view', 'open')", { (v: Value) in v == .varchar("view") || v == .varchar("open") }),
            ("s <> 'cart'", { (v: Value) in !v.isNull && v != .varchar("cart") }),
        ] {
            let want = rows.filter { keep($0[1]) }
            #expect(try engine.query("SELECT count(*) FROM d WHERE \(predicate)").rows == [[.bigint(Int64(want.count))]], "\(predicate)")
            #expect(try engine.query("SELECT id FROM d WHERE \(predicate)").rows == want.map { [$0[0]] }, "\(predicate)")
        }
    }
}
