package import SeamColumnar

/// Delta + bit-packing for integer types: for timestamps and sorted ids, whose neighbours differ by little.
///
/// ```
/// | first: i64 | min delta: i64 | width: u8 | pad: 7 | bit-packed (delta[i] - min delta) for i in 1..<n |
/// ```
/// `delta[i] = value[i] &- value[i-1]` in wrapping 64-bit arithmetic, so every input round-trips exactly.
package struct DeltaCodec: Codec {
    package var id: CodecID { .delta }
    package var name: String { "delta" }
    package init() {}

    package func supports(_ type: LogicalType) -> Bool {
        type.physical == .int32 || type.physical == .int64
    }

    func analyze(_ v: IntegerValues) -> (minDelta: Int64, width: Int) {
        guard v.count > 1 else { return (0, 0) }
        var lo = Int64.max, hi = Int64.min
        for i in 1..<v.count {
            let d = v[i] &- v[i - 1]
            lo = Swift.min(lo, d)
            hi = Swift.max(hi, d)
        }
        return (lo, BitPacking.width(of: UInt64(bitPattern: hi &- lo)))
    }

    package func estimateSize(_ v: ColumnVector) -> Int? {
        guard let ints = IntegerValues(v), v.count > 1 else { return nil }
        return 24 + BitPacking.byteCount(count: v.count - 1, width: analyze(ints).width)
    }

    package func encode(_ v: ColumnVector, into out: inout ByteWriter) {
        let ints = IntegerValues(v)!
        let (minDelta, width) = analyze(ints)
        out.i64(v.count > 0 ? ints[0] : 0)
        out.i64(minDelta)
        out.u8(UInt8(width))
        for _ in 0..<7 { out.u8(0) }
        BitPacking.pack(count: Swift.max(v.count - 1, 0), width: width, into: &out) {
            UInt64(bitPattern: (ints[$0 + 1] &- ints[$0]) &- minDelta)
        }
    }

    package func decode(
        _ payload: UnsafeRawBufferPointer, type: LogicalType, count: Int, owner: AnyObject?
    ) throws(StorageError) -> DecodedValues {
        var r = ByteReader(payload)
        let first = try r.i64()
        let minDelta = try r.i64()
        let width = Int(try r.u8())
        _ = try r.slice(7)
        guard width <= 64 else { throw StorageError(.corrupt, "bit width \(width) is over 64") }
        let n = Swift.max(count - 1, 0)
        let packed = try r.slice(BitPacking.byteCount(count: n, width: width))
        // One pass: each value is the previous one plus its delta (stored less the min delta), in 64-bit wrapping
        // arithmetic, then narrowed to the output type.
        let values = makeIntegerBuffer(type: type, count: count) { p in
            guard count > 0 else { return }
            if type.physical == .int32 {
                BitPacking.unpackRunningSum(
                    packed, count: n, width: width, reference: UInt64(bitPattern: minDelta), first: UInt64(bitPattern: first),
                    into: p.assumingMemoryBound(to: Int32.self))
            } else {
                BitPacking.unpackRunningSum(
                    packed, count: n, width: width, reference: UInt64(bitPattern: minDelta), first: UInt64(bitPattern: first),
                    into: p.assumingMemoryBound(to: Int64.self))
            }
        }
        return DecodedValues(values: values)
    }
}
