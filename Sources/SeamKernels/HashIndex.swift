/// An index from 64-bit hashes to dense ids (0, 1, 2, …) of items the caller keeps: open addressing with linear
/// probing, load at most 1/2. The caller says whether an item matches, so any key type can be indexed without
/// `Hashable` (SipHash) or a second copy of the keys.
public struct HashIndex: Sendable {
    private var hashes: [UInt64]
    private var ids: [Int32]  // -1: empty
    private var mask: Int
    public private(set) var count = 0

    public init(minimumCapacity: Int = 0) {
        var size = 16
        while size < minimumCapacity * 2 { size <<= 1 }
        hashes = [UInt64](repeating: 0, count: size)
        ids = [Int32](repeating: -1, count: size)
        mask = size - 1
    }

    /// The id of the item with hash `h` for which `matches(id)` holds, if any.
    @inline(__always)
    public func find(_ h: UInt64, _ matches: (Int) -> Bool) -> Int? {
        var i = Int(truncatingIfNeeded: h) & mask
        while true {
            let id = ids[i]
            if id < 0 { return nil }
            if hashes[i] == h && matches(Int(id)) { return Int(id) }
            i = (i + 1) & mask
        }
    }

    /// Adds `id` (not yet present) under hash `h`.
    public mutating func insert(_ h: UInt64, id: Int) {
        precondition(id >= 0 && id < Int(Int32.max), "HashIndex ids are 31-bit")
        if (count + 1) * 2 > ids.count { grow() }
        place(h, Int32(id))
        count += 1
    }

    private mutating func place(_ h: UInt64, _ id: Int32) {
        var i = Int(truncatingIfNeeded: h) & mask
        while ids[i] >= 0 { i = (i + 1) & mask }
        hashes[i] = h
        ids[i] = id
    }

    private mutating func grow() {
        let (oldHashes, oldIDs) = (hashes, ids)
        hashes = [UInt64](repeating: 0, count: oldIDs.count * 2)
        ids = [Int32](repeating: -1, count: oldIDs.count * 2)
        mask = ids.count - 1
        for k in oldIDs.indices where oldIDs[k] >= 0 { place(oldHashes[k], oldIDs[k]) }
    }
}
