import Foundation
import SeamColumnar
import SeamKernels
import SeamSQL
import SeamStorage
import Synchronization

/// Where a query is allowed to stop reading early: `LIMIT n` over a stream stops once the first morsels,
/// in table order, have produced `n` rows.
///
/// With `onFinished` it stops nothing and tells which morsels are complete instead (``OrderedDelivery`` hands a
/// streamed result on in table order with it).
final class EarlyStop: @unchecked Sendable {
    let needed: Int
    private let onFinished: (@Sendable (Int) -> Void)?
    private let state = Mutex<(rows: [Int: Int], finished: Set<Int>, cutoff: Int)>(([:], [], Int.max))

    init(needed: Int) {
        self.needed = needed
        onFinished = nil
    }

    init(onFinished: @escaping @Sendable (Int) -> Void) {
        needed = .max
        self.onFinished = onFinished
    }

    func skip(_ morsel: Int) -> Bool { state.withLock { morsel > $0.cutoff } }

    func produced(_ morsel: Int, rows: Int) { state.withLock { $0.rows[morsel, default: 0] += rows } }

    func finished(_ morsel: Int) {
        if let onFinished { return onFinished(morsel) }
        state.withLock { s in
            s.finished.insert(morsel)
            var total = 0
            var m = 0
            while s.finished.contains(m) {
                total += s.rows[m, default: 0]
                if total >= needed {
                    s.cutoff = min(s.cutoff, m)
                    return
                }
                m += 1
            }
        }
    }
}

/// Time and rows per plan node, for EXPLAIN ANALYZE. Nodes are named by their path from the root ("0.1").
final class Profile: @unchecked Sendable {
    let stats = Mutex<[String: (rows: Int, nanos: UInt64)]>([:])

    func add(_ path: String, rows: Int, nanos: UInt64) {
        stats.withLock { s in
            let old = s[path] ?? (0, 0)
            s[path] = (old.rows + rows, old.nanos + nanos)
        }
    }
}

/// Memory accounting of what a query holds (materialized inputs, hash tables); past the limit the query
/// fails with a clear error rather than the machine swapping.
final class MemoryBudget: @unchecked Sendable {
    let limit: Int
    private let used = Mutex(0)

    init(limit: Int) { self.limit = limit }

    func reserve(_ bytes: Int) throws {
        let total = used.withLock { u -> Int in
            u += bytes
            return u
        }
        if total > limit {
            throw SQLError(
                .runtime,
                "Out of Memory Error: the query needs more than its memory limit of \(ByteCount.format(limit)) (raise it with seam sql --memory-limit or QueryOptions.memoryLimit, or filter or aggregate earlier)")
        }
    }
}


/// Runs optimized logical plans. Streaming operators (scan, filter, project, the probe side of a hash join)
/// run fused per morsel on every worker; aggregation, sorting, windows and join builds are the pipeline
/// breakers that collect their input first.
final class Executor: @unchecked Sendable {
    typealias Sink = (_ worker: Int, _ morsel: Int, _ batch: Batch) throws -> Void

    let catalog: StoreCatalog
    let evaluator: Evaluator
    let threads: Int
    let token: CancellationToken
    let memory: MemoryBudget
    let profile: Profile?
    let scanStats = Mutex<[String: ScanStats]>([:])
    /// Per filtered scan that left columns undecoded (by plan path): the output columns it read (EXPLAIN ANALYZE).
    let scanColumnsRead = Mutex<[String: [Int]]>([:])
    /// Per filter that fed only `count(*)` (by plan path): the blocks counted without their rows (EXPLAIN ANALYZE).
    let blocksCountedInPlace = Mutex<[String: CountedInPlace]>([:])
    /// Per filter under a block reduction (by plan path): the blocks filtered at the valid rows of the reduced column
    /// only, and that column's name (EXPLAIN ANALYZE).
    let blocksFilteredAtValidRows = Mutex<[String: (blocks: Int, column: String)]>([:])
    /// Windows (by their input's plan path) that took their order from the storage layout (EXPLAIN ANALYZE).
    let windowsInStoredOrder = Mutex<Set<String>>([])

    init(catalog: StoreCatalog, options: QueryOptions, token: CancellationToken, profile: Profile?) {
        self.catalog = catalog
        self.evaluator = Evaluator(now: options.now)
        self.threads = max(1, options.threads)
        self.token = token
        self.memory = MemoryBudget(limit: options.memoryLimit)
        self.profile = profile
    }

    static func nanos() -> UInt64 { DispatchTime.now().uptimeNanoseconds }

    /// ``nanos()`` when EXPLAIN ANALYZE times the operators, 0 otherwise: a per-block clock read (a system call's
    /// worth of work through the vDSO) that nothing reads was 2.4 % of a 2-thread filtered sum over 10M events.
    func clock() -> UInt64 { profile == nil ? 0 : Executor.nanos() }

    /// Every batch `plan` produces, in table order. `needed`, when given, names the output columns the caller reads
    /// (see ``stream(_:_:stop:needed:_:)``).
    func collect(_ plan: LogicalPlan, _ path: String, limit: Int? = nil, needed: Set<Int>? = nil) throws -> [Batch] {
        if isBreaker(plan) { return try materialize(plan, path) }
        let stop = limit.map { EarlyStop(needed: $0) }
        let parts = Mutex<[Int: [Batch]]>([:])
        try stream(plan, path, stop: stop, needed: needed) { _, morsel, batch in
            guard batch.count > 0 else { return }
            try memory.reserve(batch.byteCount)
            stop?.produced(morsel, rows: batch.count)
            parts.withLock { $0[morsel, default: []].append(batch) }
        }
        return parts.withLock { p in p.keys.sorted().flatMap { p[$0]! } }
    }

    /// Runs `plan` and hands its batches on in table order as they are produced, without collecting the result:
    /// `transform` runs on the worker that made a batch (formatting an export, say), `consume` gets the results one
    /// at a time in order. A pipeline breaker at the top is collected first, then transformed a few batches at a time
    /// on every core. Returns the rows.
    func deliver<T: Sendable>(
        _ plan: LogicalPlan, _ path: String, transform: @escaping @Sendable (Batch) -> T, consume: (T) -> Void
    ) throws -> Int {
        if isBreaker(plan) {
            let batches = try materialize(plan, path)
            try transformInOrder(batches, threads: threads, token: token, transform, consume)
            return batches.reduce(0) { $0 + $1.count }
        }
        return try withoutActuallyEscaping(consume) { consume in
            let delivery = OrderedDelivery<T>(UncheckedSendable(value: consume))
            let stop = EarlyStop(onFinished: { delivery.finished($0) })
            try stream(plan, path, stop: stop) { _, morsel, batch in
                guard batch.count > 0 else { return }
                delivery.add(transform(batch), rows: batch.count, of: morsel)
            }
            return delivery.finish()
        }
    }

    private func isBreaker(_ plan: LogicalPlan) -> Bool {
        switch plan {
        case .scan, .filter, .project, .join: return false
        case .values, .aggregate, .window, .sort, .limit, .distinct, .union: return true
        }
    }

    /// Runs `plan`, handing each batch to `sink` on worker threads (concurrently). Morsel numbers follow table order.
    /// `needed`, when given, names the output columns the sink reads: a filtered scan leaves the others undecoded
    /// (all-NULL placeholders).
    func stream(_ plan: LogicalPlan, _ path: String, stop: EarlyStop?, needed: Set<Int>? = nil, _ sink: Sink) throws {
        switch plan {
        case .scan(let s):
            try streamScan(s, path, stop: stop, needed: needed, sink)
        case .filter(let child, let pred):
            if case .scan(let s) = child, let f = FilteredScan(s, pred, needed: needed) {
                try streamFilteredScan(f, path, stop: stop, sink)
                return
            }
            try stream(child, path + ".0", stop: stop) { w, m, b in
                let t0 = Executor.nanos()
                let out = try locate(pred, child.schema) { try filter(b, pred) }
                profile?.add(path, rows: out.count, nanos: Executor.nanos() - t0)
                try sink(w, m, out)
            }
        case .project(let child, let exprs, _):
            let used = exprs.reduce(into: Set<Int>()) { $0.formUnion($1.columnsUsed) }
            try stream(child, path + ".0", stop: stop, needed: used) { w, m, b in
                let t0 = Executor.nanos()
                let cols = try exprs.map { e in try locate(e, child.schema) { try evaluator.evaluate(e, b) } }
                profile?.add(path, rows: b.count, nanos: Executor.nanos() - t0)
                try sink(w, m, Batch(columns: cols, count: b.count))
            }
        case .join(let l, let r, let type, let lk, let rk, let residual, _):
            try streamJoin(l, r, type, lk, rk, residual, path, stop: stop, sink)
        default:
            let t0 = Executor.nanos()
            let batches = try materialize(plan, path, needed: needed)
            _ = t0
            try parallelFor(batches.count, threads: threads, token: token) { w, i in
                if let stop, stop.skip(i) { return }
                try sink(w, i, batches[i])
                stop?.finished(i)
            }
        }
    }

    /// Runs a pipeline breaker to completion.
    /// `needed`, when given, names the output columns the caller reads (a window then reorders only those).
    func materialize(_ plan: LogicalPlan, _ path: String, needed: Set<Int>? = nil) throws -> [Batch] {
        let t0 = Executor.nanos()
        let out: [Batch]
        switch plan {
        case .values(let rows, let schema):
            if schema.count == 0 {
                out = [Batch(columns: [], count: rows.count)]
            } else {
                out = [Batch(Chunk(schema: schema, rows: rows).columns)]
            }
        case .aggregate(let child, let groups, let aggs, let schema):
            out = try HashAggregate(executor: self, groups: groups, aggregates: aggs, outputSchema: schema, inputSchema: child.schema).run(child, path + ".0")
        case .distinct(let child):
            let n = child.schema.count
            let groups = (0..<n).map { BoundExpr.column($0, child.schema[$0].type) }
            out = try HashAggregate(executor: self, groups: groups, aggregates: [], outputSchema: child.schema).run(child, path + ".0")
        case .sort(let child, let keys, let limit):
            out = try SortOperator(executor: self, keys: keys, limit: limit).run(child, path + ".0")
        case .limit(let child, let limit, let offset):
            let batches = try collect(child, path + ".0", limit: limit.map { $0 + offset })
            out = LimitOperator.apply(batches, limit: limit, offset: offset)
        case .window(let child, let calls, _):
            out = try WindowOperator(executor: self, calls: calls, needed: needed).run(child, path + ".0")
        case .union(let children, let all, let schema):
            var batches: [Batch] = []
            for (i, c) in children.enumerated() { batches += try collect(c, path + ".\(i)") }
            if all {
                out = batches
            } else {
                let groups = (0..<schema.count).map { BoundExpr.column($0, schema[$0].type) }
                out = try HashAggregate(executor: self, groups: groups, aggregates: [], outputSchema: schema)
                    .run(.values(rows: [], schema: schema), path, input: batches)
            }
        case .scan, .filter, .project, .join:
            out = try collect(plan, path)
        }
        profile?.add(path, rows: out.reduce(0) { $0 + $1.count }, nanos: Executor.nanos() - t0)
        return out
    }

    /// Runs `body`; a runtime error (conversion, overflow, division by zero) gets the expression it came from,
    /// since row values carry no position in the statement.
    func locate<R>(_ e: BoundExpr, _ input: Schema, _ body: () throws -> R) throws -> R {
        do {
            return try body()
        } catch var err as SQLError where err.kind == .runtime && err.hint == nil {
            err.hint = "in the expression \(e.sql(input))"
            throw err
        }
    }

    /// Rows of `b` where `pred` is true (not false, not NULL).
    func filter(_ b: Batch, _ pred: BoundExpr) throws -> Batch {
        let mask = try evaluator.mask(pred, b)
        return select(b, mask)
    }

    func select(_ b: Batch, _ mask: ColumnVector) -> Batch {
        let n = b.count
        let flags = Vectors.pointer(mask, UInt8.self)
        let validity = Vectors.validity(mask)
        let selected = Selection.count(flags, validity, n)
        if selected == n { return b }
        if selected == 0 { return Batch(columns: b.columns.map { Gather.rows($0, []) }, count: 0) }
        var idx = [Int32](repeating: 0, count: n)
        let k = idx.withUnsafeMutableBufferPointer { Selection.select(flags, validity, n, $0.baseAddress!) }
        idx.removeLast(n - k)
        return Batch(columns: b.columns.map { Gather.rows($0, idx) }, count: k)
    }
}

/// How a statement runs.
public struct QueryOptions: Sendable {
    /// Worker threads (default: every core).
    public var threads: Int
    /// Bytes a query may hold before it fails (default: 80 % of physical memory, as DuckDB).
    public var memoryLimit: Int
    /// `now()` for the statement, µs since the epoch.
    public var now: Int64

    public init(threads: Int? = nil, memoryLimit: Int? = nil, now: Int64? = nil) {
        self.threads = threads ?? ProcessInfo.processInfo.activeProcessorCount
        self.memoryLimit = memoryLimit ?? Int(Double(ProcessInfo.processInfo.physicalMemory) * 0.8)
        self.now = now ?? Int64(Date().timeIntervalSince1970 * 1_000_000)
    }
}

/// What a count(*) filter answered without producing rows, for EXPLAIN ANALYZE: its blocks, the bytes those counts
/// read (packed values; runs) and the bytes the scanned columns store for those blocks.
struct CountedInPlace: Sendable {
    let blocks: Int
    let bytesRead: Int
    let bytesStored: Int
    /// Summed where the values lie (aggregates of the filtered column itself) rather than counted.
    var summed = false
}

/// Puts the per-batch results of a streamed plan back in table order: a morsel's results are consumed once every
/// earlier morsel has finished (those of the next morsel at once, the others held until then). Workers consume under
/// the lock, one at a time.
final class OrderedDelivery<T: Sendable>: @unchecked Sendable {
    private struct State {
        var next = 0
        var held: [Int: [T]] = [:]
        var finished: Set<Int> = []
        var rows = 0
    }
    private let state = Mutex(State())
    /// Safety: called only under `state`'s lock, while the caller of ``Executor/deliver`` waits.
    private let consume: UncheckedSendable<(T) -> Void>

    init(_ consume: UncheckedSendable<(T) -> Void>) { self.consume = consume }

    func add(_ t: T, rows: Int, of morsel: Int) {
        state.withLock { s in
            s.rows += rows
            if morsel == s.next { consume.value(t) } else { s.held[morsel, default: []].append(t) }
        }
    }

    func finished(_ morsel: Int) {
        state.withLock { s in
            s.finished.insert(morsel)
            while s.finished.remove(s.next) != nil {
                s.next += 1
                for t in s.held.removeValue(forKey: s.next) ?? [] { consume.value(t) }
            }
        }
    }

    /// After the stream: what is still held (morsels the scan skipped never finish), in order; the rows.
    func finish() -> Int {
        state.withLock { s in
            for m in s.held.keys.sorted() { for t in s.held[m]! { consume.value(t) } }
            s.held = [:]
            return s.rows
        }
    }
}
