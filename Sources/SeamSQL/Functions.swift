public import SeamColumnar

/// The scalar functions SQL can call. The binder checks arguments and result types here; SeamEngine implements
/// each one (a file per family in `SeamEngine/Functions`).
public enum ScalarFunction: String, Sendable, Hashable, CaseIterable {
    case lower, upper, length, substring, concat, trim, ltrim, rtrim, replace, startsWith = "starts_with", contains
    case left, right, splitPart = "split_part", lpad, rpad, `repeat`, reverse, strpos, endsWith = "ends_with", ascii, chr
    case regexpMatches = "regexp_matches", regexpFullMatch = "regexp_full_match", regexpExtract = "regexp_extract"
    case regexpReplace = "regexp_replace"
    case jsonExtractString = "json_extract_string"
    case round, abs, floor, ceil, sqrt, ln, log10, power
    case coalesce, nullif, greatest, least
    case dateTrunc = "date_trunc", dateDiff = "date_diff", datePart = "date_part", now, epochMs = "epoch_ms", strftime
    /// `x IN (subquery)`: arguments are `x` and the subquery; resolved to an IN list before execution.
    case inSubquery = "in_subquery"

    static let aliases: [String: ScalarFunction] = [
        "substr": .substring, "datediff": .dateDiff, "datepart": .datePart, "current_timestamp": .now, "get_current_timestamp": .now,
        "ifnull": .coalesce, "pow": .power, "ceiling": .ceil, "prefix": .startsWith, "char_length": .length, "len": .length,
        "strlen": .length, "instr": .strpos, "suffix": .endsWith,
    ]

    public static func named(_ name: String) -> ScalarFunction? {
        ScalarFunction(rawValue: name) ?? aliases[name]
    }

    /// Names a user may call, for "did you mean" hints.
    static var callableNames: [String] {
        allCases.filter { $0 != .inSubquery }.map(\.rawValue) + aliases.keys + AggregateFunction.allCases.map(\.rawValue)
            + WindowFunction.allCases.map(\.rawValue) + ["year", "month", "day", "hour", "minute", "second", "dayofweek", "typeof"]
    }
}

/// Aggregate functions.
public enum AggregateFunction: String, Sendable, Hashable, CaseIterable {
    case countStar = "count_star", count, sum, avg, min, max, approxCountDistinct = "approx_count_distinct"
    case anyValue = "any_value", boolAnd = "bool_and", boolOr = "bool_or"
    /// Spread: sample and population standard deviation and variance (DOUBLE; NULL for fewer than two rows in the
    /// sample forms, for none in the population forms).
    case stddevSamp = "stddev_samp", stddevPop = "stddev_pop", varSamp = "var_samp", varPop = "var_pop"
    /// `median(x)`, `quantile_cont(x, q)`: the value at fraction q of the sorted values, interpolated between the two
    /// nearest (DOUBLE for integers and doubles, DECIMAL for DECIMAL, TIMESTAMP for TIMESTAMP and DATE);
    /// `quantile_disc(x, q)`: the first value at or past fraction q, of x's type. `q` is a constant in [0, 1].
    case median, quantileCont = "quantile_cont", quantileDisc = "quantile_disc"
    /// `string_agg(x [, separator] [ORDER BY k])`: the group's non-NULL texts joined (separator ',' by default), in the
    /// key's order when there is one.
    case stringAgg = "string_agg"
    /// `grouping(a, b)` (grouping_id): per row, a bit per argument, 1 where the row's grouping set left that key out
    /// (a ROLLUP subtotal). Resolved by the binder into constants per grouping set; never executed.
    case grouping
    /// `arg_min(x, key)` / `arg_max(x, key)`: x at the row with the least (greatest) key, over rows where neither is NULL.
    case argMin = "arg_min", argMax = "arg_max"
    /// `mode(x)`: the most frequent non-NULL value, of x's type; among equally frequent values the least.
    case mode

    static let aliases: [String: AggregateFunction] = [
        "mean": .avg, "first": .anyValue, "arbitrary": .anyValue, "stddev": .stddevSamp, "every": .boolAnd,
        "min_by": .argMin, "max_by": .argMax, "argmin": .argMin, "argmax": .argMax, "variance": .varSamp,
        "quantile": .quantileDisc, "group_concat": .stringAgg, "listagg": .stringAgg, "grouping_id": .grouping,
    ]

    /// Whether the call takes a fraction after its argument (`quantile_cont(x, 0.9)`).
    public var takesFraction: Bool { self == .quantileCont || self == .quantileDisc }

    public static func named(_ name: String) -> AggregateFunction? {
        if name == "count_star" { return nil }
        return AggregateFunction(rawValue: name) ?? aliases[name]
    }
}

/// One aggregate in an aggregation: `fn(DISTINCT? arg) FILTER (WHERE filter)`.
public struct AggregateCall: Sendable, Hashable {
    public var function: AggregateFunction
    public var argument: BoundExpr?
    public var distinct: Bool
    public var filter: BoundExpr?
    public var type: LogicalType
    /// The second argument of arg_min / arg_max: what is minimized or maximized.
    public var key: BoundExpr?
    /// Set for the first row by an order (a correlated `ORDER BY key LIMIT 1`, unnested), not a user's arg_min /
    /// arg_max: every row counts, NULL arguments too, and rows with a NULL key come first (true) or last (false).
    public var keyNullsFirst: Bool?
    /// The fraction of quantile_cont / quantile_disc (0.5 for median), counted from the largest value when
    /// `fractionFromTop` (percentile_cont(q) WITHIN GROUP (ORDER BY x DESC)).
    public var fraction: Double?
    public var fractionFromTop = false
    /// string_agg: the separator, and the order of its rows (`ORDER BY` inside the call).
    public var separator: String?
    public var order: [SortKey] = []
    /// grouping(…)'s arguments (group keys), and where they stand in the statement (for errors).
    public var groupingKeys: [BoundExpr] = []
    public var groupingLocations: [SourceLocation] = []

    public init(
        function: AggregateFunction, argument: BoundExpr?, distinct: Bool, filter: BoundExpr?, type: LogicalType, key: BoundExpr? = nil,
        keyNullsFirst: Bool? = nil, fraction: Double? = nil, separator: String? = nil, order: [SortKey] = []
    ) {
        self.fraction = fraction
        self.separator = separator
        self.order = order
        self.function = function
        self.argument = argument
        self.distinct = distinct
        self.filter = filter
        self.type = type
        self.key = key
        self.keyNullsFirst = keyNullsFirst
    }
}

extension AggregateCall {
    /// Calls `body` with each expression of the call (argument, FILTER, key, ORDER BY keys), without collecting them:
    /// planning visits every call.
    @inlinable
    public func forEachExpression(_ body: (BoundExpr) throws -> Void) rethrows {
        if let argument { try body(argument) }
        if let filter { try body(filter) }
        if let key { try body(key) }
        for o in order { try body(o.expr) }
        for g in groupingKeys { try body(g) }
    }

    /// The columns the call's expressions read.
    public var columnsUsed: Set<Int> {
        var used = Set<Int>()
        forEachExpression { used.formUnion($0.columnsUsed) }
        return used
    }

    /// The call with each of its expressions transformed by `f` (to renumber columns, say).
    public func mapExpressions<E: Error>(_ f: (BoundExpr) throws(E) -> BoundExpr) throws(E) -> AggregateCall {
        var c = self
        c.argument = try argument.map(f)
        c.filter = try filter.map(f)
        c.key = try key.map(f)
        for i in c.order.indices { c.order[i].expr = try f(order[i].expr) }
        for i in c.groupingKeys.indices { c.groupingKeys[i] = try f(groupingKeys[i]) }
        return c
    }
}

public enum WindowFunction: String, Sendable, Hashable, CaseIterable {
    case rowNumber = "row_number", rank, denseRank = "dense_rank", ntile, lag, lead, firstValue = "first_value", lastValue = "last_value"
    case percentRank = "percent_rank", cumeDist = "cume_dist"
}

/// What a window computes: a ranking/offset function or an aggregate over the frame.
public enum WindowKind: Sendable, Hashable {
    case function(WindowFunction)
    case aggregate(AggregateFunction)
}

public struct SortKey: Sendable, Hashable {
    public var expr: BoundExpr
    public var descending: Bool
    public var nullsFirst: Bool

    public init(expr: BoundExpr, descending: Bool, nullsFirst: Bool) {
        self.expr = expr
        self.descending = descending
        self.nullsFirst = nullsFirst
    }
}

/// One end of a `ROWS` frame, in rows from the current one.
public enum FrameBound: Sendable, Hashable {
    case unboundedPreceding
    case preceding(Int)
    case currentRow
    case following(Int)
    case unboundedFollowing

    /// The offset from the current row (preceding negative), clamped later to the partition.
    public var offset: Int? {
        switch self {
        case .unboundedPreceding, .unboundedFollowing: return nil
        case .preceding(let n): return -n
        case .currentRow: return 0
        case .following(let n): return n
        }
    }

    public var sql: String {
        switch self {
        case .unboundedPreceding: return "UNBOUNDED PRECEDING"
        case .preceding(let n): return "\(n) PRECEDING"
        case .currentRow: return "CURRENT ROW"
        case .following(let n): return "\(n) FOLLOWING"
        case .unboundedFollowing: return "UNBOUNDED FOLLOWING"
        }
    }
}

/// `ROWS BETWEEN start AND end`: the rows an aggregate (or first_value/last_value) sees, by position in the partition;
/// or `RANGE BETWEEN …` with an offset: the rows whose ORDER BY value lies within the offsets of the current row's.
public struct WindowFrame: Sendable, Hashable {
    public var start: FrameBound
    public var end: FrameBound
    /// A RANGE frame: the bounds' offsets are distances in the ORDER BY key's stored units (integers, cents of a
    /// DECIMAL, microseconds of a TIMESTAMP), set by the binder; the offsets as written are in `rangeOffsets`.
    public var range = false
    /// RANGE offsets as parsed (start, end; nil for UNBOUNDED and CURRENT ROW), until the binder converts them.
    public var rangeOffsets: [Literal?] = []
    /// A RANGE frame over a TIMESTAMP whose start (end) offset is calendar months (INTERVAL n MONTH or YEAR): that
    /// bound holds months, and a row's frame reaches the time that many months before or after its own, clamped to
    /// the month's last day as adding the interval would. The other bound may be in microseconds.
    public var rangeStartInMonths = false
    public var rangeEndInMonths = false
    /// A RANGE frame over a DOUBLE key: the start and end offsets (0 where the bound has none); the bounds' own
    /// counts are then 0.
    public var rangeDoubleOffsets: [Double] = []
    /// A GROUPS frame: the offsets count peer groups (runs of rows equal on ORDER BY), not rows.
    public var groups = false

    public init(start: FrameBound, end: FrameBound) {
        self.start = start
        self.end = end
    }
}

/// `fn(args) OVER (PARTITION BY … ORDER BY … [frame])`. Without a frame, the default: the whole partition without
/// ORDER BY; from the partition start through the current row's last peer with it.
public struct WindowCall: Sendable, Hashable {
    public var kind: WindowKind
    public var arguments: [BoundExpr]
    public var partitionBy: [BoundExpr]
    public var orderBy: [SortKey]
    public var type: LogicalType
    public var frame: WindowFrame? = nil
}
