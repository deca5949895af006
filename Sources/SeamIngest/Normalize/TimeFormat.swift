public import Foundation
import SeamColumnar

/// A date-time layout from a mapping file, compiled once and applied to bytes without allocating.
///
/// `iso8601` accepts `YYYY-MM-DD[T ]HH:MM[:SS[.fff…]][Z|±HH:MM|±HHMM]`. Otherwise the pattern is a strftime-like
/// string: `%Y %m %d %H %M %S` (numbers; `%m %d %H %M` take one or two digits), `%f` (an optional fraction after
/// the seconds), `%z` (`Z` or an offset), `%p` (AM/PM) and literal characters. A time without an offset is read in
/// the mapping's time zone.
public struct TimeFormat: Sendable {
    enum Token: Sendable, Equatable { case year, month, day, hour, minute, second, fraction, offset, ampm, literal(UInt8) }
    let tokens: [Token]
    let iso: Bool
    public let pattern: String

    public init(_ pattern: String) throws(IngestError) {
        self.pattern = pattern
        if pattern.lowercased() == "iso8601" {
            iso = true
            tokens = []
            return
        }
        iso = false
        var out: [Token] = []
        var it = Array(pattern.utf8).makeIterator()
        while let c = it.next() {
            guard c == UInt8(ascii: "%") else {
                out.append(.literal(c))
                continue
            }
            switch it.next() {
            case UInt8(ascii: "Y"): out.append(.year)
            case UInt8(ascii: "m"): out.append(.month)
            case UInt8(ascii: "d"): out.append(.day)
            case UInt8(ascii: "H"): out.append(.hour)
            case UInt8(ascii: "M"): out.append(.minute)
            case UInt8(ascii: "S"): out.append(.second)
            case UInt8(ascii: "f"): out.append(.fraction)
            case UInt8(ascii: "z"): out.append(.offset)
            case UInt8(ascii: "p"): out.append(.ampm)
            case UInt8(ascii: "%"): out.append(.literal(UInt8(ascii: "%")))
            default: throw IngestError("unknown directive in date format '\(pattern)' (known: %Y %m %d %H %M %S %f %z %p)")
            }
        }
        tokens = out
    }

    /// Civil fields read from text, before the zone is applied.
    struct Fields: Equatable {
        var year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0, micro = 0
        var offsetSeconds: Int?
    }

    /// UTC microseconds, or nil when the text does not match or names an impossible time (Feb 30, 25:61).
    public func parse(_ s: UnsafeRawBufferPointer, zone: TimeZoneRule) -> Int64? {
        guard let f = iso ? Self.parseISO(s) : parsePattern(s) else { return nil }
        guard f.month >= 1, f.month <= 12, f.day >= 1, f.day <= Self.daysIn(f.year, f.month),
            f.hour <= 23, f.minute <= 59, f.second <= 60
        else { return nil }
        let local = Timestamp.micros(
            year: f.year, month: f.month, day: f.day, hour: f.hour, minute: f.minute, second: min(f.second, 59), micro: f.micro)
        if let off = f.offsetSeconds { return local - Int64(off) * Timestamp.microsPerSecond }
        return zone.utc(fromLocal: local)
    }

    public func parse(_ s: String, zone: TimeZoneRule = .utc) -> Int64? {
        var s = s
        return s.withUTF8 { parse(UnsafeRawBufferPointer($0), zone: zone) }
    }

    static func daysIn(_ y: Int, _ m: Int) -> Int {
        switch m {
        case 2: return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: return 30
        default: return 31
        }
    }

    /// Reads `count` digits (or 1...count when `flexible`) at `i`.
    @inline(__always)
    static func digits(_ s: UnsafeRawBufferPointer, _ i: inout Int, _ count: Int, flexible: Bool = false) -> Int? {
        var v = 0, k = 0
        while k < count, i < s.count, s[i] &- 48 < 10 {
            v = v * 10 + Int(s[i] &- 48)
            i += 1
            k += 1
        }
        if k == count || (flexible && k > 0) { return v }
        return nil
    }

    static func fraction(_ s: UnsafeRawBufferPointer, _ i: inout Int) -> Int {
        var micro = 0, k = 0
        while i < s.count, s[i] &- 48 < 10 {
            if k < 6 { micro = micro * 10 + Int(s[i] &- 48) }
            k += 1
            i += 1
        }
        while k < 6 {
            micro *= 10
            k += 1
        }
        return micro
    }

    static func offset(_ s: UnsafeRawBufferPointer, _ i: inout Int) -> Int? {
        guard i < s.count else { return nil }
        if s[i] == UInt8(ascii: "Z") || s[i] == UInt8(ascii: "z") {
            i += 1
            return 0
        }
        guard s[i] == UInt8(ascii: "+") || s[i] == UInt8(ascii: "-") else { return nil }
        let sign = s[i] == UInt8(ascii: "-") ? -1 : 1
        i += 1
        guard let h = digits(s, &i, 2) else { return nil }
        if i < s.count && s[i] == UInt8(ascii: ":") { i += 1 }
        let m = digits(s, &i, 2) ?? 0
        guard h <= 18, m <= 59 else { return nil }
        return sign * (h * 3600 + m * 60)
    }

    static func parseISO(_ s: UnsafeRawBufferPointer) -> Fields? {
        if s.count == 24, let f = parseSegmentTime(s) { return f }
        return parseAnyISO(s)
    }

    /// `YYYY-MM-DDTHH:MM:SS.sssZ`, the form Segment's libraries send every time in, read as three 8-byte words:
    /// the digits and separators checked a word at a time, then the digits taken out. The general reader below spent
    /// about 340 instructions per time (callgrind), 3 % of an ingest; any other text goes to it (same fields for this form).
    @inline(__always)
    static func parseSegmentTime(_ s: UnsafeRawBufferPointer) -> Fields? {
        let zeros: UInt64 = 0x3030_3030_3030_3030, highs: UInt64 = 0xF0F0_F0F0_F0F0_F0F0, sixes: UInt64 = 0x0606_0606_0606_0606
        // Per word: which bytes are digits (0xFF), and the separators' bytes in place (little-endian: byte 0 lowest).
        // "YYYY-MM-" "DDTHH:MM" ":SS.sssZ"
        @inline(__always) func digitsOf(_ w: UInt64, _ digitBytes: UInt64, _ separators: UInt64) -> UInt64? {
            let x = (w ^ zeros) & digitBytes
            guard x & highs == 0, (x &+ sixes) & highs & digitBytes == 0, w & ~digitBytes == separators else { return nil }
            return x
        }
        guard
            let a = digitsOf(s.loadUnaligned(fromByteOffset: 0, as: UInt64.self).littleEndian, 0x00FF_FF00_FFFF_FFFF, 0x2D00_002D_0000_0000),
            let b = digitsOf(s.loadUnaligned(fromByteOffset: 8, as: UInt64.self).littleEndian, 0xFFFF_00FF_FF00_FFFF, 0x0000_3A00_0054_0000),
            let c = digitsOf(s.loadUnaligned(fromByteOffset: 16, as: UInt64.self).littleEndian, 0x00FF_FFFF_00FF_FF00, 0x5A00_0000_2E00_003A)
        else { return nil }
        @inline(__always) func digit(_ w: UInt64, _ k: UInt64) -> Int { Int(truncatingIfNeeded: (w >> (8 * k)) & 0xFF) }
        @inline(__always) func two(_ w: UInt64, _ k: UInt64) -> Int { digit(w, k) * 10 + digit(w, k + 1) }
        var f = Fields()
        f.year = two(a, 0) * 100 + two(a, 2)
        f.month = two(a, 5)
        f.day = two(b, 0)
        f.hour = two(b, 3)
        f.minute = two(b, 6)
        f.second = two(c, 1)
        f.micro = (digit(c, 4) * 100 + two(c, 5)) * 1000
        f.offsetSeconds = 0
        return f
    }

    static func parseAnyISO(_ s: UnsafeRawBufferPointer) -> Fields? {
        var f = Fields()
        var i = 0
        guard let y = digits(s, &i, 4), i < s.count, s[i] == UInt8(ascii: "-") else { return nil }
        i += 1
        guard let mo = digits(s, &i, 2), i < s.count, s[i] == UInt8(ascii: "-") else { return nil }
        i += 1
        guard let d = digits(s, &i, 2) else { return nil }
        (f.year, f.month, f.day) = (y, mo, d)
        if i == s.count { return f }
        guard s[i] == UInt8(ascii: "T") || s[i] == UInt8(ascii: " ") || s[i] == UInt8(ascii: "t") else { return nil }
        i += 1
        guard let h = digits(s, &i, 2), i < s.count, s[i] == UInt8(ascii: ":") else { return nil }
        i += 1
        guard let mi = digits(s, &i, 2) else { return nil }
        (f.hour, f.minute) = (h, mi)
        if i < s.count && s[i] == UInt8(ascii: ":") {
            i += 1
            guard let sec = digits(s, &i, 2) else { return nil }
            f.second = sec
            if i < s.count && (s[i] == UInt8(ascii: ".") || s[i] == UInt8(ascii: ",")) {
                i += 1
                guard i < s.count, s[i] &- 48 < 10 else { return nil }
                f.micro = fraction(s, &i)
            }
        }
        if i < s.count {
            guard let off = offset(s, &i) else { return nil }
            f.offsetSeconds = off
        }
        return i == s.count ? f : nil
    }

    func parsePattern(_ s: UnsafeRawBufferPointer) -> Fields? {
        var f = Fields()
        var i = 0
        var pm: Bool?
        for t in tokens {
            switch t {
            case .year: guard let v = Self.digits(s, &i, 4) else { return nil }; f.year = v
            case .month: guard let v = Self.digits(s, &i, 2, flexible: true) else { return nil }; f.month = v
            case .day: guard let v = Self.digits(s, &i, 2, flexible: true) else { return nil }; f.day = v
            case .hour: guard let v = Self.digits(s, &i, 2, flexible: true) else { return nil }; f.hour = v
            case .minute: guard let v = Self.digits(s, &i, 2) else { return nil }; f.minute = v
            case .second: guard let v = Self.digits(s, &i, 2) else { return nil }; f.second = v
            case .fraction:
                if i < s.count && (s[i] == UInt8(ascii: ".") || s[i] == UInt8(ascii: ",")) {
                    i += 1
                    f.micro = Self.fraction(s, &i)
                }
            case .offset: guard let v = Self.offset(s, &i) else { return nil }; f.offsetSeconds = v
            case .ampm:
                guard i + 2 <= s.count else { return nil }
                let a = s[i] | 0x20, m = s[i + 1] | 0x20
                guard m == UInt8(ascii: "m"), a == UInt8(ascii: "a") || a == UInt8(ascii: "p") else { return nil }
                pm = a == UInt8(ascii: "p")
                i += 2
            case .literal(let c):
                guard i < s.count, s[i] == c else { return nil }
                i += 1
            }
        }
        if let pm {
            guard f.hour >= 1, f.hour <= 12 else { return nil }
            f.hour = f.hour % 12 + (pm ? 12 : 0)
        }
        return i == s.count ? f : nil
    }
}

/// How a local time without an offset becomes UTC: a fixed offset, or an IANA zone with its DST rules.
public enum TimeZoneRule: Sendable {
    case utc
    case fixed(seconds: Int)
    case zone(TimeZone)

    public init(_ name: String) throws(IngestError) {
        if name.uppercased() == "UTC" || name == "Z" {
            self = .utc
            return
        }
        var i = 0
        var s = name
        let off = s.withUTF8 { TimeFormat.offset(UnsafeRawBufferPointer($0), &i) }
        if let off, i == name.utf8.count {
            self = .fixed(seconds: off)
            return
        }
        guard let tz = TimeZone(identifier: name) else {
            throw IngestError("unknown time zone '\(name)' (use UTC, an offset like +01:00, or an IANA name like Europe/Berlin)")
        }
        self = .zone(tz)
    }

    /// UTC µs for a local wall-clock time. In a DST gap or overlap the earlier offset is taken, as most databases do.
    public func utc(fromLocal local: Int64) -> Int64 {
        switch self {
        case .utc: return local
        case .fixed(let s): return local - Int64(s) * Timestamp.microsPerSecond
        case .zone(let tz):
            let localSeconds = Double(local / Timestamp.microsPerSecond)
            var guess = local - Int64(tz.secondsFromGMT(for: Date(timeIntervalSince1970: localSeconds))) * Timestamp.microsPerSecond
            let off = tz.secondsFromGMT(for: Date(timeIntervalSince1970: Double(guess / Timestamp.microsPerSecond)))
            guess = local - Int64(off) * Timestamp.microsPerSecond
            return guess
        }
    }
}
