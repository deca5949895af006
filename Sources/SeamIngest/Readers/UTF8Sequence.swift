/// Well-formed UTF-8 (no overlong forms, no surrogates, nothing past U+10FFFF), one multi-byte sequence at a time:
/// the JSON parser's string scan and ``Text/isUTF8(_:)`` both step over ASCII themselves and ask here for the rest.
enum UTF8Sequence {
    enum Check {
        /// A well-formed sequence of this many bytes.
        case valid(Int)
        /// The first byte starts no sequence.
        case badLead
        /// The text ends inside the sequence.
        case truncated
        /// The byte at this offset does not continue the sequence.
        case bad(at: Int)
    }

    /// The sequence whose first (non-ASCII) byte is at `pos`.
    @inline(__always)
    static func check(_ bytes: UnsafeRawBufferPointer, at pos: Int) -> Check {
        let len: Int
        var lo: UInt8 = 0x80, hi: UInt8 = 0xBF
        switch bytes[pos] {
        case 0xC2...0xDF: len = 2
        case 0xE0: len = 3; lo = 0xA0
        case 0xE1...0xEC, 0xEE...0xEF: len = 3
        case 0xED: len = 3; hi = 0x9F
        case 0xF0: len = 4; lo = 0x90
        case 0xF1...0xF3: len = 4
        case 0xF4: len = 4; hi = 0x8F
        default: return .badLead
        }
        guard pos + len <= bytes.count else { return .truncated }
        let b1 = bytes[pos + 1]
        guard b1 >= lo && b1 <= hi else { return .bad(at: pos + 1) }
        for k in 2..<len where bytes[pos + k] & 0xC0 != 0x80 { return .bad(at: pos + k) }
        return .valid(len)
    }
}
