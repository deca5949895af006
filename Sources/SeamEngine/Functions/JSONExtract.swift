import SeamColumnar

/// `json_extract_string(json, '$.a.b[0]')`: the value at the path as text — strings unquoted and unescaped,
/// other values as compact JSON; NULL when the path is missing, the value is `null`, or the text is not JSON.
enum JSONExtract {
    enum Step {
        case key(String)
        case index(Int)
    }

    static func parsePath(_ path: String) -> [Step]? {
        var steps: [Step] = []
        var s = Substring(path)
        guard s.first == "$" else { return nil }
        s = s.dropFirst()
        while let c = s.first {
            if c == "." {
                s = s.dropFirst()
                if s.first == "\"" {
                    s = s.dropFirst()
                    guard let end = s.firstIndex(of: "\"") else { return nil }
                    steps.append(.key(String(s[..<end])))
                    s = s[s.index(after: end)...]
                } else {
                    let end = s.firstIndex { $0 == "." || $0 == "[" } ?? s.endIndex
                    steps.append(.key(String(s[..<end])))
                    s = s[end...]
                }
            } else if c == "[" {
                guard let end = s.firstIndex(of: "]"), let i = Int(s[s.index(after: s.startIndex)..<end]) else { return nil }
                steps.append(.index(i))
                s = s[s.index(after: end)...]
            } else {
                return nil
            }
        }
        return steps
    }

    static func call(_ v: ColumnVector, path: String) -> ColumnVector {
        let n = v.count
        let steps = parsePath(path) ?? []
        let strings = StringSpans(v)
        var b = ColumnBuilder(.varchar, capacity: n)
        for i in 0..<n {
            if v.isNull(i) {
                b.appendNull()
                continue
            }
            let bytes = strings[i]
            var r = Reader(bytes: bytes)
            guard let range = r.find(steps) else {
                b.appendNull()
                continue
            }
            if bytes[range.lowerBound] == UInt8(ascii: "\"") {
                var rr = Reader(bytes: bytes)
                rr.pos = range.lowerBound
                if let s = rr.stringValue() { b.append(string: s) } else { b.appendNull() }
            } else if range.count == 4 && bytes[range.lowerBound] == UInt8(ascii: "n") {
                b.appendNull()
            } else {
                b.append(string: compact(UnsafeRawBufferPointer(rebasing: bytes[range])))
            }
        }
        return b.finish()
    }

    /// JSON text without insignificant whitespace.
    static func compact(_ s: UnsafeRawBufferPointer) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(s.count)
        var inString = false
        var escape = false
        for c in s {
            if inString {
                out.append(c)
                if escape { escape = false } else if c == UInt8(ascii: "\\") { escape = true } else if c == UInt8(ascii: "\"") { inString = false }
                continue
            }
            if c == UInt8(ascii: "\"") { inString = true }
            if c == 0x20 || c == 0x0A || c == 0x0D || c == 0x09 { continue }
            out.append(c)
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// A forgiving-but-safe scanner: finds the byte range of a value; malformed text gives `nil`.
    struct Reader {
        let bytes: UnsafeRawBufferPointer
        var pos = 0

        mutating func ws() {
            while pos < bytes.count, bytes[pos] == 0x20 || bytes[pos] == 0x0A || bytes[pos] == 0x0D || bytes[pos] == 0x09 { pos += 1 }
        }

        mutating func find(_ steps: [Step]) -> Range<Int>? {
            ws()
            for step in steps {
                guard pos < bytes.count else { return nil }
                switch step {
                case .key(let k):
                    guard bytes[pos] == UInt8(ascii: "{") else { return nil }
                    pos += 1
                    var found = false
                    while true {
                        ws()
                        guard pos < bytes.count else { return nil }
                        if bytes[pos] == UInt8(ascii: "}") { return nil }
                        guard let key = stringValue() else { return nil }
                        ws()
                        guard pos < bytes.count, bytes[pos] == UInt8(ascii: ":") else { return nil }
                        pos += 1
                        ws()
                        if key == k {
                            found = true
                            break
                        }
                        guard skipValue() else { return nil }
                        ws()
                        guard pos < bytes.count else { return nil }
                        if bytes[pos] == UInt8(ascii: ",") { pos += 1 } else { return nil }
                    }
                    if !found { return nil }
                case .index(let idx):
                    guard bytes[pos] == UInt8(ascii: "["), idx >= 0 else { return nil }
                    pos += 1
                    var k = 0
                    while true {
                        ws()
                        guard pos < bytes.count, bytes[pos] != UInt8(ascii: "]") else { return nil }
                        if k == idx { break }
                        guard skipValue() else { return nil }
                        ws()
                        guard pos < bytes.count, bytes[pos] == UInt8(ascii: ",") else { return nil }
                        pos += 1
                        k += 1
                    }
                }
            }
            let start = pos
            guard skipValue() else { return nil }
            return start..<pos
        }

        mutating func skipValue() -> Bool {
            ws()
            guard pos < bytes.count else { return false }
            let c = bytes[pos]
            if c == UInt8(ascii: "\"") { return stringValue() != nil }
            if c == UInt8(ascii: "{") || c == UInt8(ascii: "[") {
                var depth = 0
                var inString = false
                var escape = false
                while pos < bytes.count {
                    let d = bytes[pos]
                    pos += 1
                    if inString {
                        if escape { escape = false } else if d == UInt8(ascii: "\\") { escape = true } else if d == UInt8(ascii: "\"") { inString = false }
                        continue
                    }
                    if d == UInt8(ascii: "\"") { inString = true }
                    if d == UInt8(ascii: "{") || d == UInt8(ascii: "[") { depth += 1 }
                    if d == UInt8(ascii: "}") || d == UInt8(ascii: "]") {
                        depth -= 1
                        if depth == 0 { return true }
                    }
                }
                return false
            }
            let start = pos
            while pos < bytes.count, !(bytes[pos] == UInt8(ascii: ",") || bytes[pos] == UInt8(ascii: "}") || bytes[pos] == UInt8(ascii: "]") || bytes[pos] == 0x20 || bytes[pos] == 0x0A || bytes[pos] == 0x0D || bytes[pos] == 0x09) {
                pos += 1
            }
            return pos > start
        }

        /// Reads a JSON string at `pos` (which must be `"`), unescaped.
        mutating func stringValue() -> String? {
            guard pos < bytes.count, bytes[pos] == UInt8(ascii: "\"") else { return nil }
            pos += 1
            var out: [UInt8] = []
            while pos < bytes.count {
                let c = bytes[pos]
                pos += 1
                if c == UInt8(ascii: "\"") { return String(decoding: out, as: UTF8.self) }
                if c != UInt8(ascii: "\\") {
                    out.append(c)
                    continue
                }
                guard pos < bytes.count else { return nil }
                let e = bytes[pos]
                pos += 1
                switch e {
                case UInt8(ascii: "n"): out.append(0x0A)
                case UInt8(ascii: "t"): out.append(0x09)
                case UInt8(ascii: "r"): out.append(0x0D)
                case UInt8(ascii: "b"): out.append(0x08)
                case UInt8(ascii: "f"): out.append(0x0C)
                case UInt8(ascii: "u"):
                    guard let u = hex4() else { return nil }
                    var scalar = u
                    if (0xD800..<0xDC00).contains(u), pos + 1 < bytes.count, bytes[pos] == UInt8(ascii: "\\"), bytes[pos + 1] == UInt8(ascii: "u") {
                        pos += 2
                        guard let lo = hex4(), (0xDC00..<0xE000).contains(lo) else { return nil }
                        scalar = 0x10000 + ((u - 0xD800) << 10) + (lo - 0xDC00)
                    }
                    out.append(contentsOf: Array(String(Character(Unicode.Scalar(scalar) ?? "\u{FFFD}")).utf8))
                default: out.append(e)
                }
            }
            return nil
        }

        mutating func hex4() -> UInt32? {
            guard pos + 4 <= bytes.count else { return nil }
            var v: UInt32 = 0
            for _ in 0..<4 {
                let c = bytes[pos]
                pos += 1
                guard let d = Int(String(UnicodeScalar(c)), radix: 16) else { return nil }
                v = v << 4 | UInt32(d)
            }
            return v
        }
    }
}
