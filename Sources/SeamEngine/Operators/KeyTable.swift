import SeamColumnar
import SeamKernels

/// One key column as raw pointers, valid while its vector is alive.
private struct KeyColumnView {
    let values: UnsafeRawPointer
    let offsets: UnsafePointer<UInt32>?
    let validity: UnsafePointer<UInt64>?
    let width: Int
}

/// Row keys (one or more columns) serialized to bytes, so one hash table serves every key shape:
/// per column a null flag, then the fixed-width value or a `UInt32` length and the UTF-8 bytes.
struct EncodedKeys {
    var bytes: [UInt8] = []
    var starts: [Int] = [0]
    var hashes: [UInt64] = []
    /// Rows with a NULL in some key column (joins never match them).
    var hasNull: [Bool] = []

    init(_ columns: [ColumnVector], _ n: Int) {
        // Raw views of the key columns, taken once: the row loops below touch no reference-counted value.
        let views = columns.map { c in
            KeyColumnView(
                values: c.values.base, offsets: c.type == .varchar ? Vectors.offsets(c) : nil, validity: Vectors.validity(c),
                width: c.type.physical.width ?? 0)
        }
        var starts = [Int](repeating: 0, count: n + 1)
        var hasNull = [Bool](repeating: false, count: n)
        var hashes = [UInt64](repeating: 0, count: n)
        var bytes: [UInt8] = []
        withExtendedLifetime(columns) {
            views.withUnsafeBufferPointer { vs in
                // Pass 1: each row's serialized length (a flag byte per column, then the value or length + UTF-8).
                var total = 0
                starts.withUnsafeMutableBufferPointer { st in
                    hasNull.withUnsafeMutableBufferPointer { nulls in
                        for i in 0..<n {
                            st[i] = total
                            for v in vs {
                                total += 1
                                guard Vectors.isValid(v.validity, i) else {
                                    nulls[i] = true
                                    continue
                                }
                                if let o = v.offsets { total += 4 + Int(o[i + 1] &- o[i]) } else { total += v.width }
                            }
                        }
                        st[n] = total
                    }
                }
                // Pass 2: write the keys into one allocation and hash each.
                bytes = [UInt8](unsafeUninitializedCapacity: total) { out, initialized in
                    guard let start = out.baseAddress else { return }
                    let base = UnsafeMutableRawPointer(start)
                    starts.withUnsafeBufferPointer { st in
                        hashes.withUnsafeMutableBufferPointer { hs in
                            for i in 0..<n {
                                var p = st[i]
                                for v in vs {
                                    guard Vectors.isValid(v.validity, i) else {
                                        base.storeBytes(of: 0, toByteOffset: p, as: UInt8.self)
                                        p += 1
                                        continue
                                    }
                                    base.storeBytes(of: 1, toByteOffset: p, as: UInt8.self)
                                    p += 1
                                    if let o = v.offsets {
                                        let from = Int(o[i]), len = Int(o[i + 1] &- o[i])
                                        base.storeBytes(of: UInt32(len), toByteOffset: p, as: UInt32.self)
                                        if len > 0 { (base + p + 4).copyMemory(from: v.values + from, byteCount: len) }
                                        p += 4 + len
                                    } else {
                                        (base + p).copyMemory(from: v.values + i * v.width, byteCount: v.width)
                                        p += v.width
                                    }
                                }
                                hs[i] = Hash64.hash(UnsafeRawBufferPointer(start: base + st[i], count: p - st[i]))
                            }
                        }
                    }
                    initialized = total
                }
            }
        }
        self.bytes = bytes
        self.starts = starts
        self.hashes = hashes
        self.hasNull = hasNull
    }

    /// Inserts the serialized form of a one-column NULL key (the flag byte alone) into `table`: for paths that
    /// find groups without building ``EncodedKeys`` but must share its table format.
    static func insertNull(into table: inout KeyTable) -> Int32 {
        withUnsafeTemporaryAllocation(byteCount: 1, alignment: 1) { buf in
            buf.storeBytes(of: 0, as: UInt8.self)
            let key = UnsafeRawBufferPointer(buf)
            return table.findOrInsert(key, Hash64.hash(key))
        }
    }

    /// Inserts the serialized form of a one-column integer key (flag byte 1, then the value's `width` bytes).
    static func insert(integer value: Int64, width: Int, into table: inout KeyTable) -> Int32 {
        withUnsafeTemporaryAllocation(byteCount: 1 + width, alignment: 1) { buf in
            buf.storeBytes(of: 1, as: UInt8.self)
            if width == 4 {
                buf.storeBytes(of: Int32(truncatingIfNeeded: value), toByteOffset: 1, as: Int32.self)
            } else {
                buf.storeBytes(of: value, toByteOffset: 1, as: Int64.self)
            }
            let key = UnsafeRawBufferPointer(buf)
            return table.findOrInsert(key, Hash64.hash(key))
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
