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
        /// Dense path for one integer key: `dense[key - denseBase]` is the key's group id (or -1), kept while the keys
        /// seen span at most ``DenseKeys/maxSpan`` values.
        var dense = DenseKeys()

        init(_ aggs: [AggregateCall]) { states = aggs.map(AggregateStates.make) }
    }

    func run(_ child: LogicalPlan, _ path: String, input: [Batch]? = nil) throws -> [Batch] {
        let partials = (0..<executor.threads).map { _ in Partial(aggregates) }
        let consume: (Int, Batch) throws -> Void = { w, b in try self.consume(partials[w], b) }
        if let input {
            try parallelFor(input.count, threads: executor.threads, token: executor.token) { w, i in try consume(w, input[i]) }
        } else {
            try executor.stream(child, path, stop: nil) { w, _, b in try consume(w, b) }
        }
        // Merge every worker's partial into the first.
        let target = partials[0]
        for p in partials.dropFirst() where p.table.count > 0 {
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
        let n = target.table.count
        var columns = EncodedKeys.decode(target.table.arena, target.table.starts, groups.map(\.type))
        columns += target.states.map { $0.finish(groups: n) }
        for (i, f) in outputSchema.fields.enumerated() where columns[i].type != f.type {
            columns[i] = ColumnVector(type: f.type, count: n, values: columns[i].values, offsets: columns[i].offsets, validity: columns[i].validity)
        }
        return [Batch(columns: columns, count: n)]
    }

    /// Group ids for one key column in dictionary form: each entry the rows use is looked up once (as the serialized
    /// key ``EncodedKeys`` makes, so tables built either way merge), then each row takes its entry's id.
    private static func groupIDs(dictionaryKey key: ColumnVector, _ d: DictionaryForm, _ n: Int, _ table: inout KeyTable, _ gids: inout [Int32]) {
        let codes = d.codePointer
        let validity = Vectors.validity(key)
        var entryID = [Int32](repeating: -1, count: d.entries.count)
        var hasNull = false
        for i in 0..<n {
            if Vectors.isValid(validity, i) { entryID[Int(codes[i])] = 0 } else { hasNull = true }
        }
        let enc = EncodedKeys([d.entries], d.entries.count)
        enc.bytes.withUnsafeBytes { all in
            for j in 0..<d.entries.count where entryID[j] == 0 {
                entryID[j] = table.findOrInsert(UnsafeRawBufferPointer(rebasing: all[enc.starts[j]..<enc.starts[j + 1]]), enc.hashes[j])
            }
        }
        var nullID: Int32 = -1
        if hasNull {
            let nullKey: [UInt8] = [0]  // EncodedKeys' form of a NULL key: the flag byte alone
            nullID = nullKey.withUnsafeBytes { table.findOrInsert($0, Hash64.hash($0)) }
        }
        entryID.withUnsafeBufferPointer { ids in
            gids.withUnsafeMutableBufferPointer { g in
                for i in 0..<n { g[i] = Vectors.isValid(validity, i) ? ids[Int(codes[i])] : nullID }
            }
        }
    }

    private func consume(_ p: Partial, _ b: Batch) throws {
        let n = b.count
        if n == 0 { return }
        var gids = [Int32](repeating: 0, count: n)
        if groups.isEmpty {
            if p.table.count == 0 {
                _ = p.table.findOrInsert(UnsafeRawBufferPointer(start: nil, count: 0), Hash64.hash(UnsafeRawBufferPointer(start: nil, count: 0)))
            }
        } else {
            let keys = try groups.map { e in try executor.locate(e, inputSchema) { try executor.evaluator.evaluate(e, b) } }
            // The table leaves the class for the loop: no exclusivity check or copy per row.
            var table = p.table
            p.table = KeyTable()
            if keys.count == 1, let d = keys[0].dictionary, d.entries.count < n {
                Self.groupIDs(dictionaryKey: keys[0], d, n, &table, &gids)
                p.table = table
            } else if keys.count == 1, p.dense.accepts(keys[0]) {
                p.dense.groupIDs(keys[0], n, &table, &gids)
                p.table = table
            } else {
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
            let bytes = p.table.byteCount
            if bytes > p.reserved + (16 << 20) {
                try executor.memory.reserve(bytes - p.reserved)
                p.reserved = bytes
            }
        }
        let groupCount = p.table.count
        for (k, a) in aggregates.enumerated() {
            let arg = try a.argument.map { e in try executor.locate(e, inputSchema) { try executor.evaluator.evaluate(e, b) } }
            var maskVec: ColumnVector? = nil
            var maskFlags: [UInt8]? = nil
            if let f = a.filter {
                let m = try executor.evaluator.evaluate(f, b)
                maskVec = m
                if m.validity != nil {
                    let p = Vectors.pointer(m, UInt8.self)
                    let v = Vectors.validity(m)
                    maskFlags = (0..<n).map { Vectors.isValid(v, $0) ? p[$0] : 0 }
                }
            }
            try gids.withUnsafeBufferPointer { g in
                if let maskFlags {
                    try maskFlags.withUnsafeBufferPointer { try p.states[k].update(arg, g.baseAddress!, $0.baseAddress!, n, groups: groupCount) }
                } else {
                    try p.states[k].update(arg, g.baseAddress!, maskVec.map { Vectors.pointer($0, UInt8.self) }, n, groups: groupCount)
                }
            }
        }
    }
}

/// Group ids for one integer-like key (INTEGER, BIGINT, TIMESTAMP, DECIMAL) whose values span a modest range, such
/// as customer ids: a direct array from key to group id replaces hashing, and the shared ``KeyTable`` sees each key
/// once (for the output and the merge of workers' tables). Gives up for good, per worker, once the keys span more
/// than ``maxSpan`` values; the hash path then takes over with the same table.
struct DenseKeys {
    static let maxSpan: Int64 = 1 << 22
    private(set) var disabled = false
    private var ids: [Int32] = []
    private var base: Int64 = 0
    private var nullID: Int32 = -1

    mutating func accepts(_ key: ColumnVector) -> Bool {
        guard !disabled, key.dictionary == nil else { return false }
        switch key.type.physical {
        case .int32, .int64: break
        default: return false
        }
        guard let (lo, hi) = Self.range(key) else { return true }  // every key NULL
        let newLo = ids.isEmpty ? lo : min(base, lo)
        let newHi = ids.isEmpty ? hi : max(base + Int64(ids.count) - 1, hi)
        let (span, overflow) = newHi.subtractingReportingOverflow(newLo)
        guard !overflow, span < Self.maxSpan else {
            // Too wide (or overflowing): the hash path from now on. Groups found so far stay in the table.
            disabled = true
            ids = []
            return false
        }
        if ids.isEmpty {
            base = newLo
            ids = [Int32](repeating: -1, count: Int(newHi - newLo + 1))
        } else if newLo < base || newHi >= base + Int64(ids.count) {
            var grown = [Int32](repeating: -1, count: Int(newHi - newLo + 1))
            let shift = Int(base - newLo)
            for (i, g) in ids.enumerated() { grown[i + shift] = g }
            ids = grown
            base = newLo
        }
        return true
    }

    /// Smallest and largest valid key, or nil when all are NULL.
    private static func range(_ key: ColumnVector) -> (Int64, Int64)? {
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

    /// Fills `gids` for `key` (after ``accepts(_:)`` said yes), inserting new keys into `table` in
    /// ``EncodedKeys``' serialized form.
    mutating func groupIDs(_ key: ColumnVector, _ n: Int, _ table: inout KeyTable, _ gids: inout [Int32]) {
        let validity = Vectors.validity(key)
        let base = self.base
        var nullID = self.nullID
        func run<T: FixedWidthInteger>(_: T.Type) {
            let p = Vectors.pointer(key, T.self)
            ids.withUnsafeMutableBufferPointer { dense in
                gids.withUnsafeMutableBufferPointer { g in
                    for i in 0..<n {
                        guard Vectors.isValid(validity, i) else {
                            if nullID < 0 {
                                let nullKey: [UInt8] = [0]  // the flag byte alone, as EncodedKeys writes NULL
                                nullID = nullKey.withUnsafeBytes { table.findOrInsert($0, Hash64.hash($0)) }
                            }
                            g[i] = nullID
                            continue
                        }
                        let slot = Int(Int64(p[i]) &- base)
                        var id = dense[slot]
                        if id < 0 {
                            let value = p[i]
                            id = withUnsafeTemporaryAllocation(byteCount: 1 + MemoryLayout<T>.size, alignment: 1) { buf in
                                buf.storeBytes(of: 1, as: UInt8.self)  // EncodedKeys' form: flag byte, then the value
                                buf.storeBytes(of: value, toByteOffset: 1, as: T.self)
                                let key = UnsafeRawBufferPointer(buf)
                                return table.findOrInsert(key, Hash64.hash(key))
                            }
                            dense[slot] = id
                        }
                        g[i] = id
                    }
                }
            }
        }
        if key.type.physical == .int32 { run(Int32.self) } else { run(Int64.self) }
        self.nullID = nullID
    }
}
