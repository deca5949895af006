/// The syntax tree the parser builds: what the user wrote, before names and types are resolved.

public enum Literal: Sendable, Hashable {
    case null
    case boolean(Bool)
    case integer(String)
    case number(String)
    case string(String)
    /// `TIMESTAMP '…'`
    case timestamp(String)
    /// `DATE '…'`
    case date(String)
    /// `INTERVAL n UNIT` or `INTERVAL 'n unit'`
    case interval(count: String, unit: String)
}

public enum UnaryOperator: String, Sendable { case negate = "-", plus = "+", not = "NOT" }

public enum BinaryOperator: String, Sendable {
    case add = "+", subtract = "-", multiply = "*", divide = "/", integerDivide = "//", modulo = "%"
    case equal = "=", notEqual = "<>", less = "<", lessEqual = "<=", greater = ">", greaterEqual = ">="
    case and = "AND", or = "OR", concat = "||"

    var isComparison: Bool {
        switch self {
        case .equal, .notEqual, .less, .lessEqual, .greater, .greaterEqual: return true
        default: return false
        }
    }
}

/// A window: `OVER (PARTITION BY … ORDER BY … [ROWS BETWEEN … AND …])`.
public struct WindowSpec: Sendable {
    public var partitionBy: [Expr]
    public var orderBy: [OrderItem]
    /// A `ROWS` frame; nil for the default frame.
    public var frame: WindowFrame? = nil
    /// `OVER w` or `OVER (w ORDER BY …)`: the named window (the query's WINDOW clause) this one starts from.
    public var base: (name: String, at: SourceLocation)? = nil
}

public indirect enum Expr: Sendable {
    case column(parts: [String], at: SourceLocation)
    case star(table: String?, at: SourceLocation)
    case literal(Literal, at: SourceLocation)
    case unary(UnaryOperator, Expr, at: SourceLocation)
    case binary(BinaryOperator, Expr, Expr, at: SourceLocation)
    case function(FunctionCall)
    case cast(Expr, typeName: String, at: SourceLocation)
    case caseWhen(operand: Expr?, whens: [(Expr, Expr)], otherwise: Expr?, at: SourceLocation)
    case between(Expr, Expr, Expr, negated: Bool, at: SourceLocation)
    case inList(Expr, [Expr], negated: Bool, at: SourceLocation)
    case inSubquery(Expr, SelectStatement, negated: Bool, at: SourceLocation)
    case subquery(SelectStatement, at: SourceLocation)
    case exists(SelectStatement, negated: Bool, at: SourceLocation)
    case isNull(Expr, negated: Bool, at: SourceLocation)
    case isDistinctFrom(Expr, Expr, negated: Bool, at: SourceLocation)
    case like(Expr, Expr, caseInsensitive: Bool, negated: Bool, escape: Expr? = nil, at: SourceLocation)

    public var location: SourceLocation {
        switch self {
        case .column(_, let l), .star(_, let l), .literal(_, let l), .unary(_, _, let l), .binary(_, _, _, let l),
            .cast(_, _, let l), .caseWhen(_, _, _, let l), .between(_, _, _, _, let l), .inList(_, _, _, let l),
            .inSubquery(_, _, _, let l), .subquery(_, let l), .exists(_, _, let l), .isNull(_, _, let l),
            .isDistinctFrom(_, _, _, let l), .like(_, _, _, _, _, let l):
            return l
        case .function(let f): return f.location
        }
    }
}

public struct FunctionCall: Sendable {
    public var name: String
    public var arguments: [Expr]
    public var distinct: Bool
    /// `count(*)`
    public var star: Bool
    public var filter: Expr?
    public var over: WindowSpec?
    public var location: SourceLocation
    /// `string_agg(x, ',' ORDER BY ts)`: the order an aggregate sees its rows in.
    public var orderBy: [OrderItem] = []
    /// `percentile_cont(0.9) WITHIN GROUP (ORDER BY amount)`: the ordered-set aggregate's value and direction.
    public var withinGroup: OrderItem? = nil
}

public struct OrderItem: Sendable {
    public var expr: Expr
    public var descending: Bool
    /// `nil`: the default (DuckDB: NULLS LAST for both directions).
    public var nullsFirst: Bool?
}

public struct SelectItem: Sendable {
    public var expr: Expr
    public var alias: String?
    /// `* EXCLUDE (a, b)`: columns the star leaves out.
    public var exclude: [(name: String, at: SourceLocation)] = []
    /// `* REPLACE (expr AS a)`: columns the star shows as an expression, in their place and under their name.
    public var replace: [(expr: Expr, name: String)] = []
}

public enum JoinKind: String, Sendable { case inner = "INNER", left = "LEFT", right = "RIGHT", full = "FULL", cross = "CROSS" }

public indirect enum TableRef: Sendable {
    case table(name: String, alias: String?, at: SourceLocation)
    case subquery(SelectStatement, alias: String?, at: SourceLocation)
    case join(TableRef, TableRef, kind: JoinKind, on: Expr?, using: [String], at: SourceLocation)
    /// `(VALUES (1, 'a'), (2, 'b')) AS t(x, y)`: literal rows (columns col0, col1, … unless named).
    case values(rows: [[Expr]], alias: String?, columns: [String], at: SourceLocation)
    /// `… AS t(x, y)` after a table or subquery: its first columns renamed.
    case renamed(TableRef, columns: [String], at: SourceLocation)
}

/// `SELECT … FROM … WHERE … GROUP BY … HAVING …`
public struct SelectCore: Sendable {
    public var distinct = false
    public var items: [SelectItem] = []
    public var from: TableRef?
    public var whereClause: Expr?
    public var groupBy: [Expr] = []
    /// `GROUP BY ALL`
    public var groupByAll = false
    /// `ROLLUP (a, b)`, `CUBE (a, b)` and `GROUPING SETS ((a, b), (a), ())` in GROUP BY, each as its list of sets: the
    /// query groups by every combination of one set from each, with the plain `groupBy` expressions in all of them.
    public var groupingSets: [[[Expr]]] = []
    public var having: Expr?
    /// `WINDOW w AS (…), …`: named windows for OVER clauses of this SELECT.
    public var windows: [(name: String, spec: WindowSpec, at: SourceLocation)] = []
    public var qualify: Expr?
}

public struct CommonTableExpression: Sendable {
    public var name: String
    public var query: SelectStatement
    public var location: SourceLocation
}

/// How two SELECTs combine. `UNION`, `INTERSECT` and `EXCEPT` compare whole rows with NULL equal to NULL and return
/// distinct rows; their `ALL` forms keep duplicates (`INTERSECT ALL`: a row as often as in both, `EXCEPT ALL`: as often
/// as in the left beyond the right). INTERSECT binds tighter than UNION and EXCEPT, which go left to right.
public enum SetOperator: String, Sendable {
    case unionAll = "UNION ALL", union = "UNION"
    case intersectAll = "INTERSECT ALL", intersect = "INTERSECT"
    case exceptAll = "EXCEPT ALL", except = "EXCEPT"

    /// The operator of `word` (UNION, INTERSECT or EXCEPT) with or without ALL; nil for another word.
    public init?(word: String, all: Bool) {
        switch word {
        case "UNION": self = all ? .unionAll : .union
        case "INTERSECT": self = all ? .intersectAll : .intersect
        case "EXCEPT": self = all ? .exceptAll : .except
        default: return nil
        }
    }

    public var keepsDuplicates: Bool { self == .unionAll || self == .intersectAll || self == .exceptAll }
    public var isIntersect: Bool { self == .intersect || self == .intersectAll }
}

public struct SelectStatement: Sendable {
    public var ctes: [CommonTableExpression] = []
    public var core: SelectCore
    /// `UNION | INTERSECT | EXCEPT [ALL]` arms after `core`, in order (``SetOperator`` says how they group).
    public var setOperations: [(SetOperator, SelectCore)] = []
    public var orderBy: [OrderItem] = []
    /// `ORDER BY ALL [ASC|DESC] [NULLS FIRST|LAST]`: every output column, left to right, in this direction (its `expr`
    /// is the position of `ALL`).
    public var orderByAll: OrderItem?
    public var limit: Expr?
    public var offset: Expr?
}

public enum Statement: Sendable {
    case select(SelectStatement)
    case showTables
    case describe(table: String, at: SourceLocation)
    case describeQuery(SelectStatement)
    case explain(SelectStatement, analyze: Bool)
}
