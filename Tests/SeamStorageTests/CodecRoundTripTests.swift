import SeamColumnar
import SeamKernels
@testable import SeamStorage
import SeamTestSupport
import Testing

/// Every codec round-trips every type it supports, over lengths, shapes and null patterns, with and without LZ4.
@Suite struct CodecRoundTripTests {
    static let lengths = [0, 1, 2, 7, 63, 64, 65, 1000, 4099]

    /// Calls `body` for every type `codec` supports × value shape × null pattern × length × with and without LZ4 ×
    /// NULL slots kept or only valid rows stored (``BlockFlags/sparse``, for patterns with NULLs), with the case's
    /// number (for seeds).
    static func eachCase(
        _ codec: any Codec, lengths: [Int], _ body: (LogicalType, ValueShape, NullPattern, Int, Bool, Bool, Int) throws -> Void
    ) rethrows {
        var index = 0
        for type in LogicalType.allCases where codec.supports(type) {
            for shape in ValueShape.allCases {
                for nulls in NullPattern.allCases {
                    for n in lengths {
                        for lz4 in [false, true] {
                            // The sparse form is orthogonal to LZ4 (which wraps whatever payload): tried without it.
                            for sparse in nulls == .none || lz4 ? [false] : [false, true] {
                                try body(type, shape, nulls, n, lz4, sparse, index)
                                index += 1
                            }
                        }
                    }
                }
            }
        }
    }

    static func encode(_ v: ColumnVector, _ codec: any Codec, lz4: Bool, sparse: Bool) -> EncodedBlock {
        BlockCodec.encode(v, force: codec.id, lz4: lz4 ? .everyPayload : .never, sparse: sparse ? .always : .never)
    }

    @Test(arguments: Codecs.all.map(\.id.rawValue))
    func roundTripsEveryTypeShapeAndNullPattern(codecRaw: UInt8) throws {
        let codec = Codecs.byID[codecRaw]!
        var checked = 0
        try Self.eachCase(codec, lengths: Self.lengths) { type, shape, nulls, n, lz4, sparse, index in
            let v = VectorFixtures.vector(type, count: n, shape: shape, nulls: nulls, seed: UInt64(n * 31 + index))
            let block = Self.encode(v, codec, lz4: lz4, sparse: sparse)
            // A forced codec is used unless it cannot encode the data (delta needs 2 rows, dictionary at most 2^16
            // entries); then the best other codec is taken and the block still round-trips.
            if codec.estimateSize(BlockCodec.fillNulls(v)) != nil && !sparse {
                #expect(block.codec == codec.id, "\(codec.name) \(type) \(shape) \(nulls) n=\(n)")
            }
            #expect(block.flags.contains(.sparse) == (sparse && v.nullCount > 0))
            let decoded = try block.bytes.withUnsafeBytes { try BlockCodec.decode($0, type: type, owner: nil) }
            #expect(decoded.count == n)
            #expect(sameValues(decoded.allValues, v.allValues), "\(codec.name) \(type) \(shape) \(nulls) n=\(n) lz4=\(lz4) sparse=\(sparse)")
            #expect(decoded.nullCount == v.nullCount)
            checked += 1
        }
        #expect(checked > 0)
    }

    /// Decoding only some rows (what a scan does for the columns a filter did not read) gives exactly the rows a whole
    /// decode and a gather give: for every codec, type, shape and null pattern, with and without LZ4, for no rows, every
    /// row, single rows at the edges, sparse and dense random selections.
    @Test(arguments: Codecs.all.map(\.id.rawValue))
    func selectedRowsDecodeAsAWholeDecodeGathered(codecRaw: UInt8) throws {
        let codec = Codecs.byID[codecRaw]!
        var checked = 0
        try Self.eachCase(codec, lengths: [1, 65, 4099]) { type, shape, nulls, n, lz4, sparse, index in
            let seed = UInt64(n * 17 + index)
            let v = VectorFixtures.vector(type, count: n, shape: shape, nulls: nulls, seed: seed)
            let block = Self.encode(v, codec, lz4: lz4, sparse: sparse)
            var rng = FixtureRandom(seed: seed)
            let selections: [[Int32]] = [
                [], [0], [Int32(n - 1)], (0..<n).map { Int32($0) },
                (0..<n).filter { _ in Int.random(in: 0..<10, using: &rng) == 0 }.map { Int32($0) },
                (0..<n).filter { _ in Int.random(in: 0..<10, using: &rng) != 0 }.map { Int32($0) },
            ]
            let whole = try block.bytes.withUnsafeBytes { try BlockCodec.decode($0, type: type, owner: nil) }
            for rows in selections {
                let part = try block.bytes.withUnsafeBytes { bytes in
                    try rows.withUnsafeBufferPointer { try BlockCodec.decode(bytes, type: type, owner: nil, rows: $0) }
                }
                #expect(part.count == rows.count)
                #expect(
                    sameValues(part.allValues, rows.map { whole.value(at: Int($0)) }),
                    "\(codec.name) \(type) \(shape) \(nulls) n=\(n) lz4=\(lz4) sparse=\(sparse) rows=\(rows.count)")
                checked += 1
            }
        }
        #expect(checked > 0)
    }

    /// Bit packing at every width 0...64 (the codecs' fixtures reach only some widths: random BIGINTs pack at 64 bits,
    /// random ids at 63), for lengths whose last values end at, before and past a word: a whole unpack, a running sum
    /// and an unpack of chosen rows give back the packed values.
    @Test func bitPackingRoundTripsEveryWidth() {
        var rng = FixtureRandom(seed: 0xB17)
        for width in 0...64 {
            let mask: UInt64 = width == 64 ? ~0 : (1 << UInt64(width)) &- 1
            for n in [1, 2, 3, 63, 64, 65, 127, 1000] {
                let values = (0..<n).map { i in i % 5 == 0 ? mask : rng.next() & mask }
                var w = ByteWriter()
                BitPacking.pack(count: n, width: width, into: &w) { values[$0] }
                let bytes = w.bytes
                #expect(bytes.count == BitPacking.byteCount(count: n, width: width))
                let reference: UInt64 = 12345
                bytes.withUnsafeBytes { src in
                    var out = [UInt64](repeating: 0, count: n)
                    out.withUnsafeMutableBufferPointer { BitPacking.unpack(src, count: n, width: width, reference: reference, into: $0.baseAddress!) }
                    #expect(out == values.map { $0 &+ reference }, "width \(width), n \(n)")
                    var sums = [UInt64](repeating: 0, count: n + 1)
                    sums.withUnsafeMutableBufferPointer {
                        BitPacking.unpackRunningSum(src, count: n, width: width, reference: reference, first: 7, into: $0.baseAddress!)
                    }
                    var expected: [UInt64] = [7]
                    for v in values { expected.append(expected.last! &+ reference &+ v) }
                    #expect(sums == expected, "running sum, width \(width), n \(n)")
                    let rows = (0..<n).filter { $0 % 3 != 1 }.map { Int32($0) }
                    var picked = [UInt64](repeating: 0, count: rows.count)
                    rows.withUnsafeBufferPointer { r in
                        picked.withUnsafeMutableBufferPointer { BitPacking.unpack(src, rows: r, width: width, reference: reference, into: $0.baseAddress!) }
                    }
                    #expect(picked == rows.map { values[Int($0)] &+ reference }, "rows, width \(width), n \(n)")
                }
            }
        }
    }

    /// Dictionary flags looked up through packed codes at widths 1...12, for short blocks (a value at a time) and long
    /// ones (widths 1, 2, 4 and 8 a byte at a time), with counts that end inside a byte: every row gets its code's
    /// flag, and the OR of the flags written says whether a code past the entries (flag 2) was seen.
    @Test func dictionaryFlagLookUpAtEveryWidth() {
        var rng = FixtureRandom(seed: 0x100C)
        for width in 1...12 {
            let slots = 1 << width
            for n in [1, 7, 1023, 1024, 1025, 1027, 4099] {
                // The widest code at row 3 alone: inside a byte at widths 1, 2 and 4, so the flags seen must come
                // from every row of a byte, not only its first.
                let values = (0..<n).map { i in i == 3 ? UInt64(slots - 1) : rng.next() % UInt64(slots - 1) }
                var w = ByteWriter()
                BitPacking.pack(count: n, width: width, into: &w) { values[$0] }
                // Flags 0 and 1 by code, and 2 (a damaged code) for the widest code when `damaged`.
                for damaged in [false, true] {
                    var table = (0..<slots).map { _ in UInt8(rng.next() & 1) }
                    table[slots - 1] = damaged ? 2 : 1
                    var out = [UInt8](repeating: 7, count: n)
                    let seen = w.bytes.withUnsafeBytes { src in
                        out.withUnsafeMutableBufferPointer { BitPacking.lookUp(src, count: n, width: width, table: table, into: $0.baseAddress!) }
                    }
                    let want = values.map { table[Int($0)] }
                    #expect(out == want, "width \(width), n \(n)")
                    #expect(seen == want.reduce(0, |), "width \(width), n \(n): flags seen")
                }
            }
        }
    }

    /// Flags looked up at chosen rows, listed or as a bitmap's set bits, equal the flags of every row picked at those
    /// rows, at every width 1...56, for row sets that reach the last values (read near the stream's end without a load
    /// past it), skip most rows, or are empty; the OR of the flags written says whether a damaged code (flag 2) was
    /// among them.
    @Test func dictionaryFlagLookUpAtChosenRows() {
        var rng = FixtureRandom(seed: 0x40A7)
        for width in 1...56 {
            let slots = min(1 << width, 4096)
            for n in [1, 9, 64, 1000, 4099] {
                let values = (0..<n).map { _ in rng.next() % UInt64(slots) }
                var w = ByteWriter()
                BitPacking.pack(count: n, width: width, into: &w) { values[$0] }
                var table = (0..<slots).map { _ in UInt8(rng.next() & 1) }
                let damagedCode = Int(values[n / 2])
                for damaged in [false, true] {
                    table[damagedCode] = damaged ? 2 : 1
                    for density in [0, 1, 5, 8] {
                        let rows = (0..<n).filter { $0 == n - 1 || (density > 0 && rng.next() % 8 < UInt64(density)) }.map(Int32.init)
                        var out = [UInt8](repeating: 7, count: rows.count)
                        let seen = w.bytes.withUnsafeBytes { src in
                            rows.withUnsafeBufferPointer { at in
                                out.withUnsafeMutableBufferPointer { BitPacking.lookUp(src, rows: at, width: width, table: table, into: $0.baseAddress!) }
                            }
                        }
                        let want = rows.map { table[Int(values[Int($0)])] }
                        #expect(out == want, "width \(width), n \(n), density \(density)")
                        #expect(seen == want.reduce(0, |), "width \(width), n \(n), density \(density): flags seen")
                        // The same rows as set bits of a bitmap (with bits set past the last row, not rows).
                        var bits = [UInt64](repeating: 0, count: (n + 63) / 64)
                        for r in rows { bits[Int(r) >> 6] |= 1 << UInt64(r & 63) }
                        if n % 64 != 0 { bits[bits.count - 1] |= ~0 << UInt64(n % 64) }
                        var fromBits = [UInt8](repeating: 7, count: n)
                        let r = w.bytes.withUnsafeBytes { src in
                            bits.withUnsafeBufferPointer { b in
                                fromBits.withUnsafeMutableBufferPointer {
                                    BitPacking.lookUp(src, atSetBitsOf: b.baseAddress!, rows: n, width: width, table: table, into: $0.baseAddress!)
                                }
                            }
                        }
                        #expect(r.written == rows.count && Array(fromBits.prefix(r.written)) == want && r.seen == seen,
                                "width \(width), n \(n), density \(density): from a bitmap")
                    }
                }
            }
        }
    }

    /// Summing flags over packed codes (four 3-bit codes, a look-up) equals looking each code's flag up, at every width
    /// 1...12, for counts that end inside a chunk and inside the last eight bytes (the value-by-value end), with the
    /// widest code present; a code whose slot carries the damage mark is reported wherever it lies.
    @Test func dictionaryFlagSumsAtEveryWidth() {
        var rng = FixtureRandom(seed: 0x5F1A)
        for width in 1...12 {
            let slots = 1 << width
            for n in [1, 2, 5, 11, 13, 64, 1000, 1021, 4099] {
                let values = (0..<n).map { i in i == n / 2 ? UInt64(slots - 1) : rng.next() % UInt64(slots) }
                var w = ByteWriter()
                BitPacking.pack(count: n, width: width, into: &w) { values[$0] }
                for density in [0, 1, 2, 4] {
                    let table = (0..<slots).map { _ in density == 4 ? UInt8(1) : UInt8(rng.next() % 4 < UInt64(density) ? 1 : 0) }
                    let r = w.bytes.withUnsafeBytes { BitPacking.sumFlags($0, count: n, width: width, table: table) }
                    #expect(r.sum == values.reduce(0) { $0 + Int(table[Int($1)]) } && !r.damaged, "width \(width), n \(n), density \(density)")
                }
                // The widest code's slot marked as damage: seen, at the middle row, in the chunks or the end.
                var marked = (0..<slots).map { _ in UInt8(rng.next() & 1) }
                marked[slots - 1] = 0x10
                let r = w.bytes.withUnsafeBytes { BitPacking.sumFlags($0, count: n, width: width, table: marked) }
                #expect(r.damaged, "width \(width), n \(n): damage")
            }
        }
    }

    /// Word-parallel equality counts equal counting by hand at every width 1...16, for values that cross words (odd
    /// widths), counts that end inside a word or a vector of four words, the widest and the zero value, a value that
    /// never occurs, and two to four values counted in one pass.
    @Test func wordParallelEqualityCountsAtEveryWidth() {
        var rng = FixtureRandom(seed: 0xE0A1)
        for width in 1...16 {
            let slots = UInt64(1) << UInt64(width)
            for n in [1, 2, 21, 22, 63, 64, 65, 191, 192, 193, 1000, 4099] {
                let values = (0..<n).map { i in i % 17 == 5 ? slots - 1 : rng.next() % min(slots, 6) }
                var w = ByteWriter()
                BitPacking.pack(count: n, width: width, into: &w) { values[$0] }
                for target in [UInt64(0), 1, slots - 1, min(slots - 1, 7), slots > 8 ? 8 : slots - 1] {
                    let got = w.bytes.withUnsafeBytes { BitPacking.countEqual($0, count: n, width: width, values: [target]) }
                    #expect(got == values.filter { $0 == target }.count, "width \(width), n \(n), value \(target)")
                }
                // Two to four values at once (as many as the width holds), in any order.
                for k in 2...4 where UInt64(k) <= slots {
                    var set: [UInt64] = [slots - 1]
                    while set.count < k {
                        let v = rng.next() % min(slots, 8)
                        if !set.contains(v) { set.append(v) }
                    }
                    let got = w.bytes.withUnsafeBytes { BitPacking.countEqual($0, count: n, width: width, values: set) }
                    #expect(got == values.filter { set.contains($0) }.count, "width \(width), n \(n), values \(set)")
                }
            }
        }
    }

    /// The vertical layout at every width 0...32, for counts of whole groups, a group and a tail, and tails alone, with
    /// the widest code present: a whole decode, a decode of chosen rows and range counts give back the values.
    /// Flags at a bitmap's set rows from the marks of equal values equal testing each row's value, at every width
    /// 1...16, for one to four values marked as passing or failing, bitmaps empty, sparse, dense and full with bits set
    /// past the last row, and counts off a multiple of 64: both forms, 64 rows at a time (BMI2's gather and scatter,
    /// or their loops where the build lacks them) and a row at a time.
    @Test func flagsFromMarksAtSetBitsEqualTestingEachRow() {
        var rng = FixtureRandom(seed: 0x3A2C)
        for width in 1...16 {
            let slots = UInt64(1) << UInt64(width)
            for n in [1, 63, 64, 65, 130, 1000, 4099] {
                let values = (0..<n).map { _ in rng.next() % min(slots, 6) }
                var w = ByteWriter()
                BitPacking.pack(count: n, width: width, into: &w) { values[$0] }
                let words = (n * width + 63) / 64, room = (n + 63) / 64 * width
                for k in 1...4 where UInt64(k) < min(slots, 6) {
                    let set = Array((0..<min(slots, 6)).shuffled(using: &rng).prefix(k))
                    var marks = [UInt64](repeating: 0, count: room)
                    marks.withUnsafeMutableBufferPointer { m in
                        w.bytes.withUnsafeBytes { BitPacking.equalStarts($0, count: n, width: width, values: set, into: m.baseAddress!) }
                    }
                    #expect(marks[words...].allSatisfy { $0 == 0 }, "width \(width), n \(n): nothing marked past the stream")
                    for density in [0, 1, 3, 4] {
                        var bits = [UInt64](repeating: 0, count: (n + 63) / 64)
                        for r in 0..<(bits.count * 64) where rng.next() % 4 < UInt64(density) { bits[r >> 6] |= 1 << UInt64(r & 63) }
                        let rows = (0..<n).filter { bits[$0 >> 6] >> UInt64($0 & 63) & 1 == 1 }
                        for marked in [true, false] {
                            let want = rows.map { UInt8(set.contains(values[$0]) == marked ? 1 : 0) }
                            for byGroups in [true, false] {
                                var out = [UInt8](repeating: 9, count: n + 32)
                                let written = bits.withUnsafeBufferPointer { b in
                                    marks.withUnsafeBufferPointer { m in
                                        out.withUnsafeMutableBufferPointer {
                                            BitPacking.flags(
                                                atSetBitsOf: b.baseAddress!, rows: n, width: width, starts: m.baseAddress!, marked: marked,
                                                into: $0.baseAddress!, byGroups: byGroups)
                                        }
                                    }
                                }
                                #expect(written == rows.count && Array(out.prefix(written)) == want,
                                        "width \(width), n \(n), values \(set), density \(density), marked \(marked), by groups \(byGroups)")
                            }
                            // As bits, appended 64 rows at a time: bit j is the j-th set row's flag, nothing past them.
                            var packed = [UInt64](repeating: 0xDEAD, count: (rows.count + 63) / 64 + 1)
                            let bitCount = bits.withUnsafeBufferPointer { b in
                                marks.withUnsafeBufferPointer { m in
                                    packed.withUnsafeMutableBufferPointer {
                                        BitPacking.flagBits(atSetBitsOf: b.baseAddress!, rows: n, width: width, starts: m.baseAddress!, marked: marked, into: $0.baseAddress!)
                                    }
                                }
                            }
                            let unpacked = (0..<packed.count * 64).map { UInt8(packed[$0 >> 6] >> UInt64($0 & 63) & 1) }
                            #expect(bitCount == rows.count && Array(unpacked.prefix(bitCount)) == want
                                    && unpacked[bitCount..<(packed.count - 1) * 64].allSatisfy { $0 == 0 },
                                    "bits: width \(width), n \(n), values \(set), density \(density), marked \(marked)")
                        }
                    }
                }
            }
        }
    }

    /// The same from the marks of a sparse block's stored codes: one code per row present in its own bitmap, a row
    /// absent there (NULL) never flagged, the set rows asked for chosen independently of the present ones.
    @Test func flagsFromMarksOfStoredCodesEqualTestingEachRow() {
        var rng = FixtureRandom(seed: 0x5A7E)
        for width in [1, 2, 3, 4, 5, 7, 8, 12, 16] {
            let slots = UInt64(1) << UInt64(width)
            for n in [1, 63, 64, 65, 200, 1000, 4099] {
                for presentDensity in [1, 2, 4] {
                    var present = [UInt64](repeating: 0, count: (n + 63) / 64)
                    for r in 0..<n where rng.next() % 4 < UInt64(presentDensity) { present[r >> 6] |= 1 << UInt64(r & 63) }
                    let presentRows = (0..<n).filter { present[$0 >> 6] >> UInt64($0 & 63) & 1 == 1 }
                    let stored = presentRows.count
                    var code = [UInt64?](repeating: nil, count: n)
                    let codes = presentRows.map { _ in rng.next() % min(slots, 6) }
                    for (k, r) in presentRows.enumerated() { code[r] = codes[k] }
                    var w = ByteWriter()
                    BitPacking.pack(count: stored, width: width, into: &w) { codes[$0] }
                    let words = (stored * width + 63) / 64, room = max((stored + 63) / 64 * width, 1)
                    let set = Array((0..<min(slots, 6)).shuffled(using: &rng).prefix(UInt64(2) < min(slots, 6) ? 2 : 1))
                    var marks = [UInt64](repeating: 0, count: room)
                    if stored > 0 {
                        marks.withUnsafeMutableBufferPointer { m in
                            w.bytes.withUnsafeBytes { BitPacking.equalStarts($0, count: stored, width: width, values: set, into: m.baseAddress!) }
                        }
                    }
                    #expect(marks[min(words, room)...].allSatisfy { $0 == 0 })
                    var bits = [UInt64](repeating: 0, count: (n + 63) / 64)
                    for r in 0..<(bits.count * 64) where rng.next() % 3 != 0 { bits[r >> 6] |= 1 << UInt64(r & 63) }
                    let rows = (0..<n).filter { bits[$0 >> 6] >> UInt64($0 & 63) & 1 == 1 }
                    for marked in [true, false] {
                        let want = rows.map { r -> UInt8 in code[r].map { set.contains($0) == marked ? 1 : 0 } ?? 0 }
                        var out = [UInt8](repeating: 9, count: n + 32)
                        let written = bits.withUnsafeBufferPointer { b in
                            present.withUnsafeBufferPointer { p in
                                marks.withUnsafeBufferPointer { m in
                                    out.withUnsafeMutableBufferPointer {
                                        BitPacking.flags(
                                            atSetBitsOf: b.baseAddress!, rows: n, width: width, starts: m.baseAddress!, stored: stored,
                                            storedValidity: p.baseAddress!, marked: marked, into: $0.baseAddress!)
                                    }
                                }
                            }
                        }
                        #expect(written == rows.count && Array(out.prefix(written)) == want,
                                "width \(width), n \(n), present \(presentDensity)/4, values \(set), marked \(marked)")
                    }
                }
            }
        }
    }

    /// A sum under a bit per value equals summing the marked values by hand, at every width 0...25, for counts of
    /// whole groups, an odd last group and tails, bits none, all, sparse and dense; wider codes are left to the caller.
    @Test func verticalSumsUnderBitsEqualSummingByHand() throws {
        var rng = FixtureRandom(seed: 0x5B17)
        let codec = VerticalFrameOfReferenceCodec()
        for width in 0...27 {
            let mask: UInt64 = (1 << UInt64(width)) &- 1
            for n in [1, 127, 128, 129, 256, 384, 1000, 1152] {
                let reference = Int64(rng.next() % 1_000_000) - 500_000
                let values = (0..<n).map { i in reference + Int64(i % 9 == 0 ? mask : rng.next() & mask) }
                let v = Chunk(schema: Schema([Field("x", .bigint)]), rows: values.map { [.bigint($0)] }).columns[0]
                var w = ByteWriter()
                codec.encode(v, into: &w)
                for density in [0, 1, 2, 3, 4] {
                    var bits = [UInt64](repeating: 0, count: (n + 63) / 64)
                    for i in 0..<n where rng.next() % 4 < UInt64(density) { bits[i >> 6] |= 1 << UInt64(i & 63) }
                    let kept = (0..<n).filter { bits[$0 >> 6] >> UInt64($0 & 63) & 1 == 1 }.map { values[$0] }
                    let got = try w.bytes.withUnsafeBytes { payload in
                        try bits.withUnsafeBufferPointer { try codec.sumMarked(payload, count: n, bits: $0.baseAddress!) }
                    }
                    // The block's own width (a block of one value has none).
                    if w.bytes[8] > 25 {
                        #expect(got == nil, "width \(width)")
                    } else {
                        #expect(got?.count == kept.count && got?.sum == kept.reduce(0, &+), "width \(width), n \(n), density \(density): \(String(describing: got))")
                    }
                }
            }
        }
    }

    /// A sparse block's values summed where a dictionary block of the same rows equals some constants (or none of
    /// them) equal summing the rows by hand: one to three constants passing or failing, every entry passing, none,
    /// a constant absent. A text block storing NULLs, more entries passing and failing than a few, or values not
    /// stored sparse give nil (the caller's other paths); a footer count the bitmap disagrees with, or text and
    /// values of other row counts, are damage.
    @Test func sumsWhereTextMatchesEqualTheRows() throws {
        var rng = FixtureRandom(seed: 0x7A11)
        let words = ["web", "app", "pos", "email", "crm"]
        for rows in [64, 100, 2048, 5000] {
            let texts = (0..<rows).map { _ in words[Int(rng.next() % 5)] }
            let values: [Int64?] = (0..<rows).map { i in rng.next() % 5 == 0 || i == 0 ? Int64(rng.next() % 7) + 1 : nil }
            var tb = ColumnBuilder(.varchar, capacity: rows)
            for t in texts { tb.append(string: t) }
            let text = BlockCodec.encode(tb.finish(), force: .dictionary, lz4: .never)
            var vb = ColumnBuilder(.bigint, capacity: rows)
            for x in values { vb.append(x.map(Value.bigint) ?? .null) }
            let column = vb.finish()
            let block = BlockCodec.encode(column, force: .verticalFrameOfReference, lz4: .never, sparse: .always)
            let valid = values.compactMap { $0 }.count
            for (constants, passes) in [(["web"], true), (["web"], false), (["web", "pos", "crm"], true), (["nope"], true), (["nope"], false), (words, true)] {
                let got = try block.bytes.withUnsafeBytes { v in
                    try text.bytes.withUnsafeBytes { t in
                        try BlockCodec.sumWhereTextMatches(
                            values: v, type: .bigint, valid: valid, text: t, constants: constants.map { Array($0.utf8) }, passes: passes)
                    }
                }
                let kept = (0..<rows).compactMap { i in constants.contains(texts[i]) == passes ? values[i] : nil }
                #expect(got?.count == kept.count && got?.sum == kept.reduce(0, +), "rows \(rows), \(constants), passes \(passes): \(String(describing: got))")
            }
            // Other forms: nil.
            func sum(_ v: [UInt8], _ t: [UInt8], valid: Int, _ constants: [String] = ["web"]) throws -> (count: Int, sum: Int64)? {
                try v.withUnsafeBytes { v in
                    try t.withUnsafeBytes { t in
                        try BlockCodec.sumWhereTextMatches(values: v, type: .bigint, valid: valid, text: t, constants: constants.map { Array($0.utf8) }, passes: true)
                    }
                }
            }
            let dense = BlockCodec.encode(column, force: .verticalFrameOfReference, lz4: .never, sparse: .never)
            #expect(try sum(dense.bytes, text.bytes, valid: valid) == nil, "values stored per row")
            var nb = ColumnBuilder(.varchar, capacity: rows)
            for (i, t) in texts.enumerated() { nb.append(string: i % 3 == 0 ? nil : t) }
            let withNulls = BlockCodec.encode(nb.finish(), force: .dictionary, lz4: .never, sparse: .never)
            #expect(try sum(block.bytes, withNulls.bytes, valid: valid) == nil, "text storing NULL rows")
            var many = ColumnBuilder(.varchar, capacity: rows)
            for i in 0..<rows { many.append(string: "v\(i % 40)") }
            let manyBlock = BlockCodec.encode(many.finish(), force: .dictionary, lz4: .never)
            if rows >= 40 {
                #expect(try sum(block.bytes, manyBlock.bytes, valid: valid, (0..<20).map { "v\($0)" }) == nil, "20 of 40 entries pass")
            }
            #expect(throws: StorageError.self, "rows \(rows): a footer count the bitmap disagrees with") {
                try sum(block.bytes, text.bytes, valid: valid + 1)
            }
            var shorter = ColumnBuilder(.varchar, capacity: rows + 1)
            for t in texts + ["web"] { shorter.append(string: t) }
            #expect(throws: StorageError.self, "rows \(rows): text of another row count") {
                try sum(block.bytes, BlockCodec.encode(shorter.finish(), force: .dictionary, lz4: .never).bytes, valid: valid)
            }
        }
    }

    /// Sums over blocks of the widest code only, at every width: the most a lane's eight-row sum can hold (where a
    /// sum carries its count above the codes, the count must not run into them, nor the sum past 32 bits).
    @Test func verticalSumsOfTheWidestCodes() throws {
        let codec = VerticalFrameOfReferenceCodec()
        for width in 1...32 {
            let top = Int64((UInt64(1) << UInt64(width)) &- 1)
            let n = 1029
            // One zero, so the codes take the whole width (the frame of reference is the smallest value).
            let values = (0..<n).map { i in i == 700 ? 0 : i % 2 == 0 || width < 3 ? top : top - 3 }
            let v = Chunk(schema: Schema([Field("x", .bigint)]), rows: values.map { [.bigint($0)] }).columns[0]
            var w = ByteWriter()
            codec.encode(v, into: &w)
            try w.bytes.withUnsafeBytes { payload in
                for (lo, hi) in [(top, top), (0, top), (top - 1, Int64.max), (Int64.min, top - 3), (1, top - 1)] {
                    let kept = values.filter { $0 >= lo && $0 <= hi }
                    for constantWidth in [true, false] {
                        let summed = try codec.sumInRange(payload, count: n, lo: lo, hi: hi, constantWidth: constantWidth)
                        #expect(summed.count == kept.count && summed.sum == kept.reduce(0, &+),
                                "width \(width), \(lo)...\(hi), constant width \(constantWidth): \(summed)")
                    }
                }
            }
        }
    }

    @Test func verticalFrameOfReferenceAtEveryWidth() throws {
        var rng = FixtureRandom(seed: 0x7E47)
        let codec = VerticalFrameOfReferenceCodec()
        for width in 0...32 {
            let mask: UInt64 = (1 << UInt64(width)) &- 1
            for n in [1, 127, 128, 129, 256, 512, 1000, 1152] {
                let reference = Int64(rng.next() % 1_000_000) - 500_000
                let values = (0..<n).map { i in reference + Int64(i % 9 == 0 ? mask : rng.next() & mask) }
                for type in [LogicalType.bigint, .integer] where type == .bigint || width < 31 {
                    let v = Chunk(schema: Schema([Field("x", type)]), rows: values.map { [type == .bigint ? .bigint($0) : .integer(Int32($0))] }).columns[0]
                    #expect(codec.estimateSize(v) == FrameOfReferenceCodec().estimateSize(v), "sizes equal at width \(width)")
                    var w = ByteWriter()
                    codec.encode(v, into: &w)
                    #expect(w.count == codec.estimateSize(v))
                    try w.bytes.withUnsafeBytes { payload in
                        let whole = ColumnVector(type: type, count: n, values: try codec.decode(payload, type: type, count: n, owner: nil).values)
                        #expect(sameValues(whole.allValues, v.allValues), "width \(width) n \(n) \(type)")
                        // Most rows (unpacked whole and gathered) and few (each read where it lies).
                        let most: [Int32] = (0..<n).filter { $0 % 5 != 2 }.map { Int32($0) }
                        let few: [Int32] = (0..<n).filter { $0 % 7 == 3 }.map { Int32($0) }
                        for rows in [most, few] {
                            let part = try rows.withUnsafeBufferPointer { try codec.decode(payload, type: type, count: n, rows: $0, owner: nil) }
                            let picked = ColumnVector(type: type, count: rows.count, values: part.values)
                            #expect(sameValues(picked.allValues, rows.map { v.value(at: Int($0)) }), "\(rows.count) rows, width \(width) n \(n)")
                        }
                        // Three random ranges, then the whole code range (at width 32 a span past 2^31, where a signed
                        // compare that was not moved by 2^31 would fail), one value, and ranges open above (`amount >
                        // 100`, summed on one side) and below.
                        let edges = [
                            (values.min()!, values.max()!), (values[n / 2], values[n / 2]), (values[n / 3], Int64.max),
                            (values[n / 3] &+ 1, values.max()!), (Int64.min, values[n / 3]),
                        ]
                        for k in 0..<8 {
                            let a = values.randomElement(using: &rng)!, b = values.randomElement(using: &rng)!
                            let (lo, hi) = k < 3 ? (min(a, b), max(a, b)) : edges[k - 3]
                            let expected = values.filter { $0 >= lo && $0 <= hi }.count
                            #expect(try codec.countInRange(payload, count: n, lo: lo, hi: hi) == expected)
                            // The sum of those values on the codes (lanes widened before they overflow, at widths
                            // past 24 within these blocks).
                            let sum = values.filter { $0 >= lo && $0 <= hi }.reduce(Int64(0), &+)
                            for constantWidth in [true, false] {
                                let summed = try codec.sumInRange(payload, count: n, lo: lo, hi: hi, constantWidth: constantWidth)
                                #expect(summed.count == expected && summed.sum == sum, "sum, width \(width) n \(n) \(type) constant width \(constantWidth)")
                            }
                            // Both kernels, whichever this build picks: the one compiled per width and the loop.
                            for constantWidth in [true, false] {
                                #expect(try codec.countInRange(payload, count: n, lo: lo, hi: hi, constantWidth: constantWidth) == expected,
                                        "width \(width) n \(n) constant width \(constantWidth)")
                            }
                        }
                    }
                }
            }
        }
    }

    @Test func aSelectedRowBeyondTheBlockIsReportedAsDamage() throws {
        let v = VectorFixtures.vector(.bigint, count: 100, shape: .random, nulls: .none, seed: 5)
        let block = BlockCodec.encode(v, force: .frameOfReference, lz4: .never)
        for rows: [Int32] in [[3, 100], [-1, 3]] {
            #expect(throws: StorageError.self) {
                try block.bytes.withUnsafeBytes { bytes in
                    try rows.withUnsafeBufferPointer { try BlockCodec.decode(bytes, type: .bigint, owner: nil, rows: $0) }
                }
            }
        }
    }

    /// Plain VARCHAR written from chosen rows (a dictionary's entries) is byte for byte what a gathered copy of
    /// those rows encodes to, repeated and empty strings included.
    @Test func plainStringsFromRowsEqualAGatheredCopy() {
        var rng = FixtureRandom(seed: 0xD1C7)
        var b = ColumnBuilder(.varchar)
        for _ in 0..<300 { b.append(string: String(repeating: "é", count: Int(rng.next() % 9))) }
        let v = b.finish()
        for rows: [Int32] in [[], [0], [299, 0, 5, 5], (0..<300).map { Int32($0) }, (0..<40).map { _ in Int32(rng.next() % 300) }] {
            var direct = ByteWriter(), gathered = ByteWriter()
            PlainCodec().encode(strings: v, rows: rows, into: &direct)
            PlainCodec().encode(Gather.rows(v, rows), into: &gathered)
            #expect(direct.bytes == gathered.bytes, "rows \(rows.prefix(5))")
        }
    }

    /// Row flags of a dictionary block are its entries' flags through the row codes, 0 for NULL rows; a code past
    /// the entries (damage the checksum missed) is an error, not a wrong answer or a trap.
    @Test func dictionaryFlagsFollowTheCodes() throws {
        let texts: [String?] = (0..<300).map { i in i % 11 == 4 ? nil : ["view", "cart", "buy"][(i * 7) % 3] }
        var b = ColumnBuilder(.varchar, capacity: texts.count)
        for t in texts { b.append(string: t) }
        let column = b.finish()
        let want: [UInt8] = texts.map { $0 == "cart" || $0 == "buy" ? 1 : 0 }
        for sparse in [BlockCodec.SparsePolicy.never, .always] {
            let block = BlockCodec.encode(column, force: .dictionary, lz4: .never, sparse: sparse)
            #expect(block.flags.contains(.sparse) == (sparse == .always))
            let got = try block.bytes.withUnsafeBytes { bytes in
                try BlockCodec.decodeDictionaryFlags(bytes, type: .varchar, owner: nil) { entries in
                    (0..<entries.count).map { k in entries.value(at: k) == .varchar("view") ? 0 : 1 }
                }
            }
            #expect(got == want, "\(sparse)")
            // At chosen rows (NULL rows among them, the last row, every third row): the same flags picked there.
            let rows = (0..<texts.count).filter { $0 % 3 == 1 || $0 == texts.count - 1 || $0 == 4 }.map(Int32.init)
            let atRows = try block.bytes.withUnsafeBytes { bytes in
                try rows.withUnsafeBufferPointer { at in
                    try BlockCodec.decodeDictionaryFlags(bytes, type: .varchar, owner: nil, rows: at) { entries in
                        (0..<entries.count).map { k in entries.value(at: k) == .varchar("view") ? 0 : 1 }
                    }
                }
            }
            #expect(atRows == rows.map { want[Int($0)] }, "\(sparse), at rows")
            // The same rows as a bitmap's set bits, 64 rows at a time from the marks of the few entries that pass
            // (`IN ('cart', 'buy')`) or the one that fails (`<> 'view'`), for the sparse block.
            var bits = [UInt64](repeating: 0, count: (texts.count + 63) / 64)
            for r in rows { bits[Int(r) >> 6] |= 1 << UInt64(r & 63) }
            for passing in [["cart", "buy"], ["view"]] {
                let fromBits = try block.bytes.withUnsafeBytes { bytes in
                    try bits.withUnsafeBufferPointer { b in
                        try BlockCodec.decodeDictionaryFlags(bytes, type: .varchar, owner: nil, atSetBitsOf: b.baseAddress!, rows: texts.count, valid: rows.count, byGroups: true) { entries in
                            (0..<entries.count).map { k in
                                let hit = passing.contains { entries.value(at: k) == .varchar($0) }
                                return (hit == (passing.count == 2)) ? 1 : 0
                            }
                        }
                    }
                }
                // A block storing codes for its NULL rows is left to the row list (nil).
                #expect(fromBits == (sparse == .always ? rows.map { want[Int($0)] } : nil), "\(sparse), from a bitmap, \(passing)")
            }
            // A bitmap over another number of rows than the block holds is damage, not a read past either.
            #expect(throws: StorageError.self, "\(sparse): a bitmap of another row count") {
                try block.bytes.withUnsafeBytes { bytes in
                    try bits.withUnsafeBufferPointer { b in
                        try BlockCodec.decodeDictionaryFlags(
                            bytes, type: .varchar, owner: nil, atSetBitsOf: b.baseAddress!, rows: texts.count - 1, valid: rows.count, byGroups: true
                        ) { [UInt8](repeating: 1, count: $0.count) }
                    }
                }
            }
            #expect(throws: StorageError.self, "\(sparse): a row past the block") {
                try block.bytes.withUnsafeBytes { bytes in
                    try [Int32(3), Int32(texts.count)].withUnsafeBufferPointer { at in
                        try BlockCodec.decodeDictionaryFlags(bytes, type: .varchar, owner: nil, rows: at) { [UInt8](repeating: 1, count: $0.count) }
                    }
                }
            }
        }
        // Codes are packed at the end of an uncompressed dictionary block, then zero padding to 8 bytes: with three
        // entries (2-bit codes, no NULLs) all ones in the last bytes is code 3, past the entries.
        var three = ColumnBuilder(.varchar, capacity: 300)
        for i in 0..<300 { three.append(string: ["view", "cart", "buy"][(i * 7) % 3]) }
        var damaged = BlockCodec.encode(three.finish(), force: .dictionary, lz4: .never).bytes
        for k in (damaged.count - 8)..<damaged.count { damaged[k] = 0xFF }
        #expect(throws: StorageError.self) {
            try damaged.withUnsafeBytes { bytes in
                try BlockCodec.decodeDictionaryFlags(bytes, type: .varchar, owner: nil) { entries in [UInt8](repeating: 1, count: entries.count) }
            }
        }
    }

    /// A dictionary block's count of rows equal in bytes to one of some constants (or to none), judged on its entries
    /// where the block holds them, equals counting the texts: entries that are prefixes of each other, empty and
    /// multi-byte, constants absent or repeated, one to many of them, dense and sparse blocks. A block storing codes
    /// for its NULL rows is left to other paths (nil); entry offsets out of order or range are damage.
    @Test func dictionaryMatchesCountAsTheTexts() throws {
        var rng = FixtureRandom(seed: 0xC0DE)
        let words = ["web", "we", "webs", "", "café", "app", "w"]
        for n in [1, 63, 64, 300, 4099] {
            for nulls in [false, true] {
                let texts: [String?] = (0..<n).map { i in nulls && i % 5 != 2 ? nil : words[Int(rng.next() % UInt64(words.count - (i % 3 == 0 ? 0 : 3)))] }
                var b = ColumnBuilder(.varchar, capacity: n)
                for t in texts { b.append(string: t) }
                let column = b.finish()
                for sparse in [BlockCodec.SparsePolicy.never, .always] {
                    let block = BlockCodec.encode(column, force: .dictionary, lz4: .never, sparse: sparse)
                    let valid = texts.filter { $0 != nil }.count
                    for constants in [["web"], ["we", "web"], [""], ["nope"], ["café", "w", "app", "webs", "web"], ["web", "web"]] {
                        for passes in [true, false] {
                            let got = try block.bytes.withUnsafeBytes { bytes in
                                try BlockCodec.countDictionaryMatches(
                                    bytes, type: .varchar, owner: nil, valid: valid, constants: constants.map { Array($0.utf8) }, passes: passes)
                            }
                            let want = texts.filter { t in t.map { constants.contains($0) == passes } ?? false }.count
                            let stored = sparse == .always || !nulls
                            #expect(got == (stored ? want : nil), "n \(n), nulls \(nulls), \(sparse), \(constants), passes \(passes)")
                        }
                    }
                }
            }
        }
        // Entry offsets: the second beyond the bytes, or below the first.
        var three = ColumnBuilder(.varchar, capacity: 300)
        for i in 0..<300 { three.append(string: ["view", "cart", "buy"][(i * 7) % 3]) }
        var w = ByteWriter()
        DictionaryCodec().encode(three.finish(), into: &w)
        for (at, value) in [(12, UInt32(1000)), (16, UInt32(2))] {
            var damaged = w.bytes
            withUnsafeBytes(of: value.littleEndian) { for k in 0..<4 { damaged[at + k] = $0[k] } }
            #expect(throws: StorageError.self, "offset at byte \(at) set to \(value)") {
                try damaged.withUnsafeBytes { try DictionaryCodec().countMatching($0, type: .varchar, count: 300, constants: [Array("buy".utf8)], passes: true) }
            }
        }
        #expect(try w.bytes.withUnsafeBytes { try DictionaryCodec().countMatching($0, type: .varchar, count: 300, constants: [Array("buy".utf8)], passes: true) } == 100)
    }

    @Test func estimateSizeIsExact() {
        for codec in Codecs.all {
            for type in LogicalType.allCases where codec.supports(type) {
                for shape in ValueShape.allCases {
                    let v = VectorFixtures.vector(type, count: 777, shape: shape, nulls: .none, seed: 9)
                    guard let estimate = codec.estimateSize(v) else { continue }
                    var w = ByteWriter()
                    codec.encode(v, into: &w)
                    #expect(estimate == w.count, "\(codec.name) \(type) \(shape)")
                }
            }
        }
    }

    /// Run-length's plan gives up on fixed-width values once its runs are too many to beat plain; the writer's choice
    /// stays the smallest exact size of all codecs, at run lengths around that break-even point for every width.
    @Test(arguments: [LogicalType.boolean, .integer, .bigint, .double, .timestamp])
    func runLengthsGivingUpKeepsTheSmallestChoice(type: LogicalType) {
        var rng = FixtureRandom(seed: 11)
        for meanRun in [1, 2, 3, 4, 5, 6, 8] {
            var rows: [[Value]] = []
            while rows.count < 4000 {
                let x = Int64(rng.next() % 1_000_000)
                let value: Value = switch type {
                case .boolean: .boolean(x & 1 == 1)
                case .integer: .integer(Int32(x))
                case .double: .double(Double(x) / 8)
                case .timestamp: .timestamp(x)
                default: .bigint(x)
                }
                let run = 1 + Int(rng.next() % UInt64(2 * meanRun - 1))
                rows.append(contentsOf: repeatElement([value], count: run))
            }
            let v = Chunk(schema: Schema([Field("x", type)]), rows: rows).columns[0]
            let sizes = Codecs.all.filter { $0.supports(type) }.compactMap { c in c.estimateSize(v).map { (c.id, $0) } }
            let smallest = sizes.map(\.1).min()!
            let chosen = BlockCodec.encode(v, lz4: .never).codec
            #expect(sizes.first { $0.0 == chosen }?.1 == smallest, "\(type), runs of \(meanRun) on average")
            if RunLengthCodec().plan(v) == nil {
                #expect(RunLengthCodec().estimateSize(v)! > PlainCodec().estimateSize(v)!)
            }
        }
    }

    /// Long texts, mostly distinct but some repeated (an events block's properties): a dictionary keeps nearly all
    /// their bytes, LZ4 on the plain text a fraction, and the block is stored in the smaller form (plain with LZ4). A
    /// column of a few repeated names keeps its dictionary. Both decode to their values.
    @Test func mostlyDistinctTextIsCompressedRatherThanDictionaryCoded() throws {
        var rng = FixtureRandom(seed: 0x7E47)
        var texts: [Value] = []
        for i in 0..<3000 {
            // Every fifth row repeats an earlier row at a random place (so the dictionary's sample sees repeats).
            let n = i % 5 == 0 && i > 0 ? Int(rng.next() % UInt64(i)) : i
            let words = ["shoes", "shirts", "Home Page", "/checkout", "USD", "EUR"]
            texts.append(.varchar(#"{"timestamp":"2026-03-01T10:\#(n % 60):00.000Z","properties":{"path":"\#(words[n % 6])","n":\#(n),"r":\#(n &* 7919 % 1000)}}"#))
        }
        let names = (0..<3000).map { _ in Value.varchar(["web", "mobile_app", "pos"][Int(rng.next() % 3)]) }
        for (column, expected) in [(texts, CodecID.plain), (names, .dictionary)] {
            let v = Chunk(schema: Schema([Field("t", .varchar)]), rows: column.map { [$0] }).columns[0]
            let block = BlockCodec.encode(v)
            #expect(block.codec == expected)
            if expected == .plain {
                #expect(block.flags.contains(.lz4))
                // The dictionary is what the raw sizes alone choose; stored, it is more than twice the LZ4 form.
                let sizes = Codecs.all.filter { $0.supports(.varchar) }.compactMap { c in c.plan(v).map { (c.id, $0.size) } }
                #expect(sizes.min { $0.1 < $1.1 }?.0 == .dictionary, "\(sizes)")
                let dictionary = BlockCodec.encode(v, force: .dictionary)
                #expect(dictionary.codec == .dictionary && !dictionary.flags.contains(.lz4))
                #expect(block.bytes.count * 2 < dictionary.bytes.count, "\(block.bytes.count) against \(dictionary.bytes.count)")
            }
            let back = try block.bytes.withUnsafeBytes { try BlockCodec.decode($0, type: .varchar, owner: nil) }
            #expect(sameValues(back.allValues, v.allValues))
        }
    }

    /// Whether a block's sample holds distinct values: all distinct texts say yes from 1,024 rows on (a smaller block
    /// is not sampled); a block where every value appears twice, or a few values repeat, says no.
    @Test func distinctTextsAreToldFromASample() {
        func vector(_ values: [String]) -> ColumnVector {
            Chunk(schema: Schema([Field("t", .varchar)]), rows: values.map { [.varchar($0)] }).columns[0]
        }
        var rng = FixtureRandom(seed: 0xD15C)
        for n in [1024, 2000, 8192, 20000] {
            // Pairs at random places (pairs next to each other escape a sample of rows apart, as the codec says).
            var order = Array(0..<n)
            for i in stride(from: n - 1, to: 0, by: -1) { order.swapAt(i, Int(rng.next() % UInt64(i + 1))) }
            #expect(DictionaryCodec.sampleIsDistinct(vector((0..<n).map { "value \($0)" })), "\(n)")
            #expect(!DictionaryCodec.sampleIsDistinct(vector(order.map { "value \($0 / 2)" })), "\(n) in pairs")
            #expect(!DictionaryCodec.sampleIsDistinct(vector((0..<n).map { "value \($0 % 50)" })), "\(n) of 50")
        }
        #expect(!DictionaryCodec.sampleIsDistinct(vector((0..<1000).map { "value \($0)" })))
    }

    /// A block mostly NULL stores its valid rows only when that is smaller (its form is chosen per block, not
    /// forced); a block with few NULLs is not tried that way. Both decode to the same values.
    @Test func sparseBlocksAreChosenWhenSmaller() throws {
        for nulls in [NullPattern.mostly, .all, .sparse] {
            let v = VectorFixtures.vector(.bigint, count: 5000, shape: .lowCardinality, nulls: nulls, seed: 3)
            let chosen = BlockCodec.encode(v, lz4: .never)
            let filled = BlockCodec.encode(v, lz4: .never, sparse: .never)
            if nulls == .sparse {
                #expect(!chosen.flags.contains(.sparse))
            } else {
                #expect(chosen.flags.contains(.sparse) && chosen.bytes.count < filled.bytes.count, "\(nulls)")
            }
            for block in [chosen, filled] {
                let back = try block.bytes.withUnsafeBytes { try BlockCodec.decode($0, type: .bigint, owner: nil) }
                #expect(sameValues(back.allValues, v.allValues))
            }
        }
    }

    /// `count(*) WHERE x op constant` on a frame-of-reference block counts the packed values in the range: the same
    /// count as decoding and testing every non-NULL row, for 32- and 64-bit types, NULL patterns stored sparse or
    /// without NULLs, and ranges inside, around, past and outside the values (type extremes included). A block
    /// keeping NULL slots is not counted that way.
    @Test func countingPackedValuesInARangeMatchesTestingEveryRow() throws {
        var rng = FixtureRandom(seed: 0xC0DE)
        var counted = 0
        for (codec, type) in [CodecID.frameOfReference, .verticalFrameOfReference].flatMap({ c in [LogicalType.integer, .bigint, .decimal, .timestamp].map { (c, $0) } }) {
            for shape in ValueShape.allCases {
                for nulls in [NullPattern.none, .mostly, .all, .alternate] {
                    for n in [0, 1, 9, 64, 1000, 4099] {
                        let v = VectorFixtures.vector(type, count: n, shape: shape, nulls: nulls, seed: rng.next())
                        let block = BlockCodec.encode(v, force: codec, lz4: .never, sparse: .always)
                        let values: [Int64] = v.allValues.compactMap {
                            switch $0 {
                            case .integer(let x): Int64(x)
                            case .bigint(let x), .decimal(let x), .timestamp(let x): x
                            default: nil
                            }
                        }
                        var bounds: [Int64] = [.min, .max, 0, -1, 1]
                        for _ in 0..<4 { if let x = values.randomElement(using: &rng) { bounds += [x, x &- 1, x &+ 1] } }
                        for _ in 0..<6 {
                            let a = bounds.randomElement(using: &rng)!, b = bounds.randomElement(using: &rng)!
                            let (lo, hi) = Bool.random(using: &rng) ? (min(a, b), max(a, b)) : (a, b)
                            let got = try block.bytes.withUnsafeBytes { try BlockCodec.countInRange($0, type: type, owner: nil, lo: lo, hi: hi) }
                            // Values wider than 32 bits do not fit the vertical layout; another codec takes them, and
                            // only the horizontal frame of reference counts in place.
                            if block.codec != .frameOfReference && block.codec != .verticalFrameOfReference {
                                #expect(codec == .verticalFrameOfReference && got == nil)
                                continue
                            }
                            #expect(got == values.filter { $0 >= lo && $0 <= hi }.count, "\(codec) \(block.codec) \(type) \(shape) \(nulls) n=\(n) \(lo)...\(hi)")
                            counted += 1
                        }
                        if v.nullCount > 0 {
                            let kept = BlockCodec.encode(v, force: codec, lz4: .never, sparse: .never)
                            #expect(try kept.bytes.withUnsafeBytes { try BlockCodec.countInRange($0, type: type, owner: nil, lo: 0, hi: 1) } == nil)
                        }
                    }
                }
            }
        }
        #expect(counted > 1000)
        // Every width, groups of eight and the tail, against unpacking.
        for width in 0...64 {
            let mask: UInt64 = width == 64 ? ~0 : (1 << UInt64(width)) &- 1
            for n in [1, 7, 8, 9, 63, 65, 1000] {
                let packed = (0..<n).map { i in i % 7 == 0 ? mask : rng.next() & mask }
                var w = ByteWriter()
                BitPacking.pack(count: n, width: width, into: &w) { packed[$0] }
                for _ in 0..<4 {
                    let a = packed.randomElement(using: &rng)!, b = rng.next() & mask
                    let (lo, hi) = (min(a, b), max(a, b))
                    let got = w.bytes.withUnsafeBytes { BitPacking.countInRange($0, count: n, width: width, lo: lo, span: hi - lo) }
                    #expect(got == packed.filter { $0 >= lo && $0 <= hi }.count, "width \(width) n \(n)")
                }
            }
        }
    }

    @Test func choosesTheSmallestEncoding() {
        let sortedTs = VectorFixtures.vector(.timestamp, count: 5000, shape: .sorted, nulls: .none, seed: 1)
        #expect(BlockCodec.encode(sortedTs, lz4: .never).codec == .delta)
        let runs = VectorFixtures.vector(.bigint, count: 5000, shape: .runs, nulls: .none, seed: 1)
        #expect(BlockCodec.encode(runs, lz4: .never).codec == .runLength)
        let channels = VectorFixtures.vector(.varchar, count: 5000, shape: .lowCardinality, nulls: .none, seed: 1)
        #expect(BlockCodec.encode(channels, lz4: .never).codec == .dictionary)
        let small = Chunk(schema: Schema([Field("q", .integer)]), rows: (0..<5000).map { [.integer(Int32($0 % 13 * 5 + 1000))] })
        #expect(BlockCodec.encode(small.columns[0], lz4: .never).codec == .verticalFrameOfReference)
        // Past 32 bits the horizontal layout holds what the vertical one cannot.
        let wide = Chunk(schema: Schema([Field("q", .bigint)]), rows: (0..<5000).map { [.bigint(Int64($0 % 13) << 40 + Int64($0))] })
        #expect(BlockCodec.encode(wide.columns[0], lz4: .never).codec == .frameOfReference)
    }

    /// LZ4 is tried on string payloads only by default: fixed-width payloads stay in the form scans decode fastest,
    /// even where LZ4 would have shrunk them (it does here: small run values in 8-byte slots, equal run lengths).
    @Test func lz4IsTriedOnStringPayloadsByDefault() throws {
        let amounts = Chunk(schema: Schema([Field("x", .bigint)]), rows: (0..<8000).map { [.bigint(Int64($0 / 64 % 50))] }).columns[0]
        let light = BlockCodec.encode(amounts)
        #expect(light.codec == .runLength && !light.flags.contains(.lz4))
        let squeezed = BlockCodec.encode(amounts, lz4: .everyPayload)
        #expect(squeezed.codec == .runLength && squeezed.flags.contains(.lz4) && squeezed.bytes.count < light.bytes.count)
        let text = Chunk(schema: Schema([Field("p", .varchar)]), rows: (0..<3000).map { [.varchar("{\"page\":\"/products/\($0)\",\"ref\":\"spring-campaign\"}")] }).columns[0]
        let strings = BlockCodec.encode(text)
        #expect(strings.codec == .plain && strings.flags.contains(.lz4))
        #expect(!BlockCodec.encode(text, lz4: .never).flags.contains(.lz4))
        // Both forms decode to the same values.
        for block in [light, squeezed] {
            let aligned = Buffer(copying: block.bytes)
            let decoded = try BlockCodec.decode(aligned.bytes, type: .bigint, owner: nil)
            #expect(sameValues(decoded.allValues, amounts.allValues))
        }
    }

    /// A block of nearly distinct strings (raw JSON properties where a few rows repeat) is not dictionary-coded: the
    /// sample finds no repeat, and plain with LZ4 is taken, several times smaller. Values that repeat still get one.
    @Test func nearlyDistinctStringsSkipTheDictionary() throws {
        func column(_ texts: [String]) -> ColumnVector {
            Chunk(schema: Schema([Field("p", .varchar)]), rows: texts.map { [.varchar($0)] }).columns[0]
        }
        // 10,000 rows, one in 200 a repeat of the row before (the sample, every ninth row, never holds both).
        let json = column((0..<10_000).map { i in
            let k = i % 200 == 199 ? i - 1 : i
            return "{\"page\":\"/products/\(k)\",\"ref\":\"spring-campaign\",\"session\":\"s-\(k * 7919 % 100_003)\"}"
        })
        #expect(DictionaryCodec.sampleIsDistinct(json))
        #expect(DictionaryCodec().plan(json) == nil)
        let block = BlockCodec.encode(json)
        #expect(block.codec != .dictionary && block.flags.contains(.lz4), "\(block.codec) \(block.flags)")
        #expect(block.bytes.count * 3 < json.rawByteCount, "\(block.bytes.count) of \(json.rawByteCount)")
        let aligned = Buffer(copying: block.bytes)
        let decoded = try BlockCodec.decode(aligned.bytes, type: .varchar, owner: aligned)
        #expect(sameValues(decoded.allValues, json.allValues))
        // Each value twice, shuffled: the sample sees repeats and the dictionary is planned.
        var rng = FixtureRandom(seed: 0xD1C7)
        let pairs = column((0..<10_000).map { "customer-\($0 / 2)" }.shuffled(using: &rng))
        #expect(!DictionaryCodec.sampleIsDistinct(pairs))
        #expect(DictionaryCodec().plan(pairs) != nil)
        // Small blocks are not sampled.
        #expect(!DictionaryCodec.sampleIsDistinct(column((0..<1000).map { "v\($0)" })))
    }

    @Test func zoneMapsOfDoubles() throws {
        let schema = Schema([Field("x", .double)])
        let plain = Chunk(schema: schema, rows: [[.double(2.5)], [.null], [.double(-1)]]).columns[0]
        #expect(BlockCodec.encode(plain).zone == .double(min: -1, max: 2.5))
        let withNaN = Chunk(schema: schema, rows: [[.double(2.5)], [.double(.nan)], [.double(-1)]]).columns[0]
        #expect(BlockCodec.encode(withNaN).zone == ZoneMap.none)
        let decoded = try BlockCodec.encode(withNaN).bytes.withUnsafeBytes { try BlockCodec.decode($0, type: .double, owner: nil) }
        #expect(decoded.withValues(Double.self) { $0[1].isNaN })
    }

    @Test func plainBlocksBorrowTheirPayload() throws {
        let v = VectorFixtures.vector(.bigint, count: 1000, shape: .random, nulls: .none, seed: 3)
        let block = BlockCodec.encode(v, force: .plain, lz4: .never)
        final class Owner {}
        let owner = Owner()
        let aligned = Buffer(copying: block.bytes)
        let decoded = try BlockCodec.decode(aligned.bytes, type: .bigint, owner: owner)
        // Zero copy: the decoded values point into the block's own bytes.
        #expect(decoded.values.base == aligned.base + BlockCodec.headerSize)
        #expect(sameValues(decoded.allValues, v.allValues))
    }

    /// Damaged blocks must throw a StorageError, never trap or return garbage silently.
    @Test(arguments: Codecs.all.map(\.id.rawValue))
    func corruptedBlocksThrowOrDecodeSafely(codecRaw: UInt8) {
        let codec = Codecs.byID[codecRaw]!
        var rng = FixtureRandom(seed: UInt64(codecRaw))
        for type in LogicalType.allCases where codec.supports(type) {
            let v = VectorFixtures.vector(type, count: 300, shape: .lowCardinality, nulls: .sparse, seed: 5)
            for (lz4, sparse) in [(false, false), (true, false), (false, true), (true, true)] {
                let good = Self.encode(v, codec, lz4: lz4, sparse: sparse).bytes
                for trial in 0..<200 {
                    var bad = good
                    if trial % 3 == 0 {
                        bad.removeLast(Int.random(in: 1...max(1, bad.count - 1), using: &rng))
                    } else {
                        for _ in 0..<(1 + trial % 4) {
                            bad[Int.random(in: 0..<bad.count, using: &rng)] ^= UInt8.random(in: 1...255, using: &rng)
                        }
                    }
                    // Either it throws, or it decodes to a well-formed vector (checksums catch the rest).
                    if let out = try? bad.withUnsafeBytes({ try BlockCodec.decode($0, type: type, owner: nil) }) {
                        _ = out.allValues
                    }
                    // Runs read in place (borrowed from the bytes) are checked as a whole decode is: lengths that
                    // do not cover the rows throw instead of reaching a kernel that trusts them.
                    final class Owner {}
                    let owner = Owner()
                    let aligned = Buffer(copying: bad)
                    _ = try? BlockCodec.countInRange(aligned.bytes, type: type, owner: owner, lo: -5, hi: 1 << 40)
                    // With the footer's count of valid rows (the header read in place for vfor), also a wrong one.
                    for valid in [v.count - v.nullCount, v.count, v.count + 1000] {
                        _ = try? BlockCodec.countInRange(aligned.bytes, type: type, owner: owner, lo: -5, hi: 1 << 40, valid: valid)
                    }
                    if let r = try? BlockCodec.decodeRuns(aligned.bytes, type: type, owner: owner) {
                        let lengths = r.lengths.typed(UInt32.self, count: r.runs)
                        #expect(!lengths.contains(0) && lengths.reduce(0) { $0 + Int($1) } == r.rows)
                    }
                }
            }
        }
    }
}
