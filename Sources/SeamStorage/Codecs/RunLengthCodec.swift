package import SeamColumnar
import SeamKernels

/// Run-length: runs of equal values stored once with their lengths. Wraps the plain codec for the run values.
///
/// ```
/// | run count: u32 | pad: 4 | run lengths: u32 × runs | pad to 8 | run values, plain-encoded |
/// ```
package struct RunLengthCodec: Codec {
    package var id: CodecID { .runLength }
    package var name: String { "rle" }
    package init() {}

    package func supports(_ type: LogicalType) -> Bool { true }

    /// Start row of every run.
    func runStarts(_ v: ColumnVector) -> [Int32] {
        guard v.count > 0 else { return [] }
        var starts: [Int32] = [0]
        if let w = v.type.physical.width {
            let base = v.values.base
            for i in 1..<v.count where memcmp(base + i * w, base + (i - 1) * w, w) != 0 { starts.append(Int32(i)) }
        } else {
            let strings = StringSpans(v)
            for i in 1..<v.count where !strings.equal(i, i - 1) { starts.append(Int32(i)) }
        }
        return starts
    }

    package func estimateSize(_ v: ColumnVector) -> Int? {
        let starts = runStarts(v)
        let head = 8 + (starts.count * 4 + 7) / 8 * 8
        if let w = v.type.physical.width { return head + starts.count * w }
        var bytes = 0
        let strings = StringSpans(v)
        for s in starts { bytes += strings[Int(s)].count }
        return head + (starts.count + 1) * 4 + bytes
    }

    package func encode(_ v: ColumnVector, into out: inout ByteWriter) {
        let starts = runStarts(v)
        out.u32(UInt32(starts.count))
        out.u32(0)
        for (k, s) in starts.enumerated() {
            let end = k + 1 < starts.count ? Int(starts[k + 1]) : v.count
            out.u32(UInt32(end - Int(s)))
        }
        out.pad(to: 8)
        PlainCodec().encode(Gather.rows(v, starts), into: &out)
    }

    package func decode(
        _ payload: UnsafeRawBufferPointer, type: LogicalType, count: Int, owner: AnyObject?
    ) throws(StorageError) -> DecodedValues {
        var r = ByteReader(payload)
        let runs = Int(try r.u32())
        _ = try r.u32()
        guard runs <= count, (runs == 0) == (count == 0) else {
            throw StorageError(.corrupt, "run-length block has \(runs) runs for \(count) rows")
        }
        let lengths = try r.slice(runs * 4)
        try r.align(to: 8)
        var total = 0
        for k in 0..<runs {
            let len = Int(lengths.loadUnaligned(fromByteOffset: k * 4, as: UInt32.self))
            guard len > 0 else { throw StorageError(.corrupt, "run \(k) has length 0") }
            total += len
        }
        guard total == count else { throw StorageError(.corrupt, "runs cover \(total) rows, block has \(count)") }
        let runValues = try PlainCodec().decode(try r.slice(r.remaining), type: type, count: runs, owner: nil)
        func runLength(_ k: Int) -> Int { Int(lengths.loadUnaligned(fromByteOffset: k * 4, as: UInt32.self)) }
        if let w = type.physical.width {
            func fill<T: BitwiseCopyable>(_: T.Type) -> Buffer {
                Buffer(byteCount: count * w) { out in
                    let o = out.bindMemory(to: T.self)
                    let src = runValues.values.base
                    var at = 0
                    for k in 0..<runs {
                        let v = src.loadUnaligned(fromByteOffset: k * w, as: T.self)
                        for i in at..<(at + runLength(k)) { o[i] = v }
                        at += runLength(k)
                    }
                }
            }
            switch w {
            case 1: return DecodedValues(values: fill(UInt8.self))
            case 4: return DecodedValues(values: fill(UInt32.self))
            default:
                precondition(w == 8, "fixed widths are 1, 4 and 8 bytes")
                return DecodedValues(values: fill(UInt64.self))
            }
        }
        // VARCHAR stays in dictionary form: one entry per run, the run's index as each row's code.
        let runVector = ColumnVector(type: .varchar, count: runs, values: runValues.values, offsets: runValues.offsets)
        let codes = Buffer(byteCount: count * 4) { out in
            let o = out.bindMemory(to: UInt32.self)
            var at = 0
            for k in 0..<runs {
                for i in at..<(at + runLength(k)) { o[i] = UInt32(k) }
                at += runLength(k)
            }
        }
        return DecodedValues(codes: codes, entries: runVector)
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
