/// Helpers for validity bitmaps: bit `i` of word `i / 64` is 1 when row `i` is valid (not null).
public enum Bitmap {
    /// Number of 64-bit words that hold `rows` bits.
    @inlinable
    public static func wordCount(_ rows: Int) -> Int { (rows + 63) >> 6 }

    @inlinable
    public static func isSet(_ words: UnsafeBufferPointer<UInt64>, _ i: Int) -> Bool {
        (words[i >> 6] >> UInt64(i & 63)) & 1 == 1
    }

    /// Clears each flag whose row's bit is 0 (a NULL row): `flags[i] &= bit i`.
    public static func clearUnset(_ flags: UnsafeMutableBufferPointer<UInt8>, _ words: UnsafePointer<UInt64>) {
        for i in 0..<flags.count { flags[i] &= UInt8(truncatingIfNeeded: words[i >> 6] >> UInt64(i & 63)) & 1 }
    }

    /// Counts set bits among rows `rows` (a word at a time).
    public static func popCount(_ words: UnsafePointer<UInt64>, in rows: Range<Int>) -> Int {
        var total = 0
        var r = rows.lowerBound
        while r < rows.upperBound {
            let lo = r & 63
            let width = min(64 - lo, rows.upperBound - r)
            let bits = words[r >> 6] >> UInt64(lo)
            total &+= (width == 64 ? bits : bits & ((1 << UInt64(width)) &- 1)).nonzeroBitCount
            r += width
        }
        return total
    }

    /// Counts set bits in the first `rows` bits.
    public static func popCount(_ words: UnsafeBufferPointer<UInt64>, rows: Int) -> Int {
        var total = 0
        let full = rows >> 6
        var w = 0
        while w < full {
            total &+= words[w].nonzeroBitCount
            w &+= 1
        }
        let rest = rows & 63
        if rest > 0 { total &+= (words[full] & ((1 << UInt64(rest)) &- 1)).nonzeroBitCount }
        return total
    }
}
