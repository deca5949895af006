public import SeamColumnar

/// What a segment's footer says of one stored block.
public struct BlockInfo: Sendable, Equatable {
    public var offset: Int
    public var length: Int
    public var rows: Int
    public var nulls: Int
    public var codec: CodecID
    public var lz4: Bool
    /// The block stores its valid rows only (``BlockFlags/sparse``).
    public var sparse: Bool
    public var checksum: UInt32
    /// In-memory size of the decoded block (values, offsets, validity).
    public var rawBytes: Int
    public var zone: ZoneMap
}

/// The footer of a segment file: schema, row count and the block directory of every column.
///
/// Segment file layout (little-endian):
/// ```
/// | magic "SEAMSEG\0" | version: u32 | reserved: u32 | pad to 64 |
/// | block | pad to 64 | block | pad to 64 | …                      (column 0's blocks, then column 1's, …)
/// | footer                                                          |
/// | footer offset: u64 | footer length: u32 | footer CRC-32C: u32 | magic "SEAMEND\0" |   (24 bytes)
/// ```
/// See FORMAT.md for the footer's fields.
public struct SegmentFooter: Sendable, Equatable {
    public var schema: Schema
    public var rowCount: Int
    public var columns: [[BlockInfo]]

    static let magic: [UInt8] = Array("SEAMSEG\0".utf8)
    static let endMagic: [UInt8] = Array("SEAMEND\0".utf8)
    static let version: UInt32 = 1
    static let trailerSize = 24

    func encode(into w: inout ByteWriter) {
        w.u32(UInt32(schema.count))
        for f in schema.fields {
            w.string16(f.name)
            w.u8(f.type.rawValue)
        }
        w.u64(UInt64(rowCount))
        for blocks in columns {
            w.u32(UInt32(blocks.count))
            for b in blocks {
                w.u64(UInt64(b.offset))
                w.u32(UInt32(b.length))
                w.u32(UInt32(b.rows))
                w.u32(UInt32(b.nulls))
                w.u8(b.codec.rawValue)
                w.u8((b.lz4 ? 1 : 0) | (b.sparse ? 4 : 0))  // the block's own flag bits
                w.u32(b.checksum)
                w.u64(UInt64(b.rawBytes))
                switch b.zone {
                case .none: w.u8(0)
                case .integer(let lo, let hi):
                    w.u8(1)
                    w.i64(lo)
                    w.i64(hi)
                case .double(let lo, let hi):
                    w.u8(2)
                    w.f64(lo)
                    w.f64(hi)
                case .string(let lo, let hi):
                    w.u8(3)
                    w.string16(lo)
                    w.u8(hi == nil ? 0 : 1)
                    w.string16(hi ?? "")
                }
            }
        }
    }

    static func decode(_ bytes: UnsafeRawBufferPointer, fileSize: Int) throws(StorageError) -> SegmentFooter {
        var r = ByteReader(bytes)
        let n = Int(try r.u32())
        guard n <= 4096 else { throw StorageError(.corrupt, "footer claims \(n) columns") }
        var fields: [Field] = []
        for _ in 0..<n {
            let name = try r.string16()
            let raw = try r.u8()
            guard let t = LogicalType(rawValue: raw) else { throw StorageError(.unsupported, "unknown type id \(raw)") }
            fields.append(Field(name, t))
        }
        let rowCount = Int(try r.u64())
        var columns: [[BlockInfo]] = []
        for c in 0..<n {
            let count = Int(try r.u32())
            guard count <= r.remaining else { throw StorageError(.corrupt, "footer claims \(count) blocks", column: fields[c].name) }
            var blocks: [BlockInfo] = []
            var rows = 0
            for _ in 0..<count {
                let offset = Int(try r.u64())
                let length = Int(try r.u32())
                let brows = Int(try r.u32())
                let nulls = Int(try r.u32())
                let codec = CodecID(rawValue: try r.u8())
                let flags = BlockFlags(rawValue: try r.u8())
                let crc = try r.u32()
                let raw = Int(try r.u64())
                let zone: ZoneMap
                switch try r.u8() {
                case 0: zone = .none
                case 1: zone = .integer(min: try r.i64(), max: try r.i64())
                case 2: zone = .double(min: try r.f64(), max: try r.f64())
                case 3:
                    let lo = try r.string16()
                    let exact = try r.u8() == 1
                    let hi = try r.string16()
                    zone = .string(min: lo, max: exact ? hi : nil)
                case let k: throw StorageError(.corrupt, "unknown zone map kind \(k)", column: fields[c].name)
                }
                guard offset >= 64, length >= BlockCodec.headerSize, offset <= fileSize, length <= fileSize - offset,
                    nulls <= brows
                else {
                    throw StorageError(
                        .corrupt, "block directory entry out of range (offset \(offset), length \(length))",
                        column: fields[c].name, block: blocks.count)
                }
                rows += brows
                blocks.append(
                    BlockInfo(
                        offset: offset, length: length, rows: brows, nulls: nulls, codec: codec, lz4: flags.contains(.lz4),
                        sparse: flags.contains(.sparse), checksum: crc,
                        rawBytes: raw, zone: zone))
            }
            guard rows == rowCount else {
                throw StorageError(.corrupt, "blocks hold \(rows) rows, segment has \(rowCount)", column: fields[c].name)
            }
            columns.append(blocks)
        }
        return SegmentFooter(schema: Schema(fields), rowCount: rowCount, columns: columns)
    }
}
