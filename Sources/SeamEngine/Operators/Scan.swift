import SeamColumnar
import SeamKernels
import SeamSQL
import SeamStorage
import Synchronization

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
        let readers = try catalog.readers(s.table)
        // Zone maps describe stored values; a key-mapped column is read through its map, so its zones say
        // nothing about the values the query sees.
        let mappedColumn = m.layout.keyMap.flatMap { km in m.schema.index(of: km.column) }
        let filters = s.zoneFilters.filter { f in !f.columnsUsed.contains { s.columns[$0] == mappedColumn } }
        var stats = ScanStats()
        var morsels: [ScanMorsel] = []
        morsels.reserveCapacity(readers.reduce(0) { $0 + ($1.footer.columns.first?.count ?? 0) })
        let columns = s.columns
        // A range on an integer-like column (`amount > 100`, the common filter) is judged from the block's plain
        // summary; other filters walk their expression over zone maps (a closure and an enum per block: most of the
        // planning time of a query whose filter skips everything).
        let ranges = filters.map { f in FilteredScan.acceptedRange(f).flatMap { r in FilteredScan.rangeColumn(f).map { (column: columns[$0], lo: r.lo, hi: r.hi) } } }
        // So is an equality or IN list on a text column (`channel = 'web'`), its constants' bytes compared with the
        // block's text zone: the expression walk was about 1,000 instructions a block, 20 us of a 2-thread count of
        // web events over 10M events (167 blocks), before any block was read.
        let texts = filters.map { f in ZoneCheck.textEquality(f).map { (column: columns[$0.column], constants: $0.constants) } }
        for r in readers {
            stats.segments += 1
            let blocks = r.footer.columns.first?.count ?? 0
            var kept = 0
            for b in 0..<blocks {
                let rows = r.summary(column: 0, block: b).rows
                stats.blocks += 1
                stats.rows += rows
                var keep = true
                for (k, f) in filters.enumerated() where keep {
                    if let range = ranges[k] {
                        keep = ZoneCheck.mayMatch(range: (range.lo, range.hi), r.summary(column: range.column, block: b))
                    } else if let text = texts[k] {
                        keep = ZoneCheck.mayMatch(equalToOneOf: text.constants, r.zone(column: text.column, block: b))
                    } else {
                        keep = ZoneCheck.mayMatch(f) { col in r.zone(column: columns[col], block: b) }
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

    /// `needed`: the output columns the sink reads, when known; the others are not decoded (all-NULL placeholders),
    /// so `count(*)` over a table reads no block at all, only the row counts of the segment footers.
    func streamScan(_ s: TableScan, _ path: String, stop: EarlyStop?, needed: Set<Int>? = nil, _ sink: Sink) throws {
        let (morsels, stats) = try planScan(s)
        scanStats.withLock { $0[path] = stats }
        if let needed {
            let read = s.columns.indices.filter { needed.contains($0) }
            if read.count < s.columns.count { scanColumnsRead.withLock { $0[path] = read } }
        }
        if needed?.isEmpty == true, stop == nil {
            // No column is read (`count(*)` over a table): the rows are the footers' counts, handed on as
            // placeholder batches of the largest size rather than one batch per block.
            let t0 = clock()
            let rows = morsels.reduce(0) { $0 + $1.rows }
            let size = Executor.placeholderRows
            profile?.add(path, rows: rows, nanos: clock() - t0)
            try parallelFor((rows + size - 1) / size, threads: threads, token: token) { w, b in
                let n = min(size, rows - b * size)
                try sink(w, b, Batch(columns: s.columns.indices.map { Executor.placeholder(s.schema[$0].type, n) }, count: n))
            }
            return
        }
        let mapping = try keyMapping(s)
        try parallelFor(morsels.count, threads: threads, token: token) { w, i in
            if let stop, stop.skip(i) { return }
            let t0 = clock()
            let morsel = morsels[i]
            var cols: [ColumnVector] = []
            cols.reserveCapacity(s.columns.count)
            for (k, c) in s.columns.enumerated() {
                if let needed, !needed.contains(k) {
                    cols.append(Executor.placeholder(s.schema[k].type, morsel.rows))
                    continue
                }
                var v = try morsel.reader.read(column: c, block: morsel.block)
                if let mapping, mapping.column == k { v = KeyMapping.apply(v, mapping.map) }
                cols.append(v)
            }
            profile?.add(path, rows: morsel.rows, nanos: clock() - t0)
            try sink(w, i, Batch(columns: cols, count: morsel.rows))
            stop?.finished(i)
        }
    }
}

/// A filter right over a scan, run as one step: per block the columns the predicate needs are read first, and the
/// other columns only for the rows that passed (late materialization), so a selective filter does not decode the
/// values it drops. A conjunct the block's zone map proves true for every row is not evaluated there (`ts >= X` in a
/// block whose smallest `ts` is past X), and columns the consumer does not read (`needed`) are not decoded at all.
struct FilteredScan {
    let scan: TableScan
    /// The predicate as written, over the scan's output columns (for error messages).
    let predicate: BoundExpr
    /// The predicate's conjuncts over the scan's output columns (for zone checks).
    let conjuncts: [BoundExpr]
    /// The conjuncts over a batch of just `predicateColumns`.
    let compactConjuncts: [BoundExpr]
    /// Per conjunct, its columns as positions in `predicateColumns`.
    let conjunctColumns: [[Int]]
    /// Output positions of the columns the predicate reads, ascending.
    let predicateColumns: [Int]
    /// Output columns the consumer reads; nil when it may read any.
    let needed: Set<Int>?
    /// Per conjunct, the position (in `predicateColumns`) of its one column when the conjunct is `column op constant`,
    /// `column IN (constants)` or `column [I]LIKE pattern`: those are NULL for a NULL input, so they can run once per
    /// run of equal values or per dictionary entry.
    let runnable: [Int?]
    /// Per runnable conjunct over an integer-like column, the values it accepts as one range (`amount > 100` is
    /// 10001 through Int64.max in minor units); nil for other conjuncts, `<>`, and constants of another type than
    /// the column's. Lets `count(*)` over a run-length block compare and count in one pass.
    let ranges: [(lo: Int64, hi: Int64)?]
    /// Per runnable conjunct over a text column that is `=`, `<>` or IN with text constants: the constants' bytes, and
    /// whether a match passes (`=`, IN) or fails (`<>`); nil for other conjuncts. A dictionary block's entries are
    /// then judged by comparing bytes, not through the evaluator (about 10K instructions a block, as much as counting
    /// 10K codes).
    let textMatches: [(constants: [[UInt8]], passes: Bool)?]

    /// Row flags from per-run flags: run k's flag for its rows, cleared where the block's validity says NULL.
    static func spread(_ runMask: ColumnVector, _ block: RunBlock) -> [UInt8] {
        guard block.rows > 0 else { return [] }
        return [UInt8](unsafeUninitializedCapacity: block.rows) { out, count in
            Runs.spread(
                flags: Vectors.pointer(runMask, UInt8.self), lengths: block.lengths.base.assumingMemoryBound(to: UInt32.self),
                runs: block.runs, into: out.baseAddress!)
            if let v = block.validity { Bitmap.clearUnset(UnsafeMutableBufferPointer(rebasing: out[0..<block.rows]), v.base.assumingMemoryBound(to: UInt64.self)) }
            count = block.rows
        }
    }

    /// The integers `column op constant` accepts, for a column stored as 32- or 64-bit integers and a non-NULL
    /// constant of the same type, as `lo` through `hi` (none when `lo > hi`); nil otherwise.
    static func acceptedRange(_ e: BoundExpr) -> (lo: Int64, hi: Int64)? {
        let op: ComparisonOperator, type: LogicalType, constant: Value, constantType: LogicalType
        switch e {
        case .compare(let o, .column(_, let t), .constant(let v, let ct)): (op, type, constant, constantType) = (o, t, v, ct)
        case .compare(let o, .constant(let v, let ct), .column(_, let t)): (op, type, constant, constantType) = (o.flipped, t, v, ct)
        default: return nil
        }
        guard type == constantType, type.physical == .int64 || type.physical == .int32 else { return nil }
        let c: Int64
        switch constant {
        case .integer(let x), .date(let x): c = Int64(x)
        case .bigint(let x), .decimal(let x), .timestamp(let x): c = x
        default: return nil
        }
        let none: (lo: Int64, hi: Int64) = (1, 0)
        switch op {
        case .equal: return (c, c)
        case .greater: return c == .max ? none : (c + 1, .max)
        case .greaterEqual: return (c, .max)
        case .less: return c == .min ? none : (.min, c - 1)
        case .lessEqual: return (.min, c)
        case .notEqual: return nil
        }
    }

    /// A flag per dictionary entry (text): 1 where it equals one of `constants` and `passes`, or equals none and not
    /// `passes`; 0 for a NULL entry.
    static func entryFlags(_ entries: ColumnVector, matching constants: [[UInt8]], passes: Bool) -> [UInt8] {
        let spans = StringSpans(entries), validity = Vectors.validity(entries)
        return (0..<entries.count).map { k in
            guard Vectors.isValid(validity, k) else { return 0 }
            let entry = spans[k]
            return StringSpans.equalsAny(entry, constants) == passes ? 1 : 0
        }
    }

    /// The text constants `column = 'a'`, `column <> 'a'` or `column IN ('a', 'b')` compares a text column with, and
    /// whether a match passes; nil for other conjuncts (a NULL in an IN list changes nothing a filter keeps).
    static func textMatch(_ e: BoundExpr) -> (constants: [[UInt8]], passes: Bool)? {
        switch e {
        case .compare(let op, .column(_, .varchar), .constant(.varchar(let v), .varchar)),
            .compare(let op, .constant(.varchar(let v), .varchar), .column(_, .varchar)):
            switch op {
            case .equal: return ([Array(v.utf8)], true)
            case .notEqual: return ([Array(v.utf8)], false)
            default: return nil
            }
        case .inList(.column(_, .varchar), let values, _, false):
            var constants: [[UInt8]] = []
            for value in values {
                switch value {
                case .varchar(let v): constants.append(Array(v.utf8))
                case .null: continue
                default: return nil
                }
            }
            return (constants, true)
        default:
            return nil
        }
    }

    /// The column a comparison with a constant reads (`.column(c) op constant` either way round); nil otherwise.
    static func rangeColumn(_ e: BoundExpr) -> Int? {
        switch e {
        case .compare(_, .column(let c, _), .constant), .compare(_, .constant, .column(let c, _)): return c
        default: return nil
        }
    }

    /// `countInRange` over a block's run values of either integer width (the range clamped to 32 bits for those).
    static func countRuns(in range: (lo: Int64, hi: Int64), _ block: RunBlock) -> Int? {
        let lengths = block.lengths.base.assumingMemoryBound(to: UInt32.self)
        let validity = block.validity?.base.assumingMemoryBound(to: UInt64.self)
        switch block.values.type.physical {
        case .int64:
            return Runs.countInRange(
                values: Vectors.pointer(block.values, Int64.self), lo: range.lo, hi: range.hi, lengths: lengths,
                runs: block.runs, validity: validity)
        case .int32:
            // A bound clamped from outside Int32 still admits every Int32 on its side; a range that holds no Int32
            // counts nothing.
            guard range.lo <= range.hi, range.lo <= Int64(Int32.max), range.hi >= Int64(Int32.min) else { return 0 }
            let lo = Int32(clamping: range.lo), hi = Int32(clamping: range.hi)
            return Runs.countInRange(
                values: Vectors.pointer(block.values, Int32.self), lo: lo, hi: hi, lengths: lengths, runs: block.runs, validity: validity)
        default:
            return nil
        }
    }

    /// The rows of the runs whose flag is set, less their NULL rows (what `spread` would set, counted).
    static func countRuns(_ runMask: ColumnVector, _ block: RunBlock) -> Int {
        Runs.countSelected(
            flags: Vectors.pointer(runMask, UInt8.self), lengths: block.lengths.base.assumingMemoryBound(to: UInt32.self),
            runs: block.runs, validity: block.validity?.base.assumingMemoryBound(to: UInt64.self))
    }

    init?(_ scan: TableScan, _ predicate: BoundExpr, needed: Set<Int>? = nil) {
        let used = predicate.columnsUsed.sorted()
        guard used.count < scan.columns.count || needed != nil else { return nil }
        // Column -> its place among the predicate's columns (an array: the columns are a table's, a few dozen).
        var position = [Int](repeating: -1, count: (used.last ?? -1) + 1)
        for (k, c) in used.enumerated() { position[c] = k }
        if case .and(let xs) = predicate { conjuncts = xs } else { conjuncts = [predicate] }
        var compact: [BoundExpr] = []
        var conjunctColumns: [[Int]] = []
        for c in conjuncts {
            var columns: [Int] = []
            guard let e = try? c.transformed({ e throws(SQLError) in
                if case .column(let i, let t) = e {
                    if !columns.contains(position[i]) { columns.append(position[i]) }
                    return .column(position[i], t)
                }
                return e
            }) else { return nil }
            compact.append(e)
            conjunctColumns.append(columns)
        }
        self.scan = scan
        self.predicate = predicate
        self.compactConjuncts = compact
        self.conjunctColumns = conjunctColumns
        self.predicateColumns = used
        self.needed = needed
        self.ranges = conjuncts.map(FilteredScan.acceptedRange)
        self.textMatches = conjuncts.map(FilteredScan.textMatch)
        self.runnable = conjuncts.map { c -> Int? in
            switch c {
            case .compare(_, .column(let i, _), .constant), .compare(_, .constant, .column(let i, _)), .inList(.column(let i, _), _, _, false),
                .like(.column(let i, _), _, _, _, _):
                return position[i]
            default:
                return nil
            }
        }
    }
}

extension Executor {
    /// Placeholder for a column nobody downstream reads: an all-NULL vector over shared zeroed memory.
    static let placeholderRows = 1 << 17
    static let placeholderBytes = Buffer(byteCount: placeholderRows * 8 + 8) { _ in }

    static func placeholder(_ type: LogicalType, _ n: Int) -> ColumnVector {
        guard n <= placeholderRows else { return Vectors.constant(.null, type, n) }
        let validity = Buffer(borrowing: placeholderBytes.base, byteCount: Bitmap.wordCount(n) * 8, owner: placeholderBytes)
        if type == .varchar {
            return ColumnVector(
                type: .varchar, count: n, values: Buffer(borrowing: placeholderBytes.base, byteCount: 0, owner: placeholderBytes),
                offsets: Buffer(borrowing: placeholderBytes.base, byteCount: (n + 1) * 4, owner: placeholderBytes), validity: validity)
        }
        return ColumnVector(
            type: type, count: n, values: Buffer(borrowing: placeholderBytes.base, byteCount: n * type.physical.width!, owner: placeholderBytes),
            validity: validity)
    }

    /// `reduce`: instead of handing kept rows to `sink`, each block's kept rows are reduced into it (see
    /// ``BlockReduction``); the sink is not called.
    func streamFilteredScan(_ f: FilteredScan, _ path: String, stop: EarlyStop?, reduce: BlockReduction? = nil, _ sink: Sink) throws {
        let s = f.scan
        let scanPath = path + ".0"
        let (morsels, stats) = try planScan(s)
        scanStats.withLock { $0[scanPath] = stats }
        let mapping = try keyMapping(s)
        let predicatePosition: [Int?] = (0..<s.columns.count).map { f.predicateColumns.firstIndex(of: $0) }
        if let needed = f.needed {
            let read = s.columns.indices.filter { needed.contains($0) || f.predicateColumns.contains($0) }
            if read.count < s.columns.count { scanColumnsRead.withLock { $0[scanPath] = read } }
        }
        /// The zone map, row and NULL counts of an output column in a morsel's block.
        func zone(_ morsel: ScanMorsel, _ col: Int) -> ZoneCheck.Zone { morsel.reader.zone(column: s.columns[col], block: morsel.block) }
        let countOnly = f.needed?.isEmpty == true
        /// count(*) alone: all-NULL placeholder columns for `rows` rows.
        func counted(_ rows: Int) -> Batch {
            Batch(columns: s.columns.indices.map { Executor.placeholder(s.schema[$0].type, rows) }, count: rows)
        }
        let blocksCounted = Atomic<Int>(0)
        // What the blocks counted in place read (their packed values) and what their scanned columns store (EXPLAIN
        // ANALYZE reports both: a sparse block's count does not read its validity bitmap).
        let bytesCountedRead = Atomic<Int>(0), bytesCountedStored = Atomic<Int>(0)
        func storedBytes(_ morsel: ScanMorsel) -> Int {
            s.columns.reduce(0) { $0 + morsel.reader.storedBytes(column: $1, block: morsel.block) }
        }
        // Conjuncts over a key-mapped column: zones and stored values describe the stored keys, not the ones queries see.
        let overMappedColumn = f.conjuncts.map { c in mapping.map { c.columnsUsed.contains($0.column) } ?? false }
        /// count(*) under one range conjunct on an integer-like stored column (`amount > 100`): the common shape,
        /// judged from the block's plain summary (no expression walk, no footer entry copied per block).
        let singleRange: (column: Int, lo: Int64, hi: Int64)? = {
            guard countOnly, f.conjuncts.count == 1, !overMappedColumn[0], let range = f.ranges[0], let p = f.runnable[0] else { return nil }
            return (s.columns[f.predicateColumns[p]], range.lo, range.hi)
        }()
        /// count(*) under one `=`, `<>` or IN conjunct on a text column (`channel = 'web'`): its stored column, its
        /// position among the predicate's columns, and the constants, read once here. A dictionary block is counted
        /// on its codes without the zone proofs (a text zone proves such a conjunct only for a block of one value,
        /// which the codes count as fast), and without touching the filter's shared expressions per block.
        let singleText: (column: Int, p: Int, constants: [[UInt8]], passes: Bool)? = {
            guard countOnly, f.conjuncts.count == 1, !overMappedColumn[0], let p = f.runnable[0], let m = f.textMatches[0] else { return nil }
            return (s.columns[f.predicateColumns[p]], p, m.constants, m.passes)
        }()
        func countInRange(_ morsel: ScanMorsel, column: Int, lo: Int64, hi: Int64, bytesRead: inout Int) throws -> Int? {
            if let n = try morsel.reader.countInRange(column: column, block: morsel.block, lo: lo, hi: hi) {
                bytesRead &+= morsel.reader.packedBytes(column: column, block: morsel.block)
                return n
            }
            if let runs = try morsel.reader.readRuns(column: column, block: morsel.block) {
                bytesRead &+= morsel.reader.storedBytes(column: column, block: morsel.block)
                return FilteredScan.countRuns(in: (lo, hi), runs)
            }
            return nil
        }
        /// The count of a block under `singleRange` when its zone map decides it (no value or every value in range).
        func countedByZone(_ morsel: ScanMorsel, _ r: (column: Int, lo: Int64, hi: Int64)) -> Int? {
            let z = morsel.reader.summary(column: r.column, block: morsel.block)
            guard let zone = z.integerZone, z.rows > z.nulls else { return nil }
            // A comparison is NULL on a NULL row: the block counts its non-NULL rows when every one passes.
            if zone.max < r.lo || zone.min > r.hi { return 0 }
            if zone.min >= r.lo && zone.max <= r.hi { return z.rows - z.nulls }
            return nil
        }
        /// The flags of a dictionary block's entries under conjunct `c`, whose column is predicate column `p`: the
        /// conjunct run once over the entries.
        func entryFlags(_ c: Int, _ p: Int, _ entries: ColumnVector) throws -> [UInt8] {
            if let m = f.textMatches[c], entries.type == .varchar {
                return FilteredScan.entryFlags(entries, matching: m.constants, passes: m.passes)
            }
            let columns = f.predicateColumns.enumerated().map { q, k in
                q == p ? entries : Executor.placeholder(s.schema[k].type, entries.count)
            }
            let mask = try locate(f.predicate, s.schema) {
                try evaluator.mask(f.compactConjuncts[c], Batch(columns: columns, count: entries.count))
            }
            return Array(UnsafeBufferPointer(start: Vectors.pointer(mask, UInt8.self), count: entries.count))
        }
        /// count(*) of a block without its rows when the zone map and the codec allow: no conjunct left open (the
        /// zone map proves them all), or one range conjunct counted on the packed or run-length values; nil otherwise.
        /// `bytesRead` grows by the stored bytes the count read.
        func countInPlace(_ morsel: ScanMorsel, bytesRead: inout Int) throws -> Int? {
            if let r = singleRange {
                if let n = countedByZone(morsel, r) { return n }
                return try countInRange(morsel, column: r.column, lo: r.lo, hi: r.hi, bytesRead: &bytesRead)
            }
            if let t = singleText,
                let n = try morsel.reader.countDictionaryMatches(column: t.column, block: morsel.block, constants: t.constants, passes: t.passes)
            {
                bytesRead &+= morsel.reader.packedBytes(column: t.column, block: morsel.block)
                return n
            }
            let zone = { (col: Int) in zone(morsel, col) }
            var open: Int? = nil
            for c in f.conjuncts.indices {
                if overMappedColumn[c] { return nil }
                if ZoneCheck.alwaysMatches(f.conjuncts[c], zone) { continue }
                if open != nil { return nil }
                open = c
            }
            guard let c = open else { return morsel.rows }
            // `amount > 0` where the block's smallest amount is positive: its non-NULL rows, from the footer.
            let every = ZoneCheck.matchesEveryValid(f.conjuncts[c], zone)
            if every.yes { return zone(every.column).rows - zone(every.column).nulls }
            guard let p = f.runnable[c] else { return nil }
            let column = s.columns[f.predicateColumns[p]]
            guard let range = f.ranges[c] else {
                // `channel = 'web'`: on a dictionary block, the entries' flags summed over the packed codes.
                guard s.schema[f.predicateColumns[p]].type == .varchar,
                    let n = try morsel.reader.countDictionaryFlags(column: column, block: morsel.block, entryFlags: { try entryFlags(c, p, $0) })
                else { return nil }
                bytesRead &+= morsel.reader.packedBytes(column: column, block: morsel.block)
                return n
            }
            return try countInRange(morsel, column: column, lo: range.lo, hi: range.hi, bytesRead: &bytesRead)
        }
        /// The block's kept rows (`flags`, one per row; empty: every row) reduced into `reduce`, each column read as
        /// stored (a sparse one's valid values and its validity).
        ///
        /// A filter that keeps few rows (under one in eight) has its kept rows read by position instead, as the rows
        /// handed on would be: a column decoded whole for a few of its rows cost more than its selective decode
        /// (`min(ts) WHERE category = 'books'`, one row in twenty, 13.5 -> 32 ms over 10M events).
        func reduceBlock(_ reduce: BlockReduction, _ w: Int, _ morsel: ScanMorsel, _ flags: [UInt8], selected: Int) throws {
            let totals: [MaskedReduce.Totals]
            if !flags.isEmpty, selected &* 8 < morsel.rows {
                // `select` stores a position for every row it looks at (a branch-free loop): room for all of them,
                // not zeroed (zeroing 4 bytes a row cost as much as selecting).
                let idx = [Int32](unsafeUninitializedCapacity: morsel.rows) { out, written in
                    written = flags.withUnsafeBufferPointer { Selection.select($0.baseAddress!, nil, morsel.rows, out.baseAddress!) }
                }
                totals = try idx.withUnsafeBufferPointer { rows in
                    try reduce.columns.enumerated().map { slot, k in
                        try BlockReduction.reduce(
                            morsel.reader, column: s.columns[k], block: morsel.block, rows: rows, minMax: reduce.minMax[slot])
                    }
                }
            } else {
                totals = try flags.withUnsafeBufferPointer { fl in
                    try reduce.columns.enumerated().map { slot, k in
                        // Every row kept (the zone map proves the filter): a count, min or max from the footer.
                        if fl.isEmpty, let t = BlockReduction.fromFooter(
                            morsel.reader.summary(column: s.columns[k], block: morsel.block), sums: reduce.sums[slot], minMax: reduce.minMax[slot])
                        {
                            return t
                        }
                        return try BlockReduction.reduce(
                            morsel.reader, column: s.columns[k], block: morsel.block,
                            flags: fl.isEmpty ? nil : fl.baseAddress, minMax: reduce.minMax[slot])
                    }
                }
            }
            reduce.add(worker: w, rows: selected, totals)
        }
        /// A reduction whose filter is one range on the one column it reduces (`sum(amount) WHERE amount > 100`):
        /// the range, decided on the values as they are summed.
        let reducedRange: (lo: Int64, hi: Int64)? = {
            guard let reduce, reduce.columns.count == 1, f.conjuncts.count == 1, !overMappedColumn[0], let range = f.ranges[0],
                let p = f.runnable[0], f.predicateColumns[p] == reduce.columns[0]
            else { return nil }
            return range
        }()
        /// A reduction of one column whose rows count only where that column is valid: no count(*) is asked, or a
        /// conjunct on the column is NULL for a NULL value (`count(*), sum(amount) WHERE amount > 50 AND ...`). A
        /// block storing it sparse, with few valid rows, has the filter decided at those rows alone.
        let validRowsColumn: Int? = {
            guard let reduce, reducedRange == nil, reduce.columns.count == 1, mapping?.column != reduce.columns[0] else { return nil }
            let x = reduce.columns[0]
            if reduce.slots.contains(where: { $0 == nil }),
                !f.conjuncts.indices.contains(where: { c in f.runnable[c].map { f.predicateColumns[$0] == x } ?? false })
            {
                return nil
            }
            return x
        }()
        let blocksAtValidRows = Atomic<Int>(0)
        /// `countTried`: ``countInPlace`` has already said no for this block.
        func process(_ w: Int, _ i: Int, countTried: Bool = false) throws {
            if let stop, stop.skip(i) { return }
            let t0 = clock()
            let morsel = morsels[i]
            let n = morsel.rows
            if let reduce, let r = reducedRange {
                let column = s.columns[reduce.columns[0]]
                let (t, bytesRead) = try BlockReduction.reduce(
                    morsel.reader, column: column, block: morsel.block, lo: r.lo, hi: r.hi, sums: reduce.sums[0], minMax: reduce.minMax[0])
                reduce.add(worker: w, rows: t.count, t)
                blocksCounted.add(1, ordering: .relaxed)
                bytesCountedRead.add(bytesRead, ordering: .relaxed)
                bytesCountedStored.add(storedBytes(morsel), ordering: .relaxed)
                profile?.add(scanPath, rows: n, nanos: clock() - t0)
                profile?.add(path, rows: t.count, nanos: 0)
                return
            }
            var bytesRead = 0
            if countOnly, !countTried, let selected = try countInPlace(morsel, bytesRead: &bytesRead) {
                blocksCounted.add(1, ordering: .relaxed)
                bytesCountedRead.add(bytesRead, ordering: .relaxed)
                bytesCountedStored.add(storedBytes(morsel), ordering: .relaxed)
                profile?.add(scanPath, rows: n, nanos: clock() - t0)
                profile?.add(path, rows: selected, nanos: 0)
                try sink(w, i, counted(selected))
                stop?.finished(i)
                return
            }
            func read(_ k: Int, _ rows: UnsafeBufferPointer<Int32>?) throws -> ColumnVector {
                var v = try morsel.reader.read(column: s.columns[k], block: morsel.block, rows: rows)
                if let mapping, mapping.column == k { v = KeyMapping.apply(v, mapping.map) }
                return v
            }
            /// The block reduced at the valid rows of output column `x` only, when it stores `x` sparse with at most
            /// one row in two valid and every conjunct left `open` is runnable (a comparison, IN list or LIKE on one
            /// column, which raises no error, so deciding it at fewer rows changes no outcome): each conjunct is
            /// decided at those rows (a dictionary column on the codes there, a range on `x` on its stored values,
            /// others on their values read there), and `x`'s stored values reduced under the flags. False when the
            /// block does not qualify. (`sum(quantity) WHERE channel = 'web'`: quantity valid in one row in five;
            /// a flag for every row from the channel codes was most of the cost.)
            func reduceAtValidRows(_ reduce: BlockReduction, _ morsel: ScanMorsel, _ x: Int, _ open: [Int]) throws -> Bool {
                guard open.allSatisfy({ f.runnable[$0] != nil && !overMappedColumn[$0] }) else { return false }
                // A conjunct on another integer-like column with NULLs in this block stays on the flag path: its
                // range decided on its own stored values, then few kept rows read by position, costs less than its
                // values found at these rows (`sum(quantity) WHERE amount > 100`: 4.9 ms that way, 7.7 ms this way).
                for c in open {
                    let k = f.predicateColumns[f.runnable[c]!]
                    if k != x, s.schema[k].type != .varchar, morsel.reader.summary(column: s.columns[k], block: morsel.block).nulls > 0 {
                        return false
                    }
                }
                let column = s.columns[x]
                let summary = morsel.reader.summary(column: column, block: morsel.block)
                let valid = summary.rows - summary.nulls
                guard valid &* 2 <= summary.rows else { return false }
                if valid == 0 {
                    reduce.add(worker: w, rows: 0, MaskedReduce.Totals())
                    return true
                }
                // `sum(quantity) WHERE channel = 'web'`: one text equality, the sum or count alone, and a sum that
                // cannot leave 64 bits: counted and summed inside the storage layer on the packed codes of both
                // columns (a bit per valid row, no flag bytes, no values decoded) where their blocks allow.
                if open.count == 1, !reduce.minMax[0], !BlockReduction.needsCheck(summary), let m = f.textMatches[open[0]] {
                    let k = f.predicateColumns[f.runnable[open[0]]!]
                    if k != x, let r = try morsel.reader.sumWhereTextMatches(
                        column: column, textColumn: s.columns[k], block: morsel.block, constants: m.constants, passes: m.passes)
                    {
                        let t = MaskedReduce.Totals(count: r.count, sum: r.sum)
                        reduce.add(worker: w, rows: t.count, t)
                        profile?.add(path, rows: t.count, nanos: 0)
                        return true
                    }
                }
                let c = try morsel.reader.readCompact(column: column, block: morsel.block)
                guard c.sparse, let validity = c.validity else { return false }
                let words = validity.base.assumingMemoryBound(to: UInt64.self)
                var set = 0
                for w in 0..<Bitmap.wordCount(c.rows) { set &+= words[w].nonzeroBitCount }
                guard set == valid else {
                    throw StorageError(
                        .corrupt, "validity holds \(set) valid rows, the footer \(valid)", file: morsel.reader.path, column: s.schema[x].name,
                        block: morsel.block)
                }
                // The valid rows as a list, made only when a conjunct needs it (a dictionary block without NULLs
                // walks the validity words itself).
                var listed: [Int32]? = nil
                func rows() -> [Int32] {
                    if let listed { return listed }
                    let r = [Int32](unsafeUninitializedCapacity: valid) { out, n in n = Selection.positions(of: words, c.rows, out.baseAddress!) }
                    listed = r
                    return r
                }
                var flags: [UInt8]? = nil
                func and(_ m: UnsafeBufferPointer<UInt8>) {
                    if flags == nil { flags = Array(m); return }
                    flags!.withUnsafeMutableBufferPointer { fl in for k in 0..<valid { fl[k] &= m[k] } }
                }
                /// ``and(_:)`` for flags of the caller's own: the first taken as they are, not copied.
                func and(_ m: [UInt8]) {
                    if flags == nil { flags = m; return }
                    m.withUnsafeBufferPointer { and($0) }
                }
                var others: [Int] = []
                for cj in open {
                    let p = f.runnable[cj]!, k = f.predicateColumns[p]
                    if k == x, let r = f.ranges[cj] {
                        // A range on `x` itself: decided on the values just read.
                        and(BlockReduction.inRange(c.values, lo: r.lo, hi: r.hi))
                    } else if s.schema[k].type == .varchar, let fl = try morsel.reader.readDictionaryFlags(
                        column: s.columns[k], block: morsel.block, atSetBitsOf: words, rows: c.rows, valid: valid,
                        entryFlags: { try entryFlags(cj, p, $0) })
                    {
                        and(fl)
                    } else if s.schema[k].type == .varchar, let fl = try rows().withUnsafeBufferPointer({ at in
                        try morsel.reader.readDictionaryFlags(column: s.columns[k], block: morsel.block, rows: at, entryFlags: { try entryFlags(cj, p, $0) })
                    }) {
                        and(fl)
                    } else {
                        others.append(cj)
                    }
                }
                if !others.isEmpty {
                    var decode = [Bool](repeating: false, count: f.predicateColumns.count)
                    for cj in others { decode[f.runnable[cj]!] = true }
                    let batch = try rows().withUnsafeBufferPointer { at in
                        Batch(
                            columns: try f.predicateColumns.enumerated().map { p, k in
                                decode[p] ? try read(k, at) : Executor.placeholder(s.schema[k].type, valid)
                            }, count: valid)
                    }
                    let test = others.count == 1 ? f.compactConjuncts[others[0]] : .and(others.map { f.compactConjuncts[$0] })
                    let mask = try locate(f.predicate, s.schema) { try evaluator.mask(test, batch) }
                    and(UnsafeBufferPointer(start: Vectors.pointer(mask, UInt8.self), count: valid))
                }
                let t = flags!.withUnsafeBufferPointer { BlockReduction.reduce(valuesOf: c, summary, flags: $0.baseAddress!, minMax: reduce.minMax[0]) }
                reduce.add(worker: w, rows: t.count, t)
                profile?.add(path, rows: t.count, nanos: 0)
                return true
            }
            // Conjuncts the zone map cannot prove true here, and the predicate columns they read.
            let open = f.conjuncts.indices.filter { c in
                overMappedColumn[c] || !ZoneCheck.alwaysMatches(f.conjuncts[c], { zone(morsel, $0) })
            }
            if let reduce, let x = validRowsColumn, !open.isEmpty, try reduceAtValidRows(reduce, morsel, x, open) {
                blocksAtValidRows.add(1, ordering: .relaxed)
                profile?.add(scanPath, rows: morsel.rows, nanos: clock() - t0)
                return
            }
            // A NULL-rejecting conjunct on a run-length block runs once per run, its result spread over the runs.
            var runResults: [(mask: ColumnVector, block: RunBlock)] = []
            // The same conjuncts on a dictionary block run once per entry, looked up per row through the codes.
            var rowMasks: [[UInt8]] = []
            var perRow: [Int] = []
            for c in open {
                if let p = f.runnable[c], f.predicateColumns[p] != mapping?.column,
                    let runs = try morsel.reader.readRuns(column: s.columns[f.predicateColumns[p]], block: morsel.block)
                {
                    let columns = f.predicateColumns.enumerated().map { q, k in
                        q == p ? runs.values : Executor.placeholder(s.schema[k].type, runs.values.count)
                    }
                    let runMask = try locate(f.predicate, s.schema) {
                        try evaluator.mask(f.compactConjuncts[c], Batch(columns: columns, count: runs.values.count))
                    }
                    runResults.append((runMask, runs))
                } else if let p = f.runnable[c], f.predicateColumns[p] != mapping?.column, s.schema[f.predicateColumns[p]].type == .varchar,
                    let flags = try morsel.reader.readDictionaryFlags(column: s.columns[f.predicateColumns[p]], block: morsel.block, entryFlags: { try entryFlags(c, p, $0) })
                {
                    rowMasks.append(flags)
                } else if let range = f.ranges[c], let p = f.runnable[c], f.predicateColumns[p] != mapping?.column,
                    let flags = try morsel.reader.readRangeFlags(column: s.columns[f.predicateColumns[p]], block: morsel.block, lo: range.lo, hi: range.hi)
                {
                    // `amount > 50` on a sparse block: decided on its valid values, not on a value spread per row.
                    rowMasks.append(flags)
                } else {
                    perRow.append(c)
                }
            }
            var decode = [Bool](repeating: false, count: f.predicateColumns.count)
            for c in perRow { for p in f.conjunctColumns[c] { decode[p] = true } }
            let predicateBatch = Batch(
                columns: try f.predicateColumns.enumerated().map { p, k in
                    decode[p] ? try read(k, nil) : Executor.placeholder(s.schema[k].type, n)
                }, count: n)
            let t1 = clock()
            var idx: [Int32] = []
            var selected = n
            if let needed = f.needed, needed.isEmpty, perRow.isEmpty, rowMasks.isEmpty, runResults.count == 1 {
                // count(*) under one conjunct that ran per run: add up the passing runs' non-NULL rows.
                let r = runResults[0]
                selected = FilteredScan.countRuns(r.mask, r.block)
            } else if !open.isEmpty {
                let runMasks = runResults.map { FilteredScan.spread($0.mask, $0.block) } + rowMasks
                var flags = runMasks.first ?? []
                for m in runMasks.dropFirst() { for r in 0..<n { flags[r] &= m[r] } }
                if !perRow.isEmpty {
                    let test = perRow.count == 1 ? f.compactConjuncts[perRow[0]] : .and(perRow.map { f.compactConjuncts[$0] })
                    let mask = try locate(f.predicate, s.schema) { try evaluator.mask(test, predicateBatch) }
                    let m = Vectors.pointer(mask, UInt8.self)
                    if flags.isEmpty { flags = Array(UnsafeBufferPointer(start: m, count: n)) } else { for r in 0..<n { flags[r] &= m[r] } }
                }
                if let reduce {
                    // Reduced where the values lie, under the flags: no row numbers, no gathered rows.
                    selected = flags.withUnsafeBufferPointer { Selection.count($0.baseAddress!, nil, n) }
                    try reduceBlock(reduce, w, morsel, flags, selected: selected)
                    profile?.add(scanPath, rows: morsel.rows, nanos: clock() - t0)
                    profile?.add(path, rows: selected, nanos: 0)
                    return
                } else if let needed = f.needed, needed.isEmpty {
                    // Only the number of rows is read (count(*)): no row numbers needed.
                    selected = flags.withUnsafeBufferPointer { Selection.count($0.baseAddress!, nil, n) }
                } else {
                    idx = [Int32](unsafeUninitializedCapacity: n) { out, written in
                        written = flags.withUnsafeBufferPointer { Selection.select($0.baseAddress!, nil, n, out.baseAddress!) }
                    }
                    selected = idx.count
                }
            }
            if let reduce {
                // Every row of the block passes (the zone map proves the filter): reduced without flags.
                try reduceBlock(reduce, w, morsel, [], selected: n)
                profile?.add(scanPath, rows: morsel.rows, nanos: clock() - t0)
                profile?.add(path, rows: n, nanos: 0)
                return
            }
            let t2 = clock()
            var cols: [ColumnVector] = []
            cols.reserveCapacity(s.columns.count)
            try idx.withUnsafeBufferPointer { rows in
                let subset: UnsafeBufferPointer<Int32>? = selected == n ? nil : rows
                for k in 0..<s.columns.count {
                    if let needed = f.needed, !needed.contains(k) {
                        cols.append(Executor.placeholder(s.schema[k].type, selected))
                    } else if let p = predicatePosition[k], decode[p] {
                        let v = predicateBatch.columns[p]
                        cols.append(selected == n ? v : Gather.rows(v, idx))
                    } else if selected == 0 {
                        cols.append(ColumnBuilder(s.schema[k].type, capacity: 0).finish())
                    } else {
                        cols.append(try read(k, subset))
                    }
                }
            }
            let t3 = clock()
            profile?.add(scanPath, rows: morsel.rows, nanos: (t1 - t0) + (t3 - t2))
            profile?.add(path, rows: selected, nanos: t2 - t1)
            try sink(w, i, Batch(columns: cols, count: selected))
            stop?.finished(i)
        }
        defer {
            if validRowsColumn != nil {
                let v = (blocks: blocksAtValidRows.load(ordering: .relaxed), column: s.schema[validRowsColumn!].name)
                blocksFilteredAtValidRows.withLock { $0[path] = v }
            }
            if countOnly || reducedRange != nil {
                let counted = CountedInPlace(
                    blocks: blocksCounted.load(ordering: .relaxed), bytesRead: bytesCountedRead.load(ordering: .relaxed),
                    bytesStored: bytesCountedStored.load(ordering: .relaxed), summed: !countOnly)
                blocksCountedInPlace.withLock { $0[path] = counted }
            }
        }
        guard countOnly, stop == nil else {
            if reducedRange != nil, stop == nil {
                // Summed on packed values like a count: each worker's share of the blocks again, found in its own L2.
                try parallelForInShares(morsels.count, threads: threads, token: token) { w, i in try process(w, i) }
                return
            }
            try parallelFor(morsels.count, threads: threads, token: token) { w, i in try process(w, i) }
            return
        }
        // count(*) alone: blocks go to workers four at a time; the rows those counted in place select add up, and go
        // to the sink as one count after the loop (a batch of placeholders through the sink per chunk cost about as
        // much as counting a chunk of small blocks, so chunks were sixteen blocks, and two workers' shares of eleven
        // chunks at 10M events were as uneven as six to five). Blocks not counted in place run as above.
        let perChunk = 4
        let countedInPlace = Atomic<Int>(0)
        try parallelForInShares((morsels.count + perChunk - 1) / perChunk, threads: threads, token: token) { w, chunk in
            let t0 = clock()
            var selected = 0, rows = 0, inPlace = 0, bytesRead = 0, bytesStored = 0
            let end = min(morsels.count, (chunk + 1) * perChunk)
            for i in chunk * perChunk..<end {
                // The next block's first lines load while this one is counted (each block's start was a miss), unless
                // its zone map answers for it (then its bytes are not read, and the hint cost a page walk per block).
                if let r = singleRange, i + 1 < morsels.count, countedByZone(morsels[i + 1], r) == nil {
                    morsels[i + 1].reader.prefetch(column: r.column, block: morsels[i + 1].block)
                }
                if let n = try countInPlace(morsels[i], bytesRead: &bytesRead) {
                    selected += n
                    bytesStored &+= storedBytes(morsels[i])
                    rows += morsels[i].rows
                    inPlace += 1
                } else {
                    try process(w, i, countTried: true)
                }
            }
            blocksCounted.add(inPlace, ordering: .relaxed)
            bytesCountedRead.add(bytesRead, ordering: .relaxed)
            bytesCountedStored.add(bytesStored, ordering: .relaxed)
            countedInPlace.add(selected, ordering: .relaxed)
            profile?.add(scanPath, rows: rows, nanos: clock() - t0)
            profile?.add(path, rows: selected, nanos: 0)
        }
        // After the loop the workers' sinks are idle: worker 0's takes the whole count, as placeholder rows.
        var selected = countedInPlace.load(ordering: .relaxed)
        var piece = 0
        while selected > 0 {
            let k = min(selected, Executor.placeholderRows)
            try sink(0, piece, counted(k))
            selected -= k
            piece += 1
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

    /// ``mayMatch(_:_:)`` for a range on an integer-like column, from a block's plain summary (no expression walk, no
    /// zone enum): an all-NULL block never matches, an empty range matches nothing, a block without an integer zone
    /// may match.
    static func mayMatch(range: (lo: Int64, hi: Int64), _ z: (rows: Int, nulls: Int, integerZone: (min: Int64, max: Int64)?)) -> Bool {
        if z.nulls == z.rows || range.lo > range.hi { return false }
        guard let zone = z.integerZone else { return true }
        return zone.max >= range.lo && zone.min <= range.hi
    }

    /// The column and the constants' UTF-8 bytes of `column = 'text'` or `column IN ('a', 'b', …)` on a text column
    /// (a NULL in the list matches no row); nil for other expressions.
    static func textEquality(_ e: BoundExpr) -> (column: Int, constants: [[UInt8]])? {
        guard let m = FilteredScan.textMatch(e), m.passes else { return nil }
        switch e {
        case .compare(_, .column(let c, _), _), .compare(_, _, .column(let c, _)), .inList(.column(let c, _), _, _, _): return (c, m.constants)
        default: return nil
        }
    }

    /// ``mayMatch(_:_:)`` for ``textEquality(_:)``'s constants: an all-NULL block never matches; a text zone matches
    /// when some constant lies within it (its minimum may be a prefix of the true one: a prefix sorts at or before
    /// it, so it stays a lower bound); a block without one may match.
    static func mayMatch(equalToOneOf constants: [[UInt8]], _ z: Zone) -> Bool {
        if z.nulls == z.rows { return false }
        guard case .string(let lo, let hi) = z.zone else { return true }
        return constants.contains { c in
            c.withUnsafeBytes { c in
                order(c, lo) >= 0 && (hi.map { order(c, $0) <= 0 } ?? true)
            }
        }
    }

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

    /// Whether every row of the block satisfies `e`, judged from its zone map and null count (integer-like zones only;
    /// false when unsure).
    static func alwaysMatches(_ e: BoundExpr, _ zone: (Int) -> Zone) -> Bool {
        switch e {
        case .and(let xs): return xs.allSatisfy { alwaysMatches($0, zone) }
        case .isNull(.column(let c, _), let negated):
            let z = zone(c)
            return negated ? z.nulls == 0 : z.nulls == z.rows
        case .compare(let op, .column(let c, _), .constant(let v, _)):
            return always(op, zone(c), v)
        case .compare(let op, .constant(let v, _), .column(let c, _)):
            return always(op.flipped, zone(c), v)
        default:
            return false
        }
    }

    /// Whether `e`, a comparison of a column with a constant, holds for every non-NULL row of the block (integer-like
    /// zones only; false when unsure). A comparison is NULL on a NULL row, so `count(*) WHERE e` is then the block's
    /// non-NULL rows.
    static func matchesEveryValid(_ e: BoundExpr, _ zone: (Int) -> Zone) -> (column: Int, yes: Bool) {
        switch e {
        case .compare(let op, .column(let c, _), .constant(let v, _)): return (c, always(op, zone(c), v, nullsAllowed: true))
        case .compare(let op, .constant(let v, _), .column(let c, _)): return (c, always(op.flipped, zone(c), v, nullsAllowed: true))
        default: return (-1, false)
        }
    }

    private static func always(_ op: ComparisonOperator, _ z: Zone, _ v: Value, nullsAllowed: Bool = false) -> Bool {
        guard nullsAllowed || z.nulls == 0, z.rows > z.nulls, case .integer(let lo, let hi) = z.zone else { return false }
        let x: Int64
        switch v {
        case .integer(let i), .date(let i): x = Int64(i)
        case .bigint(let i), .decimal(let i), .timestamp(let i): x = i
        default: return false
        }
        switch op {
        case .equal: return lo == x && hi == x
        case .notEqual: return x < lo || x > hi
        case .less: return hi < x
        case .lessEqual: return hi <= x
        case .greater: return lo > x
        case .greaterEqual: return lo >= x
        }
    }

    private static func compare(_ op: ComparisonOperator, _ z: Zone, _ v: Value) -> Bool {
        if z.nulls == z.rows { return false }
        switch (z.zone, v) {
        case (.integer(let lo, let hi), _):
            let x: Int64
            switch v {
            case .integer(let i), .date(let i): x = Int64(i)
            case .bigint(let i), .decimal(let i), .timestamp(let i): x = i
            case .boolean(let b): x = b ? 1 : 0
            default: return true
            }
            return range(op, lo, hi, x)
        case (.double(let lo, let hi), .double(let x)):
            if lo.isNaN || hi.isNaN || x.isNaN { return true }
            return range(op, lo, hi, x)
        case (.string(let lo, let hi), .varchar(let x)):
            // `lo` may be a prefix of the true minimum: a prefix sorts at or before it, so it stays a lower bound.
            // The bytes are compared where the strings hold them (an array of each per block was most of a text
            // zone check: 0.35M of a 4.7M-instruction `count(*) WHERE channel = 'web'` over 167 blocks).
            switch op {
            case .equal:
                if order(x, lo) < 0 { return false }
                if let hi, order(hi, x) < 0 { return false }
                return true
            case .less:
                return order(lo, x) < 0
            case .lessEqual:
                return order(x, lo) >= 0
            case .greater, .greaterEqual:
                guard let hi else { return true }
                return op == .greater ? order(x, hi) < 0 : order(hi, x) >= 0
            case .notEqual:
                return true
            }
        default:
            return true
        }
    }

    /// UTF-8 byte order of two strings (negative, zero, positive), read in place.
    private static func order(_ a: String, _ b: String) -> Int {
        var a = a
        return a.withUTF8 { x in order(UnsafeRawBufferPointer(x), b) }
    }

    /// UTF-8 byte order of `a`'s bytes and a string.
    private static func order(_ a: UnsafeRawBufferPointer, _ b: String) -> Int {
        var b = b
        return b.withUTF8 { y in Compare.compareBytes(a, UnsafeRawBufferPointer(y)) }
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
