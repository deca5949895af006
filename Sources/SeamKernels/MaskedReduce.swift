public import SeamColumnar

/// Count, sum, min and max of a block's integers over the rows a filter kept, read where they lie: without a selection
/// vector, a gather of the kept rows or a group id per row. What `sum(x)`, `avg(x)`, `min(x)`, `max(x)` and `count(x)`
/// without GROUP BY need of each block a filtered scan reads.
public enum MaskedReduce {
    public struct Totals: Sendable, Equatable {
        /// Rows that are valid and kept.
        public var count = 0
        /// Their sum, wrapping on overflow unless the reduction was checked (then `overflow` says so).
        public var sum: Int64 = 0
        public var min: Int64 = .max
        public var max: Int64 = .min
        public var overflow = false
        /// The sum in floating point (what an average falls back on past 64 bits).
        public var approximate: Double = 0

        public init() {}

        /// Totals of an unchecked reduction (the floating-point sum is the exact one rounded).
        @inlinable
        init(count: Int, sum: Int64, min: Int64, max: Int64) {
            self.count = count
            self.sum = sum
            self.min = min
            self.max = max
            approximate = Double(sum)
        }

        /// Totals of a count and an exact sum taken without min or max (summed on packed codes).
        public init(count: Int, sum: Int64) {
            self.count = count
            self.sum = sum
            approximate = Double(sum)
        }

        /// Adds `other`'s rows.
        public mutating func add(_ other: Totals) {
            let (s, o) = sum.addingReportingOverflow(other.sum)
            overflow = overflow || o || other.overflow
            sum = s
            approximate += other.approximate
            count &+= other.count
            min = Swift.min(min, other.min)
            max = Swift.max(max, other.max)
        }
    }

    /// The totals of `values` (`count` of them: the rows, or a compact block's valid rows) over the rows where `flags`
    /// (one byte per row, its low bit read as ``Selection`` reads it; nil: every row) is set and the row is valid (`validity`, a bit per row; nil: every row). `compact`: `values` holds the valid rows' values only,
    /// in row order (a sparse block; `validity` is then required); otherwise one value per row. `minMax`: also the
    /// smallest and largest. `checked`: the sum detects overflow (per value, slower); unchecked it wraps, for a caller
    /// that knows from the block's zone map that it cannot.
    ///
    /// The loops without validity are branch-free (a kept value masked in, not branched to) and the compiler
    /// vectorizes them; over compact values the valid rows are visited by the set bits of each validity word, so a
    /// sparse column costs its valid rows, not its rows.
    @inlinable
    public static func reduce<T: FixedWidthInteger & SignedInteger>(
        _ values: UnsafePointer<T>, count stored: Int, rows: Int, validity: UnsafePointer<UInt64>?, compact: Bool, flags: UnsafePointer<UInt8>?,
        minMax: Bool, checked: Bool
    ) -> Totals {
        precondition(!compact || validity != nil, "compact values need the rows' validity")
        var t = Totals()
        guard rows > 0 else { return t }
        if checked {
            reduceChecked(values, rows: rows, validity: validity, compact: compact, flags: flags, into: &t)
            return t
        }
        if compact, flags == nil {
            // Every valid row is kept: the compact values are exactly them (their bitmap is not read).
            t = reduceAll(values, count: stored, minMax: minMax)
            t.approximate = Double(t.sum)
            return t
        }
        if compact {
            var acc = Accumulator()
            var k = 0
            let words = Bitmap.wordCount(rows)
            for w in 0..<words {
                var bits = validity![w]
                if w == words &- 1, rows & 63 != 0 { bits &= (1 << UInt64(rows & 63)) &- 1 }
                let base = flags! + (w &<< 6)
                while bits != 0 {
                    let r = bits.trailingZeroBitCount
                    acc.add(Int64(values[k]), weight: Int64(base[r] & 1), minMax: minMax)
                    k &+= 1
                    bits &= bits &- 1
                }
            }
            return acc.totals
        }
        if validity == nil, flags == nil {
            t = reduceAll(values, count: rows, minMax: minMax)
            t.approximate = Double(t.sum)
            return t
        }
        // One value per row, some rows not counted: 64 rows at a time, a word whose rows are all valid through the
        // flags alone (a loop the compiler vectorizes), others with each row's validity bit as well.
        var sum: Int64 = 0, count = 0, mn = Int64.max, mx = Int64.min
        var start = 0
        while start < rows {
            let end = Swift.min(rows, start &+ 64)
            let bits = validity.map { $0[start &>> 6] } ?? ~0
            if let flags, bits == ~0 {
                for i in start..<end {
                    let f = Int64(flags[i] & 1)
                    sum &+= Int64(values[i]) & (0 &- f)
                    count &+= Int(f)
                }
                if minMax {
                    for i in start..<end {
                        let v = Int64(values[i])
                        mn = Swift.min(mn, flags[i] & 1 != 0 ? v : .max)
                        mx = Swift.max(mx, flags[i] & 1 != 0 ? v : .min)
                    }
                }
            } else {
                var acc = Accumulator()
                for i in start..<end {
                    var f = Int64(truncatingIfNeeded: bits &>> UInt64(i & 63)) & 1
                    if let flags { f &= Int64(flags[i] & 1) }
                    acc.add(Int64(values[i]), weight: f, minMax: minMax)
                }
                sum &+= acc.sum
                count &+= acc.count
                mn = Swift.min(mn, acc.mn)
                mx = Swift.max(mx, acc.mx)
            }
            start = end
        }
        return Totals(count: count, sum: sum, min: mn, max: mx)
    }

    /// A wrapping sum, count and extremes of values each weighted 0 or 1, without a branch on the weight.
    @usableFromInline
    struct Accumulator {
        @usableFromInline var sum: Int64 = 0, count = 0, mn = Int64.max, mx = Int64.min

        @inlinable init() {}

        @inlinable @inline(__always)
        mutating func add(_ v: Int64, weight f: Int64, minMax: Bool) {
            sum &+= v & (0 &- f)
            count &+= Int(f)
            if minMax {
                mn = Swift.min(mn, f != 0 ? v : .max)
                mx = Swift.max(mx, f != 0 ? v : .min)
            }
        }

        @inlinable var totals: Totals { Totals(count: count, sum: sum, min: mn, max: mx) }
    }

    /// Every one of `count` values, wrapping sum.
    @inlinable
    static func reduceAll<T: FixedWidthInteger & SignedInteger>(_ values: UnsafePointer<T>, count: Int, minMax: Bool) -> Totals {
        var t = Totals()
        t.count = count
        var sum: Int64 = 0
        for i in 0..<count { sum &+= Int64(values[i]) }
        t.sum = sum
        if minMax && count > 0 {
            var mn = Int64.max, mx = Int64.min
            for i in 0..<count {
                let v = Int64(values[i])
                mn = Swift.min(mn, v)
                mx = Swift.max(mx, v)
            }
            t.min = mn
            t.max = mx
        }
        return t
    }

    /// Row by row with an overflow check per value: for blocks whose zone map allows a sum past 64 bits.
    @inlinable
    static func reduceChecked<T: FixedWidthInteger & SignedInteger>(
        _ values: UnsafePointer<T>, rows: Int, validity: UnsafePointer<UInt64>?, compact: Bool, flags: UnsafePointer<UInt8>?,
        into t: inout Totals
    ) {
        var k = 0
        for i in 0..<rows {
            let valid = validity.map { ($0[i >> 6] >> UInt64(i & 63)) & 1 == 1 } ?? true
            let at = compact ? k : i
            if compact && valid { k += 1 }
            guard valid, flags.map({ $0[i] & 1 != 0 }) ?? true else { continue }
            let v = Int64(values[at])
            let (s, o) = t.sum.addingReportingOverflow(v)
            t.sum = s
            t.approximate += Double(v)
            t.overflow = t.overflow || o
            t.count += 1
            t.min = Swift.min(t.min, v)
            t.max = Swift.max(t.max, v)
        }
    }
}

extension MaskedReduce {
    /// The totals of the values in `lo...hi` among a block's valid rows: what `sum(x) WHERE x > c` needs of each
    /// block, with the comparison made on the values as the reduction reads them (no flag per row first). `compact`
    /// and `validity` as in ``reduce(_:count:rows:validity:compact:flags:minMax:checked:)``; `count` is the number of
    /// values at `values`.
    @inlinable
    public static func reduceInRange<T: FixedWidthInteger & SignedInteger>(
        _ values: UnsafePointer<T>, count stored: Int, rows: Int, validity: UnsafePointer<UInt64>?, compact: Bool, lo: Int64, hi: Int64,
        minMax: Bool, checked: Bool
    ) -> Totals {
        precondition(!compact || validity != nil, "compact values need the rows' validity")
        var t = Totals()
        guard rows > 0, lo <= hi else { return t }
        let span = UInt64(bitPattern: hi &- lo)
        if checked || (!compact && validity != nil) {
            // Row by row: a block whose sum could leave 64 bits, or one storing a value for each NULL row.
            var k = 0
            for i in 0..<rows {
                let valid = validity.map { ($0[i >> 6] >> UInt64(i & 63)) & 1 == 1 } ?? true
                let at = compact ? k : i
                if compact && valid { k += 1 }
                guard valid else { continue }
                let v = Int64(values[at])
                guard UInt64(bitPattern: v &- lo) <= span else { continue }
                let (s, o) = t.sum.addingReportingOverflow(v)
                t.sum = s
                t.overflow = t.overflow || o
                t.approximate += Double(v)
                t.count += 1
                t.min = Swift.min(t.min, v)
                t.max = Swift.max(t.max, v)
            }
            return t
        }
        let count = compact ? stored : rows
        // Branch-free: a value in range is masked in (a compact block's bitmap is not read).
        var sum: Int64 = 0, n = 0
        for i in 0..<count {
            let v = Int64(values[i])
            let keep: Int64 = UInt64(bitPattern: v &- lo) <= span ? 1 : 0
            sum &+= v & (0 &- keep)
            n &+= Int(keep)
        }
        if minMax {
            var mn = Int64.max, mx = Int64.min
            for i in 0..<count {
                let v = Int64(values[i])
                let keep = UInt64(bitPattern: v &- lo) <= span
                mn = Swift.min(mn, keep ? v : .max)
                mx = Swift.max(mx, keep ? v : .min)
            }
            t.min = mn
            t.max = mx
        }
        t.sum = sum
        t.count = n
        t.approximate = Double(sum)
        return t
    }
}
