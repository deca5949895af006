import CCPU

/// A set of 64-bit integers in one open-addressing table (linear probing, load at most 0.7: a set of every event id
/// ever ingested is large, and a miss still probes only a few slots of one or two cache lines).
///
/// For ids that are already hashes or dense counters: one multiply spreads them, where `Set<Int64>` runs SipHash per
/// lookup. Ingest keeps every event id it has seen in one of these.
public struct Int64Set: Sendable {
    private var slots: [Int64]
    private var mask: Int
    private var hasZero = false
    public private(set) var count = 0

    public init(minimumCapacity: Int = 0) {
        var size = 16
        while size * 7 < minimumCapacity * 10 { size <<= 1 }
        slots = [Int64](repeating: 0, count: size)
        mask = size - 1
    }

    public init<S: Sequence>(_ values: S) where S.Element == Int64 {
        self.init(minimumCapacity: values.underestimatedCount)
        for v in values { insert(v) }
    }

    @inline(__always) private func start(_ v: Int64) -> Int {
        Int(truncatingIfNeeded: (UInt64(bitPattern: v) &* 0x9E37_79B9_7F4A_7C15) >> 20) & mask
    }

    /// Starts loading the slot where `v` goes, ahead of an ``insert(_:)`` of it: a set of millions of random ids
    /// misses the cache on nearly every insert, and landing can prefetch a few records ahead.
    @inline(__always)
    public func prefetch(_ v: Int64) {
        slots.withUnsafeBufferPointer { seam_prefetch_for_write($0.baseAddress! + start(v)) }
    }

    public func contains(_ v: Int64) -> Bool {
        if v == 0 { return hasZero }
        var i = start(v)
        while true {
            let s = slots[i]
            if s == v { return true }
            if s == 0 { return false }
            i = (i + 1) & mask
        }
    }

    /// Adds `v`; returns whether it was new.
    @discardableResult
    public mutating func insert(_ v: Int64) -> Bool {
        if v == 0 {
            defer { hasZero = true }
            if hasZero { return false }
            count += 1
            return true
        }
        var i = start(v)
        while true {
            let s = slots[i]
            if s == v { return false }
            if s == 0 { break }
            i = (i + 1) & mask
        }
        slots[i] = v
        count += 1
        if count * 10 > slots.count * 7 { grow() }
        return true
    }

    private mutating func grow() {
        let old = slots
        slots = [Int64](repeating: 0, count: old.count * 2)
        mask = slots.count - 1
        for v in old where v != 0 {
            var i = start(v)
            while slots[i] != 0 { i = (i + 1) & mask }
            slots[i] = v
        }
    }
}
