import Foundation
import SeamColumnar

/// (group, 64-bit value) pairs for DISTINCT aggregates over integer-like values, for every group in one structure.
///
/// Pairs are appended as they come and made distinct in bulk: when they have piled up to twice what the last pass
/// kept, and once at the end. A pass scatters the pairs by hash into parts of a few thousand, then removes the repeats
/// of each part with a table that fits in cache. A probe of one table as large as all pairs, per row, misses the cache
/// at nearly every step; this reads and writes memory in order, bar the one scatter.
struct GroupValuePairs {
    struct Pair {
        var value: Int64
        var group: Int32
    }

    private var pairs = PairArray()
    /// Pairs at which the next pass runs.
    private var nextPass = 1 << 20
    /// Pairs per part a pass aims at (part and table fit in a core's cache).
    static let partSize = 1 << 13

    var count: Int { pairs.count }

    @inline(__always)
    mutating func append(_ group: Int32, _ value: Int64) {
        pairs.append(Pair(value: value, group: group))
        if pairs.count >= nextPass { makeDistinct(parallel: false) }
    }

    /// Adds another set's pairs with their groups renumbered through `groups`.
    mutating func append(contentsOf other: GroupValuePairs, groups map: [Int32]) {
        pairs.reserve(pairs.count + other.pairs.count)
        other.pairs.withUnsafeBufferPointer { for p in $0 { pairs.append(Pair(value: p.value, group: map[Int(p.group)])) } }
    }

    /// Every pair, in no particular order.
    func forEach(_ body: (Int32, Int64) -> Void) {
        pairs.withUnsafeBufferPointer { for p in $0 { body(p.group, p.value) } }
    }

    @inline(__always)
    private static func hash(_ p: Pair) -> UInt64 {
        var h = UInt64(bitPattern: p.value) &* 0x9E37_79B9_7F4A_7C15
        h ^= UInt64(UInt32(bitPattern: p.group)) &* 0xC2B2_AE3D_27D4_EB4F
        return h ^ (h >> 29)
    }

    /// Removes repeated pairs. `parallel` spreads the parts over every core (at the end; during updates each worker
    /// is already busy with its own morsels).
    mutating func makeDistinct(parallel: Bool) {
        let n = pairs.count
        defer { nextPass = max(1 << 20, 2 * pairs.count) }
        guard n > 1 else { return }
        var bits = 0
        while (n >> bits) > Self.partSize && bits < 16 { bits += 1 }
        let parts = 1 << bits
        // Scatter by the top bits of the hash; the table inside a part uses the low bits.
        var starts = [Int](repeating: 0, count: parts + 1)
        var scattered = PairArray(capacity: n)
        scattered.fill(n) { out in
            pairs.withUnsafeBufferPointer { src in
                starts.withUnsafeMutableBufferPointer { st in
                    for p in src { st[bits == 0 ? 1 : Int(Self.hash(p) >> UInt64(64 - bits)) + 1] += 1 }
                    for k in 0..<parts { st[k + 1] += st[k] }
                    var next = Array(st[0..<parts])
                    for p in src {
                        let k = bits == 0 ? 0 : Int(Self.hash(p) >> UInt64(64 - bits))
                        out[next[k]] = p
                        next[k] += 1
                    }
                }
            }
        }
        pairs = PairArray()
        // Each part keeps its distinct pairs at the front of its range.
        var kept = [Int](repeating: 0, count: parts)
        let partStarts = starts
        scattered.withUnsafeMutableBufferPointer { all in
            kept.withUnsafeMutableBufferPointer { keptOut in
                let shared = UncheckedSendable(value: (all, keptOut))
                let dedupe: @Sendable (Int) -> Void = { k in
                    let (all, keptOut) = shared.value
                    keptOut[k] = Self.dedupe(UnsafeMutableBufferPointer(rebasing: all[partStarts[k]..<partStarts[k + 1]]))
                }
                if parallel && parts > 1 {
                    DispatchQueue.concurrentPerform(iterations: parts, execute: dedupe)
                } else {
                    for k in 0..<parts { dedupe(k) }
                }
            }
        }
        var total = 0
        for k in 0..<parts { total += kept[k] }
        var distinct = PairArray(capacity: total)
        distinct.fill(total) { out in
            scattered.withUnsafeBufferPointer { all in
                var at = 0
                for k in 0..<parts {
                    _ = UnsafeMutableBufferPointer(rebasing: out[at..<(at + kept[k])]).initialize(from: all[starts[k]..<(starts[k] + kept[k])])
                    at += kept[k]
                }
            }
        }
        pairs = distinct
    }

    /// Moves the distinct pairs of `part` to its front; returns how many there are.
    private static func dedupe(_ part: UnsafeMutableBufferPointer<Pair>) -> Int {
        let n = part.count
        if n < 2 { return n }
        var capacity = 16
        while capacity < 2 * n { capacity <<= 1 }
        let mask = capacity - 1
        // Slots hold an index into the part's kept prefix, + 1 (0 = empty).
        return withUnsafeTemporaryAllocation(of: Int32.self, capacity: capacity) { slots in
            slots.initialize(repeating: 0)
            var kept = 0
            for i in 0..<n {
                let p = part[i]
                var s = Int(truncatingIfNeeded: Self.hash(p)) & mask
                while true {
                    let at = Int(slots[s])
                    if at == 0 {
                        part[kept] = p
                        kept += 1
                        slots[s] = Int32(kept)
                        break
                    }
                    let q = part[at - 1]
                    if q.value == p.value && q.group == p.group { break }
                    s = (s + 1) & mask
                }
            }
            return kept
        }
    }
}

/// A growable array of pairs in a ``Buffer``: past 8 MiB such memory comes from the mappings earlier queries freed
/// (``Buffer/keepFreedLargeBuffers(upTo:)``), where a Swift array's is mapped afresh by malloc and unmapped when freed.
/// Distinct customers per day and channel over 100M events builds pair arrays of hundreds of MB, and spent about a
/// seventh of its time in the kernel, faulting in and clearing their pages, on every run.
private struct PairArray {
    private final class Storage {
        let buffer: Buffer?
        let base: UnsafeMutablePointer<GroupValuePairs.Pair>
        let capacity: Int
        var count = 0

        init(capacity: Int) {
            self.capacity = capacity
            if capacity == 0 {
                buffer = nil
                base = UnsafeMutablePointer(bitPattern: MemoryLayout<GroupValuePairs.Pair>.alignment)!
            } else {
                let (b, memory) = Buffer.forFilling(byteCount: capacity * MemoryLayout<GroupValuePairs.Pair>.stride, zeroed: false)
                buffer = b
                base = memory.baseAddress!.bindMemory(to: GroupValuePairs.Pair.self, capacity: capacity)
            }
        }
    }

    private var storage: Storage

    init(capacity: Int = 0) { storage = Storage(capacity: capacity) }

    var count: Int { storage.count }

    /// Room for `n` pairs, keeping those there are (and the array's own storage, copied if shared).
    mutating func reserve(_ n: Int) {
        guard n > storage.capacity || !isKnownUniquelyReferenced(&storage) else { return }
        let grown = Storage(capacity: max(n, storage.capacity))
        grown.base.initialize(from: storage.base, count: storage.count)
        grown.count = storage.count
        storage = grown
    }

    @inline(__always)
    mutating func append(_ p: GroupValuePairs.Pair) {
        if storage.count == storage.capacity || !isKnownUniquelyReferenced(&storage) {
            reserve(max(storage.count + 1, storage.capacity * 2, 1 << 12))
        }
        storage.base[storage.count] = p
        storage.count += 1
    }

    /// Lets `body` write the first `n` pairs of an empty array with room for them.
    mutating func fill(_ n: Int, _ body: (UnsafeMutableBufferPointer<GroupValuePairs.Pair>) -> Void) {
        precondition(storage.count == 0 && n <= storage.capacity && isKnownUniquelyReferenced(&storage), "fill an empty array of its own")
        body(UnsafeMutableBufferPointer(start: storage.base, count: n))
        storage.count = n
    }

    func withUnsafeBufferPointer<R>(_ body: (UnsafeBufferPointer<GroupValuePairs.Pair>) throws -> R) rethrows -> R {
        try withExtendedLifetime(storage) { try body(UnsafeBufferPointer(start: storage.base, count: storage.count)) }
    }

    mutating func withUnsafeMutableBufferPointer<R>(_ body: (UnsafeMutableBufferPointer<GroupValuePairs.Pair>) throws -> R) rethrows -> R {
        reserve(storage.count)
        return try withExtendedLifetime(storage) { try body(UnsafeMutableBufferPointer(start: storage.base, count: storage.count)) }
    }
}
