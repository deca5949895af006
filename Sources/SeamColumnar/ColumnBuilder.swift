/// Accumulates values of one type into a ``ColumnVector``. Appends are amortized O(1).
public struct ColumnBuilder: Sendable {
    public let type: LogicalType
    public var count: Int { rows }
    @usableFromInline var rows = 0
    /// Fixed-width values one after another, or a text column's bytes.
    @usableFromInline var values: GrowableBytes
    /// A text column's end offsets (`UInt32`), after a leading 0.
    @usableFromInline var offsets: GrowableBytes
    /// Validity words (`UInt64`, bit set = valid), from the first null on.
    @usableFromInline var validity = GrowableBytes(capacity: 0)
    @usableFromInline var nulls = 0
    /// Bytes per value; 0 for text.
    @usableFromInline let width: Int

    /// `capacity` rows and, for strings, `byteCapacity` bytes of text are reserved up front, so a builder whose
    /// size is known roughly is not copied as it grows.
    public init(_ type: LogicalType, capacity: Int = 0, byteCapacity: Int = 0) {
        self.type = type
        width = type.physical.width ?? 0
        if let w = type.physical.width {
            values = GrowableBytes(capacity: capacity * w)
            offsets = GrowableBytes(capacity: 0)
        } else {
            values = GrowableBytes(capacity: byteCapacity)
            offsets = GrowableBytes(capacity: (capacity + 1) * 4)
            offsets.append(UInt32(0))
        }
    }

    /// Validity bits are kept only from the first null on (the rows before it are valid): a column without nulls
    /// (an id, a time, most texts) costs nothing per row here. The appends are inlined into their callers in other
    /// modules (ingest's row builders); starting the bitmap is not.
    @inlinable @inline(__always)
    mutating func markValid(_ valid: Bool) {
        if nulls == 0 {
            if valid {
                rows &+= 1
                return
            }
            startBitmap()
        }
        if rows & 63 == 0 { validity.append(UInt64(0)) }
        if valid {
            let word = validity.mutableBase().assumingMemoryBound(to: UInt64.self) + (rows >> 6)
            word.pointee |= 1 << UInt64(rows & 63)
        } else {
            nulls &+= 1
        }
        rows &+= 1
    }

    /// Ends a text value: its end offset. A text column past 4 GiB traps here rather than wrap its offsets.
    @inlinable @inline(__always)
    mutating func appendOffset() {
        offsets.append(UInt32(values.count))
    }

    /// The first null: the bits of the rows so far, all set.
    @usableFromInline
    mutating func startBitmap() {
        validity = GrowableBytes(capacity: (rows + 1024) / 8)
        for _ in 0..<(rows >> 6) { validity.append(UInt64.max) }
        if rows & 63 != 0 { validity.append((1 << UInt64(rows & 63)) &- 1) }
    }

    @inlinable
    public mutating func appendNull() {
        if width > 0 {
            values.appendZeros(width)
        } else {
            appendOffset()
        }
        markValid(false)
    }

    @inlinable
    public mutating func append(bool v: Bool) {
        precondition(type.physical == .uint8)
        values.append(UInt8(v ? 1 : 0))
        markValid(true)
    }

    @inlinable
    public mutating func append(int32 v: Int32) {
        precondition(type.physical == .int32)
        values.append(v)
        markValid(true)
    }

    @inlinable
    public mutating func append(int64 v: Int64) {
        precondition(type.physical == .int64)
        values.append(v)
        markValid(true)
    }

    @inlinable
    public mutating func append(double v: Double) {
        precondition(type.physical == .double)
        values.append(v)
        markValid(true)
    }

    @inlinable
    public mutating func append(string v: String) {
        precondition(type.physical == .bytes)
        var s = v
        s.withUTF8 { values.append(bytes: UnsafeRawBufferPointer($0)) }
        appendOffset()
        markValid(true)
    }

    /// Appends a string of `byteCount` bytes that `write` puts in place: no String is made for it.
    @inlinable
    public mutating func append(stringOf byteCount: Int, _ write: (UnsafeMutableRawBufferPointer) -> Void) {
        precondition(type.physical == .bytes)
        write(UnsafeMutableRawBufferPointer(start: values.claim(byteCount), count: byteCount))
        appendOffset()
        markValid(true)
    }

    @inlinable
    public mutating func append(utf8 v: UnsafeRawBufferPointer) {
        precondition(type.physical == .bytes)
        values.append(bytes: v)
        appendOffset()
        markValid(true)
    }

    /// Appends a text's UTF-8 bytes or, for nil, a null.
    @inlinable
    public mutating func append(utf8 v: UnsafeRawBufferPointer?) {
        if let v { append(utf8: v) } else { appendNull() }
    }

    /// Appends a value or, for nil, a null.
    @inlinable
    public mutating func append(int64 v: Int64?) {
        if let v { append(int64: v) } else { appendNull() }
    }

    @inlinable
    public mutating func append(int32 v: Int32?) {
        if let v { append(int32: v) } else { appendNull() }
    }

    @inlinable
    public mutating func append(string v: String?) {
        if let v { append(string: v) } else { appendNull() }
    }

    /// Appends a ``Value``; the case must match the builder's type (`.null` always fits).
    public mutating func append(_ value: Value) {
        switch (value, type) {
        case (.null, _): appendNull()
        case (.boolean(let v), .boolean): append(bool: v)
        case (.integer(let v), .integer), (.date(let v), .date): append(int32: v)
        case (.bigint(let v), .bigint), (.decimal(let v), .decimal), (.timestamp(let v), .timestamp), (.interval(let v), .interval): append(int64: v)
        case (.double(let v), .double): append(double: v)
        case (.varchar(let v), .varchar): append(string: v)
        default: preconditionFailure("value \(value) does not fit a \(type) column")
        }
    }

    /// Builds the vector. Validity is omitted when there are no nulls.
    public func finish() -> ColumnVector {
        let validityBuffer = nulls == 0 ? nil : validity.buffer()
        if width > 0 {
            return ColumnVector(type: type, count: count, values: values.buffer(), validity: validityBuffer)
        }
        return ColumnVector(type: type, count: count, values: values.buffer(), offsets: offsets.buffer(), validity: validityBuffer)
    }
}

/// A builder's growing bytes, with value semantics: one 64-byte aligned allocation, copied before a write only when
/// another value shares it. Array's appends (a generic copy per span, the zeros appended to make room for a written
/// text) took a fifth of the instructions of an ingest worker's row.
@usableFromInline
struct GrowableBytes: Sendable {
    /// Immutable fields (no exclusivity checks); the bytes behind `base` are written only while unshared.
    @usableFromInline
    final class Storage: @unchecked Sendable {
        @usableFromInline let base: UnsafeMutableRawPointer
        @usableFromInline let capacity: Int

        init(capacity: Int) {
            self.capacity = max(capacity, 64)
            base = UnsafeMutableRawPointer.allocate(byteCount: self.capacity, alignment: Buffer.alignment)
        }

        deinit { base.deallocate() }
    }

    @usableFromInline var storage: Storage
    @usableFromInline var count = 0

    init(capacity: Int) { storage = Storage(capacity: capacity) }

    /// Room for `n` more bytes, in memory this value alone holds: where they go (to be written by the caller).
    @inlinable @inline(__always)
    mutating func claim(_ n: Int) -> UnsafeMutableRawPointer {
        if _slowPath(count &+ n > storage.capacity || !isKnownUniquelyReferenced(&storage)) { reserve(n) }
        let at = storage.base + count
        count &+= n
        return at
    }

    /// Makes room for `n` more bytes in an allocation of its own: twice the capacity when growing.
    @usableFromInline
    mutating func reserve(_ n: Int) {
        let needed = count + n
        let grown = Storage(capacity: needed > storage.capacity ? max(needed, storage.capacity * 2) : storage.capacity)
        grown.base.copyMemory(from: storage.base, byteCount: count)
        storage = grown
    }

    /// The start of the bytes, for changing ones already appended: unshared first.
    @inlinable @inline(__always)
    mutating func mutableBase() -> UnsafeMutableRawPointer {
        if _slowPath(!isKnownUniquelyReferenced(&storage)) { reserve(0) }
        return storage.base
    }

    @inlinable @inline(__always)
    mutating func append<T: BitwiseCopyable>(_ v: T) {
        claim(MemoryLayout<T>.size).storeBytes(of: v, as: T.self)
    }

    @inlinable @inline(__always)
    mutating func appendZeros(_ n: Int) {
        claim(n).initializeMemory(as: UInt8.self, repeating: 0, count: n)
    }

    @inlinable @inline(__always)
    mutating func append(bytes src: UnsafeRawBufferPointer) {
        let n = src.count
        guard n > 0 else { return }
        claim(n).copyMemory(from: src.baseAddress!, byteCount: n)
    }

    /// The bytes so far, copied into a buffer of their own.
    func buffer() -> Buffer { Buffer(copyingBytes: UnsafeRawBufferPointer(start: storage.base, count: count)) }
}
