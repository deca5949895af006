/// Exact decimal text to minor units (hundredths): no floating point between the export and the store.
public enum Money {
    public enum Outcome: Equatable, Sendable {
        case exact(Int64)
        /// More than two decimals: rounded half to even, as accounting does.
        case rounded(Int64)
        case invalid
    }

    /// Parses `12.99`, `-3`, `1 234,50` (with `decimal: ","` and `thousands: " "`), `1.5e2`.
    public static func parse(_ s: UnsafeRawBufferPointer, decimal: UInt8 = UInt8(ascii: "."), thousands: UInt8? = nil) -> Outcome {
        var i = 0
        let n = s.count
        while i < n && s[i] == 0x20 { i += 1 }
        var end = n
        while end > i && s[end - 1] == 0x20 { end -= 1 }
        guard i < end else { return .invalid }
        var negative = false
        if s[i] == UInt8(ascii: "-") || s[i] == UInt8(ascii: "+") {
            negative = s[i] == UInt8(ascii: "-")
            i += 1
        }
        var mantissa: Int64 = 0
        var scale = 0  // digits after the decimal separator
        var digits = 0
        var seenPoint = false
        var overflow = false
        while i < end {
            let c = s[i]
            if c &- 48 < 10 {
                let (m1, o1) = mantissa.multipliedReportingOverflow(by: 10)
                let (m2, o2) = m1.addingReportingOverflow(Int64(c &- 48))
                overflow = overflow || o1 || o2
                mantissa = m2
                digits += 1
                if seenPoint { scale += 1 }
            } else if c == decimal && !seenPoint {
                seenPoint = true
            } else if let t = thousands, c == t, !seenPoint {
                // grouping separator: ignored
            } else if c == UInt8(ascii: "e") || c == UInt8(ascii: "E") {
                break
            } else {
                return .invalid
            }
            i += 1
        }
        guard digits > 0, !overflow else { return .invalid }
        if i < end {  // exponent
            i += 1
            var eneg = false
            if i < end && (s[i] == UInt8(ascii: "-") || s[i] == UInt8(ascii: "+")) {
                eneg = s[i] == UInt8(ascii: "-")
                i += 1
            }
            var e = 0
            guard i < end else { return .invalid }
            while i < end {
                guard s[i] &- 48 < 10, e < 100 else { return .invalid }
                e = e * 10 + Int(s[i] &- 48)
                i += 1
            }
            scale += eneg ? e : -e
        }
        // value = mantissa × 10^-scale; we want value × 100.
        var shift = 2 - scale
        var v = mantissa
        var rounded = false
        while shift > 0 {
            let (m, o) = v.multipliedReportingOverflow(by: 10)
            if o { return .invalid }
            v = m
            shift -= 1
        }
        if shift < 0 {
            var dropped: Int64 = 0, divisor: Int64 = 1
            while shift < 0 {
                if divisor > Int64.max / 10 { return .invalid }
                divisor *= 10
                shift += 1
            }
            dropped = v % divisor
            v /= divisor
            if dropped != 0 {
                rounded = true
                let half = divisor / 2
                if dropped > half || (dropped == half && v % 2 == 1) { v += 1 }
            }
        }
        if negative { v = -v }
        return rounded ? .rounded(v) : .exact(v)
    }

    public static func parse(_ s: String, decimal: UInt8 = UInt8(ascii: "."), thousands: UInt8? = nil) -> Outcome {
        var s = s
        return s.withUTF8 { parse(UnsafeRawBufferPointer($0), decimal: decimal, thousands: thousands) }
    }
}
