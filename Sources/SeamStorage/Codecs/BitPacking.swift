import SeamKernels

/// Packs unsigned integers of `width` bits (0...64) into a little-endian bit stream of 64-bit words.
///
/// Layout: value `i` occupies bits `i*width ..< (i+1)*width` of the stream; word `k` holds stream bits
/// `64k ..< 64k+64`, least significant first. The stream is padded to whole words.
package enum BitPacking {
    /// Bits needed to represent `v` (0 for 0).
    @inlinable
    package static func width(of v: UInt64) -> Int { 64 - v.leadingZeroBitCount }

    /// Bytes taken by `count` values of `width` bits.
    @inlinable
    package static func byteCount(count: Int, width: Int) -> Int { (count * width + 63) / 64 * 8 }

    /// Packs `count` values produced by `value(i)` into `out`.
    @inlinable
    package static func pack(count: Int, width: Int, into out: inout ByteWriter, _ value: (Int) -> UInt64) {
        let words = (count * width + 63) / 64
        guard words > 0 else { return }
        var buf = [UInt64](repeating: 0, count: words)
        let mask: UInt64 = width == 64 ? ~0 : (1 << UInt64(width)) &- 1
        buf.withUnsafeMutableBufferPointer { w in
            var bit = 0
            for i in 0..<count {
                let v = value(i) & mask
                let word = bit >> 6, shift = bit & 63
                w[word] |= v << UInt64(shift)
                if shift + width > 64 { w[word + 1] |= v >> UInt64(64 - shift) }
                bit &+= width
            }
        }
        buf.withUnsafeBufferPointer { out.array($0) }
    }

    /// Unpacks `count` values of `width` bits from `src` and stores `T(truncatingIfNeeded: reference &+ v)`.
    /// `src` must hold at least `byteCount(count:width:)` bytes (checked by the caller).
    @inlinable
    package static func unpack<T: FixedWidthInteger>(
        _ src: UnsafeRawBufferPointer, count: Int, width: Int, reference: UInt64, into out: UnsafeMutablePointer<T>
    ) {
        if width == 0 {
            out.initialize(repeating: T(truncatingIfNeeded: reference), count: count)
            return
        }
        forEach(src, count: count, width: width) { i, v in out[i] = T(truncatingIfNeeded: reference &+ v) }
    }

    /// Unpacks `count` deltas and stores their running sum from `first`: `out[0] = first` and
    /// `out[i + 1] = out[i] &+ reference &+ v[i]`, the delta codec's decoding in one pass over the packed stream
    /// (no array of deltas in between). `out` takes `count + 1` values.
    @inlinable
    package static func unpackRunningSum<T: FixedWidthInteger>(
        _ src: UnsafeRawBufferPointer, count: Int, width: Int, reference: UInt64, first: UInt64, into out: UnsafeMutablePointer<T>
    ) {
        var sum = first
        out[0] = T(truncatingIfNeeded: sum)
        if width == 0 {
            for i in 0..<count {
                sum &+= reference
                out[i &+ 1] = T(truncatingIfNeeded: sum)
            }
            return
        }
        forEach(src, count: count, width: width) { i, v in
            sum = sum &+ (reference &+ v)  // one addition on the dependency chain
            out[i &+ 1] = T(truncatingIfNeeded: sum)
        }
    }

    /// Calls `body(i, v)` for the `count` values of `width` (1...64) bits in `src`, in order.
    @inlinable @inline(__always)
    static func forEach(_ src: UnsafeRawBufferPointer, count: Int, width: Int, _ body: (Int, UInt64) -> Void) {
        guard count > 0 else { return }
        let mask: UInt64 = width == 64 ? ~0 : (1 << UInt64(width)) &- 1
        let base = src.baseAddress!
        let words = (count * width + 63) / 64
        var bit = 0
        var i = 0
        if width <= 56 {
            // Eight values take exactly `width` bytes, so value j of every group of eight starts at the same byte
            // offset and bit shift within its group: computed once, each value is then one unaligned load, shift and
            // mask, and the eight are independent (the running sum of deltas and the dictionary flags ran at a
            // position computed per value before). Groups run while their last load stays inside `src`.
            let o1 = width >> 3, o2 = (2 &* width) >> 3, o3 = (3 &* width) >> 3, o4 = (4 &* width) >> 3
            let o5 = (5 &* width) >> 3, o6 = (6 &* width) >> 3, o7 = (7 &* width) >> 3
            let s1 = UInt64(width & 7), s2 = UInt64((2 &* width) & 7), s3 = UInt64((3 &* width) & 7), s4 = UInt64((4 &* width) & 7)
            let s5 = UInt64((5 &* width) & 7), s6 = UInt64((6 &* width) & 7), s7 = UInt64((7 &* width) & 7)
            let groups = src.count >= 8 &+ o7 ? min(count >> 3, (src.count &- 8 &- o7) / width &+ 1) : 0
            @inline(__always) func value(_ at: UnsafeRawPointer, _ offset: Int, _ shift: UInt64) -> UInt64 {
                (at.loadUnaligned(fromByteOffset: offset, as: UInt64.self) >> shift) & mask
            }
            var g = 0
            while g < groups {
                let at = base + g &* width, first = g &<< 3
                body(first, value(at, 0, 0))
                body(first &+ 1, value(at, o1, s1))
                body(first &+ 2, value(at, o2, s2))
                body(first &+ 3, value(at, o3, s3))
                body(first &+ 4, value(at, o4, s4))
                body(first &+ 5, value(at, o5, s5))
                body(first &+ 6, value(at, o6, s6))
                body(first &+ 7, value(at, o7, s7))
                g &+= 1
            }
            i = groups << 3
            bit = i &* width
            // A value of at most 56 bits starting at bit `bit & 7` of byte `bit >> 3` lies inside the 8 bytes from
            // that byte: one unaligned load and shift per value, no branch, while those 8 bytes are inside `src`.
            let lastLoad = src.count - 8
            while i < count {
                let byte = bit >> 3
                if byte > lastLoad { break }
                let v = base.loadUnaligned(fromByteOffset: byte, as: UInt64.self) >> UInt64(bit & 7)
                body(i, v & mask)
                bit &+= width
                i &+= 1
            }
        }
        // The rest (values wider than 56 bits, or the last few values near the end of `src`).
        // Safety: word < words for every value; word + 1 is read only when the value crosses into it.
        while i < count {
            let word = bit >> 6, shift = bit & 63
            var v = base.loadUnaligned(fromByteOffset: word << 3, as: UInt64.self) >> UInt64(shift)
            if shift + width > 64 && word + 1 < words {
                v |= base.loadUnaligned(fromByteOffset: (word + 1) << 3, as: UInt64.self) << UInt64(64 - shift)
            }
            body(i, v & mask)
            bit &+= width
            i &+= 1
        }
    }
}

extension BitPacking {
    /// Unpacks only the values at `rows` (each below the packed count) into `out[0..<rows.count]`, storing
    /// `T(truncatingIfNeeded: reference &+ v)`: what ``unpack(_:count:width:reference:into:)`` followed by a gather
    /// gives, without touching the values in between. `src` must hold the whole packed stream.
    @inlinable
    package static func unpack<T: FixedWidthInteger>(
        _ src: UnsafeRawBufferPointer, rows: UnsafeBufferPointer<Int32>, width: Int, reference: UInt64,
        into out: UnsafeMutablePointer<T>
    ) {
        if width == 0 {
            out.initialize(repeating: T(truncatingIfNeeded: reference), count: rows.count)
            return
        }
        let mask: UInt64 = width == 64 ? ~0 : (1 << UInt64(width)) &- 1
        let base = src.baseAddress!
        let lastLoad = src.count - 8
        let wordCount = src.count >> 3
        var i = 0
        while i < rows.count {
            let bit = Int(rows[i]) &* width
            let byte = bit >> 3
            var v: UInt64
            if width <= 56 && byte <= lastLoad {
                v = base.loadUnaligned(fromByteOffset: byte, as: UInt64.self) >> UInt64(bit & 7)
            } else {
                let word = bit >> 6, shift = bit & 63
                v = base.loadUnaligned(fromByteOffset: word << 3, as: UInt64.self) >> UInt64(shift)
                if shift + width > 64 && word + 1 < wordCount {
                    v |= base.loadUnaligned(fromByteOffset: (word + 1) << 3, as: UInt64.self) << UInt64(64 - shift)
                }
            }
            out[i] = T(truncatingIfNeeded: reference &+ (v & mask))
            i &+= 1
        }
    }
}

extension BitPacking {
    /// For each of `count` packed values of 1...56 bits, writes `table[value]` to `out` (the table must have a slot
    /// for every value the width can hold), and returns the OR of the bytes written: one pass that turns dictionary
    /// codes into per-row flags without a code buffer.
    package static func lookUp(
        _ src: UnsafeRawBufferPointer, count: Int, width: Int, table: UnsafePointer<UInt8>, into out: UnsafeMutablePointer<UInt8>
    ) -> UInt8 {
        precondition(width >= 1 && width <= 56, "look-up widths are 1...56 bits")
        precondition(src.count * 8 >= count * width, "the packed stream holds every value")
        // A whole block of 4-bit codes (event types) or narrower: a byte at a time (below, where building the table
        // of 256 bytes' flags costs little against the rows).
        if 8 % width == 0 && count >= 1024 {
            switch width {
            case 1: return lookUpByBytes(src, count: count, width: 1, table: table, into: out, as: UInt64.self)
            case 2: return lookUpByBytes(src, count: count, width: 2, table: table, into: out, as: UInt32.self)
            case 4: return lookUpByBytes(src, count: count, width: 4, table: table, into: out, as: UInt16.self)
            default: return lookUpByBytes(src, count: count, width: 8, table: table, into: out, as: UInt8.self)
            }
        }
        var seen: UInt8 = 0
        forEach(src, count: count, width: width) { i, v in
            let f = table[Int(v)]
            out[i] = f
            seen |= f
        }
        return seen
    }

    /// `table[value]` of the packed values at `rows` (ascending, each below the stream's value count) written to `out`,
    /// one per row, with the OR of the bytes written: the flags of a dictionary predicate at a few rows (the valid rows
    /// of a sparse column summed under it) without a flag for every row of the block.
    package static func lookUp(
        _ src: UnsafeRawBufferPointer, rows: UnsafeBufferPointer<Int32>, width: Int, table: UnsafePointer<UInt8>, into out: UnsafeMutablePointer<UInt8>
    ) -> UInt8 {
        precondition(width >= 1 && width <= 56, "look-up widths are 1...56 bits")
        let mask: UInt64 = (1 << UInt64(width)) &- 1
        guard let base = src.baseAddress, !rows.isEmpty else { return 0 }
        // Rows whose value starts in the last 8 bytes (the last few, rows being ascending) are read through
        // `unpack(rows:)`, which loads no byte past the stream; the loop over the others checks no bound.
        let lastLoad = src.count &- 8
        var end = rows.count
        while end > 0, (Int(rows[end &- 1]) &* width) &>> 3 > lastLoad { end &-= 1 }
        var seen: UInt8 = 0
        let at = rows.baseAddress!
        for i in 0..<end {
            let bit = Int(at[i]) &* width
            let f = table[Int((base.loadUnaligned(fromByteOffset: bit &>> 3, as: UInt64.self) &>> UInt64(bit & 7)) & mask)]
            out[i] = f
            seen |= f
        }
        let i = end
        if i < rows.count {
            let rest = UnsafeBufferPointer(rebasing: rows[i...])
            withUnsafeTemporaryAllocation(of: UInt64.self, capacity: rest.count) { codes in
                unpack(src, rows: rest, width: width, reference: 0, into: codes.baseAddress!)
                for (k, c) in codes.enumerated() {
                    let f = table[Int(c)]
                    out[i &+ k] = f
                    seen |= f
                }
            }
        }
        return seen
    }

    /// `table[value]` of the packed values at the rows whose bit is set in `bits` (a bitmap over the stream's first
    /// `rows` values), written to `out` one per set bit in row order; returns how many were written and the OR of the
    /// bytes written. The rows are taken from the bitmap as they are visited, with no list of them kept (the flags
    /// of a dictionary predicate at the valid rows of a sparse column it filters).
    package static func lookUp(
        _ src: UnsafeRawBufferPointer, atSetBitsOf bits: UnsafePointer<UInt64>, rows: Int, width: Int, table: UnsafePointer<UInt8>,
        into out: UnsafeMutablePointer<UInt8>
    ) -> (written: Int, seen: UInt8) {
        precondition(width >= 1 && width <= 56, "look-up widths are 1...56 bits")
        precondition(src.count * 8 >= rows * width && src.count % 8 == 0, "the packed stream holds every row, in whole words")
        guard rows > 0, let base = src.baseAddress else { return (0, 0) }
        let mask: UInt64 = (1 << UInt64(width)) &- 1
        // Rows below `fast` start at least 8 bytes before the stream's end: one unaligned load each.
        let fast = src.count >= 8 ? ((src.count &- 8) &* 8 &+ 7) / width &+ 1 : 0
        let words = src.count &>> 3
        var k = 0
        var seen: UInt8 = 0
        let wordCount = (rows &+ 63) &>> 6
        for w in 0..<wordCount {
            var word = bits[w]
            if w == wordCount &- 1, rows & 63 != 0 { word &= (1 << UInt64(rows & 63)) &- 1 }
            let first = w &<< 6
            while word != 0 {
                let r = first &+ word.trailingZeroBitCount
                let bit = r &* width
                let v: UInt64
                if r < fast {
                    v = base.loadUnaligned(fromByteOffset: bit &>> 3, as: UInt64.self) &>> UInt64(bit & 7)
                } else {
                    // Starts in the last word (the stream is whole words), so lies wholly in it.
                    v = base.loadUnaligned(fromByteOffset: (words &- 1) &<< 3, as: UInt64.self) &>> UInt64(bit & 63)
                }
                let f = table[Int(v & mask)]
                out[k] = f
                seen |= f
                k &+= 1
                word &= word &- 1
            }
        }
        return (k, seen)
    }

    /// ``lookUp(_:count:width:table:into:)`` for a width that divides 8, whose values never cross a byte: the flags of
    /// each of the 256 possible bytes are put together once (`F` holds `8 / width` of them, the first value's in the
    /// low byte), then each byte of codes is one look-up and one store of all its rows' flags (a look-up and a store
    /// per row before, after a shift and a mask: the largest cost of `WHERE event_type = 'purchase'` over 100M rows).
    private static func lookUpByBytes<F: FixedWidthInteger & UnsignedInteger>(
        _ src: UnsafeRawBufferPointer, count: Int, width: Int, table: UnsafePointer<UInt8>, into out: UnsafeMutablePointer<UInt8>, as _: F.Type
    ) -> UInt8 {
        let perByte = 8 / width, mask = (1 << width) - 1
        precondition(MemoryLayout<F>.size == perByte, "one flag byte per value of the byte")
        return withUnsafeTemporaryAllocation(of: F.self, capacity: 256) { byteFlags in
            for b in 0..<256 {
                var f: F = 0
                for j in 0..<perByte { f |= F(table[(b >> (j &* width)) & mask]) << (8 &* j) }
                byteFlags[b] = f
            }
            let bytes = src.baseAddress!.assumingMemoryBound(to: UInt8.self)
            let whole = count / perByte
            let raw = UnsafeMutableRawPointer(out)
            var seenBytes: F = 0
            for k in 0..<whole {
                let f = byteFlags[Int(bytes[k])]
                raw.storeBytes(of: f, toByteOffset: k &* perByte, as: F.self)
                seenBytes |= f
            }
            var seen: UInt8 = 0
            for j in 0..<perByte { seen |= UInt8(truncatingIfNeeded: seenBytes >> (8 &* j)) }
            // The last byte's first values, when the count is not a whole number of bytes.
            for i in whole &* perByte..<count {
                let f = table[(Int(bytes[whole]) >> ((i &- whole &* perByte) &* width)) & mask]
                out[i] = f
                seen |= f
            }
            return seen
        }
    }
}

extension BitPacking {
    /// How many of the `count` packed values of `width` (0...64) bits lie in `lo...lo + span` (unsigned): a filter
    /// counted on the packed stream, no value buffer. `src` must hold the whole packed stream.
    package static func countInRange(_ src: UnsafeRawBufferPointer, count: Int, width: Int, lo: UInt64, span: UInt64) -> Int {
        guard count > 0 else { return 0 }
        if width == 0 { return 0 &- lo <= span ? count : 0 }
        // The shared unpacking loop (groups of eight at fixed offsets), a compare and an add per value, no branch.
        var n = 0
        forEach(src, count: count, width: width) { _, v in n &+= (v &- lo) <= span ? 1 : 0 }
        return n
    }
}

extension BitPacking {
    /// The sum of `table[value]` over `count` packed values of 1...12 bits, where each table slot is 0 or 1, or has
    /// bit 4 set for a value that must not occur (then `damaged` is true): how many rows of a dictionary block pass a
    /// predicate decided once per entry, without a flag per row. `table` has a slot for every value the width holds.
    ///
    /// The stream is read in chunks of `k = 12 / width` values, each one unaligned load, shift, mask and look-up in a
    /// table of every chunk's sum, built once per call from `table` (2^(k*width) slots, 4,096 at most): for 3-bit
    /// codes four values a look-up, where ``lookUp(_:count:width:table:into:)`` stored a byte per value. A chunk's sum
    /// keeps the flags in its low four bits (k <= 12) and the damaged values in its high four.
    package static func sumFlags(
        _ src: UnsafeRawBufferPointer, count: Int, width: Int, table: UnsafePointer<UInt8>
    ) -> (sum: Int, damaged: Bool) {
        precondition(width >= 1 && width <= 12, "flag sums take widths 1...12")
        precondition(src.count * 8 >= count * width, "the packed stream holds every value")
        guard count > 0 else { return (0, false) }
        let k = max(1, 12 / width)
        let chunkBits = k &* width
        let valueMask = (1 << width) &- 1
        let slots = 1 << chunkBits
        return withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 2 &* slots) { both in
            // Level i holds the sum of i values for every chunk of i values; level i + 1 from level i and the table.
            var level = both.baseAddress!, next = both.baseAddress! + slots
            for x in 0...valueMask { level[x] = table[x] }
            var bits = width
            while bits < chunkBits {
                bits &+= width
                for x in 0..<(1 << bits) { next[x] = table[x & valueMask] &+ level[x >> width] }
                swap(&level, &next)
            }
            let sums = UnsafePointer(level)
            let base = src.baseAddress!
            let chunkMask = UInt64(slots &- 1)
            let chunks = count / k
            var sum = 0
            var seen: UInt8 = 0
            var c = 0
            var bit = 0
            // Chunks whose 8-byte load stays inside `src`.
            while c < chunks && (bit >> 3) &+ 8 <= src.count {
                let e = sums[Int((base.loadUnaligned(fromByteOffset: bit >> 3, as: UInt64.self) >> UInt64(bit & 7)) & chunkMask)]
                sum &+= Int(e & 0x0F)
                seen |= e
                bit &+= chunkBits
                c &+= 1
            }
            // The last few values (their chunk's load would pass the end of `src`) read by position.
            let rest = (c &* k)..<count
            if !rest.isEmpty {
                let rows = rest.map { Int32($0) }
                var values = [UInt64](repeating: 0, count: rows.count)
                rows.withUnsafeBufferPointer { r in
                    values.withUnsafeMutableBufferPointer { unpack(src, rows: r, width: width, reference: 0, into: $0.baseAddress!) }
                }
                for v in values {
                    let e = table[Int(v)]
                    sum &+= Int(e & 0x0F)
                    seen |= e
                }
            }
            return (sum, seen & 0xF0 != 0)
        }
    }
}

extension BitPacking {
    /// How many of `count` packed values of `width` (1...16) bits equal one of `values` (at most four, distinct,
    /// below 2^width): the stream is compared a word at a time, never value by value (see
    /// ``equalStarts(_:count:width:values:_:)``), and the marks are counted by a popcount per word.
    package static func countEqual(_ src: UnsafeRawBufferPointer, count: Int, width: Int, values: [UInt64]) -> Int {
        var sink = CountStarts()
        equalStarts(src, count: count, width: width, values: values, &sink)
        return sink.count
    }

    /// Word `k` of `out` (room for the stream's words) gets a bit set at the first bit of each value in it equal to
    /// one of `values` (at most four): the marks ``countEqual(_:count:width:values:)`` counts, kept. A value's mark
    /// is at bit `row * width` of the stream.
    package static func equalStarts(
        _ src: UnsafeRawBufferPointer, count: Int, width: Int, values: [UInt64], into out: UnsafeMutablePointer<UInt64>
    ) {
        var sink = StoreStarts(out: out)
        equalStarts(src, count: count, width: width, values: values, &sink)
    }

    /// `table`-free flags at the rows whose bit is set in `bits` (a bitmap over `rows` rows): each row's mark in
    /// `starts` (see ``equalStarts(_:count:width:values:into:)``), or its absence when `!marked`, written to `out` one
    /// per set bit in row order; returns how many. `starts` holds `width` words per 64 rows, for every 64 rows begun
    /// (zero past the stream's words); `out` has room for the set bits and 32 bytes more.
    ///
    /// With BMI2, 64 rows at a time: their marks gathered from their `width` words into a row mask (PEXT by each
    /// word's first bits), that mask's bits at the set rows gathered again (PEXT by the bitmap word), and spread to a
    /// byte each, 8 at a time (PDEP): about 20 instructions per 64 rows, where visiting each set bit took 12 per row.
    /// `byGroups`: the BMI2 form (its default where PEXT and PDEP are instructions; tests take both forms anywhere).
    package static func flags(
        atSetBitsOf bits: UnsafePointer<UInt64>, rows: Int, width: Int, starts: UnsafePointer<UInt64>, marked: Bool,
        into out: UnsafeMutablePointer<UInt8>, byGroups: Bool = Bits.fast
    ) -> Int {
        precondition(width >= 1 && width <= 16, "marks of widths 1...16")
        let wordCount = (rows &+ 63) &>> 6
        guard byGroups else {
            let flip: UInt64 = marked ? 0 : 1
            var k = 0
            for w in 0..<wordCount {
                var word = bits[w]
                if w == wordCount &- 1, rows & 63 != 0 { word &= (1 << UInt64(rows & 63)) &- 1 }
                let first = w &<< 6
                while word != 0 {
                    let bit = (first &+ word.trailingZeroBitCount) &* width
                    out[k] = UInt8(truncatingIfNeeded: ((starts[bit &>> 6] &>> UInt64(bit & 63)) & 1) ^ flip)
                    k &+= 1
                    word &= word &- 1
                }
            }
            return k
        }
        switch width {
        case 3: return flagsByGroups(bits, rows, 3, starts, marked, out)
        case 4: return flagsByGroups(bits, rows, 4, starts, marked, out)
        case 5: return flagsByGroups(bits, rows, 5, starts, marked, out)
        default: return flagsByGroups(bits, rows, width, starts, marked, out)
        }
    }

    /// ``flags(atSetBitsOf:rows:width:starts:marked:into:)`` with BMI2, 64 rows at a time (the width a constant
    /// where the caller's switch makes it one, so the loop over the group's words unrolls).
    @inline(__always)
    private static func flagsByGroups(
        _ bits: UnsafePointer<UInt64>, _ rows: Int, _ width: Int, _ starts: UnsafePointer<UInt64>, _ marked: Bool,
        _ out: UnsafeMutablePointer<UInt8>
    ) -> Int {
        // The tables in a buffer of this function's own (inside a closure handed to a generic helper, the width
        // stopped being a constant for the loop over a group's words: 11 -> 15-16 us a block in StorageBenchmarks).
        withUnsafeTemporaryAllocation(of: UInt64.self, capacity: 2 &* width) { table in
            let firsts = table.baseAddress!, shifts = table.baseAddress! + width
            fillGroupTables(width, firsts, shifts)
            let wordCount = (rows &+ 63) &>> 6
            var k = 0
            for w in 0..<wordCount {
                let valid = setRows(bits, w, wordCount, rows)
                let rowMarks = groupMarks(starts + w &* width, width, firsts, shifts)
                let n = valid.nonzeroBitCount
                var picked = Bits.extract(rowMarks, valid)
                if !marked { picked = ~picked & (n == 64 ? ~0 : (1 << UInt64(n)) &- 1) }
                spreadFlags(picked, n, out + k)
                k &+= n
            }
            return k
        }
    }

    /// ``flags(atSetBitsOf:rows:width:starts:marked:into:byGroups:)`` as bits: bit `j` of `out` (from bit 0 of
    /// `out[0]`) is the flag of the `j`-th row set in `bits`. 64 rows at a time: their marks gathered into a row mask,
    /// that mask's bits at the set rows gathered again (as the flags are), then appended to the words at once: no byte
    /// per flag written and read back. Returns how many bits it wrote; `out` has room for them and one word more (the
    /// append stores a word every 64 rows whether or not it is full).
    package static func flagBits(
        atSetBitsOf bits: UnsafePointer<UInt64>, rows: Int, width: Int, starts: UnsafePointer<UInt64>, marked: Bool,
        into out: UnsafeMutablePointer<UInt64>
    ) -> Int {
        precondition(width >= 1 && width <= 16, "marks of widths 1...16")
        switch width {
        case 2: return flagBitsByGroups(bits, rows, 2, starts, marked, out)
        case 3: return flagBitsByGroups(bits, rows, 3, starts, marked, out)
        case 4: return flagBitsByGroups(bits, rows, 4, starts, marked, out)
        case 5: return flagBitsByGroups(bits, rows, 5, starts, marked, out)
        default: return flagBitsByGroups(bits, rows, width, starts, marked, out)
        }
    }

    @inline(__always)
    private static func flagBitsByGroups(
        _ bits: UnsafePointer<UInt64>, _ rows: Int, _ width: Int, _ starts: UnsafePointer<UInt64>, _ marked: Bool,
        _ out: UnsafeMutablePointer<UInt64>
    ) -> Int {
        withUnsafeTemporaryAllocation(of: UInt64.self, capacity: 2 &* width) { table in
            let firsts = table.baseAddress!, shifts = table.baseAddress! + width
            fillGroupTables(width, firsts, shifts)
            let wordCount = (rows &+ 63) &>> 6
            let flip: UInt64 = marked ? 0 : ~0
            // `pending`: the bits of `out[k]` so far, `used` of them.
            var pending: UInt64 = 0, used = 0, k = 0
            for w in 0..<wordCount {
                let valid = setRows(bits, w, wordCount, rows)
                let rowMarks = groupMarks(starts + w &* width, width, firsts, shifts)
                let n = valid.nonzeroBitCount
                let picked = Bits.extract(rowMarks ^ flip, valid)
                let joined = pending | picked &<< UInt64(used)
                out[k] = joined
                let total = used &+ n
                // Past 64 the bits that did not fit start the next word.
                let carried = used == 0 ? 0 : picked &>> UInt64(64 &- used)
                let full = total >= 64
                pending = full ? carried : joined
                k &+= full ? 1 : 0
                used = total & 63
            }
            out[k] = pending
            return k &* 64 &+ used
        }
    }

    /// ``flags(atSetBitsOf:rows:width:starts:marked:into:byGroups:)`` for the marks of a sparse block's `stored` codes,
    /// one per row set in `storedValidity` (a bitmap over the same `rows`); a row without a stored code (NULL) gets 0.
    /// Always 64 rows at a time (BMI2's gathers and scatters; loops in builds without them): the marks gathered into a
    /// bit per stored code, then for each 64 rows the window of those bits their stored codes take, scattered to their
    /// rows (PDEP by the stored validity) and gathered at the rows set in `bits` (PEXT). `starts` holds `width` words
    /// per 64 stored codes begun; `out` has room for the rows set in `bits` and 32 bytes more. Returns how many flags
    /// it wrote: fewer than the set bits when `storedValidity` holds more rows than `stored` (damage).
    package static func flags(
        atSetBitsOf bits: UnsafePointer<UInt64>, rows: Int, width: Int, starts: UnsafePointer<UInt64>, stored: Int,
        storedValidity: UnsafePointer<UInt64>, marked: Bool, into out: UnsafeMutablePointer<UInt8>
    ) -> Int {
        precondition(width >= 1 && width <= 16, "marks of widths 1...16")
        let codeWords = (stored &+ 63) &>> 6
        return withUnsafeTemporaryAllocation(of: UInt64.self, capacity: 2 &* width &+ codeWords &+ 1) { buffer in
            let firsts = buffer.baseAddress!, shifts = buffer.baseAddress! + width, perCode = buffer.baseAddress! + 2 &* width
            fillGroupTables(width, firsts, shifts)
            for g in 0..<codeWords { perCode[g] = groupMarks(starts + g &* width, width, firsts, shifts) }
            perCode[codeWords] = 0
            let wordCount = (rows &+ 63) &>> 6
            var k = 0, code = 0
            for w in 0..<wordCount {
                let tail: UInt64 = w == wordCount &- 1 && rows & 63 != 0 ? (1 << UInt64(rows & 63)) &- 1 : ~0
                let valid = bits[w] & tail, present = storedValidity[w] & tail
                let here = present.nonzeroBitCount
                guard code &+ here <= stored else { return k }
                let at = code &>> 6, shift = UInt64(code & 63)
                var window = perCode[at] &>> shift
                if shift != 0 { window |= perCode[at &+ 1] &<< (64 &- shift) }
                var rowMarks = Bits.deposit(window, present)
                if !marked { rowMarks = ~rowMarks & present }
                code &+= here
                let n = valid.nonzeroBitCount
                spreadFlags(Bits.extract(rowMarks, valid), n, out + k)
                k &+= n
            }
            return k
        }
    }

    /// The marks of 64 values, a bit each in value order: gathered from the `width` words they take (`group`) by
    /// each word's first bits (``fillGroupTables(_:_:_:)``).
    @inline(__always)
    private static func groupMarks(
        _ group: UnsafePointer<UInt64>, _ width: Int, _ firsts: UnsafePointer<UInt64>, _ shifts: UnsafePointer<UInt64>
    ) -> UInt64 {
        var marks: UInt64 = 0
        for j in 0..<width { marks |= Bits.extract(group[j], firsts[j]) &<< shifts[j] }
        return marks
    }

    /// Word `w` of the bitmap `bits` over `rows` rows (`wordCount` words), without the bits past the last row.
    @inline(__always)
    private static func setRows(_ bits: UnsafePointer<UInt64>, _ w: Int, _ wordCount: Int, _ rows: Int) -> UInt64 {
        var word = bits[w]
        if w == wordCount &- 1, rows & 63 != 0 { word &= (1 << UInt64(rows & 63)) &- 1 }
        return word
    }

    /// Fills `firsts` (`width` words) with the first bits of the values starting in each of the `width` words that
    /// 64 values take (the same for every 64 values: 64 * width bits is a whole number of words), and `shifts`
    /// (`width` words) with where each word's values go in a 64-bit mask.
    @inline(__always)
    private static func fillGroupTables(_ width: Int, _ firsts: UnsafeMutablePointer<UInt64>, _ shifts: UnsafeMutablePointer<UInt64>) {
        firsts.initialize(repeating: 0, count: width)
        shifts.initialize(repeating: 0, count: width)
        var at = 0
        while at < 64 &* width {
            firsts[at &>> 6] |= 1 << UInt64(at & 63)
            at &+= width
        }
        for j in 1..<max(width, 1) { shifts[j] = shifts[j &- 1] &+ UInt64(firsts[j &- 1].nonzeroBitCount) }
    }

    /// The low `n` bits of `picked` as `n` flag bytes at `out`, eight at a time (PDEP). The first 32 are written always
    /// (no branch on `n`: it varies from word to word and the branch mispredicted), so `out` needs 32 bytes of room.
    @inline(__always)
    private static func spreadFlags(_ picked: UInt64, _ n: Int, _ out: UnsafeMutablePointer<UInt8>) {
        let bytes: UInt64 = 0x0101_0101_0101_0101
        let at = UnsafeMutableRawPointer(out)
        at.storeBytes(of: Bits.deposit(picked, bytes), as: UInt64.self)
        at.storeBytes(of: Bits.deposit(picked &>> 8, bytes), toByteOffset: 8, as: UInt64.self)
        at.storeBytes(of: Bits.deposit(picked &>> 16, bytes), toByteOffset: 16, as: UInt64.self)
        at.storeBytes(of: Bits.deposit(picked &>> 24, bytes), toByteOffset: 24, as: UInt64.self)
        var b = 32
        while b < n {
            at.storeBytes(of: Bits.deposit(picked &>> UInt64(b), bytes), toByteOffset: b, as: UInt64.self)
            b &+= 8
        }
    }

    /// The marks of values equal to one of `values`, handed to `sink` four words at a time while the four after them
    /// are in the stream, then a word at a time. Each word is XORed with a value repeated at every value's place, each
    /// value's bits are ORed onto its first bit (the next word's bits carried in for a value that crosses words), and
    /// the first bits left clear are the equal values. Four words go through one 256-bit vector (`SIMD4<UInt64>`, the
    /// next four read one word on for the carries).
    private static func equalStarts<S: StartsSink>(_ src: UnsafeRawBufferPointer, count: Int, width: Int, values: [UInt64], _ sink: inout S) {
        precondition(width >= 1 && width <= 16, "word-parallel equality takes widths 1...16")
        precondition(!values.isEmpty && values.count <= 4, "one to four values at a time")
        precondition(src.count * 8 >= count * width, "the packed stream holds every value")
        guard count > 0 else { return }
        let bits = count &* width
        let words = (bits &+ 63) >> 6
        // The values' patterns and the values' first bits repeat every `period` words (a whole number of values);
        // four periods of words are a whole number of vectors.
        var g = 64, b = width
        while b != 0 { (g, b) = (b, g % b) }
        let period = width / g
        let span = 4 &* period
        let entries = values.count
        withUnsafeTemporaryAllocation(of: UInt64.self, capacity: (entries &+ 1) &* (span &+ 1)) { buf in
            buf.initialize(repeating: 0)
            // patterns[e * (span + 1) + k]: value e at every place of word k (one word past the span, for the
            // carries of the last); firsts[k]: the first bit of every value starting in word k.
            // One period is built a word at a time: a value times the word's first bits puts it at every place that
            // starts there (the places do not overlap, so the products do not carry into each other; the top of a
            // value crossing out of the word falls off and is ORed into the next word). Building the period value by
            // value was about a tenth of counting a 65,536-row block's 3-bit codes. Its last value ends on its last
            // bit: none crosses out of it.
            let patterns = buf.baseAddress!, firsts = buf.baseAddress! + entries &* (span &+ 1)
            var first = 0
            for word in 0..<period {
                var f: UInt64 = 0, at = first
                while at < 64 {
                    f |= 1 << UInt64(at)
                    at &+= width
                }
                firsts[word] = f
                // The last value starting here begins at `at - width`; it crosses when it ends past bit 64, and
                // its top bits, from bit `64 - (at - width)` of the value on, start the next word.
                let crossing = at > 64 ? 64 &- (at &- width) : 0
                for e in 0..<entries {
                    let row = patterns + e &* (span &+ 1)
                    row[word] |= values[e] &* f
                    if crossing != 0 { row[word &+ 1] |= values[e] &>> UInt64(crossing) }
                }
                first = at &- 64
            }
            for k in period...span {
                for e in 0..<entries { patterns[e &* (span &+ 1) &+ k] = patterns[e &* (span &+ 1) &+ k &- period] }
                firsts[k] = firsts[k &- period]
            }
            let base = src.baseAddress!
            // The vector loop with the width and period constants (its shifts unrolled, the patterns loaded once for
            // the loop), and one entry without a loop over entries, at the widths dictionary codes mostly have.
            var (k, phase) = (0, 0)
            switch (width, entries) {
            case (2, 1): (k, phase) = equalVectors(base, words, 2, 1, 1, patterns, firsts, &sink)
            case (3, 1): (k, phase) = equalVectors(base, words, 3, 3, 1, patterns, firsts, &sink)
            case (4, 1): (k, phase) = equalVectors(base, words, 4, 1, 1, patterns, firsts, &sink)
            case (5, 1): (k, phase) = equalVectors(base, words, 5, 5, 1, patterns, firsts, &sink)
            case (6, 1): (k, phase) = equalVectors(base, words, 6, 3, 1, patterns, firsts, &sink)
            case (_, 1): (k, phase) = equalVectors(base, words, width, period, 1, patterns, firsts, &sink)
            case (2, _): (k, phase) = equalVectors(base, words, 2, 1, entries, patterns, firsts, &sink)
            case (3, _): (k, phase) = equalVectors(base, words, 3, 3, entries, patterns, firsts, &sink)
            case (4, _): (k, phase) = equalVectors(base, words, 4, 1, entries, patterns, firsts, &sink)
            case (5, _): (k, phase) = equalVectors(base, words, 5, 5, entries, patterns, firsts, &sink)
            case (6, _): (k, phase) = equalVectors(base, words, 6, 3, entries, patterns, firsts, &sink)
            case (7, _): (k, phase) = equalVectors(base, words, 7, 7, entries, patterns, firsts, &sink)
            case (8, _): (k, phase) = equalVectors(base, words, 8, 1, entries, patterns, firsts, &sink)
            default: (k, phase) = equalVectors(base, words, width, period, entries, patterns, firsts, &sink)
            }
            @inline(__always) func load(_ k: Int) -> UInt64 {
                k < words ? base.loadUnaligned(fromByteOffset: k &<< 3, as: UInt64.self) : 0
            }
            while k < words {
                let x = load(k), next = load(k &+ 1)
                var equal: UInt64 = 0
                for e in 0..<entries {
                    let row = patterns + e &* (span &+ 1) + phase
                    let d = x ^ row[0], dn = next ^ row[1]
                    var z = d
                    for s in 1..<width { z |= d >> UInt64(s) | dn << UInt64(64 &- s) }
                    equal |= ~z
                }
                var starts = firsts[phase]
                // Only values inside the stream (the last word's padding holds none).
                if k == words &- 1, bits & 63 != 0 { starts &= (1 << UInt64(bits & 63)) &- 1 }
                sink.word(k, equal & starts)
                k &+= 1
                phase &+= 1
                if phase == span { phase = 0 }
            }
        }
    }

    /// ``equalStarts(_:count:width:values:_:)``'s vector loop over the words while the four after them are in the
    /// stream (the next-word load reads word k + 4): the first word left, and its phase in the patterns. Whole spans
    /// of `period` vectors go first, each vector at a fixed phase, so that with the width and period constants the
    /// loop over them unrolls and the patterns are loaded once for the loop, not per vector.
    @inline(__always)
    private static func equalVectors<S: StartsSink>(
        _ base: UnsafeRawPointer, _ words: Int, _ width: Int, _ period: Int, _ entries: Int, _ patterns: UnsafeMutablePointer<UInt64>,
        _ firsts: UnsafeMutablePointer<UInt64>, _ sink: inout S
    ) -> (next: Int, phase: Int) {
        let span = 4 &* period
        // A local copy, written back at the end, stays in registers through the loop.
        var local = sink
        defer { sink = local }
        @inline(__always) func marks(_ k: Int, _ phase: Int) -> SIMD4<UInt64> {
            let x = base.loadUnaligned(fromByteOffset: k &<< 3, as: SIMD4<UInt64>.self)
            let next = base.loadUnaligned(fromByteOffset: (k &+ 1) &<< 3, as: SIMD4<UInt64>.self)
            var equal = SIMD4<UInt64>(repeating: 0)
            var e = 0
            repeat {
                let row = UnsafeRawPointer(patterns + e &* (span &+ 1) + phase)
                let d = x ^ row.loadUnaligned(as: SIMD4<UInt64>.self)
                let dn = next ^ row.loadUnaligned(fromByteOffset: 8, as: SIMD4<UInt64>.self)
                var z = d
                var s = 1
                while s < width {
                    z |= d &>> UInt64(s) | dn &<< UInt64(64 &- s)
                    s &+= 1
                }
                equal |= ~z
                e &+= 1
            } while e < entries
            return equal & UnsafeRawPointer(firsts + phase).loadUnaligned(as: SIMD4<UInt64>.self)
        }
        @inline(__always) func vector(_ k: Int, _ phase: Int) { local.vector(k, marks(k, phase)) }
        var k = 0
        if S.countsOnly {
            // A count needs the number of marks, not where they are: the marks of several vectors are ORed into one
            // and counted once (a popcount of a vector is 8 instructions, as many as finding its marks at width 3).
            // They fall on disjoint bits. Lane i of a span's vector j is word 4j + i of it, and the values of a word
            // whose index is r mod `period` start at bits -64r mod `width`, different for each r < `period`; as the
            // period is odd (width / gcd(64, width) for widths up to 16), j = 0..<period gives every r once. With a
            // period of 1 (widths dividing 64) every word's marks are at the multiples of the width, below
            // 64 - width + 1: `width` spans' marks shifted by 0..<width bits do not meet either.
            assert(period == 1 || period & 1 == 1, "an odd period")
            let spans = period == 1 ? width : 1
            while k &+ spans &* span &+ 1 <= words {
                var combined = SIMD4<UInt64>(repeating: 0)
                var s = 0
                repeat {
                    var j = 0
                    repeat {
                        combined |= marks(k &+ s &* span &+ 4 &* j, 4 &* j) &<< UInt64(period == 1 ? s : 0)
                        j &+= 1
                    } while j < period
                    s &+= 1
                } while s < spans
                local.vector(k, combined)
                k &+= spans &* span
            }
        }
        while k &+ span &+ 1 <= words {
            var j = 0
            while j < period {
                vector(k &+ 4 &* j, 4 &* j)
                j &+= 1
            }
            k &+= span
        }
        // Fewer than a span left: a vector at a time (the phase stays below the span).
        var phase = 0
        while k &+ 5 <= words {
            vector(k, phase)
            k &+= 4
            phase &+= 4
        }
        return (k, phase)
    }
}

/// Where ``BitPacking``'s word-parallel equality puts its marks: counted, or stored.
private protocol StartsSink {
    /// Whether only the number of marks counts (then a vector handed over may hold the marks of several, ORed).
    static var countsOnly: Bool { get }
    mutating func vector(_ k: Int, _ marks: SIMD4<UInt64>)
    mutating func word(_ k: Int, _ marks: UInt64)
}

/// Counts the marks: a popcount per lane, the lanes summed at the end.
private struct CountStarts: StartsSink {
    var lanes = SIMD4<UInt64>(repeating: 0), words = 0
    static var countsOnly: Bool { true }
    var count: Int { Int(truncatingIfNeeded: lanes.wrappedSum()) &+ words }
    @inline(__always) mutating func vector(_ k: Int, _ marks: SIMD4<UInt64>) { lanes &+= marks.nonzeroBitCount }
    @inline(__always) mutating func word(_ k: Int, _ marks: UInt64) { words &+= marks.nonzeroBitCount }
}

/// Stores the marks, word `k` at `out[k]`.
private struct StoreStarts: StartsSink {
    let out: UnsafeMutablePointer<UInt64>
    static var countsOnly: Bool { false }
    @inline(__always) func vector(_ k: Int, _ marks: SIMD4<UInt64>) { UnsafeMutableRawPointer(out + k).storeBytes(of: marks, as: SIMD4<UInt64>.self) }
    @inline(__always) func word(_ k: Int, _ marks: UInt64) { out[k] = marks }
}
