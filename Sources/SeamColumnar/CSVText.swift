/// CSV fields (RFC 4180): one implementation for every CSV writer (generator exports, query results).
public enum CSVText {
    /// Appends `s` to `out`, quoted when it holds the delimiter, a quote or a line break.
    @inlinable
    public static func appendField<Output: ByteOutput>(_ s: String, to out: inout Output, delimiter: UInt8 = 0x2C) {
        var s = s
        s.withUTF8 { appendField(bytes: UnsafeRawBufferPointer($0), to: &out, delimiter: delimiter) }
    }

    /// `appendField` for text already in UTF-8 bytes (a VARCHAR row), without making a String of it.
    @inlinable
    public static func appendField<Output: ByteOutput>(bytes: UnsafeRawBufferPointer, to out: inout Output, delimiter: UInt8 = 0x2C) {
        if bytes.contains(where: { $0 == delimiter || $0 == 0x22 || $0 == 0x0A || $0 == 0x0D }) {
            out.append(0x22)
            for b in bytes {
                if b == 0x22 { out.append(0x22) }
                out.append(b)
            }
            out.append(0x22)
        } else {
            out.append(bytes: bytes)
        }
    }

    /// One CSV line (without the line break).
    public static func row(_ fields: [String], delimiter: UInt8 = 0x2C) -> String {
        var out: [UInt8] = []
        for (k, f) in fields.enumerated() {
            if k > 0 { out.append(delimiter) }
            appendField(f, to: &out, delimiter: delimiter)
        }
        return String(decoding: out, as: UTF8.self)
    }
}
