import CLZ4
import SeamColumnar

/// LZ4 over a whole encoded block payload (the system's liblz4), applied on top of a lightweight codec to the
/// payloads its ``Policy`` names, when it pays: the compressed payload must be at most ``LZ4Block/payRatio`` of the
/// original.
///
/// Bit-packed payloads rarely shrink under LZ4 (measured ratio 1.00); byte-aligned payloads (plain integers,
/// strings, run values) often do. The decision is made per block by compressing and comparing.
public enum LZ4Block {
    /// Which payloads LZ4 is tried on.
    public enum Policy: Sendable {
        /// None: the lightweight form only.
        case never
        /// Payloads of string bytes (VARCHAR under plain or run-length), the writer's default. Fixed-width payloads
        /// (numbers, dictionary codes, run values and lengths) stay in their lightweight form: a scan decodes those
        /// faster than LZ4 decompresses them, so LZ4 there bought a smaller store with slower queries. Measured on
        /// the 10M-event benchmark store without any LZ4, seven of the nine `make compare` queries ran faster (the
        /// filtered scan of `amount` 7.7 → 5.1 ms, the funnel 106 → 79 ms, the consent join 22 → 15 ms at 2 threads)
        /// and two within noise (events per channel 1.9 vs 2.1 ms, distinct per day 201 vs 198 ms), while the store
        /// grew from 178 to 210 MiB, nearly half of that from the `properties` strings, which keep LZ4 here (23.5 →
        /// 9.4 MiB) and are rarely scanned whole.
        case stringPayloads
        /// Every payload where it pays: the writer's rule until November 2026. Stores written then hold such blocks,
        /// which stay readable (compaction rewrites them under the default); tests write them to keep that covered.
        case everyPayload

        /// Whether LZ4 is tried on a payload of `codec` for a column of `type`.
        func tries(_ codec: CodecID, _ type: LogicalType) -> Bool {
            switch self {
            case .never: return false
            case .everyPayload: return true
            case .stringPayloads: return type == .varchar && (codec == .plain || codec == .runLength)
            }
        }
    }

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
