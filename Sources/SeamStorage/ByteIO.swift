/// Appends little-endian values to a growing byte array.
package struct ByteWriter {
    package private(set) var bytes: [UInt8] = []

    package init(capacity: Int = 0) { bytes.reserveCapacity(capacity) }

    package var count: Int { bytes.count }

    package mutating func u8(_ v: UInt8) { bytes.append(v) }
    package mutating func u16(_ v: UInt16) { withUnsafeBytes(of: v.littleEndian) { bytes.append(contentsOf: $0) } }
    package mutating func u32(_ v: UInt32) { withUnsafeBytes(of: v.littleEndian) { bytes.append(contentsOf: $0) } }
    package mutating func u64(_ v: UInt64) { withUnsafeBytes(of: v.littleEndian) { bytes.append(contentsOf: $0) } }
    package mutating func i64(_ v: Int64) { u64(UInt64(bitPattern: v)) }
    package mutating func f64(_ v: Double) { u64(v.bitPattern) }
    package mutating func raw(_ b: UnsafeRawBufferPointer) { bytes.append(contentsOf: b) }
    package mutating func raw(_ b: [UInt8]) { bytes.append(contentsOf: b) }
    /// A length-prefixed (u16) UTF-8 string; longer strings are an error of the caller.
    package mutating func string16(_ s: String) {
        let u = Array(s.utf8)
        precondition(u.count <= Int(UInt16.max), "string too long for a u16 length")
        u16(UInt16(u.count))
        raw(u)
    }
    /// Zero bytes until the length is a multiple of `alignment`.
    package mutating func pad(to alignment: Int) {
        while bytes.count % alignment != 0 { bytes.append(0) }
    }
    /// Appends the memory of an array of fixed-width values as-is (little-endian machine).
    package mutating func array<T: BitwiseCopyable>(_ a: UnsafeBufferPointer<T>) {
        raw(UnsafeRawBufferPointer(a))
    }
    package mutating func patchU32(at offset: Int, _ v: UInt32) {
        withUnsafeBytes(of: v.littleEndian) { for i in 0..<4 { bytes[offset + i] = $0[i] } }
    }
}

/// Reads little-endian values from a byte region, throwing ``StorageError`` (never trapping) on truncation.
package struct ByteReader {
    package let bytes: UnsafeRawBufferPointer
    package private(set) var position: Int

    package init(_ bytes: UnsafeRawBufferPointer, position: Int = 0) {
        self.bytes = bytes
        self.position = position
    }

    package var remaining: Int { bytes.count - position }

    private mutating func need(_ n: Int) throws(StorageError) {
        guard n >= 0, n <= bytes.count - position else { throw Self.endOfData(need: n, left: remaining, at: position) }
    }

    /// The error of a read of `need` bytes at `offset` with only `left` there (also for codecs that read a header in
    /// place instead of through a reader).
    package static func endOfData(need: Int, left: Int, at offset: Int) -> StorageError {
        StorageError(.corrupt, "unexpected end of data (need \(need) bytes, \(left) left)", offset: offset)
    }

    package mutating func u8() throws(StorageError) -> UInt8 {
        try need(1)
        defer { position += 1 }
        return bytes.load(fromByteOffset: position, as: UInt8.self)
    }
    package mutating func u16() throws(StorageError) -> UInt16 {
        try need(2)
        defer { position += 2 }
        return UInt16(littleEndian: bytes.loadUnaligned(fromByteOffset: position, as: UInt16.self))
    }
    package mutating func u32() throws(StorageError) -> UInt32 {
        try need(4)
        defer { position += 4 }
        return UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: position, as: UInt32.self))
    }
    package mutating func u64() throws(StorageError) -> UInt64 {
        try need(8)
        defer { position += 8 }
        return UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: position, as: UInt64.self))
    }
    package mutating func i64() throws(StorageError) -> Int64 { Int64(bitPattern: try u64()) }
    package mutating func f64() throws(StorageError) -> Double { Double(bitPattern: try u64()) }
    package mutating func slice(_ n: Int) throws(StorageError) -> UnsafeRawBufferPointer {
        try need(n)
        defer { position += n }
        return UnsafeRawBufferPointer(rebasing: bytes[position..<(position + n)])
    }
    package mutating func string16() throws(StorageError) -> String {
        let n = Int(try u16())
        let s = try slice(n)
        return String(decoding: s, as: UTF8.self)
    }
    package mutating func align(to alignment: Int) throws(StorageError) {
        let target = (position + alignment - 1) / alignment * alignment
        try need(target - position)
        position = target
    }
}
