/// A fast 64-bit hash of bytes (8 bytes per step, multiply–xor mixing, murmur3's finalizer for avalanche).
///
/// Used for stable ids (an event id is the hash of its source message id) and hash tables. Stable across runs
/// and machines: it depends on the bytes and the seed only, never on the process.
public enum Hash64 {
    static let p1: UInt64 = 0x9E37_79B9_7F4A_7C15
    static let p2: UInt64 = 0xC2B2_AE3D_27D4_EB4F

    @inline(__always) static func fmix(_ k: UInt64) -> UInt64 {
        var h = k
        h ^= h >> 33
        h &*= 0xFF51_AFD7_ED55_8CCD
        h ^= h >> 33
        h &*= 0xC4CE_B9FE_1A85_EC53
        h ^= h >> 33
        return h
    }

    public static func hash(_ bytes: UnsafeRawBufferPointer, seed: UInt64 = 0) -> UInt64 {
        var h = seed ^ (UInt64(bytes.count) &* p1)
        guard let base = bytes.baseAddress else { return fmix(h) }
        var i = 0
        let n = bytes.count
        while i &+ 8 <= n {
            let w = base.loadUnaligned(fromByteOffset: i, as: UInt64.self).littleEndian
            h = (h ^ fmix(w &* p2)) &* p1
            h = (h << 27) | (h >> 37)
            i &+= 8
        }
        if i < n {
            var w: UInt64 = 0
            var shift: UInt64 = 0
            while i < n {
                w |= UInt64(base.load(fromByteOffset: i, as: UInt8.self)) << shift
                shift &+= 8
                i &+= 1
            }
            h = (h ^ fmix(w &* p2)) &* p1
        }
        return fmix(h)
    }

    /// A hash for in-memory tables only, never stored (a dictionary block's analysis): from 32 bytes on, four
    /// independent lanes of 8 bytes each, so a long string hashes several bytes per cycle where ``hash(_:seed:)``
    /// waits on one multiply chain (it was 3 % of an ingest, hashing every properties text). The tail and the lanes'
    /// sum go through ``hash(_:seed:)`` for its avalanche. Equal bytes give equal hashes; the value may change
    /// between versions.
    public static func tableHash(_ bytes: UnsafeRawBufferPointer) -> UInt64 {
        let n = bytes.count
        guard n >= 32, let base = bytes.baseAddress else { return hash(bytes) }
        @inline(__always) func rotl(_ x: UInt64, _ r: UInt64) -> UInt64 { (x << r) | (x >> (64 - r)) }
        @inline(__always) func word(_ at: Int) -> UInt64 { base.loadUnaligned(fromByteOffset: at, as: UInt64.self).littleEndian }
        var a = p1 ^ UInt64(n), b = p2, c = p1 &* 3, d = p2 &* 5
        var i = 0
        while i &+ 32 <= n {
            a = rotl((a ^ word(i)) &* p1, 29)
            b = rotl((b ^ word(i &+ 8)) &* p2, 31)
            c = rotl((c ^ word(i &+ 16)) &* p1, 27)
            d = rotl((d ^ word(i &+ 24)) &* p2, 33)
            i &+= 32
        }
        let lanes = a ^ rotl(b, 17) ^ rotl(c, 31) ^ rotl(d, 47)
        return hash(UnsafeRawBufferPointer(start: base + i, count: n - i), seed: lanes)
    }

    public static func hash(_ s: String, seed: UInt64 = 0) -> UInt64 {
        var s = s
        return s.withUTF8 { hash(UnsafeRawBufferPointer($0), seed: seed) }
    }

    /// Combines a hash with an integer (a line number, an item index).
    public static func combine(_ h: UInt64, _ v: UInt64) -> UInt64 { fmix(h ^ (v &* p2) &+ p1) }
}
