import SeamColumnar
import SeamKernels

/// Row keys (one or more columns) serialized to bytes, so one hash table serves every key shape:
/// per column a null flag, then the fixed-width value or a `UInt32` length and the UTF-8 bytes.
struct EncodedKeys {
    var bytes: [UInt8] = []
    var starts: [Int] = [0]
    var hashes: [UInt64] = []
    /// Rows with a NULL in some key column (joins never match them).
    var hasNull: [Bool] = []

    init(_ columns: [ColumnVector], _ n: Int) {
        hashes.reserveCapacity(n)
        starts.reserveCapacity(n + 1)
        hasNull = [Bool](repeating: false, count: n)
        let widths = columns.map { $0.type.physical.width }
        bytes.reserveCapacity(n * (columns.count + widths.reduce(0) { $0 + ($1 ?? 12) }))
        let vals = columns.map(Vectors.validity)
        let offs = columns.map { $0.type == .varchar ? Vectors.offsets($0) : nil }
        for i in 0..<n {
            for (k, c) in columns.enumerated() {
                guard Vectors.isValid(vals[k], i) else {
                    bytes.append(0)
                    hasNull[i] = true
                    continue
                }
                bytes.append(1)
                if let w = widths[k] {
                    let p = UnsafeRawBufferPointer(start: c.values.base + i * w, count: w)
                    bytes.append(contentsOf: p)
                } else {
                    let s = Vectors.string(c, offs[k]!, i)
                    var len = UInt32(s.count)
                    withUnsafeBytes(of: &len) { bytes.append(contentsOf: $0) }
                    bytes.append(contentsOf: s)
                }
            }
            starts.append(bytes.count)
        }
        bytes.withUnsafeBytes { all in
            for i in 0..<n {
                hashes.append(Hash64.hash(UnsafeRawBufferPointer(rebasing: all[starts[i]..<starts[i + 1]])))
            }
        }
    }

    /// Decodes serialized keys (as stored in a ``KeyTable``) back into columns.
    static func decode(_ arena: [UInt8], _ starts: [Int], _ types: [LogicalType]) -> [ColumnVector] {
        var builders = types.map { ColumnBuilder($0, capacity: starts.count - 1) }
        arena.withUnsafeBytes { a in
            for g in 0..<(starts.count - 1) {
                var p = starts[g]
                for (k, t) in types.enumerated() {
                    let flag = a[p]
                    p += 1
                    if flag == 0 {
                        builders[k].appendNull()
                        continue
                    }
                    switch t.physical {
                    case .uint8:
                        builders[k].append(bool: a[p] != 0)
                        p += 1
                    case .int32:
                        builders[k].append(int32: a.loadUnaligned(fromByteOffset: p, as: Int32.self))
                        p += 4
                    case .int64:
                        builders[k].append(int64: a.loadUnaligned(fromByteOffset: p, as: Int64.self))
                        p += 8
                    case .double:
                        builders[k].append(double: a.loadUnaligned(fromByteOffset: p, as: Double.self))
                        p += 8
                    case .bytes:
                        let len = Int(a.loadUnaligned(fromByteOffset: p, as: UInt32.self))
                        p += 4
                        builders[k].append(utf8: UnsafeRawBufferPointer(rebasing: a[p..<p + len]))
                        p += len
                    }
                }
            }
        }
        return builders.map { $0.finish() }
    }
}

/// An open-addressing hash table from serialized keys to dense ids 0, 1, 2, … in insertion order.
struct KeyTable {
    private(set) var arena: [UInt8] = []
    private(set) var starts: [Int] = [0]
    private(set) var hashes: [UInt64] = []
    private var slots: [Int32] = [Int32](repeating: -1, count: 1024)
    private var mask = 1023

    var count: Int { hashes.count }
    var byteCount: Int { arena.count + starts.count * 8 + hashes.count * 8 + slots.count * 4 }

    /// The id of `key`, or -1.
    func find(_ key: UnsafeRawBufferPointer, _ h: UInt64) -> Int32 {
        var s = Int(truncatingIfNeeded: h) & mask
        while true {
            let g = slots[s]
            if g < 0 { return -1 }
            if hashes[Int(g)] == h && equal(Int(g), key) { return g }
            s = (s + 1) & mask
        }
    }

    private func equal(_ g: Int, _ key: UnsafeRawBufferPointer) -> Bool {
        let a = starts[g]
        let len = starts[g + 1] - a
        guard len == key.count else { return false }
        if len == 0 { return true }
        return arena.withUnsafeBytes { memcmp($0.baseAddress! + a, key.baseAddress!, len) == 0 }
    }

    /// The id of `key`, inserting it when new.
    mutating func findOrInsert(_ key: UnsafeRawBufferPointer, _ h: UInt64) -> Int32 {
        var s = Int(truncatingIfNeeded: h) & mask
        while true {
            let g = slots[s]
            if g < 0 { break }
            if hashes[Int(g)] == h && equal(Int(g), key) { return g }
            s = (s + 1) & mask
        }
        let id = Int32(hashes.count)
        arena.append(contentsOf: key)
        starts.append(arena.count)
        hashes.append(h)
        slots[s] = id
        if hashes.count * 2 > slots.count { grow() }
        return id
    }

    private mutating func grow() {
        let capacity = slots.count * 2
        slots = [Int32](repeating: -1, count: capacity)
        mask = capacity - 1
        for (g, h) in hashes.enumerated() {
            var s = Int(truncatingIfNeeded: h) & mask
            while slots[s] >= 0 { s = (s + 1) & mask }
            slots[s] = Int32(g)
        }
    }

    /// Key `g`'s bytes.
    func key(_ g: Int) -> ArraySlice<UInt8> { arena[starts[g]..<starts[g + 1]] }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
