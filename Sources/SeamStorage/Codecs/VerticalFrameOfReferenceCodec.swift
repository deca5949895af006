package import SeamColumnar
import SeamKernels

/// Frame of reference for integer types with the packed values laid out across four 32-bit lanes (vertical bit
/// packing, the layout of Lemire and Boytsov's SIMD-BP128), for widths up to 32 bits.
///
/// ```
/// | reference: i64 (the minimum) | width: u8 (0...32) | pad: 7 | groups | tail |
/// ```
/// Each full group of 128 values is `width` rows of four u32 lanes (16 bytes a row): value `4k + l` of the group is the
/// `k`-th value of lane `l`, at bits `k*width ..< (k+1)*width` of that lane's 32·`width` bits, least significant first.
/// The last `count % 128` values follow, bit-packed as ``BitPacking`` packs them. The size is exactly the horizontal
/// frame of reference's, so the writer takes this layout whenever the width allows: every shift of an unpack is then
/// the same for the four lanes, and a 128-bit register unpacks, offsets or compares four values at once where the
/// horizontal layout needs a load and a shift per value.
package struct VerticalFrameOfReferenceCodec: SelectiveCodec, RangeCountingCodec {
    package var id: CodecID { .verticalFrameOfReference }
    package var name: String { "vfor" }
    package init() {}

    static let group = 128
    @usableFromInline static var prefetchDistance: Int { 3072 }

    package func supports(_ type: LogicalType) -> Bool { FrameOfReferenceCodec().supports(type) }

    /// Payload bytes after the 16-byte header: full groups, then the tail packed horizontally.
    static func bodyBytes(count: Int, width: Int) -> Int {
        (count / group) * 16 * width + BitPacking.byteCount(count: count % group, width: width)
    }

    package func estimateSize(_ v: ColumnVector) -> Int? {
        guard let ints = IntegerValues(v) else { return nil }
        let width = FrameOfReferenceCodec().analyze(ints).width
        return width <= 32 ? 16 + Self.bodyBytes(count: v.count, width: width) : nil
    }

    package func encode(_ v: ColumnVector, into out: inout ByteWriter) {
        let ints = IntegerValues(v)!
        let (reference, width) = FrameOfReferenceCodec().analyze(ints)
        precondition(width <= 32, "vertical frame of reference holds widths up to 32")
        out.i64(reference)
        out.u8(UInt8(width))
        for _ in 0..<7 { out.u8(0) }
        let groups = v.count / Self.group
        if width > 0 && groups > 0 {
            var words = [UInt32](repeating: 0, count: 4 * width)
            for g in 0..<groups {
                for k in words.indices { words[k] = 0 }
                for j in 0..<Self.group {
                    let code = UInt64(bitPattern: ints[g * Self.group + j] &- reference)
                    let lane = j & 3, bit = (j >> 2) * width
                    let row = bit >> 5, shift = bit & 31
                    words[row * 4 + lane] |= UInt32(truncatingIfNeeded: code << UInt64(shift))
                    if shift + width > 32 { words[(row + 1) * 4 + lane] |= UInt32(truncatingIfNeeded: code >> UInt64(32 - shift)) }
                }
                words.withUnsafeBufferPointer { w in for x in w { out.u32(x) } }
            }
        }
        let tailStart = groups * Self.group
        BitPacking.pack(count: v.count - tailStart, width: width, into: &out) { UInt64(bitPattern: ints[tailStart + $0] &- reference) }
    }

    /// The reference, width, groups and tail of a block, after checking its header and sizes. Read in place with a
    /// size check per part: through a ``ByteReader`` (a call per field) this was 270 instructions a block, more than
    /// counting a small block's last group.
    private func parts(
        _ payload: UnsafeRawBufferPointer, count: Int
    ) throws(StorageError) -> (reference: UInt64, width: Int, groups: UnsafeRawBufferPointer, tail: UnsafeRawBufferPointer) {
        guard payload.count >= 16 else { throw ByteReader.endOfData(need: 16, left: payload.count, at: 0) }
        let reference = UInt64(littleEndian: payload.loadUnaligned(fromByteOffset: 0, as: UInt64.self))
        let width = Int(payload[8])
        guard width <= 32 else { throw StorageError(.corrupt, "vertical bit width \(width) is over 32") }
        let groupBytes = (count / Self.group) &* 16 &* width
        let tailBytes = BitPacking.byteCount(count: count % Self.group, width: width)
        guard groupBytes <= payload.count &- 16 else { throw ByteReader.endOfData(need: groupBytes, left: payload.count &- 16, at: 16) }
        guard tailBytes <= payload.count &- 16 &- groupBytes else {
            throw ByteReader.endOfData(need: tailBytes, left: payload.count &- 16 &- groupBytes, at: 16 &+ groupBytes)
        }
        let body = payload.baseAddress! + 16
        return (reference, width, UnsafeRawBufferPointer(start: body, count: groupBytes),
                UnsafeRawBufferPointer(start: body + groupBytes, count: tailBytes))
    }

    /// Calls `body(k, codes)` for each row `k` of four codes of the full groups from `firstGroup` on (row `k` holds
    /// values `4k ..< 4k+4` counted from the first group of the block), in order. `width` is 1...32.
    @inlinable @inline(__always)
    static func forEachRow(_ groups: UnsafeRawBufferPointer, count: Int, width: Int, from firstGroup: Int = 0, _ body: (Int, SIMD4<UInt32>) -> Void) {
        let n = count / 128
        guard n > firstGroup else { return }
        let base = groups.baseAddress!
        let mask = SIMD4<UInt32>(repeating: width == 32 ? ~0 : (1 << UInt32(width)) &- 1)
        var g = firstGroup
        while g < n {
            let at = base + g &* 16 &* width
            var k = 0
            while k < 32 {
                let bit = k &* width
                let row = bit >> 5, shift = UInt32(bit & 31)
                var v = at.loadUnaligned(fromByteOffset: row << 4, as: SIMD4<UInt32>.self) &>> shift
                if shift &+ UInt32(width) > 32 {
                    v |= at.loadUnaligned(fromByteOffset: (row &+ 1) << 4, as: SIMD4<UInt32>.self) &<< (32 &- shift)
                }
                body(g &* 32 &+ k, v & mask)
                k &+= 1
            }
            g &+= 1
        }
    }

    /// The 16 bytes at `offset` in each of four consecutive groups `stride` bytes apart, as one vector.
    @inlinable @inline(__always)
    static func loadFourGroups(_ at: UnsafeRawPointer, _ offset: Int, stride: Int) -> SIMD16<UInt32> {
        SIMD16(
            lowHalf: SIMD8(
                lowHalf: at.loadUnaligned(fromByteOffset: offset, as: SIMD4<UInt32>.self),
                highHalf: at.loadUnaligned(fromByteOffset: offset &+ stride, as: SIMD4<UInt32>.self)),
            highHalf: SIMD8(
                lowHalf: at.loadUnaligned(fromByteOffset: offset &+ 2 &* stride, as: SIMD4<UInt32>.self),
                highHalf: at.loadUnaligned(fromByteOffset: offset &+ 3 &* stride, as: SIMD4<UInt32>.self)))
    }

    /// Calls `body(g, k, codes)` for row `k` of four groups at once, `g ..< g+4` (lanes `4i ..< 4i+4` of `codes` are
    /// row `k` of group `g+i`), for every run of four full groups; returns the number of groups visited (a multiple of
    /// four). The four groups share the width, so one shift count and one crossing test serve sixteen values: the
    /// scalar work per row (bit position, branch) is a quarter of ``forEachRow``'s, and the four vectors are independent.
    @inlinable @inline(__always)
    static func forEachRowOfFourGroups(_ groups: UnsafeRawBufferPointer, count: Int, width: Int, _ body: (Int, Int, SIMD16<UInt32>) -> Void) -> Int {
        let n = (count / 128) & ~3
        guard n > 0 else { return 0 }
        let base = groups.baseAddress!
        let stride = 16 &* width
        let mask = SIMD16<UInt32>(repeating: width == 32 ? ~0 : (1 << UInt32(width)) &- 1)
        @inline(__always) func load(_ at: UnsafeRawPointer, _ offset: Int) -> SIMD16<UInt32> { loadFourGroups(at, offset, stride: stride) }
        var g = 0
        // Each step hints the lines it will read 3 KiB later, up to the last group: a block's groups are a few short
        // streams the hardware prefetcher picks up late. (Hints past the groups fetched the next block's validity
        // bitmap, which a count does not read, and made 2-thread scans slower; 2-4 KiB measured best.)
        let hintEnd = UnsafeRawPointer(base + n &* stride) - 4 &* stride
        while g < n {
            let at = UnsafeRawPointer(base + g &* stride)
            if at + Self.prefetchDistance <= hintEnd { Prefetch.read(at + Self.prefetchDistance, bytes: 4 &* stride) }
            var k = 0
            while k < 32 {
                let bit = k &* width
                let row = bit >> 5, shift = UInt32(bit & 31)
                var v = load(at, row << 4) &>> shift
                if shift &+ UInt32(width) > 32 {
                    v |= load(at, (row &+ 1) << 4) &<< (32 &- shift)
                }
                body(g, k, v & mask)
                k &+= 1
            }
            g &+= 4
        }
        return n
    }

    package func decode(
        _ payload: UnsafeRawBufferPointer, type: LogicalType, count: Int, owner: AnyObject?
    ) throws(StorageError) -> DecodedValues {
        let (reference, width, groups, tail) = try parts(payload, count: count)
        let full = (count / Self.group) * Self.group
        let values = makeIntegerBuffer(type: type, count: count) { p in
            guard count > 0 else { return }
            switch type.physical {
            case .uint8:
                let out = p.assumingMemoryBound(to: UInt8.self)
                if width == 0 { out.initialize(repeating: UInt8(truncatingIfNeeded: reference), count: full) } else {
                Self.forEachRow(groups, count: count, width: width) { k, v in
                    let x = v &+ UInt32(truncatingIfNeeded: reference)
                    for l in 0..<4 { out[k &* 4 &+ l] = UInt8(truncatingIfNeeded: x[l]) }
                }
                }
                BitPacking.unpack(tail, count: count - full, width: width, reference: reference, into: out + full)
            case .int32:
                let out = UnsafeMutableRawPointer(p)
                let r = SIMD4<UInt32>(repeating: UInt32(truncatingIfNeeded: reference))
                if width == 0 { p.assumingMemoryBound(to: UInt32.self).initialize(repeating: UInt32(truncatingIfNeeded: reference), count: full) } else {
                    // A group's 128 values are 512 bytes of output.
                    let r16 = SIMD16<UInt32>(repeating: UInt32(truncatingIfNeeded: reference))
                    let done = Self.forEachRowOfFourGroups(groups, count: count, width: width) { g, k, v in
                        let x = v &+ r16, at = (g &* 32 &+ k) &* 16
                        out.storeBytes(of: x.lowHalf.lowHalf, toByteOffset: at, as: SIMD4<UInt32>.self)
                        out.storeBytes(of: x.lowHalf.highHalf, toByteOffset: at &+ 512, as: SIMD4<UInt32>.self)
                        out.storeBytes(of: x.highHalf.lowHalf, toByteOffset: at &+ 1024, as: SIMD4<UInt32>.self)
                        out.storeBytes(of: x.highHalf.highHalf, toByteOffset: at &+ 1536, as: SIMD4<UInt32>.self)
                    }
                    Self.forEachRow(groups, count: count, width: width, from: done) { k, v in
                        out.storeBytes(of: v &+ r, toByteOffset: k &* 16, as: SIMD4<UInt32>.self)
                    }
                }
                BitPacking.unpack(tail, count: count - full, width: width, reference: reference, into: p.assumingMemoryBound(to: Int32.self) + full)
            default:
                let out = UnsafeMutableRawPointer(p)
                let r = SIMD4<UInt64>(repeating: reference)
                if width == 0 { p.assumingMemoryBound(to: UInt64.self).initialize(repeating: reference, count: full) } else {
                    // A group's 128 values are 1024 bytes of output.
                    let done = Self.forEachRowOfFourGroups(groups, count: count, width: width) { g, k, v in
                        let at = (g &* 32 &+ k) &* 32
                        out.storeBytes(of: SIMD4<UInt64>(truncatingIfNeeded: v.lowHalf.lowHalf) &+ r, toByteOffset: at, as: SIMD4<UInt64>.self)
                        out.storeBytes(of: SIMD4<UInt64>(truncatingIfNeeded: v.lowHalf.highHalf) &+ r, toByteOffset: at &+ 1024, as: SIMD4<UInt64>.self)
                        out.storeBytes(of: SIMD4<UInt64>(truncatingIfNeeded: v.highHalf.lowHalf) &+ r, toByteOffset: at &+ 2048, as: SIMD4<UInt64>.self)
                        out.storeBytes(of: SIMD4<UInt64>(truncatingIfNeeded: v.highHalf.highHalf) &+ r, toByteOffset: at &+ 3072, as: SIMD4<UInt64>.self)
                    }
                    Self.forEachRow(groups, count: count, width: width, from: done) { k, v in
                        out.storeBytes(of: SIMD4<UInt64>(truncatingIfNeeded: v) &+ r, toByteOffset: k &* 32, as: SIMD4<UInt64>.self)
                    }
                }
                BitPacking.unpack(tail, count: count - full, width: width, reference: reference, into: p.assumingMemoryBound(to: Int64.self) + full)
            }
        }
        return DecodedValues(values: values)
    }

    package func decode(
        _ payload: UnsafeRawBufferPointer, type: LogicalType, count: Int, rows: UnsafeBufferPointer<Int32>, owner: AnyObject?
    ) throws(StorageError) -> DecodedValues {
        if rows.count >= count / 4 {
            // Many rows (a sparse block's rows selected by another column's filter are often all of its values): the
            // vector unpack of every value and a gather beat a scalar random access per row.
            let whole = try decode(payload, type: type, count: count, owner: owner).values
            return DecodedValues(values: Gather.rows(ColumnVector(type: type, count: count, values: whole), Array(rows)).values)
        }
        let (reference, width, groups, tail) = try parts(payload, count: count)
        let full = (count / Self.group) * Self.group
        let mask: UInt64 = width == 32 ? 0xFFFF_FFFF : (1 << UInt64(width)) &- 1
        // Rows ascend: those in full groups come first, then those of the tail, which is packed as `for` packs.
        let inGroups = rows.firstIndex { Int($0) >= full } ?? rows.count
        let tailRows = rows[inGroups...].map { $0 &- Int32(full) }
        /// Value `i` (in a full group) where it lies: its lane's row, shift, and the next row when it crosses.
        func code(_ i: Int) -> UInt64 {
            if width == 0 { return 0 }
            let g = i >> 7, lane = i & 3, bit = ((i >> 2) & 31) * width
            let at = (g * width + (bit >> 5)) * 16 + lane * 4, shift = bit & 31
            var v = UInt64(groups.loadUnaligned(fromByteOffset: at, as: UInt32.self)) >> UInt64(shift)
            if shift + width > 32 { v |= UInt64(groups.loadUnaligned(fromByteOffset: at + 16, as: UInt32.self)) << UInt64(32 - shift) }
            return v & mask
        }
        func fill<T: FixedWidthInteger>(_ out: UnsafeMutablePointer<T>) {
            for j in 0..<inGroups { out[j] = T(truncatingIfNeeded: reference &+ code(Int(rows[j]))) }
            tailRows.withUnsafeBufferPointer { BitPacking.unpack(tail, rows: $0, width: width, reference: reference, into: out + inGroups) }
        }
        let values = makeIntegerBuffer(type: type, count: rows.count) { p in
            switch type.physical {
            case .uint8: fill(p.assumingMemoryBound(to: UInt8.self))
            case .int32: fill(p.assumingMemoryBound(to: Int32.self))
            default: fill(p.assumingMemoryBound(to: Int64.self))
            }
        }
        return DecodedValues(values: values)
    }

    package func countInRange(_ payload: UnsafeRawBufferPointer, count: Int, lo: Int64, hi: Int64) throws(StorageError) -> Int {
        try countInRange(payload, count: count, lo: lo, hi: hi, constantWidth: BuildTarget.hasAVX2)
    }

    /// `constantWidth`: count with the kernel compiled per width (AVX2 builds) or the loop shifting by a register
    /// (tests run both on every build).
    func countInRange(_ payload: UnsafeRawBufferPointer, count: Int, lo: Int64, hi: Int64, constantWidth: Bool) throws(StorageError) -> Int {
        let (reference, width, groups, tail) = try parts(payload, count: count)
        guard let codes = FrameOfReferenceCodec.codeRange(reference: reference, width: width, lo: lo, hi: hi) else { return 0 }
        let full = (count / Self.group) * Self.group
        // The tail after the groups: it follows them in memory, so the groups' stream has brought it into the cache
        // (counted first, it was a miss of its own per block, 7 % of a filtered count over 100M rows).
        func tailCount() -> Int { BitPacking.countInRange(tail, count: count - full, width: width, lo: codes.lo, span: codes.span) }
        if width == 0 { return tailCount() + (codes.lo == 0 ? full : 0) }
        // Codes and the range fit 32 bits (width <= 32).
        let hits = Self.countRows(groups, count: count, width: width, lo: UInt32(codes.lo), span: UInt32(codes.span), constantWidth: constantWidth)
        return hits &+ tailCount()
    }

    /// How many values lie in `lo...hi` and their sum, on the codes as they are unpacked (no value buffer): sixteen
    /// codes a step in four groups, the codes in range masked into 32-bit lanes and those widened to 64 bits before
    /// they can overflow. The sum wraps: the caller knows from the block's zone map when it cannot.
    ///
    /// `constantWidth`: the pairs of groups go through the kernel compiled per width (AVX2 builds, widths up to 29:
    /// eight codes of a lane then fit a 32-bit sum) or all through the loop shifting by a register (tests run both).
    func sumInRange(_ payload: UnsafeRawBufferPointer, count: Int, lo: Int64, hi: Int64) throws(StorageError) -> (count: Int, sum: Int64) {
        try sumInRange(payload, count: count, lo: lo, hi: hi, constantWidth: BuildTarget.hasAVX2)
    }

    func sumInRange(_ payload: UnsafeRawBufferPointer, count: Int, lo: Int64, hi: Int64, constantWidth: Bool) throws(StorageError) -> (count: Int, sum: Int64) {
        let (reference, width, groups, tail) = try parts(payload, count: count)
        guard let codes = FrameOfReferenceCodec.codeRange(reference: reference, width: width, lo: lo, hi: hi) else { return (0, 0) }
        let full = (count / Self.group) * Self.group
        var n = 0
        var codeSum: UInt64 = 0
        // Without a branch per value: about one in seven passed `amount > 100`, at random.
        BitPacking.forEach(tail, count: count - full, width: width) { _, c in
            let inRange = c &- codes.lo <= codes.span
            n &+= inRange ? 1 : 0
            codeSum &+= inRange ? c : 0
        }
        if width == 0 {
            if codes.lo == 0 { n &+= full }
        } else {
            let lo32 = UInt32(codes.lo), span32 = UInt32(truncatingIfNeeded: Swift.min(codes.span, UInt64(UInt32.max)))
            // A lane's 32-bit sum takes this many codes before it may overflow.
            let flushEvery = width >= 32 ? 1 : Swift.min(1 << 16, (1 << (32 &- width)) &- 1)
            let lo16 = SIMD16<UInt32>(repeating: lo32), span16 = SIMD16<UInt32>(repeating: span32), one16 = SIMD16<UInt32>(repeating: 1)
            var n16 = SIMD16<UInt32>(), s16 = SIMD16<UInt32>(), wide = SIMD16<UInt64>()
            var steps = 0
            var done = 0
            if constantWidth && width <= 29 {
                // Pairs of groups through the kernel compiled for this width; an odd last group as a pair with
                // itself, halved (as countRows does).
                let groupsFull = count / Self.group, pairs = groupsFull & ~1, stride = 16 &* width
                let r = Self.sumGroupPairsOfConstantWidth(groups, groups: pairs, second: stride, width: width, lo: lo32, span: span32)
                n &+= r.count
                codeSum &+= r.sum
                if groupsFull != pairs {
                    let last = UnsafeRawBufferPointer(rebasing: groups[(pairs &* stride)...])
                    let l = Self.sumGroupPairsOfConstantWidth(last, groups: 2, second: 0, width: width, lo: lo32, span: span32)
                    n &+= l.count / 2
                    codeSum &+= l.sum / 2
                }
                done = groupsFull
            } else {
            done = Self.forEachRowOfFourGroups(groups, count: count, width: width) { _, _, v in
                let out = (v &- lo16) .> span16
                n16 &+= one16.replacing(with: 0, where: out)
                s16 &+= v.replacing(with: 0, where: out)
                steps &+= 1
                if steps == flushEvery {
                    wide &+= SIMD16<UInt64>(truncatingIfNeeded: s16)
                    s16 = SIMD16()
                    steps = 0
                }
            }
            }
            wide &+= SIMD16<UInt64>(truncatingIfNeeded: s16)
            let lo4 = SIMD4<UInt32>(repeating: lo32), span4 = SIMD4<UInt32>(repeating: span32)
            var n4 = SIMD4<UInt32>(), s4 = SIMD4<UInt64>()
            Self.forEachRow(groups, count: count, width: width, from: done) { _, v in
                let out = (v &- lo4) .> span4
                n4 &+= SIMD4<UInt32>(repeating: 1).replacing(with: 0, where: out)
                s4 &+= SIMD4<UInt64>(truncatingIfNeeded: v.replacing(with: 0, where: out))
            }
            n &+= Int(n16.wrappedSum()) &+ Int(n4.wrappedSum())
            codeSum &+= wide.wrappedSum() &+ s4.wrappedSum()
        }
        // Each value is reference + code.
        return (n, Int64(bitPattern: UInt64(truncatingIfNeeded: n) &* reference &+ codeSum))
    }

    /// How many codes of the full groups lie in `lo...lo + span` (unsigned).
    @inline(__always)
    static func countRows(
        _ groups: UnsafeRawBufferPointer, count: Int, width: Int, lo: UInt32, span: UInt32, constantWidth: Bool
    ) -> Int {
        var hits = 0
        let done: Int
        if constantWidth {
            let full = count / 128, pairs = full & ~1, stride = 16 &* width
            hits = countGroupPairsOfConstantWidth(groups, groups: pairs, second: stride, width: width, lo: lo, span: span)
            if full != pairs {
                // The last group alone, through the same kernel as a pair with itself (its second half 0 bytes on),
                // so counted twice: a quarter of the instructions of the four-lane loop below (half of a block's
                // odd groups, about a tenth of a filtered count's instructions).
                let last = UnsafeRawBufferPointer(rebasing: groups[(pairs &* stride)...])
                hits &+= countGroupPairsOfConstantWidth(last, groups: 2, second: 0, width: width, lo: lo, span: span) / 2
            }
            done = full
        } else {
            let lo16 = SIMD16<UInt32>(repeating: lo), span16 = SIMD16<UInt32>(repeating: span)
            let one16 = SIMD16<UInt32>(repeating: 1)
            var wide = SIMD16<UInt32>()
            done = forEachRowOfFourGroups(groups, count: count, width: width) { _, _, v in
                wide &+= one16.replacing(with: 0, where: (v &- lo16) .> span16)
            }
            hits = Int(wide.wrappedSum())
        }
        // The groups after the last pair (or four), four lanes at a time.
        let lo4 = SIMD4<UInt32>(repeating: lo), span4 = SIMD4<UInt32>(repeating: span), one = SIMD4<UInt32>(repeating: 1)
        var rest = SIMD4<UInt32>()
        forEachRow(groups, count: count, width: width, from: done) { _, v in
            rest &+= one.replacing(with: 0, where: (v &- lo4) .> span4)
        }
        return hits &+ Int(rest.wrappedSum())
    }

    /// The range count of ``countRows`` over the first `groups` groups (an even number), by a kernel compiled for
    /// each width: with the width a constant and the 32 rows of a group written out, every shift is an immediate,
    /// the crossing tests vanish, and a row's upper word is the next row's lower word, loaded once. Two groups share
    /// one 8-lane register: with four groups in two registers per row, the compiler hoisted the loads and shifts of
    /// all 32 rows and spilled most of them to the stack. A pair's second group lies `second` bytes after its
    /// first: `16 * width` (the next group), or 0 to count one group twice. (Under SSE alone the compiler turned the
    /// constant shifts of a crossing value into a funnel shift it then did lane by lane: no faster than the loop with
    /// shifts by a register, which SSE builds keep.)
    static func countGroupPairsOfConstantWidth(
        _ payload: UnsafeRawBufferPointer, groups: Int, second: Int, width: Int, lo: UInt32, span: UInt32
    ) -> Int {
        groupPairsOfConstantWidth(CountCodes.self, payload, groups: groups, second: second, width: width, lo: lo, span: span).count
    }

    /// ``countGroupPairsOfConstantWidth(_:groups:second:width:lo:span:)`` with the sum of the codes in range as well.
    static func sumGroupPairsOfConstantWidth(
        _ payload: UnsafeRawBufferPointer, groups: Int, second: Int, width: Int, lo: UInt32, span: UInt32
    ) -> (count: Int, sum: UInt64) {
        // `amount > 100`: the range reaches the widest code the width holds.
        if width <= 25 && UInt64(lo) + UInt64(span) >= (1 << UInt64(width)) - 1 {
            return groupPairsOfConstantWidth(TalliedSumAtLeast.self, payload, groups: groups, second: second, width: width, lo: lo, span: span)
        }
        return width <= 25
            ? groupPairsOfConstantWidth(TalliedSumCodes.self, payload, groups: groups, second: second, width: width, lo: lo, span: span)
            : groupPairsOfConstantWidth(SumCodes.self, payload, groups: groups, second: second, width: width, lo: lo, span: span)
    }

    /// The kernel `A` for `width`, one specialization per width and accumulation.
    @inline(__always)
    private static func groupPairsOfConstantWidth<A: CodeAccumulation>(
        _: A.Type, _ payload: UnsafeRawBufferPointer, groups: Int, second: Int, width: Int, lo: UInt32, span: UInt32
    ) -> (count: Int, sum: UInt64) {
        switch width {
        case 1: return groupPairs(A.self, payload, groups: groups, second: second, W1.self, lo: lo, span: span)
        case 2: return groupPairs(A.self, payload, groups: groups, second: second, W2.self, lo: lo, span: span)
        case 3: return groupPairs(A.self, payload, groups: groups, second: second, W3.self, lo: lo, span: span)
        case 4: return groupPairs(A.self, payload, groups: groups, second: second, W4.self, lo: lo, span: span)
        case 5: return groupPairs(A.self, payload, groups: groups, second: second, W5.self, lo: lo, span: span)
        case 6: return groupPairs(A.self, payload, groups: groups, second: second, W6.self, lo: lo, span: span)
        case 7: return groupPairs(A.self, payload, groups: groups, second: second, W7.self, lo: lo, span: span)
        case 8: return groupPairs(A.self, payload, groups: groups, second: second, W8.self, lo: lo, span: span)
        case 9: return groupPairs(A.self, payload, groups: groups, second: second, W9.self, lo: lo, span: span)
        case 10: return groupPairs(A.self, payload, groups: groups, second: second, W10.self, lo: lo, span: span)
        case 11: return groupPairs(A.self, payload, groups: groups, second: second, W11.self, lo: lo, span: span)
        case 12: return groupPairs(A.self, payload, groups: groups, second: second, W12.self, lo: lo, span: span)
        case 13: return groupPairs(A.self, payload, groups: groups, second: second, W13.self, lo: lo, span: span)
        case 14: return groupPairs(A.self, payload, groups: groups, second: second, W14.self, lo: lo, span: span)
        case 15: return groupPairs(A.self, payload, groups: groups, second: second, W15.self, lo: lo, span: span)
        case 16: return groupPairs(A.self, payload, groups: groups, second: second, W16.self, lo: lo, span: span)
        case 17: return groupPairs(A.self, payload, groups: groups, second: second, W17.self, lo: lo, span: span)
        case 18: return groupPairs(A.self, payload, groups: groups, second: second, W18.self, lo: lo, span: span)
        case 19: return groupPairs(A.self, payload, groups: groups, second: second, W19.self, lo: lo, span: span)
        case 20: return groupPairs(A.self, payload, groups: groups, second: second, W20.self, lo: lo, span: span)
        case 21: return groupPairs(A.self, payload, groups: groups, second: second, W21.self, lo: lo, span: span)
        case 22: return groupPairs(A.self, payload, groups: groups, second: second, W22.self, lo: lo, span: span)
        case 23: return groupPairs(A.self, payload, groups: groups, second: second, W23.self, lo: lo, span: span)
        case 24: return groupPairs(A.self, payload, groups: groups, second: second, W24.self, lo: lo, span: span)
        case 25: return groupPairs(A.self, payload, groups: groups, second: second, W25.self, lo: lo, span: span)
        case 26: return groupPairs(A.self, payload, groups: groups, second: second, W26.self, lo: lo, span: span)
        case 27: return groupPairs(A.self, payload, groups: groups, second: second, W27.self, lo: lo, span: span)
        case 28: return groupPairs(A.self, payload, groups: groups, second: second, W28.self, lo: lo, span: span)
        case 29: return groupPairs(A.self, payload, groups: groups, second: second, W29.self, lo: lo, span: span)
        case 30: return groupPairs(A.self, payload, groups: groups, second: second, W30.self, lo: lo, span: span)
        case 31: return groupPairs(A.self, payload, groups: groups, second: second, W31.self, lo: lo, span: span)
        case 32: return groupPairs(A.self, payload, groups: groups, second: second, W32.self, lo: lo, span: span)
        default: return (0, 0)
        }
    }

    /// One specialization per width (a generic over the width's type, so the optimizer cannot fold the 32 calls of
    /// the switch above back into one call with the width as an argument, as it did with plain integer arguments).
    ///
    /// Each code is compared left-justified, where it lies: its `width` bits are moved to the top of the lane and the
    /// bits below them are left as they are (the neighbouring code's, or zero). Against bounds moved up alike, the low
    /// bits cannot change the outcome: `lo << (32 - width)` has zeros there and `hi << (32 - width)` ones, so a code of
    /// `lo` passes whatever lies below it and one of `lo - 1` fails. That takes one shift for a code within a word
    /// (none for one at its top) and no mask, where right-justifying took a shift and a mask. A sum needs the code
    /// itself: one more shift, of the left-justified lane down by `32 - width`.
    ///
    /// A code is out of range when `code &- lo > span` unsigned. AVX2 compares only signed, so both sides are moved by
    /// 2^31: `(code &- lo) ^ 2^31 == code &- (lo ^ 2^31)`, compared signed against `span ^ 2^31`. That is one subtract
    /// and one signed compare per row.
    @inline(__always)
    private static func groupPairs<A: CodeAccumulation, W: PackedWidth>(
        _: A.Type, _ payload: UnsafeRawBufferPointer, groups n: Int, second: Int, _: W.Type, lo: UInt32, span: UInt32
    ) -> (count: Int, sum: UInt64) {
        guard n > 0 else { return (0, 0) }
        let width = W.width
        let base = payload.baseAddress!
        let stride = 16 &* width
        let below = UInt32(32 &- width)
        let low: UInt32 = below == 0 ? 0 : (1 << below) &- 1
        let justifiedLo = lo << below, justifiedSpan = ((lo &+ span) << below | low) &- justifiedLo
        let movedLo = SIMD8<UInt32>(repeating: justifiedLo ^ 0x8000_0000)
        let movedSpan = SIMD8<Int32>(repeating: Int32(bitPattern: justifiedSpan ^ 0x8000_0000))
        // Lanes count the codes out of range, as minus ones: a comparison's mask is -1 where it holds, so adding it
        // is one instruction a row, where adding a 1 selected by it took two and kept every row's mask live until the
        // end of the body (they went to the stack).
        var misses = SIMD8<Int32>()
        var sums = SIMD8<UInt64>()
        // A sum of codes up to 25 bits wide carries its own count instead: each code in range is summed with
        // 2^(width + 3) added, so an eight-row lane sum holds the number of them from bit width + 3 up (eight codes
        // below 2^width each stay under it) and fits 32 bits. No count is kept beside the sums: with both, the
        // compiler still parked about 19 of the 32 rows' masks on the stack.
        assert(!A.tallies || width <= 25, "tallied sums take codes of up to 25 bits")
        let tallied = A.tallies && width <= 25
        let tallyShift = UInt32(tallied ? width &+ 3 : 0)
        let tally = SIMD8<UInt32>(repeating: tallied ? 1 << tallyShift : 0)
        let codeBits = SIMD8<UInt32>(repeating: tallied ? (1 << tallyShift) &- 1 : 0)
        var tallies = SIMD8<UInt32>()
        /// For a range open above (every code from `lo` up): the code before `lo`.
        let belowLo = SIMD8<Int32>(repeating: Int32(truncatingIfNeeded: Int64(lo) &- 1))
        // Hints as in forEachRowOfFourGroups.
        let hintEnd = UnsafeRawPointer(base + n &* stride) - 2 &* stride
        var g = 0
        while g < n {
            let at = UnsafeRawPointer(base + g &* stride)
            if at + prefetchDistance <= hintEnd { Prefetch.read(at + prefetchDistance, bytes: 2 &* stride) }
            @inline(__always) func row(_ k: Int, _ hits: inout SIMD8<Int32>, _ sum: inout SIMD8<UInt32>) {
                let v = justifiedRow(at, second, k, width)
                if A.atLeast {
                    // Right-justified, a code of up to 25 bits is positive as a signed lane: one signed compare with
                    // the bound, no subtraction to move both sides by 2^31.
                    let code = v &>> below
                    let passes = SIMD8<Int32>(truncatingIfNeeded: code) .> belowLo
                    sum &+= (code | tally).replacing(with: 0, where: .!passes)
                    return
                }
                let moved = SIMD8<Int32>(truncatingIfNeeded: v &- movedLo)
                let out = moved .> movedSpan
                if A.tallies {
                    sum &+= ((v &>> below) | tally).replacing(with: 0, where: out)
                } else {
                    hits &+= SIMD8<Int32>().replacing(with: -1, where: out)
                    if A.sums { sum &+= (v &>> below).replacing(with: 0, where: out) }
                }
            }
            // Four sums of eight rows each: the compiler rebuilds a chain of adds into one sum where its last add
            // stands, so with one sum of all 32 rows every row's result was live until the end of the body and a
            // third of them went to the stack. A lane's sum of eight codes of up to 29 bits fits 32 bits; each
            // eight rows' sums are widened to 64 bits once per pair of groups.
            var h0 = SIMD8<Int32>(), h1 = SIMD8<Int32>(), h2 = SIMD8<Int32>(), h3 = SIMD8<Int32>()
            var s0 = SIMD8<UInt32>(), s1 = SIMD8<UInt32>(), s2 = SIMD8<UInt32>(), s3 = SIMD8<UInt32>()
            row(0, &h0, &s0); row(1, &h0, &s0); row(2, &h0, &s0); row(3, &h0, &s0); row(4, &h0, &s0); row(5, &h0, &s0); row(6, &h0, &s0); row(7, &h0, &s0)
            row(8, &h1, &s1); row(9, &h1, &s1); row(10, &h1, &s1); row(11, &h1, &s1); row(12, &h1, &s1); row(13, &h1, &s1); row(14, &h1, &s1); row(15, &h1, &s1)
            row(16, &h2, &s2); row(17, &h2, &s2); row(18, &h2, &s2); row(19, &h2, &s2); row(20, &h2, &s2); row(21, &h2, &s2); row(22, &h2, &s2); row(23, &h2, &s2)
            row(24, &h3, &s3); row(25, &h3, &s3); row(26, &h3, &s3); row(27, &h3, &s3); row(28, &h3, &s3); row(29, &h3, &s3); row(30, &h3, &s3); row(31, &h3, &s3)
            if tallied {
                tallies &+= (s0 &>> tallyShift &+ s1 &>> tallyShift) &+ (s2 &>> tallyShift &+ s3 &>> tallyShift)
                s0 &= codeBits
                s1 &= codeBits
                s2 &= codeBits
                s3 &= codeBits
            } else {
                misses &+= (h0 &+ h1) &+ (h2 &+ h3)
            }
            if A.sums {
                sums &+= (SIMD8<UInt64>(truncatingIfNeeded: s0) &+ SIMD8<UInt64>(truncatingIfNeeded: s1))
                    &+ (SIMD8<UInt64>(truncatingIfNeeded: s2) &+ SIMD8<UInt64>(truncatingIfNeeded: s3))
            }
            g &+= 2
        }
        let count = tallied ? Int(tallies.wrappedSum()) : n &* group &+ Int(misses.wrappedSum())
        return (count, A.sums ? sums.wrappedSum() : 0)
    }
}

extension VerticalFrameOfReferenceCodec {
    /// Row `k` of the pair of groups at `at` and `at + second` (lanes 0-3 the first group's, 4-7 the second's), each
    /// lane's code moved to its top `width` bits with whatever lies below it left there (see ``groupPairs``).
    @inline(__always)
    fileprivate static func justifiedRow(_ at: UnsafeRawPointer, _ second: Int, _ k: Int, _ width: Int) -> SIMD8<UInt32> {
        @inline(__always) func load(_ offset: Int) -> SIMD8<UInt32> {
            SIMD8(lowHalf: at.loadUnaligned(fromByteOffset: offset, as: SIMD4<UInt32>.self),
                  highHalf: at.loadUnaligned(fromByteOffset: offset &+ second, as: SIMD4<UInt32>.self))
        }
        let bit = k &* width
        let r = bit >> 5, end = UInt32(bit & 31) &+ UInt32(width)
        if end > 32 { return load(r << 4) &>> (end &- 32) | load((r &+ 1) << 4) &<< (64 &- end) }
        if end < 32 { return load(r << 4) &<< (32 &- end) }
        return load(r << 4)
    }

    /// How many of `count` values have their bit set in `bits` (bit `i` of the words for value `i`, `(count + 63) /
    /// 64` words) and their wrapping sum, on the codes as they are unpacked: a filter decided elsewhere (a text
    /// column's codes at this sparse column's valid rows) summed without a value buffer or a byte per flag. nil for
    /// widths past 25 (the caller decodes those).
    func sumMarked(_ payload: UnsafeRawBufferPointer, count: Int, bits: UnsafePointer<UInt64>) throws(StorageError) -> (count: Int, sum: Int64)? {
        let (reference, width, groups, tail) = try parts(payload, count: count)
        guard width <= 25 else { return nil }
        @inline(__always) func marked(_ i: Int) -> Bool { (bits[i &>> 6] &>> UInt64(i & 63)) & 1 != 0 }
        let full = count / Self.group
        var n = 0
        var codeSum: UInt64 = 0
        BitPacking.forEach(tail, count: count - full * Self.group, width: width) { i, c in
            let bit = (bits[(full &* Self.group &+ i) &>> 6] &>> UInt64((full &* Self.group &+ i) & 63)) & 1
            n &+= Int(bit)
            codeSum &+= c & (0 &- bit)
        }
        if width == 0 {
            for i in 0..<(full &* Self.group) where marked(i) { n &+= 1 }
        } else if full > 0, 32 % width == 0, width <= 8 {
            let r = Self.markedByBitPlanes(groups, groups: full, bits: bits, width: width)
            n &+= r.count
            codeSum &+= r.sum
        } else if full > 0 {
            // Pairs of groups, then an odd last group as a pair with itself, halved (as the range sums do).
            let pairs = full & ~1, stride = 16 &* width
            let r = Self.markedPairsOfConstantWidth(groups, groups: pairs, second: stride, bits: bits, secondBits: 2, width: width)
            n &+= r.count
            codeSum &+= r.sum
            if full != pairs {
                let last = UnsafeRawBufferPointer(rebasing: groups[(pairs &* stride)...])
                let l = Self.markedPairsOfConstantWidth(last, groups: 2, second: 0, bits: bits + 2 &* pairs, secondBits: 0, width: width)
                n &+= l.count / 2
                codeSum &+= l.sum / 2
            }
        }
        return (n, Int64(bitPattern: UInt64(truncatingIfNeeded: n) &* reference &+ codeSum))
    }

    /// ``sumMarked(_:count:bits:)``'s full groups for widths 1, 2, 4 and 8, whose codes never cross a lane's 32-bit
    /// words: each word's codes summed by bit planes, not one by one. Word `r` of lane `l` holds the codes of values
    /// `4k + l` for `k` in `r * 32 / width ..< (r + 1) * 32 / width`; their marks are every fourth bit of the group's
    /// mask from bit `4 * r * 32 / width + l` (gathered with PEXT), spread to each code's lowest bit (PDEP), and
    /// plane `b`'s marked ones counted (popcount) and weighted by 2^b. For the 2M 2-bit quantities of units sold on
    /// the web over 10M events (callgrind, 1 thread): 2.5M instructions, where the vector kernel of the other widths
    /// took 4.0M (its compiled form about 16 instructions per row of eight codes).
    private static func markedByBitPlanes(
        _ payload: UnsafeRawBufferPointer, groups: Int, bits: UnsafePointer<UInt64>, width: Int
    ) -> (count: Int, sum: UInt64) {
        switch width {
        case 1: return markedByBitPlanes(payload, groups: groups, bits: bits, W1.self)
        case 2: return markedByBitPlanes(payload, groups: groups, bits: bits, W2.self)
        case 4: return markedByBitPlanes(payload, groups: groups, bits: bits, W4.self)
        case 8: return markedByBitPlanes(payload, groups: groups, bits: bits, W8.self)
        default: preconditionFailure("bit planes for widths 1, 2, 4 and 8")
        }
    }

    @inline(__always)
    private static func markedByBitPlanes<W: PackedWidth>(
        _ payload: UnsafeRawBufferPointer, groups: Int, bits: UnsafePointer<UInt64>, _: W.Type
    ) -> (count: Int, sum: UInt64) {
        let width = W.width
        let perWord = 32 / width
        // The lowest bit of each code in a word, and every fourth bit of a mask word (lane 0's marks).
        var lowest: UInt64 = 0
        for k in 0..<perWord { lowest |= 1 << UInt64(k &* width) }
        let everyFourth: UInt64 = 0x1111_1111_1111_1111
        let base = payload.baseAddress!
        var n = 0
        var sum: UInt64 = 0
        for g in 0..<groups {
            let words = base + g &* 16 &* width
            let marks = bits + g &* 2
            for r in 0..<width {
                // The marks of row r's values: 4 * perWord bits of the group's 128 from bit 4 * r * perWord.
                let first = 4 &* r &* perWord
                for l in 0..<4 {
                    let lane: UInt64
                    if width == 1 {
                        lane = Bits.extract(marks[0], everyFourth &<< UInt64(l)) | Bits.extract(marks[1], everyFourth &<< UInt64(l)) &<< 16
                    } else {
                        let window = marks[first &>> 6] &>> UInt64(first & 63)
                        lane = Bits.extract(window, everyFourth &<< UInt64(l))
                    }
                    let word = UInt64(words.loadUnaligned(fromByteOffset: (r &* 4 &+ l) &* 4, as: UInt32.self))
                    let spread = Bits.deposit(lane, lowest)
                    n &+= spread.nonzeroBitCount
                    for b in 0..<width { sum &+= UInt64(((word &>> UInt64(b)) & spread).nonzeroBitCount) &<< UInt64(b) }
                }
            }
        }
        return (n, sum)
    }

    private static func markedPairsOfConstantWidth(
        _ payload: UnsafeRawBufferPointer, groups: Int, second: Int, bits: UnsafePointer<UInt64>, secondBits: Int, width: Int
    ) -> (count: Int, sum: UInt64) {
        switch width {
        case 1: return markedPairs(payload, groups: groups, second: second, bits: bits, secondBits: secondBits, W1.self)
        case 2: return markedPairs(payload, groups: groups, second: second, bits: bits, secondBits: secondBits, W2.self)
        case 3: return markedPairs(payload, groups: groups, second: second, bits: bits, secondBits: secondBits, W3.self)
        case 4: return markedPairs(payload, groups: groups, second: second, bits: bits, secondBits: secondBits, W4.self)
        case 5: return markedPairs(payload, groups: groups, second: second, bits: bits, secondBits: secondBits, W5.self)
        case 6: return markedPairs(payload, groups: groups, second: second, bits: bits, secondBits: secondBits, W6.self)
        case 7: return markedPairs(payload, groups: groups, second: second, bits: bits, secondBits: secondBits, W7.self)
        case 8: return markedPairs(payload, groups: groups, second: second, bits: bits, secondBits: secondBits, W8.self)
        case 9: return markedPairs(payload, groups: groups, second: second, bits: bits, secondBits: secondBits, W9.self)
        case 10: return markedPairs(payload, groups: groups, second: second, bits: bits, secondBits: secondBits, W10.self)
        case 11: return markedPairs(payload, groups: groups, second: second, bits: bits, secondBits: secondBits, W11.self)
        case 12: return markedPairs(payload, groups: groups, second: second, bits: bits, secondBits: secondBits, W12.self)
        case 13: return markedPairs(payload, groups: groups, second: second, bits: bits, secondBits: secondBits, W13.self)
        case 14: return markedPairs(payload, groups: groups, second: second, bits: bits, secondBits: secondBits, W14.self)
        case 15: return markedPairs(payload, groups: groups, second: second, bits: bits, secondBits: secondBits, W15.self)
        case 16: return markedPairs(payload, groups: groups, second: second, bits: bits, secondBits: secondBits, W16.self)
        case 17: return markedPairs(payload, groups: groups, second: second, bits: bits, secondBits: secondBits, W17.self)
        case 18: return markedPairs(payload, groups: groups, second: second, bits: bits, secondBits: secondBits, W18.self)
        case 19: return markedPairs(payload, groups: groups, second: second, bits: bits, secondBits: secondBits, W19.self)
        case 20: return markedPairs(payload, groups: groups, second: second, bits: bits, secondBits: secondBits, W20.self)
        case 21: return markedPairs(payload, groups: groups, second: second, bits: bits, secondBits: secondBits, W21.self)
        case 22: return markedPairs(payload, groups: groups, second: second, bits: bits, secondBits: secondBits, W22.self)
        case 23: return markedPairs(payload, groups: groups, second: second, bits: bits, secondBits: secondBits, W23.self)
        case 24: return markedPairs(payload, groups: groups, second: second, bits: bits, secondBits: secondBits, W24.self)
        case 25: return markedPairs(payload, groups: groups, second: second, bits: bits, secondBits: secondBits, W25.self)
        default: preconditionFailure("marked sums take widths 1...25")
        }
    }

    /// The kernel of ``sumMarked(_:count:bits:)`` for one width, over pairs of groups as ``groupPairs`` goes. Row `k`
    /// of a group holds its values `4k ..< 4k + 4`, whose bits are `4k ..< 4k + 4` of the group's 128: for eight rows
    /// at a time, their 32 bits are broadcast to the group's four lanes and moved by 3, 2, 1, 0 (lane `l`'s bit of row
    /// `r` then at `4r + 3`); per row one shift to the top and one arithmetic shift back make the lane's mask. The
    /// sums carry their counts above the codes (the tallied sums of ``groupPairs``).
    @inline(__always)
    private static func markedPairs<W: PackedWidth>(
        _ payload: UnsafeRawBufferPointer, groups n: Int, second: Int, bits: UnsafePointer<UInt64>, secondBits: Int, _: W.Type
    ) -> (count: Int, sum: UInt64) {
        guard n > 0 else { return (0, 0) }
        let width = W.width
        let base = payload.baseAddress!
        let stride = 16 &* width
        let below = UInt32(32 &- width)
        let tallyShift = UInt32(width &+ 3)
        let tally = SIMD8<UInt32>(repeating: 1 << tallyShift)
        let codeBits = SIMD8<UInt32>(repeating: (1 << tallyShift) &- 1)
        let toRowTop = SIMD8<UInt32>(3, 2, 1, 0, 3, 2, 1, 0)
        var tallies = SIMD8<UInt32>()
        var sums = SIMD8<UInt64>()
        let hintEnd = UnsafeRawPointer(base + n &* stride) - 2 &* stride
        var g = 0
        while g < n {
            let at = UnsafeRawPointer(base + g &* stride)
            if at + prefetchDistance <= hintEnd { Prefetch.read(at + prefetchDistance, bytes: 2 &* stride) }
            let marks = bits + g &* 2
            @inline(__always) func eight(_ q: Int) {
                let shift = UInt64((q & 1) &* 32)
                let a = UInt32(truncatingIfNeeded: marks[q >> 1] &>> shift)
                let b = UInt32(truncatingIfNeeded: marks[secondBits &+ (q >> 1)] &>> shift)
                let y = SIMD8<UInt32>(lowHalf: SIMD4(repeating: a), highHalf: SIMD4(repeating: b)) &<< toRowTop
                var s = SIMD8<UInt32>()
                @inline(__always) func row(_ r: Int) {
                    let code = justifiedRow(at, second, q &* 8 &+ r, width) &>> below
                    let mask = SIMD8<Int32>(truncatingIfNeeded: y &<< UInt32(28 &- 4 &* r)) &>> 31
                    s &+= (code | tally) & SIMD8<UInt32>(truncatingIfNeeded: mask)
                }
                row(0); row(1); row(2); row(3); row(4); row(5); row(6); row(7)
                tallies &+= s &>> tallyShift
                sums &+= SIMD8<UInt64>(truncatingIfNeeded: s & codeBits)
            }
            eight(0); eight(1); eight(2); eight(3)
            g &+= 2
        }
        return (Int(tallies.wrappedSum()), sums.wrappedSum())
    }
}

/// What the per-width kernel accumulates besides the count of codes in range.
private protocol CodeAccumulation {
    static var sums: Bool { get }
    /// Sums that carry their count (see ``VerticalFrameOfReferenceCodec/groupPairs``), for widths up to 25.
    static var tallies: Bool { get }
    /// A tallied sum of a range open above (it reaches the widest code): compared right-justified, on one side.
    static var atLeast: Bool { get }
}
extension CodeAccumulation {
    static var tallies: Bool { false }
    static var atLeast: Bool { false }
}
private enum CountCodes: CodeAccumulation { static var sums: Bool { false } }
private enum SumCodes: CodeAccumulation { static var sums: Bool { true } }
private enum TalliedSumCodes: CodeAccumulation {
    static var sums: Bool { true }
    static var tallies: Bool { true }
}
private enum TalliedSumAtLeast: CodeAccumulation {
    static var sums: Bool { true }
    static var tallies: Bool { true }
    static var atLeast: Bool { true }
}

/// A bit width as a type, so that ``VerticalFrameOfReferenceCodec/countGroupPairs(_:groups:_:lo:span:)`` is compiled once
/// per width with the width a constant.
private protocol PackedWidth { static var width: Int { get } }
private enum W1: PackedWidth { static var width: Int { 1 } }
private enum W2: PackedWidth { static var width: Int { 2 } }
private enum W3: PackedWidth { static var width: Int { 3 } }
private enum W4: PackedWidth { static var width: Int { 4 } }
private enum W5: PackedWidth { static var width: Int { 5 } }
private enum W6: PackedWidth { static var width: Int { 6 } }
private enum W7: PackedWidth { static var width: Int { 7 } }
private enum W8: PackedWidth { static var width: Int { 8 } }
private enum W9: PackedWidth { static var width: Int { 9 } }
private enum W10: PackedWidth { static var width: Int { 10 } }
private enum W11: PackedWidth { static var width: Int { 11 } }
private enum W12: PackedWidth { static var width: Int { 12 } }
private enum W13: PackedWidth { static var width: Int { 13 } }
private enum W14: PackedWidth { static var width: Int { 14 } }
private enum W15: PackedWidth { static var width: Int { 15 } }
private enum W16: PackedWidth { static var width: Int { 16 } }
private enum W17: PackedWidth { static var width: Int { 17 } }
private enum W18: PackedWidth { static var width: Int { 18 } }
private enum W19: PackedWidth { static var width: Int { 19 } }
private enum W20: PackedWidth { static var width: Int { 20 } }
private enum W21: PackedWidth { static var width: Int { 21 } }
private enum W22: PackedWidth { static var width: Int { 22 } }
private enum W23: PackedWidth { static var width: Int { 23 } }
private enum W24: PackedWidth { static var width: Int { 24 } }
private enum W25: PackedWidth { static var width: Int { 25 } }
private enum W26: PackedWidth { static var width: Int { 26 } }
private enum W27: PackedWidth { static var width: Int { 27 } }
private enum W28: PackedWidth { static var width: Int { 28 } }
private enum W29: PackedWidth { static var width: Int { 29 } }
private enum W30: PackedWidth { static var width: Int { 30 } }
private enum W31: PackedWidth { static var width: Int { 31 } }
private enum W32: PackedWidth { static var width: Int { 32 } }
