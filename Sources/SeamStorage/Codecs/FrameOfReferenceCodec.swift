package import SeamColumnar

/// Frame of reference + bit-packing for integer types: each value is stored as `value - min` in the fewest bits.
///
/// ```
/// | reference: i64 (the minimum) | width: u8 | pad: 7 | bit-packed (value - reference), `width` bits each |
/// ```
/// A constant block has width 0 and no packed bytes.
package struct FrameOfReferenceCodec: SelectiveCodec, RangeCountingCodec {
    package var id: CodecID { .frameOfReference }
    package var name: String { "for" }
    package init() {}

    package func supports(_ type: LogicalType) -> Bool {
        type.physical == .uint8 || type.physical == .int32 || type.physical == .int64
    }

    func analyze(_ v: IntegerValues) -> (reference: Int64, width: Int) {
        guard v.count > 0 else { return (0, 0) }
        var lo = v[0], hi = v[0]
        for i in 1..<v.count {
            let x = v[i]
            lo = Swift.min(lo, x)
            hi = Swift.max(hi, x)
        }
        return (lo, BitPacking.width(of: UInt64(bitPattern: hi &- lo)))
    }

    package func estimateSize(_ v: ColumnVector) -> Int? {
        guard let ints = IntegerValues(v) else { return nil }
        return 16 + BitPacking.byteCount(count: v.count, width: analyze(ints).width)
    }

    package func encode(_ v: ColumnVector, into out: inout ByteWriter) {
        let ints = IntegerValues(v)!
        let (reference, width) = analyze(ints)
        out.i64(reference)
        out.u8(UInt8(width))
        for _ in 0..<7 { out.u8(0) }
        BitPacking.pack(count: v.count, width: width, into: &out) { UInt64(bitPattern: ints[$0] &- reference) }
    }

    package func decode(
        _ payload: UnsafeRawBufferPointer, type: LogicalType, count: Int, owner: AnyObject?
    ) throws(StorageError) -> DecodedValues {
        let (reference, width, packed) = try parts(payload, count: count)
        return DecodedValues(values: unpackIntegers(packed, type: type, count: count, rows: nil, width: width, reference: reference))
    }

    package func decode(
        _ payload: UnsafeRawBufferPointer, type: LogicalType, count: Int, rows: UnsafeBufferPointer<Int32>, owner: AnyObject?
    ) throws(StorageError) -> DecodedValues {
        let (reference, width, packed) = try parts(payload, count: count)
        return DecodedValues(values: unpackIntegers(packed, type: type, count: count, rows: rows, width: width, reference: reference))
    }

    /// How many of the block's `count` values lie in `lo...hi`, counted on the packed values.
    package func countInRange(_ payload: UnsafeRawBufferPointer, count: Int, lo: Int64, hi: Int64) throws(StorageError) -> Int {
        let (reference, width, packed) = try parts(payload, count: count)
        guard let codes = Self.codeRange(reference: reference, width: width, lo: lo, hi: hi) else { return 0 }
        return BitPacking.countInRange(packed, count: count, width: width, lo: codes.lo, span: codes.span)
    }

    /// The codes of `width` bits whose values (`reference + code`) lie in `lo...hi`, as `lo...lo + span`; nil when none.
    static func codeRange(reference: UInt64, width: Int, lo: Int64, hi: Int64) -> (lo: UInt64, span: UInt64)? {
        let ref = Int128(Int64(bitPattern: reference))
        let maxCode = width == 64 ? Int128(UInt64.max) : Int128((UInt64(1) << UInt64(width)) - 1)
        let codeLo = Swift.max(Int128(lo) - ref, 0), codeHi = Swift.min(Int128(hi) - ref, maxCode)
        guard codeLo <= codeHi else { return nil }
        return (UInt64(codeLo), UInt64(codeHi - codeLo))
    }

    /// The reference, the bit width and the packed values of a block, after checking its header.
    private func parts(
        _ payload: UnsafeRawBufferPointer, count: Int
    ) throws(StorageError) -> (reference: UInt64, width: Int, packed: UnsafeRawBufferPointer) {
        var r = ByteReader(payload)
        let reference = try r.i64()
        let width = Int(try r.u8())
        _ = try r.slice(7)
        guard width <= 64 else { throw StorageError(.corrupt, "bit width \(width) is over 64") }
        return (UInt64(bitPattern: reference), width, try r.slice(BitPacking.byteCount(count: count, width: width)))
    }
}
