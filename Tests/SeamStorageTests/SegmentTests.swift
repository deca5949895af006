import SeamColumnar
@testable import SeamStorage
import SeamTestSupport
import Testing
import Foundation

@Suite struct SegmentTests {
    static let schema = Schema([
        Field("id", .bigint), Field("ts", .timestamp), Field("channel", .varchar), Field("amount", .decimal),
        Field("qty", .integer), Field("score", .double), Field("flag", .boolean), Field("name", .varchar),
    ])

    static func chunk(rows: Int, seed: UInt64) -> Chunk {
        let shapes: [ValueShape] = [.sorted, .sorted, .lowCardinality, .random, .runs, .random, .random, .extremes]
        let nulls: [NullPattern] = [.none, .none, .sparse, .sparse, .none, .alternate, .none, .leadingRun]
        return Chunk(
            schema: schema,
            columns: schema.fields.enumerated().map { i, f in
                VectorFixtures.vector(f.type, count: rows, shape: shapes[i], nulls: nulls[i], seed: seed + UInt64(i))
            })
    }

    func write(_ chunk: Chunk, blockRows: Int = 1000) throws -> String {
        let dir = VectorFixtures.temporaryDirectory("seg")
        var o = SegmentOptions()
        o.blockRows = blockRows
        let path = dir + "/t.seg"
        try FileIO.writeNew(path, SegmentWriter.encode(chunk, options: o))
        return path
    }

    @Test func segmentRoundTripsAllColumnsAcrossBlocks() throws {
        let c = Self.chunk(rows: 4321, seed: 7)
        let r = try SegmentReader(path: try write(c))
        #expect(r.rowCount == 4321)
        #expect(r.schema == Self.schema)
        #expect(r.footer.columns[0].count == 5)
        for i in 0..<Self.schema.count {
            let values = try r.readColumn(i).flatMap(\.allValues)
            #expect(sameValues(values, c.columns[i].allValues), "column \(Self.schema[i].name)")
        }
    }

    @Test func zoneMapsBoundEveryBlock() throws {
        let c = Self.chunk(rows: 3000, seed: 1)
        let r = try SegmentReader(path: try write(c))
        for (b, info) in r.footer.columns[1].enumerated() {
            guard case .integer(let lo, let hi) = info.zone else {
                Issue.record("ts block \(b) has no integer zone")
                continue
            }
            let vals = try r.read(column: 1, block: b).allValues.compactMap { v -> Int64? in
                if case .timestamp(let t) = v { return t } else { return nil }
            }
            #expect(vals.min() == lo && vals.max() == hi)
        }
    }

    @Test func emptySegment() throws {
        let c = Self.chunk(rows: 0, seed: 1)
        let r = try SegmentReader(path: try write(c))
        #expect(r.rowCount == 0)
        #expect(try r.readColumn(2).flatMap(\.allValues).isEmpty)
    }

    /// A flipped byte anywhere inside any block is caught by the block checksum, names the column and block,
    /// and the read throws instead of returning values.
    @Test func flippedByteInEveryBlockIsDetected() throws {
        let c = Self.chunk(rows: 2500, seed: 3)
        let path = try write(c)
        let original = try FileIO.readAll(path)
        let footer = try SegmentReader(path: path).footer
        var rng = FixtureRandom(seed: 11)
        for (ci, blocks) in footer.columns.enumerated() {
            for (bi, info) in blocks.enumerated() {
                var bad = original
                let at = info.offset + Int.random(in: 0..<info.length, using: &rng)
                bad[at] ^= 0x10
                let damaged = path + ".bad\(ci)-\(bi)"
                try FileIO.writeNew(damaged, bad)
                let r = try SegmentReader(path: damaged)
                let problems = r.verifyAll()
                #expect(problems.count == 1)
                #expect(problems.first?.code == .checksumMismatch)
                #expect(problems.first?.column == Self.schema[ci].name && problems.first?.block == bi)
                #expect(throws: StorageError.self) { try r.read(column: ci, block: bi) }
                // The other blocks still read.
                if bi + 1 < blocks.count { _ = try r.read(column: ci, block: bi + 1) }
                try FileIO.remove(damaged)
            }
        }
    }

    @Test func damagedFooterOrTrailerIsReported() throws {
        let path = try write(Self.chunk(rows: 100, seed: 2))
        let original = try FileIO.readAll(path)
        for at in [0, original.count - 30, original.count - 3, original.count - 20] {
            var bad = original
            bad[at] ^= 0xFF
            let p = path + ".f\(at)"
            try FileIO.writeNew(p, bad)
            #expect(throws: StorageError.self) { try SegmentReader(path: p) }
        }
        let truncated = path + ".trunc"
        try FileIO.writeNew(truncated, Array(original.prefix(original.count / 2)))
        #expect(throws: StorageError.self) { try SegmentReader(path: truncated) }
    }
}
