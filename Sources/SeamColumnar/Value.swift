/// One value of any logical type; used at the edges (literals, row-wise building, tests), never in kernels.
public enum Value: Sendable, Hashable, CustomStringConvertible {
    case null
    case boolean(Bool)
    case integer(Int32)
    case bigint(Int64)
    case double(Double)
    /// Minor units (hundredths) of a DECIMAL(18,2).
    case decimal(Int64)
    /// Microseconds since 1970-01-01 UTC.
    case timestamp(Int64)
    /// Days since 1970-01-01.
    case date(Int32)
    case varchar(String)
    /// Microseconds (see ``Interval``).
    case interval(Int64)

    public var isNull: Bool { if case .null = self { return true } else { return false } }

    /// The logical type of the value; `nil` for NULL, which has every type.
    public var logicalType: LogicalType? {
        switch self {
        case .null: return nil
        case .boolean: return .boolean
        case .integer: return .integer
        case .bigint: return .bigint
        case .double: return .double
        case .decimal: return .decimal
        case .timestamp: return .timestamp
        case .date: return .date
        case .varchar: return .varchar
        case .interval: return .interval
        }
    }

    public var description: String {
        switch self {
        case .null: return "NULL"
        case .boolean(let b): return b ? "true" : "false"
        case .integer(let v): return String(v)
        case .bigint(let v): return String(v)
        case .double(let v): return String(v)
        case .decimal(let v): return Decimal2.format(v)
        case .timestamp(let v): return Timestamp.format(v)
        case .date(let v): return Timestamp.formatDate(v)
        case .varchar(let s): return s
        case .interval(let v): return Interval.format(v)
        }
    }
}

/// INTERVAL values: exact durations in microseconds, with days of 24 hours and months of 30 days, the lengths DuckDB
/// compares intervals by (`INTERVAL 1 MONTH = INTERVAL 30 DAY` is true there). DuckDB keeps months, days and
/// microseconds apart; one count of microseconds holds every interval a query computes from timestamps
/// (`ts - ts`, which DuckDB also splits into days and a time of day), and compares, sorts and adds as one integer.
/// Calendar months stay literals added to timestamps (`ts + INTERVAL 1 MONTH`), never values.
public enum Interval {
    public static let microsPerDay: Int64 = 86_400_000_000

    /// As DuckDB prints a `ts - ts` interval: whole days, then the rest as a time (`1 day`, `60 days 10:00:00`,
    /// `-1 day -00:00:01`, `00:00:00.5`, `00:00:00` for zero).
    public static func format(_ micros: Int64) -> String {
        let days = micros / microsPerDay  // toward zero, as the time part keeps the sign
        let rest = micros % microsPerDay
        var parts: [String] = []
        if days != 0 { parts.append("\(days) day\(days.magnitude == 1 ? "" : "s")") }
        if rest != 0 || days == 0 {
            let m = Int(rest.magnitude)
            let seconds = m / 1_000_000, fraction = m % 1_000_000
            let pad = Timestamp.zeroPad
            var time = (rest < 0 ? "-" : "") + pad(seconds / 3600, 2) + ":" + pad(seconds / 60 % 60, 2) + ":" + pad(seconds % 60, 2)
            if fraction != 0 {
                var digits = pad(fraction, 6)
                while digits.hasSuffix("0") { digits.removeLast() }
                time += "." + digits
            }
            parts.append(time)
        }
        return parts.joined(separator: " ")
    }
}

/// Formatting of DECIMAL(18,2) minor units.
public enum Decimal2 {
    /// `12345` → `"123.45"`, `-5` → `"-0.05"`.
    public static func format(_ minor: Int64) -> String {
        var out: [UInt8] = []
        append(minor, to: &out)
        return String(decoding: out, as: UTF8.self)
    }

    /// Appends ``format(_:)``'s text as UTF-8.
    @inlinable
    public static func append<Output: ByteOutput>(_ minor: Int64, to out: inout Output) {
        if minor < 0 { out.append(0x2D) }
        let magnitude = minor.magnitude
        DecimalText.append(magnitude / 100, to: &out)
        out.append(0x2E)
        DecimalText.append(magnitude % 100, width: 2, to: &out)
    }
}

/// Civil-time arithmetic for TIMESTAMP (µs since the Unix epoch, UTC). Proleptic Gregorian calendar.
public enum Timestamp {
    public static let microsPerSecond: Int64 = 1_000_000
    public static let microsPerDay: Int64 = 86_400_000_000

    /// Days since 1970-01-01 for a civil date (Howard Hinnant's days_from_civil algorithm).
    public static func days(year: Int, month: Int, day: Int) -> Int64 {
        let y = Int64(month <= 2 ? year - 1 : year)
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let m = Int64(month)
        let doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + Int64(day) - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }

    /// The civil date of a day number.
    public static func civil(days z0: Int64) -> (year: Int, month: Int, day: Int) {
        let z = z0 + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365
        let y = yoe + era * 400
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        return (Int(m <= 2 ? y + 1 : y), Int(m), Int(d))
    }

    /// Microseconds for a UTC civil time.
    public static func micros(
        year: Int, month: Int, day: Int, hour: Int = 0, minute: Int = 0, second: Int = 0, micro: Int = 0
    ) -> Int64 {
        let d = days(year: year, month: month, day: day)
        return d * microsPerDay + Int64(hour * 3600 + minute * 60 + second) * microsPerSecond + Int64(micro)
    }

    /// Splits microseconds into civil parts.
    public static func parts(_ micros: Int64) -> (
        year: Int, month: Int, day: Int, hour: Int, minute: Int, second: Int, micro: Int
    ) {
        var d = micros / microsPerDay
        var rem = micros % microsPerDay
        if rem < 0 {
            rem += microsPerDay
            d -= 1
        }
        let (y, m, dd) = civil(days: d)
        let secs = rem / microsPerSecond
        return (y, m, dd, Int(secs / 3600), Int(secs / 60 % 60), Int(secs % 60), Int(rem % microsPerSecond))
    }

    /// `v` in decimal, left-padded with zeros to `width` digits (`zeroPad(7, 2)` → `07`).
    public static func zeroPad(_ v: Int, _ width: Int) -> String {
        let s = String(v)
        return s.count >= width ? s : String(repeating: "0", count: width - s.count) + s
    }

    /// Formats a DATE (days since the epoch) as DuckDB prints it: `2024-03-01`; years before 1 as `0045-03-15 (BC)`.
    public static func formatDate(_ days: Int32) -> String {
        text(capacity: 16) { appendDate(days, to: &$0) }
    }

    /// A String of the UTF-8 bytes `fill` appends (the String forms of the `append` functions here).
    static func text(capacity: Int, _ fill: (inout [UInt8]) -> Void) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(capacity)
        fill(&out)
        return String(decoding: out, as: UTF8.self)
    }

    /// Appends ``formatDate(_:)``'s text as UTF-8 (exports write one per row).
    @inlinable
    public static func appendDate<Output: ByteOutput>(_ days: Int32, to out: inout Output) {
        appendDay(Int64(days), to: &out)
    }

    /// A day's civil date as DATE and TIMESTAMP text begin: `2024-03-01`, or `0044-03-15 (BC)`.
    @inlinable
    static func appendDay<Output: ByteOutput>(_ days: Int64, to out: inout Output) {
        let (y, m, d) = civil(days: days)
        appendPadded(y > 0 ? y : 1 - y, 4, to: &out)
        out.append(0x2D)
        appendPadded(m, 2, to: &out)
        out.append(0x2D)
        appendPadded(d, 2, to: &out)
        if y <= 0 { out.append(" (BC)") }
    }

    /// The day of a timestamp (floor, so times before the epoch fall on the day they are in).
    @inline(__always)
    public static func day(ofMicros us: Int64) -> Int64 {
        let d = us / microsPerDay
        return us % microsPerDay < 0 ? d - 1 : d
    }

    /// Formats as DuckDB prints a TIMESTAMP: `2024-03-01 12:30:00` or `2024-03-01 12:30:00.123456`; before 1 AD
    /// `0044-03-15 (BC) 10:00:00`.
    public static func format(_ micros: Int64) -> String {
        text(capacity: 32) { append(micros, to: &$0) }
    }

    /// Appends ``format(_:)``'s text as UTF-8, for exports that write bytes (a String built of padded pieces per
    /// timestamp took a third of a 1.69M-row CSV export).
    @inlinable
    public static func append<Output: ByteOutput>(_ micros: Int64, to out: inout Output) {
        let d = Self.day(ofMicros: micros)
        let rem = micros &- d &* microsPerDay
        appendDay(d, to: &out)
        out.append(0x20)
        let secs = Int(rem / microsPerSecond)
        appendPadded(secs / 3600, 2, to: &out)
        out.append(0x3A)
        appendPadded(secs / 60 % 60, 2, to: &out)
        out.append(0x3A)
        appendPadded(secs % 60, 2, to: &out)
        if rem % microsPerSecond != 0 {
            var micro = Int(rem % microsPerSecond), digits = 6
            while micro % 10 == 0 {
                micro /= 10
                digits -= 1
            }
            out.append(0x2E)
            appendPadded(micro, digits, to: &out)
        }
    }

    @inlinable
    static func appendPadded<Output: ByteOutput>(_ v: Int, _ width: Int, to out: inout Output) {
        DecimalText.append(UInt64(v.magnitude), width: width, to: &out)
    }

    /// Formats as ISO 8601 UTC with milliseconds: `2024-03-01T12:30:00.123Z` (Segment's spelling).
    public static func iso8601(_ micros: Int64) -> String {
        let p = parts(micros)
        let pad = zeroPad
        return pad(p.year, 4) + "-" + pad(p.month, 2) + "-" + pad(p.day, 2) + "T" + pad(p.hour, 2) + ":"
            + pad(p.minute, 2) + ":" + pad(p.second, 2) + "." + pad(p.micro / 1000, 3) + "Z"
    }
}

/// Integers as decimal digits written straight into a byte array (exports write millions of them).
public enum DecimalText {
    /// `v` in decimal, left-padded with zeros to `width` digits.
    @inlinable
    public static func append<Output: ByteOutput>(_ v: UInt64, width: Int = 1, to out: inout Output) {
        var digits: (UInt64, UInt64, UInt64) = (0, 0, 0)  // room for 24 digits: UInt64.max has 20
        withUnsafeMutableBytes(of: &digits) { buf in
            var m = v, n = 0
            repeat {
                buf[23 - n] = UInt8(truncatingIfNeeded: m % 10) &+ 0x30
                m /= 10
                n += 1
            } while m > 0
            while n < width && n < 24 {
                buf[23 - n] = 0x30
                n += 1
            }
            out.append(bytes: UnsafeRawBufferPointer(rebasing: buf[(24 - n)...]))
        }
    }

    /// `v` in decimal, with a minus sign when negative.
    @inlinable
    public static func append<Output: ByteOutput>(signed v: Int64, to out: inout Output) {
        if v < 0 { out.append(0x2D) }
        append(v.magnitude, to: &out)
    }
}
