public import SeamColumnar

/// Gather: builds a vector from the rows of `source` at `indices`, in that order (sorting, partitioning).
public enum Gather {
    @inlinable
    static func gatherFixed<T: BitwiseCopyable>(
        _ src: UnsafeBufferPointer<T>, _ idx: UnsafeBufferPointer<Int32>, _ dst: UnsafeMutableRawBufferPointer
    ) {
        let out = dst.bindMemory(to: T.self)
        var i = 0
        // Safety: callers check every index is in 0..<src.count once, before the loop.
        while i < idx.count {
            out[i] = src[Int(idx[i])]
            i &+= 1
        }
    }

    /// Rows of `source` at `indices`. Every index must be in `0..<source.count`.
    public static func rows(_ source: ColumnVector, _ indices: [Int32]) -> ColumnVector {
        precondition(indices.allSatisfy { $0 >= 0 && Int($0) < source.count }, "gather index out of range")
        let n = indices.count
        let validity: Buffer? = source.validity.map { v in
            Buffer(uninitializedByteCount: Bitmap.wordCount(n) * 8) { raw in
                indices.withUnsafeBufferPointer { rows in
                    _ = Bitmap.gather(v.base.assumingMemoryBound(to: UInt64.self), rows: rows, range: 0..<n, into: raw.bindMemory(to: UInt64.self).baseAddress!)
                }
            }
        }
        return indices.withUnsafeBufferPointer { idx in
            switch source.type.physical {
            case .uint8:
                let b = Buffer(byteCount: n) { gatherFixed(source.values.typed(UInt8.self, count: source.count), idx, $0) }
                return ColumnVector(type: source.type, count: n, values: b, validity: validity)
            case .int32:
                let b = Buffer(byteCount: n * 4) { gatherFixed(source.values.typed(Int32.self, count: source.count), idx, $0) }
                return ColumnVector(type: source.type, count: n, values: b, validity: validity)
            case .int64:
                let b = Buffer(byteCount: n * 8) { gatherFixed(source.values.typed(Int64.self, count: source.count), idx, $0) }
                return ColumnVector(type: source.type, count: n, values: b, validity: validity)
            case .double:
                let b = Buffer(byteCount: n * 8) { gatherFixed(source.values.typed(Double.self, count: source.count), idx, $0) }
                return ColumnVector(type: source.type, count: n, values: b, validity: validity)
            case .bytes:
                if let d = source.dictionary {
                    // Dictionary form stays: gather the codes, share the entries.
                    let codes = Buffer(byteCount: n * 4) { gatherFixed(d.codes.typed(UInt32.self, count: source.count), idx, $0) }
                    return ColumnVector(codes: codes, entries: d.entries, count: n, validity: validity)
                }
                let (bytes, offs) = StringGather.gather(source, idx)
                return ColumnVector(type: .varchar, count: n, values: bytes, offsets: offs, validity: validity)
            }
        }
    }

    /// The contiguous row range `range` of `source` (a copy).
    public static func slice(_ source: ColumnVector, _ range: Range<Int>) -> ColumnVector {
        rows(source, range.map { Int32($0) })
    }

    /// The contiguous row range `range` of `source`, sharing its memory where the layout allows: fixed-width values
    /// and dictionary codes always, the validity bitmap when the range starts on a multiple of 64 rows. Plain
    /// VARCHAR (absolute offsets) is copied.
    public static func view(_ source: ColumnVector, _ range: Range<Int>) -> ColumnVector {
        precondition(range.lowerBound >= 0 && range.upperBound <= source.count, "view out of range")
        if range == 0..<source.count { return source }
        let n = range.count, first = range.lowerBound
        let validity: Buffer?
        if let v = source.validity {
            validity = first % 64 == 0
                ? Buffer(borrowing: v.base + first / 8, byteCount: Bitmap.wordCount(n) * 8, owner: v)
                : slice(ColumnVector(type: .boolean, count: source.count, values: Buffer(byteCount: source.count) { _ in }, validity: v), range).validity
        } else {
            validity = nil
        }
        if let d = source.dictionary {
            let codes = Buffer(borrowing: d.codes.base + first * 4, byteCount: n * 4, owner: d.codes)
            return ColumnVector(codes: codes, entries: d.entries, count: n, validity: validity)
        }
        guard let width = source.type.physical.width else { return slice(source, range).withValidity(validity) }
        let values = source.values
        return ColumnVector(
            type: source.type, count: n, values: Buffer(borrowing: values.base + first * width, byteCount: n * width, owner: values),
            validity: validity)
    }
}

extension Gather {
    /// The rows of `parts` one after another, as one vector. All parts must have the same type.
    /// All rows of `chunks` (one schema) in order, as one chunk; a single non-empty chunk is returned as it is.
    public static func concat(_ chunks: [Chunk]) -> Chunk {
        precondition(!chunks.isEmpty, "concat of no chunks")
        let parts = chunks.filter { $0.rowCount > 0 }
        if parts.count == 1 { return parts[0] }
        let schema = chunks[0].schema
        return Chunk(schema: schema, columns: schema.fields.indices.map { c in concat(parts.map { $0.columns[c] }, type: schema[c].type) })
    }

    /// The distinct texts of several dictionaries' entries (NULL once, if any), and for each entry of each
    /// dictionary in turn its position among them.
    static func mergedEntries(_ dictionaries: [ColumnVector]) -> (entries: ColumnVector, remap: [UInt32]) {
        var ids: [[UInt8]: UInt32] = [:]
        var nullID: UInt32? = nil
        var builder = ColumnBuilder(.varchar, capacity: 0)
        var next: UInt32 = 0
        var remap: [UInt32] = []
        remap.reserveCapacity(dictionaries.reduce(0) { $0 + $1.count })
        for d in dictionaries {
            for k in 0..<d.count {
                if d.isNull(k) {
                    if nullID == nil {
                        nullID = next
                        next += 1
                        builder.appendNull()
                    }
                    remap.append(nullID!)
                    continue
                }
                let text = d.stringBytes(k)
                let key = Array(text)
                if let id = ids[key] {
                    remap.append(id)
                } else {
                    ids[key] = next
                    remap.append(next)
                    next += 1
                    builder.append(utf8: text)
                }
            }
        }
        return (builder.finish(), remap)
    }

    public static func concat(_ parts: [ColumnVector], type: LogicalType) -> ColumnVector {
        precondition(parts.allSatisfy { $0.type == type }, "concat of mixed types")
        let n = parts.reduce(0) { $0 + $1.count }
        let anyNulls = parts.contains { $0.validity != nil }
        let validity: Buffer? = anyNulls ? Buffer(byteCount: Bitmap.wordCount(n) * 8) { raw in
            let out = raw.bindMemory(to: UInt64.self)
            var at = 0
            for p in parts {
                for r in 0..<p.count where !p.isNull(r) { out[(at + r) >> 6] |= 1 << UInt64((at + r) & 63) }
                at += p.count
            }
        } : nil
        if type == .varchar, parts.count > 1, parts.allSatisfy({ $0.dictionary != nil }) {
            // Dictionary parts stay in dictionary form, with one entry per distinct text: every scan batch has its
            // own dictionary of the same few values, and an expression over the result looks at each entry of it
            // (a window's 66M-row input had thousands of copies of three event types).
            let forms = parts.map { $0.dictionary! }
            let (entries, remap) = mergedEntries(forms.map(\.entries))
            let codes = remap.withUnsafeBufferPointer { remap in
                Buffer(uninitializedByteCount: n * 4) { raw in
                    let out = raw.bindMemory(to: UInt32.self)
                    var at = 0
                    var base = 0
                    for (p, f) in zip(parts, forms) {
                        let c = f.codePointer
                        let map = remap.baseAddress! + base
                        for r in 0..<p.count { out[at + r] = map[Int(c[r])] }
                        at += p.count
                        base += f.entries.count
                    }
                }
            }
            return ColumnVector(codes: codes, entries: entries, count: n, validity: validity)
        }
        if let width = type.physical.width {
            let values = Buffer(uninitializedByteCount: n * width) { raw in
                var at = 0
                for p in parts where p.count > 0 {
                    raw.baseAddress!.advanced(by: at).copyMemory(from: p.values.base, byteCount: p.count * width)
                    at += p.count * width
                }
            }
            return ColumnVector(type: type, count: n, values: values, validity: validity)
        }
        var total = 0
        for p in parts where p.count > 0 {
            let o = p.offsets!.typed(UInt32.self, count: p.count + 1)
            total += Int(o[p.count] &- o[0])
        }
        let offsets = Buffer(byteCount: (n + 1) * 4) { raw in
            let out = raw.bindMemory(to: UInt32.self)
            var row = 0
            var base: UInt32 = 0
            for p in parts where p.count > 0 {
                let o = p.offsets!.typed(UInt32.self, count: p.count + 1)
                for r in 0..<p.count { out[row + r] = base &+ (o[r] &- o[0]) }
                row += p.count
                base &+= o[p.count] &- o[0]
            }
            out[n] = base
        }
        let bytes = Buffer(byteCount: total) { raw in
            var at = 0
            for p in parts where p.count > 0 {
                let o = p.offsets!.typed(UInt32.self, count: p.count + 1)
                let len = Int(o[p.count] &- o[0])
                if len > 0 { raw.baseAddress!.advanced(by: at).copyMemory(from: p.values.base + Int(o[0]), byteCount: len) }
                at += len
            }
        }
        return ColumnVector(type: .varchar, count: n, values: bytes, offsets: offsets, validity: validity)
    }
}

extension Gather {
    /// A row of one of several vectors: the vector's index in the high 32 bits, the row in the low 32.
    @inlinable
    public static func ref(part: Int, row: Int) -> UInt64 { UInt64(part) << 32 | UInt64(UInt32(row)) }

    /// Rows picked from several vectors of one type, in the order of `refs` (see ``ref(part:row:)``): one copy
    /// where concatenating the parts and then gathering would make two. Every ref must name a row that exists.
    public static func rows(of parts: [ColumnVector], _ refs: UnsafeBufferPointer<UInt64>) -> ColumnVector {
        precondition(!parts.isEmpty, "gather from no parts")
        let type = parts[0].type
        precondition(parts.allSatisfy { $0.type == type }, "gather from parts of mixed types")
        let counts = parts.map(\.count)
        counts.withUnsafeBufferPointer { c in
            precondition(refs.allSatisfy { Int($0 >> 32) < c.count && Int($0 & 0xFFFF_FFFF) < c[Int($0 >> 32)] }, "gather ref out of range")
        }
        let n = refs.count
        let validity: Buffer? = parts.contains { $0.validity != nil } ? Buffer(byteCount: Bitmap.wordCount(n) * 8) { raw in
            let out = raw.bindMemory(to: UInt64.self)
            let words = parts.map { p in p.validity.map { $0.typed(UInt64.self, count: Bitmap.wordCount(p.count)) } }
            for i in 0..<n {
                let r = refs[i]
                if let w = words[Int(r >> 32)], !Bitmap.isSet(w, Int(r & 0xFFFF_FFFF)) { continue }
                out[i >> 6] |= 1 << UInt64(i & 63)
            }
        } : nil
        // The parts' buffers, taken once (the flat form of dictionary parts): the loops below index raw pointers.
        let values = parts.map(\.values)
        return withExtendedLifetime(values) {
            let bases = values.map(\.base)
            func fixed<T: BitwiseCopyable>(_: T.Type) -> ColumnVector {
                let width = MemoryLayout<T>.stride
                let typed = bases.map { $0.assumingMemoryBound(to: T.self) }
                let b = Buffer(uninitializedByteCount: n * width) { raw in
                    let out = raw.bindMemory(to: T.self)
                    typed.withUnsafeBufferPointer { src in
                        for i in 0..<n {
                            let r = refs[i]
                            out[i] = src[Int(r >> 32)][Int(r & 0xFFFF_FFFF)]
                        }
                    }
                }
                return ColumnVector(type: type, count: n, values: b, validity: validity)
            }
            switch type.physical {
            case .uint8: return fixed(UInt8.self)
            case .int32: return fixed(Int32.self)
            case .int64: return fixed(Int64.self)
            case .double: return fixed(Double.self)
            case .bytes:
                let offsets = parts.map { $0.offsets! }
                return withExtendedLifetime(offsets) {
                    struct Source {
                        let base: UnsafeRawPointer
                        let offs: UnsafePointer<UInt32>
                        let limit: Int
                    }
                    let sources = parts.indices.map {
                        Source(base: bases[$0], offs: offsets[$0].base.assumingMemoryBound(to: UInt32.self), limit: values[$0].byteCount)
                    }
                    return sources.withUnsafeBufferPointer { src in
                        var total = 0
                        for i in 0..<n {
                            let r = refs[i], o = src[Int(r >> 32)].offs, row = Int(r & 0xFFFF_FFFF)
                            total += Int(o[row + 1] &- o[row])
                        }
                        let outOffsets = Buffer(uninitializedByteCount: (n + 1) * 4) { raw in
                            let out = raw.bindMemory(to: UInt32.self)
                            var acc: UInt32 = 0
                            for i in 0..<n {
                                out[i] = acc
                                let r = refs[i], o = src[Int(r >> 32)].offs, row = Int(r & 0xFFFF_FFFF)
                                acc &+= o[row + 1] &- o[row]
                            }
                            out[n] = acc
                        }
                        // As in StringGather: short strings move as one 16-byte load and store, into slack after the end.
                        let bytes = Buffer(uninitializedByteCount: total + 16) { raw in
                            let dst = raw.baseAddress!
                            var at = 0
                            for i in 0..<n {
                                let r = refs[i], from = src[Int(r >> 32)], row = Int(r & 0xFFFF_FFFF)
                                let s = Int(from.offs[row]), len = Int(from.offs[row + 1] &- from.offs[row])
                                if len <= 16 && s + 16 <= from.limit {
                                    dst.storeBytes(of: from.base.loadUnaligned(fromByteOffset: s, as: SIMD16<UInt8>.self), toByteOffset: at, as: SIMD16<UInt8>.self)
                                } else if len > 0 {
                                    (dst + at).copyMemory(from: from.base + s, byteCount: len)
                                }
                                at += len
                            }
                        }
                        return ColumnVector(type: .varchar, count: n, values: bytes, offsets: outOffsets, validity: validity)
                    }
                }
            }
        }
    }
}

extension Gather {
    /// The `rows` rows whose validity is `validity`, from `compact`, which holds the values of the valid rows only
    /// (in order, no validity of its own): valid row `i` takes the next value of `compact`; a NULL row holds a copy
    /// of a neighbouring value (0 or the empty string when nothing is valid), as stored blocks do. Plain VARCHAR
    /// shares `compact`'s bytes; NULL rows are empty strings.
    public static func expand(_ compact: ColumnVector, validity: Buffer, rows: Int) -> ColumnVector {
        let words = validity.base.assumingMemoryBound(to: UInt64.self)
        let valid = compact.count
        precondition(compact.validity == nil && Bitmap.popCount(UnsafeBufferPointer(start: words, count: Bitmap.wordCount(rows)), rows: rows) == valid,
                     "expand: the compact values must be exactly the valid rows")
        if let d = compact.dictionary {
            let codes = Buffer(uninitializedByteCount: rows * 4) { expandFixed(d.codes.base.assumingMemoryBound(to: UInt32.self), valid, words, rows, $0) }
            return ColumnVector(codes: codes, entries: d.entries, count: rows, validity: validity)
        }
        switch compact.type.physical {
        case .uint8:
            let b = Buffer(uninitializedByteCount: rows) { expandFixed(compact.values.base.assumingMemoryBound(to: UInt8.self), valid, words, rows, $0) }
            return ColumnVector(type: compact.type, count: rows, values: b, validity: validity)
        case .int32:
            let b = Buffer(uninitializedByteCount: rows * 4) { expandFixed(compact.values.base.assumingMemoryBound(to: UInt32.self), valid, words, rows, $0) }
            return ColumnVector(type: compact.type, count: rows, values: b, validity: validity)
        case .int64, .double:
            let b = Buffer(uninitializedByteCount: rows * 8) { expandFixed(compact.values.base.assumingMemoryBound(to: UInt64.self), valid, words, rows, $0) }
            return ColumnVector(type: compact.type, count: rows, values: b, validity: validity)
        case .bytes:
            // Row i starts where the valid rows before it end: offsets[i] = compact offset of (valid rows before i).
            let from = compact.offsets!.base.assumingMemoryBound(to: UInt32.self)
            let offsets = Buffer(uninitializedByteCount: (rows + 1) * 4) { raw in
                let out = raw.bindMemory(to: UInt32.self).baseAddress!
                var k = 0
                var i = 0
                while i < rows {
                    out[i] = from[k]
                    k &+= Int(truncatingIfNeeded: (words[i >> 6] >> UInt64(i & 63)) & 1)
                    i &+= 1
                }
                out[rows] = from[k]
            }
            return ColumnVector(type: .varchar, count: rows, values: compact.values, offsets: offsets, validity: validity)
        }
    }

    /// `out[i] = src[k]` where `k` counts the valid rows before row `i`, clamped to the last value; zeros when there
    /// are no values. Branch-free per row. `raw` holds `rows` values of `T`; `src` holds `valid` values.
    @inlinable
    public static func expandFixed<T: FixedWidthInteger>(
        _ src: UnsafePointer<T>, _ valid: Int, _ words: UnsafePointer<UInt64>, _ rows: Int, _ raw: UnsafeMutableRawBufferPointer
    ) {
        guard rows > 0 else { return }
        let out = raw.bindMemory(to: T.self).baseAddress!
        guard valid > 0 else {
            out.initialize(repeating: 0, count: rows)
            return
        }
        let last = valid &- 1
        var k = 0
        var i = 0
        while i < rows {
            out[i] = src[min(k, last)]
            k &+= Int(truncatingIfNeeded: (words[i >> 6] >> UInt64(i & 63)) & 1)
            i &+= 1
        }
    }
}


extension Gather {
    /// One byte per row from one per valid row: `out[i]` is the next of `compact` where row `i` is valid, 0 where it
    /// is NULL. A sparse block's per-value flags (its dictionary entries' flags, or a range decided on its stored
    /// values) become row flags this way: a validity word at a time, its 64 bytes zeroed in eight stores, then one
    /// store per valid row (its lowest set bit, cleared, gives the next). ``expandFixed(_:_:_:_:_:)`` followed by
    /// clearing the NULL rows' bytes took 10 instructions a row; here a word of one row in nine takes about 40.
    @inlinable
    public static func depositFlags(_ compact: UnsafePointer<UInt8>, validity: UnsafePointer<UInt64>, rows: Int, into out: UnsafeMutablePointer<UInt8>) {
        let raw = UnsafeMutableRawPointer(out)
        var k = 0
        var start = 0
        while start < rows {
            let n = min(64, rows &- start)
            var bits = validity[start &>> 6]
            if n < 64 { bits &= (1 << UInt64(n)) &- 1 }
            if bits == ~0 {
                (out + start).update(from: compact + k, count: 64)
                k &+= 64
            } else if n == 64 {
                for j in 0..<8 { raw.storeBytes(of: UInt64(0), toByteOffset: start &+ j &* 8, as: UInt64.self) }
                while bits != 0 {
                    out[start &+ bits.trailingZeroBitCount] = compact[k]
                    k &+= 1
                    bits &= bits &- 1
                }
            } else {
                (out + start).update(repeating: 0, count: n)
                while bits != 0 {
                    out[start &+ bits.trailingZeroBitCount] = compact[k]
                    k &+= 1
                    bits &= bits &- 1
                }
            }
            start &+= 64
        }
    }
}
