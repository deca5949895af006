import SeamColumnar
import SeamKernels
import SeamSQL

/// `median`, `quantile_cont` and `quantile_disc`: every counted value per group, kept as a group id and a key that
/// orders as the value does (integers, DECIMAL minor units, dates and timestamps as they are; a DOUBLE's bits turned so
/// that integer order is numeric order, NaN last as DuckDB orders it). At the end the pairs are bucketed by group
/// (a count and a scatter, no array per group), and the value at the fraction selected in each (``Select``).
///
/// As in DuckDB: `quantile_disc` takes the first value whose position reaches the fraction, index
/// `ceil(n * q) - 1` (at least 0), computed exactly for a fraction written with up to nine decimals (0.3 of 10 values
/// is the third, where `10 * 0.3` in floating point is past 3); `quantile_cont` interpolates linearly at `(n - 1) * q`,
/// a DECIMAL or TIMESTAMP result truncated toward zero to its unit.
final class QuantileState: AggregateState {
    let argType: LogicalType
    let outType: LogicalType
    let fraction: Double
    let interpolate: Bool
    /// `WITHIN GROUP (ORDER BY x DESC)`: the fraction counts from the largest value.
    let descending: Bool
    /// Per counted row: its group and its key.
    private var ids: [Int32] = []
    private var values: [Int64] = []
    /// The fraction as an exact decimal `numerator / denominator`, when it has at most nine decimals.
    private let exact: (numerator: Int64, denominator: Int64)?

    init(argType: LogicalType, outType: LogicalType, fraction: Double, interpolate: Bool, descending: Bool = false) {
        self.descending = descending
        self.argType = argType
        self.outType = outType
        self.fraction = fraction
        self.interpolate = interpolate
        exact = Self.decimalFraction(fraction)
    }

    var byteCount: Int { values.count * 12 }

    /// `q` as numerator / 10^k from its shortest decimal text ("0.3" -> 3 / 10); nil past nine decimals.
    static func decimalFraction(_ q: Double) -> (numerator: Int64, denominator: Int64)? {
        let text = "\(q)"
        guard !text.contains("e"), let dot = text.firstIndex(of: ".") else { return nil }
        let decimals = text[text.index(after: dot)...]
        guard decimals.count <= 9, let whole = Int64(text[..<dot]), let part = Int64(decimals) else { return nil }
        var denominator: Int64 = 1
        for _ in 0..<decimals.count { denominator *= 10 }
        return (whole * denominator + part, denominator)
    }

    /// A DOUBLE's order-preserving key: non-negative numbers keep their bits, negative ones have all but the sign
    /// flipped; every NaN becomes the one positive quiet NaN, past +inf, and -0.0 is 0.0 (as the sort's keys have them).
    @inline(__always)
    static func key(_ d: Double) -> Int64 {
        let bits = Int64(bitPattern: (d.isNaN ? Double.nan : (d == 0 ? 0 : d)).bitPattern)
        return bits < 0 ? bits ^ Int64.max : bits
    }

    @inline(__always)
    static func double(_ key: Int64) -> Double {
        Double(bitPattern: UInt64(bitPattern: key < 0 ? key ^ Int64.max : key))
    }

    func update(_ arg: ColumnVector?, _ gids: UnsafePointer<Int32>, _ mask: UnsafePointer<UInt8>?, _ n: Int, groups: Int) throws {
        guard let arg else { return }
        // Appended through locals: a class's arrays paid an exclusivity check per access.
        var ids = self.ids, values = self.values
        (self.ids, self.values) = ([], [])
        defer { (self.ids, self.values) = (ids, values) }
        Self.appendKeyed(arg, gids, mask, n, ids: &ids, keys: &values)
    }

    /// Appends each counted row's group and order-preserving key (a number, date, timestamp or boolean's).
    static func appendKeyed(
        _ arg: ColumnVector, _ gids: UnsafePointer<Int32>, _ mask: UnsafePointer<UInt8>?, _ n: Int, ids: inout [Int32], keys: inout [Int64]
    ) {
        let validity = Vectors.validity(arg)
        ids.reserveGrowing(n)
        keys.reserveGrowing(n)
        @inline(__always) func append<T>(_ p: UnsafePointer<T>, _ key: (T) -> Int64) {
            for i in 0..<n where AggregateStates.counts(mask, validity, i) {
                ids.append(gids[i])
                keys.append(key(p[i]))
            }
        }
        switch arg.type.physical {
        case .double: append(Vectors.pointer(arg, Double.self), Self.key)
        case .int32: append(Vectors.pointer(arg, Int32.self)) { Int64($0) }
        case .uint8: append(Vectors.pointer(arg, UInt8.self)) { Int64($0) }
        default: append(Vectors.pointer(arg, Int64.self)) { $0 }
        }
    }

    func merge(_ other: any AggregateState, _ map: [Int32], groups: Int) throws {
        let o = other as! QuantileState
        ids += o.ids.map { map[Int($0)] }
        values += o.values
    }

    /// The 0-based position quantile_disc picks among `n` sorted values.
    func discreteIndex(_ n: Int) -> Int {
        if let (numerator, denominator) = exact {
            let (product, overflow) = Int64(n).multipliedReportingOverflow(by: numerator)
            if !overflow { return max(1, Int((product + denominator - 1) / denominator)) - 1 }
        }
        return max(1, Int((Double(n) * fraction).rounded(.up))) - 1
    }

    /// `values` bucketed by their group in `ids`: group g's lie at `starts[g]..<starts[g + 1]` of `keys` (counts, then
    /// starts, then a scatter into one array, no array per group; one group: as they are).
    static func bucketed(_ ids: [Int32], _ values: [Int64], groups: Int) -> (starts: [Int], keys: [Int64]) {
        var starts = [Int](repeating: 0, count: groups + 1)
        if groups == 1 {
            starts[1] = values.count
            return (starts, values)
        }
        for g in ids { starts[Int(g) + 1] += 1 }
        for g in 0..<groups { starts[g + 1] += starts[g] }
        var keys = [Int64](repeating: 0, count: starts[groups])
        var next = starts
        keys.withUnsafeMutableBufferPointer { keys in
            for (g, v) in zip(ids, values) {
                keys[next[Int(g)]] = v
                next[Int(g)] += 1
            }
        }
        return (starts, keys)
    }

    func finish(groups: Int) throws -> ColumnVector {
        var (starts, keys) = Self.bucketed(ids, values, groups: groups)
        (ids, values) = ([], [])
        var b = ColumnBuilder(outType, capacity: groups)
        let isDouble = argType.physical == .double
        // Dates become timestamps (microseconds) when interpolated.
        let unit: Int64 = argType == .date && interpolate ? 86_400_000_000 : 1
        keys.withUnsafeMutableBufferPointer { all in
            for g in 0..<groups {
                let n = starts[g + 1] - starts[g]
                guard n > 0 else {
                    b.appendNull()
                    continue
                }
                let group = UnsafeMutableBufferPointer(rebasing: all[starts[g]..<starts[g + 1]])
                if !interpolate {
                    // Positions count from the largest value when descending.
                    let k = descending ? n - 1 - discreteIndex(n) : discreteIndex(n)
                    Select.nth(group, k)
                    b.append(value(group[k]))
                    continue
                }
                let position = Double(n - 1) * fraction
                let lo = Int(position.rounded(.down)), hi = Int(position.rounded(.up))
                let delta = position - Double(lo)
                // The two values to interpolate between sit next to each other in ascending order: select the lower
                // one, the other is the least of those after it. Descending, `lo` counts from the top, so the value
                // at `lo` is the higher of the two.
                let below = descending ? n - 1 - hi : lo
                Select.nth(group, below)
                let under = group[below], over = hi == lo ? under : Select.minimum(UnsafeBufferPointer(rebasing: group[(below + 1)...]))
                let (low, high) = descending ? (over, under) : (under, over)
                if isDouble {
                    let a = Self.double(low), z = Self.double(high)
                    b.append(double: lo == hi ? a : a + delta * (z - a))
                } else if outType == .double {
                    let a = Double(low), z = Double(high)
                    b.append(double: lo == hi ? a : a + delta * (z - a))
                } else {
                    // DECIMAL minor units or microseconds: interpolated in floating point, truncated toward zero.
                    let a = low &* unit, z = high &* unit
                    let v = lo == hi ? a : Int64(Double(a) + delta * Double(z &- a))
                    b.append(outType == .decimal ? .decimal(v) : .timestamp(v))
                }
            }
        }
        return b.finish()
    }

    /// A stored key as a value of the argument's type (quantile_disc returns one of the values).
    private func value(_ key: Int64) -> Value { Self.value(key, argType) }

    /// A key made by ``appendKeyed`` as the value of `type` it was made from.
    static func value(_ key: Int64, _ type: LogicalType) -> Value {
        switch type {
        case .double: return .double(double(key))
        case .integer: return .integer(Int32(truncatingIfNeeded: key))
        case .date: return .date(Int32(truncatingIfNeeded: key))
        case .decimal: return .decimal(key)
        case .timestamp: return .timestamp(key)
        case .boolean: return .boolean(key != 0)
        case .interval: return .interval(key)
        default: return .bigint(key)
        }
    }
}
