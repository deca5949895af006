import Foundation
@testable import SeamColumnar
import SeamTestSupport
import Testing

@Suite struct ColumnarTests {
    @Test func civilDatesRoundTripAndMatchKnownDays() {
        #expect(Timestamp.days(year: 1970, month: 1, day: 1) == 0)
        #expect(Timestamp.days(year: 2000, month: 3, day: 1) == 11_017)
        #expect(Timestamp.days(year: 1969, month: 12, day: 31) == -1)
        for d in stride(from: Int64(-800_000), through: 800_000, by: 997) {
            let c = Timestamp.civil(days: d)
            #expect(Timestamp.days(year: c.year, month: c.month, day: c.day) == d)
        }
    }

    @Test func timestampsPrintAsDuckDBDoes() {
        #expect(Timestamp.format(Timestamp.micros(year: 2024, month: 2, day: 29, hour: 13, minute: 5, second: 9)) == "2024-02-29 13:05:09")
        #expect(Timestamp.format(Timestamp.micros(year: 2024, month: 1, day: 1, micro: 120_000)) == "2024-01-01 00:00:00.12")
        #expect(Timestamp.format(-1) == "1969-12-31 23:59:59.999999")
        #expect(Timestamp.iso8601(Timestamp.micros(year: 2025, month: 3, day: 14, hour: 15, minute: 2, second: 11, micro: 93_000)) == "2025-03-14T15:02:11.093Z")
    }

    /// Printed timestamps and dates parse back to themselves over 9999 BC ... 9999 AD (BC years as DuckDB prints them,
    /// `0044-03-15 (BC) 10:00:00`), and a minus sign reads an astronomical year (year 0 is 1 BC).
    @Test func timestampsAndDatesRoundTripThroughTextAcrossBC() {
        var rng = FixtureRandom(seed: 44)
        let first = Timestamp.micros(year: -9998, month: 1, day: 1), last = Timestamp.micros(year: 9999, month: 12, day: 31)
        for _ in 0..<5000 {
            let us = Int64.random(in: first...last, using: &rng)
            let text = Timestamp.format(us)
            #expect(ValueParsing.parse(text, ValueParsing.timestamp) == us, "\(text)")
            let day = Int32(Timestamp.day(ofMicros: us))
            #expect(ValueParsing.parse(Timestamp.formatDate(day), ValueParsing.date) == day, "\(Timestamp.formatDate(day))")
        }
        #expect(Timestamp.format(Timestamp.micros(year: 0, month: 12, day: 31, hour: 23, minute: 59, second: 59)) == "0001-12-31 (BC) 23:59:59")
        #expect(ValueParsing.parse("-0044-03-15", ValueParsing.date) == ValueParsing.parse("0045-03-15 (BC)", ValueParsing.date))
        #expect(ValueParsing.parse("0001-02-29 (BC)", ValueParsing.date) != nil)  // 1 BC is a leap year
        #expect(ValueParsing.parse("0002-02-29 (BC)", ValueParsing.date) == nil)
        #expect(ValueParsing.parse("0000-01-01 (BC)", ValueParsing.date) == nil)
        #expect(ValueParsing.parse("-0044-03-15 (BC)", ValueParsing.date) == nil)
    }

    @Test func decimalsPrintExactly() {
        #expect(Decimal2.format(12_345) == "123.45")
        #expect(Decimal2.format(-5) == "-0.05")
        #expect(Decimal2.format(0) == "0.00")
        #expect(Decimal2.format(Int64.min) == "-92233720368547758.08")
    }

    /// A vector's raw size counts the text of its valid rows only, whatever entry a NULL row's code names, and is
    /// the same in dictionary form as in plain form.
    @Test func rawSizeOfDictionaryTextCountsValidRowsOnly() {
        var entries = ColumnBuilder(.varchar)
        for t in ["", "checkout", "a-rather-long-campaign-name"] { entries.append(string: t) }
        let codes: [UInt32] = [1, 2, 2, 0, 1, 2]
        let valid = [true, false, true, true, false, true]
        let validity = Buffer(byteCount: 8) { raw in
            var bits: UInt64 = 0
            for (i, v) in valid.enumerated() where v { bits |= 1 << UInt64(i) }
            raw.storeBytes(of: bits, as: UInt64.self)
        }
        let coded = ColumnVector(codes: Buffer(copying: codes), entries: entries.finish(), count: 6, validity: validity)
        var plain = ColumnBuilder(.varchar)
        for t in ["checkout", nil, "a-rather-long-campaign-name", "", nil, "a-rather-long-campaign-name"] { plain.append(string: t) }
        let flat = plain.finish()
        #expect(coded.rawByteCount == flat.rawByteCount)
        #expect(coded.rawByteCount == 8 + 27 + 0 + 27 + 7 * 4 + 8)
    }

    /// Quoted JSON strings read back as the text they quote (Foundation's parser), over escapes, control
    /// characters, non-ASCII text and runs between them; the plain text stays as it is between the quotes.
    @Test func quotedJSONStringsReadBack() throws {
        var rng = FixtureRandom(seed: 0x4A53)
        let alphabet: [String] = ["a", "Z", " ", "\"", "\\", "\n", "\r", "\t", "\u{01}", "\u{1F}", "/", "é", "日本", "👍", "{}", ":"]
        var samples = ["", "plain text", "\"", "\\\\", "a\u{0}b"]
        for _ in 0..<500 { samples.append((0..<Int(rng.next() % 12)).map { _ in alphabet[Int(rng.next() % UInt64(alphabet.count))] }.joined()) }
        for s in samples {
            var out: [UInt8] = []
            JSONText.appendQuoted(s, to: &out)
            let back = try JSONSerialization.jsonObject(with: Data(out), options: [.fragmentsAllowed]) as? String
            #expect(back == s, "\(String(decoding: out, as: UTF8.self))")
            #expect(JSONText.quoted(s) == String(decoding: out, as: UTF8.self))
        }
        #expect(JSONText.quoted("plain text") == "\"plain text\"")
        #expect(JSONText.quoted("a\"b\\c\n\u{01}") == #""a\"b\\c\n\u0001""#)
    }

    /// A builder is a value: a copy appended to (values, texts, NULLs, a validity bit set in a shared word) leaves
    /// the original as it was, and each grows past its reserved room on its own.
    @Test func builderCopiesAreIndependent() {
        for type in [LogicalType.bigint, .integer, .boolean, .double, .varchar] {
            func value(_ i: Int) -> Value {
                switch type {
                case .bigint: .bigint(Int64(i) * 1_000_003)
                case .integer: .integer(Int32(i))
                case .boolean: .boolean(i % 3 == 0)
                case .double: .double(Double(i) / 4)
                default: .varchar(String(repeating: "x", count: i % 40) + "\(i)")
                }
            }
            // Room for everything up front (copies that shared memory would write over each other), then none.
            for (rows, bytes) in [(1000, 100_000), (4, 8)] {
                var a = ColumnBuilder(type, capacity: rows, byteCapacity: bytes)
                for i in 0..<70 { if i % 7 == 3 { a.appendNull() } else { a.append(value(i)) } }
                var b = a
                b.append(value(70))  // row 70: a value, and a bit set in the validity word a shares so far
                a.appendNull()
                a.append(value(1000))
                for i in 71..<300 { if i % 5 == 0 { b.appendNull() } else { b.append(value(i)) } }
                let av = a.finish(), bv = b.finish()
                #expect(av.count == 72 && bv.count == 300)
                for i in 0..<70 {
                    let expected = i % 7 == 3 ? Value.null : value(i)
                    #expect(av.value(at: i) == expected && bv.value(at: i) == expected, "\(type) row \(i)")
                }
                #expect(av.value(at: 70) == .null && av.value(at: 71) == value(1000), "\(type)")
                #expect(bv.value(at: 70) == value(70), "\(type) room for \(rows)")
                for i in 71..<300 { #expect(bv.value(at: i) == (i % 5 == 0 ? Value.null : value(i)), "\(type) row \(i)") }
            }
        }
    }

    @Test func builderRecordsNullsAndValues() {
        var b = ColumnBuilder(.varchar)
        b.append(string: "Zoë")
        b.appendNull()
        b.append(string: "")
        let v = b.finish()
        #expect(v.count == 3 && v.nullCount == 1)
        #expect(v.allValues == [.varchar("Zoë"), .null, .varchar("")])
        var i = ColumnBuilder(.integer)
        for k in 0..<130 { i.append(int32: Int32(k)) }
        #expect(i.finish().validity == nil)
        // The first null after 0, 1, 63, 64, 65 or 130 values: the rows before it stay valid, later ones follow.
        for before in [0, 1, 63, 64, 65, 130] {
            var c = ColumnBuilder(.bigint)
            for k in 0..<before { c.append(int64: Int64(k)) }
            c.appendNull()
            for k in 0..<70 { if k % 3 == 0 { c.appendNull() } else { c.append(int64: Int64(k)) } }
            let v = c.finish()
            let expected = (0..<before).map { _ in false } + [true] + (0..<70).map { $0 % 3 == 0 }
            #expect((0..<v.count).map { v.isNull($0) } == expected, "\(before) values first")
            #expect(v.nullCount == expected.filter { $0 }.count)
        }
    }

    @Test func stringSpansOrderAndEqualityAgreeWithTheStandardLibrary() {
        // Short and long strings, shared prefixes, bytes above 0x7F: the word-at-a-time compare must say what
        // lexicographicallyPrecedes and == say, byte for byte.
        var rng = FixtureRandom(seed: 0x5EED)
        func next() -> UInt64 { rng.next() }
        var b = ColumnBuilder(.varchar)
        var all: [[UInt8]] = []
        for _ in 0..<600 {
            let length = Int(next() % 20)
            let alphabet: [UInt8] = [0x00, 0x41, 0x42, 0x7F, 0x80, 0xFF]
            let bytes = (0..<length).map { _ in alphabet[Int(next() % UInt64(alphabet.count))] }
            all.append(bytes)
            bytes.withUnsafeBytes { b.append(utf8: $0) }
        }
        let v = b.finish()
        let spans = StringSpans(v)
        var mismatches = 0
        for i in 0..<all.count {
            for j in stride(from: 0, to: all.count, by: 7) {
                if StringSpans.less(spans[i], spans[j]) != all[i].lexicographicallyPrecedes(all[j]) { mismatches += 1 }
                if spans.equal(i, j) != (all[i] == all[j]) { mismatches += 1 }
            }
        }
        #expect(mismatches == 0)
    }

    @Test func sqlTypeNames() {
        for t in LogicalType.allCases { #expect(LogicalType(sqlName: t.description) == t) }
        #expect(LogicalType(sqlName: "decimal(18, 2)") == .decimal)
        #expect(LogicalType(sqlName: "blob") == nil)
    }
}

/// Buffers past `LargePages.threshold` live in their own mappings, which are kept for reuse when freed: a reused
/// mapping must read as zeros again, like a fresh one.
@Suite struct LargeBufferTests {
    @Test func largeBuffersAreZeroedFilledAndReusedClean() {
        Buffer.keepFreedLargeBuffers()
        let n = LargePages.threshold + 12_345
        func allBytes(_ b: Buffer, equal v: UInt8) -> Bool { b.bytes.allSatisfy { $0 == v } }
        do {
            let first = Buffer(byteCount: n) { raw in
                #expect(raw.allSatisfy { $0 == 0 }, "a fresh large buffer reads as zeros")
                raw.initializeMemory(as: UInt8.self, repeating: 0xAB)
            }
            #expect(Int(bitPattern: first.base) % Buffer.alignment == 0)
            #expect(allBytes(first, equal: 0xAB))
        }
        if LargePages.cacheLimit >= n + LargePages.hugePage * 2 {
            #expect(LargePages.cachedBytes > 0, "the freed mapping is kept for reuse")
        }
        // Buffers freed concurrently by other tests may be reused here too; every one must come back zeroed.
        for _ in 0..<3 {
            let again = Buffer(byteCount: n) { raw in
                #expect(raw.allSatisfy { $0 == 0 }, "a reused large buffer reads as zeros")
                raw[n - 1] = 7
            }
            #expect(again.bytes[n - 1] == 7 && again.bytes[0] == 0)
        }
    }
}

/// The bitmap helpers the scans use for NULL rows agree with a bit-by-bit reading of the same words.
@Suite struct BitmapTests {
    @Test func rangeCountsAndClearingMatchBitByBit() {
        var rng = FixtureRandom(seed: 11)
        let words = (0..<5).map { _ in rng.next() }
        func bit(_ i: Int) -> Bool { (words[i >> 6] >> UInt64(i & 63)) & 1 == 1 }
        words.withUnsafeBufferPointer { w in
            for _ in 0..<500 {
                let a = Int(rng.next() % 320), b = Int(rng.next() % 320)
                let range = min(a, b)..<max(a, b)
                #expect(Bitmap.popCount(w.baseAddress!, in: range) == range.filter(bit).count, "\(range)")
            }
            // Lengths that end inside a byte and inside a word, as batches do.
            for count in [0, 5, 8, 61, 64, 203, 320] {
                var flags = (0..<count).map { _ in UInt8(rng.next() % 2) }
                let want = flags.enumerated().map { i, f in bit(i) ? f : 0 }
                flags.withUnsafeMutableBufferPointer { Bitmap.clearUnset($0, w.baseAddress!) }
                #expect(flags == want, "\(count) flags")
            }
        }
    }

    /// Gathering bits by row number (what picking rows does to validity) equals reading each row's bit; a negative
    /// row reads 0, no bitmap reads all set, and a range starting at a later word leaves the words before it alone.
    @Test func gatheringBitsByRowMatchesBitByBit() {
        var rng = FixtureRandom(seed: 12)
        let words = (0..<5).map { _ in rng.next() }
        func bit(_ i: Int) -> Bool { (words[i >> 6] >> UInt64(i & 63)) & 1 == 1 }
        let rows: [Int32] = (0..<200).map { _ in rng.next() % 7 == 0 ? -1 : Int32(rng.next() % 320) }
        for (source, range) in [(true, 0..<200), (false, 0..<200), (true, 128..<200), (false, 64..<131)] {
            var out = [UInt64](repeating: 0xDEAD, count: Bitmap.wordCount(200))
            let set = words.withUnsafeBufferPointer { w in
                rows.withUnsafeBufferPointer { r in
                    out.withUnsafeMutableBufferPointer { Bitmap.gather(source ? w.baseAddress! : nil, rows: r, range: range, into: $0.baseAddress!) }
                }
            }
            let want = range.map { i in rows[i] >= 0 && (!source || bit(Int(rows[i]))) }
            #expect(range.map { i in (out[i >> 6] >> UInt64(i & 63)) & 1 == 1 } == want, "\(source) \(range)")
            #expect(set == want.filter { $0 }.count)
            #expect(out[..<(range.lowerBound >> 6)].allSatisfy { $0 == 0xDEAD })
        }
    }
}
