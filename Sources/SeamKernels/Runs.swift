/// Kernels over run-length blocks seen as runs: a flag per run (a predicate evaluated once per run) and each run's
/// length, rows counted or flagged without expanding the runs to rows.
public enum Runs {
    /// The rows of the runs whose flag is nonzero, less those `validity` marks NULL (bit i clear = row i NULL), or
    /// all of them when `validity` is nil. `lengths` must be nonzero and add up to the rows `validity` covers.
    public static func countSelected(
        flags: UnsafePointer<UInt8>, lengths: UnsafePointer<UInt32>, runs: Int, validity: UnsafePointer<UInt64>?
    ) -> Int {
        countRows(lengths: lengths, runs: runs, validity: validity) { k in flags[k] != 0 ? 1 : 0 }
    }

    /// The rows of the runs whose value lies in `lo...hi`, less the NULL ones: a comparison with a constant and the
    /// count in one pass, with no flag per run written or read. Same contract as ``countSelected``.
    @inlinable
    public static func countInRange<T: FixedWidthInteger>(
        values: UnsafePointer<T>, lo: T, hi: T, lengths: UnsafePointer<UInt32>, runs: Int, validity: UnsafePointer<UInt64>?
    ) -> Int {
        // Both comparisons as 0/1 and'ed: a short-circuit `&&` would branch per run.
        countRows(lengths: lengths, runs: runs, validity: validity) { k in
            let v = values[k]
            return (v >= lo ? 1 : 0) & (v <= hi ? 1 : 0)
        }
    }

    /// The valid rows of the runs `flag` (0 or 1) selects. With validity this is a rank query per run: the valid
    /// rows before a run's end are the set bits of the whole words before it (a running prefix, built once per call)
    /// plus those of its last word under a mask, so a run costs a few instructions and no loop over its rows,
    /// whatever its length.
    @inlinable @inline(__always)
    static func countRows(
        lengths: UnsafePointer<UInt32>, runs: Int, validity: UnsafePointer<UInt64>?, flag: (Int) -> Int
    ) -> Int {
        guard runs > 0 else { return 0 }
        guard let validity else {
            var total = 0
            for k in 0..<runs { total &+= Int(lengths[k]) & (0 &- flag(k)) }
            return total
        }
        var rows = 0
        for k in 0..<runs { rows &+= Int(lengths[k]) }
        let words = (rows + 63) >> 6
        // Allocated, not `withUnsafeTemporaryAllocation`: a closure around the loop kept `flag` from being inlined
        // into it (an indirect call per run, measured 1.4x slower).
        let before = UnsafeMutablePointer<Int>.allocate(capacity: words)
        defer { before.deallocate() }
        // before[w]: valid rows in words 0..<w.
        var sum = 0
        for w in 0..<words {
            before[w] = sum
            sum &+= validity[w].nonzeroBitCount
        }
        var total = 0
        var end = 0
        var rankBefore = 0  // valid rows before the current run
        for k in 0..<runs {
            end &+= Int(lengths[k])
            // Valid rows in 0..<end, read at the run's last row (end - 1): its word's prefix plus the bits of that
            // word up to and including it. The mask for bit 63 wraps to all ones.
            let last = end &- 1
            let bit = UInt64(last & 63)
            let mask = (2 &<< bit) &- 1
            let rank = before[last >> 6] &+ (validity[last >> 6] & mask).nonzeroBitCount
            total &+= (rank &- rankBefore) & (0 &- flag(k))
            rankBefore = rank
        }
        return total
    }

    /// One byte per row from a flag per run (1 for the rows of flagged runs, 0 otherwise), into `out`, which holds
    /// the runs' total rows. NULL rows are the caller's to clear.
    public static func spread(flags: UnsafePointer<UInt8>, lengths: UnsafePointer<UInt32>, runs: Int, into out: UnsafeMutablePointer<UInt8>) {
        var at = 0
        for k in 0..<runs {
            let n = Int(lengths[k])
            (out + at).update(repeating: flags[k] != 0 ? 1 : 0, count: n)
            at &+= n
        }
    }
}
