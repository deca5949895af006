public import SeamColumnar
import SeamKernels

/// Flags of a stored block.
public struct BlockFlags: OptionSet, Sendable {
    public let rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }
    public static let lz4 = BlockFlags(rawValue: 1)
    public static let validity = BlockFlags(rawValue: 2)
}

/// The min/max of a block's valid values, for skipping blocks and segments.
public enum ZoneMap: Sendable, Equatable {
    case none
    case integer(min: Int64, max: Int64)
    case double(min: Double, max: Double)
    /// `max` is `nil` when the true maximum was longer than the stored prefix (no upper bound is known).
    case string(min: String, max: String?)

    static let stringPrefix = 64
}

/// One encoded block, ready to be written, and what the footer says of it.
public struct EncodedBlock: Sendable {
    public var bytes: [UInt8]
    public var rows: Int
    public var nulls: Int
    public var codec: CodecID
    public var flags: BlockFlags
    public var rawBytes: Int
    public var zone: ZoneMap
}

/// Encodes and decodes blocks.
///
/// Layout (little-endian; the block starts 64-byte aligned in the segment):
/// ```
/// 0  | codec: u8 | flags: u8 | reserved: u16 | rows: u32 |
/// 8  | validity bytes: u32 | stored payload bytes: u32 |
/// 16 | raw payload bytes: u32 | reserved: u32 |
/// 24 | validity bitmap (u64 words, when flags has validity) | payload (LZ4 when flags has lz4) |
/// ```
/// The block's CRC-32C is kept in the segment footer.
public enum BlockCodec {
    static let headerSize = 24
    /// The most rows a block may hold (the writer uses far fewer).
    static let maxRows = 1 << 22

    /// Encodes `vector`, choosing the codec with the smallest exact size, then LZ4 when `lz4` tries it and it pays.
    /// `force` pins the codec (tests, `force_codec`); it must support the type.
    public static func encode(_ vector: ColumnVector, force: CodecID? = nil, lz4: LZ4Block.Policy = .stringPayloads) -> EncodedBlock {
        let nulls = vector.nullCount
        let dense = fillNulls(vector)
        let zone = zoneMap(vector)
        var chosen: any Codec = PlainCodec()
        var payload = ByteWriter()
        if let force, let c = Codecs.byID[force.rawValue], c.supports(vector.type) {
            chosen = c
            c.encode(dense, into: &payload)
        } else {
            // Each codec analyzes the block once; only the smallest one's plan is written.
            var best: EncodingPlan?
            for c in Codecs.all where c.supports(vector.type) {
                if let plan = c.plan(dense), plan.size < best?.size ?? Int.max {
                    best = plan
                    chosen = c
                }
            }
            if let best {
                payload = ByteWriter(capacity: best.size)  // written once, not grown by copies
                best.write(&payload)
            } else {
                PlainCodec().encode(dense, into: &payload)
            }
        }
        var flags: BlockFlags = []
        let raw = payload.bytes
        var stored = raw
        if lz4.tries(chosen.id, vector.type), let compressed = LZ4Block.compressIfItPays(raw) {
            stored = compressed
            flags.insert(.lz4)
        }
        var out = ByteWriter(capacity: headerSize + stored.count + 64)
        let validityBytes = nulls > 0 ? Bitmap.wordCount(vector.count) * 8 : 0
        if nulls > 0 { flags.insert(.validity) }
        out.u8(chosen.id.rawValue)
        out.u8(flags.rawValue)
        out.u16(0)
        out.u32(UInt32(vector.count))
        out.u32(UInt32(validityBytes))
        out.u32(UInt32(stored.count))
        out.u32(UInt32(raw.count))
        out.u32(0)
        if nulls > 0 { out.raw(UnsafeRawBufferPointer(start: vector.validity!.base, count: validityBytes)) }
        out.raw(stored)
        return EncodedBlock(
            bytes: out.bytes, rows: vector.count, nulls: nulls, codec: chosen.id, flags: flags,
            rawBytes: vector.rawByteCount, zone: zone)
    }

    /// Decodes a block. `owner` keeps `bytes` alive so plain blocks can be borrowed rather than copied.
    public static func decode(
        _ bytes: UnsafeRawBufferPointer, type: LogicalType, owner: AnyObject?
    ) throws(StorageError) -> ColumnVector {
        try decode(bytes, type: type, owner: owner, rows: nil)
    }

    /// A block's header checked, its validity and its (decompressed) payload.
    private struct Opened {
        let codec: any Codec
        let rows: Int
        let validity: Buffer?
        let payload: UnsafeRawBufferPointer
        /// Keeps `payload` alive.
        let payloadOwner: AnyObject?
    }

    private static func open(_ bytes: UnsafeRawBufferPointer, type: LogicalType, owner: AnyObject?) throws(StorageError) -> Opened {
        var r = ByteReader(bytes)
        let codecID = try r.u8()
        let flags = BlockFlags(rawValue: try r.u8())
        _ = try r.u16()
        let rows = Int(try r.u32())
        let validityBytes = Int(try r.u32())
        let storedBytes = Int(try r.u32())
        let rawBytes = Int(try r.u32())
        _ = try r.u32()
        // Bounds before any allocation: a damaged header must not make us allocate gigabytes.
        guard rows <= maxRows else { throw StorageError(.corrupt, "block claims \(rows) rows (at most \(maxRows))") }
        guard rawBytes <= storedBytes * 255 + 64 else {
            throw StorageError(.corrupt, "block claims \(rawBytes) raw bytes from \(storedBytes) stored")
        }
        guard let codec = Codecs.byID[codecID] else {
            throw StorageError(.unsupported, "unknown codec id \(codecID)")
        }
        guard codec.supports(type) else { throw StorageError(.corrupt, "codec \(codec.name) cannot hold \(type)") }
        guard flags.contains(.validity) ? validityBytes == Bitmap.wordCount(rows) * 8 : validityBytes == 0 else {
            throw StorageError(.corrupt, "validity bitmap size \(validityBytes) does not fit \(rows) rows")
        }
        let validitySlice = try r.slice(validityBytes)
        let stored = try r.slice(storedBytes)
        guard r.remaining == 0 else { throw StorageError(.corrupt, "\(r.remaining) stray bytes after the payload") }
        let validity = validityBytes == 0 ? nil : borrowOrCopy(validitySlice, alignment: 8, owner: owner)
        if flags.contains(.lz4) {
            let plain = try LZ4Block.decompress(stored, rawCount: rawBytes)
            let holder = DecompressedPayload(plain)
            return Opened(codec: codec, rows: rows, validity: validity, payload: UnsafeRawBufferPointer(holder.bytes), payloadOwner: holder)
        }
        guard rawBytes == storedBytes else { throw StorageError(.corrupt, "raw and stored sizes differ without LZ4") }
        return Opened(codec: codec, rows: rows, validity: validity, payload: stored, payloadOwner: owner)
    }

    /// Decodes the block's rows at `rows` (ascending, distinct, in range; all rows when nil), in that order: the same
    /// vector as a whole decode followed by a gather. Codecs that allow random access decode only those rows.
    public static func decode(
        _ bytes: UnsafeRawBufferPointer, type: LogicalType, owner: AnyObject?, rows selected: UnsafeBufferPointer<Int32>?
    ) throws(StorageError) -> ColumnVector {
        let b = try open(bytes, type: type, owner: owner)
        guard let selected else {
            return vector(try b.codec.decode(b.payload, type: type, count: b.rows, owner: b.payloadOwner), type, b.rows, b.validity)
        }
        // The caller's rows come from the footer's row count: a header that disagrees is damage, not a caller bug.
        // Rows ascend, so the first and the last bound them all (a check per row cost as much as decoding some
        // columns).
        assert(zip(selected, selected.dropFirst()).allSatisfy { $0 < $1 }, "selected rows must ascend")
        if let lowest = selected.first, let highest = selected.last, lowest < 0 || Int(highest) >= b.rows {
            throw StorageError(.corrupt, "row \(lowest < 0 ? lowest : highest) asked of a block of \(b.rows) rows")
        }
        let validity = b.validity.map { gatherBits($0, selected) }
        if let selective = b.codec as? any SelectiveCodec {
            let d = try selective.decode(b.payload, type: type, count: b.rows, rows: selected, owner: b.payloadOwner)
            return vector(d, type, selected.count, validity)
        }
        let whole = vector(try b.codec.decode(b.payload, type: type, count: b.rows, owner: b.payloadOwner), type, b.rows, nil)
        return Gather.rows(whole, Array(selected)).withValidity(validity)
    }

    /// A run-length block as its runs (see ``RunBlock``); nil for other codecs. Lets a predicate that rejects NULL
    /// run once per run instead of once per row.
    public static func decodeRuns(
        _ bytes: UnsafeRawBufferPointer, type: LogicalType, owner: AnyObject?
    ) throws(StorageError) -> RunBlock? {
        // The codec byte first: another codec's block is not decompressed for nothing.
        guard bytes.count > 0, bytes[0] == CodecID.runLength.rawValue else { return nil }
        let b = try open(bytes, type: type, owner: owner)
        guard let rle = b.codec as? RunLengthCodec else { return nil }
        let (values, lengths) = try rle.runs(b.payload, type: type, count: b.rows, owner: b.payloadOwner)
        return RunBlock(values: values, lengths: lengths, validity: b.validity, rows: b.rows)
    }

    /// For a dictionary block, one flag per row from a flag per entry (`entryFlags`, given the block's entries),
    /// 0 for NULL rows; nil for other codecs. A NULL-rejecting predicate on the column (`column = 'x'`, `IN`) runs
    /// once per entry and costs one byte per row.
    public static func decodeDictionaryFlags(
        _ bytes: UnsafeRawBufferPointer, type: LogicalType, owner: AnyObject?, entryFlags: (ColumnVector) throws -> [UInt8]
    ) throws -> [UInt8]? {
        guard bytes.count > 0, bytes[0] == CodecID.dictionary.rawValue else { return nil }
        let b = try open(bytes, type: type, owner: owner)
        guard let dictionary = b.codec as? DictionaryCodec else { return nil }
        var flags = try dictionary.flags(b.payload, type: type, count: b.rows, entryFlags: entryFlags)
        if let v = b.validity { flags.withUnsafeMutableBufferPointer { Bitmap.clearUnset($0, v.base.assumingMemoryBound(to: UInt64.self)) } }
        return flags
    }

    /// The bits of `bitmap` at `rows`, packed.
    private static func gatherBits(_ bitmap: Buffer, _ rows: UnsafeBufferPointer<Int32>) -> Buffer {
        Buffer(uninitializedByteCount: Bitmap.wordCount(rows.count) * 8) { raw in
            _ = Bitmap.gather(bitmap.base.assumingMemoryBound(to: UInt64.self), rows: rows, range: 0..<rows.count, into: raw.bindMemory(to: UInt64.self).baseAddress!)
        }
    }

    private static func vector(_ d: DecodedValues, _ type: LogicalType, _ rows: Int, _ validity: Buffer?) -> ColumnVector {
        if let (codes, entries) = d.dictionary { return ColumnVector(codes: codes, entries: entries, count: rows, validity: validity) }
        return ColumnVector(type: type, count: rows, values: d.values, offsets: d.offsets, validity: validity)
    }

    /// A copy of `v` whose null slots hold a neighbouring valid value, so codecs see no artificial outliers
    /// (a 0 in a block of timestamps would ruin frame-of-reference).
    static func fillNulls(_ v: ColumnVector) -> ColumnVector {
        guard v.validity != nil, v.nullCount > 0 else { return v }
        var fillRow: Int32 = 0
        for i in 0..<v.count where !v.isNull(i) {
            fillRow = Int32(i)
            break
        }
        var indices = [Int32](repeating: 0, count: v.count)
        var last = fillRow
        for i in 0..<v.count {
            if !v.isNull(i) { last = Int32(i) }
            indices[i] = v.isNull(i) ? last : Int32(i)
        }
        if v.type != .varchar {
            return Gather.rows(ColumnVector(type: v.type, count: v.count, values: v.values), indices)
        } else {
            // Null strings become empty so they cost nothing under plain encoding. Builders already leave them
            // empty; then the bytes stay as they are and only the validity goes.
            let strings = StringSpans(v)
            if (0..<v.count).allSatisfy({ !v.isNull($0) || strings[$0].count == 0 }) {
                return ColumnVector(type: .varchar, count: v.count, values: v.values, offsets: v.offsets)
            }
            var b = ColumnBuilder(.varchar, capacity: v.count)
            for i in 0..<v.count {
                if v.isNull(i) { b.append(string: "") } else { b.append(utf8: strings[i]) }
            }
            return b.finish()
        }
    }

    static func zoneMap(_ v: ColumnVector) -> ZoneMap {
        let validity = v.validity?.typed(UInt64.self, count: Bitmap.wordCount(v.count))
        switch v.type.physical {
        case .uint8:
            return MinMax.of(v.values.typed(UInt8.self, count: v.count), validity: validity)
                .map { .integer(min: Int64($0.min), max: Int64($0.max)) } ?? .none
        case .int32:
            return MinMax.of(v.values.typed(Int32.self, count: v.count), validity: validity)
                .map { .integer(min: Int64($0.min), max: Int64($0.max)) } ?? .none
        case .int64:
            return MinMax.of(v.values.typed(Int64.self, count: v.count), validity: validity)
                .map { .integer(min: $0.min, max: $0.max) } ?? .none
        case .double:
            // NaN is unordered: a block holding one gets no zone map, so no filter can wrongly skip it.
            let values = v.values.typed(Double.self, count: v.count)
            for i in 0..<v.count where values[i].isNaN && !v.isNull(i) { return .none }
            return MinMax.of(values, validity: validity).map { .double(min: $0.min, max: $0.max) } ?? .none
        case .bytes:
            let strings = StringSpans(v)
            var loRow = -1, hiRow = -1
            for i in 0..<v.count where !v.isNull(i) {
                let s = strings[i]
                if loRow < 0 || StringSpans.less(s, strings[loRow]) { loRow = i }
                if hiRow < 0 || StringSpans.less(strings[hiRow], s) { hiRow = i }
            }
            guard loRow >= 0 else { return .none }
            let lo = Array(strings[loRow]), hi = Array(strings[hiRow])
            let minPrefix = truncateUTF8(lo, ZoneMap.stringPrefix)
            let maxExact = hi.count <= ZoneMap.stringPrefix
            return .string(
                min: String(decoding: minPrefix, as: UTF8.self), max: maxExact ? String(decoding: hi, as: UTF8.self) : nil)
        }
    }

    /// The longest prefix of `bytes` of at most `n` bytes that ends on a UTF-8 character boundary.
    static func truncateUTF8(_ bytes: [UInt8], _ n: Int) -> [UInt8] {
        guard bytes.count > n else { return bytes }
        var end = n
        while end > 0 && (bytes[end] & 0xC0) == 0x80 { end -= 1 }
        return Array(bytes[0..<end])
    }
}

/// A run-length block as its runs, borrowed from the stored bytes where they are aligned.
public struct RunBlock: Sendable {
    /// One value per run, in the stored form: NULL rows hold a neighbour's value, so the runs carry no validity.
    public let values: ColumnVector
    /// Each run's length as a u32, nonzero, adding up to `rows` (checked when the block was opened).
    public let lengths: Buffer
    /// The rows' validity (nil when no row is NULL).
    public let validity: Buffer?
    /// The block's rows.
    public let rows: Int

    public var runs: Int { values.count }
}

/// Owns an LZ4-decompressed payload so decoded buffers may borrow from it.
final class DecompressedPayload: @unchecked Sendable {
    let bytes: UnsafeMutableRawBufferPointer
    init(_ bytes: UnsafeMutableRawBufferPointer) { self.bytes = bytes }
    deinit { bytes.deallocate() }
}
