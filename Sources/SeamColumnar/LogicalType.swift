/// The logical types a column can have. Every column is nullable.
///
/// Physical representation in memory and on disk:
/// | logical type   | physical            |
/// | -------------- | ------------------- |
/// | BOOLEAN        | `UInt8` (0 or 1)    |
/// | INTEGER        | `Int32`             |
/// | BIGINT         | `Int64`             |
/// | DOUBLE         | `Double`            |
/// | DECIMAL(18,2)  | `Int64` minor units |
/// | TIMESTAMP      | `Int64` µs since 1970-01-01 UTC |
/// | DATE           | `Int32` days since 1970-01-01 |
/// | INTERVAL       | `Int64` µs            |
/// | VARCHAR        | UTF-8 bytes + `UInt32` offsets |
public enum LogicalType: UInt8, Sendable, Hashable, CaseIterable, Codable, CustomStringConvertible {
    case boolean = 1
    case integer = 2
    case bigint = 3
    case double = 4
    case decimal = 5
    case timestamp = 6
    case varchar = 7
    /// A calendar day; only produced by queries (no stored column has it).
    case date = 8
    /// A duration in microseconds (days of 24 hours); only produced by queries, e.g. `ts - ts`. See ``Interval``.
    case interval = 9

    /// The physical layout of values of this type.
    public var physical: PhysicalType {
        switch self {
        case .boolean: return .uint8
        case .integer, .date: return .int32
        case .bigint, .decimal, .timestamp, .interval: return .int64
        case .double: return .double
        case .varchar: return .bytes
        }
    }

    /// The SQL spelling, as DuckDB prints it.
    public var description: String {
        switch self {
        case .boolean: return "BOOLEAN"
        case .integer: return "INTEGER"
        case .bigint: return "BIGINT"
        case .double: return "DOUBLE"
        case .decimal: return "DECIMAL(18,2)"
        case .timestamp: return "TIMESTAMP"
        case .varchar: return "VARCHAR"
        case .date: return "DATE"
        case .interval: return "INTERVAL"
        }
    }

    /// Parses the SQL spelling (case-insensitive); `nil` when unknown.
    public init?(sqlName: String) {
        switch String(sqlName.uppercased().filter { $0 != " " }) {
        case "BOOLEAN", "BOOL": self = .boolean
        case "INTEGER", "INT", "INT4": self = .integer
        case "BIGINT", "INT8", "LONG": self = .bigint
        case "DOUBLE", "FLOAT8": self = .double
        case "DECIMAL(18,2)", "DECIMAL": self = .decimal
        case "TIMESTAMP": self = .timestamp
        case "VARCHAR", "TEXT", "STRING": self = .varchar
        case "DATE": self = .date
        case "INTERVAL": self = .interval
        default: return nil
        }
    }

    /// Decimal scale for `.decimal`: values are stored as minor units (hundredths).
    public static let decimalScale = 2
}

/// How values of a logical type sit in memory.
public enum PhysicalType: Sendable, Hashable {
    case uint8, int32, int64, double, bytes

    /// Width in bytes of one value; `nil` for variable-width bytes.
    public var width: Int? {
        switch self {
        case .uint8: return 1
        case .int32: return 4
        case .int64, .double: return 8
        case .bytes: return nil
        }
    }
}
