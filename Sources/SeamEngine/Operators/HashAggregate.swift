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
