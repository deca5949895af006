/// JSON string literals with the escapes RFC 8259 requires: one implementation for everything that writes JSON
/// (the generator's messages, ingest's `properties`, result output).
public enum JSONText {
    /// Appends `s` as a quoted JSON string to `out`. Runs of bytes that need no escape are copied whole: a byte at a
    /// time, quoting took a fortieth of an ingest's instructions (its CSV rows' properties).
    @inlinable
    public static func appendQuoted<Output: ByteOutput>(_ s: String, to out: inout Output) {
        var s = s
        s.withUTF8 { appendQuoted(UnsafeRawBufferPointer($0), to: &out) }
    }

    /// Appends the UTF-8 text `utf8` as a quoted JSON string to `out`.
    @inlinable
    public static func appendQuoted<Output: ByteOutput>(_ utf8: UnsafeRawBufferPointer, to out: inout Output) {
        out.append(0x22)
        var run = 0
        for (i, b) in utf8.enumerated() where b == 0x22 || b == 0x5C || b < 0x20 {
            out.append(bytes: UnsafeRawBufferPointer(rebasing: utf8[run..<i]))
            run = i + 1
            switch b {
            case 0x22: out.append(0x5C); out.append(0x22)
            case 0x5C: out.append(0x5C); out.append(0x5C)
            case 0x0A: out.append(0x5C); out.append(0x6E)
            case 0x0D: out.append(0x5C); out.append(0x72)
            case 0x09: out.append(0x5C); out.append(0x74)
            default:
                let hex: StaticString = "0123456789abcdef"
                out.append("\\u00")
                out.append(hex.utf8Start[Int(b >> 4)])
                out.append(hex.utf8Start[Int(b & 15)])
            }
        }
        out.append(bytes: UnsafeRawBufferPointer(rebasing: utf8[run...]))
        out.append(0x22)
    }

    /// `s` as a quoted JSON string.
    public static func quoted(_ s: String) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(s.utf8.count + 2)
        appendQuoted(s, to: &out)
        return String(decoding: out, as: UTF8.self)
    }
}
