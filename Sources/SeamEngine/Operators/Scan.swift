import SeamColumnar
import SeamKernels
import SeamSQL
import SeamStorage

/// What a scan will read and skip, from zone maps alone (EXPLAIN shows it without reading data).
public struct ScanStats: Sendable {
    public var segments = 0
    public var segmentsSkipped = 0
    public var blocks = 0
    public var blocksSkipped = 0
    public var rows = 0
    public var rowsSkipped = 0
}

/// One unit of scan work: a block (all requested columns of its rows) of one segment.
struct ScanMorsel {
    let reader: SegmentReader
    let block: Int
    let rows: Int
}

extension Executor {
    /// The morsels of a scan after zone-map pruning, and what was skipped.
    func planScan(_ s: TableScan) throws -> (morsels: [ScanMorsel], stats: ScanStats) {
        let m = try catalog.manifest(s.table)
        let readers = try catalog.store.readers(m)
        // Zone maps describe stored values; a key-mapped column is read through its map, so its zones say
        // nothing about the values the query sees.
        let mappedColumn = m.layout.keyMap.flatMap { km in m.schema.index(of: km.column) }
        let filters = s.zoneFilters.filter { f in !f.columnsUsed.contains { s.columns[$0] == mappedColumn } }
        var stats = ScanStats()
        var morsels: [ScanMorsel] = []
        for r in readers {
            stats.segments += 1
            let blocks = r.footer.columns.first?.count ?? 0
            var kept = 0
            for b in 0..<blocks {
                let rows = r.footer.columns[0][b].rows
                stats.blocks += 1
                stats.rows += rows
                let keep = filters.allSatisfy { f in
                    ZoneCheck.mayMatch(f) { col in
                        let info = r.footer.columns[s.columns[col]][b]
                        return (info.zone, info.rows, info.nulls)
                    }
                }
                if keep {
                    morsels.append(ScanMorsel(reader: r, block: b, rows: rows))
                    kept += 1
                } else {
                    stats.blocksSkipped += 1
                    stats.rowsSkipped += rows
                }
            }
            if kept == 0 && blocks > 0 { stats.segmentsSkipped += 1 }
        }
        return (morsels, stats)
    }

    /// The scan's output column read through a key map (merged customer ids), and the map; nil when none is.
    func keyMapping(_ s: TableScan) throws -> (column: Int, map: [Int64])? {
        let m = try catalog.manifest(s.table)
        guard let km = m.layout.keyMap, let stored = m.schema.index(of: km.column), let out = s.columns.firstIndex(of: stored) else {
            return nil
        }
        return (out, try catalog.store.denseKeyMap(km))
    }

    func streamScan(_ s: TableScan, _ path: String, stop: EarlyStop?, _ sink: Sink) throws {
        let (morsels, stats) = try planScan(s)
        scanStats.withLock { $0[path] = stats }
        let mapping = try keyMapping(s)
        try parallelFor(morsels.count, threads: threads, token: token) { w, i in
            if let stop, stop.skip(i) { return }
            let t0 = Executor.nanos()
            let morsel = morsels[i]
            var cols: [ColumnVector] = []
            cols.reserveCapacity(s.columns.count)
            for (k, c) in s.columns.enumerated() {
                var v = try morsel.reader.read(column: c, block: morsel.block)
                if let mapping, mapping.column == k { v = KeyMapping.apply(v, mapping.map) }
                cols.append(v)
            }
            profile?.add(path, rows: morsel.rows, nanos: Executor.nanos() - t0)
            try sink(w, i, Batch(columns: cols, count: morsel.rows))
            stop?.finished(i)
        }
    }
}

/// A filter right over a scan, run as one step: per block the columns the predicate needs are read first, and the
/// other columns only for the rows that passed (late materialization), so a selective filter does not decode the
/// values it drops. Applies when the predicate leaves some scanned column unread.
struct FilteredScan {
    let scan: TableScan
    /// The predicate as written, over the scan's output columns (for error messages).
    let predicate: BoundExpr
    /// Output positions of the columns the predicate reads, ascending.
    let predicateColumns: [Int]
    /// The predicate over a batch of just `predicateColumns`.
    let compactPredicate: BoundExpr

    init?(_ scan: TableScan, _ predicate: BoundExpr) {
        let used = predicate.columnsUsed.sorted()
        guard used.count < scan.columns.count else { return nil }
        var position = [Int: Int]()
        for (k, c) in used.enumerated() { position[c] = k }
        guard let compact = try? predicate.transformed({ e throws(SQLError) in
            if case .column(let c, let t) = e { return .column(position[c]!, t) }
            return e
        }) else { return nil }
        self.scan = scan
        self.predicate = predicate
        self.predicateColumns = used
        self.compactPredicate = compact
    }
}

extension Executor {
    func streamFilteredScan(_ f: FilteredScan, _ path: String, stop: EarlyStop?, _ sink: Sink) throws {
        let s = f.scan
        let scanPath = path + ".0"
        let (morsels, stats) = try planScan(s)
        scanStats.withLock { $0[scanPath] = stats }
        let mapping = try keyMapping(s)
        let isPredicateColumn = (0..<s.columns.count).map { f.predicateColumns.contains($0) }
        try parallelFor(morsels.count, threads: threads, token: token) { w, i in
            if let stop, stop.skip(i) { return }
            let t0 = Executor.nanos()
            let morsel = morsels[i]
            func read(_ k: Int, _ rows: UnsafeBufferPointer<Int32>?) throws -> ColumnVector {
                var v = try morsel.reader.read(column: s.columns[k], block: morsel.block, rows: rows)
                if let mapping, mapping.column == k { v = KeyMapping.apply(v, mapping.map) }
                return v
            }
            let predicateBatch = Batch(columns: try f.predicateColumns.map { try read($0, nil) }, count: morsel.rows)
            let t1 = Executor.nanos()
            let mask = try locate(f.predicate, s.schema) { try evaluator.mask(f.compactPredicate, predicateBatch) }
            let n = morsel.rows
            let flags = Vectors.pointer(mask, UInt8.self)
            let validity = Vectors.validity(mask)
            var idx = [Int32](repeating: 0, count: n)
            let selected = idx.withUnsafeMutableBufferPointer { Selection.select(flags, validity, n, $0.baseAddress!) }
            let t2 = Executor.nanos()
            var cols: [ColumnVector] = []
            cols.reserveCapacity(s.columns.count)
            var next = 0
            if selected == n {
                for k in 0..<s.columns.count {
                    if isPredicateColumn[k] {
                        cols.append(predicateBatch.columns[next])
                        next += 1
                    } else {
                        cols.append(try read(k, nil))
                    }
                }
            } else {
                idx.removeLast(n - selected)
                try idx.withUnsafeBufferPointer { rows in
                    for k in 0..<s.columns.count {
                        if isPredicateColumn[k] {
                            cols.append(Gather.rows(predicateBatch.columns[next], idx))
                            next += 1
                        } else if selected == 0 {
                            cols.append(ColumnBuilder(s.schema[k].type, capacity: 0).finish())
                        } else {
                            cols.append(try read(k, rows))
                        }
                    }
                }
            }
            let t3 = Executor.nanos()
            profile?.add(scanPath, rows: morsel.rows, nanos: (t1 - t0) + (t3 - t2))
            profile?.add(path, rows: selected, nanos: t2 - t1)
            try sink(w, i, Batch(columns: cols, count: selected))
            stop?.finished(i)
        }
    }
}

/// Reads a stored key through a dense map (index = stored key, value = current key or `Int64.min` for NULL).
enum KeyMapping {
    static func apply(_ v: ColumnVector, _ map: [Int64]) -> ColumnVector {
        let n = v.count
        let p = Vectors.pointer(v, Int64.self)
        let val = Vectors.validity(v)
        var valid = [UInt8](repeating: 1, count: n)
        let out = map.withUnsafeBufferPointer { mp in
            Vectors.make(.bigint, n, validity: nil) { (o: UnsafeMutablePointer<Int64>) in
                let count = Int64(mp.count)
                for i in 0..<n {
                    let k = p[i]
                    let inRange = k >= 0 && k < count && Vectors.isValid(val, i)
                    let mapped = inRange ? mp[Int(k)] : Int64.min
                    o[i] = mapped
                    valid[i] = mapped == Int64.min ? 0 : 1
                }
            }
        }
        let validity = valid.withUnsafeBufferPointer { Vectors.validity(fromFlags: $0.baseAddress!, n) }
        return Vectors.withValidity(out, validity)
    }
}

/// Whether a block may hold rows matching a predicate, judged from its zone map and null count.
enum ZoneCheck {
    typealias Zone = (zone: ZoneMap, rows: Int, nulls: Int)

    static func mayMatch(_ e: BoundExpr, _ zone: (Int) -> Zone) -> Bool {
        switch e {
        case .and(let xs): return xs.allSatisfy { mayMatch($0, zone) }
        case .or(let xs): return xs.contains { mayMatch($0, zone) }
        case .isNull(.column(let c, _), let negated):
            let z = zone(c)
            return negated ? z.nulls < z.rows : z.nulls > 0
        case .compare(let op, .column(let c, _), .constant(let v, _)):
            return compare(op, zone(c), v)
        case .compare(let op, .constant(let v, _), .column(let c, _)):
            return compare(op.flipped, zone(c), v)
        case .inList(.column(let c, _), let values, _, false):
            let z = zone(c)
            return values.contains { compare(.equal, z, $0) }
        default:
            return true
        }
    }

    private static func compare(_ op: ComparisonOperator, _ z: Zone, _ v: Value) -> Bool {
        if z.nulls == z.rows { return false }
        switch (z.zone, v) {
        case (.integer(let lo, let hi), _):
            let x: Int64
            switch v {
            case .integer(let i): x = Int64(i)
            case .bigint(let i), .decimal(let i), .timestamp(let i): x = i
            case .boolean(let b): x = b ? 1 : 0
            default: return true
            }
            return range(op, lo, hi, x)
        case (.double(let lo, let hi), .double(let x)):
            if lo.isNaN || hi.isNaN || x.isNaN { return true }
            return range(op, lo, hi, x)
        case (.string(let lo, let hi), .varchar(let x)):
            let xb = Array(x.utf8)
            let lob = Array(lo.utf8)
            // `lo` may be a prefix of the true minimum: a prefix sorts at or before it, so it stays a lower bound.
            switch op {
            case .equal:
                if xb.lexicographicallyPrecedes(lob) { return false }
                if let hi, Array(hi.utf8).lexicographicallyPrecedes(xb) { return false }
                return true
            case .less:
                return lob.lexicographicallyPrecedes(xb)
            case .lessEqual:
                return !xb.lexicographicallyPrecedes(lob)
            case .greater, .greaterEqual:
                guard let hi else { return true }
                let hb = Array(hi.utf8)
                return op == .greater ? xb.lexicographicallyPrecedes(hb) : !hb.lexicographicallyPrecedes(xb)
            case .notEqual:
                return true
            }
        default:
            return true
        }
    }

    private static func range<T: Comparable>(_ op: ComparisonOperator, _ lo: T, _ hi: T, _ x: T) -> Bool {
        switch op {
        case .equal: return lo <= x && x <= hi
        case .notEqual: return !(lo == x && hi == x)
        case .less: return lo < x
        case .lessEqual: return lo <= x
        case .greater: return hi > x
        case .greaterEqual: return hi >= x
        }
    }
}
