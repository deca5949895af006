import SeamColumnar
import SeamKernels
import SeamSQL

/// Window functions with the default frame: the input is sorted by (PARTITION BY, ORDER BY) per call, each
/// partition is walked once, and results are written back in input order.
struct WindowOperator {
    let executor: Executor
    let calls: [WindowCall]

    func run(_ child: LogicalPlan, _ path: String) throws -> [Batch] {
        let types = child.schema.fields.map(\.type)
        let batches = try executor.collect(child, path)
        let all = batches.isEmpty ? Batch(columns: types.map { Vectors.constant(.null, $0, 0) }, count: 0) : concatBatches(batches, types)
        var extra: [ColumnVector] = []
        // Calls over the same PARTITION BY / ORDER BY (a funnel's lead(x) and lead(x, 2)) share one sort.
        var sorts: [SortSpec: [Int32]] = [:]
        for call in calls { extra.append(try compute(call, all, &sorts)) }
        let out = Batch(columns: all.columns + extra, count: all.count)
        return out.count > (1 << 16) ? gatherBatches(out, (0..<out.count).map { Int32($0) }) : [out]
    }

    /// What a window's sort depends on.
    struct SortSpec: Hashable {
        let partitionBy: [BoundExpr]
        let orderBy: [SortKey]
    }

    private func compute(_ call: WindowCall, _ b: Batch, _ sorts: inout [SortSpec: [Int32]]) throws -> ColumnVector {
        let n = b.count
        let ev = executor.evaluator
        let parts = try call.partitionBy.map { try ev.evaluate($0, b) }
        let orders = try call.orderBy.map { try ev.evaluate($0.expr, b) }
        let args = try call.arguments.map { try ev.evaluate($0, b) }
        let partCmp = RowComparator(parts, descending: parts.map { _ in false }, nullsFirst: parts.map { _ in true })
        let orderCmp = RowComparator(orders, descending: call.orderBy.map(\.descending), nullsFirst: call.orderBy.map(\.nullsFirst))
        let spec = SortSpec(partitionBy: call.partitionBy, orderBy: call.orderBy)
        let sorted: [Int32]
        if let done = sorts[spec] {
            sorted = done
        } else {
            let all = RowComparator(parts + orders, descending: parts.map { _ in false } + call.orderBy.map(\.descending), nullsFirst: parts.map { _ in true } + call.orderBy.map(\.nullsFirst))
            sorted = all.sortedIndices(n)
            sorts[spec] = sorted
        }
        // Results by input row: ints/doubles, or a gather index into the argument (-1 = NULL, -2 = default); only
        // the arrays this call writes are allocated.
        let usesPick: Bool, usesDoubles: Bool, usesValid: Bool
        switch call.kind {
        case .function(.lag), .function(.lead), .function(.firstValue), .function(.lastValue), .aggregate(.min), .aggregate(.max), .aggregate(.anyValue):
            (usesPick, usesDoubles, usesValid) = (true, false, false)
        case .function(.percentRank), .function(.cumeDist): (usesPick, usesDoubles, usesValid) = (false, true, false)
        case .aggregate(.sum), .aggregate(.avg): (usesPick, usesDoubles, usesValid) = (false, true, true)
        default: (usesPick, usesDoubles, usesValid) = (false, false, false)
        }
        var ints = [Int64](repeating: 0, count: usesPick || (usesDoubles && !usesValid) ? 0 : n)
        var doubles = [Double](repeating: 0, count: usesDoubles ? n : 0)
        var valid = [Bool](repeating: true, count: usesValid ? n : 0)
        var pick = [Int32](repeating: -1, count: usesPick ? n : 0)
        var start = 0
        while start < n {
            var end = start + 1
            while end < n && partCmp.compare(Int(sorted[start]), Int(sorted[end])) == 0 { end += 1 }
            try partition(call, sorted, start, end, orderCmp, args, &ints, &doubles, &valid, &pick)
            start = end
        }
        switch call.kind {
        case .function(.rowNumber), .function(.rank), .function(.denseRank), .function(.ntile):
            return ColumnVector(type: .bigint, count: n, values: Buffer(copying: ints))
        case .function(.percentRank), .function(.cumeDist):
            return ColumnVector(type: .double, count: n, values: Buffer(copying: doubles))
        case .function(.lag), .function(.lead), .function(.firstValue), .function(.lastValue), .aggregate(.min), .aggregate(.max), .aggregate(.anyValue):
            return pickValues(args[0], pick, defaultValue: args.count == 3 ? args[2] : nil, call.type)
        case .aggregate(.count), .aggregate(.countStar):
            return ColumnVector(type: .bigint, count: n, values: Buffer(copying: ints))
        case .aggregate(.sum):
            if call.type == .double {
                return ColumnVector(type: .double, count: n, values: Buffer(copying: doubles), validity: AggregateStates.validity(valid))
            }
            return ColumnVector(type: call.type, count: n, values: Buffer(copying: ints), validity: AggregateStates.validity(valid))
        case .aggregate(.avg):
            return ColumnVector(type: .double, count: n, values: Buffer(copying: doubles), validity: AggregateStates.validity(valid))
        case .aggregate(let a):
            throw SQLError(.unsupported, "\(a.rawValue) over a window is not supported yet")
        }
    }

    private func pickValues(_ arg: ColumnVector, _ pick: [Int32], defaultValue: ColumnVector?, _ t: LogicalType) -> ColumnVector {
        let n = pick.count
        let safe = pick.map { max($0, 0) }
        var gathered = n == 0 || arg.count == 0 ? Vectors.constant(.null, t, n) : Gather.rows(arg, safe)
        var flags = [UInt8](repeating: 1, count: n)
        var choice = [Int32](repeating: 0, count: n)
        for i in 0..<n {
            if pick[i] == -1 { flags[i] = 0 }
            if pick[i] == -2 { choice[i] = 1 }
            if pick[i] >= 0 && arg.isNull(Int(pick[i])) { flags[i] = 0 }
        }
        let validity = flags.withUnsafeBufferPointer { Vectors.validity(fromFlags: $0.baseAddress!, n) }
        gathered = Vectors.withValidity(gathered, validity)
        if let defaultValue { return Pick.rows([gathered, defaultValue], choice, t, n) }
        return gathered
    }

    private func partition(
        _ call: WindowCall, _ sorted: [Int32], _ start: Int, _ end: Int, _ orderCmp: RowComparator, _ args: [ColumnVector],
        _ ints: inout [Int64], _ doubles: inout [Double], _ valid: inout [Bool], _ pick: inout [Int32]
    ) throws {
        let size = end - start
        let ordered = !call.orderBy.isEmpty
        // Peer groups: runs of rows equal on ORDER BY (the whole partition without ORDER BY), for the functions
        // whose result depends on peers.
        let needsPeers: Bool
        switch call.kind {
        case .function(.rowNumber), .function(.ntile), .function(.lag), .function(.lead), .function(.firstValue): needsPeers = false
        default: needsPeers = true
        }
        var peerEnd = [Int](repeating: end, count: needsPeers ? size : 0)
        if ordered && needsPeers {
            var p = start
            while p < end {
                var q = p + 1
                while q < end && orderCmp.compare(Int(sorted[p]), Int(sorted[q])) == 0 { q += 1 }
                for r in p..<q { peerEnd[r - start] = q }
                p = q
            }
        }
        switch call.kind {
        case .function(let f):
            var rank = 1
            var dense = 0
            // Constant arguments (ntile's buckets, lag/lead's offset) read once, not per row.
            let constantArg: [Value?] = call.arguments.indices.map { k in
                if case .constant(let v, _) = call.arguments[k] { return v } else { return nil }
            }
            func argument(_ k: Int, _ row: Int) -> Value { constantArg[k] ?? args[k].value(at: row) }
            for pos in start..<end {
                let row = Int(sorted[pos])
                let isFirstPeer = pos == start || (needsPeers && ordered && orderCmp.compare(Int(sorted[pos - 1]), row) != 0)
                if isFirstPeer {
                    rank = pos - start + 1
                    dense += 1
                }
                switch f {
                case .rowNumber: ints[row] = Int64(pos - start + 1)
                case .rank: ints[row] = Int64(ordered ? rank : 1)
                case .denseRank: ints[row] = Int64(ordered ? dense : 1)
                case .percentRank: doubles[row] = size > 1 ? Double((ordered ? rank : 1) - 1) / Double(size - 1) : 0
                case .cumeDist: doubles[row] = Double(peerEnd[pos - start] - start) / Double(size)
                case .ntile:
                    guard case .bigint(let buckets) = argument(0, row), buckets > 0 else {
                        throw SQLError(.runtime, "Invalid Input Error: Argument for ntile must be greater than zero")
                    }
                    let b = Int(buckets)
                    let r = pos - start
                    let small = size / b
                    let large = size % b
                    let boundary = large * (small + 1)
                    ints[row] = Int64(r < boundary ? r / (small + 1) + 1 : (small == 0 ? r + 1 : (r - boundary) / small + large + 1))
                case .lag, .lead:
                    var offset = 1
                    if args.count >= 2 {
                        guard case .bigint(let o) = argument(1, row) else {
                            pick[row] = -1
                            continue
                        }
                        offset = Int(o)
                    }
                    let target = f == .lag ? pos - offset : pos + offset
                    pick[row] = (target >= start && target < end) ? sorted[target] : (args.count == 3 ? -2 : -1)
                case .firstValue: pick[row] = sorted[start]
                case .lastValue: pick[row] = sorted[peerEnd[pos - start] - 1]
                }
            }
        case .aggregate(let a):
            let arg = args.first
            let val = arg.flatMap(Vectors.validity)
            var count: Int64 = 0
            var isum: Int64 = 0
            var dsum = 0.0
            var best: Int32 = -1
            let bestCmp = arg.map { RowComparator([$0], descending: [false], nullsFirst: [false]) }
            var pos = start
            while pos < end {
                let groupEnd = peerEnd[pos - start]
                for p in pos..<groupEnd {
                    let row = Int(sorted[p])
                    if a == .countStar {
                        count += 1
                        continue
                    }
                    guard let arg, Vectors.isValid(val, row) else { continue }
                    count += 1
                    switch arg.type.physical {
                    case .double: dsum += Vectors.pointer(arg, Double.self)[row]
                    case .int32: isum &+= Int64(Vectors.pointer(arg, Int32.self)[row])
                    case .int64: isum &+= Vectors.pointer(arg, Int64.self)[row]
                    case .uint8: isum &+= Int64(Vectors.pointer(arg, UInt8.self)[row])
                    case .bytes: break
                    }
                    if a == .min || a == .max || a == .anyValue {
                        if best < 0 {
                            best = Int32(row)
                        } else if a != .anyValue, let c = bestCmp?.compare(row, Int(best)), a == .min ? c < 0 : c > 0 {
                            best = Int32(row)
                        }
                    }
                }
                for p in pos..<groupEnd {
                    let row = Int(sorted[p])
                    switch a {
                    case .count, .countStar: ints[row] = count
                    case .sum:
                        valid[row] = count > 0
                        if call.type == .double { doubles[row] = dsum } else { ints[row] = isum }
                    case .avg:
                        valid[row] = count > 0
                        let scale: Double = arg?.type == .decimal ? 100 : 1
                        doubles[row] = count == 0 ? 0 : (arg?.type == .double ? dsum : Double(isum) / scale) / Double(count)
                    case .min, .max, .anyValue: pick[row] = best
                    default: break
                    }
                }
                pos = groupEnd
            }
        }
    }
}
