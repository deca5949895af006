import Foundation

/// Email addresses, names and other free text as the store keeps them.
public enum Text {
    /// Trimmed, lower case. The caller decides what an invalid address means; see ``isPlausibleEmail(_:)``.
    public static func email(_ raw: String) -> String {
        var t = trim(raw)
        // Most addresses are already lower case ASCII: skip the Unicode case mapping then.
        return t.withUTF8 { isLowerCaseASCII(UnsafeRawBufferPointer($0)) } ? t : t.lowercased()
    }

    /// One `@`, something before it, a dotted domain after it, no spaces.
    public static func isPlausibleEmail(_ e: String) -> Bool {
        var e = e
        return e.withUTF8 { isPlausibleEmail(UnsafeRawBufferPointer($0)) }
    }

    /// ``isPlausibleEmail(_:)`` of an address's UTF-8 bytes.
    static func isPlausibleEmail(_ e: UnsafeRawBufferPointer) -> Bool {
        var at = 0, atIndex = -1
        for i in 0..<e.count {
            let c = e[i]
            if c == UInt8(ascii: "@") {
                at += 1
                atIndex = i
            }
            if c <= 0x20 { return false }
        }
        guard at == 1, atIndex > 0, atIndex < e.count - 3 else { return false }
        let domain = UnsafeRawBufferPointer(rebasing: e[(atIndex + 1)...])
        return domain.contains(UInt8(ascii: ".")) && domain.first != UInt8(ascii: ".") && domain.last != UInt8(ascii: ".")
    }

    /// Whether ``email(_:)`` leaves these bytes as they are (once trimmed): ASCII without an upper-case letter.
    static func isLowerCaseASCII(_ utf8: UnsafeRawBufferPointer) -> Bool {
        for c in utf8 where c >= 0x80 || (c >= 0x41 && c <= 0x5A) { return false }
        return true
    }

    /// Whether `bytes` are UTF-8: ASCII eight bytes at a time, other sequences through ``UTF8Sequence``.
    static func isUTF8(_ bytes: UnsafeRawBufferPointer) -> Bool {
        var i = 0
        let n = bytes.count
        while i < n {
            if i &+ 8 <= n, bytes.loadUnaligned(fromByteOffset: i, as: UInt64.self) & 0x8080_8080_8080_8080 == 0 {
                i &+= 8
            } else if bytes[i] < 0x80 {
                i &+= 1
            } else if case .valid(let length) = UTF8Sequence.check(bytes, at: i) {
                i &+= length
            } else {
                return false
            }
        }
        return true
    }

    /// Trimmed, inner runs of white space collapsed to one space, Unicode NFC (so `Zoe\u{308}` equals `Zoë`).
    public static func name(_ raw: String) -> String {
        if isTidyASCII(raw) { return raw }
        let parts = raw.split(whereSeparator: { $0.isWhitespace })
        return parts.joined(separator: " ").precomposedStringWithCanonicalMapping
    }

    /// Whether `name(s)` is `s` itself, told from the bytes: ASCII (NFC leaves it alone), single spaces between
    /// words only (no tab, newline or run to collapse), none at either end. Most names are; the general path
    /// (split, join, Foundation's NFC) was a few percent of an ingest.
    static func isTidyASCII(_ s: String) -> Bool {
        var previousSpace = true  // a space first is not tidy
        for c in s.utf8 {
            if c >= 0x80 || (c >= 0x09 && c <= 0x0D) { return false }
            let space = c == 0x20
            if space && previousSpace { return false }
            previousSpace = space
        }
        return !previousSpace || s.isEmpty
    }

    /// Upper case (currency and country codes); a code already in upper-case ASCII comes back as it is, without
    /// the Unicode case mapping.
    public static func upper(_ s: String) -> String {
        isUpperCaseASCII(s.utf8) ? s : s.uppercased()
    }

    /// Whether ``upper(_:)`` leaves these UTF-8 bytes as they are: ASCII without a lower-case letter.
    public static func isUpperCaseASCII(_ utf8: some Sequence<UInt8>) -> Bool {
        utf8.allSatisfy { $0 < 0x80 && !($0 >= 0x61 && $0 <= 0x7A) }
    }

    /// A plain identifier value: trimmed; nil when nothing is left.
    public static func identifier(_ raw: String) -> String? {
        let t = trim(raw)
        return t.isEmpty ? nil : t
    }

    /// The white space both `trim`s take off: space, tab, line feed, carriage return, vertical tab, form feed.
    @inline(__always) static func isASCIISpace(_ c: UInt8) -> Bool {
        c == 0x20 || c == 0x09 || c == 0x0A || c == 0x0D || c == 0x0B || c == 0x0C
    }

    /// `raw` without leading and trailing ASCII white space, as `trim` does to a String.
    public static func trim(_ raw: UnsafeRawBufferPointer) -> UnsafeRawBufferPointer {
        var lo = 0, hi = raw.count
        while lo < hi, isASCIISpace(raw[lo]) { lo += 1 }
        while hi > lo, isASCIISpace(raw[hi - 1]) { hi -= 1 }
        return UnsafeRawBufferPointer(rebasing: raw[lo..<hi])
    }

    /// `s` without leading and trailing ASCII white space. Returns `s` itself (no copy) in the common case.
    public static func trim(_ s: String) -> String {
        let u = s.utf8
        guard let f = u.first, let l = u.last, isASCIISpace(f) || isASCIISpace(l) else { return s }
        var lo = u.startIndex, hi = u.endIndex
        while lo < hi, isASCIISpace(u[lo]) { lo = u.index(after: lo) }
        while hi > lo, isASCIISpace(u[u.index(before: hi)]) { hi = u.index(before: hi) }
        return String(s[lo..<hi])
    }
}
