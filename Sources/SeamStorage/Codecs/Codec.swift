package import SeamColumnar

/// The byte that names a codec on disk. Ids are never reused; see FORMAT.md.
public struct CodecID: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public let rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }

    public static let plain = CodecID(rawValue: 0x01)
    public static let dictionary = CodecID(rawValue: 0x02)
    public static let delta = CodecID(rawValue: 0x03)
    public static let frameOfReference = CodecID(rawValue: 0x04)
    public static let runLength = CodecID(rawValue: 0x05)
    public static let verticalFrameOfReference = CodecID(rawValue: 0x06)

    public var description: String { Codecs.byID[rawValue]?.name ?? "codec#\(rawValue)" }
}

/// Decoded values of a block: fixed-width values, or VARCHAR bytes plus offsets.
package struct DecodedValues {
    package var values: Buffer
    package var offsets: Buffer?
    /// For VARCHAR: codes (`UInt32` per row) into `entries`, when the codec keeps the dictionary form; `values` and
    /// `offsets` are then unused.
    package var dictionary: (codes: Buffer, entries: ColumnVector)? = nil

    package init(values: Buffer, offsets: Buffer? = nil) {
        self.values = values
        self.offsets = offsets
    }

    package init(codes: Buffer, entries: ColumnVector) {
        self.values = codes
        self.offsets = nil
        self.dictionary = (codes, entries)
    }
}

/// A lightweight encoding of one block's values (nulls are handled by the block, not the codec).
///
/// Lifecycle as in DuckDB's compression functions: `estimateSize` (analyze the data; exact size in bytes, or
/// `nil` when the codec cannot encode it), `encode`, `decode`. The values a codec sees hold a fill value in
/// null slots, so a codec never needs to know about nulls.
package protocol Codec: Sendable {
    var id: CodecID { get }
    /// The name shown by `seam stats` and `storage_info`.
    var name: String { get }
    func supports(_ type: LogicalType) -> Bool
    func estimateSize(_ v: ColumnVector) -> Int?
    func encode(_ v: ColumnVector, into out: inout ByteWriter)
    /// `estimateSize` and `encode` sharing one analysis of the values: the writer chooses among the codecs' plans
    /// and runs only the chosen one's `write`. Codecs whose analysis is costly (a dictionary, runs) keep what it
    /// found for the write instead of redoing it.
    func plan(_ v: ColumnVector) -> EncodingPlan?
    /// Decodes `count` values. `owner` keeps `payload` alive; a codec may borrow from the payload instead of
    /// copying when `owner` is given and the layout allows it.
    func decode(
        _ payload: UnsafeRawBufferPointer, type: LogicalType, count: Int, owner: AnyObject?
    ) throws(StorageError) -> DecodedValues
}

/// A codec that can decode a chosen subset of a block's rows without decoding the rest (bit-packed values and run
/// lengths allow random access). Scans use it for the columns a filter did not need: only the rows that passed are
/// decoded. Codecs without it are decoded whole and gathered.
package protocol SelectiveCodec: Codec {
    /// Decodes the values at `rows` (ascending, distinct, each below `count`), in that order: the same values as
    /// ``Codec/decode(_:type:count:owner:)`` followed by a gather. A damaged payload throws as the full decode does.
    func decode(
        _ payload: UnsafeRawBufferPointer, type: LogicalType, count: Int, rows: UnsafeBufferPointer<Int32>, owner: AnyObject?
    ) throws(StorageError) -> DecodedValues
}

/// A codec that counts the values of a block inside an integer range without decoding them (a filter's `count(*)`).
/// ``BlockCodec/countInRange(_:type:owner:lo:hi:valid:)`` calls the conforming codecs by their id, not through this
/// protocol: a cast to it per block cost the runtime a conformance lookup.
package protocol RangeCountingCodec: Codec {
    /// How many of the `count` values lie in `lo...hi`.
    func countInRange(_ payload: UnsafeRawBufferPointer, count: Int, lo: Int64, hi: Int64) throws(StorageError) -> Int
}

/// The table of codecs. Registering a codec is one line here; a duplicate id stops the program at startup.
package enum Codecs {
    package static let all: [any Codec] = [
        // The vertical frame of reference comes before the horizontal one: their sizes are equal for widths up to
        // 32 bits, and the first of equal sizes is chosen.
        PlainCodec(), VerticalFrameOfReferenceCodec(), FrameOfReferenceCodec(), DeltaCodec(), RunLengthCodec(), DictionaryCodec(),
    ]

    package static let byID: [UInt8: any Codec] = {
        var table: [UInt8: any Codec] = [:]
        for c in all {
            precondition(table[c.id.rawValue] == nil, "duplicate codec id \(c.id.rawValue)")
            table[c.id.rawValue] = c
        }
        return table
    }()

    package static func named(_ name: String) -> (any Codec)? {
        all.first { $0.name == name.lowercased() }
    }
}

/// Reads integer-typed values (BOOLEAN, INTEGER, BIGINT, DECIMAL, TIMESTAMP) as Int64 for analysis and encoding.
///
/// The values' buffer is taken once: reading `ColumnVector.values` per element costs a retain and release each time.
package struct IntegerValues {
    let buffer: Buffer
    let base: UnsafeRawPointer
    let physical: PhysicalType
    package let count: Int

    package init?(_ v: ColumnVector) {
        guard v.type.physical == .uint8 || v.type.physical == .int32 || v.type.physical == .int64 else { return nil }
        buffer = v.values
        base = UnsafeRawPointer(buffer.base)
        physical = v.type.physical
        count = v.count
    }

    @inline(__always)
    package subscript(_ i: Int) -> Int64 {
        switch physical {
        case .uint8: return Int64(base.load(fromByteOffset: i, as: UInt8.self))
        case .int32: return Int64(base.loadUnaligned(fromByteOffset: i * 4, as: Int32.self))
        default: return base.loadUnaligned(fromByteOffset: i * 8, as: Int64.self)
        }
    }
}

/// Writes `count` Int64 values into a fresh buffer of the physical type of `type`; `fill` writes all of them.
package func makeIntegerBuffer(
    type: LogicalType, count: Int, _ fill: (UnsafeMutableRawPointer) -> Void
) -> Buffer {
    Buffer(uninitializedByteCount: count * type.physical.width!) { fill($0.baseAddress ?? UnsafeMutableRawPointer(bitPattern: 64)!) }
}

/// Unpacks bit-packed values (all `count` of them, or only those at `rows`) into a buffer of the physical type of
/// `type`.
package func unpackIntegers(
    _ src: UnsafeRawBufferPointer, type: LogicalType, count: Int, rows: UnsafeBufferPointer<Int32>?, width: Int, reference: UInt64
) -> Buffer {
    func unpack<T: FixedWidthInteger>(_ out: UnsafeMutablePointer<T>) {
        if let rows {
            BitPacking.unpack(src, rows: rows, width: width, reference: reference, into: out)
        } else {
            BitPacking.unpack(src, count: count, width: width, reference: reference, into: out)
        }
    }
    let n = rows?.count ?? count
    return makeIntegerBuffer(type: type, count: n) { p in
        guard n > 0 else { return }
        switch type.physical {
        case .uint8: unpack(p.assumingMemoryBound(to: UInt8.self))
        case .int32: unpack(p.assumingMemoryBound(to: Int32.self))
        default: unpack(p.assumingMemoryBound(to: Int64.self))
        }
    }
}

/// A codec's exact encoded size for a block, and how to write it.
package struct EncodingPlan {
    package var size: Int
    package var write: (inout ByteWriter) -> Void
    package init(size: Int, write: @escaping (inout ByteWriter) -> Void) {
        self.size = size
        self.write = write
    }
}

extension Codec {
    package func plan(_ v: ColumnVector) -> EncodingPlan? {
        estimateSize(v).map { size in EncodingPlan(size: size) { encode(v, into: &$0) } }
    }
}
