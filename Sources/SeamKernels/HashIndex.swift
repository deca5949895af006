import CCPU

/// An index from 64-bit hashes to dense ids (0, 1, 2, …) of items the caller keeps: open addressing with linear
/// probing, load at most 1/2. The caller says whether an item matches, so any key type can be indexed without
/// `Hashable` (SipHash) or a second copy of the keys.
public struct HashIndex: Sendable {
    /// A hash and its id side by side: a probe touches one cache line, not one in each of two arrays.
    @usableFromInline struct Slot: Sendable {
        @usableFromInline var hash: UInt64
        @usableFromInline var id: Int32  // -1: empty
    }
    @usableFromInline var slots: [Slot]
    @usableFromInline var mask: Int
    public private(set) var count = 0

    public init(minimumCapacity: Int = 0) {
        var size = 16
        while size < minimumCapacity * 2 { size <<= 1 }
        slots = [Slot](repeating: Slot(hash: 0, id: -1), count: size)
        mask = size - 1
    }

    /// The id of the item with hash `h` for which `matches(id)` holds, if any. Inlinable, so the caller's `matches`
    /// is inlined into the probe loop instead of being called through a closure context.
    @inlinable @inline(__always)
    public func find(_ h: UInt64, _ matches: (Int) -> Bool) -> Int? {
        slots.withUnsafeBufferPointer { s in
            var i = Int(truncatingIfNeeded: h) & mask
            while true {
                let slot = s[i]
                if slot.id < 0 { return nil }
                if slot.hash == h && matches(Int(slot.id)) { return Int(slot.id) }
                i = (i &+ 1) & mask
            }
        }
    }

    /// Starts loading the slot a lookup of `h` probes first, ahead of it: an index of a hundred thousand identifiers
    /// misses the cache on nearly every lookup.
    @inline(__always)
    public func prefetch(_ h: UInt64) {
        slots.withUnsafeBufferPointer { seam_prefetch_for_read($0.baseAddress! + (Int(truncatingIfNeeded: h) & mask)) }
    }

    /// Adds `id` (not yet present) under hash `h`.
    public mutating func insert(_ h: UInt64, id: Int) {
        precondition(id >= 0 && id < Int(Int32.max), "HashIndex ids are 31-bit")
        if (count + 1) * 2 > slots.count { grow() }
        place(h, Int32(id))
        count += 1
    }

    private mutating func place(_ h: UInt64, _ id: Int32) {
        var i = Int(truncatingIfNeeded: h) & mask
        while slots[i].id >= 0 { i = (i + 1) & mask }
        slots[i] = Slot(hash: h, id: id)
    }

    private mutating func grow() {
        let old = slots
        slots = [Slot](repeating: Slot(hash: 0, id: -1), count: old.count * 2)
        mask = slots.count - 1
        for slot in old where slot.id >= 0 { place(slot.hash, slot.id) }
    }
}
