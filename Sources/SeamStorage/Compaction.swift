import SeamColumnar
import SeamKernels

/// What a compaction did.
public struct CompactionResult: Sendable {
    public var table: String
    /// Partitions rewritten, each in its own atomic commit.
    public var partitions = 0
    public var segmentsBefore = 0
    public var segmentsAfter = 0
}

extension Store {
    /// Merges the segments of each partition that has more than one into sorted segments of at most the layout's
    /// maximum size (as ClickHouse's MergeTree merges parts). Each partition is one atomic commit: a crash
    /// leaves every partition either as it was or fully merged.
    public func compact(_ table: String, faults: CommitFaults = .none) throws(StorageError) -> CompactionResult {
        let m = try manifest(table)
        var result = CompactionResult(table: table, segmentsBefore: m.segments.count)
        var byPartition: [String: [SegmentEntry]] = [:]
        for s in m.segments { byPartition[s.partition ?? "", default: []].append(s) }
        for key in byPartition.keys.sorted() {
            let segments = byPartition[key]!
            let rows = segments.reduce(0) { $0 + $1.rows }
            // Already compact: one segment, or every segment full.
            guard segments.count > 1, segments.count > (rows + m.layout.maxSegmentRows - 1) / m.layout.maxSegmentRows else {
                continue
            }
            let current = try manifest(table)
            let readers = try self.readers(
                Manifest(table: table, version: current.version, schema: current.schema, layout: current.layout, segments: segments))
            var columns: [ColumnVector] = []
            for c in 0..<m.schema.count {
                var parts: [ColumnVector] = []
                for r in readers { parts += try r.readColumn(c) }
                columns.append(Gather.concat(parts, type: m.schema[c].type))
            }
            try replace(in: table, removing: segments.map(\.file), adding: Chunk(schema: m.schema, columns: columns), faults: faults)
            result.partitions += 1
        }
        result.segmentsAfter = try manifest(table).segments.count
        return result
    }
}
