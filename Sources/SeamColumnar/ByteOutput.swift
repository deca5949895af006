/// Where the text writers (``DecimalText``, ``Decimal2``, ``Timestamp``, ``CSVText``, ``JSONText``) append bytes: a
/// byte array, or a ``TextBuffer`` for exports that write hundreds of millions of fields.
public protocol ByteOutput {
    mutating func append(_ byte: UInt8)
    mutating func append(bytes: UnsafeRawBufferPointer)
}

extension ByteOutput {
    /// Appends a literal's UTF-8 bytes.
    @inlinable @inline(__always)
    public mutating func append(_ literal: StaticString) {
        append(bytes: UnsafeRawBufferPointer(start: literal.utf8Start, count: literal.utf8CodeUnitCount))
    }
}

extension Array: ByteOutput where Element == UInt8 {
    @inlinable @inline(__always)
    public mutating func append(bytes: UnsafeRawBufferPointer) { append(contentsOf: bytes) }
}

/// A growable byte buffer with the cheapest appends: an array's `append(contentsOf:)` of a short span cost about
/// 20 ns here (a uniqueness check and a generic copy), which was a quarter of a CSV export's time. Owned by one
/// writer at a time; ``bytes`` copies the text out and ``deallocate()`` frees it.
public struct TextBuffer: ByteOutput {
    @usableFromInline var base: UnsafeMutablePointer<UInt8>
    @usableFromInline var capacity: Int
    @usableFromInline var written = 0

    /// The bytes appended so far.
    public var count: Int { written }

    public init(capacity: Int) {
        self.capacity = max(64, capacity)
        base = .allocate(capacity: self.capacity)
    }

    @inlinable @inline(__always)
    public mutating func append(_ byte: UInt8) {
        if written == capacity { grow(1) }
        base[written] = byte
        written &+= 1
    }

    @inlinable @inline(__always)
    public mutating func append(bytes: UnsafeRawBufferPointer) {
        let n = bytes.count
        guard n > 0 else { return }
        if written &+ n > capacity { grow(n) }
        UnsafeMutableRawPointer(base + written).copyMemory(from: bytes.baseAddress!, byteCount: n)
        written &+= n
    }

    @usableFromInline
    mutating func grow(_ needed: Int) {
        let next = max(capacity * 2, count + needed)
        let bigger = UnsafeMutablePointer<UInt8>.allocate(capacity: next)
        bigger.update(from: base, count: count)
        base.deallocate()
        base = bigger
        capacity = next
    }

    /// The text so far, as a byte array.
    public var bytes: [UInt8] { Array(UnsafeBufferPointer(start: base, count: count)) }

    public func deallocate() { base.deallocate() }
}
