public import SeamColumnar

public enum ArithmeticOperator: String, Sendable, Hashable { case add = "+", subtract = "-", multiply = "*", divide = "/", integerDivide = "//", modulo = "%" }

public enum ComparisonOperator: String, Sendable, Hashable {
    case equal = "=", notEqual = "<>", less = "<", lessEqual = "<=", greater = ">", greaterEqual = ">="

    /// The operator with its operands swapped (`a < b` ⇔ `b > a`).
    public var flipped: ComparisonOperator {
        switch self {
        case .equal, .notEqual: return self
        case .less: return .greater
        case .lessEqual: return .greaterEqual
        case .greater: return .less
        case .greaterEqual: return .lessEqual
        }
    }
}

public struct WhenClause: Sendable, Hashable {
    public var condition: BoundExpr
    public var result: BoundExpr
}

/// An expression with names resolved to input column positions and every node typed.
public indirect enum BoundExpr: Sendable, Hashable {
    case column(Int, LogicalType)
    case constant(Value, LogicalType)
    case cast(BoundExpr, LogicalType)
    /// Both operands have the result's type, except `timestamp ± interval` (see `addInterval`) and `/` (DOUBLE operands).
    case arithmetic(ArithmeticOperator, BoundExpr, BoundExpr, LogicalType)
    case negate(BoundExpr)
    /// Both operands have the same type.
    case compare(ComparisonOperator, BoundExpr, BoundExpr)
    case and([BoundExpr])
    case or([BoundExpr])
    case not(BoundExpr)
    case isNull(BoundExpr, negated: Bool)
    case isDistinctFrom(BoundExpr, BoundExpr, negated: Bool)
    /// The values have the operand's type; `NULL`s in the list were dropped and are remembered in `listHasNull`.
    case inList(BoundExpr, values: [Value], listHasNull: Bool, negated: Bool)
    /// `escape`: the character that makes the next `%`, `_` or itself literal (`LIKE … ESCAPE`).
    case like(BoundExpr, pattern: String, caseInsensitive: Bool, negated: Bool, escape: Character? = nil)
    case caseWhen([WhenClause], otherwise: BoundExpr?, LogicalType)
    case function(ScalarFunction, [BoundExpr], LogicalType)
    /// `ts + INTERVAL`: calendar months first, then microseconds.
    case addInterval(BoundExpr, months: Int64, micros: Int64)
    /// An uncorrelated subquery, run once before the query that holds it.
    case subquery(SubqueryPlan, LogicalType)
    /// Placeholders used while binding; never reach the engine.
    case aggregateSlot(Int, LogicalType)
    case windowSlot(Int, LogicalType)

    public var type: LogicalType {
        switch self {
        case .column(_, let t), .constant(_, let t), .cast(_, let t), .arithmetic(_, _, _, let t), .caseWhen(_, _, let t),
            .function(_, _, let t), .subquery(_, let t), .aggregateSlot(_, let t), .windowSlot(_, let t):
            return t
        case .negate(let e): return e.type
        case .addInterval: return .timestamp
        case .compare, .and, .or, .not, .isNull, .isDistinctFrom, .inList, .like: return .boolean
        }
    }

    /// Child expressions, in order.
    public var children: [BoundExpr] {
        var out: [BoundExpr] = []
        forEachChild { out.append($0) }
        return out
    }

    /// Calls `body` on each direct child, in order, without building an array of them (``children`` does; the column
    /// walks of planning ran once per node per query).
    @inline(__always)
    public func forEachChild(_ body: (BoundExpr) -> Void) {
        switch self {
        case .column, .constant, .subquery, .aggregateSlot, .windowSlot: return
        case .cast(let e, _), .negate(let e), .not(let e), .isNull(let e, _), .inList(let e, _, _, _), .like(let e, _, _, _, _),
            .addInterval(let e, _, _):
            body(e)
        case .arithmetic(_, let a, let b, _), .compare(_, let a, let b), .isDistinctFrom(let a, let b, _):
            body(a)
            body(b)
        case .and(let es), .or(let es), .function(_, let es, _): for e in es { body(e) }
        case .caseWhen(let ws, let o, _):
            for w in ws {
                body(w.condition)
                body(w.result)
            }
            if let o { body(o) }
        }
    }

    /// This expression with each direct child replaced by `f(child)`.
    public func mapChildren(_ f: (BoundExpr) throws(SQLError) -> BoundExpr) throws(SQLError) -> BoundExpr {
        switch self {
        case .column, .constant, .subquery, .aggregateSlot, .windowSlot: return self
        case .cast(let e, let t): return .cast(try f(e), t)
        case .negate(let e): return .negate(try f(e))
        case .not(let e): return .not(try f(e))
        case .isNull(let e, let n): return .isNull(try f(e), negated: n)
        case .inList(let e, let v, let h, let n): return .inList(try f(e), values: v, listHasNull: h, negated: n)
        case .like(let e, let p, let ci, let n, let esc): return .like(try f(e), pattern: p, caseInsensitive: ci, negated: n, escape: esc)
        case .addInterval(let e, let m, let u): return .addInterval(try f(e), months: m, micros: u)
        case .arithmetic(let op, let a, let b, let t): return .arithmetic(op, try f(a), try f(b), t)
        case .compare(let op, let a, let b): return .compare(op, try f(a), try f(b))
        case .isDistinctFrom(let a, let b, let n): return .isDistinctFrom(try f(a), try f(b), negated: n)
        case .and(let es): return .and(try es.map { e throws(SQLError) in try f(e) })
        case .or(let es): return .or(try es.map { e throws(SQLError) in try f(e) })
        case .function(let fn, let es, let t): return .function(fn, try es.map { e throws(SQLError) in try f(e) }, t)
        case .caseWhen(let ws, let o, let t):
            return .caseWhen(
                try ws.map { w throws(SQLError) in WhenClause(condition: try f(w.condition), result: try f(w.result)) },
                otherwise: try o.map { e throws(SQLError) in try f(e) }, t)
        }
    }

    /// This expression with `f` applied bottom-up to every node.
    public func transformed(_ f: (BoundExpr) throws(SQLError) -> BoundExpr) throws(SQLError) -> BoundExpr {
        try f(try mapChildren { e throws(SQLError) in try e.transformed(f) })
    }

    /// Top-down rewrite: where `f` returns a replacement, it is used and not descended into.
    public func rewritten(_ f: (BoundExpr) throws(SQLError) -> BoundExpr?) throws(SQLError) -> BoundExpr {
        if let r = try f(self) { return r }
        return try mapChildren { e throws(SQLError) in try e.rewritten(f) }
    }

    /// Column references renumbered through `map` (old position → new position).
    public func remapped(_ map: [Int: Int]) -> BoundExpr {
        try! transformed { e throws(SQLError) in
            if case .column(let i, let t) = e { return .column(map[i] ?? i, t) }
            return e
        }
    }

    /// True when `pred` holds for this node or any node below it.
    public func contains(where pred: (BoundExpr) -> Bool) -> Bool {
        if pred(self) { return true }
        // Through forEachChild: `children` built an array per node, and planning asks this of every expression.
        var found = false
        forEachChild { if !found && $0.contains(where: pred) { found = true } }
        return found
    }

    /// Input columns this expression reads.
    public var columnsUsed: Set<Int> {
        var out = Set<Int>()
        func walk(_ e: BoundExpr) {
            if case .column(let i, _) = e { out.insert(i) }
            e.forEachChild(walk)
        }
        walk(self)
        return out
    }
}

/// A subquery's plan, boxed so expressions stay hashable by identity of the plan.
public final class SubqueryPlan: @unchecked Sendable, Hashable {
    public enum Kind: Sendable { case scalar, inList, exists }
    public let plan: LogicalPlan
    public let kind: Kind

    public init(plan: LogicalPlan, kind: Kind) {
        self.plan = plan
        self.kind = kind
    }

    public static func == (a: SubqueryPlan, b: SubqueryPlan) -> Bool { a === b }
    public func hash(into h: inout Hasher) { h.combine(ObjectIdentifier(self)) }
}
