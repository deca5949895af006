public import SeamColumnar

/// A scan of a stored table: which of its columns are read, and predicates the engine may check against
/// zone maps to skip segments and blocks (they are also applied by a filter above the scan).
public struct TableScan: Sendable, Hashable {
    public var table: String
    /// Positions in the table's schema of the columns read, in output order.
    public var columns: [Int]
    public var schema: Schema
    /// Conjuncts over the scan's output columns of the form `column op constant` (also BETWEEN, IN, IS NULL).
    public var zoneFilters: [BoundExpr] = []
}

public enum JoinType: String, Sendable, Hashable { case inner = "INNER", left = "LEFT", full = "FULL", cross = "CROSS" }

/// A relational plan. Every node knows its output schema; expressions refer to its input columns by position.
public indirect enum LogicalPlan: Sendable {
    case scan(TableScan)
    /// Literal rows (`SELECT 1`, `SHOW TABLES`, `DESCRIBE`).
    case values(rows: [[Value]], schema: Schema)
    case filter(LogicalPlan, BoundExpr)
    case project(LogicalPlan, [BoundExpr], Schema)
    /// Output: one column per group expression, then one per aggregate.
    case aggregate(LogicalPlan, groups: [BoundExpr], aggregates: [AggregateCall], schema: Schema)
    /// Output: the input's columns, then one per window call.
    case window(LogicalPlan, [WindowCall], schema: Schema)
    /// Output: the left input's columns, then the right's. Keys are expressions over each side's own columns.
    case join(LogicalPlan, LogicalPlan, JoinType, leftKeys: [BoundExpr], rightKeys: [BoundExpr], residual: BoundExpr?, schema: Schema)
    case sort(LogicalPlan, [SortKey], limit: Int?)
    case limit(LogicalPlan, limit: Int?, offset: Int)
    case distinct(LogicalPlan)
    case union([LogicalPlan], all: Bool, schema: Schema)

    public var schema: Schema {
        switch self {
        case .scan(let s): return s.schema
        case .values(_, let s), .project(_, _, let s), .aggregate(_, _, _, let s), .window(_, _, let s), .join(_, _, _, _, _, _, let s),
            .union(_, _, let s):
            return s
        case .filter(let c, _), .sort(let c, _, _), .limit(let c, _, _), .distinct(let c): return c.schema
        }
    }

    /// Whether an expression of this plan or of a plan below it has a part for which `pred` holds (subqueries' own
    /// plans are not looked into).
    public func containsExpression(where pred: (BoundExpr) -> Bool) -> Bool {
        func any(_ es: [BoundExpr]) -> Bool { es.contains { $0.contains(where: pred) } }
        func any(_ e: BoundExpr?) -> Bool { e?.contains(where: pred) ?? false }
        let here: Bool
        switch self {
        case .scan(let s): here = any(s.zoneFilters)
        case .values, .distinct, .limit, .union: here = false
        case .filter(_, let p): here = any(p)
        case .project(_, let es, _): here = any(es)
        case .aggregate(_, let g, let a, _):
            here = any(g) || a.contains { call in
                var found = false
                call.forEachExpression { if !found && $0.contains(where: pred) { found = true } }
                return found
            }
        case .window(_, let ws, _): here = ws.contains { any($0.arguments) || any($0.partitionBy) || $0.orderBy.contains { any($0.expr) } }
        case .join(_, _, _, let lk, let rk, let res, _): here = any(lk) || any(rk) || any(res)
        case .sort(_, let keys, _): here = keys.contains { any($0.expr) }
        }
        if here { return true }
        var found = false
        forEachChild { if !found && $0.containsExpression(where: pred) { found = true } }
        return found
    }

    /// Whether some expression of the plan holds a subquery (see ``containsExpression(where:)``).
    public var containsSubquery: Bool {
        containsExpression { if case .subquery = $0 { return true } else { return false } }
    }

    /// Calls `body` on each input, in order, without building an array of them as ``children`` does.
    @inline(__always)
    public func forEachChild(_ body: (LogicalPlan) -> Void) {
        switch self {
        case .scan, .values: return
        case .filter(let c, _), .project(let c, _, _), .aggregate(let c, _, _, _), .window(let c, _, _), .sort(let c, _, _),
            .limit(let c, _, _), .distinct(let c):
            body(c)
        case .join(let l, let r, _, _, _, _, _):
            body(l)
            body(r)
        case .union(let cs, _, _): for c in cs { body(c) }
        }
    }

    public var children: [LogicalPlan] {
        switch self {
        case .scan, .values: return []
        case .filter(let c, _), .project(let c, _, _), .aggregate(let c, _, _, _), .window(let c, _, _), .sort(let c, _, _),
            .limit(let c, _, _), .distinct(let c):
            return [c]
        case .join(let l, let r, _, _, _, _, _): return [l, r]
        case .union(let cs, _, _): return cs
        }
    }
}

extension LogicalPlan {
    /// An indented, one-node-per-line rendering for `EXPLAIN`.
    public func explain(indent: Int = 0, annotate: (LogicalPlan) -> String = { _ in "" }) -> String {
        let pad = String(repeating: "  ", count: indent)
        var line: String
        switch self {
        case .scan(let s):
            line = "SCAN \(s.table) [\(s.schema.fields.map(\.name).joined(separator: ", "))]"
            if !s.zoneFilters.isEmpty { line += " zone filters: " + s.zoneFilters.map { $0.sql(s.schema) }.joined(separator: " AND ") }
        case .values(let rows, _): line = "VALUES (\(rows.count) rows)"
        case .filter(let c, let e): line = "FILTER " + e.sql(c.schema)
        case .project(let c, let es, let s):
            line = "PROJECT " + zip(es, s.fields).map { e, f in
                let t = e.sql(c.schema)
                return t == f.name ? t : "\(t) AS \(f.name)"
            }.joined(separator: ", ")
        case .aggregate(let c, let g, let a, _):
            line = "AGGREGATE"
            if !g.isEmpty { line += " by " + g.map { $0.sql(c.schema) }.joined(separator: ", ") }
            if !a.isEmpty { line += " computing " + a.map { $0.sql(c.schema) }.joined(separator: ", ") }
        case .window(let c, let ws, _): line = "WINDOW " + ws.map { $0.sql(c.schema) }.joined(separator: ", ")
        case .join(let l, let r, let t, let lk, let rk, let res, _):
            line = "HASH JOIN \(t.rawValue)"
            if t == .cross { line = "CROSS PRODUCT" }
            let keys = zip(lk, rk).map { "\($0.sql(l.schema)) = \($1.sql(r.schema))" }
            if !keys.isEmpty { line += " on " + keys.joined(separator: " AND ") }
            if let res { line += " filter " + res.sql(Schema(l.schema.fields + r.schema.fields)) }
        case .sort(let c, let keys, let limit):
            line = (limit != nil ? "TOP \(limit!) " : "SORT ") + keys.map { k in
                k.expr.sql(c.schema) + (k.descending ? " DESC" : "") + (k.nullsFirst ? " NULLS FIRST" : "")
            }.joined(separator: ", ")
        case .limit(_, let l, let o): line = "LIMIT \(l.map(String.init) ?? "ALL")" + (o > 0 ? " OFFSET \(o)" : "")
        case .distinct: line = "DISTINCT"
        case .union(_, let all, _): line = all ? "UNION ALL" : "UNION"
        }
        let note = annotate(self)
        var out = pad + line + (note.isEmpty ? "" : "  " + note) + "\n"
        for c in children { out += c.explain(indent: indent + 1, annotate: annotate) }
        return out
    }
}

extension BoundExpr {
    /// SQL-like text of the expression, with input columns named from `schema` (EXPLAIN, default column names).
    public func sql(_ schema: Schema) -> String {
        func name(_ i: Int) -> String { i < schema.count ? schema[i].name : "#\(i)" }
        switch self {
        case .column(let i, _): return name(i)
        case .constant(let v, let t):
            if v.isNull { return "NULL" }
            switch t {
            case .varchar: return "'" + v.description.sqlQuoted + "'"
            case .timestamp: return "TIMESTAMP '\(v.description)'"
            case .date: return "DATE '\(v.description)'"
            default: return v.description
            }
        case .cast(let e, let t): return "CAST(\(e.sql(schema)) AS \(t))"
        case .arithmetic(let op, let a, let b, _): return "(\(a.sql(schema)) \(op.rawValue) \(b.sql(schema)))"
        case .negate(let e): return "-(\(e.sql(schema)))"
        case .compare(let op, let a, let b): return "(\(a.sql(schema)) \(op.rawValue) \(b.sql(schema)))"
        case .and(let es): return "(" + es.map { $0.sql(schema) }.joined(separator: " AND ") + ")"
        case .or(let es): return "(" + es.map { $0.sql(schema) }.joined(separator: " OR ") + ")"
        case .not(let e): return "(NOT \(e.sql(schema)))"
        case .isNull(let e, let n): return "(\(e.sql(schema)) IS \(n ? "NOT " : "")NULL)"
        case .isDistinctFrom(let a, let b, let n): return "(\(a.sql(schema)) IS \(n ? "NOT " : "")DISTINCT FROM \(b.sql(schema)))"
        case .inList(let e, let vs, let h, let n):
            let items = vs.map { BoundExpr.constant($0, e.type).sql(schema) } + (h ? ["NULL"] : [])
            return "(\(e.sql(schema)) \(n ? "NOT " : "")IN (\(items.joined(separator: ", "))))"
        case .like(let e, let p, let ci, let n, let esc):
            let escape = esc.map { " ESCAPE '\(String($0).sqlQuoted)'" } ?? ""
            return "(\(e.sql(schema)) \(n ? "NOT " : "")\(ci ? "ILIKE" : "LIKE") '\(p.sqlQuoted)'\(escape))"
        case .caseWhen(let ws, let o, _):
            var s = "CASE"
            for w in ws { s += " WHEN \(w.condition.sql(schema)) THEN \(w.result.sql(schema))" }
            if let o { s += " ELSE \(o.sql(schema))" }
            return s + " END"
        case .function(let f, let args, _):
            if f == .inSubquery { return "(\(args[0].sql(schema)) IN (subquery))" }
            return "\(f.rawValue)(" + args.map { $0.sql(schema) }.joined(separator: ", ") + ")"
        case .addInterval(let e, let m, let u):
            var parts: [String] = []
            if m != 0 { parts.append("\(m) months") }
            if u != 0 || m == 0 { parts.append("\(u) µs") }
            return "(\(e.sql(schema)) + INTERVAL '\(parts.joined(separator: " "))')"
        case .subquery(_, _): return "(subquery)"
        case .aggregateSlot(let i, _): return "#agg\(i)"
        case .windowSlot(let i, _): return "#win\(i)"
        }
    }
}

extension AggregateCall {
    public func sql(_ schema: Schema) -> String {
        var name = function == .countStar ? "count_star" : function.rawValue
        if let nullsFirst = keyNullsFirst { name = "first_by_\(function == .argMin ? "asc" : "desc")_nulls_\(nullsFirst ? "first" : "last")" }
        let arg = argument.map { (distinct ? "DISTINCT " : "") + $0.sql(schema) } ?? ""
        var key = key.map { ", " + $0.sql(schema) } ?? ""
        if function.takesFraction, let fraction { key = ", \(fraction)" + (fractionFromTop ? " from the top" : "") }
        if function == .stringAgg {
            key = ", '\(separator ?? ",")'"
                + (order.isEmpty ? "" : " ORDER BY " + order.map { $0.expr.sql(schema) + ($0.descending ? " DESC" : "") }.joined(separator: ", "))
        }
        return "\(name)(\(arg)\(key))" + (filter.map { " FILTER (WHERE \($0.sql(schema)))" } ?? "")
    }
}

extension WindowCall {
    public func sql(_ schema: Schema) -> String {
        let name: String
        switch kind {
        case .function(let f): name = f.rawValue
        case .aggregate(let a): name = a == .countStar ? "count_star" : a.rawValue
        }
        var over: [String] = []
        if !partitionBy.isEmpty { over.append("PARTITION BY " + partitionBy.map { $0.sql(schema) }.joined(separator: ", ")) }
        if !orderBy.isEmpty { over.append("ORDER BY " + orderBy.map { $0.expr.sql(schema) + ($0.descending ? " DESC" : "") }.joined(separator: ", ")) }
        if let frame {
            // Month offsets are shown as the intervals they were written as.
            func bound(_ b: FrameBound, inMonths: Bool, _ k: Int) -> String {
                let double = frame.rangeDoubleOffsets.count == 2 ? "\(frame.rangeDoubleOffsets[k])" : nil
                switch b {
                case .preceding(let n) where inMonths: return "INTERVAL \(n) MONTH PRECEDING"
                case .following(let n) where inMonths: return "INTERVAL \(n) MONTH FOLLOWING"
                case .preceding where double != nil: return "\(double!) PRECEDING"
                case .following where double != nil: return "\(double!) FOLLOWING"
                default: return b.sql
                }
            }
            over.append("\(frame.range ? "RANGE" : frame.groups ? "GROUPS" : "ROWS") BETWEEN \(bound(frame.start, inMonths: frame.rangeStartInMonths, 0)) AND \(bound(frame.end, inMonths: frame.rangeEndInMonths, 1))")
        }
        return "\(name)(\(arguments.map { $0.sql(schema) }.joined(separator: ", "))) OVER (\(over.joined(separator: " ")))"
    }
}
