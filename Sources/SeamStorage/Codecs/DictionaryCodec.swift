package import SeamColumnar
import SeamKernels
import Foundation

/// Dictionary for VARCHAR: each distinct string stored once, rows store bit-packed codes into it.
///
/// ```
/// | entries: u32 | width: u8 | pad: 3 | dictionary, plain-encoded (offsets + bytes) | pad to 8 |
/// | bit-packed codes, `width` bits each |
/// ```
/// The dictionary is in first-appearance order. Blocks with more than 2^16 distinct values are left to
/// other codecs: a dictionary that large no longer pays.
package struct DictionaryCodec: SelectiveCodec {
    package var id: CodecID { .dictionary }
    package var name: String { "dictionary" }
    package init() {}

    static let maxEntries = 1 << 16

    package func supports(_ type: LogicalType) -> Bool { type == .varchar }

    /// Codes in first-appearance order, and the row of each entry's first appearance; nil past `maxEntries`.
    /// An open-addressing table of entry numbers keyed by the bytes' hash: no String per row.
    func analyze(_ v: ColumnVector) -> (entries: [Int32], codes: [UInt32])? {
        let n = v.count
        var entries: [Int32] = []
        var codes = [UInt32](repeating: 0, count: n)
        guard n > 0 else { return (entries, codes) }
        let values = v.values, offsets = v.offsets!
        return withExtendedLifetime((values, offsets)) { () -> (entries: [Int32], codes: [UInt32])? in
            let base = values.base
            let offs = offsets.typed(UInt32.self, count: n + 1)
            var mask = 1023
            var slots = [Int32](repeating: -1, count: mask + 1)  // entry number, -1 when empty
            var hashes: [UInt64] = []  // per entry
            var ok = true
            codes.withUnsafeMutableBufferPointer { out in
                for i in 0..<n {
                    let start = Int(offs[i]), length = Int(offs[i + 1]) - start
                    // A row equal to the one before takes its code without hashing: blocks hold runs (a customer's
                    // events in a row, NULL slots filled alike), and hashing every row was 6 % of an ingest.
                    if i > 0 {
                        let before = Int(offs[i - 1])
                        if StringSpans.equal(UnsafeRawBufferPointer(start: base + before, count: start - before),
                            UnsafeRawBufferPointer(start: base + start, count: length))
                        {
                            out[i] = out[i - 1]
                            continue
                        }
                    }
                    let bytes = UnsafeRawBufferPointer(start: base + start, count: length)
                    let h = Hash64.tableHash(bytes)
                    var s = Int(truncatingIfNeeded: h) & mask
                    while true {
                        let e = Int(slots[s])
                        if e < 0 {
                            guard entries.count < DictionaryCodec.maxEntries else {
                                ok = false
                                return
                            }
                            slots[s] = Int32(entries.count)
                            out[i] = UInt32(entries.count)
                            entries.append(Int32(i))
                            hashes.append(h)
                            if entries.count * 2 > mask {  // grow: rehash the entries into twice the slots
                                mask = mask * 2 + 1
                                slots = [Int32](repeating: -1, count: mask + 1)
                                for (k, eh) in hashes.enumerated() {
                                    var t = Int(truncatingIfNeeded: eh) & mask
                                    while slots[t] >= 0 { t = (t + 1) & mask }
                                    slots[t] = Int32(k)
                                }
                            }
                            break
                        }
                        if hashes[e] == h {
                            let r = Int(entries[e]), rs = Int(offs[r]), rl = Int(offs[r + 1]) - rs
                            if rl == length && memcmp(base + rs, base + start, length) == 0 {
                                out[i] = UInt32(e)
                                break
                            }
                        }
                        s = (s + 1) & mask
                    }
                }
            }
            return ok ? (entries, codes) : nil
        }
    }

    /// Whether rows spread evenly over a block (1,024 of them, or an eighth of a block under 8,192 rows; blocks under
    /// 1,024 rows are not sampled) hold distinct values (by their hashes; a collision only makes the answer no); then
    /// the block gets no dictionary. What that can miss, by arithmetic: in a block of
    /// 65,536 rows where every value appears twice at random places, the sample holds about 8 repeated pairs and
    /// misses them all with a chance of e^-8 (0.03 %); with a tenth of the rows repeating a value from elsewhere it
    /// holds about 1.6 and misses them with a chance near 20 %, and such a block's dictionary saves at most a tenth of
    /// its text while costing a code per row. Repeats next to each other escape a sample one in 64 rows apart; LZ4
    /// (tried on plain text) and run-length coding take those. Ingest's message ids, raw properties and timestamps as
    /// text are nearly distinct, and hashing every row to find that out cost 4 % of an ingest's CPU time. A smaller
    /// block's eighth holds as many repeated pairs as that (n/8 rows of n where each value appears twice: about 8 at
    /// 1,024 rows) or more. Sampled from 8,192 rows only, the blocks of small segments (a month of a small batch) were
    /// analyzed in full, and their nearly distinct texts could take a dictionary (see `BlockCodec.encode`).
    static func sampleIsDistinct(_ v: ColumnVector) -> Bool {
        let n = v.count, sample = min(1024, n / 8)
        guard n >= 1024, let offsets = v.offsets else { return false }
        let stride = n / sample
        var hashes = [UInt64](repeating: 0, count: sample)
        withExtendedLifetime((v.values, offsets)) {
            let base = v.values.base
            let offs = offsets.typed(UInt32.self, count: n + 1)
            for k in 0..<sample {
                let i = k * stride, start = Int(offs[i])
                hashes[k] = Hash64.tableHash(UnsafeRawBufferPointer(start: base + start, count: Int(offs[i + 1]) - start))
            }
        }
        hashes.sort()
        for k in 1..<sample where hashes[k] == hashes[k - 1] { return false }
        return true
    }

    static func width(entries: Int) -> Int { entries <= 1 ? 0 : BitPacking.width(of: UInt64(entries - 1)) }

    package func estimateSize(_ v: ColumnVector) -> Int? { plan(v)?.size }

    package func encode(_ v: ColumnVector, into out: inout ByteWriter) { plan(v)!.write(&out) }

    package func plan(_ v: ColumnVector) -> EncodingPlan? {
        guard v.type == .varchar, !Self.sampleIsDistinct(v), let (entries, codes) = analyze(v) else { return nil }
        var dictBytes = 0
        for e in entries { dictBytes += v.stringBytes(Int(e)).count }
        let head = 8 + ((entries.count + 1) * 4 + dictBytes + 7) / 8 * 8
        let width = DictionaryCodec.width(entries: entries.count)
        return EncodingPlan(size: head + BitPacking.byteCount(count: v.count, width: width)) { out in
            out.u32(UInt32(entries.count))
            out.u8(UInt8(width))
            for _ in 0..<3 { out.u8(0) }
            PlainCodec().encode(strings: v, rows: entries, into: &out)
            out.pad(to: 8)
            codes.withUnsafeBufferPointer { c in BitPacking.pack(count: v.count, width: width, into: &out) { UInt64(c[$0]) } }
        }
    }

    /// The entries and the packed codes of a dictionary block, after checking its header. `owner`: what keeps
    /// `payload` alive; the entries then borrow its bytes where they are aligned (the flag and count paths, which use
    /// them only while they run, pass it: copying each block's entries was about 5 % of a dictionary count).
    private func parts(
        _ payload: UnsafeRawBufferPointer, type: LogicalType, count: Int, owner: AnyObject? = nil
    ) throws(StorageError) -> (entries: ColumnVector, packed: UnsafeRawBufferPointer, width: Int) {
        let l = try layout(payload, type: type, count: count)
        let dict = try PlainCodec().decode(l.dictionary, type: .varchar, count: l.entries, owner: owner)
        return (ColumnVector(type: .varchar, count: l.entries, values: dict.values, offsets: dict.offsets), l.packed, l.width)
    }

    /// Where a dictionary block's parts lie, after checking its header and sizes: the entry count, the code width,
    /// the plain-encoded entries (`entries + 1` offsets, then their bytes; not checked here) and the packed codes.
    private func layout(
        _ payload: UnsafeRawBufferPointer, type: LogicalType, count: Int
    ) throws(StorageError) -> (entries: Int, width: Int, dictionary: UnsafeRawBufferPointer, packed: UnsafeRawBufferPointer) {
        guard type == .varchar else { throw StorageError(.corrupt, "dictionary block for a \(type) column") }
        var r = ByteReader(payload)
        let entries = Int(try r.u32())
        let width = Int(try r.u8())
        _ = try r.slice(3)
        guard entries <= DictionaryCodec.maxEntries, width == DictionaryCodec.width(entries: entries) else {
            throw StorageError(.corrupt, "dictionary header is inconsistent (\(entries) entries, width \(width))")
        }
        let offsets = try r.slice((entries + 1) * 4)
        guard entries > 0 || count == 0 else { throw StorageError(.corrupt, "empty dictionary for \(count) rows") }
        let dictBytes = entries == 0 ? 0 : Int(offsets.loadUnaligned(fromByteOffset: entries * 4, as: UInt32.self))
        let bytesStart = r.position
        _ = try r.slice(dictBytes)
        let dictionary = UnsafeRawBufferPointer(rebasing: payload[(bytesStart - (entries + 1) * 4)..<(bytesStart + dictBytes)])
        try r.align(to: 8)
        let packed = try r.slice(BitPacking.byteCount(count: count, width: width))
        return (entries, width, dictionary, packed)
    }

    package func decode(
        _ payload: UnsafeRawBufferPointer, type: LogicalType, count: Int, owner: AnyObject?
    ) throws(StorageError) -> DecodedValues {
        let (entries, packed, width) = try parts(payload, type: type, count: count)
        // The block stays in dictionary form: codes plus the entries; the engine flattens it if it must.
        let codes = try codeBuffer(count, entries: entries.count) { c in
            BitPacking.unpack(packed, count: count, width: width, reference: 0, into: c)
        }
        return DecodedValues(codes: codes, entries: entries)
    }

    package func decode(
        _ payload: UnsafeRawBufferPointer, type: LogicalType, count: Int, rows: UnsafeBufferPointer<Int32>, owner: AnyObject?
    ) throws(StorageError) -> DecodedValues {
        let (entries, packed, width) = try parts(payload, type: type, count: count)
        let codes = try codeBuffer(rows.count, entries: entries.count) { c in
            BitPacking.unpack(packed, rows: rows, width: width, reference: 0, into: c)
        }
        return DecodedValues(codes: codes, entries: entries)
    }

    /// One flag per row: `entryFlags(entries)` (a flag per entry, computed once) looked up through each row's code
    /// as it is unpacked, so a predicate on a dictionary block costs one byte per row and no code buffer.
    package func flags(
        _ payload: UnsafeRawBufferPointer, type: LogicalType, count: Int, entryFlags: (ColumnVector) throws -> [UInt8]
    ) throws -> [UInt8] {
        // Every row's flag is written by the look-up: no zero fill first.
        try lookedUp(payload, type: type, count: count, capacity: count, rows: count, entryFlags) { packed, width, table, out in
            (count, BitPacking.lookUp(packed, count: count, width: width, table: table, into: out))
        }
    }

    /// The flags of the codes at `rows` (ascending indices below `count`), one per row: a predicate on the column
    /// decided at a few rows only (those where a sparse column it filters is valid).
    package func flags(
        _ payload: UnsafeRawBufferPointer, type: LogicalType, count: Int, rows: UnsafeBufferPointer<Int32>,
        entryFlags: (ColumnVector) throws -> [UInt8]
    ) throws -> [UInt8] {
        try lookedUp(payload, type: type, count: count, capacity: rows.count, rows: rows.count, entryFlags) { packed, width, table, out in
            (rows.count, BitPacking.lookUp(packed, rows: rows, width: width, table: table, into: out))
        }
    }

    /// The flags of the codes at the rows whose bit is set in `bits` (a bitmap over the block's `count` rows, set
    /// `valid` times), one per set bit in row order.
    package func flags(
        _ payload: UnsafeRawBufferPointer, type: LogicalType, count: Int, atSetBitsOf bits: UnsafePointer<UInt64>, valid: Int,
        owner: AnyObject? = nil, entryFlags: (ColumnVector) throws -> [UInt8]
    ) throws -> [UInt8] {
        // Room for every row and 32 bytes: a bitmap with more bits set than `valid` (damage) must not write past the
        // flags, and the marks path stores 32 flags for every 64 rows whatever number of them it keeps.
        try lookedUp(payload, type: type, count: count, capacity: count &+ 32, rows: valid, owner: owner, entryFlags, marks: { packed, width, few, out in
            // A few entries: the equal codes marked a word of codes at a time, then the flags read from the marks.
            Self.withMarks(packed, count: count, width: width, codes: few.codes) { marks in
                BitPacking.flags(atSetBitsOf: bits, rows: count, width: width, starts: marks, marked: few.passing, into: out)
            }
        }) { packed, width, table, out in
            BitPacking.lookUp(packed, atSetBitsOf: bits, rows: count, width: width, table: table, into: out)
        }
    }

    /// The flags of a sparse block's `stored` codes (one per row set in `storedValidity`, a bitmap over `rows`) at
    /// the rows set in `bits` (`valid` of them), one per set bit in row order, 0 where the block's row is NULL: from
    /// the marks of a few entries' codes (``fewEntries(_:width:)``), 64 rows at a time. nil when more entries pass
    /// and fail (the caller then lists the rows).
    package func flags(
        _ payload: UnsafeRawBufferPointer, type: LogicalType, stored: Int, rows: Int, storedValidity: UnsafePointer<UInt64>,
        atSetBitsOf bits: UnsafePointer<UInt64>, valid: Int, owner: AnyObject? = nil, entryFlags: (ColumnVector) throws -> [UInt8]
    ) throws -> [UInt8]? {
        let (entries, packed, width) = try parts(payload, type: type, count: stored, owner: owner)
        let perEntry = try entryFlags(entries)
        precondition(perEntry.count == entries.count, "one flag per dictionary entry")
        guard let few = Self.fewEntries(perEntry, width: width) else { return nil }
        guard valid > 0 else { return [] }
        let out = Self.withMarks(packed, count: stored, width: width, codes: few.codes) { marks in
            // Room for every row and 32 bytes (the flags are stored 32 at a time).
            [UInt8](unsafeUninitializedCapacity: rows &+ 32) { out, n in
                n = BitPacking.flags(
                    atSetBitsOf: bits, rows: rows, width: width, starts: marks, stored: stored, storedValidity: storedValidity,
                    marked: few.passing, into: out.baseAddress!)
            }
        }
        guard out.count == valid else { throw StorageError(.corrupt, "\(out.count) rows' codes read, not \(valid)") }
        return out
    }

    /// Flags through a block's entries: the table of ``flagTable(_:_:)``, and `look` writing `rows` flags (at most
    /// `capacity`) through it, returning how many it wrote and their OR. A code past the entries, or another number
    /// of flags, is damage.
    /// `marks`: when given and a few entries pass or fail (``fewEntries(_:width:)``), writes the flags from those
    /// entries' codes instead (returning how many), without the table.
    private func lookedUp(
        _ payload: UnsafeRawBufferPointer, type: LogicalType, count: Int, capacity: Int, rows: Int, owner: AnyObject? = nil,
        _ entryFlags: (ColumnVector) throws -> [UInt8],
        marks: ((UnsafeRawBufferPointer, Int, (codes: [UInt64], passing: Bool), UnsafeMutablePointer<UInt8>) -> Int)? = nil,
        _ look: (UnsafeRawBufferPointer, Int, UnsafePointer<UInt8>, UnsafeMutablePointer<UInt8>) -> (written: Int, seen: UInt8)
    ) throws -> [UInt8] {
        let (entries, packed, width) = try parts(payload, type: type, count: count, owner: owner)
        let perEntry = try entryFlags(entries)
        precondition(perEntry.count == entries.count, "one flag per dictionary entry")
        guard rows > 0 else { return [] }
        var r: (written: Int, seen: UInt8) = (0, 0)
        if let marks, let few = Self.fewEntries(perEntry, width: width) {
            let out = [UInt8](unsafeUninitializedCapacity: capacity) { out, n in
                r.written = marks(packed, width, few, out.baseAddress!)
                n = r.written
            }
            guard r.written == rows else { throw StorageError(.corrupt, "\(r.written) rows' codes read, not \(rows)") }
            return out
        }
        let table = Self.flagTable(perEntry, width)
        if width == 0 { return [UInt8](repeating: table[0], count: rows) }
        let out = table.withUnsafeBufferPointer { table in
            [UInt8](unsafeUninitializedCapacity: capacity) { out, n in
                r = look(packed, width, table.baseAddress!, out.baseAddress!)
                n = r.written
            }
        }
        if r.seen & 2 != 0 { throw StorageError(.corrupt, "a dictionary code is past the block's \(entries.count) entries") }
        guard r.written == rows else { throw StorageError(.corrupt, "\(r.written) rows' codes read, not \(rows)") }
        return out
    }

    /// When a few entries pass, or a few fail (`channel = 'web'`, `category IN ('books', 'toys')`, `channel <> 'web'`),
    /// the codes of the fewer side and whether they are the passing ones: their codes are then compared a word of
    /// codes at a time (``BitPacking/countEqual(_:count:width:values:)``). Each entry costs about `width - 1` shifts
    /// and ORs a word; past 8 of them the flag look-ups were faster (four 4-bit entries: 1.5 -> 2.0 ms over 10M
    /// events). nil otherwise. On that path a code past the entries, damage the block checksum missed, counts as
    /// failing (or passing) rather than being reported.
    static func fewEntries<C: Collection<UInt8>>(_ perEntry: C, width: Int) -> (codes: [UInt64], passing: Bool)? {
        guard width >= 1 && width <= 16 else { return nil }
        let passing = perEntry.reduce(0) { $0 &+ ($1 != 0 ? 1 : 0) }
        let fewer = min(passing, perEntry.count &- passing)
        guard fewer >= 1, fewer <= 4, fewer &* (width &- 1) <= 8 else { return nil }
        let side = passing <= perEntry.count &- passing
        var codes: [UInt64] = []
        codes.reserveCapacity(fewer)
        for (k, f) in perEntry.enumerated() where (f != 0) == side { codes.append(UInt64(k)) }
        return (codes, side)
    }

    /// The marks of `codes` among the `count` packed codes (``BitPacking/equalStarts(_:count:width:values:into:)``) in
    /// a temporary buffer laid out as ``BitPacking``'s flags from marks read it: the stream's words, then zeros up to
    /// `width` words for every 64 codes begun.
    private static func withMarks<R>(
        _ packed: UnsafeRawBufferPointer, count: Int, width: Int, codes: [UInt64], _ body: (UnsafePointer<UInt64>) -> R
    ) -> R {
        let words = (count &* width &+ 63) &>> 6, room = ((count &+ 63) &>> 6) &* width
        return withUnsafeTemporaryAllocation(of: UInt64.self, capacity: max(room, 1)) { marks in
            (marks.baseAddress! + words).initialize(repeating: 0, count: room &- words)
            if count > 0 { BitPacking.equalStarts(packed, count: count, width: width, values: codes, into: marks.baseAddress!) }
            return body(marks.baseAddress!)
        }
    }

    /// A flag (0 or 1) per code the width can hold, from the entries' flags; codes past the entries hold 2, found
    /// after the look-up as damage.
    private static func flagTable(_ perEntry: [UInt8], _ width: Int) -> [UInt8] {
        var table = [UInt8](repeating: 2, count: max(1 << width, perEntry.count))
        for (k, f) in perEntry.enumerated() { table[k] = f == 0 ? 0 : 1 }
        return table
    }

    /// How many of the block's `count` codes have their entry's flag set (`entryFlags(entries)`, a flag per entry
    /// computed once): a count under a predicate on the column with no flag per row kept, spread or selected.
    ///
    /// When one entry passes, its code is counted word-parallel (``BitPacking/countEqual``). Otherwise codes
    /// of up to 12 bits other than 1, 2, 4 and 8 are summed in chunks (``BitPacking/sumFlags``); those four
    /// widths take a flag per code a byte of codes at a time and a sum of the flags (measured faster at 4 bits:
    /// `event_type = 'purchase'` over 10M events 1.7 ms, 2.7 ms in chunks), and wider codes a flag per code.
    package func countFlagged(
        _ payload: UnsafeRawBufferPointer, type: LogicalType, count: Int, owner: AnyObject? = nil,
        entryFlags: (ColumnVector) throws -> [UInt8]
    ) throws -> Int {
        let (entries, packed, width) = try parts(payload, type: type, count: count, owner: owner)
        let perEntry = try entryFlags(entries)
        precondition(perEntry.count == entries.count, "one flag per dictionary entry")
        return try perEntry.withUnsafeBufferPointer { perEntry throws(StorageError) in
            try Self.countFlagged(packed, count: count, width: width, perEntry: perEntry)
        }
    }

    /// ``countFlagged(_:type:count:owner:entryFlags:)`` for the test "equal in bytes to one of `constants`" (`passes`)
    /// or "to none of them" (`!passes`): the entries judged where the block holds them, with no entries vector and no
    /// closure. Their offsets are checked as a plain decode checks them.
    package func countMatching(
        _ payload: UnsafeRawBufferPointer, type: LogicalType, count: Int, constants: [[UInt8]], passes: Bool
    ) throws(StorageError) -> Int {
        let l = try layout(payload, type: type, count: count)
        return try Self.matchingEntries(l.entries, l.dictionary, constants, passes) { perEntry throws(StorageError) in
            try Self.countFlagged(l.packed, count: count, width: l.width, perEntry: perEntry)
        }
    }

    /// The flags of the codes at the rows set in `bits` (a bitmap over the block's `count` rows, set `valid` times)
    /// as bits, bit `j` for the `j`-th set row (see ``BitPacking/flagBits(atSetBitsOf:rows:width:starts:marked:into:)``),
    /// under the test of ``countMatching(_:type:count:constants:passes:)``: `(valid + 63) / 64` words. nil when more
    /// than a few entries pass and fail (``fewEntries(_:width:)``).
    package func flagBits(
        _ payload: UnsafeRawBufferPointer, type: LogicalType, count: Int, atSetBitsOf bits: UnsafePointer<UInt64>, valid: Int,
        constants: [[UInt8]], passes: Bool
    ) throws(StorageError) -> [UInt64]? {
        let l = try layout(payload, type: type, count: count)
        let words = (valid &+ 63) &>> 6
        return try Self.matchingEntries(l.entries, l.dictionary, constants, passes) { perEntry throws(StorageError) -> [UInt64]? in
            let passing = perEntry.reduce(0) { $0 &+ ($1 != 0 ? 1 : 0) }
            if passing == 0 || passing == perEntry.count || l.width == 0 {
                // Every set row or none: whole words, then the last one's valid bits.
                let all = passing != 0
                var out = [UInt64](repeating: all ? ~0 : 0, count: words)
                if all, valid & 63 != 0 { out[words &- 1] = (1 << UInt64(valid & 63)) &- 1 }
                return out
            }
            guard let few = Self.fewEntries(perEntry, width: l.width) else { return nil }
            var written = 0
            let out = Self.withMarks(l.packed, count: count, width: l.width, codes: few.codes) { marks in
                [UInt64](unsafeUninitializedCapacity: words &+ 1) { out, n in
                    written = BitPacking.flagBits(atSetBitsOf: bits, rows: count, width: l.width, starts: marks, marked: few.passing, into: out.baseAddress!)
                    n = words
                }
            }
            guard written == valid else { throw StorageError(.corrupt, "\(written) rows' codes read, not \(valid)") }
            return out
        }
    }

    /// A flag per entry of a dictionary laid out as ``layout(_:type:count:)`` finds it (`entries + 1` offsets, then
    /// the bytes): 1 where its bytes equal one of `constants` and `passes`, or equal none and not `passes`. Judged in
    /// place; the offsets are checked as a plain decode checks them.
    private static func matchingEntries<R>(
        _ entries: Int, _ dictionary: UnsafeRawBufferPointer, _ constants: [[UInt8]], _ passes: Bool,
        _ body: (UnsafeBufferPointer<UInt8>) throws(StorageError) -> R
    ) throws(StorageError) -> R {
        let offsetBytes = (entries &+ 1) &* 4
        let bytes = UnsafeRawBufferPointer(rebasing: dictionary[offsetBytes...])
        return try withUnsafeTemporaryAllocation(of: UInt8.self, capacity: max(entries, 1)) { perEntry throws(StorageError) in
            var start = 0
            for k in 0..<entries {
                let end = Int(dictionary.loadUnaligned(fromByteOffset: (k &+ 1) &* 4, as: UInt32.self))
                guard (k > 0 || dictionary.loadUnaligned(as: UInt32.self) == 0), start <= end, end <= bytes.count else {
                    throw StorageError(.corrupt, "plain VARCHAR offset \(k) is out of order or range")
                }
                let matched = StringSpans.equalsAny(UnsafeRawBufferPointer(rebasing: bytes[start..<end]), constants)
                perEntry[k] = matched == passes ? 1 : 0
                start = end
            }
            guard start == bytes.count else { throw StorageError(.corrupt, "plain VARCHAR bytes do not match offsets") }
            return try body(UnsafeBufferPointer(rebasing: perEntry[..<entries]))
        }
    }

    /// How many of `count` packed codes have their entry's flag set in `perEntry`.
    private static func countFlagged(
        _ packed: UnsafeRawBufferPointer, count: Int, width: Int, perEntry: UnsafeBufferPointer<UInt8>
    ) throws(StorageError) -> Int {
        guard count > 0 else { return 0 }
        if width == 0 { return perEntry[0] == 0 ? 0 : count }
        let passing = perEntry.reduce(0) { $0 &+ ($1 != 0 ? 1 : 0) }
        if passing == 0 { return 0 }
        if passing == perEntry.count { return count }
        if let few = Self.fewEntries(perEntry, width: width) {
            let n = BitPacking.countEqual(packed, count: count, width: width, values: few.codes)
            return few.passing ? n : count &- n
        }
        let chunked = width <= 12 && 8 % width != 0
        // Codes past the entries are damage: their slots carry a mark instead of a flag.
        let damage: UInt8 = chunked ? 0x10 : 2
        var table = [UInt8](repeating: damage, count: max(1 << width, perEntry.count))
        for (k, f) in perEntry.enumerated() { table[k] = f == 0 ? 0 : 1 }
        let (sum, damaged) = table.withUnsafeBufferPointer { table -> (Int, Bool) in
            if chunked { return BitPacking.sumFlags(packed, count: count, width: width, table: table.baseAddress!) }
            return withUnsafeTemporaryAllocation(of: UInt8.self, capacity: count) { flags in
                let seen = BitPacking.lookUp(packed, count: count, width: width, table: table.baseAddress!, into: flags.baseAddress!)
                var n = 0
                for f in flags { n &+= Int(f) }
                return (n, seen & 2 != 0)
            }
        }
        if damaged { throw StorageError(.corrupt, "a dictionary code is past the block's \(perEntry.count) entries") }
        return sum
    }

    /// `n` codes written by `unpack`, each checked against the entry count (a damaged block must throw, not trap).
    private func codeBuffer(
        _ n: Int, entries: Int, _ unpack: (UnsafeMutablePointer<UInt32>) -> Void
    ) throws(StorageError) -> Buffer {
        var bad: UInt32? = nil
        let codes = Buffer(byteCount: n * 4) { raw in
            guard n > 0 else { return }
            let c = raw.bindMemory(to: UInt32.self)
            unpack(c.baseAddress!)
            var maxCode: UInt32 = 0
            for i in 0..<n { maxCode = max(maxCode, c[i]) }
            if Int(maxCode) >= entries { bad = maxCode }
        }
        if let bad { throw StorageError(.corrupt, "dictionary code \(bad) ≥ \(entries)") }
        return codes
    }
}
