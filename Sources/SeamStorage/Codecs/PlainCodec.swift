package import SeamColumnar

/// Plain: values as they sit in memory.
///
/// ```
/// fixed width:  | value 0 | value 1 | … | value n-1 |            (1, 4 or 8 bytes each, little-endian)
/// VARCHAR:      | offset 0 … offset n (u32 × n+1) | UTF-8 bytes |
/// ```
/// Decoding borrows from the (mapped) payload without copying when the payload is suitably aligned.
package struct PlainCodec: Codec {
    package var id: CodecID { .plain }
    package var name: String { "plain" }
    package init() {}

    package func supports(_ type: LogicalType) -> Bool { true }

    package func estimateSize(_ v: ColumnVector) -> Int? {
        if let w = v.type.physical.width { return v.count * w }
        return (v.count + 1) * 4 + Int(v.offsets!.typed(UInt32.self, count: v.count + 1)[v.count])
    }

    package func encode(_ v: ColumnVector, into out: inout ByteWriter) {
        if let w = v.type.physical.width {
            out.raw(UnsafeRawBufferPointer(start: v.values.base, count: v.count * w))
            return
        }
        let offs = v.offsets!.typed(UInt32.self, count: v.count + 1)
        // Offsets are rebased to start at 0 so a sliced vector encodes the same way.
        let first = offs[0]
        for o in offs { out.u32(o &- first) }
        out.raw(UnsafeRawBufferPointer(start: v.values.base + Int(first), count: Int(offs[v.count] &- first)))
    }

    /// The VARCHAR layout of ``encode(_:into:)`` for rows `rows` of `v` (a dictionary's entries), written straight
    /// from those rows: what encoding a gathered copy of them writes, without the copy.
    package func encode(strings v: ColumnVector, rows: [Int32], into out: inout ByteWriter) {
        var end: UInt32 = 0
        out.u32(0)
        for r in rows {
            end &+= UInt32(v.stringBytes(Int(r)).count)
            out.u32(end)
        }
        for r in rows { out.raw(v.stringBytes(Int(r))) }
    }

    package func decode(
        _ payload: UnsafeRawBufferPointer, type: LogicalType, count: Int, owner: AnyObject?
    ) throws(StorageError) -> DecodedValues {
        if let w = type.physical.width {
            guard payload.count == count * w else {
                throw StorageError(.corrupt, "plain block holds \(payload.count) bytes, expected \(count * w)")
            }
            return DecodedValues(values: borrowOrCopy(payload, alignment: w, owner: owner))
        }
        var r = ByteReader(payload)
        let offsetBytes = try r.slice((count + 1) * 4)
        let bytes = try r.slice(r.remaining)
        // Offsets must start at 0, never decrease and end at the byte count: a corrupt block must throw, not trap.
        var prev: UInt32 = 0
        for i in 0...count {
            let o = offsetBytes.loadUnaligned(fromByteOffset: i * 4, as: UInt32.self)
            guard (i == 0 ? o == 0 : o >= prev), Int(o) <= bytes.count else {
                throw StorageError(.corrupt, "plain VARCHAR offset \(i) is out of order or range")
            }
            prev = o
        }
        guard Int(prev) == bytes.count else { throw StorageError(.corrupt, "plain VARCHAR bytes do not match offsets") }
        return DecodedValues(
            values: borrowOrCopy(bytes, alignment: 1, owner: owner),
            offsets: borrowOrCopy(offsetBytes, alignment: 4, owner: owner))
    }
}

/// A buffer over `bytes`: borrowed when an owner keeps them alive and they are aligned, otherwise copied.
package func borrowOrCopy(_ bytes: UnsafeRawBufferPointer, alignment: Int, owner: AnyObject?) -> Buffer {
    if let owner, let base = bytes.baseAddress, Int(bitPattern: base) % alignment == 0 {
        return Buffer(borrowing: base, byteCount: bytes.count, owner: owner)
    }
    return Buffer(copyingBytes: bytes)
}
