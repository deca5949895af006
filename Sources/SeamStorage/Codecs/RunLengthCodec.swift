package import SeamColumnar
import SeamKernels

/// Run-length: runs of equal values stored once with their lengths. Wraps the plain codec for the run values.
///
/// ```
/// | run count: u32 | pad: 4 | run lengths: u32 × runs | pad to 8 | run values, plain-encoded |
/// ```
package struct RunLengthCodec: SelectiveCodec {
    package var id: CodecID { .runLength }
    package var name: String { "rle" }
    package init() {}

    package func supports(_ type: LogicalType) -> Bool { true }

    /// Start row of every run. `bounded`: nil once fixed-width values have so many runs that run-length cannot be
    /// smaller than plain (a run costs its length and its value, a plain row its value), which is always a candidate.
    func runStarts(_ v: ColumnVector, bounded: Bool) -> [Int32]? {
        guard v.count > 0 else { return [] }
        var starts: [Int32] = [0]
        if let w = v.type.physical.width {
            let most = bounded ? v.count * w / (4 + w) : Int.max
            // Typed loads, not a memcmp call per row.
            func scan<T: FixedWidthInteger>(_: T.Type) -> Bool {
                let p = v.values.typed(T.self, count: v.count)
                var previous = p[0]
                for i in 1..<v.count {
                    let x = p[i]
                    if x != previous {
                        if starts.count >= most { return false }
                        starts.append(Int32(truncatingIfNeeded: i))
                        previous = x
                    }
                }
                return true
            }
            let complete: Bool
            switch w {
            case 1: complete = scan(UInt8.self)
            case 4: complete = scan(UInt32.self)
            case 8: complete = scan(UInt64.self)  // doubles by bit pattern: equal values, equal bits (fills are zeros)
            default: preconditionFailure("no run scan for \(w)-byte values")
            }
            return complete ? starts : nil
        } else {
            let strings = StringSpans(v)
            for i in 1..<v.count where !strings.equal(i, i - 1) { starts.append(Int32(i)) }
        }
        return starts
    }

    package func estimateSize(_ v: ColumnVector) -> Int? { plan(v, bounded: false)?.size }

    package func encode(_ v: ColumnVector, into out: inout ByteWriter) { plan(v, bounded: false)!.write(&out) }

    /// Nil when run-length cannot beat plain (the writer's choice among plans, which always has plain's).
    package func plan(_ v: ColumnVector) -> EncodingPlan? { plan(v, bounded: true) }

    private func plan(_ v: ColumnVector, bounded: Bool) -> EncodingPlan? {
        guard let starts = runStarts(v, bounded: bounded) else { return nil }
        let head = 8 + (starts.count * 4 + 7) / 8 * 8
        let size: Int
        if let w = v.type.physical.width {
            size = head + starts.count * w
        } else {
            var bytes = 0
            let strings = StringSpans(v)
            for s in starts { bytes += strings[Int(s)].count }
            size = head + (starts.count + 1) * 4 + bytes
        }
        return EncodingPlan(size: size) { out in
            out.u32(UInt32(starts.count))
            out.u32(0)
            for (k, s) in starts.enumerated() {
                let end = k + 1 < starts.count ? Int(starts[k + 1]) : v.count
                out.u32(UInt32(end - Int(s)))
            }
            out.pad(to: 8)
            // Text runs' values are written straight from their rows: a gathered copy first had copied a nearly
            // distinct text column (an events block's properties, a run per row) once more.
            if v.type.physical.width == nil {
                PlainCodec().encode(strings: v, rows: starts, into: &out)
            } else {
                PlainCodec().encode(Gather.rows(v, starts), into: &out)
            }
        }
    }

    /// The run lengths and run values of a run-length block, after checking that the runs cover `count` rows.
    /// Both are borrowed from the payload where `owner` keeps it alive and it is aligned.
    private func parts(
        _ payload: UnsafeRawBufferPointer, type: LogicalType, count: Int, owner: AnyObject?
    ) throws(StorageError) -> (runs: Int, lengths: Buffer, values: DecodedValues) {
        var r = ByteReader(payload)
        let runs = Int(try r.u32())
        _ = try r.u32()
        guard runs <= count, (runs == 0) == (count == 0) else {
            throw StorageError(.corrupt, "run-length block has \(runs) runs for \(count) rows")
        }
        let lengths = borrowOrCopy(try r.slice(runs * 4), alignment: 4, owner: owner)
        try r.align(to: 8)
        // One pass with no branch per run (it vectorizes): the total and the shortest run, checked after.
        let p = lengths.typed(UInt32.self, count: runs)
        var total: UInt64 = 0
        var shortest = UInt32.max
        for k in 0..<runs {
            total &+= UInt64(p[k])
            shortest = min(shortest, p[k])
        }
        guard runs == 0 || shortest > 0 else {
            throw StorageError(.corrupt, "run \(p.firstIndex(of: 0) ?? 0) has length 0")
        }
        guard total == UInt64(count) else { throw StorageError(.corrupt, "runs cover \(total) rows, block has \(count)") }
        let runValues = try PlainCodec().decode(try r.slice(r.remaining), type: type, count: runs, owner: owner)
        return (runs, lengths, runValues)
    }

    /// The block's runs: each run's value (a vector of `runs` rows) and length (u32 each).
    func runs(
        _ payload: UnsafeRawBufferPointer, type: LogicalType, count: Int, owner: AnyObject?
    ) throws(StorageError) -> (values: ColumnVector, lengths: Buffer) {
        let (runs, lengths, runValues) = try parts(payload, type: type, count: count, owner: owner)
        return (ColumnVector(type: type, count: runs, values: runValues.values, offsets: runValues.offsets), lengths)
    }

    package func decode(
        _ payload: UnsafeRawBufferPointer, type: LogicalType, count: Int, owner: AnyObject?
    ) throws(StorageError) -> DecodedValues {
        let (runs, lengths, runValues) = try parts(payload, type: type, count: count, owner: owner)
        return decoded(RunWalk(runs: runs, lengths: lengths, rows: nil), values: runValues, type: type, count: count)
    }

    package func decode(
        _ payload: UnsafeRawBufferPointer, type: LogicalType, count: Int, rows: UnsafeBufferPointer<Int32>, owner: AnyObject?
    ) throws(StorageError) -> DecodedValues {
        let (runs, lengths, runValues) = try parts(payload, type: type, count: count, owner: owner)
        return decoded(RunWalk(runs: runs, lengths: lengths, rows: rows), values: runValues, type: type, count: rows.count)
    }

    /// The output rows, each given its run by `walk`: fixed-width types take the run's value; VARCHAR stays in
    /// dictionary form, one entry per run and the run's index as each row's code.
    private func decoded(_ walk: RunWalk, values runValues: DecodedValues, type: LogicalType, count: Int) -> DecodedValues {
        if let w = type.physical.width {
            let src = runValues.values.base
            switch w {
            case 1:
                return DecodedValues(values: Buffer(byteCount: count) { out in
                    walk.fill(out.bindMemory(to: UInt8.self).baseAddress) { k in src.load(fromByteOffset: k, as: UInt8.self) }
                })
            case 4:
                return DecodedValues(values: Buffer(byteCount: count * 4) { out in
                    walk.fill(out.bindMemory(to: UInt32.self).baseAddress) { k in src.loadUnaligned(fromByteOffset: k * 4, as: UInt32.self) }
                })
            default:
                precondition(w == 8, "fixed widths are 1, 4 and 8 bytes")
                return DecodedValues(values: Buffer(byteCount: count * 8) { out in
                    walk.fill(out.bindMemory(to: UInt64.self).baseAddress) { k in src.loadUnaligned(fromByteOffset: k * 8, as: UInt64.self) }
                })
            }
        }
        let runVector = ColumnVector(type: .varchar, count: walk.runs, values: runValues.values, offsets: runValues.offsets)
        let codes = Buffer(byteCount: count * 4) { out in
            walk.fill(out.bindMemory(to: UInt32.self).baseAddress) { k in UInt32(truncatingIfNeeded: k) }
        }
        return DecodedValues(codes: codes, entries: runVector)
    }
}

/// Which run each output row belongs to: every row of the block, or only `rows` (ascending), found in one walk.
private struct RunWalk {
    let runs: Int
    let lengths: Buffer
    let rows: UnsafeBufferPointer<Int32>?

    @inline(__always)
    func length(_ k: Int) -> Int { Int(lengths.base.load(fromByteOffset: k * 4, as: UInt32.self)) }

    /// Writes `value(run)` for each output row into `out` (nil only when there are no rows).
    @inline(__always)
    func fill<T>(_ out: UnsafeMutablePointer<T>?, _ value: (Int) -> T) {
        guard let out, runs > 0 else { return }
        guard let rows else {
            var at = 0
            for k in 0..<runs {
                let len = length(k)
                (out + at).update(repeating: value(k), count: len)
                at += len
            }
            return
        }
        var k = 0
        var end = length(0)
        for i in 0..<rows.count {
            let row = Int(rows[i])
            while row >= end && k + 1 < runs {
                k += 1
                end += length(k)
            }
            out[i] = value(k)
        }
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
