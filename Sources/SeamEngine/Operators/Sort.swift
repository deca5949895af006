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
        case strings(UnsafeRawPointer, UnsafePointer<UInt32>)
    }

    /// Raw views only, so comparing touches no reference-counted value; `vectors` keeps the memory alive.
    struct Key {
        let column: Column
        let validity: UnsafePointer<UInt64>?
        let descending: Bool
        let nullsFirst: Bool
    }

    let keys: [Key]
    let vectors: [ColumnVector]

    init(_ vectors: [ColumnVector], descending: [Bool], nullsFirst: [Bool]) {
        keys = vectors.indices.map { k in
            let v = vectors[k]
            let col: Column
            switch v.type.physical {
            case .int64: col = .ints(Vectors.pointer(v, Int64.self))
            case .int32: col = .int32s(Vectors.pointer(v, Int32.self))
            case .uint8: col = .bytes(Vectors.pointer(v, UInt8.self))
            case .double: col = .doubles(Vectors.pointer(v, Double.self))
            case .bytes: col = .strings(v.values.base, Vectors.offsets(v))
            }
            return Key(column: col, validity: Vectors.validity(v), descending: descending[k], nullsFirst: nullsFirst[k])
        }
        self.vectors = vectors
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
            case .doubles(let p):
                // NaN sorts after every number and equals NaN (as DuckDB orders it, and the normalized keys do).
                let x = p[a], y = p[b]
                c = x < y ? -1 : (x > y ? 1 : (x == y || (x.isNaN && y.isNaN) ? 0 : (x.isNaN ? 1 : -1)))
            case .strings(let base, let o):
                c = Compare.compareBytes(
                    UnsafeRawBufferPointer(start: base + Int(o[a]), count: Int(o[a + 1] &- o[a])),
                    UnsafeRawBufferPointer(start: base + Int(o[b]), count: Int(o[b + 1] &- o[b])))
            }
            if c != 0 { return k.descending ? -c : c }
        }
        return 0
    }

    /// Row indices 0..<n in sorted order (ties keep input order).
    func sortedIndices(_ n: Int) -> [Int32] {
        if let sorted = sortedByNormalizedKeys(n) { return sorted }
        var idx = (0..<n).map { Int32($0) }
        idx.sort { a, b in
            let c = compare(Int(a), Int(b))
            return c != 0 ? c < 0 : a < b
        }
        return idx
    }
}

/// Sort keys without text, as an order-preserving `UInt64` per key and row (inverted for DESC) and, when some key has
/// NULLs, a null rank per key and row (NULLS FIRST 0, a value 1, NULLS LAST 2), laid out row by row: comparisons
/// read two flat arrays and never the vectors. DOUBLE orders as DuckDB does: -0.0 equals 0.0, NaN after every number.
struct NormalizedKeys {
    let width: Int
    let words: [UInt64]
    /// Empty when no key has NULLs.
    let ranks: [UInt8]

    /// The keys of rows 0..<n.
    init?(_ cmp: RowComparator, _ n: Int) {
        self.init(cmp, count: n) { $0 }
    }

    /// The keys of rows `rows[0]`, `rows[1]`, … at positions 0, 1, … (a window's partition in its current order).
    init?(_ cmp: RowComparator, rows: UnsafeBufferPointer<Int32>) {
        self.init(cmp, count: rows.count) { Int(rows[$0]) }
    }

    /// Position `i` holds the keys of row `row(i)`.
    @inline(__always)
    private init?(_ cmp: RowComparator, count n: Int, row: (Int) -> Int) {
        let keys = cmp.keys
        guard !keys.isEmpty else { return nil }
        for k in keys { if case .strings = k.column { return nil } }
        let width = keys.count
        var words = [UInt64](repeating: 0, count: n * width)
        let anyNulls = keys.contains { $0.validity != nil }
        var ranks = [UInt8](repeating: 1, count: anyNulls ? n * width : 0)
        words.withUnsafeMutableBufferPointer { w in
            for (k, key) in keys.enumerated() {
                let flip: UInt64 = key.descending ? ~0 : 0
                switch key.column {
                case .ints(let p): for i in 0..<n { w[i * width + k] = (UInt64(bitPattern: p[row(i)]) ^ (1 << 63)) ^ flip }
                case .int32s(let p): for i in 0..<n { w[i * width + k] = (UInt64(bitPattern: Int64(p[row(i)])) ^ (1 << 63)) ^ flip }
                case .bytes(let p): for i in 0..<n { w[i * width + k] = UInt64(p[row(i)]) ^ flip }
                case .doubles(let p):
                    for i in 0..<n {
                        let x = p[row(i)]
                        let d = x.isNaN ? Double.nan : (x == 0 ? 0 : x)
                        let bits = d.bitPattern
                        w[i * width + k] = (bits & (1 << 63) != 0 ? ~bits : bits | (1 << 63)) ^ flip
                    }
                case .strings: preconditionFailure("text keys take the general comparator")
                }
                if let validity = key.validity {
                    let nullRank: UInt8 = key.nullsFirst ? 0 : 2
                    for i in 0..<n where !Vectors.isValid(validity, row(i)) { ranks[i * width + k] = nullRank }
                }
            }
        }
        self.width = width
        self.words = words
        self.ranks = ranks
    }

    /// Whether row `a` sorts before row `b`, ties broken by row number (so sorts are stable). `w` and `r` are
    /// `words` and `ranks` (an empty `r` when no key has NULLs).
    @inline(__always)
    static func less(_ a: Int32, _ b: Int32, _ w: UnsafeBufferPointer<UInt64>, _ r: UnsafeBufferPointer<UInt8>, width: Int) -> Bool {
        let ra = Int(a) &* width, rb = Int(b) &* width
        for k in 0..<width {
            if r.count > 0 {
                let x = r[ra &+ k], y = r[rb &+ k]
                if x != y { return x < y }
                if x != 1 { continue }  // both NULL
            }
            let x = w[ra &+ k], y = w[rb &+ k]
            if x != y { return x < y }
        }
        return a < b
    }
}

extension RowComparator {
    /// The sort without text keys, on ``NormalizedKeys``.
    fileprivate func sortedByNormalizedKeys(_ n: Int) -> [Int32]? {
        guard let keys = NormalizedKeys(self, n) else { return nil }
        let width = keys.width
        if keys.ranks.isEmpty && width <= 2 {
            // One or two keys without NULLs: sort the keys themselves with their row number, in place, so the sort
            // reads contiguous memory instead of chasing indices.
            var entries = [SortEntry](unsafeUninitializedCapacity: n) { out, count in
                keys.words.withUnsafeBufferPointer { w in
                    for i in 0..<n {
                        out[i] = SortEntry(first: w[i * width], second: width == 2 ? w[i * width + 1] : 0, row: Int32(i))
                    }
                }
                count = n
            }
            SortEntry.radixSort(&entries)
            return entries.map(\.row)
        }
        var idx = (0..<n).map { Int32($0) }
        keys.words.withUnsafeBufferPointer { w in
            keys.ranks.withUnsafeBufferPointer { r in
                idx.withUnsafeMutableBufferPointer { ix in
                    ix.sort { a, b in NormalizedKeys.less(a, b, w, r, width: width) }
                }
            }
        }
        return idx
    }
}

/// A row's first two normalized sort keys and its number (the no-NULL fast path of the sort).
struct SortEntry {
    var first: UInt64
    var second: UInt64
    var row: Int32

    /// Sorts by (first, second), ties in their current order: a least-significant-digit radix sort, a byte per pass,
    /// that skips the bytes every entry has alike (keys of a modest range, such as days or customer ids, vary in
    /// two or three of their sixteen bytes). Small inputs take a comparison sort.
    static func radixSort(_ entries: inout [SortEntry]) {
        let n = entries.count
        guard n >= 4096 else {
            entries.withUnsafeMutableBufferPointer { e in
                e.sort { a, b in a.first != b.first ? a.first < b.first : (a.second != b.second ? a.second < b.second : a.row < b.row) }
            }
            return
        }
        // Digit d (0...15): byte d of `second` for d < 8, else byte d - 8 of `first`.
        @inline(__always) func digit(_ e: SortEntry, _ d: Int) -> Int {
            Int(truncatingIfNeeded: ((d < 8 ? e.second : e.first) >> UInt64((d & 7) * 8)) & 0xFF)
        }
        var counts = [Int](repeating: 0, count: 16 * 256)
        counts.withUnsafeMutableBufferPointer { c in
            entries.withUnsafeBufferPointer { src in
                for e in src {
                    for d in 0..<16 { c[d &* 256 &+ digit(e, d)] &+= 1 }
                }
            }
        }
        var other = [SortEntry](repeating: SortEntry(first: 0, second: 0, row: 0), count: n)
        for d in 0..<16 {
            let histogram = counts[(d * 256)..<(d * 256 + 256)]
            if histogram.contains(n) { continue }  // every entry has this byte alike
            var next = [Int](repeating: 0, count: 256)
            var sum = 0
            for b in 0..<256 {
                next[b] = sum
                sum += histogram[d * 256 + b]
            }
            entries.withUnsafeBufferPointer { src in
                other.withUnsafeMutableBufferPointer { dst in
                    next.withUnsafeMutableBufferPointer { next in
                        for e in src {
                            let b = digit(e, d)
                            dst[next[b]] = e
                            next[b] &+= 1
                        }
                    }
                }
            }
            swap(&entries, &other)
        }
    }
}

/// Concatenates batches into one (same column types).
func concatBatches(_ batches: [Batch], _ types: [LogicalType], executor: Executor? = nil) throws -> Batch {
    if batches.count == 1 { return batches[0] }
    let count = batches.reduce(0) { $0 + $1.count }
    // The copy is held next to the batches until they are released: the query's peak is both.
    try executor?.memory.reserve(batches.reduce(0) { $0 + $1.byteCount })
    guard let executor, types.count > 1, count >= 1 << 16 else {
        return Batch(columns: types.indices.map { c in Gather.concat(batches.map { $0.columns[c] }, type: types[c]) }, count: count)
    }
    // Columns are independent copies: one per worker at a time (a window's input is gigabytes at 100M rows).
    let columns = Mutex<[Int: ColumnVector]>([:])
    try parallelFor(types.count, threads: executor.threads, token: executor.token) { _, c in
        let v = Gather.concat(batches.map { $0.columns[c] }, type: types[c])
        columns.withLock { $0[c] = v }
    }
    return Batch(columns: columns.withLock { m in types.indices.map { m[$0]! } }, count: count)
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
        let all = try concatBatches(batches, types, executor: executor)
        return [try sorted(all, limit: limit)].flatMap { b in b.count > (1 << 16) ? gatherBatches(b, (0..<b.count).map { Int32($0) }) : [b] }
    }

    private func sorted(_ b: Batch, limit: Int?) throws -> Batch {
        let cols = try keys.map { try executor.evaluator.evaluate($0.expr, b) }
        let cmp = RowComparator(cols, descending: keys.map(\.descending), nullsFirst: keys.map(\.nullsFirst))
        var order: [Int32]
        if let limit, limit <= 256, b.count > 8 * limit {
            order = cmp.smallest(limit, of: b.count)
        } else {
            order = cmp.sortedIndices(b.count)
            if let limit, order.count > limit { order.removeLast(order.count - limit) }
        }
        return Batch(columns: b.columns.map { Gather.rows($0, order) }, count: order.count)
    }
}

extension RowComparator {
    /// The first `k` rows of 0..<n in sorted order (ties in row order), without sorting the rest: one pass keeps the
    /// best `k` so far in order, and most rows lose to the current k-th at once.
    func smallest(_ k: Int, of n: Int) -> [Int32] {
        guard k > 0 else { return [] }
        var top: [Int32] = []
        top.reserveCapacity(k + 1)
        for row in 0..<n {
            // Rows arrive in order, so a row equal to the k-th sorts after it (ties keep row order).
            if top.count == k && compare(row, Int(top[k - 1])) >= 0 { continue }
            var lo = 0, hi = top.count
            while lo < hi {
                let mid = (lo + hi) / 2
                if compare(Int(top[mid]), row) <= 0 { lo = mid + 1 } else { hi = mid }
            }
            top.insert(Int32(row), at: lo)
            if top.count > k { top.removeLast() }
        }
        return top
    }
}
