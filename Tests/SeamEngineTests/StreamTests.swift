import Foundation
import SeamColumnar
import SeamSQL
import SeamStorage
import SeamTestSupport
import Testing

@testable import SeamEngine

/// `QueryEngine.stream` hands a result on in the order `query` collects it, whatever order the workers finish in.
/// Serialized: run beside other tests, the two workers often took the morsels in turn and never finished out of order.
@Suite(.serialized) struct StreamTests {
    static let store: Store = {
        let channels = ["web", "pos", "app"]
        let rows: [[Value]] = (0..<60_000).map { (i: Int) -> [Value] in
            let amount: Value = i % 11 == 0 ? .null : .decimal(Int64(i % 50_000))
            return [.bigint(Int64(i)), .bigint(Int64(i % 997)), amount, .varchar(channels[i % 3])]
        }
        let schema = Schema([Field("id", .bigint), Field("customer", .bigint), Field("amount", .decimal), Field("channel", .varchar)])
        let store = try! EngineFixture.store(table: "e", schema: schema, rows: rows, blockRows: 1024)
        let people = Schema([Field("customer", .bigint), Field("name", .varchar)])
        try! store.createTable("c", schema: people)
        try! store.append(Chunk(schema: people, rows: (0..<997).filter { $0 % 5 != 0 }.map { [.bigint(Int64($0)), .varchar("p\($0)")] }), to: "c")
        return store
    }()

    static let queries = [
        "SELECT * FROM e",
        "SELECT id, amount FROM e WHERE amount > 30000 AND channel <> 'pos'",
        "SELECT id * 2 AS twice, lower(channel) AS ch FROM e WHERE id % 7 = 3",
        "SELECT e.id, c.name FROM e JOIN c ON e.customer = c.customer WHERE e.id % 3 = 0",
        "SELECT channel, count(*) AS n FROM e GROUP BY channel ORDER BY channel",
        "SELECT * FROM e ORDER BY amount DESC NULLS LAST, id LIMIT 5000",
        "SELECT id FROM e WHERE false",
        "EXPLAIN SELECT count(*) FROM e",
    ]

    @Test(arguments: [1, 2])
    func streamedResultsComeInCollectedOrder(threads: Int) throws {
        let engine = QueryEngine(store: Self.store, options: QueryOptions(threads: threads))
        for sql in Self.queries {
            let collected = try engine.query(sql).rows
            var schema: Schema? = nil
            var streamed: [[Value]] = []
            let done = try engine.stream(sql, start: { s in
                schema = s
                return { batch in
                    // A third of the blocks' batches take longer, so later morsels finish first on two threads.
                    if batch.count > 0, case .bigint(let id) = batch.columns[0].value(at: 0), (id / 1024) % 3 == 1 { usleep(3_000) }
                    return (0..<batch.count).map { r in batch.columns.map { $0.value(at: r) } }
                }
            }, consume: { streamed += $0 })
            let inOrder = streamed == collected  // (the rows themselves would flood the report)
            #expect(inOrder, "\(sql): \(streamed.count) rows streamed, \(collected.count) collected")
            #expect(done.rows == collected.count, "\(sql)")
            #expect(schema?.fields.map(\.name) == (try engine.query(sql)).schema.fields.map(\.name), "\(sql)")
        }
    }

    /// An error in the middle of a stream is the query's error; what was handed on before it is rows in order.
    @Test func aFailingStreamThrowsItsError() throws {
        let engine = QueryEngine(store: Self.store, options: QueryOptions(threads: 2))
        var ids: [Int64] = []
        do {
            _ = try engine.stream(
                "SELECT id, CAST(CASE WHEN id = 40000 THEN 'x' ELSE '1' END AS INTEGER) AS one FROM e",
                start: { _ in { b in b.columns[0].withValues(Int64.self) { Array($0) } } }, consume: { ids += $0 })
            Issue.record("the stream did not fail")
        } catch let e as SQLError {
            #expect(e.message.contains("Could not convert string 'x' to INTEGER"), "\(e.message)")
        }
        #expect(ids.count < 40_000 && ids == (0..<Int64(ids.count)).map { $0 })
    }
}
