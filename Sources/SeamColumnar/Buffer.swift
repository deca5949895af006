#if canImport(Glibc)
import Glibc
#endif
import Synchronization

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
    /// The mapping a large buffer lives in (see `LargePages`); nil for malloc'ed and borrowed memory.
    private let mapping: UnsafeMutableRawBufferPointer?

    public static let alignment = 64

    /// Allocates `byteCount` zeroed bytes and lets `initialize` fill them.
    public convenience init(byteCount: Int, initialize: (UnsafeMutableRawBufferPointer) throws -> Void) rethrows {
        try self.init(byteCount: byteCount, zeroed: true, initialize: initialize)
    }

    /// Allocates `byteCount` bytes without clearing them, for an `initialize` that writes every byte (a decoder's
    /// or a gather's output): clearing first would write the memory twice.
    public convenience init(uninitializedByteCount byteCount: Int, initialize: (UnsafeMutableRawBufferPointer) throws -> Void) rethrows {
        try self.init(byteCount: byteCount, zeroed: false, initialize: initialize)
    }

    private init(byteCount: Int, zeroed: Bool, initialize: (UnsafeMutableRawBufferPointer) throws -> Void) rethrows {
        let mapping = LargePages.allocate(byteCount, zeroed: zeroed)
        let p: UnsafeMutableRawPointer
        if let mapping {
            p = LargePages.aligned(mapping)  // fresh anonymous memory reads as zeros already
        } else {
            p = UnsafeMutableRawPointer.allocate(byteCount: max(byteCount, 1), alignment: Buffer.alignment)
            if zeroed { p.initializeMemory(as: UInt8.self, repeating: 0, count: max(byteCount, 1)) }
        }
        do {
            try initialize(UnsafeMutableRawBufferPointer(start: p, count: byteCount))
        } catch {
            if let mapping { LargePages.free(mapping) } else { p.deallocate() }
            throw error
        }
        self.base = UnsafeRawPointer(p)
        self.byteCount = byteCount
        self.owner = nil
        self.owned = true
        self.mapping = mapping
    }

    /// Allocates `byteCount` zeroed bytes for a caller that fills them in several steps (a result written by many
    /// workers) before any reader sees the buffer, as ``init(byteCount:initialize:)``'s closure would: the memory
    /// lives as long as the buffer.
    /// `zeroed: false` leaves the contents undefined, for memory the caller writes in full before reading it.
    public static func forFilling(byteCount: Int, zeroed: Bool = true) -> (buffer: Buffer, memory: UnsafeMutableRawBufferPointer) {
        var memory = UnsafeMutableRawBufferPointer(start: nil, count: 0)
        let buffer = Buffer(byteCount: byteCount, zeroed: zeroed) { memory = $0 }
        return (buffer, memory)
    }

    /// Borrows `byteCount` bytes at `base`, kept alive by `owner`.
    public init(borrowing base: UnsafeRawPointer, byteCount: Int, owner: AnyObject) {
        self.base = base
        self.byteCount = byteCount
        self.owner = owner
        self.owned = false
        self.mapping = nil
    }

    /// Copies the elements of an array (into memory not cleared first: the copy writes every byte).
    public convenience init<T: BitwiseCopyable>(copying array: [T]) {
        let n = array.count * MemoryLayout<T>.stride
        self.init(uninitializedByteCount: n) { dst in
            array.withUnsafeBytes { src in
                if n > 0 { dst.baseAddress!.copyMemory(from: src.baseAddress!, byteCount: n) }
            }
        }
    }

    /// Copies raw bytes (into memory not cleared first).
    public convenience init(copyingBytes src: UnsafeRawBufferPointer) {
        self.init(uninitializedByteCount: src.count) { dst in
            if src.count > 0 { dst.baseAddress!.copyMemory(from: src.baseAddress!, byteCount: src.count) }
        }
    }

    deinit {
        if let mapping {
            LargePages.free(mapping)
        } else if owned {
            UnsafeMutableRawPointer(mutating: base).deallocate()
        }
    }

    /// Keeps up to `bytes` of freed large buffers mapped, to serve later large buffers without page faults (a query
    /// process repeats allocations of the same sizes); `nil` takes an eighth of physical memory, at most 4 GiB, and 0
    /// stops keeping them. A long-running writer (the HTTP ingest server) leaves it off so its resident memory follows its
    /// work; a batch ingest keeps a bounded amount for its next commit.
    public static func keepFreedLargeBuffers(upTo bytes: Int? = nil) {
        LargePages.setCacheLimit(bytes ?? LargePages.defaultCacheLimit)
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

/// Large buffers (a column of a materialized query result: hundreds of MB at 100M rows) are mapped directly, on
/// 2 MiB boundaries, and marked for transparent huge pages. malloc would map them too (they exceed its mmap
/// threshold), but in 4 KiB pages: filling one then costs a page fault per 4 KiB, and malloc's buffer was also
/// zeroed by a memset before the fill, a second pass over memory the kernel had already zeroed. Where huge pages
/// are unavailable the advice is ignored and the buffer is an ordinary mapping.
///
/// Freed mappings can be kept for reuse, up to `cacheLimit` bytes (0 unless a process asks for it with
/// ``Buffer/keepFreedLargeBuffers(upTo:)``; queries and `seam ingest` do, the ingest server does not): the next query's columns (a REPL session, a repeated
/// report) then zero warm memory with a memset instead of faulting in pages the kernel must clear first, which cost
/// a quarter of the CPU time of a window query over 66M rows here (`clear_page_erms` in `perf`).
enum LargePages {
    /// Below this, malloc (which reuses freed memory) serves the buffer.
    static let threshold = 8 << 20
    static let hugePage = 2 << 20

    /// Mappings freed and kept for reuse, and their total size.
    private struct Cache: @unchecked Sendable {  // Safety: only touched under `cache`'s lock
        var mappings: [UnsafeMutableRawBufferPointer] = []
        var bytes = 0
    }
    private static let cache = Mutex(Cache())

    private static let limit = Atomic<Int>(0)
    static var cacheLimit: Int { limit.load(ordering: .relaxed) }

    static func setCacheLimit(_ bytes: Int) {
        limit.store(max(bytes, 0), ordering: .relaxed)
        if bytes <= 0 { trimCache() }
    }

    /// Unmaps every cached mapping.
    static func trimCache() {
        let all = cache.withLock { c in
            defer { c = Cache() }
            return c.mappings
        }
        #if canImport(Glibc)
        for m in all { _ = munmap(m.baseAddress!, m.count) }
        #endif
    }

    /// A zeroed mapping with room for `byteCount` bytes from a 2 MiB boundary; nil below the threshold or if
    /// mapping fails.
    static func allocate(_ byteCount: Int, zeroed: Bool = true) -> UnsafeMutableRawBufferPointer? {
        #if canImport(Glibc)
        guard byteCount >= threshold else { return nil }
        let length = (byteCount + hugePage - 1) / hugePage * hugePage + hugePage
        // The smallest cached mapping that fits and wastes at most half of itself.
        let reused: UnsafeMutableRawBufferPointer? = cache.withLock { c in
            var best: Int? = nil
            for (i, m) in c.mappings.enumerated() where m.count >= length && m.count <= length * 2 {
                if best == nil || m.count < c.mappings[best!].count { best = i }
            }
            guard let best else { return nil }
            c.bytes -= c.mappings[best].count
            return c.mappings.remove(at: best)
        }
        if let reused {
            if zeroed { aligned(reused).initializeMemory(as: UInt8.self, repeating: 0, count: byteCount) }
            return reused
        }
        guard let raw = mmap(nil, length, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0), raw != MAP_FAILED else { return nil }
        let mapping = UnsafeMutableRawBufferPointer(start: raw, count: length)
        _ = madvise(aligned(mapping), length - hugePage, 14)  // MADV_HUGEPAGE (<sys/mman.h>; not exported to Swift)
        return mapping
        #else
        return nil
        #endif
    }

    /// The first 2 MiB boundary inside `mapping`.
    static func aligned(_ mapping: UnsafeMutableRawBufferPointer) -> UnsafeMutableRawPointer {
        let address = UInt(bitPattern: mapping.baseAddress!)
        let mask = UInt(hugePage - 1)
        return UnsafeMutableRawPointer(bitPattern: (address + mask) & ~mask)!
    }

    /// Keeps `mapping` for reuse while the cache has room, else unmaps it.
    static func free(_ mapping: UnsafeMutableRawBufferPointer) {
        #if canImport(Glibc)
        let kept = cache.withLock { c in
            guard c.bytes + mapping.count <= cacheLimit else { return false }
            c.mappings.append(mapping)
            c.bytes += mapping.count
            return true
        }
        if !kept { _ = munmap(mapping.baseAddress!, mapping.count) }
        #endif
    }

    /// An eighth of physical memory, at most 4 GiB.
    static var defaultCacheLimit: Int {
        #if canImport(Glibc)
        let physical = Int(sysconf(Int32(_SC_PHYS_PAGES))) * Int(sysconf(Int32(_SC_PAGESIZE)))
        return min(max(physical / 8, 0), 4 << 30)
        #else
        return 0
        #endif
    }

    /// Bytes of freed mappings held for reuse (for tests and diagnostics).
    static var cachedBytes: Int { cache.withLock { $0.bytes } }
}
