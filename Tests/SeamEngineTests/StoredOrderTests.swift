import SeamColumnar
@testable import SeamEngine
@testable import SeamSQL
import SeamStorage
import SeamTestSupport
import Testing

/// A window whose order the stored layout gives (events sorted by customer, time, id in month partitions) skips its
/// sort only where the segments' metadata proves the order, and answers as a sorting window does either way.
@Suite struct StoredOrderTests {
    static let schema = Schema([
        Field("event_id", .bigint), Field("ts", .timestamp), Field("customer_id", .bigint), Field("event_type", .varchar),
    ])
    static let layout = TableLayout(partitionColumn: "ts", granularity: .month, sortColumns: ["customer_id", "ts", "event_id"], maxSegmentRows: 300)

    /// 2,400 events of 40 customers over three months, in random order: times repeat (ties broken by the id), and
    /// segments of at most 300 rows cut each month between (and inside) customers.
    static let rows: [[Value]] = {
        var rng = FixtureRandom(seed: 5)
        let jan = Timestamp.micros(year: 2025, month: 1, day: 1)
        let ids = (0..<2400).map { Int64($0) * 7 % 2400 }
        return ids.map { id -> [Value] in
            let day = Int64.random(in: 0..<90, using: &rng), second = Int64.random(in: 0..<3, using: &rng)
            return [
                .bigint(id), .timestamp(jan + day * 86_400_000_000 + second * 1_000_000),
                .bigint(Int64.random(in: 1...40, using: &rng)), .varchar(["view", "cart", "purchase", "email"][Int.random(in: 0..<4, using: &rng)]),
            ]
        }
    }()

    /// The rows appended in `commits` commits (one: sorted segments that follow each other; several: segments of one
    /// month whose customers overlap).
    static func store(commits: Int) throws -> Store {
        let store = try Store(path: VectorFixtures.temporaryDirectory("stored-order") + "/store", create: true)
        try store.createTable("t", schema: schema, layout: layout)
        let per = (rows.count + commits - 1) / commits
        for c in 0..<commits {
            try store.append(Chunk(schema: schema, rows: Array(rows[(c * per)..<min(rows.count, (c + 1) * per)])), to: "t")
        }
        return store
    }

    static func proven(_ store: Store) throws -> Bool {
        let executor = Executor(catalog: StoreCatalog(store: store), options: QueryOptions(threads: 2), token: CancellationToken(), profile: nil)
        return try executor.arrivesInWindowOrder(.scan(TableScan(table: "t", columns: [0, 1, 2, 3], schema: schema)), partition: 2, order: [1, 0])
    }

    /// What the query below must return: per kept row (by id), the next row's type and the id two rows back in its
    /// customer's (time, id) order.
    static func expected(keep: Set<String>) -> [[Value]] {
        var byCustomer: [Int64: [[Value]]] = [:]
        for r in rows {
            guard case .varchar(let type) = r[3], keep.contains(type) else { continue }
            guard case .bigint(let c) = r[2] else { continue }
            byCustomer[c, default: []].append(r)
        }
        var out: [[Value]] = []
        for (_, events) in byCustomer {
            let sorted = events.sorted { a, b in
                guard case .timestamp(let x) = a[1], case .timestamp(let y) = b[1], case .bigint(let i) = a[0], case .bigint(let j) = b[0] else { return false }
                return x != y ? x < y : i < j
            }
            for (k, r) in sorted.enumerated() {
                out.append([r[0], k + 1 < sorted.count ? sorted[k + 1][3] : .null, k >= 2 ? sorted[k - 2][0] : .null])
            }
        }
        func id(_ row: [Value]) -> Int64 {
            if case .bigint(let x) = row[0] { return x }
            return -1
        }
        return out.sorted { id($0) < id($1) }
    }

    @Test func theOrderIsProvenOnlyWhereTheSegmentsShowIt() throws {
        // One commit: each month's segments are one sorted run cut in pieces (customers shared only at the cuts).
        let one = try Self.store(commits: 1)
        #expect(try one.manifest("t").segments.count > 3)
        #expect(try Self.proven(one))
        // Several commits: a month's segments each hold many of its customers, in no order between them.
        #expect(try !Self.proven(try Self.store(commits: 4)))
        // Two commits in one month sharing one customer at the cut, whose rows in the first come after those in the
        // second: the customers' ranges touch as a cut run's do, and the rows at the cut tell them apart.
        let touching = try Store(path: VectorFixtures.temporaryDirectory("stored-order") + "/store", create: true)
        try touching.createTable("t", schema: Self.schema, layout: Self.layout)
        let jan = Timestamp.micros(year: 2025, month: 1, day: 1)
        func event(_ id: Int64, day: Int64, _ customer: Int64) -> [Value] {
            [.bigint(id), .timestamp(jan + day * 86_400_000_000), .bigint(customer), .varchar("view")]
        }
        try touching.append(Chunk(schema: Self.schema, rows: [event(1, day: 3, 1), event(2, day: 20, 5)]), to: "t")
        try touching.append(Chunk(schema: Self.schema, rows: [event(3, day: 10, 5), event(4, day: 2, 9)]), to: "t")
        #expect(try !Self.proven(touching))
        // The same customer at the cut in order is proven.
        let inOrder = try Store(path: VectorFixtures.temporaryDirectory("stored-order") + "/store", create: true)
        try inOrder.createTable("t", schema: Self.schema, layout: Self.layout)
        try inOrder.append(Chunk(schema: Self.schema, rows: [event(1, day: 3, 1), event(2, day: 5, 5)]), to: "t")
        try inOrder.append(Chunk(schema: Self.schema, rows: [event(3, day: 10, 5), event(4, day: 2, 9)]), to: "t")
        #expect(try Self.proven(inOrder))
        // A window over other columns than the layout's, or in another direction, is not given by it.
        let executor = Executor(catalog: StoreCatalog(store: one), options: QueryOptions(threads: 2), token: CancellationToken(), profile: nil)
        let scan = LogicalPlan.scan(TableScan(table: "t", columns: [0, 1, 2, 3], schema: Self.schema))
        #expect(try !executor.arrivesInWindowOrder(scan, partition: 2, order: [0, 1]))
        #expect(try !executor.arrivesInWindowOrder(scan, partition: 0, order: [1, 2]))
    }

    @Test func anEmptyTableGivesAnEmptyWindow() throws {
        let store = try Store(path: VectorFixtures.temporaryDirectory("stored-order") + "/store", create: true)
        try store.createTable("t", schema: Self.schema, layout: Self.layout)
        #expect(try Self.proven(store))
        let rows = try QueryEngine(store: store, options: QueryOptions(threads: 2)).query(
            "SELECT event_id, lead(event_type) OVER (PARTITION BY customer_id ORDER BY ts, event_id) FROM t WHERE event_type = 'view'").rows
        #expect(rows.isEmpty)
    }

    @Test(arguments: [1, 4])
    func leadAndLagAnswerAsASortingWindowDoes(commits: Int) throws {
        let engine = QueryEngine(store: try Self.store(commits: commits), options: QueryOptions(threads: 2))
        let got = try engine.query("""
            SELECT event_id,
                   lead(event_type) OVER (PARTITION BY customer_id ORDER BY ts, event_id) AS next,
                   lag(event_id, 2) OVER (PARTITION BY customer_id ORDER BY ts, event_id) AS back2
            FROM t WHERE event_type IN ('view', 'cart', 'purchase')
            ORDER BY event_id
            """).rows
        let want = Self.expected(keep: ["view", "cart", "purchase"])
        #expect(got.count == want.count)
        #expect(got == want)
        // EXPLAIN ANALYZE says which columns the scan read: without the ORDER BY keys only where the order is proven.
        let plan = try engine.query("""
            EXPLAIN ANALYZE SELECT event_id, lead(event_type) OVER (PARTITION BY customer_id ORDER BY ts, event_id) AS next
            FROM t WHERE event_type IN ('view', 'cart', 'purchase')
            """).rows.map { $0.map(\.description).joined() }.joined(separator: "\n")
        #expect(plan.contains("columns read: event_id, customer_id, event_type") == (commits == 1), "\(plan)")
        #expect(plan.contains("order from the storage layout") == (commits == 1), "\(plan)")
    }

    /// Rows in window order within partitions arrive as runs sorted by the partition key (the segments); merging the
    /// runs partitions them as a stable sort by the key does, over several key ranges per worker, for both integer
    /// widths. Too many runs are left to the counting sort.
    @Test(arguments: [1, 2])
    func mergingSortedRunsPartitionsAsAStableSortDoes(threads: Int) throws {
        var rng = FixtureRandom(seed: 11)
        let executor = Executor(
            catalog: StoreCatalog(store: try Self.store(commits: 1)), options: QueryOptions(threads: threads), token: CancellationToken(), profile: nil)
        // Nine runs of nearby keys, split over key ranges, and 37 runs (as many as the 100M-event store's segments)
        // of keys 2^40 apart, in one range.
        var nearby: [Int64] = []
        for _ in 0..<9 {
            let m = Int.random(in: 10_000...60_000, using: &rng)
            nearby += (0..<m).map { _ in Int64.random(in: -500...90_000, using: &rng) }.sorted()
        }
        let pool = (0..<4_000).map { _ in Int64.random(in: -(1 << 40)...(1 << 40), using: &rng) }
        var farApart: [Int64] = []
        for _ in 0..<37 { farApart += (0..<Int.random(in: 500...3_000, using: &rng)).map { _ in pool.randomElement(using: &rng)! }.sorted() }
        for (keys, types) in [(nearby, [LogicalType.bigint, .integer]), (farApart, [.bigint])] {
            let want = keys.indices.sorted { keys[$0] != keys[$1] ? keys[$0] < keys[$1] : $0 < $1 }
            let wantStarts = [0] + (1..<want.count).filter { keys[want[$0]] != keys[want[$0 - 1]] } + [keys.count]
            try expectMerged(keys, types, want, wantStarts, executor)
        }
        let saw = Chunk(schema: Schema([Field("k", .bigint)]), rows: (0..<600).flatMap { _ in [[Value.bigint(2)], [.bigint(1)]] }).columns[0]
        #expect(try WindowOrder.byMergingRuns(saw, executor: executor) == nil)
        let withNull = Chunk(schema: Schema([Field("k", .bigint)]), rows: [[.bigint(1)], [.null], [.bigint(2)]]).columns[0]
        #expect(try WindowOrder.byMergingRuns(withNull, executor: executor) == nil)
        // A key of Int64.max is the mark of a finished run: left to the other sorts. (The merge had visited the
        // second run here again after it ended, writing a row number past the output.)
        let extremes = Chunk(schema: Schema([Field("k", .bigint)]), rows: [[.bigint(.max)], [.bigint(1)], [.bigint(5)]]).columns[0]
        #expect(try WindowOrder.byMergingRuns(extremes, executor: executor) == nil)
    }

    private func expectMerged(_ keys: [Int64], _ types: [LogicalType], _ want: [Int], _ wantStarts: [Int], _ executor: Executor) throws {
        for type in types {
            let column = Chunk(schema: Schema([Field("k", type)]), rows: keys.map { [type == .bigint ? .bigint($0) : .integer(Int32($0))] }).columns[0]
            let order = try #require(try WindowOrder.byMergingRuns(column, executor: executor))
            let got = order.sorted.withUnsafeBufferPointer { $0.map(Int.init) }
            // The first difference only: a failure message with both 300,000-row arrays takes minutes to render.
            let firstDifference = got.count == want.count ? got.indices.first { got[$0] != want[$0] } : -1
            #expect(firstDifference == nil, "\(type): first difference at \(String(describing: firstDifference))")
            #expect(order.starts.count == wantStarts.count && order.starts.indices.allSatisfy { order.starts[$0] == wantStarts[$0] }, "\(type): starts")
        }
    }
}
