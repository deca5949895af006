/// A column of `count` values of one logical type: the unit kernels and codecs work on.
///
/// Fixed-width types keep their values in `values` (`count × width` bytes). VARCHAR keeps UTF-8 bytes in
/// `values` and `count + 1` `UInt32` offsets in `offsets`. `validity` is a bitmap (bit set = not null);
/// `nil` means no nulls. Null slots hold an unspecified value of the physical type.
///
/// Vectors are immutable values; their buffers may borrow memory from a mapped segment.
public struct ColumnVector: Sendable {
    public let type: LogicalType
    public let count: Int
    public let values: Buffer
    public let offsets: Buffer?
    public let validity: Buffer?

    public init(type: LogicalType, count: Int, values: Buffer, offsets: Buffer? = nil, validity: Buffer? = nil) {
        precondition(type == .varchar ? offsets != nil : offsets == nil, "offsets are for VARCHAR only")
        if let width = type.physical.width { precondition(values.byteCount >= count * width, "values buffer too small") }
        self.type = type
        self.count = count
        self.values = values
        self.offsets = offsets
        self.validity = validity
    }

    /// Number of null rows.
    public var nullCount: Int {
        guard let validity else { return 0 }
        return count - Bitmap.popCount(validity.typed(UInt64.self, count: Bitmap.wordCount(count)), rows: count)
    }

    @inlinable
    public func isNull(_ row: Int) -> Bool {
        guard let validity else { return false }
        return !Bitmap.isSet(validity.typed(UInt64.self, count: Bitmap.wordCount(count)), row)
    }

    /// Typed view of fixed-width values. Valid while this vector is alive.
    @inlinable
    public func withValues<T, R>(_: T.Type, _ body: (UnsafeBufferPointer<T>) throws -> R) rethrows -> R {
        try withExtendedLifetime(values) { try body(values.typed(T.self, count: count)) }
    }

    /// The UTF-8 bytes of row `row` of a VARCHAR vector.
    @inlinable
    public func stringBytes(_ row: Int) -> UnsafeRawBufferPointer {
        let offs = offsets!.typed(UInt32.self, count: count + 1)
        let start = Int(offs[row])
        return UnsafeRawBufferPointer(rebasing: values.bytes[start..<Int(offs[row + 1])])
    }

    /// The value at `row` as a ``Value`` (slow path, for edges and tests).
    public func value(at row: Int) -> Value {
        precondition(row >= 0 && row < count, "row out of range")
        if isNull(row) { return .null }
        switch type {
        case .boolean: return .boolean(values.typed(UInt8.self, count: count)[row] != 0)
        case .integer: return .integer(values.typed(Int32.self, count: count)[row])
        case .bigint: return .bigint(values.typed(Int64.self, count: count)[row])
        case .decimal: return .decimal(values.typed(Int64.self, count: count)[row])
        case .timestamp: return .timestamp(values.typed(Int64.self, count: count)[row])
        case .double: return .double(values.typed(Double.self, count: count)[row])
        case .varchar: return .varchar(String(decoding: stringBytes(row), as: UTF8.self))
        }
    }

    /// All values, in order (slow path).
    public var allValues: [Value] { (0..<count).map(value(at:)) }

    /// Total bytes of this vector in memory (values, offsets, validity): its raw, uncompressed size.
    public var rawByteCount: Int {
        let valueBytes = type == .varchar ? Int(offsets!.typed(UInt32.self, count: count + 1)[count]) : count * type.physical.width!
        return valueBytes + (type == .varchar ? (count + 1) * 4 : 0) + (validity == nil ? 0 : Bitmap.wordCount(count) * 8)
    }
}
