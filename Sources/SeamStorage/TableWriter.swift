package import SeamColumnar
import SeamKernels

/// Splits appended rows into segments: by partition, sorted by the layout's sort columns, capped in size.
package enum TableWriter {
    /// One segment's rows and the partition they belong to.
    package struct Piece {
        package var partition: String?
        package var chunk: Chunk
    }

    package static func split(_ chunk: Chunk, layout: TableLayout) throws(StorageError) -> [Piece] {
        guard chunk.rowCount > 0 else { return [] }
        var groups: [(key: String?, rows: [Int32])] = []
        if let name = layout.partitionColumn {
            guard let col = chunk.column(name), col.type == .timestamp else {
                throw StorageError(.invalidArgument, "partition column '\(name)' is missing or not a TIMESTAMP")
            }
            let keys = partitionKeys(col, layout.granularity)
            var byKey: [Int64: [Int32]] = [:]
            for (i, k) in keys.enumerated() { byKey[k, default: []].append(Int32(i)) }
            for k in byKey.keys.sorted() { groups.append((partitionName(k, layout.granularity), byKey[k]!)) }
        } else {
            groups.append((nil, (0..<chunk.rowCount).map { Int32($0) }))
        }
        let sortIdx = try layout.sortColumns.map { (name: String) throws(StorageError) -> Int in
            guard let i = chunk.schema.index(of: name) else {
                throw StorageError(.invalidArgument, "sort column '\(name)' is not in the table")
            }
            return i
        }
        var pieces: [Piece] = []
        for (key, rows) in groups {
            let sorted = sortIdx.isEmpty ? rows : sortRows(rows, chunk: chunk, by: sortIdx)
            var start = 0
            while start < sorted.count {
                let end = min(start + layout.maxSegmentRows, sorted.count)
                let idx = Array(sorted[start..<end])
                pieces.append(Piece(partition: key, chunk: Chunk(schema: chunk.schema, columns: chunk.columns.map { Gather.rows($0, idx) })))
                start = end
            }
        }
        return pieces
    }

    /// Partition key per row: days or months since the epoch; nulls get `Int64.min`.
    static func partitionKeys(_ col: ColumnVector, _ g: TableLayout.Granularity) -> [Int64] {
        col.withValues(Int64.self) { ts in
            (0..<col.count).map { i in
                if col.isNull(i) { return Int64.min }
                var d = ts[i] / Timestamp.microsPerDay
                if ts[i] % Timestamp.microsPerDay < 0 { d -= 1 }
                if g == .day { return d }
                let c = Timestamp.civil(days: d)
                return Int64(c.year * 12 + (c.month - 1))
            }
        }
    }

    static func partitionName(_ key: Int64, _ g: TableLayout.Granularity) -> String {
        if key == Int64.min { return "null" }
        let pad = Timestamp.zeroPad
        if g == .day {
            let c = Timestamp.civil(days: key)
            return "\(pad(c.year, 4))-\(pad(c.month, 2))-\(pad(c.day, 2))"
        }
        return "\(pad(Int(key / 12), 4))-\(pad(Int(key % 12) + 1, 2))"
    }

    /// Row indices ordered by the given columns, ascending, nulls last; stable.
    static func sortRows(_ rows: [Int32], chunk: Chunk, by columns: [Int]) -> [Int32] {
        let cols = columns.map { chunk.columns[$0] }
        if cols.count <= 2, let first = normalizedKeys(cols[0], rows) {
            let second = cols.count == 2 ? normalizedKeys(cols[1], rows) : [UInt64](repeating: 0, count: rows.count)
            if let second { return sortByKeys(rows, first, second) }
        }
        return rows.enumerated().sorted { a, b in
            for c in cols {
                let r = compare(c, Int(a.element), Int(b.element))
                if r != 0 { return r < 0 }
            }
            return a.offset < b.offset
        }.map(\.element)
    }

    /// One order-preserving 64-bit key per row of `rows` for an integer or timestamp column, nulls last
    /// (`UInt64.max`); nil for other types, or when a value's key would collide with the nulls' key.
    static func normalizedKeys(_ c: ColumnVector, _ rows: [Int32]) -> [UInt64]? {
        let signBit: UInt64 = 1 << 63
        var keys = [UInt64](repeating: 0, count: rows.count)
        var hasNull = false, hasMax = false
        let values = c.values
        let ok: Bool = withExtendedLifetime(values) {
            keys.withUnsafeMutableBufferPointer { out in
                switch c.type.physical {
                case .int64:
                    let v = values.typed(Int64.self, count: c.count)
                    for (k, r) in rows.enumerated() { out[k] = UInt64(bitPattern: v[Int(r)]) ^ signBit }
                case .int32:
                    let v = values.typed(Int32.self, count: c.count)
                    for (k, r) in rows.enumerated() { out[k] = UInt64(bitPattern: Int64(v[Int(r)])) ^ signBit }
                case .uint8:
                    let v = values.typed(UInt8.self, count: c.count)
                    for (k, r) in rows.enumerated() { out[k] = UInt64(v[Int(r)]) }
                default: return false
                }
                if c.validity != nil {
                    for (k, r) in rows.enumerated() {
                        if c.isNull(Int(r)) {
                            out[k] = UInt64.max
                            hasNull = true
                        } else if out[k] == UInt64.max {
                            hasMax = true
                        }
                    }
                }
                return true
            }
        }
        return ok && !(hasNull && hasMax) ? keys : nil
    }

    /// Sorts (first, second, position) entries; the position makes it stable.
    static func sortByKeys(_ rows: [Int32], _ first: [UInt64], _ second: [UInt64]) -> [Int32] {
        struct Entry {
            var a: UInt64
            var b: UInt64
            var position: Int
        }
        var entries = (0..<rows.count).map { Entry(a: first[$0], b: second[$0], position: $0) }
        entries.sort { x, y in
            if x.a != y.a { return x.a < y.a }
            if x.b != y.b { return x.b < y.b }
            return x.position < y.position
        }
        return entries.map { rows[$0.position] }
    }

    static func compare(_ c: ColumnVector, _ a: Int, _ b: Int) -> Int {
        let na = c.isNull(a), nb = c.isNull(b)
        if na || nb { return na == nb ? 0 : (na ? 1 : -1) }
        func cmp<T: Comparable>(_: T.Type, _ width: Int) -> Int {
            let x = c.values.base.loadUnaligned(fromByteOffset: a * width, as: T.self)
            let y = c.values.base.loadUnaligned(fromByteOffset: b * width, as: T.self)
            return x < y ? -1 : (x > y ? 1 : 0)
        }
        switch c.type.physical {
        case .uint8: return cmp(UInt8.self, 1)
        case .int32: return cmp(Int32.self, 4)
        case .int64: return cmp(Int64.self, 8)
        case .double: return cmp(Double.self, 8)
        case .bytes:
            let x = c.stringBytes(a), y = c.stringBytes(b)
            if x.elementsEqual(y) { return 0 }
            return x.lexicographicallyPrecedes(y) ? -1 : 1
        }
    }
}
