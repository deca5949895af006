import Foundation
import SeamColumnar
import SeamKernels
import SeamSQL

/// GROUP BY (and DISTINCT): each worker aggregates its morsels into its own hash table and states; the
/// partial results are merged once at the end. Without GROUP BY there is exactly one group, even for no rows.
struct HashAggregate {
    let executor: Executor
    let groups: [BoundExpr]
    let aggregates: [AggregateCall]
    let outputSchema: Schema
    /// The input's schema, to name columns in error messages.
    var inputSchema = Schema([])

    final class Partial: @unchecked Sendable {
        var table = KeyTable()
        var states: [any AggregateState]
        var reserved = 0
        /// Dense path for one integer key (see ``DenseKeys``): while active, the groups live there and `table` is empty.
        var dense: DenseKeys
        /// Packed path for two to four small keys (see ``PackedKeys``), the same way.
        var packed: PackedKeys
        /// Group ids of a batch without GROUP BY longer than ``sharedZeros``: all zero, kept across batches (zeroing a
        /// fresh array per batch was 70 % of `count(*)` over 100M rows).
        var zeros: [Int32] = []

        init(_ aggs: [AggregateCall], denseKey: LogicalType?, keyTypes: [LogicalType]) {
            states = aggs.map(AggregateStates.make)
            dense = DenseKeys(keyType: denseKey)
            packed = PackedKeys(keyTypes: keyTypes)
        }

        var groupCount: Int { dense.active ? dense.count : (packed.active ? packed.count : table.count) }

        /// Leaves the dense and packed paths: every group is in `table` from now on.
        func stopFastPaths() {
            if dense.active { dense.stop(into: &table) }
            if packed.active { packed.stop(into: &table) }
        }
    }

    /// The key type when the dense path applies: one group key of an integer-like type.
    private var denseKeyType: LogicalType? {
        guard groups.count == 1 else { return nil }
        switch groups[0].type.physical {
        case .int32, .int64: return groups[0].type
        default: return nil
        }
    }

    func run(_ child: LogicalPlan, _ path: String, input: [Batch]? = nil) throws -> [Batch] {
        let partials = (0..<executor.threads).map { _ in Partial(aggregates, denseKey: denseKeyType, keyTypes: groups.map(\.type)) }
        let consume: (Int, Batch) throws -> Void = { w, b in try self.consume(partials[w], b) }
        if let input {
            try parallelFor(input.count, threads: executor.threads, token: executor.token) { w, i in try consume(w, input[i]) }
        } else if let (reduction, scan, filtered) = try blockReduction(child) {
            // No row reaches `consume`: the scan reduces each block, and the totals go into the first worker's states.
            if let filtered {
                try executor.streamFilteredScan(filtered, path, stop: nil, reduce: reduction) { _, _, _ in }
            } else {
                try executor.reduceScan(scan, path, reduction)
            }
            try reduction.absorb(into: partials[0].states)
            _ = partials[0].table.findOrInsert(UnsafeRawBufferPointer(start: nil, count: 0), Hash64.hash(UnsafeRawBufferPointer(start: nil, count: 0)))
        } else {
            var used = Set<Int>()
            for g in groups { used.formUnion(g.columnsUsed) }
            for a in aggregates { a.forEachExpression { used.formUnion($0.columnsUsed) } }
            try executor.stream(child, path, stop: nil, needed: used) { w, _, b in try consume(w, b) }
        }
        // Merge every worker's partial into the first: by key offset while every worker is on the dense path and the
        // union of their keys still fits it; by column values while every worker is on the packed path (moving every
        // group into the hash table first cost 60 ms for 169K groups of two keys here); else through the hash table.
        let target = partials[0]
        /// The other workers' groups mapped into the target's by `absorb` (nil: they do not fit that path), and their
        /// states merged; false when some worker's did not fit.
        func mergeOnPath(_ absorb: (Partial) -> [Int32]?, groups: () -> Int) throws -> Bool {
            var maps: [[Int32]] = []
            for p in partials.dropFirst() {
                guard let map = absorb(p) else { return false }
                maps.append(map)
            }
            for (p, map) in zip(partials.dropFirst(), maps) where !map.isEmpty {
                for (s, o) in zip(target.states, p.states) { try s.merge(o, map, groups: groups()) }
            }
            return true
        }
        var merged = false
        // When a worker does not fit, the groups the target absorbed so far stay as groups without state yet, and the
        // hash-table merge below fills them from their own workers.
        if partials.allSatisfy({ $0.dense.active }) {
            merged = try mergeOnPath({ target.dense.absorb($0.dense) }, groups: { target.dense.count })
        } else if partials.allSatisfy({ $0.packed.active }) {
            merged = try mergeOnPath({ target.packed.absorb($0.packed) }, groups: { target.packed.count })
        }
        if !merged {
            for p in partials { p.stopFastPaths() }
        }
        for p in partials.dropFirst() where !merged && p.table.count > 0 {
            var map = [Int32](repeating: 0, count: p.table.count)
            p.table.arena.withUnsafeBytes { arena in
                for g in 0..<p.table.count {
                    let key = UnsafeRawBufferPointer(rebasing: arena[p.table.starts[g]..<p.table.starts[g + 1]])
                    map[g] = target.table.findOrInsert(key, p.table.hashes[g])
                }
            }
            for (s, o) in zip(target.states, p.states) { try s.merge(o, map, groups: target.table.count) }
        }
        if groups.isEmpty && target.table.count == 0 {
            _ = target.table.findOrInsert(UnsafeRawBufferPointer(start: nil, count: 0), Hash64.hash(UnsafeRawBufferPointer(start: nil, count: 0)))
        }
        let n = target.groupCount
        var columns = target.dense.active
            ? [target.dense.keyColumn()]
            : target.packed.active ? target.packed.keyColumns(groups.map(\.type))
            : EncodedKeys.decode(target.table.arena, target.table.starts, groups.map(\.type))
        columns += try target.states.map { try $0.finish(groups: n) }
        for (i, f) in outputSchema.fields.enumerated() where columns[i].type != f.type {
            columns[i] = ColumnVector(type: f.type, count: n, values: columns[i].values, offsets: columns[i].offsets, validity: columns[i].validity)
        }
        return [Batch(columns: columns, count: n)]
    }

    /// The block reduction for aggregates without GROUP BY over a scan, filtered or not, when every aggregate is of
    /// its form and reads a column (count(*) alone is counted in place by the scan) that no key map rewrites.
    /// Returns the reduction, the scan, and the filtered scan to run when there is a WHERE.
    private func blockReduction(_ child: LogicalPlan) throws -> (BlockReduction, TableScan, FilteredScan?)? {
        guard groups.isEmpty, let r = BlockReduction(aggregates, workers: executor.threads), !r.columns.isEmpty else { return nil }
        let s: TableScan
        var filtered: FilteredScan? = nil
        switch child {
        case .scan(let scan):
            s = scan
        case .filter(.scan(let scan), let predicate):
            guard let f = FilteredScan(scan, predicate, needed: Set(r.columns)) else { return nil }
            s = scan
            filtered = f
        default:
            return nil
        }
        let m = try executor.catalog.manifest(s.table)
        if let km = m.layout.keyMap, let stored = m.schema.index(of: km.column), let out = s.columns.firstIndex(of: stored),
            r.columns.contains(out)
        {
            return nil
        }
        return (r, s, filtered)
    }

    /// Group ids for one key column in dictionary form: each entry the rows use is looked up once (as the serialized
    /// key ``EncodedKeys`` makes, so tables built either way merge), then each row takes its entry's id.
    private static func groupIDs(dictionaryKey key: ColumnVector, _ d: DictionaryForm, _ n: Int, _ table: inout KeyTable, _ gids: inout [Int32]) {
        let codes = d.codePointer
        let validity = Vectors.validity(key)
        var entryID = [Int32](repeating: -1, count: d.entries.count)
        var hasNull = false
        // The entries the rows use (a block's dictionary may hold more): a store per row through an unchecked
        // pointer (codes index the block's own entries), with a loop of its own when there are no NULLs.
        entryID.withUnsafeMutableBufferPointer { e in
            let e = e.baseAddress!
            if validity == nil {
                for i in 0..<n { e[Int(codes[i])] = 0 }
            } else {
                for i in 0..<n {
                    if Vectors.isValid(validity, i) { e[Int(codes[i])] = 0 } else { hasNull = true }
                }
            }
        }
        let enc = EncodedKeys([d.entries], d.entries.count)
        enc.bytes.withUnsafeBytes { all in
            for j in 0..<d.entries.count where entryID[j] == 0 {
                entryID[j] = table.findOrInsert(UnsafeRawBufferPointer(rebasing: all[enc.starts[j]..<enc.starts[j + 1]]), enc.hashes[j])
            }
        }
        var nullID: Int32 = -1
        if hasNull {
            nullID = EncodedKeys.insertNull(into: &table)
        }
        entryID.withUnsafeBufferPointer { ids in
            gids.withUnsafeMutableBufferPointer { g in
                let ids = ids.baseAddress!, g = g.baseAddress!
                if validity == nil {
                    for i in 0..<n { g[i] = ids[Int(codes[i])] }
                } else {
                    for i in 0..<n { g[i] = Vectors.isValid(validity, i) ? ids[Int(codes[i])] : nullID }
                }
            }
        }
    }

    /// Reserves what the worker's table and states have grown by, in steps (of 16 MiB, or less under a small limit).
    private func account(_ p: Partial) throws {
        let bytes = p.table.byteCount + p.states.reduce(0) { $0 + $1.byteCount }
        let step = min(16 << 20, max(executor.memory.limit / 64, 64 << 10))
        if bytes > p.reserved + step {
            try executor.memory.reserve(bytes - p.reserved)
            p.reserved = bytes
        }
    }

    private func consume(_ p: Partial, _ b: Batch) throws {
        try consumeBatch(p, b)
        try account(p)
    }

    private func consumeBatch(_ p: Partial, _ b: Batch) throws {
        let n = b.count
        if n == 0 { return }
        var gids: [Int32]
        if groups.isEmpty {
            if p.table.count == 0 {
                _ = p.table.findOrInsert(UnsafeRawBufferPointer(start: nil, count: 0), Hash64.hash(UnsafeRawBufferPointer(start: nil, count: 0)))
            }
            if n <= Self.sharedZeros.count {
                try update(p, b, Self.sharedZeros.baseAddress!)
                return
            }
            if p.zeros.count < n { p.zeros = [Int32](repeating: 0, count: n) }
            gids = p.zeros
        } else {
            gids = [Int32](repeating: 0, count: n)
            let keys = try groups.map { e in try executor.locate(e, inputSchema) { try executor.evaluator.evaluate(e, b) } }
            // The table leaves the class for the loop: no exclusivity check or copy per row.
            var table = p.table
            p.table = KeyTable()
            if keys.count == 1, let d = keys[0].dictionary, d.entries.count < n {
                Self.groupIDs(dictionaryKey: keys[0], d, n, &table, &gids)
                p.table = table
            } else if p.dense.active, p.dense.accepts(keys[0], stoppingInto: &table) {
                p.dense.groupIDs(keys[0], n, &gids)
                p.table = table
            } else if p.packed.active, p.packed.groupIDs(keys, n, &gids) {
                p.table = table
            } else {
            if p.packed.active { p.packed.stop(into: &table) }
            let enc = EncodedKeys(keys, n)
            enc.bytes.withUnsafeBytes { all in
                enc.starts.withUnsafeBufferPointer { st in
                    enc.hashes.withUnsafeBufferPointer { hs in
                        gids.withUnsafeMutableBufferPointer { g in
                            for i in 0..<n {
                                g[i] = table.findOrInsert(UnsafeRawBufferPointer(rebasing: all[st[i]..<st[i + 1]]), hs[i])
                            }
                        }
                    }
                }
            }
            p.table = table
            }
        }
        try gids.withUnsafeBufferPointer { g in try update(p, b, g.baseAddress!) }
    }

    /// Group ids of a batch without GROUP BY (every row in group 0), for batches up to a placeholder batch's length:
    /// one zeroed allocation for the process, read only. A fresh 512 KiB per query (per `Partial`) came from the
    /// system as new pages each time: with it, what follows the scan of a 10M-event `count(*) WHERE amount > 100`
    /// took 31 µs (median, 2 threads), without it 9 µs, of a query of about 0.15 ms.
    nonisolated(unsafe) static let sharedZeros = UnsafeBufferPointer(
        start: UnsafeMutablePointer<Int32>(OpaquePointer(calloc(Executor.placeholderRows, MemoryLayout<Int32>.stride)!)),
        count: Executor.placeholderRows)

    /// Every aggregate's state takes the batch's rows, row `i` into group `gids[i]`.
    private func update(_ p: Partial, _ b: Batch, _ gids: UnsafePointer<Int32>) throws {
        let n = b.count
        let groupCount = p.groupCount
        let memo = aggregates.lazy.filter { $0.filter != nil }.count > 1 ? MaskMemo() : nil
        for (k, a) in aggregates.enumerated() {
            let arg = try a.argument.map { e in try executor.locate(e, inputSchema) { try executor.evaluator.evaluate(e, b) } }
            let maskVec = try a.filter.map { f in try executor.evaluator.mask(f, b, memo: memo) }
            let key = try a.key.map { e in try executor.locate(e, inputSchema) { try executor.evaluator.evaluate(e, b) } }
            let mask = maskVec.map { Vectors.pointer($0, UInt8.self) }
            if let key, let arg, let state = p.states[k] as? ArgState {
                state.update(arg, key: key, gids, mask, n, groups: groupCount)
            } else if !a.order.isEmpty, let state = p.states[k] as? StringAggState {
                let keys = try a.order.map { o in try executor.locate(o.expr, inputSchema) { try executor.evaluator.evaluate(o.expr, b) } }
                try state.update(arg, keys: keys, gids, mask, n)
            } else {
                try p.states[k].update(arg, gids, mask, n, groups: groupCount)
            }
        }
    }
}

/// Group ids for one integer-like key (INTEGER, BIGINT, TIMESTAMP, DECIMAL) whose values span a modest range, such
/// as customer ids: a direct array from key to group id replaces hashing, group ids are handed out in order of first
/// appearance, and workers' groups merge by key offset. Per worker it stops for good once the keys span more than
/// ``maxSpan`` values: the groups found so far move into the hash table in id order (so ids stay) and the hash path
/// takes over.
final class DenseKeys {
    static let maxSpan: Int64 = 1 << 22
    let keyType: LogicalType?
    private(set) var active: Bool
    /// `ids[key - base]`: the key's group id, or -1.
    private var ids: [Int32] = []
    private var base: Int64 = 0
    /// Group id → key (the NULL group's slot holds 0).
    private(set) var keys: [Int64] = []
    private(set) var nullID: Int32 = -1

    init(keyType: LogicalType?) {
        self.keyType = keyType
        self.active = keyType != nil
    }

    var count: Int { keys.count }

    /// True when `key` can take the dense path (growing the array to cover it). Otherwise stops: the groups so far
    /// move into `table`.
    func accepts(_ key: ColumnVector, stoppingInto table: inout KeyTable) -> Bool {
        guard active else { return false }
        guard let (lo, hi) = Self.range(key) else { return true }  // every key NULL
        guard cover(lo, hi) else {
            stop(into: &table)
            return false
        }
        return true
    }

    /// Grows the array to cover `lo...hi`; false when the span would be too wide. It grows by at least half again,
    /// towards the side that was missing, so morsels arriving in any key order cause few copies.
    private func cover(_ lo: Int64, _ hi: Int64) -> Bool {
        var newLo = ids.isEmpty ? lo : min(base, lo)
        var newHi = ids.isEmpty ? hi : max(base + Int64(ids.count) - 1, hi)
        let (span, overflow) = newHi.subtractingReportingOverflow(newLo)
        guard !overflow, span < Self.maxSpan else { return false }
        if ids.isEmpty {
            base = newLo
            ids = [Int32](repeating: -1, count: Int(newHi - newLo + 1))
        } else if newLo < base || newHi >= base + Int64(ids.count) {
            let headroom = min(Int64(ids.count) / 2, Self.maxSpan - 1 - span)
            if newLo < base { newLo = max(newLo &- headroom, Int64.min / 2) } else { newHi = min(newHi &+ headroom, Int64.max / 2) }
            var grown = [Int32](repeating: -1, count: Int(newHi - newLo + 1))
            let shift = Int(base - newLo)
            grown.withUnsafeMutableBufferPointer { out in
                ids.withUnsafeBufferPointer { old in
                    (out.baseAddress! + shift).update(from: old.baseAddress!, count: old.count)
                }
            }
            ids = grown
            base = newLo
        }
        return true
    }

    /// Moves the groups into `table` in id order, in ``EncodedKeys``' serialized form, and leaves the dense path.
    func stop(into table: inout KeyTable) {
        guard active else { return }
        precondition(table.count == 0, "the dense path owns every group while active")
        let width = keyType?.physical == .int32 ? 4 : 8
        for (g, k) in keys.enumerated() {
            _ = Int32(g) == nullID ? EncodedKeys.insertNull(into: &table) : EncodedKeys.insert(integer: k, width: width, into: &table)
        }
        active = false
        ids = []
        keys = []
    }

    /// Takes `other`'s groups (another worker's), returning the map from its group ids to this one's; nil when the
    /// keys together span too much (this one may then have grown, which changes no group).
    func absorb(_ other: DenseKeys) -> [Int32]? {
        guard !other.keys.isEmpty else { return [] }
        if !other.ids.isEmpty && !cover(other.base, other.base + Int64(other.ids.count) - 1) { return nil }
        var map = [Int32](repeating: 0, count: other.keys.count)
        for (g, k) in other.keys.enumerated() {
            if Int32(g) == other.nullID {
                if nullID < 0 {
                    nullID = Int32(keys.count)
                    keys.append(0)
                }
                map[g] = nullID
                continue
            }
            let slot = Int(k &- base)
            if ids[slot] < 0 {
                ids[slot] = Int32(keys.count)
                keys.append(k)
            }
            map[g] = ids[slot]
        }
        return map
    }

    /// The group keys in id order, as a column of the key's type.
    func keyColumn() -> ColumnVector {
        let type = keyType ?? .bigint
        var b = ColumnBuilder(type, capacity: keys.count)
        for (g, k) in keys.enumerated() {
            if Int32(g) == nullID {
                b.appendNull()
            } else if type.physical == .int32 {
                b.append(int32: Int32(truncatingIfNeeded: k))
            } else {
                b.append(int64: k)
            }
        }
        return b.finish()
    }

    /// Smallest and largest valid value of an INTEGER- or BIGINT-like column, or nil when all are NULL.
    static func range(_ key: ColumnVector) -> (Int64, Int64)? {
        let validity = Vectors.validity(key)
        var lo = Int64.max, hi = Int64.min
        func scan<T: FixedWidthInteger>(_: T.Type) {
            let p = Vectors.pointer(key, T.self)
            if validity == nil {
                for i in 0..<key.count {
                    let v = Int64(p[i])
                    lo = min(lo, v)
                    hi = max(hi, v)
                }
            } else {
                for i in 0..<key.count where Vectors.isValid(validity, i) {
                    let v = Int64(p[i])
                    lo = min(lo, v)
                    hi = max(hi, v)
                }
            }
        }
        if key.type.physical == .int32 { scan(Int32.self) } else { scan(Int64.self) }
        return lo <= hi ? (lo, hi) : nil
    }

    /// Fills `gids` for `key` (after ``accepts(_:stoppingInto:)`` said yes); new keys get the next group ids.
    func groupIDs(_ key: ColumnVector, _ n: Int, _ gids: inout [Int32]) {
        let validity = Vectors.validity(key)
        let base = self.base
        var nullID = self.nullID
        var keys = self.keys
        self.keys = []
        func run<T: FixedWidthInteger>(_: T.Type) {
            let p = Vectors.pointer(key, T.self)
            ids.withUnsafeMutableBufferPointer { dense in
                gids.withUnsafeMutableBufferPointer { g in
                    for i in 0..<n {
                        guard Vectors.isValid(validity, i) else {
                            if nullID < 0 {
                                nullID = Int32(keys.count)
                                keys.append(0)
                            }
                            g[i] = nullID
                            continue
                        }
                        let slot = Int(Int64(p[i]) &- base)
                        var id = dense[slot]
                        if id < 0 {
                            id = Int32(keys.count)
                            keys.append(Int64(p[i]))
                            dense[slot] = id
                        }
                        g[i] = id
                    }
                }
            }
        }
        if key.type.physical == .int32 { run(Int32.self) } else { run(Int64.self) }
        self.keys = keys
        self.nullID = nullID
    }
}
