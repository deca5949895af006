public import SeamColumnar
import Foundation

/// Deterministic generators of column values for property tests: random data plus the edge cases every
/// codec must survive (empty, all null, one value, type extremes, long and non-ASCII strings).
public struct FixtureRandom: RandomNumberGenerator {
    private var state: UInt64
    public init(seed: UInt64) { state = seed &+ 0x9E37_79B9_7F4A_7C15 }
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

public enum NullPattern: CaseIterable, Sendable {
    case none, all, alternate, sparse, leadingRun
    /// Nine rows in ten NULL (an amount column: only purchases have one).
    case mostly
    func isNull(_ i: Int, _ rng: inout FixtureRandom) -> Bool {
        switch self {
        case .mostly: return Int.random(in: 0..<10, using: &rng) != 0
        case .none: return false
        case .all: return true
        case .alternate: return i % 2 == 1
        case .sparse: return Int.random(in: 0..<20, using: &rng) == 0
        case .leadingRun: return i < 100
        }
    }
}

public enum ValueShape: CaseIterable, Sendable {
    /// Uniform over the whole type.
    case random
    /// A few distinct values.
    case lowCardinality
    /// Long runs of equal values.
    case runs
    /// Increasing by small steps (timestamps, sorted ids).
    case sorted
    /// One value everywhere.
    case constant
    /// The type's extremes mixed with 0.
    case extremes
}

public enum VectorFixtures {
    static let strings = [
        "", "a", "web", "mobile_app", "Zoë", "José Müller", "山田太郎", "😀 emoji", "Ørsted", "naïve café",
        String(repeating: "long-string-", count: 200),
    ]

    public static func value(_ type: LogicalType, _ shape: ValueShape, _ i: Int, _ rng: inout FixtureRandom) -> Value {
        switch type {
        case .boolean:
            switch shape {
            case .constant: return .boolean(true)
            case .runs: return .boolean((i / 37) % 2 == 0)
            default: return .boolean(Bool.random(using: &rng))
            }
        case .integer:
            return .integer(Int32(truncatingIfNeeded: int(shape, i, &rng, min: Int64(Int32.min), max: Int64(Int32.max))))
        case .bigint: return .bigint(int(shape, i, &rng, min: .min, max: .max))
        case .date:
            if shape == .sorted { return .date(19_000 + Int32(i / 97)) }
            return .date(Int32(truncatingIfNeeded: int(shape, i, &rng, min: Int64(Int32.min), max: Int64(Int32.max))))
        case .decimal: return .decimal(int(shape, i, &rng, min: -999_999_999_999_999_999, max: 999_999_999_999_999_999))
        case .timestamp:
            if shape == .sorted { return .timestamp(1_700_000_000_000_000 + Int64(i) * 1_000_003) }
            return .timestamp(int(shape, i, &rng, min: .min, max: .max))
        case .interval:
            if shape == .sorted { return .interval(Int64(i) * 60_000_000) }
            return .interval(int(shape, i, &rng, min: .min, max: .max))
        case .double:
            switch shape {
            case .random: return .double(Double(bitPattern: rng.next() & 0x7FEF_FFFF_FFFF_FFFF) * (Bool.random(using: &rng) ? 1 : -1))
            case .lowCardinality: return .double([0.5, -1.25, 3.0, 1e300][Int.random(in: 0..<4, using: &rng)])
            case .runs: return .double(Double(i / 50))
            case .sorted: return .double(Double(i) * 0.001)
            case .constant: return .double(42.5)
            case .extremes:
                return .double([0, -0.0, .greatestFiniteMagnitude, -.greatestFiniteMagnitude, .leastNonzeroMagnitude, .infinity, -.infinity][i % 7])
            }
        case .varchar:
            switch shape {
            case .random:
                let n = Int.random(in: 0..<30, using: &rng)
                return .varchar(String((0..<n).map { _ in Character(UnicodeScalar(UInt8.random(in: 32...126, using: &rng))) }))
            case .lowCardinality: return .varchar(strings[Int.random(in: 0..<strings.count, using: &rng)])
            case .runs: return .varchar(strings[(i / 40) % strings.count])
            case .sorted: return .varchar("id-" + String(100_000 + i))
            case .constant: return .varchar("José Müller")
            case .extremes: return .varchar(strings[i % strings.count])
            }
        }
    }

    static func int(_ shape: ValueShape, _ i: Int, _ rng: inout FixtureRandom, min: Int64, max: Int64) -> Int64 {
        switch shape {
        case .random: return Int64.random(in: min...max, using: &rng)
        case .lowCardinality: return [min, 0, 7, max][Int.random(in: 0..<4, using: &rng)]
        case .runs: return Int64(i / 64) * 3 - 100
        case .sorted: return Int64(i) * 7 + Int64.random(in: 0...3, using: &rng)
        case .constant: return 123_456
        case .extremes: return [min, max, 0, -1, 1][i % 5]
        }
    }

    /// A vector of `count` rows of `type` with the given shape and null pattern.
    public static func vector(
        _ type: LogicalType, count: Int, shape: ValueShape, nulls: NullPattern, seed: UInt64
    ) -> ColumnVector {
        var rng = FixtureRandom(seed: seed)
        var b = ColumnBuilder(type, capacity: count)
        for i in 0..<count {
            if nulls.isNull(i, &rng) { b.appendNull() } else { b.append(value(type, shape, i, &rng)) }
        }
        return b.finish()
    }

    /// A fresh empty temporary directory.
    public static func temporaryDirectory(_ label: String = "seam") -> String {
        let dir = NSTemporaryDirectory() + "\(label)-\(UUID().uuidString)"
        try! FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        return dir
    }
}

/// Values compared the way storage must preserve them: doubles by bit pattern (so -0.0 and NaN count).
public func sameValues(_ a: [Value], _ b: [Value]) -> Bool {
    guard a.count == b.count else { return false }
    for (x, y) in zip(a, b) {
        if case .double(let p) = x, case .double(let q) = y {
            if p.bitPattern != q.bitPattern { return false }
        } else if x != y {
            return false
        }
    }
    return true
}
