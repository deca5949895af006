import CZlib
import Foundation

/// The bytes of one input file, plain or gzip-compressed (one or more gzip members, as `cat a.gz b.gz` makes).
///
/// Damage does not throw: a gzip stream that is corrupt or ends inside a member stops the stream where the good
/// bytes end, and `damage` says what happened and at which compressed byte. Everything before that point is still
/// read, so the records before the damage land and the damage itself becomes a located quality issue.
final class InputStream {
    let fd: Int32
    /// The file's size on disk (compressed size for gzip).
    let fileBytes: Int
    let path: String
    private(set) var damage: String?
    var compressed: Bool { gzip != nil }
    /// Bytes of the file consumed so far (for progress).
    var position: Int { gzip == nil ? offset : offset - Int(gzip!.pointee.avail_in) }

    private var offset = 0
    private var gzip: UnsafeMutablePointer<z_stream>?
    private var input: UnsafeMutableRawBufferPointer?
    private var finished = false
    /// Whether the last `inflate` call ended a member (so the end of the file is a clean end).
    private var atMemberEnd = false

    static let gzipMagic: [UInt8] = [0x1F, 0x8B]

    init(fd: Int32, fileBytes: Int, path: String, gzip isGzip: Bool) throws(IngestError) {
        self.fd = fd
        self.fileBytes = fileBytes
        self.path = path
        guard isGzip else { return }
        let z = UnsafeMutablePointer<z_stream>.allocate(capacity: 1)
        z.initialize(to: z_stream())
        // 15 window bits + 16: gzip framing only. zlib keeps a pointer to the stream, so it lives on the heap.
        guard inflateInit2_(z, 15 + 16, zlibVersion(), Int32(MemoryLayout<z_stream>.size)) == Z_OK else {
            z.deallocate()
            throw IngestError("\(path): cannot start the gzip decoder")
        }
        gzip = z
        input = UnsafeMutableRawBufferPointer.allocate(byteCount: 256 << 10, alignment: 16)
    }

    deinit {
        if let z = gzip {
            inflateEnd(z)
            z.deallocate()
        }
        input?.deallocate()
    }

    /// Reads up to `count` bytes into `dst`; 0 at the end of the data (or at damage).
    func read(into dst: UnsafeMutableRawPointer, count: Int) throws(IngestError) -> Int {
        guard let z = gzip else {
            let got = pread(fd, dst, count, off_t(offset))
            guard got >= 0 else { throw IngestError("\(path): read error: \(String(cString: strerror(errno)))") }
            offset += got
            return got
        }
        var produced = 0
        while produced == 0 && !finished {
            if z.pointee.avail_in == 0 {
                let got = pread(fd, input!.baseAddress!, input!.count, off_t(offset))
                guard got >= 0 else { throw IngestError("\(path): read error: \(String(cString: strerror(errno)))") }
                if got == 0 {
                    finished = true
                    if !atMemberEnd {
                        damage = "the gzip stream is truncated: the file ends at byte \(offset) inside compressed data"
                    }
                    break
                }
                offset += got
                z.pointee.next_in = input!.baseAddress!.assumingMemoryBound(to: Bytef.self)
                z.pointee.avail_in = uInt(got)
            }
            if atMemberEnd {
                // Another member follows (concatenated gzip files are one stream).
                inflateReset(z)
                atMemberEnd = false
            }
            z.pointee.next_out = (dst + produced).assumingMemoryBound(to: Bytef.self)
            z.pointee.avail_out = uInt(count - produced)
            let rc = inflate(z, Z_NO_FLUSH)
            produced = count - Int(z.pointee.avail_out)
            switch rc {
            case Z_OK, Z_BUF_ERROR:
                continue
            case Z_STREAM_END:
                atMemberEnd = true
            default:
                let why = z.pointee.msg.map { String(cString: $0) } ?? "error \(rc)"
                damage = "corrupt gzip data near compressed byte \(position): \(why)"
                finished = true
            }
        }
        return produced
    }

    /// The first `count` bytes of the data (decompressed), read without moving the stream (for source detection).
    static func head(fd: Int32, fileBytes: Int, path: String, count: Int) throws -> [UInt8] {
        let stream = try InputStream(fd: fd, fileBytes: fileBytes, path: path, gzip: isGzip(fd: fd))
        var out = [UInt8](repeating: 0, count: count)
        var filled = 0
        try out.withUnsafeMutableBytes { p in
            while filled < count {
                let got = try stream.read(into: p.baseAddress! + filled, count: count - filled)
                if got == 0 { break }
                filled += got
            }
        }
        out.removeLast(count - filled)
        return out
    }

    /// Whether the file starts with the gzip magic bytes.
    static func isGzip(fd: Int32) -> Bool {
        var magic = [UInt8](repeating: 0, count: 2)
        return pread(fd, &magic, 2, 0) == 2 && magic == gzipMagic
    }
}
