/// The recursive-descent parser behind ``JSONDocument``: one pass over the bytes, entries appended to a tape.
struct JSONParser {
    let bytes: UnsafeRawBufferPointer
    /// The tape, written in place: `capacity` entries. A text that needs more is parsed to the end all the same,
    /// counting (`count`) without writing past the tape, and ``JSONDocument`` parses it again on a larger tape.
    /// Appending to an array instead cost a uniqueness check and a capacity check per value, a tenth of parsing.
    let tape: UnsafeMutablePointer<JSONDocument.Entry>
    let capacity: Int
    var count = 0
    var pos = 0
    var depth = 0

    init(bytes: UnsafeRawBufferPointer, tape: UnsafeMutableBufferPointer<JSONDocument.Entry>) {
        self.bytes = bytes
        self.tape = tape.baseAddress!
        self.capacity = tape.count
    }

    /// A position or tape index as the tape stores it: both are below 2^31 (``JSONDocument/parse(_:)`` refuses larger
    /// texts, and a text has fewer values than bytes), so no trap check is needed per value.
    @inline(__always) static func i32(_ v: Int) -> Int32 { Int32(truncatingIfNeeded: v) }

    @inline(__always) mutating func add(_ e: JSONDocument.Entry) {
        if count < capacity { tape[count] = e }
        count += 1
    }

    /// Completes the entry of the object or array at `me` once its members are parsed.
    @inline(__always) func close(_ me: Int, elements: Int32) {
        guard me < capacity else { return }
        tape[me].end = Self.i32(pos)
        tape[me].next = Self.i32(count)
        tape[me].count = elements
    }

    @inline(__always) func peek() -> UInt8? { pos < bytes.count ? bytes[pos] : nil }

    @inline(__always) mutating func skipSpace() {
        while pos < bytes.count {
            let c = bytes[pos]
            guard c == 0x20 || c == 0x0A || c == 0x0D || c == 0x09 else { return }
            pos += 1
        }
    }

    mutating func parseDocument() throws(JSONError) {
        skipSpace()
        guard pos < bytes.count else { throw JSONError(offset: pos, "empty JSON text") }
        try parseValue()
        skipSpace()
        guard pos == bytes.count else { throw JSONError(offset: pos, "unexpected '\(Self.show(bytes[pos]))' after the JSON value") }
    }

    mutating func parseValue() throws(JSONError) {
        guard let c = peek() else { throw JSONError(offset: pos, "unexpected end of input, a value was expected") }
        switch c {
        case UInt8(ascii: "{"): try parseObject()
        case UInt8(ascii: "["): try parseArray()
        case UInt8(ascii: "\""): try parseString()
        case UInt8(ascii: "t"): try literal("true", .bool, true)
        case UInt8(ascii: "f"): try literal("false", .bool, false)
        case UInt8(ascii: "n"): try literal("null", .null, false)
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): try parseNumber()
        default: throw JSONError(offset: pos, "unexpected '\(Self.show(c))', a value was expected")
        }
    }

    mutating func literal(_ word: StaticString, _ kind: JSONDocument.Kind, _ flag: Bool) throws(JSONError) {
        let n = word.utf8CodeUnitCount
        let start = pos
        guard pos + n <= bytes.count else { throw JSONError(offset: pos, "unexpected end of input in '\(word)'") }
        for i in 0..<n where bytes[pos + i] != word.utf8Start[i] {
            throw JSONError(offset: pos + i, "invalid literal, '\(word)' was expected")
        }
        pos += n
        add(.init(kind: kind, flag: flag, start: Self.i32(start), end: Self.i32(pos), next: Self.i32(count &+ 1), count: 0))
    }

    mutating func enter() throws(JSONError) {
        depth += 1
        if depth > JSONDocument.maxDepth { throw JSONError(offset: pos, "nesting deeper than \(JSONDocument.maxDepth)") }
    }

    mutating func parseObject() throws(JSONError) {
        try enter()
        let me = count
        let start = pos
        add(.init(kind: .object, flag: false, start: Self.i32(start), end: 0, next: 0, count: 0))
        pos += 1
        skipSpace()
        var members: Int32 = 0
        if peek() == UInt8(ascii: "}") {
            pos += 1
        } else {
            while true {
                skipSpace()
                guard peek() == UInt8(ascii: "\"") else {
                    throw JSONError(offset: pos, peek() == nil ? "unexpected end of input in an object" : "a member name in quotes was expected")
                }
                try parseString()
                skipSpace()
                guard peek() == UInt8(ascii: ":") else { throw JSONError(offset: pos, "':' was expected after a member name") }
                pos += 1
                skipSpace()
                try parseValue()
                members += 1
                skipSpace()
                guard let c = peek() else { throw JSONError(offset: pos, "unexpected end of input in an object") }
                pos += 1
                if c == UInt8(ascii: "}") { break }
                guard c == UInt8(ascii: ",") else { throw JSONError(offset: pos - 1, "',' or '}' was expected in an object") }
            }
        }
        close(me, elements: members)
        depth -= 1
    }

    mutating func parseArray() throws(JSONError) {
        try enter()
        let me = count
        add(.init(kind: .array, flag: false, start: Self.i32(pos), end: 0, next: 0, count: 0))
        pos += 1
        skipSpace()
        var elements: Int32 = 0
        if peek() == UInt8(ascii: "]") {
            pos += 1
        } else {
            while true {
                skipSpace()
                try parseValue()
                elements += 1
                skipSpace()
                guard let c = peek() else { throw JSONError(offset: pos, "unexpected end of input in an array") }
                pos += 1
                if c == UInt8(ascii: "]") { break }
                guard c == UInt8(ascii: ",") else { throw JSONError(offset: pos - 1, "',' or ']' was expected in an array") }
            }
        }
        close(me, elements: elements)
        depth -= 1
    }

    mutating func parseString() throws(JSONError) {
        pos += 1  // opening quote
        let start = pos
        var escaped = false
        let n = bytes.count
        while true {
            // ASCII run, eight bytes per step while no byte is a quote, a backslash, a control character or
            // non-ASCII (SWAR: a zero byte of w ^ c, or of w - 0x20.., flags them).
            let ones: UInt64 = 0x0101_0101_0101_0101, highs: UInt64 = 0x8080_8080_8080_8080
            while pos &+ 8 <= n {
                let w = bytes.loadUnaligned(fromByteOffset: pos, as: UInt64.self)
                let q = w ^ (ones &* 0x22), b = w ^ (ones &* 0x5C)
                let special = (((q &- ones) & ~q) | ((b &- ones) & ~b) | (w &- ones &* 0x20) | w) & highs
                if special != 0 {
                    // The lowest flagged byte is the first special one (a borrow only flags bytes above a true
                    // match), so the scan lands on it without stepping byte by byte.
                    pos &+= special.trailingZeroBitCount >> 3
                    break
                }
                pos &+= 8
            }
            while pos < n {
                let c = bytes[pos]
                if c == UInt8(ascii: "\"") || c == UInt8(ascii: "\\") || c < 0x20 || c >= 0x80 { break }
                pos += 1
            }
            guard pos < n else { throw JSONError(offset: pos, "unexpected end of input in a string") }
            let c = bytes[pos]
            if c == UInt8(ascii: "\"") { break }
            if c < 0x20 { throw JSONError(offset: pos, "control character U+00\(Self.hex2(c)) in a string must be escaped") }
            if c == UInt8(ascii: "\\") {
                escaped = true
                try skipEscape()
            } else {
                try skipUTF8Sequence()
            }
        }
        add(.init(kind: .string, flag: escaped, start: Self.i32(start), end: Self.i32(pos), next: Self.i32(count &+ 1), count: 0))
        pos += 1  // closing quote
    }

    mutating func skipEscape() throws(JSONError) {
        guard pos + 1 < bytes.count else { throw JSONError(offset: pos, "unexpected end of input in an escape") }
        let e = bytes[pos + 1]
        switch e {
        case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"), UInt8(ascii: "b"), UInt8(ascii: "f"),
            UInt8(ascii: "n"), UInt8(ascii: "r"), UInt8(ascii: "t"):
            pos += 2
        case UInt8(ascii: "u"):
            let unit = try hex4(at: pos + 2)
            pos += 6
            if (0xD800...0xDBFF).contains(unit) {
                guard pos + 1 < bytes.count, bytes[pos] == UInt8(ascii: "\\"), bytes[pos + 1] == UInt8(ascii: "u") else {
                    throw JSONError(offset: pos, "high surrogate \\u\(String(unit, radix: 16)) without a low surrogate")
                }
                let low = try hex4(at: pos + 2)
                guard (0xDC00...0xDFFF).contains(low) else { throw JSONError(offset: pos, "invalid low surrogate \\u\(String(low, radix: 16))") }
                pos += 6
            } else if (0xDC00...0xDFFF).contains(unit) {
                throw JSONError(offset: pos - 6, "lone low surrogate \\u\(String(unit, radix: 16))")
            }
        default:
            throw JSONError(offset: pos, "invalid escape '\\\(Self.show(e))'")
        }
    }

    func hex4(at i: Int) throws(JSONError) -> UInt32 {
        guard i + 4 <= bytes.count else { throw JSONError(offset: i, "unexpected end of input in a \\u escape") }
        var v: UInt32 = 0
        for k in 0..<4 {
            guard let d = Self.hexDigit(bytes[i + k]) else { throw JSONError(offset: i + k, "invalid hex digit in a \\u escape") }
            v = v << 4 | d
        }
        return v
    }

    /// Validates one multi-byte UTF-8 sequence.
    mutating func skipUTF8Sequence() throws(JSONError) {
        switch UTF8Sequence.check(bytes, at: pos) {
        case .valid(let length): pos += length
        case .badLead: throw JSONError(offset: pos, "invalid UTF-8 byte 0x\(Self.hex2(bytes[pos]))")
        case .truncated: throw JSONError(offset: pos, "truncated UTF-8 sequence")
        case .bad(let at): throw JSONError(offset: at, "invalid UTF-8 sequence")
        }
    }

    mutating func parseNumber() throws(JSONError) {
        let start = pos
        if peek() == UInt8(ascii: "-") { pos += 1 }
        guard let first = peek(), Self.isDigit(first) else { throw JSONError(offset: pos, "a digit was expected in a number") }
        if first == UInt8(ascii: "0") {
            pos += 1
            if let c = peek(), Self.isDigit(c) { throw JSONError(offset: pos, "leading zeros are not allowed in a number") }
        } else {
            while let c = peek(), Self.isDigit(c) { pos += 1 }
        }
        if peek() == UInt8(ascii: ".") {
            pos += 1
            guard let c = peek(), Self.isDigit(c) else { throw JSONError(offset: pos, "a digit was expected after the decimal point") }
            while let c = peek(), Self.isDigit(c) { pos += 1 }
        }
        if let c = peek(), c == UInt8(ascii: "e") || c == UInt8(ascii: "E") {
            pos += 1
            if let s = peek(), s == UInt8(ascii: "+") || s == UInt8(ascii: "-") { pos += 1 }
            guard let d = peek(), Self.isDigit(d) else { throw JSONError(offset: pos, "a digit was expected in the exponent") }
            while let c = peek(), Self.isDigit(c) { pos += 1 }
        }
        add(.init(kind: .number, flag: false, start: Self.i32(start), end: Self.i32(pos), next: Self.i32(count &+ 1), count: 0))
    }

    @inline(__always) static func isDigit(_ c: UInt8) -> Bool { c &- UInt8(ascii: "0") < 10 }

    static func hexDigit(_ c: UInt8) -> UInt32? {
        switch c {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return UInt32(c - UInt8(ascii: "0"))
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return UInt32(c - UInt8(ascii: "a") + 10)
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return UInt32(c - UInt8(ascii: "A") + 10)
        default: return nil
        }
    }

    static func hex2(_ c: UInt8) -> String {
        let s = String(c, radix: 16, uppercase: true)
        return s.count == 1 ? "0" + s : s
    }

    static func show(_ c: UInt8) -> String {
        c >= 0x20 && c < 0x7F ? String(UnicodeScalar(c)) : "0x" + hex2(c)
    }

    /// Decodes the escapes of a string span that the parser already validated.
    static func unescape(_ span: UnsafeRawBufferPointer) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(span.count)
        var i = 0
        func appendScalar(_ v: UInt32) {
            for b in String(UnicodeScalar(v) ?? "\u{FFFD}").utf8 { out.append(b) }
        }
        while i < span.count {
            let c = span[i]
            guard c == UInt8(ascii: "\\"), i + 1 < span.count else {
                out.append(c)
                i += 1
                continue
            }
            let e = span[i + 1]
            i += 2
            switch e {
            case UInt8(ascii: "b"): out.append(0x08)
            case UInt8(ascii: "f"): out.append(0x0C)
            case UInt8(ascii: "n"): out.append(0x0A)
            case UInt8(ascii: "r"): out.append(0x0D)
            case UInt8(ascii: "t"): out.append(0x09)
            case UInt8(ascii: "u"):
                var v: UInt32 = 0
                for k in 0..<4 where i + k < span.count { v = v << 4 | (hexDigit(span[i + k]) ?? 0) }
                i += 4
                if (0xD800...0xDBFF).contains(v), i + 6 <= span.count {
                    var low: UInt32 = 0
                    for k in 2..<6 { low = low << 4 | (hexDigit(span[i + k]) ?? 0) }
                    i += 6
                    v = 0x10000 + ((v - 0xD800) << 10) + (low - 0xDC00)
                }
                appendScalar(v)
            default: out.append(e)
            }
        }
        return String(decoding: out, as: UTF8.self)
    }
}
