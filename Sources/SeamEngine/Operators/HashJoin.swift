import SeamColumnar
import SeamKernels
import SeamSQL

enum JoinOutput {
    /// Row pairs gathered into one output batch at most.
    static let maxPairs = 1 << 16
}

/// Hash join: the right input is built into a hash table once; the left input streams through it per morsel.
/// INNER and LEFT joins on equality keys, with an optional residual condition; CROSS joins pair every row.
extension Executor {
    struct JoinBuild: @unchecked Sendable {
        let batch: Batch
        let table: KeyTable
        /// Row chains per key id: `head[key]` is the first right row, `next[row]` the following one (-1 ends).
        let head: [Int32]
        let next: [Int32]
        /// One integer key spanning at most ``DenseKeys/maxSpan`` values: `head` is indexed by `key - denseBase`
        /// and `table` is unused, so neither side hashes.
        var denseBase: Int64? = nil
    }

    func buildJoin(_ right: LogicalPlan, _ keys: [BoundExpr], _ path: String) throws -> JoinBuild {
        let batches = try collect(right, path)
        let types = right.schema.fields.map(\.type)
        let all = try concatBatches(batches, types, executor: self)
        var table = KeyTable()
        var head: [Int32] = []
        var next = [Int32](repeating: -1, count: all.count)
        if keys.count == 1, let dense = try denseJoinBuild(keys[0], all, &next) {
            try memory.reserve(dense.head.count * 4 + next.count * 4 + all.byteCount)
            return JoinBuild(batch: all, table: table, head: dense.head, next: next, denseBase: dense.base)
        }
        if !keys.isEmpty {
            let keyCols = try keys.map { try evaluator.evaluate($0, all) }
            let enc = EncodedKeys(keyCols, all.count)
            enc.bytes.withUnsafeBytes { bytes in
                // Insert in reverse so each chain lists rows in table order.
                for i in stride(from: all.count - 1, through: 0, by: -1) where !enc.hasNull[i] {
                    let k = Int(table.findOrInsert(UnsafeRawBufferPointer(rebasing: bytes[enc.starts[i]..<enc.starts[i + 1]]), enc.hashes[i]))
                    if k == head.count { head.append(-1) }
                    next[i] = head[k]
                    head[k] = Int32(i)
                }
            }
        }
        try memory.reserve(table.byteCount + next.count * 4 + all.byteCount)
        return JoinBuild(batch: all, table: table, head: head, next: next)
    }

    /// The dense build for one integer key, or nil when the key is not integer-like, the build side is empty or its
    /// keys span too much.
    private func denseJoinBuild(_ key: BoundExpr, _ all: Batch, _ next: inout [Int32]) throws -> (base: Int64, head: [Int32])? {
        guard all.count > 0, key.type.physical == .int32 || key.type.physical == .int64 else { return nil }
        let col = try evaluator.evaluate(key, all)
        let values = Self.widened(col)
        let validity = Vectors.validity(col)
        guard let (lo, hi) = DenseKeys.range(col) else { return nil }
        let (span, overflow) = hi.subtractingReportingOverflow(lo)
        guard !overflow, span < DenseKeys.maxSpan else { return nil }
        var head = [Int32](repeating: -1, count: Int(span) + 1)
        // Insert in reverse so each chain lists rows in table order.
        for i in stride(from: all.count - 1, through: 0, by: -1) where Vectors.isValid(validity, i) {
            let slot = Int(values[i] - lo)
            next[i] = head[slot]
            head[slot] = Int32(i)
        }
        return (lo, head)
    }

    /// An INTEGER or BIGINT-like column's values as Int64.
    static func widened(_ v: ColumnVector) -> [Int64] {
        if v.type.physical == .int32 {
            let p = Vectors.pointer(v, Int32.self)
            return (0..<v.count).map { Int64(p[$0]) }
        }
        let p = Vectors.pointer(v, Int64.self)
        return Array(UnsafeBufferPointer(start: p, count: v.count))
    }

    func streamJoin(
        _ left: LogicalPlan, _ right: LogicalPlan, _ type: JoinType, _ leftKeys: [BoundExpr], _ rightKeys: [BoundExpr], _ residual: BoundExpr?,
        _ path: String, stop: EarlyStop?, _ sink: Sink
    ) throws {
        let build = try buildJoin(right, rightKeys, path + ".1")
        let rightTypes = right.schema.fields.map(\.type)
        // FULL: which build rows found a partner, per worker (merged after the probe).
        let buildMatched = UncheckedSendable(value: BuildMatches(workers: type == .full ? threads : 0, rows: build.batch.count))
        try stream(left, path + ".0", stop: stop) { w, m, b in
            var matched = [Bool](repeating: false, count: b.count)
            var li: [Int32] = []
            var ri: [Int32] = []
            li.reserveCapacity(min(b.count, JoinOutput.maxPairs))
            ri.reserveCapacity(min(b.count, JoinOutput.maxPairs))
            // Pairs are emitted in bounded batches, so a join that multiplies rows neither holds them all nor
            // ignores Ctrl-C.
            func flush() throws {
                guard !li.isEmpty else { return }
                try token.check()
                let t0 = Executor.nanos()
                var joined = Batch(columns: b.columns.map { Gather.rows($0, li) } + build.batch.columns.map { Gather.rows($0, ri) }, count: li.count)
                var kept = li
                var keptRight = ri
                if let residual {
                    let mask = try evaluator.mask(residual, joined)
                    let flags = Vectors.pointer(mask, UInt8.self)
                    let val = Vectors.validity(mask)
                    var keep: [Int32] = []
                    for i in 0..<joined.count where flags[i] != 0 && Vectors.isValid(val, i) { keep.append(Int32(i)) }
                    if keep.count < joined.count {
                        kept = keep.map { li[Int($0)] }
                        keptRight = keep.map { ri[Int($0)] }
                        joined = Batch(columns: joined.columns.map { Gather.rows($0, keep) }, count: keep.count)
                    }
                }
                for i in kept { matched[Int(i)] = true }
                if type == .full { buildMatched.value.mark(worker: w, keptRight) }
                li.removeAll(keepingCapacity: true)
                ri.removeAll(keepingCapacity: true)
                profile?.add(path, rows: joined.count, nanos: Executor.nanos() - t0)
                if joined.count > 0 { try sink(w, m, joined) }
            }
            /// Pairs left row `i` with every right row of the chain starting at `first`.
            func pairWithChain(_ i: Int, _ first: Int32) throws {
                var r = first
                while r >= 0 {
                    li.append(Int32(i))
                    ri.append(r)
                    r = build.next[Int(r)]
                    if li.count >= JoinOutput.maxPairs { try flush() }
                }
            }
            if type == .cross || leftKeys.isEmpty {
                for i in 0..<b.count {
                    for j in 0..<build.batch.count {
                        li.append(Int32(i))
                        ri.append(Int32(j))
                        if li.count >= JoinOutput.maxPairs { try flush() }
                    }
                }
            } else if let base = build.denseBase {
                let keyCol = try evaluator.evaluate(leftKeys[0], b)
                let values = Self.widened(keyCol)
                let validity = Vectors.validity(keyCol)
                let span = Int64(build.head.count)
                for i in 0..<b.count where Vectors.isValid(validity, i) {
                    let (offset, overflow) = values[i].subtractingReportingOverflow(base)
                    if overflow || offset < 0 || offset >= span { continue }
                    try pairWithChain(i, build.head[Int(offset)])
                }
            } else {
                let keyCols = try leftKeys.map { try evaluator.evaluate($0, b) }
                let enc = EncodedKeys(keyCols, b.count)
                try enc.bytes.withUnsafeBytes { bytes in
                    for i in 0..<b.count where !enc.hasNull[i] {
                        let k = build.table.find(UnsafeRawBufferPointer(rebasing: bytes[enc.starts[i]..<enc.starts[i + 1]]), enc.hashes[i])
                        if k < 0 { continue }
                        try pairWithChain(i, build.head[Int(k)])
                    }
                }
            }
            try flush()
            if type == .left || type == .full {
                // Left rows without a surviving match: once, with NULLs on the right.
                let missing = (0..<b.count).filter { !matched[$0] }.map { Int32($0) }
                if !missing.isEmpty {
                    let extra = Batch(
                        columns: b.columns.map { Gather.rows($0, missing) } + rightTypes.map { Vectors.constant(.null, $0, missing.count) },
                        count: missing.count)
                    try sink(w, m, extra)
                }
            }
        }
        if type == .full {
            // Build rows no probe row matched: once, with NULLs on the left, after every probe morsel.
            let unmatched = buildMatched.value.unmatched()
            if !unmatched.isEmpty {
                let leftTypes = left.schema.fields.map(\.type)
                let extra = Batch(
                    columns: leftTypes.map { Vectors.constant(.null, $0, unmatched.count) } + build.batch.columns.map { Gather.rows($0, unmatched) },
                    count: unmatched.count)
                try sink(0, Int(Int32.max), extra)
            }
        }
    }
}

/// For a FULL join: the build rows each worker saw matched. One flat allocation, a row range per worker, so workers
/// write without touching shared Swift arrays.
final class BuildMatches {
    private let flags: UnsafeMutablePointer<UInt8>
    private let workers: Int
    private let rows: Int

    init(workers: Int, rows: Int) {
        self.workers = workers
        self.rows = rows
        flags = .allocate(capacity: max(workers * rows, 1))
        flags.initialize(repeating: 0, count: max(workers * rows, 1))
    }

    deinit { flags.deallocate() }

    /// Worker `w` writes only its own range.
    func mark(worker w: Int, _ matched: [Int32]) {
        let mine = flags + w * rows
        for r in matched { mine[Int(r)] = 1 }
    }

    func unmatched() -> [Int32] {
        var out: [Int32] = []
        for r in 0..<rows {
            var any: UInt8 = 0
            for w in 0..<workers { any |= flags[w * rows + r] }
            if any == 0 { out.append(Int32(r)) }
        }
        return out
    }
}
