/// Parsing of SQL text values (casts from VARCHAR, literals), over UTF-8 bytes so the engine parses without
/// making a `String` per row. DuckDB's accepted spellings are the reference.
public enum ValueParsing {
    @inline(__always)
    static func isSpace(_ b: UInt8) -> Bool { b == 0x20 || b == 0x09 || b == 0x0A || b == 0x0D }

    /// The bytes without leading and trailing ASCII whitespace.
    static func trimmed(_ s: UnsafeRawBufferPointer) -> Range<Int> {
        var a = 0
        var b = s.count
        while a < b && isSpace(s[a]) { a += 1 }
        while b > a && isSpace(s[b - 1]) { b -= 1 }
        return a..<b
    }

    /// A leading `-` or `+` of the trimmed range `r`: whether it is negative and where the digits start; nil when
    /// the range is empty.
    private static func sign(_ s: UnsafeRawBufferPointer, _ r: Range<Int>) -> (negative: Bool, start: Int)? {
        guard r.lowerBound < r.upperBound else { return nil }
        let c = s[r.lowerBound]
        if c == UInt8(ascii: "-") || c == UInt8(ascii: "+") { return (c == UInt8(ascii: "-"), r.lowerBound + 1) }
        return (false, r.lowerBound)
    }

    /// A signed decimal integer; `nil` on any other text or overflow.
    public static func int64(_ s: UnsafeRawBufferPointer) -> Int64? {
        let r = trimmed(s)
        guard let (negative, start) = sign(s, r) else { return nil }
        var i = start
        guard i < r.upperBound else { return nil }
        var v: Int64 = 0
        while i < r.upperBound {
            let d = s[i] &- 48
            guard d < 10 else { return nil }
            let (m, o1) = v.multipliedReportingOverflow(by: 10)
            let (a, o2) = negative ? m.subtractingReportingOverflow(Int64(d)) : m.addingReportingOverflow(Int64(d))
            if o1 || o2 { return nil }
            v = a
            i += 1
        }
        return v
    }

    /// A number as DECIMAL(18,2) minor units, rounded half away from zero; `nil` when not a number or out of range.
    public static func decimal2(_ s: UnsafeRawBufferPointer) -> Int64? {
        let r = trimmed(s)
        guard let (negative, start) = sign(s, r) else { return nil }
        var i = start
        var whole: Int64 = 0
        var digits = 0
        while i < r.upperBound, s[i] &- 48 < 10 {
            let (m, o1) = whole.multipliedReportingOverflow(by: 10)
            let (a, o2) = m.addingReportingOverflow(Int64(s[i] &- 48))
            if o1 || o2 || a > 99_999_999_999_999_999 / 100 { return nil }
            whole = a
            digits += 1
            i += 1
        }
        var frac: Int64 = 0
        var fracDigits = 0
        var roundUp = false
        if i < r.upperBound && s[i] == UInt8(ascii: ".") {
            i += 1
            while i < r.upperBound, s[i] &- 48 < 10 {
                if fracDigits < 2 {
                    frac = frac * 10 + Int64(s[i] &- 48)
                } else if fracDigits == 2 {
                    roundUp = s[i] >= UInt8(ascii: "5")
                }
                fracDigits += 1
                digits += 1
                i += 1
            }
        }
        guard digits > 0 else { return nil }
        if i < r.upperBound {
            // Exponent or other text: go through Double (still exact enough for two decimals of sane inputs).
            guard let d = double(s) else { return nil }
            let scaled = (d * 100).rounded(.toNearestOrAwayFromZero)
            guard abs(scaled) < 9.2e18 else { return nil }
            return Int64(scaled)
        }
        while fracDigits < 2 {
            frac *= 10
            fracDigits += 1
        }
        var v = whole * 100 + frac + (roundUp ? 1 : 0)
        if negative { v = -v }
        return v
    }

    /// A floating-point number (also `inf`, `-inf`, `nan`, case-insensitive).
    public static func double(_ s: UnsafeRawBufferPointer) -> Double? {
        let r = trimmed(s)
        guard !r.isEmpty else { return nil }
        let text = String(decoding: UnsafeRawBufferPointer(rebasing: s[r]), as: UTF8.self)
        switch text.lowercased() {
        case "inf", "+inf", "infinity", "+infinity": return .infinity
        case "-inf", "-infinity": return -.infinity
        case "nan": return .nan
        default: break
        }
        // Swift's parser accepts hex floats and more; require a plain decimal spelling.
        guard text.utf8.allSatisfy({ ($0 >= 48 && $0 <= 57) || $0 == 46 || $0 == 45 || $0 == 43 || $0 == 101 || $0 == 69 }) else { return nil }
        return Double(text)
    }

    /// `true/false/t/f/yes/no/1/0` (case-insensitive).
    public static func boolean(_ s: UnsafeRawBufferPointer) -> Bool? {
        let r = trimmed(s)
        let text = String(decoding: UnsafeRawBufferPointer(rebasing: s[r]), as: UTF8.self).lowercased()
        switch text {
        case "true", "t", "yes", "y", "1", "on": return true
        case "false", "f", "no", "n", "0", "off": return false
        default: return nil
        }
    }

    /// `YYYY-MM-DD[ (BC)][( |T)HH:MM[:SS[.ffffff]]][Z|±HH[:MM]]` as µs since the epoch, UTC (an offset is applied).
    /// Years before 1 AD are written as DuckDB prints them, `0044-03-15 (BC)` (year 1 BC is year 0 of the proleptic
    /// calendar), or with a minus sign as astronomical years (`-0044-03-15` is 45 BC).
    public static func timestamp(_ s: UnsafeRawBufferPointer) -> Int64? {
        let r = trimmed(s)
        var i = r.lowerBound
        let end = r.upperBound
        func number(_ minDigits: Int, _ maxDigits: Int) -> Int? {
            var v = 0
            var n = 0
            while i < end, n < maxDigits, s[i] &- 48 < 10 {
                v = v * 10 + Int(s[i] &- 48)
                n += 1
                i += 1
            }
            return n >= minDigits ? v : nil
        }
        func expect(_ c: UInt8) -> Bool {
            guard i < end, s[i] == c else { return false }
            i += 1
            return true
        }
        let negative = expect(UInt8(ascii: "-"))
        guard var year = number(4, 6), expect(UInt8(ascii: "-")), let month = number(1, 2), expect(UInt8(ascii: "-")),
            let day = number(1, 2), (1...12).contains(month), day >= 1
        else { return nil }
        if negative { year = -year }
        if end - i >= 5 && s[i] == UInt8(ascii: " ") && s[i + 1] == UInt8(ascii: "(") && s[i + 2] | 0x20 == UInt8(ascii: "b")
            && s[i + 3] | 0x20 == UInt8(ascii: "c") && s[i + 4] == UInt8(ascii: ")") {
            guard !negative, year >= 1 else { return nil }
            year = 1 - year
            i += 5
        }
        guard day <= daysIn(month: month, year: year) else { return nil }
        var hour = 0
        var minute = 0
        var second = 0
        var micro = 0
        if i < end && (s[i] == UInt8(ascii: " ") || s[i] == UInt8(ascii: "T")) {
            i += 1
            guard let h = number(1, 2), expect(UInt8(ascii: ":")), let m = number(2, 2) else { return nil }
            hour = h
            minute = m
            if expect(UInt8(ascii: ":")) {
                guard let sec = number(2, 2) else { return nil }
                second = sec
                if expect(UInt8(ascii: ".")) {
                    var digits = 0
                    while i < end, s[i] &- 48 < 10 {
                        if digits < 6 { micro = micro * 10 + Int(s[i] &- 48) }
                        digits += 1
                        i += 1
                    }
                    guard digits > 0 else { return nil }
                    for _ in min(digits, 6)..<6 { micro *= 10 }
                }
            }
            guard hour < 24 || (hour == 24 && minute == 0 && second == 0 && micro == 0), minute < 60, second < 60 else { return nil }
        }
        var offset = 0
        if i < end && (s[i] == UInt8(ascii: "Z") || s[i] == UInt8(ascii: "z")) {
            i += 1
        } else if i < end && (s[i] == UInt8(ascii: "+") || s[i] == UInt8(ascii: "-")) {
            let sign = s[i] == UInt8(ascii: "-") ? -1 : 1
            i += 1
            guard let oh = number(2, 2) else { return nil }
            var om = 0
            if expect(UInt8(ascii: ":")) {
                guard let m = number(2, 2) else { return nil }
                om = m
            } else if let m = number(2, 2) {
                om = m
            }
            offset = sign * (oh * 60 + om) * 60
        }
        guard i == end else { return nil }
        return Timestamp.micros(year: year, month: month, day: day, hour: hour, minute: minute, second: second, micro: micro)
            - Int64(offset) * Timestamp.microsPerSecond
    }

    /// A DATE as DuckDB casts text to one: `YYYY-MM-DD`, optionally followed by a time, which is dropped (days
    /// since the epoch; `nil` when malformed or beyond DATE's range).
    public static func date(_ s: UnsafeRawBufferPointer) -> Int32? {
        // The whole text must be a valid timestamp; the day is its date part's, whatever offset follows.
        guard timestamp(s) != nil else { return nil }
        let r = trimmed(s)
        var end = r.lowerBound
        while end < r.upperBound, s[end] != UInt8(ascii: " "), s[end] != UInt8(ascii: "T") { end += 1 }
        if r.upperBound - end >= 5 && s[end + 1] == UInt8(ascii: "(") { end += 5 }  // ` (BC)`, checked by timestamp()
        guard let us = timestamp(UnsafeRawBufferPointer(rebasing: s[r.lowerBound..<end])) else { return nil }
        return Int32(exactly: Timestamp.day(ofMicros: us))
    }

    public static func daysIn(month: Int, year: Int) -> Int {
        switch month {
        case 2: return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28  // also for years ≤ 0
        case 4, 6, 9, 11: return 30
        default: return 31
        }
    }

    /// Convenience over a `String`.
    public static func parse<T>(_ s: String, _ f: (UnsafeRawBufferPointer) -> T?) -> T? {
        var copy = s
        return copy.withUTF8 { f(UnsafeRawBufferPointer($0)) }
    }
}
