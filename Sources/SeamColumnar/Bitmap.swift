/// Helpers for validity bitmaps: bit `i` of word `i / 64` is 1 when row `i` is valid (not null).
public enum Bitmap {
    /// Number of 64-bit words that hold `rows` bits.
    @inlinable
    public static func wordCount(_ rows: Int) -> Int { (rows + 63) >> 6 }

    @inlinable
    public static func isSet(_ words: UnsafeBufferPointer<UInt64>, _ i: Int) -> Bool {
        (words[i >> 6] >> UInt64(i & 63)) & 1 == 1
    }

    /// Clears each flag whose row's bit is 0 (a NULL row): `flags[i] &= bit i`, eight flags at a time.
    public static func clearUnset(_ flags: UnsafeMutableBufferPointer<UInt8>, _ words: UnsafePointer<UInt64>) {
        let n = flags.count
        guard n > 0, let base = flags.baseAddress else { return }
        let bytes = UnsafeRawPointer(words).assumingMemoryBound(to: UInt8.self)
        var i = 0
        while i &+ 8 <= n {
            // The 8 bits of rows i..<i+8 spread to one 0/1 byte each: the product puts the bits in every byte, each
            // byte keeps its own bit, and adding 0x7F carries a set bit to the byte's top.
            let bits = UInt64(bytes[i >> 3])
            let spread = ((((bits &* 0x0101_0101_0101_0101) & 0x8040_2010_0804_0201) &+ 0x7F7F_7F7F_7F7F_7F7F) >> 7) & 0x0101_0101_0101_0101
            let at = UnsafeMutableRawPointer(base + i)
            at.storeBytes(of: at.loadUnaligned(as: UInt64.self) & spread, as: UInt64.self)
            i &+= 8
        }
        while i < n {
            base[i] &= UInt8(truncatingIfNeeded: words[i >> 6] >> UInt64(i & 63)) & 1
            i &+= 1
        }
    }

    /// Bits `i` in `range` of `out` (`range` starts on a word) set to bit `rows[i]` of `words`, 0 where `rows[i]` is
    /// negative; nil `words` (no NULLs) reads as all set. Each word is built in a register and stored once, so workers
    /// writing word-aligned ranges do not share words. Returns how many bits it set.
    @discardableResult
    public static func gather(_ words: UnsafePointer<UInt64>?, rows: UnsafeBufferPointer<Int32>, range: Range<Int>, into out: UnsafeMutablePointer<UInt64>) -> Int {
        precondition(range.lowerBound & 63 == 0, "a bit gather starts on a word")
        var set = 0
        var i = range.lowerBound
        while i < range.upperBound {
            let end = min(i &+ 64, range.upperBound)
            var bits: UInt64 = 0
            var j = i
            if let words {
                while j < end {
                    let r = Int(rows[j])
                    let bit: UInt64 = r >= 0 ? (words[r >> 6] >> UInt64(r & 63)) & 1 : 0
                    bits |= bit << UInt64(j & 63)
                    j &+= 1
                }
            } else {
                while j < end {
                    // A row number (r >= 0) has its sign bit clear.
                    bits |= UInt64(truncatingIfNeeded: (~rows[j] >> 31) & 1) << UInt64(j & 63)
                    j &+= 1
                }
            }
            out[i >> 6] = bits
            set &+= bits.nonzeroBitCount
            i = end
        }
        return set
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

    /// For each of `rows` (ascending, each below the bitmap's row count), how many valid rows come before it: the
    /// row's position among the valid rows, which is where a block that stores only its valid rows keeps the value.
    /// A NULL row gets its next valid row's position, clamped to `valid - 1` (0 when nothing is valid), so every
    /// result indexes a stored value.
    public static func ranks(_ words: UnsafePointer<UInt64>, rows: UnsafeBufferPointer<Int32>, valid: Int, into out: UnsafeMutablePointer<Int32>) {
        let last = Int32(truncatingIfNeeded: max(valid - 1, 0))
        var word = 0
        var before = 0  // set bits in words 0..<word
        var i = 0
        while i < rows.count {
            let r = Int(rows[i])
            let w = r >> 6
            while word < w {
                before &+= words[word].nonzeroBitCount
                word &+= 1
            }
            let below = words[w] & ((1 << UInt64(r & 63)) &- 1)
            out[i] = min(Int32(truncatingIfNeeded: before &+ below.nonzeroBitCount), last)
            i &+= 1
        }
    }
}
