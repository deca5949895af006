/// An immutable, 64-byte aligned region of memory that a column vector reads from.
///
/// A buffer either owns its memory (allocated by ``Buffer/init(copying:)`` or a builder) or borrows it from an
/// owner that keeps it alive, such as a memory-mapped segment file. Borrowing lets a reader hand out a
/// plain-encoded block without copying it.
public final class Buffer: @unchecked Sendable {
    /// Safety: valid for `byteCount` bytes for the lifetime of this object; never written after init.
    public let base: UnsafeRawPointer
    public let byteCount: Int
    private let owner: AnyObject?
    private let owned: Bool

    public static let alignment = 64

    /// Allocates `byteCount` zeroed bytes and lets `initialize` fill them.
    public init(byteCount: Int, initialize: (UnsafeMutableRawBufferPointer) throws -> Void) rethrows {
        let p = UnsafeMutableRawPointer.allocate(byteCount: max(byteCount, 1), alignment: Buffer.alignment)
        p.initializeMemory(as: UInt8.self, repeating: 0, count: max(byteCount, 1))
        do {
            try initialize(UnsafeMutableRawBufferPointer(start: p, count: byteCount))
        } catch {
            p.deallocate()
            throw error
        }
        self.base = UnsafeRawPointer(p)
        self.byteCount = byteCount
        self.owner = nil
        self.owned = true
    }

    /// Borrows `byteCount` bytes at `base`, kept alive by `owner`.
    public init(borrowing base: UnsafeRawPointer, byteCount: Int, owner: AnyObject) {
        self.base = base
        self.byteCount = byteCount
        self.owner = owner
        self.owned = false
    }

    /// Copies the elements of an array.
    public convenience init<T: BitwiseCopyable>(copying array: [T]) {
        let n = array.count * MemoryLayout<T>.stride
        self.init(byteCount: n) { dst in
            array.withUnsafeBytes { src in
                if n > 0 { dst.baseAddress!.copyMemory(from: src.baseAddress!, byteCount: n) }
            }
        }
    }

    /// Copies raw bytes.
    public convenience init(copyingBytes src: UnsafeRawBufferPointer) {
        self.init(byteCount: src.count) { dst in
            if src.count > 0 { dst.baseAddress!.copyMemory(from: src.baseAddress!, byteCount: src.count) }
        }
    }

    deinit {
        if owned { UnsafeMutableRawPointer(mutating: base).deallocate() }
    }

    /// The bytes as a raw buffer.
    @inlinable
    public var bytes: UnsafeRawBufferPointer { UnsafeRawBufferPointer(start: base, count: byteCount) }

    /// Views the memory as `count` values of `T`. The buffer must outlive the use of the pointer.
    @inlinable
    public func typed<T>(_: T.Type, count: Int) -> UnsafeBufferPointer<T> {
        precondition(count * MemoryLayout<T>.stride <= byteCount, "typed view past the end of the buffer")
        return UnsafeBufferPointer(start: base.assumingMemoryBound(to: T.self), count: count)
    }
}
