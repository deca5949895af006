import SeamColumnar
import SeamSQL

/// date_trunc, date_part (and extract, year(), …), date_diff, now, epoch_ms, strftime, and `ts ± INTERVAL`.
enum TimeFunctions {
    static let day = Timestamp.microsPerDay
    static let hour: Int64 = 3_600_000_000
    static let minute: Int64 = 60_000_000
    static let second: Int64 = 1_000_000

    @inline(__always)
    static func floorDiv(_ a: Int64, _ b: Int64) -> Int64 {
        let q = a / b
        return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q
    }

    static func call(_ f: ScalarFunction, _ args: [ColumnVector], _ n: Int, now: Int64) throws -> ColumnVector {
        switch f {
        case .now:
            return Vectors.constant(.timestamp(now), .timestamp, n)
        case .epochMs:
            let v = args[0]
            let p = Vectors.pointer(v, Int64.self)
            if v.type == .timestamp {
                return Vectors.make(.bigint, n, validity: v.validity) { (o: UnsafeMutablePointer<Int64>) in for i in 0..<n { o[i] = floorDiv(p[i], 1000) } }
            }
            return Vectors.make(.timestamp, n, validity: v.validity) { (o: UnsafeMutablePointer<Int64>) in for i in 0..<n { o[i] = p[i] &* 1000 } }
        case .dateTrunc:
            let part = DatePart(rawValue: args[0].value(at: 0).description)!.canonical
            let v = args[1]
            let p = Vectors.pointer(v, Int64.self)
            return try Vectors.make(.timestamp, n, validity: v.validity) { (o: UnsafeMutablePointer<Int64>) in
                // Fixed-length units: one loop per unit, so the divisor is a constant the compiler turns into a multiply.
                @inline(__always) func floor(_ unit: Int64) { for i in 0..<n { o[i] = floorDiv(p[i], unit) &* unit } }
                switch part {
                case .second: floor(1_000_000)
                case .minute: floor(60_000_000)
                case .hour: floor(3_600_000_000)
                case .day: floor(86_400_000_000)
                default: for i in 0..<n { o[i] = try trunc(part, p[i]) }
                }
            }
        case .datePart:
            let part = DatePart(rawValue: args[0].value(at: 0).description)!.canonical
            let v = args[1]
            let p = Vectors.pointer(v, Int64.self)
            if part == .epoch {
                return Vectors.make(.double, n, validity: v.validity) { (o: UnsafeMutablePointer<Double>) in
                    for i in 0..<n { o[i] = Double(p[i]) / 1e6 }
                }
            }
            if v.type == .interval {
                return Vectors.make(.bigint, n, validity: v.validity) { (o: UnsafeMutablePointer<Int64>) in
                    for i in 0..<n { o[i] = intervalPart(part, p[i]) }
                }
            }
            return try Vectors.make(.bigint, n, validity: v.validity) { (o: UnsafeMutablePointer<Int64>) in
                for i in 0..<n { o[i] = try extract(part, p[i]) }
            }
        case .dateDiff:
            let part = DatePart(rawValue: args[0].value(at: 0).description)!.canonical
            let a = Vectors.pointer(args[1], Int64.self)
            let b = Vectors.pointer(args[2], Int64.self)
            return try Vectors.make(.bigint, n, validity: Vectors.validityAnd([args[1], args[2]], n)) { (o: UnsafeMutablePointer<Int64>) in
                for i in 0..<n { o[i] = try diff(part, a[i], b[i]) }
            }
        case .strftime:
            let fmt = args[1].value(at: 0).description
            var b = ColumnBuilder(.varchar, capacity: n)
            let v = args[0]
            for i in 0..<n {
                if v.isNull(i) { b.appendNull() } else { b.append(string: try strftime(Vectors.pointer(v, Int64.self)[i], fmt)) }
            }
            return b.finish()
        default:
            throw SQLError(.runtime, "internal: \(f.rawValue) is not a time function")
        }
    }

    /// A part of an INTERVAL (µs): whole days, then hours, minutes, seconds … of the rest, each toward zero as DuckDB
    /// splits a `ts - ts` interval; months and years are 0 (the binder admits only these parts).
    static func intervalPart(_ part: DatePart, _ v: Int64) -> Int64 {
        let rest = v % day
        switch part {
        case .day: return v / day
        case .hour: return rest / hour
        case .minute: return rest / minute % 60
        case .second: return rest / second % 60
        case .millisecond: return rest % minute / 1000
        case .microsecond: return rest % minute
        default: return 0
        }
    }

    static func trunc(_ part: DatePart, _ t: Int64) throws -> Int64 {
        switch part {
        case .microsecond: return t
        case .millisecond: return floorDiv(t, 1000) * 1000
        case .second: return floorDiv(t, second) * second
        case .minute: return floorDiv(t, minute) * minute
        case .hour: return floorDiv(t, hour) * hour
        case .day: return floorDiv(t, day) * day
        case .week:
            // ISO weeks start on Monday; 1970-01-01 was a Thursday.
            let d = floorDiv(t, day)
            let dow = ((d + 3) % 7 + 7) % 7
            return (d - dow) * day
        case .month, .quarter, .year, .decade, .century:
            let p = Timestamp.parts(t)
            var m = p.month
            var y = p.year
            switch part {
            case .month: break
            case .quarter: m = (m - 1) / 3 * 3 + 1
            case .year: m = 1
            case .decade:
                m = 1
                y = Int(floorDiv(Int64(y), 10) * 10)
            default:
                m = 1
                y = y > 0 ? (y - 1) / 100 * 100 + 1 : y
            }
            return Timestamp.micros(year: y, month: m, day: 1)
        default:
            throw SQLError(.runtime, "date_trunc does not support '\(part.rawValue)'")
        }
    }

    static func extract(_ part: DatePart, _ t: Int64) throws -> Int64 {
        let p = Timestamp.parts(t)
        switch part {
        case .year: return Int64(p.year)
        case .month: return Int64(p.month)
        case .day: return Int64(p.day)
        case .hour: return Int64(p.hour)
        case .minute: return Int64(p.minute)
        case .second: return Int64(p.second)
        case .millisecond: return Int64(p.second) * 1000 + Int64(p.micro / 1000)
        case .microsecond: return Int64(p.second) * 1_000_000 + Int64(p.micro)
        case .quarter: return Int64((p.month - 1) / 3 + 1)
        case .decade: return floorDiv(Int64(p.year), 10)
        case .century: return p.year > 0 ? Int64((p.year - 1) / 100 + 1) : Int64(p.year / 100 - 1)
        case .dayofweek:
            let d = floorDiv(t, day)
            return ((d + 4) % 7 + 7) % 7
        case .isodow:
            let d = floorDiv(t, day)
            return ((d + 3) % 7 + 7) % 7 + 1
        case .dayofyear:
            return floorDiv(t, day) - Timestamp.days(year: p.year, month: 1, day: 1) + 1
        case .week:
            return Int64(isoWeek(t))
        default:
            throw SQLError(.runtime, "date_part does not support '\(part.rawValue)'")
        }
    }

    /// ISO 8601 week number (weeks start on Monday; week 1 holds the year's first Thursday).
    static func isoWeek(_ t: Int64) -> Int {
        let d = floorDiv(t, day)
        let dow = ((d + 3) % 7 + 7) % 7  // 0 = Monday
        let thursday = d - dow + 3
        let y = Timestamp.civil(days: thursday).year
        let jan1 = Timestamp.days(year: y, month: 1, day: 1)
        return Int((thursday - jan1) / 7 + 1)
    }

    /// DuckDB's date_diff: the number of `part` boundaries between `a` and `b` (weeks: whole 7-day spans).
    static func diff(_ part: DatePart, _ a: Int64, _ b: Int64) throws -> Int64 {
        switch part {
        case .microsecond: return b - a
        case .millisecond: return floorDiv(b, 1000) - floorDiv(a, 1000)
        case .second: return floorDiv(b, second) - floorDiv(a, second)
        case .minute: return floorDiv(b, minute) - floorDiv(a, minute)
        case .hour: return floorDiv(b, hour) - floorDiv(a, hour)
        case .day: return floorDiv(b, day) - floorDiv(a, day)
        case .week: return (floorDiv(b, day) - floorDiv(a, day)) / 7
        case .month, .quarter, .year, .decade, .century:
            let pa = Timestamp.parts(a)
            let pb = Timestamp.parts(b)
            let months = Int64(pb.year * 12 + pb.month) - Int64(pa.year * 12 + pa.month)
            switch part {
            case .month: return months
            case .quarter: return Int64(pb.year * 4 + (pb.month - 1) / 3) - Int64(pa.year * 4 + (pa.month - 1) / 3)
            case .year: return Int64(pb.year - pa.year)
            case .decade: return floorDiv(Int64(pb.year), 10) - floorDiv(Int64(pa.year), 10)
            default: return Int64(pb.year / 100 - pa.year / 100)
            }
        default:
            throw SQLError(.runtime, "date_diff does not support '\(part.rawValue)'")
        }
    }

    /// `ts + months + micros`: months move the calendar date (clamped to the month's last day), then micros.
    /// A result past the timestamp range is an error, on rows that are not NULL.
    static func addInterval(_ v: ColumnVector, months: Int64, micros: Int64) throws -> ColumnVector {
        let n = v.count
        let p = Vectors.pointer(v, Int64.self)
        let validity = Vectors.validity(v)
        var outOfRange = false
        let out = Vectors.make(.timestamp, n, validity: v.validity) { (o: UnsafeMutablePointer<Int64>) in
            for i in 0..<n {
                var (moved, overflow) = months == 0 ? (p[i], false) : addMonths(p[i], months)
                let (sum, o2) = moved.addingReportingOverflow(micros)
                moved = sum
                o[i] = moved
                if (overflow || o2) && Vectors.isValid(validity, i) { outOfRange = true }
            }
        }
        if outOfRange { throw SQLError(.runtime, "Out of Range Error: a timestamp plus the INTERVAL is out of range") }
        return out
    }

    /// `t` moved by `months` on the calendar, the day clamped to the new month's last day, the time of day kept;
    /// past the timestamp range, the nearest end of it and `overflow`.
    static func addMonths(_ t: Int64, _ months: Int64) -> (value: Int64, overflow: Bool) {
        let d = floorDiv(t, day)
        let timeOfDay = t - d * day
        let c = Timestamp.civil(days: d)
        let total = Int64(c.year) * 12 + Int64(c.month - 1) + months
        let y = Int(floorDiv(total, 12))
        let m = Int(total - Int64(y) * 12) + 1
        let dd = min(c.day, ValueParsing.daysIn(month: m, year: y))
        let (scaled, o1) = Int64(Timestamp.days(year: y, month: m, day: dd)).multipliedReportingOverflow(by: day)
        let (moved, o2) = scaled.addingReportingOverflow(timeOfDay)
        if o1 || o2 { return (months > 0 ? .max : .min, true) }
        return (moved, false)
    }

    static let dayNames = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"]
    static let monthNames = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"]

    static func strftime(_ t: Int64, _ fmt: String) throws -> String {
        let p = Timestamp.parts(t)
        let pad = Timestamp.zeroPad
        var out = ""
        var it = fmt.makeIterator()
        while let c = it.next() {
            guard c == "%" else {
                out.append(c)
                continue
            }
            guard let k = it.next() else { throw SQLError(.runtime, "strftime format ends with '%'") }
            switch k {
            case "Y": out += String(p.year)
            case "y": out += pad(p.year % 100, 2)
            case "m": out += pad(p.month, 2)
            case "d": out += pad(p.day, 2)
            case "H": out += pad(p.hour, 2)
            case "I": out += pad(p.hour % 12 == 0 ? 12 : p.hour % 12, 2)
            case "p": out += p.hour < 12 ? "AM" : "PM"
            case "M": out += pad(p.minute, 2)
            case "S": out += pad(p.second, 2)
            case "f": out += pad(p.micro, 6)
            case "j": out += pad(Int(floorDiv(t, day) - Timestamp.days(year: p.year, month: 1, day: 1) + 1), 3)
            case "a": out += String(dayNames[Int(((floorDiv(t, day) + 4) % 7 + 7) % 7)].prefix(3))
            case "A": out += dayNames[Int(((floorDiv(t, day) + 4) % 7 + 7) % 7)]
            case "b": out += String(monthNames[p.month - 1].prefix(3))
            case "B": out += monthNames[p.month - 1]
            case "%": out += "%"
            default: throw SQLError(.runtime, "Invalid Input Error: Unrecognized format for strftime: %\(k)")
            }
        }
        return out
    }
}
