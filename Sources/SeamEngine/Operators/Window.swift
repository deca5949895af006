import SeamColumnar
import SeamKernels
import SeamSQL
import Synchronization

/// Window functions: the input is sorted by the first call's (PARTITION BY, ORDER BY) and handed on in that order,
/// so every call over the same window (a funnel's `lead(x)` and `lead(x, 2)`) walks its partitions sequentially;
/// a call over another window sorts the rows again, and its results are written back in the order handed on.
struct WindowOperator {
    let executor: Executor
    let calls: [WindowCall]
    /// The output columns the operators above read (nil: all). Input columns outside it are not reordered: they are
    /// handed on as NULL placeholders.
    var needed: Set<Int>? = nil

    func run(_ child: LogicalPlan, _ path: String) throws -> [Batch] {
        let types = child.schema.fields.map(\.type)
        // When the stored layout gives the window order, the ORDER BY columns are neither read nor sorted on: only
        // the columns read above, the calls' arguments and the partition key are decoded and concatenated.
        let decoded = try storedOrder(child).map { partition in
            calls.reduce(into: (needed ?? Set(types.indices)).filter { $0 < types.count }.union([partition])) { $0.formUnion($1.arguments.flatMap(\.columnsUsed)) }
        }
        if decoded != nil { executor.windowsInStoredOrder.withLock { _ = $0.insert(path) } }
        var batches = try executor.collect(child, path, needed: decoded)
        var all: Batch
        if batches.isEmpty {
            all = Batch(columns: types.map { Vectors.constant(.null, $0, 0) }, count: 0)
        } else if let decoded {
            let read = decoded.sorted()
            let kept = try concatBatches(batches.map { b in Batch(columns: read.map { b.columns[$0] }, count: b.count) }, read.map { types[$0] }, executor: executor)
            var columns = types.map(Self.placeholder)
            for (k, c) in read.enumerated() { columns[c] = kept.columns[k] }
            all = Batch(columns: columns, count: kept.count)
        } else {
            all = try concatBatches(batches, types, executor: executor)
        }
        batches = []
        let n = all.count
        // Per call: the order (4 bytes a row, shared by calls with one sort) and the results (up to 12 bytes a row).
        try executor.memory.reserve(n * 16 * max(calls.count, 1))
        // Calls over the same PARTITION BY / ORDER BY share one sort.
        var sorts: [SortSpec: WindowOrder] = [:]
        var carried = Set(types.indices)
        if let first = calls.first, n > 0 {
            // The first call's order, then the input columns that are read again, reordered by it.
            let order = try makeOrder(first, all, orderStored: decoded != nil)
            let spec = SortSpec(first)
            carried = needed.map { $0.filter { $0 < types.count } } ?? Set(types.indices)
            for call in calls {
                for e in call.arguments { carried.formUnion(e.columnsUsed) }
                if SortSpec(call) != spec || Self.readsOrderValues(call) {
                    for e in call.partitionBy + call.orderBy.map(\.expr) { carried.formUnion(e.columnsUsed) }
                }
            }
            try executor.memory.reserve(carried.reduce(0) { $0 + all.columns[$1].heldByteCount })
            let reordered = try order.sorted.withUnsafeBufferPointer { sorted in
                // Picking rows by number (none is negative) gathers values, dictionary codes and validity on every worker.
                try types.indices.map { c in
                    carried.contains(c) ? try pickValues(all.columns[c], sorted, defaultValue: nil, types[c]) : Self.placeholder(types[c])
                }
            }
            all = Batch(columns: reordered, count: n)
            sorts[spec] = WindowOrder(inOrder: n, starts: order.starts)
        }
        // The other orders the calls need, sorted at once on every worker (a sort runs on one thread): RFM's three
        // ntile orders over 1.4M customers.
        var pending: [WindowCall] = []
        for call in calls where sorts[SortSpec(call)] == nil && !pending.contains(where: { SortSpec($0) == SortSpec(call) }) { pending.append(call) }
        if pending.count > 1 && n > 0 {
            // Each worker writes its own slot.
            let slots = UnsafeMutablePointer<WindowOrder?>.allocate(capacity: pending.count)
            slots.initialize(repeating: nil, count: pending.count)
            defer {
                slots.deinitialize(count: pending.count)
                slots.deallocate()
            }
            let out = UncheckedSendable(value: slots), input = UncheckedSendable(value: all)
            try parallelFor(pending.count, threads: executor.threads, token: executor.token) { _, k in
                out.value[k] = try orderFor(pending[k], input.value)
            }
            for (k, call) in pending.enumerated() { sorts[SortSpec(call)] = slots[k]! }
        }
        var extra: [ColumnVector] = []
        for call in calls { extra.append(try compute(call, all, &sorts)) }
        let out = Batch(columns: all.columns + extra, count: n)
        // Batches of 64K rows for the operators above, which run batches in parallel; the vectors are shared.
        if n == 0 { return [out] }
        return stride(from: 0, to: n, by: 1 << 16).map { start in
            let rows = start..<min(start + (1 << 16), n)
            return Batch(columns: out.columns.indices.map { c in
                c < types.count && !carried.contains(c) ? Gather.view(out.columns[c], 0..<rows.count) : Gather.view(out.columns[c], rows)
            }, count: rows.count)
        }
    }

    /// The input column the window is partitioned by, when every call is over one window `PARTITION BY column
    /// ORDER BY columns` (ascending, NULLs last) that reads no ORDER BY values (lag, lead, row_number, ntile,
    /// first_value) and the scan below delivers each partition's rows in that order (``Executor/arrivesInWindowOrder``).
    private func storedOrder(_ child: LogicalPlan) throws -> Int? {
        guard let first = calls.first, first.partitionBy.count == 1, case .column(let partition, _) = first.partitionBy[0] else { return nil }
        var order: [Int] = []
        for key in first.orderBy {
            guard !key.descending, !key.nullsFirst, case .column(let c, _) = key.expr else { return nil }
            order.append(c)
        }
        let spec = SortSpec(first)
        guard calls.allSatisfy({ SortSpec($0) == spec && !Self.readsOrderValues($0) }) else { return nil }
        return try executor.arrivesInWindowOrder(child, partition: partition, order: order) ? partition : nil
    }

    /// A NULL column of a batch's rows, handed on (as views) for every input column nothing above reads.
    private static func placeholder(_ t: LogicalType) -> ColumnVector { Vectors.constant(.null, t, 1 << 16) }

    /// What a window's sort depends on.
    struct SortSpec: Hashable {
        let partitionBy: [BoundExpr]
        let orderBy: [SortKey]

        init(_ call: WindowCall) {
            partitionBy = call.partitionBy
            orderBy = call.orderBy
        }
    }

    /// Whether a call reads its ORDER BY values once its rows are in order: for peers (rank, the default frame of
    /// aggregates, last_value) and frames. row_number, ntile, lag, lead and first_value only need the order.
    static func readsOrderValues(_ call: WindowCall) -> Bool {
        if call.frame != nil { return true }
        switch call.kind {
        case .function(.rowNumber), .function(.ntile), .function(.lag), .function(.lead), .function(.firstValue): return false
        default: return true
        }
    }

    /// The rows in the window's order; with `orderStored`, rows arrive ordered within each partition already
    /// (``storedOrder(_:)``) and are only partitioned, keeping their order.
    private func makeOrder(_ call: WindowCall, _ b: Batch, orderStored: Bool = false) throws -> WindowOrder {
        let ev = executor.evaluator
        let orderBy = orderStored ? [] : call.orderBy
        let parts = try call.partitionBy.map { try ev.evaluate($0, b) }
        let orders = try orderBy.map { try ev.evaluate($0.expr, b) }
        let partCmp = RowComparator(parts, descending: parts.map { _ in false }, nullsFirst: parts.map { _ in true })
        let orderCmp = RowComparator(orders, descending: orderBy.map(\.descending), nullsFirst: orderBy.map(\.nullsFirst))
        // Rows in order within partitions arrive as a few runs sorted by the key (the segments): merged.
        if orderStored, parts.count == 1, let merged = try WindowOrder.byMergingRuns(parts[0], executor: executor) { return merged }
        return try WindowOrder(parts: parts, partCmp: partCmp, orderCmp: orderCmp, orderBy: orderBy, n: b.count, executor: executor)
    }

    /// The rows of `b` in the call's window order. `parts` and `orders`: its PARTITION BY and ORDER BY values over
    /// `b`, when evaluated already.
    private func orderFor(_ call: WindowCall, _ b: Batch, parts: [ColumnVector]? = nil, orders: [ColumnVector]? = nil) throws -> WindowOrder {
        let ev = executor.evaluator
        let parts = try parts ?? call.partitionBy.map { try ev.evaluate($0, b) }
        let orders = try orders ?? call.orderBy.map { try ev.evaluate($0.expr, b) }
        let partCmp = RowComparator(parts, descending: parts.map { _ in false }, nullsFirst: parts.map { _ in true })
        let orderCmp = RowComparator(orders, descending: call.orderBy.map(\.descending), nullsFirst: call.orderBy.map(\.nullsFirst))
        return try WindowOrder(parts: parts, partCmp: partCmp, orderCmp: orderCmp, orderBy: call.orderBy, n: b.count, executor: executor)
    }

    private func compute(_ call: WindowCall, _ b: Batch, _ sorts: inout [SortSpec: WindowOrder]) throws -> ColumnVector {
        let n = b.count
        let ev = executor.evaluator
        let spec = SortSpec(call)
        // In the order handed on, the partition keys are not read again, nor the ORDER BY keys unless for peers.
        let presorted = sorts[spec] != nil
        let parts = presorted ? [] : try call.partitionBy.map { try ev.evaluate($0, b) }
        let orders = presorted && !Self.readsOrderValues(call) ? [] : try call.orderBy.map { try ev.evaluate($0.expr, b) }
        // Constant arguments that are not picked from (lag/lead's offset and default, ntile's bucket count) are read
        // once from the call; a vector of n copies would cost as much memory as a column.
        var isNtile = false, comparesKeys = false
        if case .function(.ntile) = call.kind { isNtile = true }
        if case .aggregate(let a) = call.kind, a == .argMin || a == .argMax { comparesKeys = true }
        let args = try call.arguments.enumerated().map { k, e -> ColumnVector in
            if (k > 0 && !comparesKeys) || isNtile, case .constant(let v, let t) = e { return Vectors.constant(v, t, 1) }
            return try ev.evaluate(e, b)
        }
        let orderCmp = RowComparator(orders, descending: call.orderBy.map(\.descending), nullsFirst: call.orderBy.map(\.nullsFirst))
        // A RANGE frame's offsets are distances in its one ORDER BY key.
        let rangeKey = call.frame?.range == true && orders.count == 1 ? orders.first : nil
        let order: WindowOrder
        if let done = sorts[spec] {
            order = done
        } else {
            order = try orderFor(call, b, parts: parts, orders: orders)
            sorts[spec] = order
        }
        if order.inOrder, let shift = Self.constantShift(call), shift.outside == -1, let moved = try shiftedInOrder(args[0], by: shift.delta, order.starts) {
            return moved
        }
        // Results by input row: ints/doubles, or a gather index into the argument (-1 = NULL, -2 = default); only
        // the arrays this call writes are allocated.
        let usesPick: Bool, usesDoubles: Bool, usesValid: Bool
        switch call.kind {
        case .function(.lag), .function(.lead), .function(.firstValue), .function(.lastValue), .aggregate(.min), .aggregate(.max), .aggregate(.anyValue),
            .aggregate(.argMin), .aggregate(.argMax):
            (usesPick, usesDoubles, usesValid) = (true, false, false)
        case .function(.percentRank), .function(.cumeDist): (usesPick, usesDoubles, usesValid) = (false, true, false)
        case .aggregate(.sum), .aggregate(.avg): (usesPick, usesDoubles, usesValid) = (false, true, true)
        default: (usesPick, usesDoubles, usesValid) = (false, false, false)
        }
        // Result memory comes from large-buffer pages and becomes the result vector without a copy. Every row is
        // written: partitions cover all rows, and every function writes each row of its partition.
        let (intsBuffer, intsMemory) = Buffer.forFilling(byteCount: usesPick || (usesDoubles && !usesValid) ? 0 : n * 8, zeroed: false)
        let (doublesBuffer, doublesMemory) = Buffer.forFilling(byteCount: usesDoubles ? n * 8 : 0, zeroed: false)
        let (pickBuffer, pickMemory) = Buffer.forFilling(byteCount: usesPick ? n * 4 : 0, zeroed: false)
        var valid = [Bool](repeating: true, count: usesValid ? n : 0)
        // Partitions are independent and write disjoint rows: chunks of them run on every worker.
        let shift = Self.constantShift(call)
        try valid.withUnsafeMutableBufferPointer { valid in
            // Rows already in window order need no row numbers for a shift: a position picks a position.
            try order.withRows(needed: shift == nil) { sorted in
                let out = UncheckedSendable(value: WindowOutputs(
                    ints: intsMemory.bindMemory(to: Int64.self), doubles: doublesMemory.bindMemory(to: Double.self), valid: valid,
                    pick: pickMemory.bindMemory(to: Int32.self), sorted: sorted))
                let chunks = order.chunks(threads: executor.threads)
                try parallelFor(chunks.count, threads: executor.threads, token: executor.token) { _, c in
                    if let shift, order.inOrder {
                        let pick = out.value.pick
                        for p in chunks[c] {
                            let start = order.starts[p], end = order.starts[p + 1]
                            for pos in start..<end {
                                let target = pos &+ shift.delta
                                pick[pos] = target >= start && target < end ? Int32(truncatingIfNeeded: target) : shift.outside
                            }
                        }
                        return
                    }
                    if let shift {
                        // lag/lead by a constant: each row picks the row `delta` places away, in one loop.
                        let sorted = out.value.sorted, pick = out.value.pick
                        for p in chunks[c] {
                            let start = order.starts[p], end = order.starts[p + 1]
                            for pos in start..<end {
                                let target = pos &+ shift.delta
                                pick[Int(sorted[pos])] = target >= start && target < end ? sorted[target] : shift.outside
                            }
                        }
                        return
                    }
                    for p in chunks[c] {
                        try partition(call, out.value, order.starts[p], order.starts[p + 1], orderCmp, args, rangeKey)
                    }
                }
            }
        }
        switch call.kind {
        case .function(.rowNumber), .function(.rank), .function(.denseRank), .function(.ntile):
            return ColumnVector(type: .bigint, count: n, values: intsBuffer)
        case .function(.percentRank), .function(.cumeDist):
            return ColumnVector(type: .double, count: n, values: doublesBuffer)
        case .function(.lag), .function(.lead), .function(.firstValue), .function(.lastValue), .aggregate(.min), .aggregate(.max), .aggregate(.anyValue),
            .aggregate(.argMin), .aggregate(.argMax):
            return try withExtendedLifetime(pickBuffer) {
                try pickValues(args[0], pickBuffer.typed(Int32.self, count: n), defaultValue: args.count == 3 ? args[2] : nil, call.type)
            }
        case .aggregate(.count), .aggregate(.countStar):
            return ColumnVector(type: .bigint, count: n, values: intsBuffer)
        case .aggregate(.sum):
            if call.type == .double {
                return ColumnVector(type: .double, count: n, values: doublesBuffer, validity: AggregateStates.validity(valid))
            }
            return ColumnVector(type: call.type, count: n, values: intsBuffer, validity: AggregateStates.validity(valid))
        case .aggregate(.avg):
            return ColumnVector(type: .double, count: n, values: doublesBuffer, validity: AggregateStates.validity(valid))
        case .aggregate(let a):
            throw SQLError(.unsupported, "\(a.rawValue) over a window is not supported yet")
        }
    }

    /// lag/lead by a constant, without a default, over rows in window order: the argument's values (or dictionary
    /// codes) moved `delta` places in one copy, and its validity shifted a word at a time, then cleared where the
    /// picked row is outside the partition. Nil for plain text, which takes the pick path.
    private func shiftedInOrder(_ arg: ColumnVector, by delta: Int, _ starts: [Int]) throws -> ColumnVector? {
        let n = arg.count
        if delta == 0 { return arg }
        let width = arg.dictionary != nil ? 4 : arg.type.physical.width
        guard let width, n > 0, arg.dictionary.map({ $0.entries.count > 0 }) ?? true else { return nil }
        let d = Int(delta.magnitude)
        let moved = max(0, n - d)
        // Row `pos` takes row `pos + delta`; rows with no such row get zeros (a valid code) and are NULL below.
        let src = UncheckedSendable(value: arg.dictionary?.codes.base ?? arg.values.base)
        let pieces = max(1, min(executor.threads * 2, moved >> 16))
        let piece = (moved + pieces - 1) / pieces
        let values = try Buffer(uninitializedByteCount: n * width) { raw in
            let to = UncheckedSendable(value: raw.baseAddress!)
            let (from, into) = delta > 0 ? (d, 0) : (0, d)
            try parallelFor(pieces, threads: executor.threads, token: executor.token) { _, k in
                let lo = k * piece, hi = min(moved, lo + piece)
                guard hi > lo else { return }
                (to.value + (into + lo) * width).copyMemory(from: src.value + (from + lo) * width, byteCount: (hi - lo) * width)
            }
            let blank = delta > 0 ? moved..<n : 0..<min(d, n)
            (raw.baseAddress! + blank.lowerBound * width).initializeMemory(as: UInt8.self, repeating: 0, count: blank.count * width)
        }
        let words = Bitmap.wordCount(n)
        let sourceBits = Vectors.validity(arg)
        let validity = Buffer(uninitializedByteCount: words * 8) { raw in
            let out = raw.bindMemory(to: UInt64.self)
            // Bits s..<s+64 of the argument's validity, 0 for rows outside 0..<n.
            func bits(at s: Int) -> UInt64 {
                let lowJ = max(0, -s), highJ = min(64, n - s)
                guard highJ > lowJ else { return 0 }
                var v = UInt64.max
                if let sourceBits {
                    let q = s >> 6, r = s & 63
                    let lo = q >= 0 && q < words ? sourceBits[q] : 0
                    let hi = q + 1 >= 0 && q + 1 < words ? sourceBits[q + 1] : 0
                    v = r == 0 ? lo : (lo >> UInt64(r)) | (hi << UInt64(64 - r))
                }
                let span = highJ - lowJ
                let mask = (span == 64 ? UInt64.max : (UInt64(1) << UInt64(span)) - 1) << UInt64(lowJ)
                return v & mask
            }
            for w in 0..<words { out[w] = bits(at: w * 64 + delta) }
            // The rows whose pick falls past their partition's end (lead) or before its start (lag).
            for p in 0..<(starts.count - 1) {
                let start = starts[p], end = starts[p + 1]
                let outside = delta > 0 ? max(start, end - d)..<end : start..<min(end, start + d)
                for pos in outside { out[pos >> 6] &= ~(UInt64(1) << UInt64(pos & 63)) }
            }
        }
        if let dict = arg.dictionary { return ColumnVector(codes: values, entries: dict.entries, count: n, validity: validity) }
        return ColumnVector(type: arg.type, count: n, values: values, validity: validity)
    }

    /// For lag/lead with a constant offset (or none): how far the picked row is in partition order (negative for
    /// lag) and what a row picks when that is outside its partition (-2: the default, -1: NULL).
    static func constantShift(_ call: WindowCall) -> (delta: Int, outside: Int32)? {
        guard case .function(let f) = call.kind, f == .lag || f == .lead else { return nil }
        var offset = 1
        if call.arguments.count >= 2 {
            guard case .constant(.bigint(let o), _) = call.arguments[1], let x = Int(exactly: o), x.magnitude < Int.max / 2 else { return nil }
            offset = x
        }
        return (f == .lag ? -offset : offset, call.arguments.count == 3 ? -2 : -1)
    }

    /// Row `i` takes `arg[pick[i]]`; -1 is NULL and -2 the default (lag/lead's third argument). Fixed-width and
    /// dictionary-form arguments are picked in one pass into the result (values or codes, and validity); plain text
    /// is gathered.
    private func pickValues(_ arg: ColumnVector, _ pick: UnsafeBufferPointer<Int32>, defaultValue: ColumnVector?, _ t: LogicalType) throws -> ColumnVector {
        let n = pick.count
        if n == 0 || arg.count == 0 {
            let nulls = Vectors.constant(.null, t, n)
            return defaultValue.map { d in
                Pick.rows([nulls, d.count == n ? d : Vectors.constant(d.value(at: 0), t, n)], pick.map { $0 == -2 ? 1 : 0 }, t, n)
            } ?? nulls
        }
        let argValidity = UncheckedSendable(value: Vectors.validity(arg))
        // Ranges of rows, whole validity words each, a few per worker, picked on every worker.
        let piece = max(1024, (n / max(1, executor.threads * 4) + 63) & ~63)
        let pieces = (n + piece - 1) / piece
        let nulls = Atomic<Int>(0)
        let validity = try { () throws -> Buffer in
            let pick = UncheckedSendable(value: pick)
            // Every word is stored: pieces are whole words.
            return try Buffer(uninitializedByteCount: Bitmap.wordCount(n) * 8) { raw in
                let out = UncheckedSendable(value: raw.bindMemory(to: UInt64.self).baseAddress!)
                try parallelFor(pieces, threads: executor.threads, token: executor.token) { _, k in
                    let rows = k * piece..<min(n, (k + 1) * piece)
                    let set = Bitmap.gather(argValidity.value, rows: pick.value, range: rows, into: out.value)
                    nulls.add(rows.count - set, ordering: .relaxed)
                }
            }
        }()
        let anyNull = nulls.load(ordering: .relaxed) > 0
        func picked<T>(_ src: UnsafePointer<T>) throws -> Buffer {
            let src = UncheckedSendable(value: src)
            let pick = UncheckedSendable(value: pick)
            return try Buffer(uninitializedByteCount: n * MemoryLayout<T>.stride) { raw in
                let out = UncheckedSendable(value: raw.bindMemory(to: T.self))
                try parallelFor(pieces, threads: executor.threads, token: executor.token) { _, k in
                    for i in k * piece..<min(n, (k + 1) * piece) { out.value[i] = src.value[Int(max(pick.value[i], 0))] }
                }
            }
        }
        let gathered: ColumnVector
        if let d = arg.dictionary {
            gathered = ColumnVector(codes: try picked(d.codePointer), entries: d.entries, count: n, validity: anyNull ? validity : nil)
        } else if let width = arg.type.physical.width {
            let values: Buffer
            switch width {
            case 1: values = try picked(Vectors.pointer(arg, UInt8.self))
            case 4: values = try picked(Vectors.pointer(arg, UInt32.self))
            default: values = try picked(Vectors.pointer(arg, UInt64.self))
            }
            gathered = ColumnVector(type: arg.type, count: n, values: values, validity: anyNull ? validity : nil)
        } else {
            gathered = Gather.rows(arg, pick.map { max($0, 0) }).withValidity(anyNull ? validity : nil)
        }
        guard var defaultValue else { return gathered }
        if defaultValue.count != n { defaultValue = Vectors.constant(defaultValue.value(at: 0), t, n) }
        return Pick.rows([gathered, defaultValue], pick.map { $0 == -2 ? 1 : 0 }, t, n)
    }

    private func partition(
        _ call: WindowCall, _ out: WindowOutputs, _ start: Int, _ end: Int, _ orderCmp: RowComparator, _ args: [ColumnVector],
        _ rangeKey: ColumnVector?
    ) throws {
        let frames = call.frame.map { FrameResolver($0, sorted: out.sorted, start, end, orderCmp, key: rangeKey, descending: call.orderBy.first?.descending ?? false) }
        let sorted = out.sorted, ints = out.ints, doubles = out.doubles, valid = out.valid, pick = out.pick
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
                case .firstValue, .lastValue:
                    if let frames {
                        let (lo, hi) = frames.bounds(pos - start)
                        pick[row] = lo > hi ? -1 : sorted[start + (f == .firstValue ? lo : hi)]
                    } else {
                        pick[row] = f == .firstValue ? sorted[start] : sorted[peerEnd[pos - start] - 1]
                    }
                }
            }
        case .aggregate(let f) where frames != nil:
            // arg_min / arg_max pick the row with the best key (their second argument, NULL where the first is), as
            // min / max pick the row with the best value; the first argument is gathered from the picked rows.
            let (a, compared) = Self.comparedAs(f, args)
            try framedAggregate(a, call, frames!, out, start, end, compared)
        case .aggregate(let f):
            let (a, arg) = Self.comparedAs(f, args)
            let val = arg.flatMap(Vectors.validity)
            var count: Int64 = 0
            var isum: Int64 = 0
            // The integer sum also in floating point, for avg once the exact sum has left 64 bits.
            var isumAsDouble = 0.0
            var overflowed = false
            var dsum = 0.0
            var best: Int32 = -1
            let bestCmp = arg.map { RowComparator([$0], descending: [false], nullsFirst: [false]) }
            let numbers = arg.flatMap(NumericColumn.init)
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
                    let (x, d) = numbers?.value(row) ?? (0, 0)
                    if arg.type.physical == .double { dsum += d }
                    let (r, o) = isum.addingReportingOverflow(x)
                    isum = r
                    isumAsDouble += Double(x)
                    overflowed = overflowed || o
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
                        if call.type == .double {
                            doubles[row] = dsum
                        } else {
                            if overflowed { throw SQLError(.runtime, "Out of Range Error: sum overflows BIGINT (Seam sums into 64 bits)") }
                            ints[row] = isum
                        }
                    case .avg:
                        valid[row] = count > 0
                        let scale: Double = arg?.type == .decimal ? 100 : 1
                        let total = arg?.type == .double ? dsum : (overflowed ? isumAsDouble : Double(isum)) / scale
                        doubles[row] = count == 0 ? 0 : total / Double(count)
                    case .min, .max, .anyValue: pick[row] = best
                    default: break
                    }
                }
                pos = groupEnd
            }
        }
    }
}

extension WindowOperator {
    /// The aggregate a window call computes its picks by, and the column it compares: arg_min / arg_max as min / max
    /// over their key.
    static func comparedAs(_ f: AggregateFunction, _ args: [ColumnVector]) -> (AggregateFunction, ColumnVector?) {
        switch f {
        case .argMin: return (.min, args[1])
        case .argMax: return (.max, args[1])
        default: return (f, args.first)
        }
    }

    /// An aggregate over a `ROWS` frame. count, sum and avg take differences of running totals over the partition
    /// (the 64-bit totals may wrap; the difference is still exact whenever the frame's own sum fits, which the
    /// floating-point totals check); min, max and any_value keep a running best when one end is unbounded and look
    /// at each frame's rows otherwise.
    fileprivate func framedAggregate(
        _ a: AggregateFunction, _ call: WindowCall, _ frames: FrameResolver, _ out: WindowOutputs, _ start: Int, _ end: Int,
        _ arg: ColumnVector?
    ) throws {
        let frame = frames.frame
        let size = end - start
        let sorted = out.sorted
        let val = arg.flatMap(Vectors.validity)
        func counted(_ row: Int) -> Bool { a == .countStar || (arg != nil && Vectors.isValid(val, row)) }
        switch a {
        case .count, .countStar, .sum, .avg:
            let numbers = arg.flatMap(NumericColumn.init)
            var counts = [Int64](repeating: 0, count: size + 1)
            var ints = [Int64](repeating: 0, count: size + 1)
            var doubles = [Double](repeating: 0, count: size + 1)
            for p in 0..<size {
                let row = Int(sorted[start + p])
                var x: Int64 = 0, d = 0.0
                let c = counted(row)
                if c, a != .countStar, let numbers { (x, d) = numbers.value(row) }
                counts[p + 1] = counts[p] + (c ? 1 : 0)
                ints[p + 1] = ints[p] &+ x
                doubles[p + 1] = doubles[p] + d
            }
            let isDouble = arg?.type == .double
            let scale: Double = arg?.type == .decimal ? 100 : 1
            for p in 0..<size {
                let row = Int(sorted[start + p])
                let (lo, hi) = frames.bounds(p)
                let n = lo > hi ? 0 : counts[hi + 1] - counts[lo]
                let isum = lo > hi ? 0 : ints[hi + 1] &- ints[lo]
                let dsum = lo > hi ? 0 : doubles[hi + 1] - doubles[lo]
                switch a {
                case .count, .countStar:
                    out.ints[row] = n
                case .sum:
                    out.valid[row] = n > 0
                    if isDouble {
                        out.doubles[row] = dsum
                    } else {
                        if abs(dsum) > 9.2e18 { throw SQLError(.runtime, "Out of Range Error: sum overflows BIGINT (Seam sums into 64 bits)") }
                        out.ints[row] = isum
                    }
                default:  // avg
                    out.valid[row] = n > 0
                    let total = isDouble ? dsum : (abs(dsum) > 9.2e18 ? dsum : Double(isum)) / scale
                    out.doubles[row] = n == 0 ? 0 : total / Double(n)
                }
            }
        case .min, .max, .anyValue:
            guard let arg else { return }
            let cmp = RowComparator([arg], descending: [false], nullsFirst: [false])
            func better(_ row: Int, than best: Int32) -> Bool {
                if best < 0 { return true }
                if a == .anyValue { return false }
                let c = cmp.compare(row, Int(best))
                return a == .min ? c < 0 : c > 0
            }
            if frame.start == .unboundedPreceding {
                // The frame's end only moves forward: extend the best so far.
                var b: Int32 = -1, through = -1
                for p in 0..<size {
                    let (_, hi) = frames.bounds(p)
                    while through < hi {
                        through += 1
                        let row = Int(sorted[start + through])
                        if counted(row) && better(row, than: b) { b = Int32(row) }
                    }
                    out.pick[Int(sorted[start + p])] = hi < 0 ? -1 : b
                }
            } else if frame.end == .unboundedFollowing && a != .anyValue {
                // The frame's start only moves forward: the best of each suffix, from the end. On ties the earlier row
                // wins, as in the other paths (it matters to arg_min / arg_max, which return another column of it).
                var suffix = [Int32](repeating: -1, count: size + 1)
                for q in stride(from: size - 1, through: 0, by: -1) {
                    let row = Int(sorted[start + q])
                    let next = suffix[q + 1]
                    suffix[q] = counted(row) && (next < 0 || !better(Int(next), than: Int32(row))) ? Int32(row) : next
                }
                for p in 0..<size {
                    let (lo, _) = frames.bounds(p)
                    out.pick[Int(sorted[start + p])] = lo < size ? suffix[lo] : -1
                }
            } else {
                // Both ends only move forward (ROWS, RANGE and GROUPS frames alike): a queue of candidate positions,
                // each better than every later one, gives each frame's best in amortized constant time, where
                // looking at every row of every frame would cost the frame's width per row.
                var queue = [Int](), head = 0, through = -1
                queue.reserveCapacity(64)
                for p in 0..<size {
                    let (lo, hi) = frames.bounds(p)
                    while through < hi {
                        through += 1
                        let row = Int(sorted[start + through])
                        guard counted(row) else { continue }
                        while queue.count > head, better(row, than: sorted[start + queue[queue.count - 1]]) { queue.removeLast() }
                        queue.append(through)
                    }
                    while head < queue.count && queue[head] < lo { head += 1 }
                    out.pick[Int(sorted[start + p])] = lo <= hi && head < queue.count && queue[head] <= hi ? sorted[start + queue[head]] : -1
                }
            }
        default:
            throw SQLError(.unsupported, "\(a.rawValue) over a window frame is not supported yet")
        }
    }
}

/// The frame of each row of one partition, by position (0-based in the partition; inclusive bounds, empty when
/// `lo > hi`). ROWS frames count positions, GROUPS frames peer groups. RANGE frames compare ORDER BY values: `n PRECEDING` reaches the rows
/// whose value is at most `n` before the current one (after, in DESC order), CURRENT ROW the current row's peers; a
/// row whose value is NULL has its NULL peers as frame wherever an offset applies, and NULL rows are outside every
/// other row's offset range. Every bound only moves forward as the position does.
struct FrameResolver {
    let frame: WindowFrame
    let size: Int
    /// RANGE: each position's key (0 when NULL), whether it is NULL, its peer group, and the positions of non-NULL
    /// keys (NULLs sort together at one end).
    private var keys: [Int64] = []
    /// A DOUBLE key's values instead (NaN counts as NULL: its frame is its NaN peers, and it is in no other row's).
    private var doubleKeys: [Double] = []
    private var isNull: [Bool] = []
    private var peerStart: [Int] = [], peerEnd: [Int] = []
    private var valued = 0..<0
    private let descending: Bool
    /// GROUPS: each position's peer group, and where each group starts (one past the last: the partition's size).
    private var group: [Int32] = []
    private var groupStarts: [Int] = []

    init(
        _ frame: WindowFrame, sorted: UnsafeBufferPointer<Int32>, _ start: Int, _ end: Int, _ orderCmp: RowComparator,
        key: ColumnVector?, descending: Bool
    ) {
        self.frame = frame
        self.size = end - start
        self.descending = descending
        guard frame.range || frame.groups else { return }
        peerStart = [Int](repeating: 0, count: size)
        peerEnd = [Int](repeating: size, count: size)
        var p = 0
        while p < size {
            var q = p + 1
            while q < size && orderCmp.compare(Int(sorted[start + p]), Int(sorted[start + q])) == 0 { q += 1 }
            for r in p..<q {
                peerStart[r] = p
                peerEnd[r] = q
                group.append(Int32(groupStarts.count))
            }
            groupStarts.append(p)
            p = q
        }
        groupStarts.append(size)
        guard frame.range, let key, let numbers = NumericColumn(key) else { return }
        let validity = Vectors.validity(key)
        let isDouble = key.type.physical == .double
        if isDouble { doubleKeys = [Double](repeating: 0, count: size) } else { keys = [Int64](repeating: 0, count: size) }
        isNull = [Bool](repeating: false, count: size)
        var first = size, last = -1
        for q in 0..<size {
            let row = Int(sorted[start + q])
            let (integer, real) = numbers.value(row)
            if Vectors.isValid(validity, row) && !(isDouble && real.isNaN) {
                if isDouble { doubleKeys[q] = real } else { keys[q] = integer }
                first = min(first, q)
                last = q
            } else {
                isNull[q] = true
            }
        }
        valued = first <= last ? first..<last + 1 : 0..<0
    }

    func bounds(_ p: Int) -> (lo: Int, hi: Int) {
        if frame.groups {
            let g = Int(group[p]), count = groupStarts.count - 1
            func lo(_ b: FrameBound) -> Int {
                switch b {
                case .unboundedPreceding: return 0
                case .preceding(let n): return groupStarts[max(0, g - n)]
                case .currentRow: return groupStarts[g]
                case .following(let n): return g + n < count ? groupStarts[g + n] : size
                case .unboundedFollowing: return size
                }
            }
            func hi(_ b: FrameBound) -> Int {
                switch b {
                case .unboundedPreceding: return -1
                case .preceding(let n): return g - n >= 0 ? groupStarts[g - n + 1] - 1 : -1
                case .currentRow: return groupStarts[g + 1] - 1
                case .following(let n): return groupStarts[min(count, g + n + 1)] - 1
                case .unboundedFollowing: return size - 1
                }
            }
            return (lo(frame.start), hi(frame.end))
        }
        guard frame.range else {
            let lo = frame.start.offset.map { max(0, p + $0) } ?? 0
            let hi = frame.end.offset.map { min(size - 1, p + $0) } ?? size - 1
            return (lo, hi)
        }
        return (bound(frame.start, p, isStart: true), bound(frame.end, p, isStart: false))
    }

    /// One end of a RANGE frame.
    private func bound(_ b: FrameBound, _ p: Int, isStart: Bool) -> Int {
        switch b {
        case .unboundedPreceding: return 0
        case .unboundedFollowing: return size - 1
        case .currentRow: return isStart ? peerStart[p] : peerEnd[p] - 1
        case .preceding(let n), .following(let n):
            if (keys.isEmpty && doubleKeys.isEmpty) || isNull[p] { return isStart ? peerStart[p] : peerEnd[p] - 1 }
            let before: Bool
            if case .preceding = b { before = true } else { before = false }
            let towardSmaller = before != descending
            if !doubleKeys.isEmpty {
                let offset = frame.rangeDoubleOffsets[isStart ? 0 : 1]
                let target = towardSmaller ? doubleKeys[p] - offset : doubleKeys[p] + offset
                return isStart ? firstPosition(in: doubleKeys, reaching: target, inclusive: true)
                    : firstPosition(in: doubleKeys, reaching: target, inclusive: false) - 1
            }
            // The value `n` before (PRECEDING) or after (FOLLOWING) the current one, in the sort's direction.
            let k = keys[p]
            let target: Int64
            if isStart ? frame.rangeStartInMonths : frame.rangeEndInMonths {
                // Calendar months: the timestamp `n` months away, as adding the interval gives it.
                target = TimeFunctions.addMonths(k, towardSmaller ? -Int64(n) : Int64(n)).value
            } else {
                let (v, overflow) = towardSmaller ? k.subtractingReportingOverflow(Int64(n)) : k.addingReportingOverflow(Int64(n))
                target = overflow ? (towardSmaller ? Int64.min : Int64.max) : v
            }
            // Keys run ascending (or descending) over `valued`: the first position at or past the target for a
            // start, the last position not past it for an end.
            return isStart ? firstPosition(in: keys, reaching: target, inclusive: true) : firstPosition(in: keys, reaching: target, inclusive: false) - 1
        }
    }

    /// The first position of `valued` whose key reaches `target` in the sort's direction (at it or past it when
    /// `inclusive`, strictly past it otherwise), or its end: a binary search, as the condition holds from there on.
    private func firstPosition<K: Comparable>(in keys: [K], reaching target: K, inclusive: Bool) -> Int {
        var lo = valued.lowerBound, hi = valued.upperBound
        while lo < hi {
            let mid = (lo + hi) / 2
            let k = keys[mid]
            let reached = descending ? (inclusive ? k <= target : k < target) : (inclusive ? k >= target : k > target)
            if reached { hi = mid } else { lo = mid + 1 }
        }
        return lo
    }
}

/// A numeric column's values as (integer, floating point), its values pointer taken once: `Vectors.pointer` per row
/// reaches through the vector's buffer (a retain and release each time). Nil for text.
struct NumericColumn {
    let physical: PhysicalType
    let base: UnsafeRawPointer
    /// Keeps `base` alive.
    let vector: ColumnVector

    init?(_ v: ColumnVector) {
        guard v.type.physical != .bytes else { return nil }
        physical = v.type.physical
        vector = v
        base = UnsafeRawPointer(v.values.base)
    }

    /// Integers widened and also as a double; a DOUBLE as (0, value).
    @inline(__always)
    func value(_ row: Int) -> (Int64, Double) {
        let x: Int64
        switch physical {
        case .double: return (0, base.load(fromByteOffset: row &* 8, as: Double.self))
        case .int32: x = Int64(base.load(fromByteOffset: row &* 4, as: Int32.self))
        case .int64: x = base.load(fromByteOffset: row &* 8, as: Int64.self)
        default: x = Int64(base.load(fromByteOffset: row, as: UInt8.self))
        }
        return (x, Double(x))
    }
}

/// Where a window call writes its results (by input row), and the rows in window order: shared by the workers, each
/// of which writes only the rows of its own partitions.
struct WindowOutputs {
    let ints: UnsafeMutableBufferPointer<Int64>
    let doubles: UnsafeMutableBufferPointer<Double>
    let valid: UnsafeMutableBufferPointer<Bool>
    let pick: UnsafeMutableBufferPointer<Int32>
    let sorted: UnsafeBufferPointer<Int32>
}

/// The rows of a window in (PARTITION BY, ORDER BY) order, ties in input order, and where each partition starts.
///
/// One integer PARTITION BY key over a modest range (customer ids) is partitioned by a counting sort: one pass to
/// count, one to place, keeping input order within a partition; then each partition is sorted on its own, in
/// parallel, and most need no sort at all (events stored in time order per customer arrive in time order). Other keys
/// take one sort over all rows.
struct WindowOrder {
    /// Empty when ``inOrder``.
    var sorted: RowNumbers
    /// The rows are in window order already: row `i` is at position `i`.
    var inOrder = false
    /// Start position of each partition in `sorted`, then `n`.
    var starts: [Int]

    init(parts: [ColumnVector], partCmp: RowComparator, orderCmp: RowComparator, orderBy: [SortKey], n: Int, executor: Executor) throws {
        if let dense = try WindowOrder.byDenseKey(parts, n, executor: executor) {
            self = dense
            // sortPartitions' copies of the first ORDER BY key (per chunk of partitions; counted as if for all rows).
            try executor.memory.reserve(n * 8)
            sortPartitions(orderCmp, executor: executor)
            return
        }
        let all = RowComparator(
            parts.map { $0 } + orderCmp.vectors, descending: parts.map { _ in false } + orderBy.map(\.descending),
            nullsFirst: parts.map { _ in true } + orderBy.map(\.nullsFirst))
        sorted = RowNumbers(copying: all.sortedIndices(n))
        starts = []
        var start = 0
        while start < n {
            starts.append(start)
            var end = start + 1
            while end < n && partCmp.compare(Int(sorted[start]), Int(sorted[end])) == 0 { end += 1 }
            start = end
        }
        starts.append(n)
    }

    /// Partitions by a counting sort over one INTEGER or BIGINT key whose values span at most a few times the row
    /// count; NULL keys form the first partition. Nil for other keys.
    ///
    /// Workers each count, then place, a contiguous range of rows; a range's rows of a key go after the earlier
    /// ranges' rows of that key, so the order within a partition stays the input order. Each worker has its own
    /// counters (4 bytes a slot), so only keys spanning at most half the row count use more than one.
    static func byDenseKey(_ parts: [ColumnVector], _ n: Int, executor: Executor) throws -> WindowOrder? {
        guard parts.count == 1, parts[0].type.physical == .int32 || parts[0].type.physical == .int64 else { return nil }
        let key = parts[0]
        guard let (lo, hi) = DenseKeys.range(key) else { return WindowOrder(sorted: RowNumbers(copying: (0..<n).map { Int32($0) }), starts: n > 0 ? [0, n] : [0]) }
        let (span, overflow) = hi.subtractingReportingOverflow(lo)
        // At most a few slots per row, and at most 2^26 (256 MiB of counters): wider keys take the general sort.
        guard !overflow, span < max(Int64(n) * 4, 1 << 16), span < 1 << 26 else { return nil }
        // Slot 0 holds NULL keys, slot v - lo + 1 the key v.
        let slots = Int(span) + 2
        let workers = slots <= n / 2 ? max(1, min(executor.threads, n >> 11)) : 1
        let rowsPerWorker = (n + workers - 1) / workers
        let validity = UncheckedSendable(value: Vectors.validity(key))
        // counters[w * slots + s]: worker w's count of slot s, then where its next row of slot s goes.
        var counters = [Int32](repeating: 0, count: workers * slots)
        // Every position is written by the placing pass.
        let sorted = RowNumbers(count: n)
        var starts: [Int] = []
        func place<T: FixedWidthInteger>(_: T.Type) throws {
            let p = UncheckedSendable(value: Vectors.pointer(key, T.self))
            @inline(__always) func slotOf(_ i: Int) -> Int {
                Vectors.isValid(validity.value, i) ? Int(Int64(p.value[i]) &- lo) &+ 1 : 0
            }
            // Rows come in runs of one key (a segment stores a customer's events together): a run is counted, and
            // placed, with one access to its counter.
            @inline(__always) func forEachRun(_ rows: Range<Int>, _ body: (_ slot: Int, _ run: Range<Int>) -> Void) {
                var i = rows.lowerBound
                while i < rows.upperBound {
                    let s = slotOf(i)
                    var j = i &+ 1
                    while j < rows.upperBound && slotOf(j) == s { j &+= 1 }
                    body(s, i..<j)
                    i = j
                }
            }
            try counters.withUnsafeMutableBufferPointer { counterBuffer in
                let counters = UncheckedSendable(value: counterBuffer)
                try parallelFor(workers, threads: workers, token: executor.token) { _, w in
                    let mine = counters.value.baseAddress! + w * slots
                    forEachRun(w * rowsPerWorker..<min(n, (w + 1) * rowsPerWorker)) { s, run in
                        mine[s] &+= Int32(truncatingIfNeeded: run.count)
                    }
                }
                var next: Int32 = 0
                for s in 0..<slots {
                    let first = next
                    for w in 0..<workers {
                        let c = counters.value[w * slots + s]
                        counters.value[w * slots + s] = next
                        next &+= c
                    }
                    if next > first { starts.append(Int(first)) }
                }
                try sorted.withUnsafeMutableBufferPointer { outBuffer in
                    let out = UncheckedSendable(value: outBuffer)
                    try parallelFor(workers, threads: workers, token: executor.token) { _, w in
                        let mine = counters.value.baseAddress! + w * slots
                        forEachRun(w * rowsPerWorker..<min(n, (w + 1) * rowsPerWorker)) { s, run in
                            let at = Int(mine[s]) &- run.lowerBound
                            for r in run { out.value[at &+ r] = Int32(truncatingIfNeeded: r) }
                            mine[s] &+= Int32(truncatingIfNeeded: run.count)
                        }
                    }
                }
            }
        }
        if key.type.physical == .int32 { try place(Int32.self) } else { try place(Int64.self) }
        starts.append(n)
        return WindowOrder(sorted: sorted, starts: starts)
    }

    init(sorted: RowNumbers, starts: [Int]) {
        self.sorted = sorted
        self.starts = starts
    }

    /// Rows already in window order, with these partition starts.
    init(inOrder n: Int, starts: [Int]) {
        self.sorted = RowNumbers(count: 0)
        self.starts = starts
        self.inOrder = true
    }

    /// Calls `body` with the rows in window order; rows in order already are numbered only when `needed`.
    func withRows<R>(needed: Bool, _ body: (UnsafeBufferPointer<Int32>) throws -> R) rethrows -> R {
        guard inOrder else { return try sorted.withUnsafeBufferPointer(body) }
        guard needed else { return try body(UnsafeBufferPointer(start: nil, count: 0)) }
        return try (0..<(starts.last ?? 0)).map { Int32(truncatingIfNeeded: $0) }.withUnsafeBufferPointer(body)
    }

    /// Sorts each partition by ORDER BY (ties stay in input order), skipping partitions already in order. Each chunk
    /// of partitions normalizes its rows' keys into a local array in partition order, so the in-order check (all most
    /// partitions need) reads it sequentially, and only out-of-order partitions are sorted.
    private mutating func sortPartitions(_ orderCmp: RowComparator, executor: Executor) {
        guard !orderCmp.keys.isEmpty else { return }
        let chunks = self.chunks(threads: executor.threads)
        let starts = self.starts
        sorted.withUnsafeMutableBufferPointer { all in
            let shared = UncheckedSendable(value: all)
            // Cancellation is checked between chunks; sorting itself cannot fail.
            try? parallelFor(chunks.count, threads: executor.threads, token: executor.token) { _, c in
                let first = starts[chunks[c].lowerBound], end = starts[chunks[c].upperBound]
                let rows = UnsafeMutableBufferPointer(rebasing: shared.value[first..<end])
                if let keys = IntegerOrderKeys(orderCmp) {
                    // The chunk's first keys gathered in window order first: a loop of independent loads, where
                    // checking each partition through row numbers would wait on one load after another. Scratch
                    // per chunk (a sixteenth of the rows per thread), not one copy of the key for all rows: freed
                    // chunk buffers are reused by the next chunk, where a key-sized buffer was fresh memory each
                    // query (page faults and kernel clearing: 28 % of a 66M-row funnel's page-clearing time).
                    let (scratchBuffer, scratchMemory) = Buffer.forFilling(byteCount: rows.count * 8, zeroed: false)
                    defer { withExtendedLifetime(scratchBuffer) {} }
                    let firsts = scratchMemory.bindMemory(to: Int64.self)
                    for q in 0..<rows.count { firsts[q] = keys.first[Int(rows[q])] }
                    do {
                        for p in chunks[c] {
                            let lo = starts[p] - first, hi = starts[p + 1] - first
                            Self.insertionSort(
                                UnsafeMutableBufferPointer(rebasing: rows[lo..<hi]), UnsafeMutableBufferPointer(rebasing: firsts[lo..<hi]), keys)
                        }
                    }
                    return
                }
                guard let keys = NormalizedKeys(orderCmp, rows: UnsafeBufferPointer(rows)) else {
                    // Text keys: compare the vectors.
                    for p in chunks[c] {
                        Self.sortIfNeeded(UnsafeMutableBufferPointer(rebasing: shared.value[starts[p]..<starts[p + 1]])) { a, b in
                            let x = orderCmp.compare(Int(a), Int(b))
                            return x != 0 ? x < 0 : a < b
                        }
                    }
                    return
                }
                keys.words.withUnsafeBufferPointer { w in
                    keys.ranks.withUnsafeBufferPointer { r in
                        // Positions within the chunk. The counting sort kept input order within a partition, so
                        // position order is row order and `less`'s tie-break on positions is the stable one.
                        var local: [Int32] = []
                        for p in chunks[c] {
                            let lo = starts[p] - first, hi = starts[p + 1] - first
                            var pos = lo + 1
                            while pos < hi && !NormalizedKeys.less(Int32(pos), Int32(pos - 1), w, r, width: keys.width) { pos += 1 }
                            if pos >= hi { continue }
                            local.removeAll(keepingCapacity: true)
                            local.append(contentsOf: (lo..<hi).map { Int32($0) })
                            local.sort { a, b in NormalizedKeys.less(a, b, w, r, width: keys.width) }
                            let reordered = local.map { rows[Int($0)] }
                            for (k, row) in reordered.enumerated() { rows[lo + k] = row }
                        }
                    }
                }
            }
        }
    }

    /// Sorts a partition that is in order or nearly so (time-ordered events whose ties on the time are in no
    /// particular order) in place by insertion, its rows and their first keys (`firsts`) moving together; the second
    /// key is read through the row number, on ties only. A partition needing more than a few moves a row takes a
    /// full sort. Ties keep input order, as the row numbers of a partition rise.
    private static func insertionSort(_ part: UnsafeMutableBufferPointer<Int32>, _ firsts: UnsafeMutableBufferPointer<Int64>, _ keys: IntegerOrderKeys) {
        // Most partitions are in order already: one pass finds out.
        var i = 1
        while i < part.count && !keys.less(firsts[i], part[i], firsts[i - 1], part[i - 1]) { i += 1 }
        var budget = 8 * part.count + 64
        while i < part.count {
            let row = part[i], f = firsts[i]
            var j = i
            while j > 0 && keys.less(f, row, firsts[j - 1], part[j - 1]) {
                part[j] = part[j - 1]
                firsts[j] = firsts[j - 1]
                j -= 1
                budget -= 1
            }
            part[j] = row
            firsts[j] = f
            if budget < 0 {
                let all = (0..<part.count).map { (firsts[$0], part[$0]) }.sorted { a, b in
                    keys.less(a.0, a.1, b.0, b.1) || (!keys.less(b.0, b.1, a.0, a.1) && a.1 < b.1)
                }
                for (k, (f, row)) in all.enumerated() {
                    firsts[k] = f
                    part[k] = row
                }
                return
            }
            i += 1
        }
    }

    private static func sortIfNeeded(_ part: UnsafeMutableBufferPointer<Int32>, _ less: (Int32, Int32) -> Bool) {
        var i = 1
        while i < part.count && less(part[i - 1], part[i]) { i += 1 }
        var part = part
        if i < part.count { part.sort(by: less) }
    }

    /// Partition numbers in contiguous chunks of about equal row counts, several per worker.
    func chunks(threads: Int) -> [Range<Int>] {
        let partitions = starts.count - 1
        guard partitions > 0 else { return [] }
        let n = starts[partitions]
        let target = max(1 << 14, n / max(1, threads * 8))
        var out: [Range<Int>] = []
        var first = 0
        for p in 0..<partitions where starts[p + 1] - starts[first] >= target || p == partitions - 1 {
            out.append(first..<(p + 1))
            first = p + 1
        }
        return out
    }
}

/// Row numbers (a window's order) in large-buffer pages: a query process reuses them without page faults, where an
/// array of 66M rows is fresh memory each time.
struct RowNumbers {
    private let storage: Buffer
    private let rows: UnsafeMutableBufferPointer<Int32>

    /// `count` row numbers, undefined until written.
    init(count: Int) {
        let (buffer, memory) = Buffer.forFilling(byteCount: count * 4, zeroed: false)
        storage = buffer
        rows = memory.bindMemory(to: Int32.self)
    }

    init(copying numbers: [Int32]) {
        self.init(count: numbers.count)
        _ = UnsafeMutableBufferPointer(rebasing: rows[...]).initialize(from: numbers)
    }

    var count: Int { rows.count }

    subscript(_ i: Int) -> Int32 { rows[i] }

    func withUnsafeBufferPointer<R>(_ body: (UnsafeBufferPointer<Int32>) throws -> R) rethrows -> R {
        try withExtendedLifetime(storage) { try body(UnsafeBufferPointer(rows)) }
    }

    func withUnsafeMutableBufferPointer<R>(_ body: (UnsafeMutableBufferPointer<Int32>) throws -> R) rethrows -> R {
        try withExtendedLifetime(storage) { try body(rows) }
    }
}

/// One or two BIGINT-like ORDER BY keys (BIGINT, TIMESTAMP, DECIMAL) without NULLs, read in place: the common
/// window order (`ORDER BY ts, event_id`) compared without normalizing keys first.
struct IntegerOrderKeys {
    let first: UnsafePointer<Int64>
    let second: UnsafePointer<Int64>?
    let firstDescending: Bool
    let secondDescending: Bool

    init?(_ cmp: RowComparator) {
        guard (1...2).contains(cmp.keys.count) else { return nil }
        var pointers: [UnsafePointer<Int64>] = []
        for k in cmp.keys {
            guard k.validity == nil, case .ints(let p) = k.column else { return nil }
            pointers.append(p)
        }
        first = pointers[0]
        second = pointers.count > 1 ? pointers[1] : nil
        firstDescending = cmp.keys[0].descending
        secondDescending = cmp.keys.count > 1 && cmp.keys[1].descending
    }

    /// Row `a` (first key `x`) before row `b` (first key `y`).
    @inline(__always)
    func less(_ x: Int64, _ a: Int32, _ y: Int64, _ b: Int32) -> Bool {
        if x != y { return firstDescending ? x > y : x < y }
        guard let second else { return false }
        let u = second[Int(a)], v = second[Int(b)]
        if u != v { return secondDescending ? u > v : u < v }
        return false
    }
}
