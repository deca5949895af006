/// Accumulates values of one type into a ``ColumnVector``. Appends are amortized O(1).
public struct ColumnBuilder: Sendable {
    public let type: LogicalType
    public var count: Int { rows }
    @usableFromInline var rows = 0
    @usableFromInline var fixed8: [UInt8] = []
    @usableFromInline var fixed32: [Int32] = []
    @usableFromInline var fixed64: [Int64] = []
    @usableFromInline var doubles: [Double] = []
    @usableFromInline var bytes: [UInt8] = []
    @usableFromInline var offsets: [UInt32] = [0]
    @usableFromInline var validity: [UInt64] = []
    @usableFromInline var nulls = 0

    /// `capacity` rows and, for strings, `byteCapacity` bytes of text are reserved up front, so a builder whose
    /// size is known roughly is not copied as it grows.
    public init(_ type: LogicalType, capacity: Int = 0, byteCapacity: Int = 0) {
        self.type = type
        switch type.physical {
        case .uint8: fixed8.reserveCapacity(capacity)
        case .int32: fixed32.reserveCapacity(capacity)
        case .int64: fixed64.reserveCapacity(capacity)
        case .double: doubles.reserveCapacity(capacity)
        case .bytes:
            offsets.reserveCapacity(capacity + 1)
            bytes.reserveCapacity(byteCapacity)
        }
    }

    /// Validity bits are kept only from the first null on (the rows before it are valid): a column without nulls
    /// (an id, a time, most texts) costs nothing per row here. The appends are inlined into their callers in other
    /// modules (ingest's row builders), the bitmap work is not.
    @inlinable @inline(__always)
    mutating func markValid(_ valid: Bool) {
        if nulls == 0 && valid {
            rows += 1
            return
        }
        markValidWithBitmap(valid)
    }

    @usableFromInline
    mutating func markValidWithBitmap(_ valid: Bool) {
        if nulls == 0 {
            // The first null: the bits of the rows so far, all set.
            validity = [UInt64](repeating: ~0, count: rows >> 6)
            if rows & 63 != 0 { validity.append((1 << UInt64(rows & 63)) - 1) }
        }
        if rows & 63 == 0 { validity.append(0) }
        if valid { validity[rows >> 6] |= 1 << UInt64(rows & 63) } else { nulls += 1 }
        rows += 1
    }

    @inlinable
    public mutating func appendNull() {
        switch type.physical {
        case .uint8: fixed8.append(0)
        case .int32: fixed32.append(0)
        case .int64: fixed64.append(0)
        case .double: doubles.append(0)
        case .bytes: offsets.append(UInt32(bytes.count))
        }
        markValid(false)
    }

    @inlinable
    public mutating func append(bool v: Bool) {
        precondition(type.physical == .uint8)
        fixed8.append(v ? 1 : 0)
        markValid(true)
    }

    @inlinable
    public mutating func append(int32 v: Int32) {
        precondition(type.physical == .int32)
        fixed32.append(v)
        markValid(true)
    }

    @inlinable
    public mutating func append(int64 v: Int64) {
        precondition(type.physical == .int64)
        fixed64.append(v)
        markValid(true)
    }

    @inlinable
    public mutating func append(double v: Double) {
        precondition(type.physical == .double)
        doubles.append(v)
        markValid(true)
    }

    @inlinable
    public mutating func append(string v: String) {
        precondition(type.physical == .bytes)
        var s = v
        s.withUTF8 { bytes.append(contentsOf: $0) }
        offsets.append(UInt32(bytes.count))
        markValid(true)
    }

    /// Appends a string of `byteCount` bytes that `write` puts in place: no String is made for it.
    public mutating func append(stringOf byteCount: Int, _ write: (UnsafeMutableRawBufferPointer) -> Void) {
        precondition(type.physical == .bytes)
        let start = bytes.count
        // Room made by copying zeros (memcpy) rather than appending a repeated zero, which Array did a byte at a
        // time: 2.3 % of an ingest's instructions.
        var left = byteCount
        while left > 0 {
            let n = min(left, Self.zeros.count)
            bytes.append(contentsOf: Self.zeros[..<n])
            left -= n
        }
        bytes.withUnsafeMutableBytes { write(UnsafeMutableRawBufferPointer(rebasing: $0[start...])) }
        offsets.append(UInt32(bytes.count))
        markValid(true)
    }

    private static let zeros = [UInt8](repeating: 0, count: 1 << 16)

    @inlinable
    public mutating func append(utf8 v: UnsafeRawBufferPointer) {
        precondition(type.physical == .bytes)
        bytes.append(contentsOf: v)
        offsets.append(UInt32(bytes.count))
        markValid(true)
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
        let validityBuffer = nulls == 0 ? nil : Buffer(copying: validity)
        switch type.physical {
        case .uint8: return ColumnVector(type: type, count: count, values: Buffer(copying: fixed8), validity: validityBuffer)
        case .int32: return ColumnVector(type: type, count: count, values: Buffer(copying: fixed32), validity: validityBuffer)
        case .int64: return ColumnVector(type: type, count: count, values: Buffer(copying: fixed64), validity: validityBuffer)
        case .double: return ColumnVector(type: type, count: count, values: Buffer(copying: doubles), validity: validityBuffer)
        case .bytes:
            return ColumnVector(
                type: type, count: count, values: Buffer(copying: bytes), offsets: Buffer(copying: offsets),
                validity: validityBuffer)
        }
    }
}
