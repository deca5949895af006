package import SeamColumnar
import SeamKernels
import Dispatch
import Synchronization

/// Splits appended rows into segments: by partition, sorted by the layout's sort columns, capped in size.
package enum TableWriter {
    /// One segment's rows and the partition they belong to.
    package struct Piece {
        package var partition: String?
        package var chunk: Chunk
    }

    package static func split(_ chunk: Chunk, layout: TableLayout) throws(StorageError) -> [Piece] {
        try split([AppendRows(chunk)], layout: layout)
    }

    /// The rows of `parts` (one schema) cut into segments. Rows are gathered once, straight from the parts into
    /// each segment's columns: no concatenated copy of the whole append is made first.
    package static func split(_ parts: [AppendRows], layout: TableLayout) throws(StorageError) -> [Piece] {
        try eachPiece(parts, layout: layout) { $0 }
    }

    /// What `split` cuts, each piece handed to `body` on the core that gathered it as soon as it is
    /// gathered; the results come back in the pieces' order. A commit encodes each segment there and lets its columns
    /// go before gathering the next, instead of holding every gathered segment of the batch at once: an ingest's
    /// commit had all of them (as large as the batch) in fresh memory, and fresh pages cost a fault and a clearing each.
    package static func eachPiece<R: Sendable>(
        _ parts: [AppendRows], layout: TableLayout, _ body: @Sendable (Piece) -> R
    ) throws(StorageError) -> [R] {
        let parts = parts.filter { $0.count > 0 }
        guard let schema = parts.first?.chunk.schema else { return [] }
        // Every appended row as (part, row).
        var refs: [UInt64] = []
        refs.reserveCapacity(parts.reduce(0) { $0 + $1.count })
        for (p, part) in parts.enumerated() {
            if let rows = part.rows {
                for r in rows { refs.append(Gather.ref(part: p, row: Int(r))) }
            } else {
                for r in 0..<part.chunk.rowCount { refs.append(Gather.ref(part: p, row: r)) }
            }
        }
        var groups: [(key: String?, refs: [UInt64])] = []
        if let name = layout.partitionColumn {
            guard let c = schema.index(of: name), schema[c].type == .timestamp else {
                throw StorageError(.invalidArgument, "partition column '\(name)' is missing or not a TIMESTAMP")
            }
            let perPart = parts.map { partitionKeys($0.chunk.columns[c], layout.granularity) }
            let keys = pick(perPart, refs)
            // Rows by partition key, stable: a counting sort over the keys' span (months or days: small), a
            // dictionary only for a span too wide for counters.
            let valid = keys.filter { $0 != Int64.min }
            let lo = valid.min() ?? 0, hi = valid.max() ?? 0
            if hi - lo < 1 << 16 {
                func slot(_ k: Int64) -> Int { k == Int64.min ? Int(hi - lo) + 1 : Int(k - lo) }
                var counts = [Int](repeating: 0, count: Int(hi - lo) + 2)
                for k in keys { counts[slot(k)] += 1 }
                var starts = [Int](repeating: 0, count: counts.count)
                for s in 1..<counts.count { starts[s] = starts[s - 1] + counts[s - 1] }
                var ordered = [UInt64](repeating: 0, count: refs.count)
                var at = starts
                for (i, k) in keys.enumerated() {
                    ordered[at[slot(k)]] = refs[i]
                    at[slot(k)] += 1
                }
                for s in counts.indices where counts[s] > 0 {
                    let key = s == counts.count - 1 ? Int64.min : lo + Int64(s)
                    groups.append((partitionName(key, layout.granularity), Array(ordered[starts[s]..<starts[s] + counts[s]])))
                }
            } else {
                var byKey: [Int64: [UInt64]] = [:]
                for (i, k) in keys.enumerated() { byKey[k, default: []].append(refs[i]) }
                for k in byKey.keys.sorted() { groups.append((partitionName(k, layout.granularity), byKey[k]!)) }
            }
        } else {
            groups.append((nil, refs))
        }
        let sortIdx = try layout.sortColumns.map { (name: String) throws(StorageError) -> Int in
            guard let i = schema.index(of: name) else {
                throw StorageError(.invalidArgument, "sort column '\(name)' is not in the table")
            }
            return i
        }
        let columns = schema.fields.indices.map { c in parts.map { $0.chunk.columns[c] } }
        // The sort columns' keys, once for every partition: each picks its rows' keys from them.
        let keys: [PartKeys]? = sortIdx.isEmpty || sortIdx.count > 3 ? nil : {
            var all: [PartKeys] = []
            for c in sortIdx {
                guard let k = PartKeys(columns[c]) else { return nil }
                all.append(k)
            }
            return all
        }()
        // Partitions are sorted on every core (an ingest batch spans many months), then their pieces gathered (and
        // handed on) on every core: one partition of several pieces still spreads over the cores.
        let partitions = groups
        let sortedGroups = Mutex([[UInt64]](repeating: [], count: partitions.count))
        DispatchQueue.concurrentPerform(iterations: partitions.count) { g in
            let rows = partitions[g].refs
            let sorted: [UInt64]
            if sortIdx.isEmpty {
                sorted = rows
            } else if let keys {
                sorted = sortByKeys(
                    rows, keys[0].pick(rows), keys.count >= 2 ? keys[1].pick(rows) : [UInt64](repeating: 0, count: rows.count),
                    then: keys.count == 3 ? keys[2].pick(rows) : nil)
            } else {
                sorted = sortRows(rows, columns: sortIdx.map { columns[$0] })
            }
            sortedGroups.withLock { $0[g] = sorted }
        }
        let sorted = sortedGroups.withLock { $0 }
        let cuts = sorted.enumerated().flatMap { g, rows in
            stride(from: 0, to: rows.count, by: layout.maxSegmentRows).map { start in
                (group: g, rows: start..<min(start + layout.maxSegmentRows, rows.count))
            }
        }
        let results = Mutex([R?](repeating: nil, count: cuts.count))
        DispatchQueue.concurrentPerform(iterations: cuts.count) { i in
            let (g, range) = cuts[i]
            let cut = sorted[g][range].withUnsafeBufferPointer { idx in columns.map { Gather.rows(of: $0, idx) } }
            let result = body(Piece(partition: partitions[g].key, chunk: Chunk(schema: schema, columns: cut)))
            results.withLock { $0[i] = result }
        }
        return results.withLock { $0.map { $0! } }
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

    /// Rows (``Gather/ref(part:row:)``) ordered by the given columns (one vector per part each), ascending, nulls
    /// last; stable. The general path, for sort columns without 64-bit keys (``PartKeys``).
    static func sortRows(_ rows: [UInt64], columns: [[ColumnVector]]) -> [UInt64] {
        rows.enumerated().sorted { a, b in
            for c in columns {
                let r = compare(c[Int(a.element >> 32)], Int(a.element & 0xFFFF_FFFF), c[Int(b.element >> 32)], Int(b.element & 0xFFFF_FFFF))
                if r != 0 { return r < 0 }
            }
            return a.offset < b.offset
        }.map(\.element)
    }

    /// One order-preserving 64-bit key per row of every part of an integer or timestamp column, nulls last
    /// (`UInt64.max`), read per ref (``Gather/ref(part:row:)``) through one flat array: indexing nested arrays per
    /// row would retain and release the inner array each time.
    struct PartKeys {
        let flat: [UInt64]
        let starts: [Int]

        /// Nil for other types, or when a value's key would collide with the nulls' key.
        init?(_ parts: [ColumnVector]) {
            let signBit: UInt64 = 1 << 63
            var flat = [UInt64](repeating: 0, count: parts.reduce(0) { $0 + $1.count })
            var starts: [Int] = []
            var hasNull = false, hasMax = false
            var at = 0
            for c in parts {
                starts.append(at)
                let values = c.values
                let ok: Bool = withExtendedLifetime(values) {
                    flat.withUnsafeMutableBufferPointer { all in
                        let out = UnsafeMutableBufferPointer(rebasing: all[at..<at + c.count])
                        switch c.type.physical {
                        case .int64:
                            let v = values.typed(Int64.self, count: c.count)
                            for r in 0..<c.count { out[r] = UInt64(bitPattern: v[r]) ^ signBit }
                        case .int32:
                            let v = values.typed(Int32.self, count: c.count)
                            for r in 0..<c.count { out[r] = UInt64(bitPattern: Int64(v[r])) ^ signBit }
                        case .uint8:
                            let v = values.typed(UInt8.self, count: c.count)
                            for r in 0..<c.count { out[r] = UInt64(v[r]) }
                        default: return false
                        }
                        if c.validity != nil {
                            for r in 0..<c.count {
                                if c.isNull(r) {
                                    out[r] = UInt64.max
                                    hasNull = true
                                } else if out[r] == UInt64.max {
                                    hasMax = true
                                }
                            }
                        }
                        return true
                    }
                }
                guard ok else { return nil }
                at += c.count
            }
            guard !(hasNull && hasMax) else { return nil }
            self.flat = flat
            self.starts = starts
        }

        /// The keys of `refs`, in their order.
        func pick(_ refs: [UInt64]) -> [UInt64] {
            flat.withUnsafeBufferPointer { f in
                starts.withUnsafeBufferPointer { s in refs.map { f[s[Int($0 >> 32)] + Int($0 & 0xFFFF_FFFF)] } }
            }
        }
    }

    /// The value of each ref (``Gather/ref(part:row:)``) from per-part arrays, read through one flat array.
    static func pick<T>(_ perPart: [[T]], _ refs: [UInt64]) -> [T] {
        var starts: [Int] = []
        var flat: [T] = []
        flat.reserveCapacity(perPart.reduce(0) { $0 + $1.count })
        for values in perPart {
            starts.append(flat.count)
            flat.append(contentsOf: values)
        }
        return flat.withUnsafeBufferPointer { f in
            starts.withUnsafeBufferPointer { s in refs.map { f[s[Int($0 >> 32)] + Int($0 & 0xFFFF_FFFF)] } }
        }
    }

    /// `rows` ordered by (first, second), then by `third` when given, ties in their given order (stable).
    ///
    /// When the first two keys' spans fit in 64 bits together (a month of microsecond times and the customers of an
    /// ingest batch do), one combined key is radix sorted (``RadixSort``); a comparison sort otherwise. A third key
    /// (events' `event_id`) only orders rows tied on both: a customer's purchase lines share their order's time. The
    /// ties are few and short, so they are put in order after the radix sort rather than widening its key.
    static func sortByKeys(_ rows: [UInt64], _ first: [UInt64], _ second: [UInt64], then third: [UInt64]? = nil) -> [UInt64] {
        let n = rows.count
        guard n > 1 else { return rows }
        // Each key's span over its values other than the nulls' key (UInt64.max), which ranks just past the
        // largest: a NULL customer does not widen the span to 64 bits.
        var loA = UInt64.max, hiA: UInt64 = 0, loB = UInt64.max, hiB: UInt64 = 0
        var nullA = false, nullB = false
        for i in 0..<n {
            let a = first[i], b = second[i]
            if a == UInt64.max { nullA = true } else { loA = min(loA, a); hiA = max(hiA, a) }
            if b == UInt64.max { nullB = true } else { loB = min(loB, b); hiB = max(hiB, b) }
        }
        // The largest rank of each key, nulls' included, and the bits it needs (values other than the nulls' are
        // at most UInt64.max - 1, so the nulls' rank cannot overflow).
        func span(_ lo: UInt64, _ hi: UInt64, _ nulls: Bool) -> (lo: UInt64, top: UInt64, bits: Int) {
            let lo = lo > hi ? 0 : lo  // every value is null
            let top = (hi &- lo) + (nulls ? 1 : 0)
            return (lo, top, 64 - top.leadingZeroBitCount)
        }
        let sa = span(loA, hiA, nullA), sb = span(loB, hiB, nullB)
        guard n < Int(Int32.max), sa.bits + sb.bits <= 64 else {
            return comparisonSort(rows, first, second, then: third)
        }
        let bitsB = sb.bits
        let keys = [UInt64](unsafeUninitializedCapacity: n) { out, count in
            for i in 0..<n {
                let a = first[i] == UInt64.max ? sa.top : first[i] &- sa.lo
                let b = second[i] == UInt64.max ? sb.top : second[i] &- sb.lo
                out[i] = bitsB == 64 ? b : a << UInt64(bitsB) | b
            }
            count = n
        }
        var order = RadixSort.order(keys)
        if let third {
            // Runs of equal combined keys are the rows tied on both keys.
            order.withUnsafeMutableBufferPointer { order in
                var start = 0
                while start < n {
                    let k = keys[Int(order[start])]
                    var end = start + 1
                    while end < n && keys[Int(order[end])] == k { end += 1 }
                    if end - start > 1 {
                        // Stable: equal third keys keep their input order, which their positions' order is.
                        order[start..<end].sort { x, y in third[Int(x)] != third[Int(y)] ? third[Int(x)] < third[Int(y)] : x < y }
                    }
                    start = end
                }
            }
        }
        return order.map { rows[Int($0)] }
    }

    /// Sorts (first, second, third, position) entries; the position makes it stable.
    static func comparisonSort(_ rows: [UInt64], _ first: [UInt64], _ second: [UInt64], then third: [UInt64]? = nil) -> [UInt64] {
        struct Entry {
            var a: UInt64
            var b: UInt64
            var c: UInt64
            var position: Int
        }
        var entries = (0..<rows.count).map { Entry(a: first[$0], b: second[$0], c: third?[$0] ?? 0, position: $0) }
        entries.sort { x, y in
            if x.a != y.a { return x.a < y.a }
            if x.b != y.b { return x.b < y.b }
            if x.c != y.c { return x.c < y.c }
            return x.position < y.position
        }
        return entries.map { rows[$0.position] }
    }

    /// Row `a` of `c` against row `b` of `d` (vectors of one type), nulls last.
    static func compare(_ c: ColumnVector, _ a: Int, _ d: ColumnVector, _ b: Int) -> Int {
        let na = c.isNull(a), nb = d.isNull(b)
        if na || nb { return na == nb ? 0 : (na ? 1 : -1) }
        func cmp<T: Comparable>(_: T.Type, _ width: Int) -> Int {
            let x = c.values.base.loadUnaligned(fromByteOffset: a * width, as: T.self)
            let y = d.values.base.loadUnaligned(fromByteOffset: b * width, as: T.self)
            return x < y ? -1 : (x > y ? 1 : 0)
        }
        switch c.type.physical {
        case .uint8: return cmp(UInt8.self, 1)
        case .int32: return cmp(Int32.self, 4)
        case .int64: return cmp(Int64.self, 8)
        case .double: return cmp(Double.self, 8)
        case .bytes:
            let x = c.stringBytes(a), y = d.stringBytes(b)
            if x.elementsEqual(y) { return 0 }
            return x.lexicographicallyPrecedes(y) ? -1 : 1
        }
    }
}
