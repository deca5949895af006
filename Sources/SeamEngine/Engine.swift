public import SeamColumnar
public import SeamSQL
public import SeamStorage
import Foundation

/// The result of a statement: a schema and its rows as column batches.
public struct QueryResult: Sendable {
    public var schema: Schema
    public var batches: [Batch]
    /// Wall time of planning and execution, seconds.
    public var elapsed: Double

    public var rowCount: Int { batches.reduce(0) { $0 + $1.count } }

    /// Every row as values (slow path: rendering, tests).
    public var rows: [[Value]] {
        batches.flatMap { b in (0..<b.count).map { r in b.columns.map { $0.value(at: r) } } }
    }
}

/// Runs SQL against a store: parse → bind → optimize → execute.
///
/// ```swift
/// let engine = QueryEngine(store: try Store(path: "seam-data", mode: .readOnly))
/// let r = try engine.query("SELECT channel, count(*) FROM events GROUP BY 1 ORDER BY 2 DESC")
/// ```
public final class QueryEngine: @unchecked Sendable {
    public let store: Store
    public var options: QueryOptions

    public init(store: Store, options: QueryOptions = QueryOptions()) {
        self.store = store
        self.options = options
    }

    /// Runs one statement and hands its result on as it is produced, in result order, instead of collecting it: a
    /// result that streams (scans, filters, projections, the probe side of a join) is never held whole, so an export
    /// of a large table needs memory for a few batches. `start` gets the result's schema before any row and returns
    /// the transform each batch goes through on the worker that made it (formatting it, say); `consume` gets the
    /// transformed batches one at a time, in order. Returns the rows and the time taken, `consume` included.
    public func stream<T: Sendable>(
        _ sql: String, token: CancellationToken = CancellationToken(),
        start: (Schema) -> @Sendable (Batch) -> T, consume: (T) -> Void
    ) throws -> (rows: Int, elapsed: Double) {
        let began = Date()
        let (bound, catalog, opts) = try prepare(sql)
        guard case .query(let plan) = bound else {
            let r = try execute(bound, catalog, opts, token: token, began: began)  // EXPLAIN: a few rows
            let transform = start(r.schema)
            for b in r.batches { consume(transform(b)) }
            return (r.rowCount, Date().timeIntervalSince(began))
        }
        do {
            let executor = Executor(catalog: catalog, options: opts, token: token, profile: nil)
            let optimized = try executor.resolveSubqueries(Optimizer.optimize(plan))
            let rows = try executor.deliver(optimized, "0", transform: start(plan.schema), consume: consume)
            return (rows, Date().timeIntervalSince(began))
        } catch let e as StorageError {
            throw SQLError(.runtime, "IO Error: \(e)")
        }
    }

    /// Parses and binds a statement against a snapshot of the store's tables, with the statement's `now()`.
    private func prepare(_ sql: String) throws -> (BoundStatement, StoreCatalog, QueryOptions) {
        do {
            let statement = try Parser.parse(sql)
            let catalog = StoreCatalog(store: store)
            var opts = options
            opts.now = Int64(Date().timeIntervalSince1970 * 1_000_000)
            return (try Binder(catalog: catalog).bind(statement), catalog, opts)
        } catch let e as StorageError {
            throw SQLError(.runtime, "IO Error: \(e)")
        }
    }

    /// Runs one statement. Errors are ``SQLError``s (render them with ``SQLError/render(sql:)``).
    public func query(_ sql: String, token: CancellationToken = CancellationToken()) throws -> QueryResult {
        let start = Date()
        let (bound, catalog, opts) = try prepare(sql)
        return try execute(bound, catalog, opts, token: token, began: start)
    }

    /// Runs a prepared statement and collects its result; `began`: when the statement's clock started.
    private func execute(
        _ bound: BoundStatement, _ catalog: StoreCatalog, _ opts: QueryOptions, token: CancellationToken, began start: Date
    ) throws -> QueryResult {
        do {
            switch bound {
            case .query(let plan):
                let executor = Executor(catalog: catalog, options: opts, token: token, profile: nil)
                let optimized = try executor.resolveSubqueries(Optimizer.optimize(plan))
                let batches = try executor.collect(optimized, "0")
                return QueryResult(schema: plan.schema, batches: batches, elapsed: Date().timeIntervalSince(start))
            case .explain(let plan, let analyze):
                let profile = analyze ? Profile() : nil
                let executor = Executor(catalog: catalog, options: opts, token: token, profile: profile)
                let optimized = try executor.resolveSubqueries(Optimizer.optimize(plan))
                var total = 0.0
                if analyze {
                    let t0 = Date()
                    _ = try executor.collect(optimized, "0")
                    total = Date().timeIntervalSince(t0)
                }
                let text = try executor.explain(optimized, analyze: analyze, total: total)
                let schema = Schema([Field("explain", .varchar)])
                let rows = text.split(separator: "\n", omittingEmptySubsequences: false).dropLast().map { [Value.varchar(String($0))] }
                return QueryResult(schema: schema, batches: [Batch(Chunk(schema: schema, rows: rows).columns)], elapsed: Date().timeIntervalSince(start))
            }
        } catch let e as SQLError {
            throw e
        } catch let e as StorageError {
            throw SQLError(.runtime, "IO Error: \(e)")
        }
    }
}

extension Executor {
    /// Runs each uncorrelated subquery once and puts its result into the plan as constants.
    func resolveSubqueries(_ plan: LogicalPlan) throws -> LogicalPlan {
        // Most plans have none: looking is cheaper than rebuilding every node.
        guard plan.containsSubquery else { return plan }
        func fix(_ e: BoundExpr) throws -> BoundExpr {
            guard e.contains(where: { if case .subquery = $0 { return true } else { return false } }) else { return e }
            return try e.transformed { x throws(SQLError) in
                do { return try self.resolve(x) } catch let err as SQLError { throw err } catch { throw SQLError(.runtime, "\(error)") }
            }
        }
        let children = try plan.children.map(resolveSubqueries)
        let node = plan.withChildren(children)
        switch node {
        case .filter(let c, let p): return .filter(c, try fix(p))
        case .project(let c, let es, let s): return .project(c, try es.map(fix), s)
        case .aggregate(let c, let g, let a, let s):
            let aggs = try a.map { call in try call.mapExpressions(fix) }
            return .aggregate(c, groups: try g.map(fix), aggregates: aggs, schema: s)
        case .join(let l, let r, let t, let lk, let rk, let res, let s):
            return .join(l, r, t, leftKeys: lk, rightKeys: rk, residual: try res.map(fix), schema: s)
        case .sort(let c, let keys, let limit):
            return .sort(c, try keys.map { SortKey(expr: try fix($0.expr), descending: $0.descending, nullsFirst: $0.nullsFirst) }, limit: limit)
        default:
            return node
        }
    }

    private func resolve(_ e: BoundExpr) throws -> BoundExpr {
        switch e {
        case .subquery(let sp, let t) where sp.kind != .inList:
            let plan = try resolveSubqueries(Optimizer.optimize(sp.plan))
            let batches = try collect(plan, "sub", limit: sp.kind == .exists ? 1 : 2)
            let rows = batches.reduce(0) { $0 + $1.count }
            if sp.kind == .exists { return .constant(.boolean(rows > 0), .boolean) }
            if rows > 1 {
                throw SQLError(.runtime, "Invalid Input Error: More than one row returned by a subquery used as an expression - scalar subqueries can only return a single row.")
            }
            let first = batches.first { $0.count > 0 }
            return .constant(first.map { $0.columns[0].value(at: 0) } ?? .null, t)
        case .function(.inSubquery, let args, _):
            guard case .subquery(let sp, _) = args[1] else { return e }
            let plan = try resolveSubqueries(Optimizer.optimize(sp.plan))
            var values = Set<Value>()
            var hasNull = false
            for b in try collect(plan, "sub") {
                for r in 0..<b.count {
                    let v = b.columns[0].value(at: r)
                    if v.isNull { hasNull = true } else { values.insert(v) }
                }
            }
            try memory.reserve(values.count * 32)
            return .inList(args[0], values: Array(values), listHasNull: hasNull, negated: false)
        default:
            return e
        }
    }

    /// The plan with zone-map pruning per scan, and with ANALYZE, rows and time per operator.
    func explain(_ plan: LogicalPlan, analyze: Bool, total: Double) throws -> String {
        var paths: [String: String] = [:]
        func assign(_ p: LogicalPlan, _ path: String) -> [(LogicalPlan, String)] {
            var out = [(p, path)]
            for (i, c) in p.children.enumerated() { out += assign(c, path + ".\(i)") }
            return out
        }
        let nodes = assign(plan, "0")
        for (_, path) in nodes { paths[path] = path }
        var index = 0
        let stats = profile?.stats.withLock { $0 } ?? [:]
        var scans: [String: ScanStats] = [:]
        for (node, path) in nodes {
            if case .scan(let s) = node { scans[path] = try planScan(s).stats }
        }
        let text = plan.explain { node in
            let path = nodes[index].1
            index += 1
            var notes: [String] = []
            if case .scan = node, let s = scans[path] {
                notes.append("segments \(s.segments - s.segmentsSkipped)/\(s.segments), blocks \(s.blocks - s.blocksSkipped)/\(s.blocks) read (\(s.blocksSkipped) skipped by zone maps)")
            }
            if analyze, case .window = node, windowsInStoredOrder.withLock({ $0.contains(path + ".0") }) {
                notes.append("order from the storage layout: ORDER BY columns not read")
            }
            if analyze, case .scan(let s) = node, let read = scanColumnsRead.withLock({ $0[path] }) {
                notes.append(read.isEmpty ? "no column read (row counts only)" : "columns read: " + read.map { s.schema[$0].name }.joined(separator: ", "))
            }
            if analyze, case .filter = node, let counted = blocksCountedInPlace.withLock({ $0[path] }), let s = scans[path + ".0"] {
                notes.append((counted.summed
                    ? "aggregates of \(counted.blocks)/\(s.blocks - s.blocksSkipped) blocks summed on their stored values, "
                    : "count(*) of \(counted.blocks)/\(s.blocks - s.blocksSkipped) blocks without their rows (packed values, runs or zone maps), ")
                    + "reading \(counted.bytesRead) of their \(counted.bytesStored) stored bytes")
            }
            if analyze, case .filter = node, let v = blocksFilteredAtValidRows.withLock({ $0[path] }), v.blocks > 0, let s = scans[path + ".0"] {
                notes.append("\(v.blocks)/\(s.blocks - s.blocksSkipped) blocks filtered only at the rows where \(v.column) is not NULL")
            }
            if analyze, let st = stats[path] {
                notes.append("rows \(st.rows), \(String(format: "%.2f", Double(st.nanos) / 1e6)) ms")
            }
            return notes.isEmpty ? "" : "[" + notes.joined(separator: "; ") + "]"
        }
        return analyze ? text + "Total: \(String(format: "%.2f", total * 1000)) ms (operator times are summed over worker threads)\n" : text
    }
}
