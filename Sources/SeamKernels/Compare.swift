/// Comparison kernels: one byte per row (1 = true), written by loops LLVM vectorizes (no branches, no early exit).
public enum CompareKernel {
    public enum Op: Sendable { case equal, notEqual, less, lessEqual, greater, greaterEqual }

    /// `out[i] = a[i] op c`.
    @inlinable
    public static func compare<T: Comparable>(_ a: UnsafePointer<T>, _ n: Int, _ op: Op, _ c: T, _ out: UnsafeMutablePointer<UInt8>) {
        var i = 0
        switch op {
        case .equal: while i < n { out[i] = a[i] == c ? 1 : 0; i &+= 1 }
        case .notEqual: while i < n { out[i] = a[i] != c ? 1 : 0; i &+= 1 }
        case .less: while i < n { out[i] = a[i] < c ? 1 : 0; i &+= 1 }
        case .lessEqual: while i < n { out[i] = a[i] <= c ? 1 : 0; i &+= 1 }
        case .greater: while i < n { out[i] = a[i] > c ? 1 : 0; i &+= 1 }
        case .greaterEqual: while i < n { out[i] = a[i] >= c ? 1 : 0; i &+= 1 }
        }
    }

    /// `out[i] = a[i] op b[i]`.
    @inlinable
    public static func compare<T: Comparable>(_ a: UnsafePointer<T>, _ b: UnsafePointer<T>, _ n: Int, _ op: Op, _ out: UnsafeMutablePointer<UInt8>) {
        var i = 0
        switch op {
        case .equal: while i < n { out[i] = a[i] == b[i] ? 1 : 0; i &+= 1 }
        case .notEqual: while i < n { out[i] = a[i] != b[i] ? 1 : 0; i &+= 1 }
        case .less: while i < n { out[i] = a[i] < b[i] ? 1 : 0; i &+= 1 }
        case .lessEqual: while i < n { out[i] = a[i] <= b[i] ? 1 : 0; i &+= 1 }
        case .greater: while i < n { out[i] = a[i] > b[i] ? 1 : 0; i &+= 1 }
        case .greaterEqual: while i < n { out[i] = a[i] >= b[i] ? 1 : 0; i &+= 1 }
        }
    }

    /// `out[i] = lo <= a[i] && a[i] <= hi`, without short-circuit so it vectorizes.
    @inlinable
    public static func between<T: Comparable>(_ a: UnsafePointer<T>, _ n: Int, _ lo: T, _ hi: T, _ out: UnsafeMutablePointer<UInt8>) {
        var i = 0
        while i < n {
            let x = a[i]
            let p: UInt8 = x >= lo ? 1 : 0
            let q: UInt8 = x <= hi ? 1 : 0
            out[i] = p & q
            i &+= 1
        }
    }
}

/// Selection: the row numbers whose byte is set and (when a validity bitmap is given) that are not null.
public enum Selection {
    /// Number of rows written to `out` (which has room for `n`).
    @inlinable
    public static func select(_ flags: UnsafePointer<UInt8>, _ validity: UnsafePointer<UInt64>?, _ n: Int, _ out: UnsafeMutablePointer<Int32>) -> Int {
        var k = 0
        var i = 0
        if let validity {
            while i < n {
                let valid = (validity[i >> 6] >> UInt64(i & 63)) & 1
                out[k] = Int32(truncatingIfNeeded: i)
                k &+= Int(flags[i] & UInt8(truncatingIfNeeded: valid))
                i &+= 1
            }
        } else {
            // Eight flags at a time: eight clear ones (a filter keeping few rows) are skipped with one load and test.
            let raw = UnsafeRawPointer(flags)
            while i &+ 8 <= n {
                if raw.loadUnaligned(fromByteOffset: i, as: UInt64.self) != 0 {
                    for j in i..<(i &+ 8) {
                        out[k] = Int32(truncatingIfNeeded: j)
                        k &+= Int(flags[j] & 1)
                    }
                }
                i &+= 8
            }
            while i < n {
                out[k] = Int32(truncatingIfNeeded: i)
                k &+= Int(flags[i] & 1)
                i &+= 1
            }
        }
        return k
    }

    /// The rows whose bit is set in `bits` (a bitmap of `n` rows), ascending, written to `out` (room for as many as
    /// are set); returns how many. A set bit costs a count of trailing zeros and a store, a clear word one test: the
    /// valid rows of a sparse column, found without a flag per row.
    @inlinable
    public static func positions(of bits: UnsafePointer<UInt64>, _ n: Int, _ out: UnsafeMutablePointer<Int32>) -> Int {
        var k = 0
        let words = (n &+ 63) &>> 6
        for w in 0..<words {
            var word = bits[w]
            if w == words &- 1, n & 63 != 0 { word &= (1 << UInt64(n & 63)) &- 1 }
            let base = Int32(truncatingIfNeeded: w &<< 6)
            while word != 0 {
                out[k] = base &+ Int32(truncatingIfNeeded: word.trailingZeroBitCount)
                k &+= 1
                word &= word &- 1
            }
        }
        return k
    }

    /// Count of set, valid bytes.
    @inlinable
    public static func count(_ flags: UnsafePointer<UInt8>, _ validity: UnsafePointer<UInt64>?, _ n: Int) -> Int {
        var k = 0
        var i = 0
        if let validity {
            while i < n {
                k &+= Int(flags[i] & UInt8(truncatingIfNeeded: (validity[i >> 6] >> UInt64(i & 63)) & 1))
                i &+= 1
            }
        } else {
            while i < n {
                k &+= Int(flags[i] & 1)
                i &+= 1
            }
        }
        return k
    }
}
