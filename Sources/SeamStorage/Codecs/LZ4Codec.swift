import CLZ4

/// LZ4 over a whole encoded block payload (the system's liblz4), applied on top of a lightweight codec
/// when it pays: the compressed payload must be at most ``LZ4Block/payRatio`` of the original.
///
/// Bit-packed payloads rarely shrink under LZ4 (measured ratio 1.00); byte-aligned payloads (plain integers,
/// strings, run values) often do. The decision is made per block by compressing and comparing.
public enum LZ4Block {
    /// Keep the LZ4 form only when it saves at least 10 %.
    public static let payRatio = 0.9

    /// The compressed bytes, or `nil` when compression does not pay.
    public static func compressIfItPays(_ input: [UInt8]) -> [UInt8]? {
        guard input.count >= 64 else { return nil }
        let bound = Int(LZ4_compressBound(Int32(input.count)))
        // Not cleared first: the output is a fifth of the bound at best, and clearing the whole bound (as large as
        // the input) touched every page of it.
        var n: Int32 = 0
        let out = [UInt8](unsafeUninitializedCapacity: bound) { dst, count in
            n = input.withUnsafeBytes { src in
                LZ4_compress_default(
                    src.baseAddress!.assumingMemoryBound(to: CChar.self), UnsafeMutableRawPointer(dst.baseAddress!).assumingMemoryBound(to: CChar.self),
                    Int32(input.count), Int32(bound))
            }
            count = Int(max(n, 0))
        }
        guard n > 0, Double(n) <= Double(input.count) * payRatio else { return nil }
        return out
    }

    /// Decompresses exactly `rawCount` bytes into a fresh buffer; corrupt input throws, never overruns.
    public static func decompress(_ input: UnsafeRawBufferPointer, rawCount: Int) throws(StorageError) -> UnsafeMutableRawBufferPointer {
        let out = UnsafeMutableRawBufferPointer.allocate(byteCount: max(rawCount, 1), alignment: 64)
        let n = LZ4_decompress_safe(
            input.baseAddress?.assumingMemoryBound(to: CChar.self), out.baseAddress!.assumingMemoryBound(to: CChar.self),
            Int32(input.count), Int32(rawCount))
        guard n == Int32(rawCount) else {
            out.deallocate()
            throw StorageError(.corrupt, "LZ4 payload does not decompress to \(rawCount) bytes (got \(n))")
        }
        return UnsafeMutableRawBufferPointer(rebasing: out[0..<rawCount])
    }
}
