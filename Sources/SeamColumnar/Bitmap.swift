/// Helpers for validity bitmaps: bit `i` of word `i / 64` is 1 when row `i` is valid (not null).
public enum Bitmap {
    /// Number of 64-bit words that hold `rows` bits.
    @inlinable
    public static func wordCount(_ rows: Int) -> Int { (rows + 63) >> 6 }

    @inlinable
    public static func isSet(_ words: UnsafeBufferPointer<UInt64>, _ i: Int) -> Bool {
        (words[i >> 6] >> UInt64(i & 63)) & 1 == 1
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
