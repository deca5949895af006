import Foundation
import SeamColumnar
import SeamSQL
import SeamKernels

/// Per-group state of one aggregate. `update` runs once per batch with the batch's group ids (the loop over
/// rows is inside, typed); `merge` folds another worker's state in; `finish` builds the output column.
protocol AggregateState: AnyObject {
    func update(_ arg: ColumnVector?, _ gids: UnsafePointer<Int32>, _ mask: UnsafePointer<UInt8>?, _ n: Int, groups: Int) throws
    /// Adds `other`'s groups: its group g becomes this state's group `map[g]`.
    func merge(_ other: any AggregateState, _ map: [Int32], groups: Int) throws
    /// The result column; throws when a value cannot be represented (a sum past BIGINT).
    func finish(groups: Int) throws -> ColumnVector
    /// Memory held beyond a few words per group (DISTINCT's value sets), for the query's memory limit.
    var byteCount: Int { get }
}

extension AggregateState {
    var byteCount: Int { 0 }
}

enum AggregateStates {
    static func make(_ call: AggregateCall) -> any AggregateState {
        let argType = call.argument?.type ?? .bigint
        if call.distinct && call.function != .stringAgg {
            return DistinctState(call.function, argType: argType, outType: call.type, fraction: call.fraction)
        }
        switch call.function {
        case .countStar: return CountState(star: true)
        case .count, .approxCountDistinct: return CountState(star: false)
        case .sum:
            if argType == .double { return SumDoubleState(average: false) }
            return SumIntState(outType: call.type)
        case .avg:
            if argType == .double { return SumDoubleState(average: true) }
            return AvgIntState(scale: argType == .decimal ? 100 : 1)
        case .min, .max:
            return MinMaxState(isMin: call.function == .min, type: argType)
        case .anyValue:
            return MinMaxState(isMin: true, type: argType, first: true)
        case .boolAnd, .boolOr:
            return BoolState(isAnd: call.function == .boolAnd)
        case .stddevSamp, .stddevPop, .varSamp, .varPop:
            return SpreadState(call.function)
        case .grouping:
            preconditionFailure("grouping() is resolved into constants by the binder")
        case .stringAgg:
            return StringAggState(separator: call.separator ?? ",", order: call.order, distinct: call.distinct)
        case .median, .quantileCont, .quantileDisc:
            return QuantileState(
                argType: argType, outType: call.type, fraction: call.fraction ?? 0.5, interpolate: call.function != .quantileDisc,
                descending: call.fractionFromTop)
        case .mode:
            return ModeState(type: argType, greatestOnTies: call.fractionFromTop)
        case .argMin, .argMax:
            return ArgState(isMin: call.function == .argMin, argType: argType, keyType: call.key?.type ?? .bigint, nullKeysFirst: call.keyNullsFirst)
        }
    }

    /// `a` before `b` in DuckDB's order of DOUBLEs: numbers as `<` orders them, NaN after every number.
    @inline(__always)
    static func doubleLess(_ a: Double, _ b: Double) -> Bool { a < b || (b.isNaN && !a.isNaN) }

    /// Whether row i counts: not masked out by FILTER and (with an argument) not NULL.
    @inline(__always)
    static func counts(_ mask: UnsafePointer<UInt8>?, _ validity: UnsafePointer<UInt64>?, _ i: Int) -> Bool {
        (mask == nil || mask![i] != 0) && Vectors.isValid(validity, i)
    }

    /// The input's values widened to Int64 (INTEGER, BIGINT, DECIMAL minor units, BOOLEAN).
    static func int64s(_ v: ColumnVector) -> [Int64] {
        switch v.type.physical {
        case .int32:
            let p = Vectors.pointer(v, Int32.self)
            return (0..<v.count).map { Int64(p[$0]) }
        case .uint8:
            let p = Vectors.pointer(v, UInt8.self)
            return (0..<v.count).map { Int64(p[$0]) }
        default:
            return Array(UnsafeBufferPointer(start: Vectors.pointer(v, Int64.self), count: v.count))
        }
    }

    static func validity(_ flags: [Bool]) -> Buffer? {
        if flags.allSatisfy({ $0 }) { return nil }
        return Buffer(byteCount: Bitmap.wordCount(flags.count) * 8) { raw in
            let w = raw.bindMemory(to: UInt64.self)
            for (i, f) in flags.enumerated() where f { w[i >> 6] |= 1 << UInt64(i & 63) }
        }
    }
}

final class CountState: AggregateState {
    let star: Bool
    var counts: [Int64] = []

    init(star: Bool) { self.star = star }

    func update(_ arg: ColumnVector?, _ gids: UnsafePointer<Int32>, _ mask: UnsafePointer<UInt8>?, _ n: Int, groups: Int) throws {
        counts.pad(to: groups, with: 0)
        let val = star ? nil : arg.flatMap(Vectors.validity)
        if groups == 1 {
            // One group (no GROUP BY): a sum of the passing rows, not an increment of one counter per row, which
            // waits on the previous increment each time.
            let total: Int
            if let mask {
                total = Selection.count(mask, val, n)
            } else if let val {
                total = Bitmap.popCount(val, in: 0..<n)
            } else {
                total = n
            }
            counts[0] &+= Int64(total)
            return
        }
        counts.withUnsafeMutableBufferPointer { c in
            if let mask, val == nil {
                // count(*) FILTER: every row adds its flag, with no branch on it (a filter passing one row in five,
                // taken as a branch, was mispredicted often enough to be the largest cost of an audience query).
                for i in 0..<n { c[Int(gids[i])] &+= mask[i] != 0 ? 1 : 0 }
            } else if mask == nil && val == nil {
                for i in 0..<n { c[Int(gids[i])] &+= 1 }
            } else {
                for i in 0..<n { c[Int(gids[i])] &+= AggregateStates.counts(mask, val, i) ? 1 : 0 }
            }
        }
    }

    func merge(_ other: any AggregateState, _ map: [Int32], groups: Int) throws {
        let o = other as! CountState
        counts.pad(to: groups, with: 0)
        counts.withUnsafeMutableBufferPointer { counts in
            for (g, c) in o.counts.enumerated() { counts[Int(map[g])] &+= c }
        }
    }

    func finish(groups: Int) -> ColumnVector {
        var c = counts
        c.pad(to: groups, with: 0)
        return ColumnVector(type: .bigint, count: groups, values: Buffer(copying: c))
    }
}

/// sum over INTEGER, BIGINT, DECIMAL (minor units) and BOOLEAN; overflow of BIGINT is an error.
final class SumIntState: AggregateState {
    let outType: LogicalType
    var sums: [Int64] = []
    var seen: [Bool] = []

    init(outType: LogicalType) { self.outType = outType }

    private func grow(_ groups: Int) {
        sums.pad(to: groups, with: 0)
        seen.pad(to: groups, with: false)
    }

    func update(_ arg: ColumnVector?, _ gids: UnsafePointer<Int32>, _ mask: UnsafePointer<UInt8>?, _ n: Int, groups: Int) throws {
        grow(groups)
        guard let arg else { return }
        let val = Vectors.validity(arg)
        var overflow = false
        sums.withUnsafeMutableBufferPointer { s in
            seen.withUnsafeMutableBufferPointer { seen in
                switch arg.type.physical {
                case .int32:
                    let p = Vectors.pointer(arg, Int32.self)
                    for i in 0..<n where AggregateStates.counts(mask, val, i) {
                        let g = Int(gids[i])
                        let (r, o) = s[g].addingReportingOverflow(Int64(p[i]))
                        s[g] = r
                        overflow = overflow || o
                        seen[g] = true
                    }
                case .uint8:
                    let p = Vectors.pointer(arg, UInt8.self)
                    for i in 0..<n where AggregateStates.counts(mask, val, i) {
                        let g = Int(gids[i])
                        s[g] &+= Int64(p[i])
                        seen[g] = true
                    }
                default:
                    let p = Vectors.pointer(arg, Int64.self)
                    for i in 0..<n where AggregateStates.counts(mask, val, i) {
                        let g = Int(gids[i])
                        let (r, o) = s[g].addingReportingOverflow(p[i])
                        s[g] = r
                        overflow = overflow || o
                        seen[g] = true
                    }
                }
            }
        }
        if overflow { throw SQLError(.runtime, "Out of Range Error: sum overflows BIGINT (Seam sums into 64 bits)") }
    }

    func merge(_ other: any AggregateState, _ map: [Int32], groups: Int) throws {
        let o = other as! SumIntState
        grow(groups)
        var overflow = false
        sums.withUnsafeMutableBufferPointer { sums in
            seen.withUnsafeMutableBufferPointer { seen in
                for g in o.sums.indices where o.seen[g] {
                    let t = Int(map[g])
                    let (r, f) = sums[t].addingReportingOverflow(o.sums[g])
                    overflow = overflow || f
                    sums[t] = r
                    seen[t] = true
                }
            }
        }
        if overflow { throw SQLError(.runtime, "Out of Range Error: sum overflows BIGINT (Seam sums into 64 bits)") }
    }

    func finish(groups: Int) -> ColumnVector {
        grow(groups)
        return ColumnVector(type: outType, count: groups, values: Buffer(copying: Array(sums.prefix(groups))), validity: AggregateStates.validity(Array(seen.prefix(groups))))
    }
}

/// sum and avg over DOUBLE.
final class SumDoubleState: AggregateState {
    let average: Bool
    var sums: [Double] = []
    var counts: [Int64] = []

    init(average: Bool) { self.average = average }

    private func grow(_ groups: Int) {
        sums.pad(to: groups, with: 0)
        counts.pad(to: groups, with: 0)
    }

    func update(_ arg: ColumnVector?, _ gids: UnsafePointer<Int32>, _ mask: UnsafePointer<UInt8>?, _ n: Int, groups: Int) throws {
        grow(groups)
        guard let arg else { return }
        let val = Vectors.validity(arg)
        let p = Vectors.pointer(arg, Double.self)
        sums.withUnsafeMutableBufferPointer { s in
            counts.withUnsafeMutableBufferPointer { c in
                for i in 0..<n where AggregateStates.counts(mask, val, i) {
                    let g = Int(gids[i])
                    s[g] += p[i]
                    c[g] &+= 1
                }
            }
        }
    }

    func merge(_ other: any AggregateState, _ map: [Int32], groups: Int) throws {
        let o = other as! SumDoubleState
        grow(groups)
        sums.withUnsafeMutableBufferPointer { sums in
            counts.withUnsafeMutableBufferPointer { counts in
                for g in o.sums.indices where o.counts[g] > 0 {
                    sums[Int(map[g])] += o.sums[g]
                    counts[Int(map[g])] += o.counts[g]
                }
            }
        }
    }

    func finish(groups: Int) -> ColumnVector {
        grow(groups)
        let out = (0..<groups).map { average ? sums[$0] / Double(max(counts[$0], 1)) : sums[$0] }
        return ColumnVector(type: .double, count: groups, values: Buffer(copying: out), validity: AggregateStates.validity((0..<groups).map { counts[$0] > 0 }))
    }
}

/// avg over integers and DECIMAL: an exact Int64 sum per group, divided once at the end; a group whose sum leaves 64
/// bits takes the sum it also keeps in floating point (DuckDB sums in 128 bits; an average is still well defined).
final class AvgIntState: AggregateState {
    let scale: Double
    var sums: [Int64] = []
    var approximate: [Double] = []
    var overflowed: [Bool] = []
    var counts: [Int64] = []

    init(scale: Double) { self.scale = scale }

    private func grow(_ groups: Int) {
        sums.pad(to: groups, with: 0)
        approximate.pad(to: groups, with: 0)
        overflowed.pad(to: groups, with: false)
        counts.pad(to: groups, with: 0)
    }

    func update(_ arg: ColumnVector?, _ gids: UnsafePointer<Int32>, _ mask: UnsafePointer<UInt8>?, _ n: Int, groups: Int) throws {
        grow(groups)
        guard let arg else { return }
        let val = Vectors.validity(arg)
        let xs = AggregateStates.int64s(arg)
        sums.withUnsafeMutableBufferPointer { sums in
            approximate.withUnsafeMutableBufferPointer { approximate in
                overflowed.withUnsafeMutableBufferPointer { overflowed in
                    counts.withUnsafeMutableBufferPointer { counts in
                        for i in 0..<n where AggregateStates.counts(mask, val, i) {
                            let g = Int(gids[i])
                            let (r, o) = sums[g].addingReportingOverflow(xs[i])
                            sums[g] = r
                            overflowed[g] = overflowed[g] || o
                            approximate[g] += Double(xs[i])
                            counts[g] &+= 1
                        }
                    }
                }
            }
        }
    }

    func merge(_ other: any AggregateState, _ map: [Int32], groups: Int) throws {
        let o = other as! AvgIntState
        grow(groups)
        for g in o.sums.indices where o.counts[g] > 0 {
            let t = Int(map[g])
            let (r, f) = sums[t].addingReportingOverflow(o.sums[g])
            sums[t] = r
            overflowed[t] = overflowed[t] || f || o.overflowed[g]
            approximate[t] += o.approximate[g]
            counts[t] += o.counts[g]
        }
    }

    func finish(groups: Int) -> ColumnVector {
        grow(groups)
        let out = (0..<groups).map { g in
            counts[g] == 0 ? 0 : (overflowed[g] ? approximate[g] : Double(sums[g])) / scale / Double(counts[g])
        }
        return ColumnVector(type: .double, count: groups, values: Buffer(copying: out), validity: AggregateStates.validity((0..<groups).map { counts[$0] > 0 }))
    }
}

/// Per-group values of one physical form (integers of every width held as Int64), as min/max keep their best values
/// and arg_min/arg_max their keys and arguments.
struct GroupValues {
    let physical: PhysicalType
    var ints: [Int64] = [], doubles: [Double] = [], texts: [[UInt8]] = []

    init(_ physical: PhysicalType) { self.physical = physical }

    mutating func grow(by k: Int) {
        switch physical {
        case .double: doubles.append(contentsOf: repeatElement(0, count: k))
        case .bytes: texts.append(contentsOf: repeatElement([], count: k))
        default: ints.append(contentsOf: repeatElement(0, count: k))
        }
    }

    /// Group `t` takes `other`'s group `g`.
    mutating func take(_ other: GroupValues, _ g: Int, into t: Int) {
        switch physical {
        case .double: doubles[t] = other.doubles[g]
        case .bytes: texts[t] = other.texts[g]
        default: ints[t] = other.ints[g]
        }
    }

    /// `other`'s group `g` against this one's group `t`: < 0 before, 0 equal, > 0 after (DOUBLEs with NaN last).
    func compare(_ other: GroupValues, _ g: Int, with t: Int) -> Int {
        switch physical {
        case .double:
            let a = other.doubles[g], b = doubles[t]
            return AggregateStates.doubleLess(a, b) ? -1 : (AggregateStates.doubleLess(b, a) ? 1 : 0)
        case .bytes: return other.texts[g].withUnsafeBytes { a in texts[t].withUnsafeBytes { b in Compare.compareBytes(a, b) } }
        default: return other.ints[g] < ints[t] ? -1 : (other.ints[g] > ints[t] ? 1 : 0)
        }
    }

    /// One value per group as a column of `type`; NULL where a group saw no value.
    func column(_ type: LogicalType, groups: Int, seen: [Bool]) -> ColumnVector {
        let validity = AggregateStates.validity(Array(seen.prefix(groups)))
        switch physical {
        case .double: return ColumnVector(type: type, count: groups, values: Buffer(copying: Array(doubles.prefix(groups))), validity: validity)
        case .bytes:
            var b = ColumnBuilder(.varchar, capacity: groups)
            for g in 0..<groups { if seen[g] { texts[g].withUnsafeBytes { b.append(utf8: $0) } } else { b.appendNull() } }
            return b.finish()
        case .int32:
            return ColumnVector(type: type, count: groups, values: Buffer(copying: ints.prefix(groups).map { Int32(truncatingIfNeeded: $0) }), validity: validity)
        case .uint8:
            return ColumnVector(type: type, count: groups, values: Buffer(copying: ints.prefix(groups).map { UInt8(truncatingIfNeeded: $0) }), validity: validity)
        case .int64:
            return ColumnVector(type: type, count: groups, values: Buffer(copying: Array(ints.prefix(groups))), validity: validity)
        }
    }
}

/// min, max and any_value (the first value seen, in table order within a worker).
final class MinMaxState: AggregateState {
    let isMin: Bool
    let type: LogicalType
    let first: Bool
    var best: GroupValues
    var seen: [Bool] = []

    init(isMin: Bool, type: LogicalType, first: Bool = false) {
        self.isMin = isMin
        self.type = type
        self.first = first
        best = GroupValues(type.physical)
    }

    private func grow(_ groups: Int) {
        best.grow(by: seen.pad(to: groups, with: false))
    }

    @inline(__always)
    private func better<T: Comparable>(_ new: T, _ old: T) -> Bool { first ? false : (isMin ? new < old : new > old) }

    /// DOUBLEs in DuckDB's order, NaN after every number (`<` alone never lets a NaN win, nor anything beat one).
    @inline(__always)
    private func better(_ new: Double, _ old: Double) -> Bool {
        first ? false : (isMin ? AggregateStates.doubleLess(new, old) : AggregateStates.doubleLess(old, new))
    }

    func update(_ arg: ColumnVector?, _ gids: UnsafePointer<Int32>, _ mask: UnsafePointer<UInt8>?, _ n: Int, groups: Int) throws {
        grow(groups)
        guard let arg else { return }
        let val = Vectors.validity(arg)
        switch type.physical {
        case .double:
            Self.fold(Vectors.pointer(arg, Double.self), &best.doubles, &seen, gids, mask, val, n, better)
        case .bytes:
            let spans = StringSpans(arg)
            for i in 0..<n where AggregateStates.counts(mask, val, i) {
                let g = Int(gids[i])
                let s = spans[i]
                if !seen[g] {
                    best.texts[g] = Array(s)
                    seen[g] = true
                } else if !first {
                    let c = best.texts[g].withUnsafeBytes { Compare.compareBytes(s, $0) }
                    if isMin ? c < 0 : c > 0 { best.texts[g].replaceSubrange(0..., with: s) }
                }
            }
        case .int64:
            Self.fold(Vectors.pointer(arg, Int64.self), &best.ints, &seen, gids, mask, val, n, better)
        default:
            let xs = AggregateStates.int64s(arg)
            xs.withUnsafeBufferPointer { Self.fold($0.baseAddress!, &best.ints, &seen, gids, mask, val, n, better) }
        }
    }

    /// Folds `values` into the per-group `best` (loops over raw buffers: indexing the class's arrays per row would
    /// check exclusive access each time).
    @inline(__always)
    private static func fold<T>(
        _ values: UnsafePointer<T>, _ best: inout [T], _ seen: inout [Bool], _ gids: UnsafePointer<Int32>,
        _ mask: UnsafePointer<UInt8>?, _ validity: UnsafePointer<UInt64>?, _ n: Int, _ better: (T, T) -> Bool
    ) {
        best.withUnsafeMutableBufferPointer { best in
            seen.withUnsafeMutableBufferPointer { seen in
                for i in 0..<n where AggregateStates.counts(mask, validity, i) {
                    let g = Int(gids[i])
                    if !seen[g] || better(values[i], best[g]) {
                        best[g] = values[i]
                        seen[g] = true
                    }
                }
            }
        }
    }

    func merge(_ other: any AggregateState, _ map: [Int32], groups: Int) throws {
        let o = other as! MinMaxState
        grow(groups)
        switch type.physical {
        case .double:
            o.best.doubles.withUnsafeBufferPointer { Self.foldMerge($0, o.seen, &best.doubles, &seen, map, better) }
            return
        case .bytes:
            break
        default:
            o.best.ints.withUnsafeBufferPointer { Self.foldMerge($0, o.seen, &best.ints, &seen, map, better) }
            return
        }
        for g in o.seen.indices where o.seen[g] {
            let t = Int(map[g])
            switch type.physical {
            case .double:
                if !seen[t] || better(o.best.doubles[g], best.doubles[t]) { best.doubles[t] = o.best.doubles[g] }
            case .bytes:
                if !seen[t] || (!first && (isMin ? o.best.texts[g].lexicographicallyPrecedes(best.texts[t]) : best.texts[t].lexicographicallyPrecedes(o.best.texts[g]))) {
                    best.texts[t] = o.best.texts[g]
                }
            default:
                if !seen[t] || better(o.best.ints[g], best.ints[t]) { best.ints[t] = o.best.ints[g] }
            }
            seen[t] = true
        }
    }

    @inline(__always)
    private static func foldMerge<T>(
        _ values: UnsafeBufferPointer<T>, _ valuesSeen: [Bool], _ best: inout [T], _ seen: inout [Bool], _ map: [Int32],
        _ better: (T, T) -> Bool
    ) {
        best.withUnsafeMutableBufferPointer { best in
            seen.withUnsafeMutableBufferPointer { seen in
                for g in 0..<values.count where valuesSeen[g] {
                    let t = Int(map[g])
                    if !seen[t] || better(values[g], best[t]) { best[t] = values[g] }
                    seen[t] = true
                }
            }
        }
    }

    func finish(groups: Int) -> ColumnVector {
        grow(groups)
        return best.column(type, groups: groups, seen: seen)
    }
}

final class BoolState: AggregateState {
    let isAnd: Bool
    var values: [Bool] = []
    var seen: [Bool] = []

    init(isAnd: Bool) { self.isAnd = isAnd }

    private func grow(_ groups: Int) {
        values.pad(to: groups, with: isAnd)
        seen.pad(to: groups, with: false)
    }

    func update(_ arg: ColumnVector?, _ gids: UnsafePointer<Int32>, _ mask: UnsafePointer<UInt8>?, _ n: Int, groups: Int) throws {
        grow(groups)
        guard let arg else { return }
        let val = Vectors.validity(arg)
        let p = Vectors.pointer(arg, UInt8.self)
        for i in 0..<n where AggregateStates.counts(mask, val, i) {
            let g = Int(gids[i])
            values[g] = isAnd ? (values[g] && p[i] != 0) : (values[g] || p[i] != 0)
            seen[g] = true
        }
    }

    func merge(_ other: any AggregateState, _ map: [Int32], groups: Int) throws {
        let o = other as! BoolState
        grow(groups)
        for g in o.seen.indices where o.seen[g] {
            let t = Int(map[g])
            values[t] = isAnd ? (values[t] && o.values[g]) : (values[t] || o.values[g])
            seen[t] = true
        }
    }

    func finish(groups: Int) -> ColumnVector {
        grow(groups)
        return ColumnVector(type: .boolean, count: groups, values: Buffer(copying: values.prefix(groups).map { $0 ? UInt8(1) : 0 }), validity: AggregateStates.validity(Array(seen.prefix(groups))))
    }
}

/// Sample standard deviation (Welford's running mean and squared deviations; Chan's formula to merge).
/// Standard deviation and variance (Welford's update per row, Chan's formula to merge workers' partials).
final class SpreadState: AggregateState {
    let function: AggregateFunction
    var n: [Double] = []
    var mean: [Double] = []
    var m2: [Double] = []

    init(_ function: AggregateFunction) { self.function = function }

    private func grow(_ groups: Int) {
        n.pad(to: groups, with: 0)
        mean.pad(to: groups, with: 0)
        m2.pad(to: groups, with: 0)
    }

    func update(_ arg: ColumnVector?, _ gids: UnsafePointer<Int32>, _ mask: UnsafePointer<UInt8>?, _ count: Int, groups: Int) throws {
        grow(groups)
        guard let arg else { return }
        let d = try Casts.cast(arg, to: .double)
        let p = Vectors.pointer(d, Double.self)
        let val = Vectors.validity(d)
        for i in 0..<count where AggregateStates.counts(mask, val, i) {
            let g = Int(gids[i])
            n[g] += 1
            let delta = p[i] - mean[g]
            mean[g] += delta / n[g]
            m2[g] += delta * (p[i] - mean[g])
        }
    }

    func merge(_ other: any AggregateState, _ map: [Int32], groups: Int) throws {
        let o = other as! SpreadState
        grow(groups)
        for g in o.n.indices where o.n[g] > 0 {
            let t = Int(map[g])
            let total = n[t] + o.n[g]
            let delta = o.mean[g] - mean[t]
            m2[t] += o.m2[g] + delta * delta * n[t] * o.n[g] / total
            mean[t] += delta * o.n[g] / total
            n[t] = total
        }
    }

    func finish(groups: Int) -> ColumnVector {
        grow(groups)
        // The sample forms need two rows, the population forms one.
        let sample = function == .stddevSamp || function == .varSamp
        let root = function == .stddevSamp || function == .stddevPop
        let least: Double = sample ? 2 : 1
        let out = (0..<groups).map { g -> Double in
            guard n[g] >= least else { return 0 }
            let variance = m2[g] / (sample ? n[g] - 1 : n[g])
            return root ? variance.squareRoot() : variance
        }
        return ColumnVector(type: .double, count: groups, values: Buffer(copying: out), validity: AggregateStates.validity((0..<groups).map { n[$0] >= least }))
    }
}

/// `agg(DISTINCT x)`: the distinct values per group, aggregated at the end. Numbers and timestamps are kept as
/// 64-bit patterns per group; strings as (group, bytes) keys in one hash table, so no row makes a `String`.
final class DistinctState: AggregateState {
    let function: AggregateFunction
    let argType: LogicalType
    let outType: LogicalType
    /// Integer-like values (DOUBLE by bit pattern) as (group, value) pairs, made distinct in bulk.
    var pairs = GroupValuePairs()
    /// VARCHAR: keys are the group id (4 bytes) then the UTF-8 bytes; `counts` per group.
    var strings = KeyTable()
    /// Distinct VARCHAR values per group (integer-like values are counted from `pairs` at the end).
    var counts: [Int64] = []

    /// quantile_cont / quantile_disc's fraction (median's 0.5).
    let fraction: Double?

    init(_ function: AggregateFunction, argType: LogicalType, outType: LogicalType, fraction: Double? = nil) {
        self.function = function
        self.fraction = fraction
        self.argType = argType
        self.outType = outType
    }

    private var isString: Bool { argType.physical == .bytes }

    var byteCount: Int { pairs.count * MemoryLayout<GroupValuePairs.Pair>.stride + strings.byteCount }

    private func grow(_ groups: Int) {
        counts.pad(to: groups, with: 0)
    }

    /// The value's 64-bit pattern (DOUBLE: -0.0 and 0.0 are one value, as are all NaNs).
    private func bits(_ arg: ColumnVector) -> [Int64] {
        guard arg.type == .double else { return AggregateStates.int64s(arg) }
        let p = Vectors.pointer(arg, Double.self)
        return (0..<arg.count).map { i in
            let d = p[i] == 0 ? 0.0 : (p[i].isNaN ? Double.nan : p[i])
            return Int64(bitPattern: d.bitPattern)
        }
    }

    private func insertString(_ g: Int32, _ s: UnsafeRawBufferPointer, _ scratch: inout [UInt8]) {
        scratch.removeAll(keepingCapacity: true)
        withUnsafeBytes(of: g) { scratch.append(contentsOf: $0) }
        scratch.append(contentsOf: s)
        let before = strings.count
        scratch.withUnsafeBytes { k in _ = strings.findOrInsert(k, Hash64.hash(k)) }
        if strings.count > before { counts[Int(g)] += 1 }
    }

    func update(_ arg: ColumnVector?, _ gids: UnsafePointer<Int32>, _ mask: UnsafePointer<UInt8>?, _ n: Int, groups: Int) throws {
        grow(groups)
        guard let arg else { return }
        let val = Vectors.validity(arg)
        if isString {
            let strings = StringSpans(arg)
            var scratch: [UInt8] = []
            for i in 0..<n where AggregateStates.counts(mask, val, i) { insertString(gids[i], strings[i], &scratch) }
        } else {
            let xs = bits(arg)
            var set = pairs
            pairs = GroupValuePairs()
            // Rows come sorted by customer and time within a segment, so a pair often repeats the row before: that
            // check costs nothing, and the pair is not stored twice.
            var lastGroup: Int32 = -1, lastValue: Int64 = 0
            for i in 0..<n where AggregateStates.counts(mask, val, i) {
                let g = gids[i], v = xs[i]
                if g == lastGroup && v == lastValue { continue }
                lastGroup = g
                lastValue = v
                set.append(g, v)
            }
            pairs = set
        }
    }

    func merge(_ other: any AggregateState, _ map: [Int32], groups: Int) throws {
        let o = other as! DistinctState
        grow(groups)
        if isString {
            var scratch: [UInt8] = []
            o.strings.arena.withUnsafeBytes { arena in
                for k in 0..<o.strings.count {
                    let key = UnsafeRawBufferPointer(rebasing: arena[o.strings.starts[k]..<o.strings.starts[k + 1]])
                    let g = key.loadUnaligned(as: Int32.self)
                    insertString(map[Int(g)], UnsafeRawBufferPointer(rebasing: key[4...]), &scratch)
                }
            }
        } else {
            pairs.append(contentsOf: o.pairs, groups: map)
        }
    }

    func finish(groups: Int) throws -> ColumnVector {
        grow(groups)
        var b = ColumnBuilder(outType, capacity: groups)
        let counting = isString || [.count, .approxCountDistinct, .countStar].contains(function)
        if !isString {
            pairs.makeDistinct(parallel: true)
            if counting { pairs.forEach { g, _ in counts[Int(g)] += 1 } }
        }
        // The binder allows only count(DISTINCT) on text (min/max/any_value drop DISTINCT).
        if counting {
            for g in 0..<groups { b.append(int64: counts[g]) }
            return b.finish()
        }
        var perGroup = [[Int64]](repeating: [], count: groups)
        pairs.forEach { g, v in perGroup[Int(g)].append(v) }
        for g in 0..<groups {
            let set = perGroup[g]
            switch function {
            case .count, .approxCountDistinct, .countStar: b.append(int64: Int64(set.count))
            case .sum, .avg:
                if set.isEmpty {
                    b.appendNull()
                } else if argType == .double {
                    let s = set.reduce(0.0) { $0 + Double(bitPattern: UInt64(bitPattern: $1)) }
                    b.append(double: function == .avg ? s / Double(set.count) : s)
                } else {
                    var sum: Int64 = 0
                    var overflow = false
                    for x in set {
                        let (r, o) = sum.addingReportingOverflow(x)
                        sum = r
                        overflow = overflow || o
                    }
                    let scale: Double = argType == .decimal ? 100 : 1
                    if function == .avg {
                        // Past 64 bits the average is still well defined: take it in floating point.
                        let total = overflow ? set.reduce(0.0) { $0 + Double($1) } : Double(sum)
                        b.append(double: total / scale / Double(set.count))
                    } else if overflow {
                        throw SQLError(.runtime, "Out of Range Error: sum overflows BIGINT (Seam sums into 64 bits)")
                    } else {
                        b.append(int64: sum)
                    }
                }
            default:
                // bool_and/or and stddev_samp with DISTINCT: the same aggregate over the distinct values.
                let st = AggregateStates.make(
                    AggregateCall(function: function, argument: .column(0, argType), distinct: false, filter: nil, type: outType, fraction: fraction))
                var col = ColumnBuilder(argType, capacity: set.count)
                for x in set { col.append(value(x)) }
                let vec = col.finish()
                let gids = [Int32](repeating: 0, count: set.count)
                try gids.withUnsafeBufferPointer { try st.update(vec, $0.baseAddress!, nil, set.count, groups: 1) }
                b.append(try st.finish(groups: 1).value(at: 0))
            }
        }
        return b.finish()
    }

    private func value(_ x: Int64) -> Value {
        switch argType {
        case .integer: return .integer(Int32(truncatingIfNeeded: x))
        case .date: return .date(Int32(truncatingIfNeeded: x))
        case .decimal: return .decimal(x)
        case .timestamp: return .timestamp(x)
        case .boolean: return .boolean(x != 0)
        case .double: return .double(Double(bitPattern: UInt64(bitPattern: x)))
        default: return .bigint(x)
        }
    }
}

/// arg_min / arg_max: per group the best key so far (integers, doubles or text by their physical form) and the
/// argument at that row; rows where either is NULL do not count (as in DuckDB). Among rows tied on the key the first
/// one seen is kept (DuckDB promises none in particular). The per-row loop compares keys in a typed loop; only an
/// improvement touches the argument.
final class ArgState: AggregateState {
    let isMin: Bool
    let argType: LogicalType, keyType: LogicalType
    private var keys: GroupValues, values: GroupValues
    private var seen: [Bool] = []
    /// Per group, the row of the current batch holding its best key, or -1 (all -1 between batches).
    private var winner: [Int32] = []
    /// The first row by an order (see `AggregateCall.keyNullsFirst`): NULL keys sort first (true) or last, and a NULL
    /// argument is a value; per group, whether the best key and its argument are NULL. Nil for arg_min / arg_max.
    let nullKeysFirst: Bool?
    private var keyIsNull: [Bool] = [], argIsNull: [Bool] = []

    init(isMin: Bool, argType: LogicalType, keyType: LogicalType, nullKeysFirst: Bool? = nil) {
        self.isMin = isMin
        self.argType = argType
        self.keyType = keyType
        self.nullKeysFirst = nullKeysFirst
        keys = GroupValues(keyType.physical)
        values = GroupValues(argType.physical)
    }

    private func grow(_ groups: Int) {
        let k = seen.pad(to: groups, with: false)
        guard k > 0 else { return }
        keys.grow(by: k)
        values.grow(by: k)
        if nullKeysFirst != nil {
            keyIsNull.pad(to: groups, with: false)
            argIsNull.pad(to: groups, with: false)
        }
    }

    /// Whether a key (NULL or not) beats group `g`'s best; `compare` orders it against the stored non-NULL key.
    @inline(__always)
    private func beats(keyNull: Bool, _ g: Int, _ compare: () -> Int) -> Bool {
        if !seen[g] { return true }
        let nullsFirst = nullKeysFirst ?? false
        if keyNull || keyIsNull[g] {
            // Ties (two NULL keys) keep the first row; a NULL key beats a value only when NULLs come first.
            return keyNull && !keyIsNull[g] ? nullsFirst : (!keyNull && keyIsNull[g] ? !nullsFirst : false)
        }
        let c = compare()
        return isMin ? c < 0 : c > 0
    }

    /// The first row by an order: as the typed loop, but NULL keys and arguments take part. Used for correlated
    /// `ORDER BY … LIMIT 1` subqueries (one group per outer row), not in the user-facing aggregates' hot path.
    private func updateFirstBy(_ arg: ColumnVector, key: ColumnVector, _ gids: UnsafePointer<Int32>, _ mask: UnsafePointer<UInt8>?, _ n: Int) {
        let keyValidity = Vectors.validity(key), argValidity = Vectors.validity(arg)
        let ints = key.type.physical == .double || key.type.physical == .bytes ? [] : AggregateStates.int64s(key)
        let doubles = key.type.physical == .double ? Vectors.pointer(key, Double.self) : nil
        let spans = key.type.physical == .bytes ? StringSpans(key) : nil
        var touched: [Int32] = []
        for i in 0..<n where mask.map({ $0[i] != 0 }) ?? true {
            let g = Int(gids[i])
            let keyNull = !Vectors.isValid(keyValidity, i)
            let better = beats(keyNull: keyNull, g) {
                if let doubles {
                    return AggregateStates.doubleLess(doubles[i], keys.doubles[g]) ? -1 : (AggregateStates.doubleLess(keys.doubles[g], doubles[i]) ? 1 : 0)
                }
                if let spans { return keys.texts[g].withUnsafeBytes { Compare.compareBytes(spans[i], $0) } }
                return ints[i] < keys.ints[g] ? -1 : (ints[i] > keys.ints[g] ? 1 : 0)
            }
            guard better else { continue }
            if !keyNull {
                if let doubles { keys.doubles[g] = doubles[i] } else if let spans { keys.texts[g].replaceSubrange(0..., with: spans[i]) } else { keys.ints[g] = ints[i] }
            }
            keyIsNull[g] = keyNull
            seen[g] = true
            if winner[g] < 0 { touched.append(Int32(truncatingIfNeeded: g)) }
            winner[g] = Int32(truncatingIfNeeded: i)
        }
        for g in touched { argIsNull[Int(g)] = !Vectors.isValid(argValidity, Int(winner[Int(g)])) }
        takeArguments(arg, touched)
    }

    /// Without the key there is nothing to compare: the aggregate operator calls ``update(_:key:_:_:_:groups:)``.
    func update(_ arg: ColumnVector?, _ gids: UnsafePointer<Int32>, _ mask: UnsafePointer<UInt8>?, _ n: Int, groups: Int) throws {
        preconditionFailure("arg_min / arg_max are updated with their key")
    }

    func update(_ arg: ColumnVector, key: ColumnVector, _ gids: UnsafePointer<Int32>, _ mask: UnsafePointer<UInt8>?, _ n: Int, groups: Int) {
        grow(groups)
        winner.pad(to: groups, with: -1)
        if nullKeysFirst != nil { return updateFirstBy(arg, key: key, gids, mask, n) }
        let argValidity = Vectors.validity(arg), keyValidity = Vectors.validity(key)
        @inline(__always) func counts(_ i: Int) -> Bool {
            AggregateStates.counts(mask, argValidity, i) && Vectors.isValid(keyValidity, i)
        }
        // First the keys: each group's best key and the batch row that holds it (events arrive in time order, so
        // arg_max(x, ts) improves on almost every row; the argument is copied once per group and batch, below).
        var touched: [Int32] = []
        winner.withUnsafeMutableBufferPointer { winner in
            seen.withUnsafeMutableBufferPointer { seen in
                @inline(__always) func won(_ i: Int, _ g: Int) {
                    if winner[g] < 0 { touched.append(Int32(truncatingIfNeeded: g)) }
                    winner[g] = Int32(truncatingIfNeeded: i)
                    seen[g] = true
                }
                switch keyType.physical {
                case .double:
                    let k = Vectors.pointer(key, Double.self)
                    keys.doubles.withUnsafeMutableBufferPointer { best in
                        for i in 0..<n where counts(i) {
                            let g = Int(gids[i])
                            if !seen[g] || (isMin ? AggregateStates.doubleLess(k[i], best[g]) : AggregateStates.doubleLess(best[g], k[i])) {
                                best[g] = k[i]
                                won(i, g)
                            }
                        }
                    }
                case .bytes:
                    let spans = StringSpans(key)
                    for i in 0..<n where counts(i) {
                        let g = Int(gids[i])
                        let s = spans[i]
                        let better = !seen[g] || keys.texts[g].withUnsafeBytes { old in
                            let c = Compare.compareBytes(s, old)
                            return isMin ? c < 0 : c > 0
                        }
                        if better {
                            keys.texts[g].replaceSubrange(0..., with: s)
                            won(i, g)
                        }
                    }
                default:
                    let widened = key.type.physical == .int64 ? [] : AggregateStates.int64s(key)
                    widened.withUnsafeBufferPointer { w in
                        let k = key.type.physical == .int64 ? Vectors.pointer(key, Int64.self) : w.baseAddress!
                        keys.ints.withUnsafeMutableBufferPointer { best in
                            for i in 0..<n where counts(i) {
                                let g = Int(gids[i])
                                if !seen[g] || (isMin ? k[i] < best[g] : k[i] > best[g]) {
                                    best[g] = k[i]
                                    won(i, g)
                                }
                            }
                        }
                    }
                }
            }
        }
        takeArguments(arg, touched)
    }

    /// Each touched group's argument, from its winning row in this batch; the winners are reset.
    private func takeArguments(_ arg: ColumnVector, _ touched: [Int32]) {
        switch argType.physical {
        case .double:
            let p = Vectors.pointer(arg, Double.self)
            for g in touched { values.doubles[Int(g)] = p[Int(winner[Int(g)])] }
        case .bytes:
            let spans = StringSpans(arg)
            for g in touched { values.texts[Int(g)].replaceSubrange(0..., with: spans[Int(winner[Int(g)])]) }
        case .int64:
            let p = Vectors.pointer(arg, Int64.self)
            for g in touched { values.ints[Int(g)] = p[Int(winner[Int(g)])] }
        default:
            let values = AggregateStates.int64s(arg)
            for g in touched { self.values.ints[Int(g)] = values[Int(winner[Int(g)])] }
        }
        for g in touched { winner[Int(g)] = -1 }
    }

    func merge(_ other: any AggregateState, _ map: [Int32], groups: Int) throws {
        let o = other as! ArgState
        grow(groups)
        for g in o.seen.indices where o.seen[g] {
            let t = Int(map[g])
            let better: Bool
            if nullKeysFirst != nil {
                better = beats(keyNull: o.keyIsNull[g], t) { keys.compare(o.keys, g, with: t) }
                if better {
                    keyIsNull[t] = o.keyIsNull[g]
                    argIsNull[t] = o.argIsNull[g]
                }
            } else {
                let c = seen[t] ? keys.compare(o.keys, g, with: t) : 0
                better = !seen[t] || (isMin ? c < 0 : c > 0)
            }
            guard better else { continue }
            seen[t] = true
            keys.take(o.keys, g, into: t)
            values.take(o.values, g, into: t)
        }
    }

    func finish(groups: Int) -> ColumnVector {
        grow(groups)
        guard nullKeysFirst != nil else { return values.column(argType, groups: groups, seen: seen) }
        return values.column(argType, groups: groups, seen: zip(seen, argIsNull).map { $0 && !$1 })
    }
}

extension Array {
    /// Appends `value` until the array holds `count` elements (a state's per-group lists as groups appear); returns
    /// how many were appended.
    @discardableResult
    mutating func pad(to count: Int, with value: Element) -> Int {
        let k = count - self.count
        guard k > 0 else { return 0 }
        append(contentsOf: repeatElement(value, count: k))
        return k
    }

    /// Room for `extra` more elements, growing at least twofold: `reserveCapacity(count + n)` per batch reallocates to
    /// exactly that and copies everything each time.
    mutating func reserveGrowing(_ extra: Int) {
        let needed = count + extra
        if needed > capacity { reserveCapacity(Swift.max(needed, capacity * 2)) }
    }
}
