public import SeamColumnar
import SeamKernels
import Synchronization
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A memory-mapped segment file. Hands out decoded column blocks; plain blocks borrow the mapping.
///
/// Every block's CRC-32C is checked on its first read through this reader, before any value is returned;
/// a mismatch throws an error naming the file, column and block. Later reads of a verified block skip the
/// check (segments are immutable), so hot scans are not held to checksum speed.
public final class SegmentReader: @unchecked Sendable {
    public let path: String
    public let footer: SegmentFooter
    /// Safety: mapped read-only for the lifetime of this object; buffers that borrow it keep `self` alive.
    private let base: UnsafeRawPointer
    private let size: Int
    /// The footer's block directory flattened to plain values (column `c`'s blocks from `firstEntry[c]` on): a scan
    /// reads it once or twice per block, and a `BlockInfo` copy retains and releases its zone's strings.
    private let entries: [BlockEntry]
    private let firstEntry: [Int]
    private let types: [LogicalType]
    /// The blocks' zone maps, indexed as `entries`.
    private let zones: [ZoneMap]
    private let verified: Mutex<Verified>
    /// Per column, set once every block of it has been verified: scans then skip the lock (which two threads
    /// reading blocks of one column take in turn, once per block).
    private let columnVerified: [VerifiedFlag]

    private struct Verified {
        var blocks: [Bool]
        var perColumn: [Int]
    }

    private final class VerifiedFlag: Sendable {
        let value = Atomic<Bool>(false)
    }

    public init(path: String) throws(StorageError) {
        self.path = path
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw FileIO.error("open", path) }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0 else { throw FileIO.error("fstat", path) }
        let size = Int(st.st_size)
        guard size >= 64 + SegmentFooter.trailerSize else {
            throw StorageError(.corrupt, "file of \(size) bytes is too short to be a segment", file: path)
        }
        let p = mmap(nil, size, PROT_READ, MAP_PRIVATE, fd, 0)
        guard let p, p != MAP_FAILED else { throw FileIO.error("mmap", path) }
        let bytes = UnsafeRawBufferPointer(start: p, count: size)
        do throws(StorageError) {
            self.footer = try SegmentReader.readFooter(bytes, path: path)
        } catch {
            munmap(p, size)
            throw error
        }
        self.base = UnsafeRawPointer(p)
        self.size = size
        var entries: [BlockEntry] = [], firstEntry: [Int] = []
        for column in footer.columns {
            firstEntry.append(entries.count)
            entries += column.map(BlockEntry.init)
        }
        self.entries = entries
        self.firstEntry = firstEntry
        self.types = footer.schema.fields.map(\.type)
        self.zones = footer.columns.flatMap { $0.map(\.zone) }
        self.verified = Mutex(Verified(blocks: [Bool](repeating: false, count: entries.count), perColumn: [Int](repeating: 0, count: firstEntry.count)))
        self.columnVerified = firstEntry.map { _ in VerifiedFlag() }
    }

    /// What a scan needs of a footer entry, as plain values.
    private struct BlockEntry {
        let offset: Int, length: Int, rows: Int, nulls: Int
        let checksum: UInt32
        /// The integer zone map's bounds, when the block has one.
        let integerZone: (min: Int64, max: Int64)?

        init(_ info: BlockInfo) {
            (offset, length, rows, nulls, checksum) = (info.offset, info.length, info.rows, info.nulls, info.checksum)
            if case .integer(let lo, let hi) = info.zone { integerZone = (lo, hi) } else { integerZone = nil }
        }
    }

    private func entry(_ column: Int, _ block: Int) -> BlockEntry { entries[firstEntry[column] + block] }

    /// The zone map, rows and NULLs of a block (what zone-map pruning reads for every block of a scan).
    public func zone(column: Int, block: Int) -> (zone: ZoneMap, rows: Int, nulls: Int) {
        let at = firstEntry[column] + block
        return (zones[at], entries[at].rows, entries[at].nulls)
    }

    /// Rows, NULLs and the integer zone map (nil when the block has another kind) of a block, without copying its
    /// footer entry.
    public func summary(column: Int, block: Int) -> (rows: Int, nulls: Int, integerZone: (min: Int64, max: Int64)?) {
        let e = entry(column, block)
        return (e.rows, e.nulls, e.integerZone)
    }

    deinit { munmap(UnsafeMutableRawPointer(mutating: base), size) }

    static func readFooter(_ bytes: UnsafeRawBufferPointer, path: String) throws(StorageError) -> SegmentFooter {
        guard bytes[0..<8].elementsEqual(SegmentFooter.magic) else {
            throw StorageError(.corrupt, "not a Seam segment (bad magic)", file: path, offset: 0)
        }
        let version = bytes.loadUnaligned(fromByteOffset: 8, as: UInt32.self)
        guard version == SegmentFooter.version else {
            throw StorageError(.unsupported, "segment format version \(version) (this build reads \(SegmentFooter.version))", file: path)
        }
        var t = ByteReader(bytes, position: bytes.count - SegmentFooter.trailerSize)
        let footerOffset = Int(try t.u64())
        let footerLength = Int(try t.u32())
        let footerCRC = try t.u32()
        guard try t.slice(8).elementsEqual(SegmentFooter.endMagic) else {
            throw StorageError(.corrupt, "segment trailer is damaged or the file is truncated", file: path, offset: bytes.count - 8)
        }
        guard footerOffset >= 64, footerLength <= bytes.count,
            footerOffset <= bytes.count - SegmentFooter.trailerSize - footerLength
        else {
            throw StorageError(.corrupt, "footer offset \(footerOffset) out of range", file: path)
        }
        let footerBytes = UnsafeRawBufferPointer(rebasing: bytes[footerOffset..<(footerOffset + footerLength)])
        let actual = CRC32C.checksum(footerBytes)
        guard actual == footerCRC else {
            throw StorageError(
                .checksumMismatch, "footer checksum mismatch (stored \(hex(footerCRC)), computed \(hex(actual)))", file: path,
                offset: footerOffset)
        }
        do throws(StorageError) {
            return try SegmentFooter.decode(footerBytes, fileSize: footerOffset)
        } catch {
            throw error.at(file: path)
        }
    }

    public var rowCount: Int { footer.rowCount }
    public var schema: Schema { footer.schema }
    public var fileSize: Int { size }

    /// The raw bytes of a block after checking its checksum once.
    private func blockBytes(column: Int, block: Int) throws(StorageError) -> UnsafeRawBufferPointer {
        let at = firstEntry[column] + block
        let info = entries[at]
        let bytes = UnsafeRawBufferPointer(start: base + info.offset, count: info.length)
        if columnVerified[column].value.load(ordering: .relaxed) || verified.withLock({ $0.blocks[at] }) { return bytes }
        let actual = CRC32C.checksum(bytes)
        guard actual == info.checksum else {
            throw StorageError(
                .checksumMismatch, "block checksum mismatch (stored \(hex(info.checksum)), computed \(hex(actual)))",
                file: path, column: footer.schema[column].name, block: block, offset: info.offset)
        }
        let blocks = footer.columns[column].count
        verified.withLock { v in
            guard !v.blocks[at] else { return }
            v.blocks[at] = true
            v.perColumn[column] += 1
            if v.perColumn[column] == blocks { columnVerified[column].value.store(true, ordering: .relaxed) }
        }
        return bytes
    }

    /// The bytes block `block` of column `column` takes in the file.
    public func storedBytes(column: Int, block: Int) -> Int { entry(column, block).length }

    /// Those bytes without the validity bitmap: what a count over a sparse block's packed values reads.
    public func packedBytes(column: Int, block: Int) -> Int {
        let e = entry(column, block)
        return e.length - Self.validityBytes(e)
    }

    /// The size of a block's validity bitmap (blocks with NULLs have one, a word per 64 rows).
    private static func validityBytes(_ e: BlockEntry) -> Int { e.nulls > 0 ? Bitmap.wordCount(e.rows) * 8 : 0 }

    /// Hints the CPU to load the header and the first `payloadBytes` of a block's payload (after its validity
    /// bitmap) into the cache: a scan calls it for the block it reads next.
    public func prefetch(column: Int, block: Int, payloadBytes: Int = 4096) {
        let e = entry(column, block)
        let payload = min(e.length, BlockCodec.headerSize + Self.validityBytes(e))
        Prefetch.read(base + e.offset, bytes: 64)
        Prefetch.read(base + e.offset + payload, bytes: min(payloadBytes, e.length - payload))
    }

    /// Decodes block `block` of column `column`.
    public func read(column: Int, block: Int) throws(StorageError) -> ColumnVector {
        try read(column: column, block: block, rows: nil)
    }

    /// Decodes the rows `rows` (ascending, distinct, below the block's row count) of block `block` of column
    /// `column`, or all of them when nil. Only those rows are decoded where the block's codec allows it.
    public func read(column: Int, block: Int, rows: UnsafeBufferPointer<Int32>?) throws(StorageError) -> ColumnVector {
        precondition(column < footer.columns.count && block < footer.columns[column].count, "no such block")
        let bytes = try blockBytes(column: column, block: block)
        do throws(StorageError) {
            let v = try BlockCodec.decode(bytes, type: types[column], owner: self, rows: rows)
            guard v.count == rows?.count ?? entry(column, block).rows else {
                throw StorageError(.corrupt, "block decodes to \(v.count) rows, footer says \(entry(column, block).rows)")
            }
            return v
        } catch {
            throw error.at(file: path, column: footer.schema[column].name, block: block)
        }
    }

    /// Block `block` of column `column` as stored: a sparse block's valid values beside its validity, not spread
    /// over its rows (see ``BlockCodec/decodeCompact(_:type:owner:)``).
    public func readCompact(column: Int, block: Int) throws(StorageError) -> CompactBlock {
        precondition(column < footer.columns.count && block < footer.columns[column].count, "no such block")
        let bytes = try blockBytes(column: column, block: block)
        do throws(StorageError) {
            let e = entry(column, block)
            let c = try BlockCodec.decodeCompact(bytes, type: types[column], owner: self, valid: e.rows - e.nulls)
            guard c.rows == e.rows, !c.sparse || c.values.count == e.rows - e.nulls else {
                throw StorageError(.corrupt, "block holds other rows than the footer's \(e.rows) (\(e.nulls) NULL)")
            }
            return c
        } catch {
            throw error.at(file: path, column: footer.schema[column].name, block: block)
        }
    }

    /// Block `block` of column `column` as runs, when it is run-length coded (see ``BlockCodec/decodeRuns``).
    public func readRuns(column: Int, block: Int) throws(StorageError) -> RunBlock? {
        precondition(column < footer.columns.count && block < footer.columns[column].count, "no such block")
        let bytes = try blockBytes(column: column, block: block)
        do throws(StorageError) {
            guard let runs = try BlockCodec.decodeRuns(bytes, type: types[column], owner: self) else { return nil }
            guard runs.rows == entry(column, block).rows else {
                throw StorageError(.corrupt, "runs cover other than the footer's \(entry(column, block).rows) rows")
            }
            return runs
        } catch {
            throw error.at(file: path, column: footer.schema[column].name, block: block)
        }
    }

    /// The non-NULL rows of block `block` of column `column` whose value lies in `lo...hi`, counted without decoding,
    /// when the block's encoding allows it (see ``BlockCodec/countInRange``); nil otherwise.
    public func countInRange(column: Int, block: Int, lo: Int64, hi: Int64) throws(StorageError) -> Int? {
        precondition(column < footer.columns.count && block < footer.columns[column].count, "no such block")
        let bytes = try blockBytes(column: column, block: block)
        do throws(StorageError) {
            let info = entry(column, block)
            return try BlockCodec.countInRange(bytes, type: types[column], owner: self, lo: lo, hi: hi, valid: info.rows - info.nulls)
        } catch {
            throw error.at(file: path, column: footer.schema[column].name, block: block)
        }
    }

    /// The valid rows of a dictionary block that pass a NULL-rejecting predicate decided per entry, counted on the
    /// packed codes (see ``BlockCodec/countDictionaryFlags``); nil when the block cannot be counted so.
    public func countDictionaryFlags(column: Int, block: Int, entryFlags: (ColumnVector) throws -> [UInt8]) throws -> Int? {
        precondition(column < footer.columns.count && block < footer.columns[column].count, "no such block")
        let bytes = try blockBytes(column: column, block: block)
        do {
            let info = entry(column, block)
            return try BlockCodec.countDictionaryFlags(bytes, type: types[column], owner: self, valid: info.rows - info.nulls, entryFlags: entryFlags)
        } catch let e as StorageError {
            throw e.at(file: path, column: footer.schema[column].name, block: block)
        }
    }

    /// The valid rows of a dictionary block whose value equals one of `constants` in bytes (`passes`) or none of them
    /// (see ``BlockCodec/countDictionaryMatches``); nil when the block cannot be counted so.
    public func countDictionaryMatches(column: Int, block: Int, constants: [[UInt8]], passes: Bool) throws(StorageError) -> Int? {
        precondition(column < footer.columns.count && block < footer.columns[column].count, "no such block")
        let bytes = try blockBytes(column: column, block: block)
        do throws(StorageError) {
            let info = entry(column, block)
            return try BlockCodec.countDictionaryMatches(
                bytes, type: types[column], owner: self, valid: info.rows - info.nulls, constants: constants, passes: passes)
        } catch {
            throw error.at(file: path, column: footer.schema[column].name, block: block)
        }
    }

    /// The valid values of block `block` of `column` (sparse) in rows where `textColumn` equals one of `constants`
    /// (`passes`) or none of them, counted and summed (see ``BlockCodec/sumWhereTextMatches``); nil when the blocks
    /// are not of the forms that allow it.
    public func sumWhereTextMatches(column: Int, textColumn: Int, block: Int, constants: [[UInt8]], passes: Bool) throws(StorageError) -> (count: Int, sum: Int64)? {
        precondition(column < footer.columns.count && block < footer.columns[column].count, "no such block")
        precondition(textColumn < footer.columns.count && block < footer.columns[textColumn].count, "no such block")
        let values = try blockBytes(column: column, block: block), text = try blockBytes(column: textColumn, block: block)
        do throws(StorageError) {
            let info = entry(column, block)
            return try BlockCodec.sumWhereTextMatches(
                values: values, type: types[column], valid: info.rows - info.nulls, text: text, constants: constants, passes: passes)
        } catch {
            throw error.at(file: path, column: footer.schema[column].name + ", " + footer.schema[textColumn].name, block: block)
        }
    }

    /// Row flags of a sparse integer-like block under the range `lo...hi`, decided on its stored values (see
    /// ``BlockCodec/decodeRangeFlags``); nil when the block is not sparse.
    public func readRangeFlags(column: Int, block: Int, lo: Int64, hi: Int64) throws(StorageError) -> [UInt8]? {
        precondition(column < footer.columns.count && block < footer.columns[column].count, "no such block")
        let bytes = try blockBytes(column: column, block: block)
        do throws(StorageError) {
            guard let flags = try BlockCodec.decodeRangeFlags(bytes, type: types[column], owner: self, lo: lo, hi: hi) else { return nil }
            guard flags.count == entry(column, block).rows else {
                throw StorageError(.corrupt, "block holds other than the footer's \(entry(column, block).rows) rows")
            }
            return flags
        } catch {
            throw error.at(file: path, column: footer.schema[column].name, block: block)
        }
    }

    /// How many valid values of a block lie in `lo...hi` and their wrapping sum, on its packed codes (see
    /// ``BlockCodec/sumInRange``); nil when its codec or layout does not allow it.
    public func sumInRange(column: Int, block: Int, lo: Int64, hi: Int64) throws(StorageError) -> (count: Int, sum: Int64)? {
        precondition(column < footer.columns.count && block < footer.columns[column].count, "no such block")
        let bytes = try blockBytes(column: column, block: block)
        do throws(StorageError) {
            let info = entry(column, block)
            return try BlockCodec.sumInRange(bytes, type: types[column], lo: lo, hi: hi, valid: info.rows - info.nulls)
        } catch {
            throw error.at(file: path, column: footer.schema[column].name, block: block)
        }
    }

    /// Row flags of a dictionary block from flags of its entries (see ``BlockCodec/decodeDictionaryFlags``); nil
    /// when the block has another codec.
    public func readDictionaryFlags(column: Int, block: Int, entryFlags: (ColumnVector) throws -> [UInt8]) throws -> [UInt8]? {
        precondition(column < footer.columns.count && block < footer.columns[column].count, "no such block")
        let bytes = try blockBytes(column: column, block: block)
        do {
            guard let flags = try BlockCodec.decodeDictionaryFlags(bytes, type: types[column], owner: self, entryFlags: entryFlags) else {
                return nil
            }
            guard flags.count == entry(column, block).rows else {
                throw StorageError(.corrupt, "dictionary block holds other than the footer's \(entry(column, block).rows) rows")
            }
            return flags
        } catch let e as StorageError {
            throw e.at(file: path, column: footer.schema[column].name, block: block)
        }
    }

    /// Flags of a dictionary block at `rows` (ascending, below the block's rows) from flags of its entries (see
    /// ``BlockCodec/decodeDictionaryFlags(_:type:owner:rows:entryFlags:)``); nil when the block has another codec.
    public func readDictionaryFlags(
        column: Int, block: Int, rows: UnsafeBufferPointer<Int32>, entryFlags: (ColumnVector) throws -> [UInt8]
    ) throws -> [UInt8]? {
        precondition(column < footer.columns.count && block < footer.columns[column].count, "no such block")
        let bytes = try blockBytes(column: column, block: block)
        do {
            return try BlockCodec.decodeDictionaryFlags(bytes, type: types[column], owner: self, rows: rows, entryFlags: entryFlags)
        } catch let e as StorageError {
            throw e.at(file: path, column: footer.schema[column].name, block: block)
        }
    }

    /// Flags of a dictionary block at the rows set in `bits`, a bitmap over the block's `rows` rows (see
    /// ``BlockCodec/decodeDictionaryFlags(_:type:owner:atSetBitsOf:rows:valid:byGroups:entryFlags:)``); nil when the
    /// block has another codec, stores codes for its NULL rows, or is sparse and not read 64 rows at a time.
    public func readDictionaryFlags(
        column: Int, block: Int, atSetBitsOf bits: UnsafePointer<UInt64>, rows: Int, valid: Int,
        entryFlags: (ColumnVector) throws -> [UInt8]
    ) throws -> [UInt8]? {
        precondition(column < footer.columns.count && block < footer.columns[column].count, "no such block")
        let bytes = try blockBytes(column: column, block: block)
        do {
            return try BlockCodec.decodeDictionaryFlags(
                bytes, type: types[column], owner: self, atSetBitsOf: bits, rows: rows, valid: valid, entryFlags: entryFlags)
        } catch let e as StorageError {
            throw e.at(file: path, column: footer.schema[column].name, block: block)
        }
    }

    /// Checks the checksum of every block (and decodes it, to catch format damage behind a good checksum).
    /// Returns one error per damaged block.
    public func verifyAll() -> [StorageError] {
        var errors: [StorageError] = []
        for c in 0..<footer.columns.count {
            for b in 0..<footer.columns[c].count {
                let info = footer.columns[c][b]
                let bytes = UnsafeRawBufferPointer(start: base + info.offset, count: info.length)
                let actual = CRC32C.checksum(bytes)
                if actual != info.checksum {
                    errors.append(
                        StorageError(
                            .checksumMismatch, "block checksum mismatch (stored \(hex(info.checksum)), computed \(hex(actual)))",
                            file: path, column: footer.schema[c].name, block: b, offset: info.offset))
                    continue
                }
                do { _ = try read(column: c, block: b) } catch { errors.append(error) }
            }
        }
        return errors
    }

    /// Every row of column `column` as one vector (tests and small tables).
    public func readColumn(_ column: Int) throws(StorageError) -> [ColumnVector] {
        var out: [ColumnVector] = []
        for b in 0..<footer.columns[column].count { out.append(try read(column: column, block: b)) }
        return out
    }
}

func hex(_ v: UInt32) -> String {
    let s = String(v, radix: 16)
    return "0x" + String(repeating: "0", count: 8 - s.count) + s
}
