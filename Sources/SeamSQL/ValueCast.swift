public import SeamColumnar

/// Casts of single values, with DuckDB's rules: used to fold constants while binding. The engine's vector casts
/// agree with these (tested against each other).
public enum ValueCast {
    /// Why a value could not be converted.
    public struct Failure: Error, Sendable {
        public var message: String
    }

    /// `value` as `type`, or the reason it cannot be converted.
    public static func cast(_ value: Value, to type: LogicalType) -> Result<Value, Failure> {
        if value.isNull { return .success(.null) }
        switch (value, type) {
        case (.varchar(let s), _):
            return parse(s, as: type)
        case (_, .varchar):
            return .success(.varchar(text(value)))
        case (.boolean(let b), .boolean): return .success(.boolean(b))
        case (.boolean(let b), _):
            return cast(.integer(b ? 1 : 0), to: type)
        default: break
        }
        // Numeric and time casts.
        switch type {
        case .boolean:
            switch value {
            case .integer(let v): return .success(.boolean(v != 0))
            case .bigint(let v): return .success(.boolean(v != 0))
            case .double(let v): return .success(.boolean(v != 0))
            case .decimal(let v): return .success(.boolean(v != 0))
            default: return .failure(Failure(message: unsupported(value, type)))
            }
        case .integer, .bigint:
            let wide: Int64
            switch value {
            case .integer(let v): wide = Int64(v)
            case .bigint(let v): wide = v
            case .decimal(let v): wide = roundedDivide(v, 100)
            case .double(let d):
                let r = d.rounded(.toNearestOrEven)
                guard r.isFinite, r >= -9.223372036854775e18, r < 9.223372036854775e18 else { return .failure(Failure(message: "value \(d) is out of range for \(type)")) }
                wide = Int64(r)
            default: return .failure(Failure(message: unsupported(value, type)))
            }
            if type == .integer {
                guard let narrow = Int32(exactly: wide) else { return .failure(Failure(message: "value \(wide) is out of range for INTEGER")) }
                return .success(.integer(narrow))
            }
            return .success(.bigint(wide))
        case .double:
            switch value {
            case .integer(let v): return .success(.double(Double(v)))
            case .bigint(let v): return .success(.double(Double(v)))
            case .decimal(let v): return .success(.double(Double(v) / 100))
            case .double(let v): return .success(.double(v))
            default: return .failure(Failure(message: unsupported(value, type)))
            }
        case .decimal:
            switch value {
            case .integer(let v): return .success(.decimal(Int64(v) * 100))
            case .bigint(let v):
                let (m, o) = v.multipliedReportingOverflow(by: 100)
                return o || abs(v) > 9_999_999_999_999_999 ? .failure(Failure(message: "value \(v) is out of range for DECIMAL(18,2)")) : .success(.decimal(m))
            case .decimal(let v): return .success(.decimal(v))
            case .double(let d):
                let r = (d * 100).rounded(.toNearestOrAwayFromZero)
                guard r.isFinite, abs(r) < 1e18 else { return .failure(Failure(message: "value \(d) is out of range for DECIMAL(18,2)")) }
                return .success(.decimal(Int64(r)))
            default: return .failure(Failure(message: unsupported(value, type)))
            }
        case .timestamp:
            if case .timestamp(let v) = value { return .success(.timestamp(v)) }
            if case .date(let d) = value { return .success(.timestamp(Int64(d) * Timestamp.microsPerDay)) }
            return .failure(Failure(message: unsupported(value, type)))
        case .date:
            if case .date(let d) = value { return .success(.date(d)) }
            // Every TIMESTAMP's day fits a DATE (Int64 µs span ±292,000 years).
            if case .timestamp(let v) = value { return .success(.date(Int32(Timestamp.day(ofMicros: v)))) }
            return .failure(Failure(message: unsupported(value, type)))
        case .varchar:
            return .success(.varchar(text(value)))
        case .interval:
            if case .interval(let v) = value { return .success(.interval(v)) }
            return .failure(Failure(message: unsupported(value, type)))
        }
    }

    static func unsupported(_ v: Value, _ t: LogicalType) -> String {
        "cannot cast \(v.logicalType.map(\.description) ?? "NULL") to \(t)"
    }

    /// `a / b` rounded half away from zero (DuckDB's decimal-to-integer rounding).
    public static func roundedDivide(_ a: Int64, _ b: Int64) -> Int64 {
        let q = a / b
        let r = a % b
        if r.magnitude * 2 >= b.magnitude { return a < 0 ? q - 1 : q + 1 }
        return q
    }

    /// How a value prints as text (DuckDB's CAST(x AS VARCHAR)).
    public static func text(_ v: Value) -> String {
        switch v {
        case .double(let d): return formatDouble(d)
        default: return v.description
        }
    }

    /// DuckDB's spelling of a DOUBLE: shortest round-trip digits, `inf`, `-inf`, `nan`.
    public static func formatDouble(_ d: Double) -> String {
        if d.isNaN { return "nan" }
        if d.isInfinite { return d < 0 ? "-inf" : "inf" }
        return String(d)
    }

    static func parse(_ s: String, as type: LogicalType) -> Result<Value, Failure> {
        let bad = "Could not convert string '\(s)' to \(type)"
        switch type {
        case .varchar: return .success(.varchar(s))
        case .boolean: return ValueParsing.parse(s, ValueParsing.boolean).map { .success(.boolean($0)) } ?? .failure(Failure(message: bad))
        case .integer:
            guard let v = ValueParsing.parse(s, ValueParsing.int64) else { return .failure(Failure(message: bad)) }
            guard let n = Int32(exactly: v) else { return .failure(Failure(message: bad)) }
            return .success(.integer(n))
        case .bigint: return ValueParsing.parse(s, ValueParsing.int64).map { .success(.bigint($0)) } ?? .failure(Failure(message: bad))
        case .double: return ValueParsing.parse(s, ValueParsing.double).map { .success(.double($0)) } ?? .failure(Failure(message: bad))
        case .decimal: return ValueParsing.parse(s, ValueParsing.decimal2).map { .success(.decimal($0)) } ?? .failure(Failure(message: bad))
        case .timestamp: return ValueParsing.parse(s, ValueParsing.timestamp).map { .success(.timestamp($0)) } ?? .failure(Failure(message: bad))
        case .date: return ValueParsing.parse(s, ValueParsing.date).map { .success(.date($0)) } ?? .failure(Failure(message: bad))
        case .interval: return .failure(Failure(message: "casting text to INTERVAL is not supported; write INTERVAL n UNIT, e.g. INTERVAL 30 MINUTE"))
        }
    }
}
