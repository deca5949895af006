import Foundation
import SeamColumnar
import SeamSQL
import SeamStorage
import SeamTestSupport
import Testing

@testable import SeamEngine

/// A statement reads the segments of its first look at a table, whatever commits meanwhile.
@Suite struct SnapshotTests {
    @Test func aStatementStillReadsTheSegmentsACompactionReplaced() throws {
        let schema = Schema([Field("id", .bigint)])
        let store = try EngineFixture.store(table: "t", schema: schema, rows: (0..<100).map { [.bigint(Int64($0))] }, blockRows: 16)
        try store.append(Chunk(schema: schema, rows: (100..<250).map { [.bigint(Int64($0))] }), to: "t")
        // The statement's first look: the manifest, and the two segments opened with it.
        let catalog = StoreCatalog(store: store)
        #expect(catalog.schema(of: "t") == schema)
        let compaction = try store.compact("t")
        #expect(compaction.segmentsBefore == 2 && compaction.segmentsAfter == 1)
        // A new statement sees the compacted table (and the store's cache lets go of the replaced readers)...
        let engine = QueryEngine(store: store)
        let sum = try engine.query("SELECT count(*), max(id) FROM t").batches[0]
        #expect(sum.columns[0].value(at: 0) == .bigint(250) && sum.columns[1].value(at: 0) == .bigint(249))
        // ...while the first still has its two segments, whose files the compaction removed, and reads them whole.
        #expect(try catalog.manifest("t").segments.count == 2)
        let readers = try catalog.readers("t")
        #expect(readers.count == 2)
        let ids = try readers.flatMap { try $0.readColumn(0).flatMap(\.allValues) }
        #expect(ids == (0..<250).map { Value.bigint(Int64($0)) })
    }

    /// Opening the segments with the manifest must not turn a damaged segment into an unknown table.
    @Test func aDamagedSegmentIsReportedWhereItIsNotAsAMissingTable() throws {
        let schema = Schema([Field("id", .bigint)])
        let store = try EngineFixture.store(table: "t", schema: schema, rows: (0..<100).map { [.bigint(Int64($0))] }, blockRows: 16)
        let data = store.path + "/tables/t/data"
        let segment = try #require(try FileManager.default.contentsOfDirectory(atPath: data).first { $0.hasSuffix(".seg") })
        let h = try #require(FileHandle(forWritingAtPath: data + "/" + segment))
        h.write(Data("XXXXXXXX".utf8))
        h.closeFile()
        let engine = QueryEngine(store: store)
        #expect(throws: SQLError.self) { try engine.query("SELECT count(*) FROM t") }
        do {
            _ = try engine.query("SELECT count(*) FROM t")
        } catch let e as SQLError {
            #expect(e.kind == .runtime && e.message.contains(segment) && e.message.contains("bad magic"), "\(e.message)")
        }
        // The schema is still there to describe.
        #expect(try engine.query("DESCRIBE t").rowCount == 1)
    }
}
