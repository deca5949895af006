package import SeamColumnar
import SeamKernels
import Dispatch
import Synchronization

/// Options for writing segments.
public struct SegmentOptions: Sendable {
    /// Rows per block: large enough for codecs and LZ4 to pay, small enough for zone maps to skip.
    public var blockRows = 65_536
    /// Pin every block to one codec when it supports the column type (tests, `force_codec`).
    public var forceCodec: CodecID? = nil
    /// Which block payloads LZ4 is tried on.
    public var lz4: LZ4Block.Policy = .stringPayloads
    public init() {}
}

/// Builds the bytes of a segment file from whole columns.
package enum SegmentWriter {
    /// The complete file image of a segment holding `chunk`.
    package static func encode(_ chunk: Chunk, options: SegmentOptions = SegmentOptions()) -> [UInt8] {
        var w = ByteWriter(capacity: 1 << 20)
        w.raw(SegmentFooter.magic)
        w.u32(SegmentFooter.version)
        w.u32(0)
        w.pad(to: 64)
        var directory: [[BlockInfo]] = []
        let rows = chunk.rowCount
        let step = max(options.blockRows, 1)
        // Blocks are encoded in parallel (codec choice and LZ4 are most of a write's time), then laid out in order.
        let perColumn = max(1, (rows + step - 1) / step)
        let jobs = chunk.columns.count * perColumn
        let encoded = Mutex([(block: EncodedBlock, crc: UInt32)?](repeating: nil, count: jobs))
        DispatchQueue.concurrentPerform(iterations: jobs) { j in
            let column = chunk.columns[j / perColumn]
            let start = (j % perColumn) * step, end = min(start + step, rows)
            let slice = (start == 0 && end == rows) ? column : Gather.slice(column, start..<end)
            let block = BlockCodec.encode(slice, force: options.forceCodec, lz4: options.lz4)
            let crc = block.bytes.withUnsafeBytes { CRC32C.checksum($0) }
            encoded.withLock { $0[j] = (block, crc) }
        }
        let blocks = encoded.withLock { $0 }
        for c in 0..<chunk.columns.count {
            var infos: [BlockInfo] = []
            for b in 0..<perColumn {
                let (block, crc) = blocks[c * perColumn + b]!
                let offset = w.count
                w.raw(block.bytes)
                infos.append(
                    BlockInfo(
                        offset: offset, length: block.bytes.count, rows: block.rows, nulls: block.nulls, codec: block.codec,
                        lz4: block.flags.contains(.lz4), sparse: block.flags.contains(.sparse), checksum: crc, rawBytes: block.rawBytes, zone: block.zone))
                w.pad(to: 64)
            }
            directory.append(infos)
        }
        let footer = SegmentFooter(schema: chunk.schema, rowCount: rows, columns: directory)
        var f = ByteWriter()
        footer.encode(into: &f)
        let footerOffset = w.count
        w.raw(f.bytes)
        w.u64(UInt64(footerOffset))
        w.u32(UInt32(f.count))
        w.u32(CRC32C.checksum(f.bytes))
        w.raw(SegmentFooter.endMagic)
        return w.bytes
    }
}
