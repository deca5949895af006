/// Least-significant-digit radix sorts of 64-bit keys: 11 bits per pass, only over the bits the keys' span needs,
/// and a pass whose digit every key shares is skipped. A comparison sort of the same keys through a closure ran
/// several times slower on the commit and identity paths (tens of thousands to a million keys).
public enum RadixSort {
    static let digitBits = 11

    /// The keys ascending.
    public static func sort(_ keys: inout [UInt64]) {
        var none = [Nothing](repeating: Nothing(), count: keys.count)
        passes(&keys, carrying: &none)
    }

    /// The positions of `keys` in ascending key order, equal keys in position order (stable).
    public static func order(_ keys: [UInt64]) -> [Int32] {
        let n = keys.count
        precondition(n < Int(Int32.max), "too many keys for 32-bit positions")
        var order = [Int32](unsafeUninitializedCapacity: n) { out, count in
            for i in 0..<n { out[i] = Int32(i) }
            count = n
        }
        var keys = keys
        passes(&keys, carrying: &order)
        return order
    }

    /// Nothing carried beside the keys (``sort(_:)``): its arrays take no memory and its moves compile to nothing.
    struct Nothing {}

    /// Sorts `keys` ascending, stable, moving `payload[i]` with `keys[i]`.
    static func passes<Payload>(_ keys: inout [UInt64], carrying payload: inout [Payload]) {
        let n = keys.count
        guard n > 1 else { return }
        let (lo, bits) = span(keys)
        var keys2 = [UInt64](repeating: 0, count: n)
        var payload2 = payload
        var counts = [Int](repeating: 0, count: 1 << digitBits)
        var shift = 0
        while shift < bits {
            let s = UInt64(shift)
            let moved: Bool = keys.withUnsafeBufferPointer { k in
                counts.withUnsafeMutableBufferPointer { c in
                    guard prefixSums(k, lo, s, c) else { return false }
                    payload.withUnsafeBufferPointer { p in
                        keys2.withUnsafeMutableBufferPointer { k2 in
                            payload2.withUnsafeMutableBufferPointer { p2 in
                                for i in 0..<n {
                                    let d = digit(k[i], lo, s)
                                    let at = c[d]
                                    k2[at] = k[i]
                                    p2[at] = p[i]
                                    c[d] = at &+ 1
                                }
                            }
                        }
                    }
                    return true
                }
            }
            if moved {
                swap(&keys, &keys2)
                swap(&payload, &payload2)
            }
            shift += digitBits
        }
    }

    /// The smallest key, and the bits the keys' span above it needs (the passes to run).
    static func span(_ keys: [UInt64]) -> (lo: UInt64, bits: Int) {
        let (lo, hi) = keys.withUnsafeBufferPointer { MinMax.of($0, validity: nil) } ?? (0, 0)
        return (lo, 64 - (hi - lo).leadingZeroBitCount)
    }

    @inline(__always)
    static func digit(_ key: UInt64, _ lo: UInt64, _ shift: UInt64) -> Int {
        Int(truncatingIfNeeded: (key &- lo) >> shift) & ((1 << digitBits) - 1)
    }

    /// Counts each digit and turns the counts into each digit's first output slot; false when every key has the
    /// same digit (the pass would move nothing).
    static func prefixSums(_ k: UnsafeBufferPointer<UInt64>, _ lo: UInt64, _ shift: UInt64, _ c: UnsafeMutableBufferPointer<Int>) -> Bool {
        for b in 0..<c.count { c[b] = 0 }
        for key in k { c[digit(key, lo, shift)] &+= 1 }
        if c[digit(k[0], lo, shift)] == k.count { return false }
        var sum = 0
        for b in 0..<c.count {
            let x = c[b]
            c[b] = sum
            sum &+= x
        }
        return true
    }
}
