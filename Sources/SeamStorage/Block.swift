public import SeamColumnar
import SeamKernels

/// Flags of a stored block.
public struct BlockFlags: OptionSet, Sendable {
    public let rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }
    public static let lz4 = BlockFlags(rawValue: 1)
    public static let validity = BlockFlags(rawValue: 2)
    /// The payload holds the values of the valid rows only (needs `validity`): a mostly-NULL column stores nothing
    /// for its NULL rows.
    public static let sparse = BlockFlags(rawValue: 4)
    static let known: BlockFlags = [.lz4, .validity, .sparse]
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

    /// Whether a block with NULLs stores its valid rows only (``BlockFlags/sparse``).
    public enum SparsePolicy: Sendable {
        /// When it is smaller, for blocks at least 1/8 NULL (below that, the rows saved rarely pay for a second
        /// analysis of the block).
        case whenSmaller
        case never
        /// Whenever the block has a NULL (tests).
        case always
    }

    /// Encodes `vector`, choosing the codec with the smallest exact size, then LZ4 when `lz4` tries it and it pays.
    /// `force` pins the codec (tests, `force_codec`); it must support the type. A block with NULLs is encoded both
    /// with its NULL slots filled and with its valid rows only, as `sparse` allows, and the smaller form is kept.
    public static func encode(
        _ vector: ColumnVector, force: CodecID? = nil, lz4: LZ4Block.Policy = .stringPayloads, sparse: SparsePolicy = .whenSmaller
    ) -> EncodedBlock {
        let nulls = vector.nullCount
        let zone = zoneMap(vector)
        let forced = force.flatMap { Codecs.byID[$0.rawValue] }.flatMap { $0.supports(vector.type) ? $0 : nil }
        let candidates = Codecs.all.filter { $0.supports(vector.type) }
        let filled = fillNulls(vector)
        var (chosen, plan) = smallest(candidates, filled, forced: forced)
        var flags: BlockFlags = []
        let trySparse = nulls > 0 && (sparse == .always || (sparse == .whenSmaller && nulls * 8 >= vector.count))
        if trySparse {
            let validRows = (0..<vector.count).compactMap { vector.isNull($0) ? nil : Int32($0) }
            let compact = Gather.rows(vector, validRows).withValidity(nil)
            // Run-length coding already folds a NULL slot into its neighbour's run: its sparse form saves next to
            // nothing, and its runs would cover the valid rows only.
            let sparseCandidates = candidates.filter { $0.id != .runLength }
            let (c, p) = smallest(sparseCandidates, compact, forced: forced)
            if sparse == .always || p.size < plan.size {
                (chosen, plan) = (c, p)
                flags.insert(.sparse)
            }
        }
        var payload = ByteWriter(capacity: plan.size)  // written once, not grown by copies
        plan.write(&payload)
        var raw = payload.bytes
        var stored = raw
        if lz4.tries(chosen.id, vector.type), let compressed = LZ4Block.compressIfItPays(raw) {
            stored = compressed
            flags.insert(.lz4)
        } else if chosen.id == .dictionary, !flags.contains(.sparse), forced == nil, lz4.tries(.plain, vector.type),
            let plainSize = PlainCodec().estimateSize(filled), plan.size * 2 > plainSize
        {
            // Codecs are chosen on their raw sizes, and LZ4 is tried on plain and run-length text only: a block of
            // long, mostly distinct texts (a properties column with some repeats) took a dictionary that kept nearly
            // all of its bytes, where LZ4 on the plain text keeps a quarter (a 20,000-customer ingest's events took
            // 32 % less room). So when the dictionary keeps more than half the plain size, the plain text is
            // compressed too and the smaller stored form wins.
            var plainPayload = ByteWriter(capacity: plainSize)
            PlainCodec().encode(filled, into: &plainPayload)
            if let compressed = LZ4Block.compressIfItPays(plainPayload.bytes), compressed.count < raw.count {
                (chosen, raw, stored) = (PlainCodec(), plainPayload.bytes, compressed)
                flags.insert(.lz4)
            }
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

    /// The codec among `candidates` with the smallest exact size for `v`, and its plan; plain when none can encode it.
    /// Each codec analyzes the block once; only the chosen plan is written.
    /// A pinned codec (`forced`) writes even where its plan would give up (run-length coding with too many runs), unless
    /// it cannot encode the values at all; then the smallest of `candidates` is taken.
    private static func smallest(_ candidates: [any Codec], _ v: ColumnVector, forced: (any Codec)?) -> (any Codec, EncodingPlan) {
        if let c = forced, let plan = c.plan(v) ?? c.estimateSize(v).map({ size in EncodingPlan(size: size) { c.encode(v, into: &$0) } }) {
            return (c, plan)
        }
        var best: (codec: any Codec, plan: EncodingPlan)?
        for c in candidates {
            if let plan = c.plan(v), plan.size < best?.plan.size ?? Int.max { best = (c, plan) }
        }
        if let best { return best }
        let plain = PlainCodec()
        return (plain, plain.plan(v)!)
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
        /// The payload holds only the valid rows' values (``BlockFlags/sparse``); `valid` of them.
        let sparse: Bool
        let valid: Int
        /// How many values the payload holds.
        var stored: Int { sparse ? valid : rows }
    }

    /// `knownValid`: the block's valid rows as the segment footer says, for a sparse block whose bitmap the caller does
    /// not need; otherwise the bitmap is counted. (A footer that disagrees with its block is damage both checksums
    /// missed; the payload's size is still checked against the count, so it reads no memory outside the block.)
    private static func open(
        _ bytes: UnsafeRawBufferPointer, type: LogicalType, owner: AnyObject?, knownValid: Int? = nil
    ) throws(StorageError) -> Opened {
        guard let header = Header(bytes) else {
            throw StorageError(.corrupt, "block of \(bytes.count) bytes is shorter than its \(headerSize)-byte header")
        }
        let (codecID, flags, rows) = (header.codec, header.flags, header.rows)
        let (validityBytes, storedBytes, rawBytes) = (header.validityBytes, header.storedBytes, header.rawBytes)
        var r = ByteReader(bytes, position: headerSize)
        // Bounds before any allocation: a damaged header must not make us allocate gigabytes.
        guard rows <= maxRows else { throw StorageError(.corrupt, "block claims \(rows) rows (at most \(maxRows))") }
        guard rawBytes <= storedBytes * 255 + 64 else {
            throw StorageError(.corrupt, "block claims \(rawBytes) raw bytes from \(storedBytes) stored")
        }
        guard let codec = Codecs.byID[codecID] else {
            throw StorageError(.unsupported, "unknown codec id \(codecID)")
        }
        guard codec.supports(type) else { throw StorageError(.corrupt, "codec \(codec.name) cannot hold \(type)") }
        guard BlockFlags.known.isSuperset(of: flags) else { throw StorageError(.unsupported, "unknown block flags \(flags.rawValue)") }
        let sparse = flags.contains(.sparse)
        guard !sparse || flags.contains(.validity) else { throw StorageError(.corrupt, "sparse block without a validity bitmap") }
        guard flags.contains(.validity) ? validityBytes == Bitmap.wordCount(rows) * 8 : validityBytes == 0 else {
            throw StorageError(.corrupt, "validity bitmap size \(validityBytes) does not fit \(rows) rows")
        }
        let validitySlice = try r.slice(validityBytes)
        let stored = try r.slice(storedBytes)
        guard r.remaining == 0 else { throw StorageError(.corrupt, "\(r.remaining) stray bytes after the payload") }
        let validity = validityBytes == 0 ? nil : borrowOrCopy(validitySlice, alignment: 8, owner: owner)
        // Counted for sparse blocks only (others do not need it). Bits past the last row may be set in a damaged
        // bitmap; only the rows' bits count.
        let valid = sparse ? knownValid ?? Bitmap.popCount(validity!.typed(UInt64.self, count: Bitmap.wordCount(rows)), rows: rows) : rows
        if flags.contains(.lz4) {
            let plain = try LZ4Block.decompress(stored, rawCount: rawBytes)
            let holder = DecompressedPayload(plain)
            return Opened(
                codec: codec, rows: rows, validity: validity, payload: UnsafeRawBufferPointer(holder.bytes), payloadOwner: holder,
                sparse: sparse, valid: valid)
        }
        guard rawBytes == storedBytes else { throw StorageError(.corrupt, "raw and stored sizes differ without LZ4") }
        return Opened(codec: codec, rows: rows, validity: validity, payload: stored, payloadOwner: owner, sparse: sparse, valid: valid)
    }

    /// Decodes the block's rows at `rows` (ascending, distinct, in range; all rows when nil), in that order: the same
    /// vector as a whole decode followed by a gather. Codecs that allow random access decode only those rows.
    public static func decode(
        _ bytes: UnsafeRawBufferPointer, type: LogicalType, owner: AnyObject?, rows selected: UnsafeBufferPointer<Int32>?
    ) throws(StorageError) -> ColumnVector {
        let b = try open(bytes, type: type, owner: owner)
        if b.sparse { return try decodeSparse(b, type: type, rows: selected) }
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

    /// The block's values as stored: a sparse block's valid rows only, beside the rows' validity; any other block's
    /// every row (its validity in the vector too). A reduction over the valid rows reads it without a value spread
    /// over each NULL row (10 instructions a row for a sparse column of purchases' amounts, one row in nine valid).
    /// `valid`: the block's valid rows as the segment footer says (a sparse block's bitmap is then not counted).
    public static func decodeCompact(_ bytes: UnsafeRawBufferPointer, type: LogicalType, owner: AnyObject?, valid: Int? = nil) throws(StorageError) -> CompactBlock {
        let b = try open(bytes, type: type, owner: owner, knownValid: valid)
        let count = b.sparse ? b.valid : b.rows
        let values = vector(try b.codec.decode(b.payload, type: type, count: count, owner: b.payloadOwner), type, count, b.sparse ? nil : b.validity)
        return CompactBlock(values: values, validity: b.validity, sparse: b.sparse, rows: b.rows)
    }

    /// A sparse block's rows (all, or those at `selected`): the valid rows' values expanded over the validity, or for
    /// selected rows, the values at the selected rows' positions among the valid rows.
    private static func decodeSparse(_ b: Opened, type: LogicalType, rows selected: UnsafeBufferPointer<Int32>?) throws(StorageError) -> ColumnVector {
        let validity = b.validity!
        let words = validity.base.assumingMemoryBound(to: UInt64.self)
        guard let selected else {
            let compact = vector(try b.codec.decode(b.payload, type: type, count: b.valid, owner: b.payloadOwner), type, b.valid, nil)
            return Gather.expand(compact, validity: validity, rows: b.rows)
        }
        if let lowest = selected.first, let highest = selected.last, lowest < 0 || Int(highest) >= b.rows {
            throw StorageError(.corrupt, "row \(lowest < 0 ? lowest : highest) asked of a block of \(b.rows) rows")
        }
        let gathered = gatherBits(validity, selected)
        guard b.valid > 0 else {
            // Nothing stored: every selected row is NULL (the payload is still checked as an empty one).
            let none = vector(try b.codec.decode(b.payload, type: type, count: 0, owner: b.payloadOwner), type, 0, nil)
            return Gather.expand(none, validity: gathered, rows: selected.count)
        }
        var ranks = [Int32](repeating: 0, count: selected.count)
        ranks.withUnsafeMutableBufferPointer { Bitmap.ranks(words, rows: selected, valid: b.valid, into: $0.baseAddress!) }
        if let selective = b.codec as? any SelectiveCodec {
            let d = try ranks.withUnsafeBufferPointer { r throws(StorageError) in
                try selective.decode(b.payload, type: type, count: b.valid, rows: r, owner: b.payloadOwner)
            }
            return vector(d, type, selected.count, gathered)
        }
        let compact = vector(try b.codec.decode(b.payload, type: type, count: b.valid, owner: b.payloadOwner), type, b.valid, nil)
        return Gather.rows(compact, ranks).withValidity(gathered)
    }

    /// How many of a frame-of-reference block's non-NULL rows hold a value in `lo...hi`, counted on the packed values;
    /// nil for other codecs and for blocks that keep NULL rows' slots (their values would have to be masked).
    /// `valid`: the block's non-NULL rows from the segment footer, when known (saves counting the bitmap's bits).
    public static func countInRange(
        _ bytes: UnsafeRawBufferPointer, type: LogicalType, owner: AnyObject?, lo: Int64, hi: Int64, valid: Int? = nil
    ) throws(StorageError) -> Int? {
        // The codec byte first: other codecs' blocks are not opened (nor decompressed) for nothing.
        guard bytes.count > 1, bytes[0] == CodecID.frameOfReference.rawValue || bytes[0] == CodecID.verticalFrameOfReference.rawValue else {
            return nil
        }
        if bytes[0] == CodecID.verticalFrameOfReference.rawValue, let valid, let payload = plainPayload(bytes) {
            // The common block of a filtered count (vfor, no LZ4, without NULLs or stored sparse): its header read in
            // place, as `open` checks it, without building an `Opened` (a codec lookup in a dictionary, an existential,
            // the owner retained), which cost about a tenth of a count over 100M rows on one thread.
            let codec = VerticalFrameOfReferenceCodec()
            guard codec.supports(type) else { throw StorageError(.corrupt, "codec \(codec.name) cannot hold \(type)") }
            return try codec.countInRange(payload.bytes, count: payload.sparse ? valid : payload.rows, lo: lo, hi: hi)
        }
        let b = try open(bytes, type: type, owner: owner, knownValid: valid)
        guard b.sparse || b.validity == nil else { return nil }
        // Called by codec, not through a cast to the protocol: the runtime's conformance lookup per block cost
        // about as much as the count of a small block.
        if bytes[0] == CodecID.verticalFrameOfReference.rawValue {
            return try VerticalFrameOfReferenceCodec().countInRange(b.payload, count: b.stored, lo: lo, hi: hi)
        }
        return try FrameOfReferenceCodec().countInRange(b.payload, count: b.stored, lo: lo, hi: hi)
    }

    /// For a block of ``VerticalFrameOfReferenceCodec`` whose rows are all valid or stored sparse, how many valid
    /// values lie in `lo...hi` and their (wrapping) sum, on the packed codes; nil for other blocks. `valid`: the
    /// block's valid rows as the footer says.
    public static func sumInRange(
        _ bytes: UnsafeRawBufferPointer, type: LogicalType, lo: Int64, hi: Int64, valid: Int
    ) throws(StorageError) -> (count: Int, sum: Int64)? {
        guard bytes.count > 1, bytes[0] == CodecID.verticalFrameOfReference.rawValue, let payload = plainPayload(bytes) else { return nil }
        let codec = VerticalFrameOfReferenceCodec()
        guard codec.supports(type) else { throw StorageError(.corrupt, "codec \(codec.name) cannot hold \(type)") }
        return try codec.sumInRange(payload.bytes, count: payload.sparse ? valid : payload.rows, lo: lo, hi: hi)
    }

    /// How many valid values of a sparse block (`values`, vertical frame of reference, no LZ4) lie in rows where a
    /// dictionary block of the same rows (`text`, storing every row) equals one of `constants` (`passes`) or none of
    /// them (`!passes`), and their wrapping sum: the text block's codes read at the valid rows only, 64 rows at a time,
    /// into a bit per stored value, and the values summed under those bits on their packed codes. nil when the blocks
    /// are not of those forms, more than a few entries pass and fail, or the codes are wider than 25 bits.
    public static func sumWhereTextMatches(
        values: UnsafeRawBufferPointer, type: LogicalType, valid: Int, text: UnsafeRawBufferPointer, constants: [[UInt8]], passes: Bool
    ) throws(StorageError) -> (count: Int, sum: Int64)? {
        // (The bitmap is read in place: blocks start 64-byte aligned in a segment, their header is 24 bytes.)
        guard values.count > 1, values[0] == CodecID.verticalFrameOfReference.rawValue, let payload = plainPayload(values), payload.sparse,
            Int(bitPattern: values.baseAddress!) % 8 == 0, text.count > 0, text[0] == CodecID.dictionary.rawValue
        else { return nil }
        let codec = VerticalFrameOfReferenceCodec()
        guard codec.supports(type) else { throw StorageError(.corrupt, "codec \(codec.name) cannot hold \(type)") }
        let t = try open(text, type: .varchar, owner: nil)
        guard !t.sparse, t.validity == nil else { return nil }
        guard t.rows == payload.rows else { throw StorageError(.corrupt, "text block holds \(t.rows) rows, the values' block \(payload.rows)") }
        // The bitmap ahead of the values' payload (plainPayload checked its size); its set rows must be the footer's.
        let validity = UnsafeRawPointer(values.baseAddress! + headerSize).assumingMemoryBound(to: UInt64.self)
        let set = Bitmap.popCount(UnsafeBufferPointer(start: validity, count: Bitmap.wordCount(payload.rows)), rows: payload.rows)
        guard set == valid else { throw StorageError(.corrupt, "validity holds \(set) valid rows, the footer \(valid)") }
        guard let bits = try DictionaryCodec().flagBits(
            t.payload, type: .varchar, count: t.rows, atSetBitsOf: validity, valid: valid, constants: constants, passes: passes)
        else { return nil }
        return try bits.withUnsafeBufferPointer { bits throws(StorageError) in
            try codec.sumMarked(payload.bytes, count: valid, bits: bits.baseAddress ?? UnsafePointer(bitPattern: 8)!)
        }
    }

    /// The payload of a block stored without LZ4 whose rows are all valid or which stores its valid rows only
    /// (sparse), with its row count, after the checks `open` makes of such a header; nil for other blocks (those go
    /// through `open`, which says what is wrong with a damaged one).
    private static func plainPayload(_ bytes: UnsafeRawBufferPointer) -> (bytes: UnsafeRawBufferPointer, rows: Int, sparse: Bool)? {
        guard let h = Header(bytes) else { return nil }
        let sparse = h.flags == [.validity, .sparse]
        guard h.flags.isEmpty || sparse, h.rows <= maxRows, h.rawBytes == h.storedBytes,
            h.validityBytes == (sparse ? Bitmap.wordCount(h.rows) * 8 : 0),
            headerSize + h.validityBytes + h.storedBytes == bytes.count
        else { return nil }
        return (UnsafeRawBufferPointer(rebasing: bytes[(headerSize + h.validityBytes)...]), h.rows, sparse)
    }

    /// A block's fixed header, read in place (``encode`` writes it):
    /// `codec: u8 | flags: u8 | pad: u16 | rows: u32 | validity bytes: u32 | stored bytes: u32 | raw bytes: u32 | pad: u32`.
    private struct Header {
        let codec: UInt8
        let flags: BlockFlags
        let rows: Int, validityBytes: Int, storedBytes: Int, rawBytes: Int

        /// nil when `bytes` is shorter than a header.
        init?(_ bytes: UnsafeRawBufferPointer) {
            guard bytes.count >= BlockCodec.headerSize else { return nil }
            codec = bytes[0]
            flags = BlockFlags(rawValue: bytes[1])
            rows = Int(UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: 4, as: UInt32.self)))
            validityBytes = Int(UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: 8, as: UInt32.self)))
            storedBytes = Int(UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: 12, as: UInt32.self)))
            rawBytes = Int(UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: 16, as: UInt32.self)))
        }
    }

    /// A run-length block as its runs (see ``RunBlock``); nil for other codecs. Lets a predicate that rejects NULL
    /// run once per run instead of once per row.
    public static func decodeRuns(
        _ bytes: UnsafeRawBufferPointer, type: LogicalType, owner: AnyObject?
    ) throws(StorageError) -> RunBlock? {
        // The codec byte first: another codec's block is not decompressed for nothing.
        guard bytes.count > 0, bytes[0] == CodecID.runLength.rawValue else { return nil }
        let b = try open(bytes, type: type, owner: owner)
        // Runs of a sparse block cover its valid rows only; it is read by rows instead.
        guard let rle = b.codec as? RunLengthCodec, !b.sparse else { return nil }
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
        if b.sparse {
            // Flags of the valid rows, spread over the rows in one pass (a NULL row copies a neighbour's flag, cleared
            // after).
            let stored = try dictionary.flags(b.payload, type: type, count: b.valid, entryFlags: entryFlags)
            return spread(stored, over: b)
        }
        var flags = try dictionary.flags(b.payload, type: type, count: b.rows, entryFlags: entryFlags)
        if let v = b.validity { flags.withUnsafeMutableBufferPointer { Bitmap.clearUnset($0, v.base.assumingMemoryBound(to: UInt64.self)) } }
        return flags
    }

    /// Flags of a dictionary block at `rows` (ascending, below the block's rows), one per row: 1 where the row's entry's
    /// flag (`entryFlags`, given the block's entries) is set, 0 elsewhere and on NULL rows. Only those rows' codes are
    /// read (a sparse block's row found among its stored codes by the validity words' counts); nil for other codecs.
    public static func decodeDictionaryFlags(
        _ bytes: UnsafeRawBufferPointer, type: LogicalType, owner: AnyObject?, rows: UnsafeBufferPointer<Int32>,
        entryFlags: (ColumnVector) throws -> [UInt8]
    ) throws -> [UInt8]? {
        guard bytes.count > 0, bytes[0] == CodecID.dictionary.rawValue else { return nil }
        let b = try open(bytes, type: type, owner: owner)
        guard let dictionary = b.codec as? DictionaryCodec else { return nil }
        if let last = rows.last, Int(last) >= b.rows {
            throw StorageError(.corrupt, "block holds \(b.rows) rows, row \(last) was asked for")
        }
        guard let validity = b.validity else {
            return try dictionary.flags(b.payload, type: type, count: b.stored, rows: rows, entryFlags: entryFlags)
        }
        let words = validity.base.assumingMemoryBound(to: UInt64.self)
        if !b.sparse {
            var flags = try dictionary.flags(b.payload, type: type, count: b.stored, rows: rows, entryFlags: entryFlags)
            for (k, r) in rows.enumerated() where (words[Int(r) >> 6] >> UInt64(r & 63)) & 1 == 0 { flags[k] = 0 }
            return flags
        }
        // The valid ones among `rows`, as indices into the stored codes (their rank among the valid rows), and where
        // each sits in `rows`.
        var stored = [Int32](), at = [Int32]()
        stored.reserveCapacity(rows.count)
        at.reserveCapacity(rows.count)
        var word = 0, before = 0
        for (k, r) in rows.enumerated() {
            let w = Int(r) >> 6, bit = UInt64(r & 63)
            while word < w {
                before &+= words[word].nonzeroBitCount
                word &+= 1
            }
            let bits = words[w]
            if (bits >> bit) & 1 != 0 {
                stored.append(Int32(truncatingIfNeeded: before &+ (bits & ((1 << bit) &- 1)).nonzeroBitCount))
                at.append(Int32(truncatingIfNeeded: k))
            }
        }
        let found = try stored.withUnsafeBufferPointer {
            try dictionary.flags(b.payload, type: type, count: b.stored, rows: $0, entryFlags: entryFlags)
        }
        var flags = [UInt8](repeating: 0, count: rows.count)
        for (j, k) in at.enumerated() { flags[Int(k)] = found[j] }
        return flags
    }

    /// Flags of a dictionary block at the rows whose bit is set in `bits` (a bitmap over `rows` rows, set `valid`
    /// times; a block of another row count is damage), one per set bit in row order, 0 on the block's NULL rows:
    /// those rows' codes read as the bitmap is walked. A block stored sparse is read this way when a few entries pass or fail, 64 rows at a time
    /// (`byGroups`, nil: where BMI2 makes that fast; tests take it anywhere). nil for other codecs, for blocks that store
    /// codes for NULL rows, and for sparse blocks otherwise (the caller then lists the rows).
    public static func decodeDictionaryFlags(
        _ bytes: UnsafeRawBufferPointer, type: LogicalType, owner: AnyObject?, atSetBitsOf bits: UnsafePointer<UInt64>, rows: Int,
        valid: Int, byGroups: Bool? = nil, entryFlags: (ColumnVector) throws -> [UInt8]
    ) throws -> [UInt8]? {
        guard bytes.count > 0, bytes[0] == CodecID.dictionary.rawValue else { return nil }
        let b = try open(bytes, type: type, owner: owner)
        guard let dictionary = b.codec as? DictionaryCodec else { return nil }
        // The bitmap covers `rows` rows: a block of another count would be read past it or short of it.
        guard b.rows == rows else { throw StorageError(.corrupt, "block holds \(b.rows) rows, the rows asked for are of \(rows)") }
        if b.sparse, byGroups ?? Bits.fast, let v = b.validity {
            return try dictionary.flags(
                b.payload, type: type, stored: b.valid, rows: b.rows, storedValidity: v.base.assumingMemoryBound(to: UInt64.self),
                atSetBitsOf: bits, valid: valid, owner: b.payloadOwner, entryFlags: entryFlags)
        }
        guard !b.sparse, b.validity == nil else { return nil }
        return try dictionary.flags(b.payload, type: type, count: b.rows, atSetBitsOf: bits, valid: valid, owner: b.payloadOwner, entryFlags: entryFlags)
    }

    /// For a dictionary block whose rows are all valid or stored sparse, how many valid rows pass a NULL-rejecting
    /// predicate decided per entry (`entryFlags`, given the block's entries), counted on the packed codes; nil for
    /// other codecs and for a block that stores codes for its NULL rows.
    public static func countDictionaryFlags(
        _ bytes: UnsafeRawBufferPointer, type: LogicalType, owner: AnyObject?, valid: Int, entryFlags: (ColumnVector) throws -> [UInt8]
    ) throws -> Int? {
        guard bytes.count > 0, bytes[0] == CodecID.dictionary.rawValue else { return nil }
        let b = try open(bytes, type: type, owner: owner, knownValid: valid)
        guard b.sparse || b.validity == nil, let dictionary = b.codec as? DictionaryCodec else { return nil }
        return try dictionary.countFlagged(b.payload, type: type, count: b.stored, owner: b.payloadOwner, entryFlags: entryFlags)
    }

    /// ``countDictionaryFlags(_:type:owner:valid:entryFlags:)`` for a text equality: the valid rows whose value equals
    /// one of `constants` in bytes (`passes`), or none of them (`!passes`), judged on the block's entries in place.
    public static func countDictionaryMatches(
        _ bytes: UnsafeRawBufferPointer, type: LogicalType, owner: AnyObject?, valid: Int, constants: [[UInt8]], passes: Bool
    ) throws(StorageError) -> Int? {
        guard bytes.count > 0, bytes[0] == CodecID.dictionary.rawValue else { return nil }
        let b = try open(bytes, type: type, owner: owner, knownValid: valid)
        guard b.sparse || b.validity == nil else { return nil }
        return try DictionaryCodec().countMatching(b.payload, type: type, count: b.stored, constants: constants, passes: passes)
    }

    /// One flag per row of a sparse block from one per stored (valid) value; 0 for the NULL rows.
    private static func spread(_ stored: [UInt8], over b: Opened) -> [UInt8] {
        let words = b.validity!.base.assumingMemoryBound(to: UInt64.self)
        return [UInt8](unsafeUninitializedCapacity: b.rows) { out, n in
            stored.withUnsafeBufferPointer { Gather.depositFlags($0.baseAddress ?? UnsafePointer(bitPattern: 1)!, validity: words, rows: b.rows, into: out.baseAddress!) }
            n = b.rows
        }
    }

    /// For a sparse block of an integer-like column, one flag per row: 1 where the stored value lies in `lo...hi`, 0
    /// elsewhere and on NULL rows; the comparison made on the valid values only, then spread. nil for blocks that are
    /// not sparse (their rows decode and compare as they are) and for other types.
    public static func decodeRangeFlags(_ bytes: UnsafeRawBufferPointer, type: LogicalType, owner: AnyObject?, lo: Int64, hi: Int64) throws(StorageError) -> [UInt8]? {
        guard type.physical == .int32 || type.physical == .int64, let h = Header(bytes), h.flags.contains(.sparse) else { return nil }
        let b = try open(bytes, type: type, owner: owner)
        let values = vector(try b.codec.decode(b.payload, type: type, count: b.valid, owner: b.payloadOwner), type, b.valid, nil)
        var stored = [UInt8](repeating: 0, count: b.valid)
        if lo <= hi {
            let span = UInt64(bitPattern: hi &- lo)
            stored.withUnsafeMutableBufferPointer { out in
                if type.physical == .int32 {
                    let v = values.values.base.assumingMemoryBound(to: Int32.self)
                    for i in 0..<b.valid { out[i] = UInt64(bitPattern: Int64(v[i]) &- lo) <= span ? 1 : 0 }
                } else {
                    let v = values.values.base.assumingMemoryBound(to: Int64.self)
                    for i in 0..<b.valid { out[i] = UInt64(bitPattern: v[i] &- lo) <= span ? 1 : 0 }
                }
            }
        }
        return spread(stored, over: b)
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

/// A block's values as stored (see ``BlockCodec/decodeCompact(_:type:owner:)``).
public struct CompactBlock: Sendable {
    /// `sparse`: the valid rows' values, in row order, without validity; otherwise one value per row.
    public let values: ColumnVector
    /// The rows' validity (nil when no row is NULL).
    public let validity: Buffer?
    public let sparse: Bool
    public let rows: Int
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
