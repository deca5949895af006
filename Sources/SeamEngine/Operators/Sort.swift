import SeamColumnar
import SeamKernels
import SeamSQL
import Synchronization

/// Compares rows of one batch by sort keys (DuckDB's order: NULLS LAST unless asked otherwise).
struct RowComparator {
    enum Column {
        case ints(UnsafePointer<Int64>)
        case int32s(UnsafePointer<Int32>)
        case bytes(UnsafePointer<UInt8>)
        case doubles(UnsafePointer<Double>)
        case strings(ColumnVector, UnsafePointer<UInt32>)
    }

    struct Key {
        let column: Column
        let validity: UnsafePointer<UInt64>?
        let descending: Bool
        let nullsFirst: Bool
        let vector: ColumnVector
    }

    let keys: [Key]

    init(_ vectors: [ColumnVector], descending: [Bool], nullsFirst: [Bool]) {
        keys = vectors.indices.map { k in
            let v = vectors[k]
            let col: Column
            switch v.type.physical {
            case .int64: col = .ints(Vectors.pointer(v, Int64.self))
            case .int32: col = .int32s(Vectors.pointer(v, Int32.self))
            case .uint8: col = .bytes(Vectors.pointer(v, UInt8.self))
            case .double: col = .doubles(Vectors.pointer(v, Double.self))
            case .bytes: col = .strings(v, Vectors.offsets(v))
            }
            return Key(column: col, validity: Vectors.validity(v), descending: descending[k], nullsFirst: nullsFirst[k], vector: v)
        }
    }

    /// < 0 when row a sorts before row b.
    @inline(__always)
    func compare(_ a: Int, _ b: Int) -> Int {
        for k in keys {
            let va = Vectors.isValid(k.validity, a)
            let vb = Vectors.isValid(k.validity, b)
            if !va || !vb {
                if va == vb { continue }
                // NULL placement does not flip with DESC.
                return (!va) == k.nullsFirst ? -1 : 1
            }
            var c: Int
            switch k.column {
            case .ints(let p): c = p[a] < p[b] ? -1 : (p[a] > p[b] ? 1 : 0)
            case .int32s(let p): c = p[a] < p[b] ? -1 : (p[a] > p[b] ? 1 : 0)
            case .bytes(let p): c = Int(p[a]) - Int(p[b])
            case .doubles(let p): c = p[a] < p[b] ? -1 : (p[a] > p[b] ? 1 : 0)
            case .strings(let v, let o): c = Compare.compareBytes(Vectors.string(v, o, a), Vectors.string(v, o, b))
            }
            if c != 0 { return k.descending ? -c : c }
        }
        return 0
    }

    /// Row indices 0..<n in sorted order (ties keep input order).
    func sortedIndices(_ n: Int) -> [Int32] {
        var idx = (0..<n).map { Int32($0) }
        idx.sort { a, b in
            let c = compare(Int(a), Int(b))
            return c != 0 ? c < 0 : a < b
        }
        return idx
    }
}

/// Concatenates batches into one (same column types).
func concatBatches(_ batches: [Batch], _ types: [LogicalType]) -> Batch {
    if batches.count == 1 { return batches[0] }
    return Batch(columns: types.indices.map { c in Gather.concat(batches.map { $0.columns[c] }, type: types[c]) }, count: batches.reduce(0) { $0 + $1.count })
}

/// Splits rows into batches of at most `size` rows, gathered in `order`.
func gatherBatches(_ all: Batch, _ order: [Int32], size: Int = 1 << 16) -> [Batch] {
    var out: [Batch] = []
    var start = 0
    while start < order.count {
        let idx = Array(order[start..<min(start + size, order.count)])
        out.append(Batch(columns: all.columns.map { Gather.rows($0, idx) }, count: idx.count))
        start += size
    }
    return out
}

/// ORDER BY, and top-N when a LIMIT bounds it: each morsel keeps only its own best N rows.
struct SortOperator {
    let executor: Executor
    let keys: [SortKey]
    let limit: Int?

    func run(_ child: LogicalPlan, _ path: String) throws -> [Batch] {
        let types = child.schema.fields.map(\.type)
        var batches: [Batch]
        if let limit {
            let parts = Mutex<[Int: [Batch]]>([:])
            try executor.stream(child, path, stop: nil) { _, m, b in
                guard b.count > 0 else { return }
                let top = try sorted(b, limit: limit)
                parts.withLock { $0[m, default: []].append(top) }
            }
            batches = parts.withLock { p in p.keys.sorted().flatMap { p[$0]! } }
        } else {
            batches = try executor.collect(child, path)
        }
        if batches.isEmpty { return [] }
        let all = concatBatches(batches, types)
        return [try sorted(all, limit: limit)].flatMap { b in b.count > (1 << 16) ? gatherBatches(b, (0..<b.count).map { Int32($0) }) : [b] }
    }

    private func sorted(_ b: Batch, limit: Int?) throws -> Batch {
        let cols = try keys.map { try executor.evaluator.evaluate($0.expr, b) }
        let cmp = RowComparator(cols, descending: keys.map(\.descending), nullsFirst: keys.map(\.nullsFirst))
        var order = cmp.sortedIndices(b.count)
        if let limit, order.count > limit { order.removeLast(order.count - limit) }
        return Batch(columns: b.columns.map { Gather.rows($0, order) }, count: order.count)
    }
}
