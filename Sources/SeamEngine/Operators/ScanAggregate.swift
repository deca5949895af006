import SeamColumnar
import SeamKernels
import SeamSQL
import SeamStorage
import Synchronization

/// `count(*)`, `count(x)`, `sum(x)`, `avg(x)`, `min(x)` and `max(x)` over integer-like columns (INTEGER, BIGINT,
/// DECIMAL, DATE, TIMESTAMP) without GROUP BY, DISTINCT or FILTER, over a filtered scan: each block the filter leaves
/// is reduced where its values lie (``MaskedReduce``), under the filter's flags, instead of its kept rows being
/// selected, gathered and handed to the aggregate with a group id each. A sparse column is read as stored: its valid
/// values and its validity, not spread over its NULL rows.
final class BlockReduction: @unchecked Sendable {
    /// The scan's output columns reduced, and whether min or max, or sum or avg, is asked of each.
    let columns: [Int]
    let minMax: [Bool]
    let sums: [Bool]
    /// Per aggregate: its slot in `columns`, or nil for count(*).
    let slots: [Int?]
    /// Totals per column, and the rows kept (count(*)), per worker: one lock, taken once per block by both workers of
    /// a 2-thread scan, was contended (2-3 % of a filtered sum over 10M events in the lock's slow path, and each
    /// block's totals came in an array of their own).
    private let stripes: [Stripe]

    /// One worker's totals, padded to its own cache lines.
    private final class Stripe: Sendable {
        let totals: Mutex<(columns: [MaskedReduce.Totals], rows: Int)>
        private let padding: (UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0, 0, 0, 0, 0)
        init(columns: Int) { totals = Mutex((Array(repeating: MaskedReduce.Totals(), count: columns), 0)) }
    }

    /// nil when some aggregate is not of that form. `workers`: how many workers add blocks (numbered from 0).
    init?(_ aggregates: [AggregateCall], workers: Int) {
        var columns: [Int] = [], minMax: [Bool] = [], sums: [Bool] = [], slots: [Int?] = []
        for a in aggregates {
            guard !a.distinct, a.filter == nil, a.key == nil, a.order.isEmpty, a.groupingKeys.isEmpty else { return nil }
            if a.function == .countStar {
                slots.append(nil)
                continue
            }
            guard case .column(let c, let type)? = a.argument else { return nil }
            switch (a.function, type) {
            case (.count, _), (.sum, .integer), (.sum, .bigint), (.sum, .decimal), (.avg, .integer), (.avg, .bigint), (.avg, .decimal),
                (.min, .integer), (.min, .bigint), (.min, .decimal), (.min, .date), (.min, .timestamp),
                (.max, .integer), (.max, .bigint), (.max, .decimal), (.max, .date), (.max, .timestamp):
                break
            default:
                return nil
            }
            // The reduction reads 32- and 64-bit integers (count(x) of a text or DOUBLE column stays on the row path).
            guard type.physical == .int32 || type.physical == .int64 else { return nil }
            let slot: Int
            if let i = columns.firstIndex(of: c) {
                slot = i
            } else {
                slot = columns.count
                columns.append(c)
                minMax.append(false)
                sums.append(false)
            }
            if a.function == .min || a.function == .max { minMax[slot] = true }
            if a.function == .sum || a.function == .avg { sums[slot] = true }
            slots.append(slot)
        }
        self.columns = columns
        self.minMax = minMax
        self.sums = sums
        self.slots = slots
        stripes = (0..<max(workers, 1)).map { _ in Stripe(columns: columns.count) }
    }

    /// Adds one block's totals, reduced by worker `worker`.
    func add(worker: Int, rows: Int, _ block: [MaskedReduce.Totals]) {
        stripes[worker].totals.withLock { t in
            t.rows &+= rows
            for (i, b) in block.enumerated() { t.columns[i].add(b) }
        }
    }

    /// ``add(worker:rows:_:)`` for a reduction of one column.
    func add(worker: Int, rows: Int, _ column: MaskedReduce.Totals) {
        stripes[worker].totals.withLock { t in
            t.rows &+= rows
            t.columns[0].add(column)
        }
    }

    /// Every block's totals together.
    func merged() -> (columns: [MaskedReduce.Totals], rows: Int) {
        var all = (columns: Array(repeating: MaskedReduce.Totals(), count: columns.count), rows: 0)
        for stripe in stripes {
            stripe.totals.withLock { t in
                all.rows &+= t.rows
                for (i, c) in t.columns.enumerated() { all.columns[i].add(c) }
            }
        }
        return all
    }

    /// The totals of a block's column over its kept rows, `flags` one per row (nil: every row kept), the values read
    /// as stored (a sparse block's valid values only).
    static func reduce(
        _ reader: SegmentReader, column: Int, block: Int, flags: UnsafePointer<UInt8>?, minMax: Bool
    ) throws -> MaskedReduce.Totals {
        let summary = reader.summary(column: column, block: block)
        if summary.nulls == summary.rows { return MaskedReduce.Totals() }
        let c = try reader.readCompact(column: column, block: block)
        return reduce(c.values, rows: summary.rows, validity: c.validity, compact: c.sparse, flags: flags, minMax: minMax,
                      checked: needsCheck(summary))
    }

    /// The totals of a block's column over the rows at `rows` (ascending), read by position.
    static func reduce(
        _ reader: SegmentReader, column: Int, block: Int, rows: UnsafeBufferPointer<Int32>, minMax: Bool
    ) throws -> MaskedReduce.Totals {
        let summary = reader.summary(column: column, block: block)
        if summary.nulls == summary.rows || rows.isEmpty { return MaskedReduce.Totals() }
        let v = try reader.read(column: column, block: block, rows: rows)
        return reduce(v, rows: rows.count, validity: v.validity, compact: false, flags: nil, minMax: minMax, checked: needsCheck(summary))
    }

    /// The totals of a block's column over its valid values in `lo...hi`: the filter is a range on the reduced
    /// column itself (`sum(amount) WHERE amount > 100`), so it is decided on the values as they are summed.
    /// `bytesRead`: the block's stored bytes the reduction read (a sparse block's values without its validity
    /// bitmap; a block storing a value per row, its bitmap too when it has one).
    /// `sums`: a sum or average is asked of the column (otherwise a block wholly inside the range is answered from its
    /// footer).
    static func reduce(
        _ reader: SegmentReader, column: Int, block: Int, lo: Int64, hi: Int64, sums: Bool, minMax: Bool
    ) throws -> (totals: MaskedReduce.Totals, bytesRead: Int) {
        let summary = reader.summary(column: column, block: block)
        if summary.nulls == summary.rows { return (MaskedReduce.Totals(), 0) }
        if let z = summary.integerZone, z.min >= lo, z.max <= hi, let t = fromFooter(summary, sums: sums, minMax: minMax) {
            return (t, 0)
        }
        let checked = needsCheck(summary)
        if !minMax, !checked, let r = try reader.sumInRange(column: column, block: block, lo: lo, hi: hi) {
            // Summed on the packed codes: no value decoded into memory.
            return (MaskedReduce.Totals(count: r.count, sum: r.sum), reader.packedBytes(column: column, block: block))
        }
        let c = try reader.readCompact(column: column, block: block)
        let words = c.validity?.base.assumingMemoryBound(to: UInt64.self)
        let bytesRead = c.sparse || c.validity == nil
            ? reader.packedBytes(column: column, block: block) : reader.storedBytes(column: column, block: block)
        if c.values.type.physical == .int32 {
            let t = MaskedReduce.reduceInRange(
                Vectors.pointer(c.values, Int32.self), count: c.values.count, rows: summary.rows, validity: words, compact: c.sparse, lo: lo, hi: hi,
                minMax: minMax, checked: checked)
            return (t, bytesRead)
        }
        let t = MaskedReduce.reduceInRange(
            Vectors.pointer(c.values, Int64.self), count: c.values.count, rows: summary.rows, validity: words, compact: c.sparse, lo: lo, hi: hi,
            minMax: minMax, checked: checked)
        return (t, bytesRead)
    }

    /// The totals of a sparse block's stored (valid) values under `flags`, one per stored value: the filter decided at
    /// the column's valid rows only.
    static func reduce(
        valuesOf c: CompactBlock, _ summary: (rows: Int, nulls: Int, integerZone: (min: Int64, max: Int64)?), flags: UnsafePointer<UInt8>,
        minMax: Bool
    ) -> MaskedReduce.Totals {
        reduce(c.values, rows: c.values.count, validity: nil, compact: false, flags: flags, minMax: minMax, checked: needsCheck(summary))
    }

    /// A flag per value of an integer vector without NULLs (a sparse block's stored values): 1 where it lies in
    /// `lo...hi`.
    static func inRange(_ values: ColumnVector, lo: Int64, hi: Int64) -> [UInt8] {
        [UInt8](unsafeUninitializedCapacity: values.count) { out, n in
            if values.type.physical == .int32 {
                let v = Vectors.pointer(values, Int32.self)
                for i in 0..<values.count { out[i] = Int64(v[i]) >= lo && Int64(v[i]) <= hi ? 1 : 0 }
            } else {
                let v = Vectors.pointer(values, Int64.self)
                for i in 0..<values.count { out[i] = v[i] >= lo && v[i] <= hi ? 1 : 0 }
            }
            n = values.count
        }
    }

    /// The totals of a block whose every row is kept, from its footer alone, when the column is asked only its count,
    /// min or max (the zone map is exact for integers); nil when the block must be read.
    static func fromFooter(
        _ summary: (rows: Int, nulls: Int, integerZone: (min: Int64, max: Int64)?), sums: Bool, minMax: Bool
    ) -> MaskedReduce.Totals? {
        guard !sums else { return nil }
        var t = MaskedReduce.Totals()
        t.count = summary.rows - summary.nulls
        if !minMax || summary.nulls == summary.rows { return t }
        guard let z = summary.integerZone else { return nil }
        t.min = z.min
        t.max = z.max
        return t
    }

    /// Whether a sum over the block could leave 64 bits: the zone map bounds every value, and when the rows times the
    /// largest magnitude fit, no partial sum can overflow and the loop needs no check per value.
    static func needsCheck(_ summary: (rows: Int, nulls: Int, integerZone: (min: Int64, max: Int64)?)) -> Bool {
        guard let z = summary.integerZone else { return true }
        let largest = max(z.min.magnitude, z.max.magnitude)
        return largest != 0 && UInt64(summary.rows) > UInt64(Int64.max) / largest
    }

    private static func reduce(
        _ values: ColumnVector, rows: Int, validity: Buffer?, compact: Bool, flags: UnsafePointer<UInt8>?, minMax: Bool, checked: Bool
    ) -> MaskedReduce.Totals {
        let words = validity?.base.assumingMemoryBound(to: UInt64.self)
        if values.type.physical == .int32 {
            return MaskedReduce.reduce(
                Vectors.pointer(values, Int32.self), count: values.count, rows: rows, validity: words, compact: compact, flags: flags, minMax: minMax, checked: checked)
        }
        return MaskedReduce.reduce(
            Vectors.pointer(values, Int64.self), count: values.count, rows: rows, validity: words, compact: compact, flags: flags, minMax: minMax, checked: checked)
    }

    /// Puts the totals into the first worker's states (its one group), as their own updates would have left them.
    func absorb(into states: [any AggregateState]) throws {
        let (columns, rows) = merged()
        for (k, state) in states.enumerated() {
            let t: MaskedReduce.Totals
            if let slot = slots[k] {
                t = columns[slot]
            } else {
                t = MaskedReduce.Totals()
            }
            switch state {
            case let s as CountState:
                s.counts.pad(to: 1, with: 0)
                s.counts[0] &+= Int64(slots[k] == nil ? rows : t.count)
            case let s as SumIntState:
                try s.absorb(t)
            case let s as AvgIntState:
                s.absorb(t)
            case let s as MinMaxState:
                s.absorb(t)
            default:
                preconditionFailure("an aggregate the block reduction does not take")
            }
        }
    }
}

extension SumIntState {
    func absorb(_ t: MaskedReduce.Totals) throws {
        sums.pad(to: 1, with: 0)
        seen.pad(to: 1, with: false)
        guard t.count > 0 else { return }
        let (r, o) = sums[0].addingReportingOverflow(t.sum)
        if o || t.overflow { throw SQLError(.runtime, "Out of Range Error: sum overflows BIGINT (Seam sums into 64 bits)") }
        sums[0] = r
        seen[0] = true
    }
}

extension AvgIntState {
    func absorb(_ t: MaskedReduce.Totals) {
        sums.pad(to: 1, with: 0)
        approximate.pad(to: 1, with: 0)
        overflowed.pad(to: 1, with: false)
        counts.pad(to: 1, with: 0)
        guard t.count > 0 else { return }
        let (r, o) = sums[0].addingReportingOverflow(t.sum)
        sums[0] = r
        overflowed[0] = overflowed[0] || o || t.overflow
        approximate[0] += t.overflow ? t.approximate : Double(t.sum)
        counts[0] &+= Int64(t.count)
    }
}

extension MinMaxState {
    func absorb(_ t: MaskedReduce.Totals) {
        best.grow(by: seen.pad(to: 1, with: false))
        guard t.count > 0 else { return }
        let v = isMin ? t.min : t.max
        if !seen[0] || (isMin ? v < best.ints[0] : v > best.ints[0]) { best.ints[0] = v }
        seen[0] = true
    }
}

extension Executor {
    /// Aggregates without GROUP BY straight over a scan (no WHERE): every block's rows reduced as stored, a column
    /// without min or max summed on its packed codes where the codec allows (the whole value range as the range), and
    /// a column asked only its count, min or max answered from the block's footer.
    /// `SELECT sum(amount) FROM events` spread every sparse amount over its row and added each with a group id before.
    func reduceScan(_ s: TableScan, _ path: String, _ reduce: BlockReduction) throws {
        let (morsels, stats) = try planScan(s)
        scanStats.withLock { $0[path] = stats }
        try parallelForInShares(morsels.count, threads: threads, token: token) { w, i in
            let morsel = morsels[i]
            let t0 = clock()
            let totals = try reduce.columns.enumerated().map { slot, k in
                let summary = morsel.reader.summary(column: s.columns[k], block: morsel.block)
                if let t = BlockReduction.fromFooter(summary, sums: reduce.sums[slot], minMax: reduce.minMax[slot]) { return t }
                return reduce.minMax[slot]
                    ? try BlockReduction.reduce(morsel.reader, column: s.columns[k], block: morsel.block, flags: nil, minMax: true)
                    : try BlockReduction.reduce(morsel.reader, column: s.columns[k], block: morsel.block, lo: .min, hi: .max, sums: true, minMax: false).totals
            }
            reduce.add(worker: w, rows: morsel.rows, totals)
            profile?.add(path, rows: morsel.rows, nanos: clock() - t0)
        }
    }
}
