import SeamColumnar
import SeamEngine
import SeamSQL
import SeamStorage
import SeamTestSupport
import Testing

/// VARCHAR blocks stored with dictionary or run-length encoding reach the engine in dictionary form: predicates run
/// once per entry and grouping looks each entry up once. These queries check that path against answers computed
/// here from the rows themselves, with NULLs, empty strings and LIKE metacharacters in the data.
@Suite struct DictionaryFormTests {
    static let values: [String?] = ["web", "email", nil, "c%x", "", "store_pos", "web", "Email"]
    /// `d`: shuffled values (dictionary-coded); `r`: long runs (run-length-coded); `n`: a row number.
    static let rows: [[Value]] = (0..<6000).map { i -> [Value] in
        let d = values[(i &* 7919 &+ i / 3) % values.count]
        let r = values[(i / 700) % values.count]
        return [d.map(Value.varchar) ?? .null, r.map(Value.varchar) ?? .null, .bigint(Int64(i))]
    }

    static let engine: QueryEngine = {
        let schema = Schema([Field("d", .varchar), Field("r", .varchar), Field("n", .bigint)])
        let store = try! EngineFixture.store(table: "v", schema: schema, rows: rows, blockRows: 2048)
        return QueryEngine(store: store, options: QueryOptions(threads: 2))
    }()

    @Test func blocksAreDictionaryAndRunLengthCoded() throws {
        let stats = try #require(try Self.engine.store.stats().first { $0.table == "v" })
        #expect(stats.encodings.keys.contains { $0.hasPrefix("dictionary") }, "\(stats.encodings)")
        #expect(stats.encodings.keys.contains { $0.hasPrefix("rle") }, "\(stats.encodings)")
    }

    /// SQL's three-valued truth of a predicate on one string, nil for NULL.
    typealias Predicate = @Sendable (String?) -> Bool?

    static func strict(_ f: @escaping @Sendable (String) -> Bool) -> Predicate { { $0.map(f) } }

    static let predicates: [(String, Predicate)] = [
        ("= 'web'", strict { $0 == "web" }),
        ("<> 'web'", strict { $0 != "web" }),
        ("> 'email'", strict { $0 > "email" }),
        ("IN ('web', 'c%x', '')", strict { ["web", "c%x", ""].contains($0) }),
        ("NOT IN ('web', 'email')", strict { !["web", "email"].contains($0) }),
        ("LIKE 'c%'", strict { $0.hasPrefix("c") }),
        ("LIKE '%e%'", strict { $0.contains("e") }),
        ("ILIKE 'email'", strict { $0.lowercased() == "email" }),
        ("= ''", strict { $0.isEmpty }),
        ("IN ('web', NULL)", { @Sendable s in s.flatMap { $0 == "web" ? true : nil } }),  // NULL, not FALSE, off 'web'
        ("<> 'nowhere'", strict { $0 != "nowhere" }),  // an entry no block holds
    ]

    @Test(arguments: ["d", "r"]) func predicatesMatchThreeValuedLogic(column: String) throws {
        let index = column == "d" ? 0 : 1
        for (text, p) in Self.predicates {
            let expectTrue = Self.rows.filter { r in p(r[index].stringValue) == true }.count
            let expectNull = Self.rows.filter { r in p(r[index].stringValue) == nil }.count
            let got = try Self.engine.query(
                "SELECT count(*) FILTER (WHERE \(column) \(text)), count(*) FILTER (WHERE (\(column) \(text)) IS NULL), "
                    + "count(*) FILTER (WHERE NOT (\(column) \(text))) FROM v").rows[0]
            #expect(got == [.bigint(Int64(expectTrue)), .bigint(Int64(expectNull)), .bigint(Int64(Self.rows.count - expectTrue - expectNull))],
                    "\(column) \(text)")
        }
        // AND / OR of two predicates on the same column, pushed down together.
        let both = Self.rows.filter { r in
            let s = r[index].stringValue
            return s.map { $0 == "web" || $0.hasPrefix("c") } == true && s != ""
        }.count
        let got = try Self.engine.query("SELECT count(*) FROM v WHERE (\(column) = 'web' OR \(column) LIKE 'c%') AND \(column) <> ''").rows[0]
        #expect(got == [.bigint(Int64(both))])
    }

    /// `count(*) WHERE` a predicate on a dictionary column is counted on the packed codes, each entry's flag once per
    /// block: 3-bit codes without NULLs (`a`) and mostly NULL (`b`, stored sparse), 4-bit codes (`c`); a few passing
    /// or failing entries compared a word of codes at a time, others summed in chunks or a flag per code. The counts equal the rows' own, and EXPLAIN ANALYZE says every block was counted so (the
    /// test would otherwise pass on the row path).
    @Test func countsUnderDictionaryPredicatesComeFromTheCodes() throws {
        let texts = ["web", "email", "c%x", "", "store_pos", "Email", "app"]
        let more = texts + ["call_centre", "pos", "sms", "crm", "kiosk"]
        let rows: [[Value]] = (0..<9000).map { i in
            let a = texts[(i &* 7919 &+ i / 5) % texts.count]
            let b: String? = i % 9 == 0 ? texts[(i / 9 &* 31) % texts.count] : nil
            let c = more[(i &* 104_729 &+ i / 7) % more.count]
            return [.varchar(a), b.map(Value.varchar) ?? .null, .varchar(c)]
        }
        let schema = Schema([Field("a", .varchar), Field("b", .varchar), Field("c", .varchar)])
        let store = try EngineFixture.store(table: "w", schema: schema, rows: rows, blockRows: 2048)
        let engine = QueryEngine(store: store, options: QueryOptions(threads: 2))
        let encodings = try #require(try store.stats().first { $0.table == "w" }).encodings
        #expect(encodings.keys.contains { $0.hasPrefix("dictionary") && $0.contains("sparse") }, "\(encodings)")
        let extra: [(String, Predicate)] = [("IS NOT NULL", { @Sendable s in s != nil }), ("= NULL", { @Sendable _ in nil })]
        for (index, column) in ["a", "b", "c"].enumerated() {
            for (text, p) in Self.predicates + extra {
                let expected = rows.filter { p($0[index].stringValue) == true }.count
                let got = try engine.query("SELECT count(*) FROM w WHERE \(column) \(text)").rows
                #expect(got == [[.bigint(Int64(expected))]], "\(column) \(text)")
            }
            for text in ["= 'web'", "IN ('web', 'c%x', '')", "LIKE '%e%'"] {
                let plan = try engine.query("EXPLAIN ANALYZE SELECT count(*) FROM w WHERE \(column) \(text)").rows.map { $0[0].stringValue ?? "" }
                #expect(plan.contains { $0.contains("count(*) of 5/5 blocks without their rows") }, "\(column) \(text): \(plan)")
            }
        }
    }

    /// A window concatenates the blocks' dictionary vectors (entries one after another, codes shifted) and `lead`
    /// gathers codes: every row must still read its own value and its successor's, NULLs included.
    @Test(arguments: ["d", "r"]) func windowsOverDictionaryBlocksKeepValues(column: String) throws {
        let index = column == "d" ? 0 : 1
        let got = try Self.engine.query("SELECT n, \(column), lead(\(column)) OVER (ORDER BY n) FROM v ORDER BY n").rows
        #expect(got.count == Self.rows.count)
        for (i, row) in got.enumerated() {
            let next = i + 1 < Self.rows.count ? Self.rows[i + 1][index] : Value.null
            if row != [.bigint(Int64(i)), Self.rows[i][index], next] {
                Issue.record("row \(i): \(row)")
                break
            }
        }
        let matches = try Self.engine.query(
            "SELECT count(*) FROM (SELECT \(column) AS x, lead(\(column)) OVER (ORDER BY n) AS y FROM v) WHERE x = 'web' AND y = 'web'").rows[0]
        let expected = (0..<(Self.rows.count - 1)).filter { Self.rows[$0][index] == .varchar("web") && Self.rows[$0 + 1][index] == .varchar("web") }.count
        #expect(matches == [.bigint(Int64(expected))])
    }

    /// String functions of one dictionary-form column and constants run once per entry (a VARCHAR result keeps the
    /// rows' codes): each row must get its own value's result, NULL for a NULL row, also after a filter that leaves
    /// some entries unused, and in WHERE (the predicate path) as in SELECT.
    @Test(arguments: ["d", "r"]) func functionsOfEntriesGiveEachRowItsOwnResult(column: String) throws {
        let index = column == "d" ? 0 : 1
        let got = try Self.engine.query(
            "SELECT n, upper(\(column)), length(\(column)), regexp_replace(\(column), '[aeiou]', '*', 'g'), strpos(\(column), 'a'), "
                + "regexp_matches(\(column), '^e', 'i'), lpad(\(column), 4, '.') FROM v WHERE n % 3 <> 1 ORDER BY n").rows
        let expected = Self.rows.filter { ($0[2].int64 ?? 0) % 3 != 1 }.map { r -> [Value] in
            guard let s = r[index].stringValue else { return [r[2], .null, .null, .null, .null, .null, .null] }
            let vowels = String(s.map { "aeiou".contains($0) ? "*" : $0 })
            let position = s.firstIndex(of: "a").map { Int64(s.distance(from: s.startIndex, to: $0) + 1) } ?? 0
            let padded = s.count >= 4 ? String(s.prefix(4)) : String(repeating: ".", count: 4 - s.count) + s
            return [r[2], .varchar(s.uppercased()), .bigint(Int64(s.count)), .varchar(vowels), .bigint(position),
                    .boolean(s.lowercased().hasPrefix("e")), .varchar(padded)]
        }
        #expect(got.count == expected.count)
        for (g, e) in zip(got, expected) where g != e {
            Issue.record("\(column): got \(g), expected \(e)")
            break
        }
        let starting = try Self.engine.query("SELECT count(*) FROM v WHERE regexp_matches(\(column), '^e', 'i') AND upper(\(column)) <> 'EMAIL'").rows[0]
        #expect(starting == [.bigint(0)])
    }

    @Test(arguments: ["d", "r"]) func groupingCountsEveryValueAndNull(column: String) throws {
        let index = column == "d" ? 0 : 1
        var expected: [Value: Int64] = [:]
        for r in Self.rows { expected[r[index], default: 0] += 1 }
        let got = try Self.engine.query("SELECT \(column), count(*) FROM v GROUP BY \(column)").rows
        var seen: [Value: Int64] = [:]
        for row in got {
            guard case .bigint(let c) = row[1] else { Issue.record("count is \(row[1])"); continue }
            #expect(seen[row[0]] == nil, "\(row[0]) grouped twice")
            seen[row[0]] = c
        }
        #expect(seen == expected)
        // After a filter the surviving rows keep their codes; grouping must not invent groups for unused entries.
        let filtered = try Self.engine.query("SELECT \(column), count(*) FROM v WHERE n % 1000 = 0 GROUP BY \(column)").rows
        var filteredExpected: [Value: Int64] = [:]
        for r in Self.rows where r[2] == .bigint((r[2].int64 ?? 1) / 1000 * 1000) { filteredExpected[r[index], default: 0] += 1 }
        #expect(Dictionary(uniqueKeysWithValues: filtered.map { ($0[0], $0[1].int64 ?? -1) }) == filteredExpected)
    }
}

extension Value {
    var stringValue: String? { if case .varchar(let s) = self { return s } else { return nil } }
    var int64: Int64? { if case .bigint(let x) = self { return x } else { return nil } }
}

/// GROUP BY one integer key takes a direct-array path while the keys span a modest range and the hash path once they
/// do not (here in the middle of a query, with the groups found so far carried over); both must count alike.
@Suite struct IntegerGroupingTests {
    static let keys: [Value] = (0..<9000).map { i -> Value in
        if i % 97 == 0 { return .null }
        if i < 3000 { return .bigint(Int64(i % 200)) }
        if i < 6000 { return .bigint(Int64(i % 500) - 250) }  // the span grows downwards, below the first base
        return .bigint(i % 2 == 0 ? Int64(i % 300) : Int64.max - Int64(i % 7))  // then a span too wide for the array
    }

    @Test func denseThenHashPathsCountAlike() throws {
        let dir = VectorFixtures.temporaryDirectory("integer-grouping")
        let store = try Store(path: dir + "/store", create: true)
        let schema = Schema([Field("k", .bigint), Field("i", .integer)])
        try store.createTable("g", schema: schema)
        var options = SegmentOptions()
        options.blockRows = 1024
        let rows = Self.keys.enumerated().map { [$0.element, Value.integer(Int32($0.offset % 40))] }
        try store.append(Chunk(schema: schema, rows: rows), to: "g", options: options)
        for threads in [1, 2] {
            let engine = QueryEngine(store: store, options: QueryOptions(threads: threads))
            var expected: [Value: Int64] = [:]
            for k in Self.keys { expected[k, default: 0] += 1 }
            let got = try engine.query("SELECT k, count(*) FROM g GROUP BY k").rows
            #expect(got.count == expected.count)
            #expect(Dictionary(got.map { ($0[0], $0[1].int64 ?? -1) }, uniquingKeysWith: { _, _ in -1 }) == expected)
            // INTEGER keys on the dense path throughout.
            let small = try engine.query("SELECT i, count(*) FROM g GROUP BY i").rows
            #expect(small.count == 40 && small.allSatisfy { $0[1].int64 == 225 }, "\(small)")
        }
    }
}

extension IntegerGroupingTests {
    /// Blocks whose own keys are narrow but far apart: whichever worker reads which block, either a worker leaves the
    /// dense path or the merge finds the union of two workers' keys too wide and falls back to the hash tables.
    @Test func farApartBlocksMergeAlike() throws {
        let dir = VectorFixtures.temporaryDirectory("integer-grouping-far")
        let store = try Store(path: dir + "/store", create: true)
        let schema = Schema([Field("k", .bigint)])
        try store.createTable("f", schema: schema)
        var options = SegmentOptions()
        options.blockRows = 1024
        let rows = (0..<8192).map { r -> [Value] in
            let near = (r / 1024) % 2 == 0
            let key: Int64 = near ? Int64(r % 100) : 1_000_000_000_000 + Int64(r % 100)
            return [.bigint(key)]
        }
        try store.append(Chunk(schema: schema, rows: rows), to: "f", options: options)
        var expected: [Value: Int64] = [:]
        for r in rows { expected[r[0], default: 0] += 1 }
        for threads in [1, 2, 2, 2, 2] {
            let got = try QueryEngine(store: store, options: QueryOptions(threads: threads)).query("SELECT k, count(*) FROM f GROUP BY k").rows
            #expect(got.count == expected.count)
            #expect(Dictionary(got.map { ($0[0], $0[1].int64 ?? -1) }, uniquingKeysWith: { _, _ in -1 }) == expected)
        }
        // Joins on one integer key: a narrow build side takes the direct array (probe keys outside it, including
        // ones a trillion away, find nothing), a wide one the hash table; both count every pair.
        let engine = QueryEngine(store: store, options: QueryOptions(threads: 2))
        let small = expected.filter { if case .bigint(let k) = $0.key { return k < 100 } else { return false } }
        let narrow = try engine.query("SELECT count(*) FROM f a JOIN (SELECT k FROM f WHERE k < 100) b ON a.k = b.k").rows[0]
        #expect(narrow == [.bigint(small.values.reduce(0) { $0 + $1 * $1 })])
        let wide = try engine.query("SELECT count(*) FROM f a JOIN f b ON a.k = b.k").rows[0]
        #expect(wide == [.bigint(expected.values.reduce(0) { $0 + $1 * $1 })])
        let left = try engine.query(
            "SELECT count(*), count(b.k) FROM f a LEFT JOIN (SELECT DISTINCT k FROM f WHERE k < 50) b ON a.k = b.k").rows[0]
        let matched = expected.filter { if case .bigint(let k) = $0.key { return k < 50 } else { return false } }.values.reduce(0, +)
        #expect(left == [.bigint(8192), .bigint(matched)])
    }
}
