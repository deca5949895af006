public import SeamColumnar

/// A statement with names resolved and types checked, ready for the optimizer and the engine.
public enum BoundStatement: Sendable {
    case query(LogicalPlan)
    case explain(LogicalPlan, analyze: Bool)
}

/// A column visible to expressions: where it comes from, its name and type.
struct ScopeColumn {
    var qualifier: String?
    var name: String
    var type: LogicalType
    /// The right-hand copy of a `USING` column: reachable only with its qualifier.
    var hiddenUnqualified = false
}

struct Scope {
    var columns: [ScopeColumn]

    var schema: Schema { Schema(columns.map { Field($0.name, $0.type) }) }

    /// Positions of the columns a reference `[qualifier.]name` (its last two parts) names, ignoring case.
    func matches(_ parts: [String]) -> [Int] {
        let name = parts.last!
        let qualifier = parts.count >= 2 ? parts[parts.count - 2] : nil
        return columns.indices.filter { i in
            let c = columns[i]
            guard c.name.equalsIgnoringCase(name) else { return false }
            if let qualifier { return c.qualifier?.equalsIgnoringCase(qualifier) ?? false }
            return !c.hiddenUnqualified
        }
    }
}

extension String {
    /// `lowercased() == other.lowercased()`, without building either string when both are ASCII (names almost
    /// always are: lower-casing every column's name for each reference was most of resolving it).
    func equalsIgnoringCase(_ other: String) -> Bool {
        var a = utf8.makeIterator(), b = other.utf8.makeIterator()
        while true {
            switch (a.next(), b.next()) {
            case (nil, nil): return true
            case (let x?, let y?) where x < 0x80 && y < 0x80:
                if x == y || (x | 0x20 == y | 0x20 && (x | 0x20) >= 0x61 && (x | 0x20) <= 0x7A) { continue }
                return false
            case (nil, _?), (_?, nil):
                // Lengths differ in bytes; with non-ASCII text case mapping can change lengths.
                return !(self.utf8.allSatisfy { $0 < 0x80 } && other.utf8.allSatisfy { $0 < 0x80 }) && lowercased() == other.lowercased()
            default:
                return lowercased() == other.lowercased()
            }
        }
    }
}

/// Collects aggregates and window calls met while binding the expressions of one SELECT.
final class Collector {
    var aggregates: [AggregateCall] = []
    var windows: [WindowCall] = []
    var allowAggregates: Bool
    var allowWindows: Bool
    var insideAggregate = false

    init(aggregates: Bool, windows: Bool) {
        allowAggregates = aggregates
        allowWindows = windows
    }
}

/// Resolves names against a ``Catalog`` and types every expression (DuckDB's rules for implicit casts).
public final class Binder {
    let catalog: any Catalog
    private var cteScopes: [[String: LogicalPlan]] = []
    /// Scopes of enclosing queries, to say a column two levels up cannot be reached instead of "not found".
    private var outerScopes: [Scope] = []
    /// One frame per SELECT being bound (see Decorrelation.swift).
    var correlationFrames: [CorrelationFrame] = []
    /// The enclosing FROM scope the next SELECT core may refer to: set for a subquery's body only.
    var captureScope: Scope? = nil
    /// The outer references of the subquery body bound last.
    var capturedReferences: [OuterReference] = []
    private var collector: Collector? = nil
    private var whereClause = "WHERE"
    /// Select-list aliases usable by GROUP BY, HAVING, ORDER BY and WHERE when no column has the name.
    private var aliases: [String: BoundExpr] = [:]
    /// The current SELECT's WINDOW clause, by lower-cased name.
    private var namedWindows: [String: (spec: WindowSpec, at: SourceLocation)] = [:]

    public init(catalog: any Catalog) {
        self.catalog = catalog
    }

    public func bind(_ statement: Statement) throws(SQLError) -> BoundStatement {
        switch statement {
        case .select(let s): return .query(try bindSelect(s).plan)
        case .explain(let s, let analyze): return .explain(try bindSelect(s).plan, analyze: analyze)
        case .showTables:
            let names = catalog.tableNames().map { [Value.varchar($0)] }
            return .query(.values(rows: names, schema: Schema([Field("name", .varchar)])))
        case .describe(let table, let at):
            let (name, schema) = try lookupTable(table, at: at)
            _ = name
            return .query(describe(schema))
        case .describeQuery(let s):
            return .query(describe(try bindSelect(s).plan.schema))
        }
    }

    private func describe(_ schema: Schema) -> LogicalPlan {
        let rows = schema.fields.map { f -> [Value] in [.varchar(f.name), .varchar(f.type.description), .varchar("YES"), .null, .null, .null] }
        return .values(
            rows: rows,
            schema: Schema([
                Field("column_name", .varchar), Field("column_type", .varchar), Field("null", .varchar), Field("key", .varchar),
                Field("default", .varchar), Field("extra", .varchar),
            ]))
    }

    private func lookupTable(_ name: String, at: SourceLocation) throws(SQLError) -> (String, Schema) {
        // A table named exactly is looked up directly; the list of tables (a directory listing) is read only to match
        // another case or to suggest names.
        if !name.isEmpty, name.utf8.allSatisfy({ $0 == UInt8(ascii: "_") || (0x30...0x39).contains($0) || (0x61...0x7A).contains($0) }),
            let schema = catalog.schema(of: name)
        {
            return (name, schema)
        }
        let names = catalog.tableNames()
        let exact = names.first { $0 == name } ?? names.first { $0.lowercased() == name.lowercased() }
        guard let exact, let schema = catalog.schema(of: exact) else {
            let ctes = cteScopes.flatMap { $0.keys }
            let near = nearNames(name, in: names + ctes)
            throw SQLError(
                .binder, "Table with name \(name) does not exist!", at: at,
                hint: near.isEmpty ? "Tables: " + names.joined(separator: ", ") : "Did you mean \(near.map { "\"\($0)\"" }.joined(separator: " or "))?")
        }
        return (exact, schema)
    }

    // MARK: SELECT

    /// Arms (bound, of one schema) joined by `ops` (`ops[i]` between arm i and i + 1): INTERSECT first, then UNION and
    /// EXCEPT left to right, as in DuckDB and the SQL standard.
    static func combine(_ arms: [LogicalPlan], _ ops: [SetOperator], _ schema: Schema) -> LogicalPlan {
        var terms: [LogicalPlan] = [arms[0]]
        var between: [SetOperator] = []
        for (op, arm) in zip(ops, arms.dropFirst()) {
            if op.isIntersect {
                terms[terms.count - 1] = setOperation(terms[terms.count - 1], op, arm, schema)
            } else {
                terms.append(arm)
                between.append(op)
            }
        }
        var plan = terms[0]
        for (op, term) in zip(between, terms.dropFirst()) { plan = setOperation(plan, op, term, schema) }
        return plan
    }

    /// `left op right`. UNION is the union node; INTERSECT and EXCEPT count each distinct row in both inputs
    /// (a UNION ALL of the two with a tag per side, grouped by every column, so NULLs match as they do in set
    /// operations) and keep the rows whose counts say so. Their ALL forms first number each row among its duplicates
    /// on its side (row_number over a partition by every column): the k-th copy of a row is then in the result of the
    /// distinct operation exactly when there are at least k copies on the left and, for INTERSECT ALL, at least k on
    /// the right or, for EXCEPT ALL, fewer than k there; the numbers are dropped after.
    static func setOperation(_ left: LogicalPlan, _ op: SetOperator, _ right: LogicalPlan, _ schema: Schema) -> LogicalPlan {
        switch op {
        case .union, .unionAll:
            let all = op == .unionAll
            if case .union(let arms, all, _) = left { return .union(arms + [right], all: all, schema: schema) }
            return .union([left, right], all: all, schema: schema)
        case .intersect, .intersectAll, .except, .exceptAll:
            break
        }
        let n = schema.count
        let columns = (0..<n).map { BoundExpr.column($0, schema[$0].type) }
        var rowSchema = schema
        var numbered = (left, right)
        if op.keepsDuplicates {
            rowSchema = Schema(schema.fields + [Field("#copy", .bigint)])
            let number = WindowCall(kind: .function(.rowNumber), arguments: [], partitionBy: columns, orderBy: [], type: .bigint)
            numbered = (.window(left, [number], schema: rowSchema), .window(right, [number], schema: rowSchema))
        }
        let width = rowSchema.count
        let keys = (0..<width).map { BoundExpr.column($0, rowSchema[$0].type) }
        let taggedSchema = Schema(rowSchema.fields + [Field("#side", .integer)])
        func tagged(_ p: LogicalPlan, _ side: Int32) -> LogicalPlan {
            .project(p, keys + [.constant(.integer(side), .integer)], taggedSchema)
        }
        let both = LogicalPlan.union([tagged(numbered.0, 0), tagged(numbered.1, 1)], all: true, schema: taggedSchema)
        func rowsOn(_ side: Int32) -> AggregateCall {
            AggregateCall(
                function: .countStar, argument: nil, distinct: false,
                filter: .compare(.equal, .column(width, .integer), .constant(.integer(side), .integer)), type: .bigint)
        }
        let counted = Schema(rowSchema.fields + [Field("#left", .bigint), Field("#right", .bigint)])
        let grouped = LogicalPlan.aggregate(both, groups: keys, aggregates: [rowsOn(0), rowsOn(1)], schema: counted)
        let zero = BoundExpr.constant(.bigint(0), .bigint)
        let onLeft = BoundExpr.compare(.greater, .column(width, .bigint), zero)
        let onRight = BoundExpr.compare(op.isIntersect ? .greater : .equal, .column(width + 1, .bigint), zero)
        return .project(.filter(grouped, .and([onLeft, onRight])), columns, schema)
    }

    func bindSelect(_ s: SelectStatement) throws(SQLError) -> (plan: LogicalPlan, scope: Scope) {
        // Only a subquery body's own core may refer to the enclosing query: not its CTEs, not the arms of a UNION.
        let capture = captureScope
        captureScope = nil
        cteScopes.append([:])
        defer { cteScopes.removeLast() }
        for cte in s.ctes {
            let (plan, _) = try bindSelect(cte.query)
            cteScopes[cteScopes.count - 1][cte.name.lowercased()] = plan
        }
        if s.setOperations.isEmpty {
            captureScope = capture
            return try bindCore(s.core, orderBy: s.orderBy, orderByAll: s.orderByAll, limit: s.limit, offset: s.offset)
        }
        var (plan, scope) = try bindCore(s.core, orderBy: [], limit: nil, offset: nil)
        var arms = [plan]
        for (_, core) in s.setOperations {
            let (p, sc) = try bindCore(core, orderBy: [], limit: nil, offset: nil)
            guard sc.columns.count == scope.columns.count else {
                throw SQLError(
                    .binder, "Set operations can only apply to expressions with the same number of result columns (\(scope.columns.count) and \(sc.columns.count))",
                    at: core.items.first?.expr.location ?? .unknown)
            }
            arms.append(p)
        }
        // Unify column types across arms. A bare NULL (the literal, bound as an INTEGER NULL; not a NULL cast to a
        // type) takes the type of the other arms' column, as in DuckDB (`SELECT DATE '2024-01-01' UNION ALL SELECT
        // NULL` is a DATE column); a column NULL in every arm keeps the literal's type.
        func isBareNull(_ e: BoundExpr) -> Bool {
            if case .constant(.null, .integer) = e { return true }
            return false
        }
        func bareNulls(_ arm: LogicalPlan) -> [Bool] {
            guard case .project(_, let es, _) = arm else { return Array(repeating: false, count: arm.schema.count) }
            return es.map(isBareNull)
        }
        var unified: [LogicalType?] = Array(repeating: nil, count: scope.columns.count)
        for arm in arms {
            let nulls = bareNulls(arm)
            for (i, f) in arm.schema.fields.enumerated() where !nulls[i] {
                guard let u = unified[i] else {
                    unified[i] = f.type
                    continue
                }
                // As in DuckDB, text absorbs any other type (the other arms' values become their text).
                guard let t = commonNumericOrSame(u, f.type) ?? (u == .varchar || f.type == .varchar ? .varchar : nil) else {
                    throw SQLError(.type, "UNION arms disagree on the type of column \(i + 1): \(u) and \(f.type)", at: s.core.items.first?.expr.location ?? .unknown)
                }
                unified[i] = t
            }
        }
        let types = unified.enumerated().map { i, t in t ?? scope.columns[i].type }
        arms = arms.map { arm in
            guard case .project(let child, var es, _) = arm else { return arm }
            for i in es.indices where isBareNull(es[i]) { es[i] = .constant(.null, types[i]) }
            return .project(child, es, Schema(zip(arm.schema.fields, es).map { Field($0.name, $1.type) }))
        }
        arms = arms.map { arm in
            let casts = arm.schema.fields.enumerated().map { i, f -> BoundExpr in
                f.type == types[i] ? .column(i, f.type) : .cast(.column(i, f.type), types[i])
            }
            let schema = Schema(zip(scope.columns, types).map { Field($0.name, $1) })
            return .project(arm, casts, schema)
        }
        let schema = Schema(zip(scope.columns, types).map { Field($0.name, $1) })
        plan = Self.combine(arms, s.setOperations.map(\.0), schema)
        scope = Scope(columns: schema.fields.map { ScopeColumn(qualifier: nil, name: $0.name, type: $0.type) })
        let orderBy = s.orderByAll.map { Self.allColumns($0, schema.count) } ?? s.orderBy
        if !orderBy.isEmpty {
            var keys: [SortKey] = []
            for item in orderBy {
                let e: BoundExpr
                if case .literal(.integer(let n), let at) = item.expr {
                    guard let k = Int(n), k >= 1, k <= schema.count else {
                        throw SQLError(.binder, "ORDER term out of range - should be between 1 and \(schema.count)", at: at)
                    }
                    e = .column(k - 1, schema[k - 1].type)
                } else {
                    e = try bindExpr(item.expr, scope)
                }
                keys.append(SortKey(expr: e, descending: item.descending, nullsFirst: item.nullsFirst ?? false))
            }
            plan = .sort(plan, keys, limit: nil)
        }
        plan = try applyLimit(plan, s.limit, s.offset)
        return (plan, scope)
    }

    private func constantInt(_ e: Expr, _ what: String) throws(SQLError) -> Int {
        let b = try bindExpr(e, Scope(columns: []))
        guard case .constant(let v, _) = b else { throw SQLError(.binder, "\(what) must be a constant", at: e.location) }
        switch v {
        case .integer(let x) where x >= 0: return Int(x)
        case .bigint(let x) where x >= 0: return Int(x)
        default: throw SQLError(.binder, "\(what) must be a non-negative integer, not \(v)", at: e.location)
        }
    }

    private func applyLimit(_ plan: LogicalPlan, _ limit: Expr?, _ offset: Expr?) throws(SQLError) -> LogicalPlan {
        guard limit != nil || offset != nil else { return plan }
        let l = try limit.map { e throws(SQLError) in try constantInt(e, "LIMIT") }
        let o = try offset.map { e throws(SQLError) in try constantInt(e, "OFFSET") } ?? 0
        if case .sort(let c, let keys, nil) = plan, let l { return .limit(.sort(c, keys, limit: l + o), limit: l, offset: o) }
        return .limit(plan, limit: l, offset: o)
    }

    /// `ORDER BY ALL`'s items: the positions 1...count in its direction.
    private static func allColumns(_ all: OrderItem, _ count: Int) -> [OrderItem] {
        (1...max(count, 1)).map { OrderItem(expr: .literal(.integer(String($0)), at: all.expr.location), descending: all.descending, nullsFirst: all.nullsFirst) }
    }

    private func bindCore(
        _ core: SelectCore, orderBy explicitOrder: [OrderItem], orderByAll: OrderItem? = nil, limit: Expr?, offset: Expr?
    ) throws(SQLError) -> (plan: LogicalPlan, scope: Scope) {
        var plan: LogicalPlan
        var scope: Scope
        let capture = captureScope
        captureScope = nil
        // Subqueries in FROM (ON conditions) cannot correlate: a frame that accepts no joins while FROM is bound.
        correlationFrames.append(CorrelationFrame(outer: nil, fromWidth: 0))
        correlationFrames[correlationFrames.count - 1].accepting = false
        if let from = core.from {
            (plan, scope) = try bindTableRef(from)
        } else {
            plan = .values(rows: [[]], schema: Schema([]))
            scope = Scope(columns: [])
        }
        let frame = CorrelationFrame(outer: capture, fromWidth: scope.columns.count)
        correlationFrames[correlationFrames.count - 1] = frame
        defer {
            correlationFrames.removeLast()
            if frame.outer != nil { capturedReferences = frame.outerReferences }
        }
        let savedAliases = aliases
        let savedWindows = namedWindows
        defer { namedWindows = savedWindows }
        namedWindows = [:]
        for w in core.windows {
            guard namedWindows[w.name.lowercased()] == nil else { throw SQLError(.binder, "window \"\(w.name)\" is already defined", at: w.at) }
            namedWindows[w.name.lowercased()] = (w.spec, w.at)
        }
        let savedCollector = collector
        defer {
            aliases = savedAliases
            collector = savedCollector
        }
        aliases = [:]
        collector = nil

        // Select list (stars expanded), with aggregates and windows collected.
        let c = Collector(aggregates: true, windows: true)
        var items: [(expr: BoundExpr, name: String, at: SourceLocation, ast: Expr?)] = []
        for item in core.items {
            if case .star(let table, let at) = item.expr {
                var any = false
                var excluded = Set<String>(), replaced = Set<String>()
                for (i, col) in scope.columns.enumerated() where !col.hiddenUnqualified || table != nil {
                    if let table, col.qualifier?.lowercased() != table.lowercased() { continue }
                    any = true
                    let name = col.name.lowercased()
                    if item.exclude.contains(where: { $0.name.lowercased() == name }) {
                        excluded.insert(name)
                        continue
                    }
                    if let r = item.replace.first(where: { $0.name.lowercased() == name }) {
                        replaced.insert(name)
                        collector = c
                        let e = try bindExpr(r.expr, scope)
                        collector = nil
                        items.append((e, col.name, r.expr.location, r.expr))
                        continue
                    }
                    items.append((.column(i, col.type), col.name, at, nil))
                }
                if !any {
                    throw SQLError(.binder, table.map { "Referenced table \"\($0)\" not found in FROM clause" } ?? "SELECT * with no FROM clause", at: at)
                }
                for x in item.exclude where !excluded.contains(x.name.lowercased()) {
                    throw SQLError(.binder, "Column \"\(x.name)\" in EXCLUDE list not found in FROM clause", at: x.at)
                }
                for r in item.replace where !replaced.contains(r.name.lowercased()) {
                    throw SQLError(.binder, "Column \"\(r.name)\" in REPLACE list not found in FROM clause", at: r.expr.location)
                }
                continue
            }
            collector = c
            let e = try bindExpr(item.expr, scope)
            collector = nil
            items.append((e, item.alias ?? displayName(item.expr), item.expr.location, item.expr))
        }
        if items.isEmpty, let first = core.items.first {
            throw SQLError(.binder, "SELECT list is empty after resolving * expressions!", at: first.expr.location)
        }
        for it in items where it.ast != nil { aliases[it.name.lowercased()] = it.expr }

        // WHERE: no aggregates, no windows; select aliases allowed.
        var wherePredicate: BoundExpr? = nil
        if let w = core.whereClause {
            collector = Collector(aggregates: false, windows: false)
            whereClause = "WHERE"
            let pred = try coerce(try bindExpr(w, scope), to: .boolean, at: w.location)
            collector = nil
            if pred.contains(where: { if case .aggregateSlot = $0 { return true } else { return false } }) {
                throw SQLError(.binder, "WHERE clause cannot contain aggregates!", at: w.location)
            }
            wherePredicate = pred
        }
        // The joins of correlated subqueries in the select list and WHERE come before the WHERE filter.
        frame.accepting = false
        // WHERE conditions on the FROM's own columns also narrow the outer rows a per-row subquery is computed for.
        let fromConditions = wherePredicate.map(splitConjuncts)?.filter { c in
            c.columnsUsed.allSatisfy { $0 < frame.fromWidth } && !c.contains { if case .subquery = $0 { return true } else { return false } }
        } ?? []
        applyCorrelationJoins(frame, &plan, &scope, fromConditions: fromConditions)
        if let wherePredicate { plan = .filter(plan, wherePredicate) }

        // GROUP BY: positions, select aliases, or expressions over the input.
        var groups: [BoundExpr] = []
        if core.groupByAll {
            for it in items where !it.expr.contains(where: isSlot) { if !groups.contains(it.expr) { groups.append(it.expr) } }
        }
        for g in core.groupBy {
            let e: BoundExpr
            if case .literal(.integer(let n), let at) = g {
                guard let k = Int(n), k >= 1, k <= items.count else {
                    throw SQLError(.binder, "GROUP BY term out of range - should be between 1 and \(items.count)", at: at)
                }
                e = items[k - 1].expr
            } else {
                collector = Collector(aggregates: false, windows: false)
                whereClause = "GROUP BY"
                e = try bindExpr(g, scope)
                collector = nil
            }
            if e.contains(where: isSlot) { throw SQLError(.binder, "GROUP BY clause cannot contain aggregates or window functions!", at: g.location) }
            if !groups.contains(e) { groups.append(e) }
        }
        // ROLLUP / CUBE / GROUPING SETS: every combination of one set from each construct, the plain keys in all;
        // per combination the positions in `groups` it keeps (the others are NULL in its rows).
        var groupingSets: [Set<Int>]? = nil
        if !core.groupingSets.isEmpty {
            // (GROUP BY ALL and grouping sets exclude each other in the grammar.)
            collector = Collector(aggregates: false, windows: false)
            whereClause = "GROUP BY"
            var combinations: [[BoundExpr]] = [groups]
            for construct in core.groupingSets {
                let sets = try construct.map { set throws(SQLError) in
                    try set.map { e throws(SQLError) -> BoundExpr in
                        let bound = try bindExpr(e, scope)
                        if bound.contains(where: isSlot) {
                            throw SQLError(.binder, "GROUP BY clause cannot contain aggregates or window functions!", at: e.location)
                        }
                        return bound
                    }
                }
                combinations = combinations.flatMap { c in sets.map { c + $0 } }
                guard combinations.count <= 4096 else {
                    throw SQLError(.unsupported, "more than 4,096 grouping sets", at: construct.first?.first?.location ?? core.items[0].expr.location)
                }
            }
            collector = nil
            for combination in combinations {
                for e in combination where !groups.contains(e) { groups.append(e) }
            }
            groupingSets = combinations.map { c in Set(c.map { groups.firstIndex(of: $0)! }) }
        }

        // HAVING, QUALIFY, ORDER BY share the select list's collector.
        var having: BoundExpr? = nil
        if let h = core.having {
            collector = c
            having = try coerce(try bindExpr(h, scope), to: .boolean, at: h.location)
            collector = nil
        }
        var qualify: BoundExpr? = nil
        if let q = core.qualify {
            collector = c
            qualify = try coerce(try bindExpr(q, scope), to: .boolean, at: q.location)
            collector = nil
        }
        // ORDER BY: a position, a select alias or expression equal to a select item, or a hidden expression.
        var orderTargets: [(index: Int?, expr: BoundExpr?, item: OrderItem)] = []
        let orderBy = orderByAll.map { Self.allColumns($0, items.count) } ?? explicitOrder
        for o in orderBy {
            if case .literal(.integer(let n), let at) = o.expr {
                guard let k = Int(n), k >= 1, k <= items.count else {
                    throw SQLError(.binder, "ORDER term out of range - should be between 1 and \(items.count)", at: at)
                }
                orderTargets.append((k - 1, nil, o))
                continue
            }
            if case .column(let parts, _) = o.expr, parts.count == 1,
                let k = items.firstIndex(where: { $0.name.lowercased() == parts[0].lowercased() && $0.ast != nil })
            {
                orderTargets.append((k, nil, o))
                continue
            }
            collector = c
            let e = try bindExpr(o.expr, scope)
            collector = nil
            if let k = items.firstIndex(where: { $0.expr == e }) {
                orderTargets.append((k, nil, o))
            } else {
                if core.distinct {
                    throw SQLError(.binder, "for SELECT DISTINCT, ORDER BY expressions must appear in select list", at: o.expr.location)
                }
                orderTargets.append((nil, e, o))
            }
        }

        // Aggregation.
        var exprs = items.map(\.expr)
        var hidden = orderTargets.compactMap(\.expr)
        var windows = c.windows
        if !groups.isEmpty || !c.aggregates.isEmpty || having != nil {
            let inputSchema = scope.schema
            var fields = groups.map { g -> Field in
                if case .column(let i, let t) = g, i < scope.columns.count { return Field(scope.columns[i].name, t) }
                return Field(g.sql(inputSchema), g.type)
            }
            fields += c.aggregates.map { Field($0.sql(inputSchema), $0.type) }
            // grouping() calls are no aggregates: per grouping set they are constants (a bit per argument, 1 where
            // the set left that key out), and the aggregate node computes the others.
            let computed = c.aggregates.indices.filter { c.aggregates[$0].function != .grouping }
            var groupingBits: [Int: [Int]] = [:]
            for k in c.aggregates.indices where c.aggregates[k].function == .grouping {
                let call = c.aggregates[k]
                groupingBits[k] = try call.groupingKeys.indices.map { j throws(SQLError) -> Int in
                    guard let position = groups.firstIndex(of: call.groupingKeys[j]) else {
                        throw SQLError(.binder, "GROUPING child \"\(call.groupingKeys[j].sql(inputSchema))\" must be a grouping column",
                            at: call.groupingLocations[j])
                    }
                    return position
                }
            }
            let input = plan, schema = Schema(fields)
            let computedFields = computed.map { fields[groups.count + $0] }
            /// The aggregate for one grouping set (every key kept when the query has no grouping sets): the keys it
            /// leaves out grouped as NULL constants, so every set's rows have the same columns; the grand total (no
            /// key kept) has no key at all, so it has its row even over no input.
            func aggregate(keeping kept: Set<Int>) -> LogicalPlan {
                let keys = groups.indices.map { kept.contains($0) ? groups[$0] : .constant(.null, groups[$0].type) }
                let grand = kept.isEmpty && !groups.isEmpty
                let node = LogicalPlan.aggregate(
                    input, groups: grand ? [] : keys, aggregates: computed.map { c.aggregates[$0] },
                    schema: Schema((grand ? [] : Array(fields.prefix(groups.count))) + computedFields))
                guard grand || computed.count < c.aggregates.count else { return node }
                let keyColumns = groups.indices.map { grand ? BoundExpr.constant(.null, groups[$0].type) : .column($0, groups[$0].type) }
                let base = grand ? 0 : groups.count
                let values = c.aggregates.indices.map { k -> BoundExpr in
                    guard let bits = groupingBits[k] else { return .column(base + computed.firstIndex(of: k)!, c.aggregates[k].type) }
                    let mask = bits.reduce(Int64(0)) { $0 << 1 | (kept.contains($1) ? 0 : 1) }
                    return .constant(.bigint(mask), .bigint)
                }
                return .project(node, keyColumns + values, schema)
            }
            if let groupingSets {
                let arms = groupingSets.map(aggregate(keeping:))
                plan = arms.count == 1 ? arms[0] : .union(arms, all: true, schema: schema)
            } else {
                plan = aggregate(keeping: Set(groups.indices))
            }
            func rewrite(_ e: BoundExpr, _ at: SourceLocation) throws(SQLError) -> BoundExpr {
                try e.rewritten { x throws(SQLError) -> BoundExpr? in
                    if let gi = groups.firstIndex(of: x) { return .column(gi, x.type) }
                    switch x {
                    case .column(let i, _) where i >= Self.markerBase:
                        return x  // the enclosing query's column, placed when the subquery is unnested
                    case .column(let i, _) where i >= frame.fromWidth:
                        throw SQLError(
                            .unsupported, "a correlated subquery outside an aggregate in a grouped query is not supported yet; aggregate its value (e.g. max((SELECT …))) or group in a subquery first",
                            at: at)
                    case .aggregateSlot(let i, let t): return .column(groups.count + i, t)
                    case .column(let i, _):
                        throw SQLError(
                            .binder, "column \"\(scope.columns[i].name)\" must appear in the GROUP BY clause or must be part of an aggregate function.",
                            at: at,
                            hint: "Either add it to the GROUP BY list, or use \"any_value(\(scope.columns[i].name))\" if the exact value of \"\(scope.columns[i].name)\" is not important.")
                    default: return nil
                    }
                }
            }
            for i in exprs.indices { exprs[i] = try rewrite(exprs[i], items[i].at) }
            for i in hidden.indices { hidden[i] = try rewrite(hidden[i], orderBy.first?.expr.location ?? .unknown) }
            if let h = having { having = try rewrite(h, core.having!.location) }
            if let q = qualify { qualify = try rewrite(q, core.qualify!.location) }
            for k in windows.indices {
                let at = items.first?.at ?? .unknown
                windows[k].arguments = try windows[k].arguments.map { e throws(SQLError) in try rewrite(e, at) }
                windows[k].partitionBy = try windows[k].partitionBy.map { e throws(SQLError) in try rewrite(e, at) }
                for j in windows[k].orderBy.indices { windows[k].orderBy[j].expr = try rewrite(windows[k].orderBy[j].expr, at) }
            }
            scope = Scope(columns: fields.map { ScopeColumn(qualifier: nil, name: $0.name, type: $0.type) })
            if let h = having { plan = .filter(plan, h) }
        }

        // Window functions: computed over the (aggregated) rows, appended as columns.
        if !windows.isEmpty {
            let base = scope.columns.count
            let fields = scope.schema.fields + windows.map { Field($0.sql(scope.schema), $0.type) }
            plan = .window(plan, windows, schema: Schema(fields))
            func rewriteWindows(_ e: BoundExpr) throws(SQLError) -> BoundExpr {
                try e.transformed { x throws(SQLError) in
                    if case .windowSlot(let k, let t) = x { return .column(base + k, t) }
                    return x
                }
            }
            for i in exprs.indices { exprs[i] = try rewriteWindows(exprs[i]) }
            for i in hidden.indices { hidden[i] = try rewriteWindows(hidden[i]) }
            if let q = qualify { qualify = try rewriteWindows(q) }
            scope = Scope(columns: fields.map { ScopeColumn(qualifier: nil, name: $0.name, type: $0.type) })
        } else if qualify != nil {
            throw SQLError(.binder, "QUALIFY clause needs a window function", at: core.qualify!.location)
        }
        if let q = qualify { plan = .filter(plan, q) }

        // Projection of the select list and hidden sort keys.
        let visible = items.count
        let outSchema = Schema(zip(items, exprs).map { Field($0.name, $1.type) } + hidden.enumerated().map { Field("#order\($0.offset)", $0.element.type) })
        plan = .project(plan, exprs + hidden, outSchema)
        if core.distinct { plan = .distinct(plan) }
        if !orderTargets.isEmpty {
            var hiddenIndex = visible
            var keys: [SortKey] = []
            for t in orderTargets {
                let col: Int
                if let i = t.index {
                    col = i
                } else {
                    col = hiddenIndex
                    hiddenIndex += 1
                }
                keys.append(SortKey(expr: .column(col, outSchema[col].type), descending: t.item.descending, nullsFirst: t.item.nullsFirst ?? false))
            }
            plan = .sort(plan, keys, limit: nil)
        }
        plan = try applyLimit(plan, limit, offset)
        if !hidden.isEmpty {
            let fields = Array(outSchema.fields.prefix(visible))
            plan = .project(plan, fields.enumerated().map { .column($0.offset, $0.element.type) }, Schema(fields))
        }
        let outScope = Scope(columns: items.map { ScopeColumn(qualifier: nil, name: $0.name, type: $0.expr.type) })
        return (plan, Scope(columns: zip(outScope.columns, exprs).map { ScopeColumn(qualifier: nil, name: $0.name, type: $1.type) }))
    }

    private func isSlot(_ e: BoundExpr) -> Bool {
        switch e {
        case .aggregateSlot, .windowSlot: return true
        default: return false
        }
    }

    // MARK: FROM

    /// `(VALUES …)`: each row's expressions bound without columns; per column the type the rows share (a bare NULL
    /// takes the others'). Rows of constants become a literal table; others a UNION ALL of one-row projections.
    private func bindValues(_ rows: [[Expr]], alias: String?, columns: [String], at: SourceLocation) throws(SQLError) -> (LogicalPlan, Scope) {
        let width = rows[0].count
        let saved = (collector, whereClause)
        collector = Collector(aggregates: false, windows: false)
        whereClause = "VALUES"
        defer { (collector, whereClause) = saved }
        var bound: [[BoundExpr]] = []
        for row in rows {
            guard row.count == width else {
                throw SQLError(.binder, "VALUES lists must all be the same length", at: row.first?.location ?? at)
            }
            bound.append(try row.map { e throws(SQLError) in try bindExpr(e, Scope(columns: [])) })
        }
        guard columns.count <= width else {
            throw SQLError(.binder, "table has \(width) columns available but \(columns.count) columns specified", at: at)
        }
        var types: [LogicalType] = []
        for c in 0..<width {
            var unified: LogicalType? = nil
            // A string literal takes the type the other rows agree on, as in DuckDB (VALUES (1), ('2') is INTEGER):
            // it is converted below; only strings make a VARCHAR column.
            let typed = bound.contains { row in
                if case .constant(.null, .integer) = row[c] { return false }
                if case .constant(.varchar, .varchar) = row[c] { return false }
                return true
            }
            for (r, row) in bound.enumerated() {
                if case .constant(.null, .integer) = row[c] { continue }
                if typed, case .constant(.varchar, .varchar) = row[c] { continue }
                guard let u = unified else {
                    unified = row[c].type
                    continue
                }
                guard let t = commonNumericOrSame(u, row[c].type) else {
                    throw SQLError(.type, "VALUES rows disagree on the type of column \(c + 1): \(u) and \(row[c].type)", at: rows[r][c].location)
                }
                unified = t
            }
            types.append(unified ?? .integer)
        }
        let schema = Schema((0..<width).map { c in Field(c < columns.count ? columns[c] : "col\(c)", types[c]) })
        let scope = Scope(columns: schema.fields.map { ScopeColumn(qualifier: alias ?? "valueslist", name: $0.name, type: $0.type) })
        var literal: [[Value]] = []
        for (r, row) in bound.enumerated() {
            var values: [Value] = []
            for (c, e) in row.enumerated() {
                guard case .constant(let v, _) = e else { break }
                switch ValueCast.cast(v, to: types[c]) {
                case .success(let x): values.append(x)
                case .failure(let f): throw SQLError(.type, f.message, at: rows[r][c].location)
                }
            }
            guard values.count == width else { break }
            literal.append(values)
        }
        if literal.count == bound.count { return (.values(rows: literal, schema: schema), scope) }
        let one = LogicalPlan.values(rows: [[]], schema: Schema([]))
        let arms = bound.map { row in
            LogicalPlan.project(one, row.enumerated().map { c, e in e.type == types[c] ? e : .cast(e, types[c]) }, schema)
        }
        return (arms.count == 1 ? arms[0] : .union(arms, all: true, schema: schema), scope)
    }

    private func bindTableRef(_ ref: TableRef) throws(SQLError) -> (LogicalPlan, Scope) {
        switch ref {
        case .table(let name, let alias, let at):
            for scopeMap in cteScopes.reversed() {
                if let plan = scopeMap[name.lowercased()] {
                    let q = alias ?? name
                    return (plan, Scope(columns: plan.schema.fields.map { ScopeColumn(qualifier: q, name: $0.name, type: $0.type) }))
                }
            }
            let (exact, schema) = try lookupTable(name, at: at)
            let scan = TableScan(table: exact, columns: Array(0..<schema.count), schema: schema)
            let q = alias ?? exact
            return (.scan(scan), Scope(columns: schema.fields.map { ScopeColumn(qualifier: q, name: $0.name, type: $0.type) }))
        case .subquery(let s, let alias, _):
            let saved = (aliases, collector)
            let (plan, scope) = try bindSelect(s)
            (aliases, collector) = saved
            return (plan, Scope(columns: scope.columns.map { ScopeColumn(qualifier: alias, name: $0.name, type: $0.type) }))
        case .values(let rows, let alias, let columns, let at):
            return try bindValues(rows, alias: alias, columns: columns, at: at)
        case .renamed(let inner, let columns, let at):
            var (plan, scope) = try bindTableRef(inner)
            guard columns.count <= scope.columns.count else {
                throw SQLError(.binder, "table has \(scope.columns.count) columns available but \(columns.count) columns specified", at: at)
            }
            for (i, name) in columns.enumerated() { scope.columns[i].name = name }
            // The plan's own names follow, so `SELECT *` and EXPLAIN show the new ones.
            let fields = scope.columns.indices.map { i in Field(i < columns.count ? columns[i] : plan.schema[i].name, plan.schema[i].type) }
            plan = .project(plan, fields.indices.map { BoundExpr.column($0, fields[$0].type) }, Schema(fields))
            return (plan, scope)
        case .join(let l, let r, let kind, let on, let using, let at):
            let (lp, ls) = try bindTableRef(l)
            let (rp, rs) = try bindTableRef(r)
            var scope = Scope(columns: ls.columns + rs.columns)
            let nLeft = ls.columns.count
            var conjuncts: [BoundExpr] = []
            // RIGHT and FULL joins show coalesce(left, right) under a USING column, as DuckDB does (the left one may be
            // the NULL side); the left table's own column stays reachable by its qualifier.
            var usingOutputs: [(left: Int, value: BoundExpr)] = []
            for col in using {
                guard let li = ls.columns.lastIndex(where: { $0.name.lowercased() == col.lowercased() && !$0.hiddenUnqualified }),
                    let ri = rs.columns.firstIndex(where: { $0.name.lowercased() == col.lowercased() })
                else { throw SQLError(.binder, "column \"\(col)\" named in USING does not exist on both sides of the join", at: at) }
                let (a, b) = try coercePair(.column(li, ls.columns[li].type), .column(nLeft + ri, rs.columns[ri].type), at: at, what: "join on")
                conjuncts.append(.compare(.equal, a, b))
                scope.columns[nLeft + ri].hiddenUnqualified = true
                usingOutputs.append((li, .function(.coalesce, [a, b], a.type)))
            }
            func showUsing(_ plan: LogicalPlan) -> (LogicalPlan, Scope) {
                guard kind == .right || kind == .full, !usingOutputs.isEmpty else { return (plan, scope) }
                var exprs = scope.columns.indices.map { BoundExpr.column($0, scope.columns[$0].type) }
                var shown = scope
                for (li, value) in usingOutputs {
                    exprs[li] = value
                    shown.columns[li] = ScopeColumn(qualifier: nil, name: scope.columns[li].name, type: value.type)
                    exprs.append(.column(li, scope.columns[li].type))
                    var own = scope.columns[li]
                    own.hiddenUnqualified = true
                    shown.columns.append(own)
                }
                return (.project(plan, exprs, shown.schema), shown)
            }
            if let on {
                let saved = collector
                collector = Collector(aggregates: false, windows: false)
                whereClause = "JOIN ON"
                let pred = try coerce(try bindExpr(on, scope), to: .boolean, at: on.location)
                collector = saved
                conjuncts += splitConjuncts(pred)
            }
            var leftKeys: [BoundExpr] = []
            var rightKeys: [BoundExpr] = []
            var residual: [BoundExpr] = []
            for c in conjuncts {
                if case .compare(.equal, let a, let b) = c {
                    let ua = a.columnsUsed
                    let ub = b.columnsUsed
                    if !ua.isEmpty && !ub.isEmpty {
                        if ua.allSatisfy({ $0 < nLeft }) && ub.allSatisfy({ $0 >= nLeft }) {
                            leftKeys.append(a)
                            rightKeys.append(b.remapped(shiftMap(ub, -nLeft)))
                            continue
                        }
                        if ub.allSatisfy({ $0 < nLeft }) && ua.allSatisfy({ $0 >= nLeft }) {
                            leftKeys.append(b)
                            rightKeys.append(a.remapped(shiftMap(ua, -nLeft)))
                            continue
                        }
                    }
                }
                residual.append(c)
            }
            let res: BoundExpr? = residual.isEmpty ? nil : (residual.count == 1 ? residual[0] : .and(residual))
            if kind == .right {
                // `l RIGHT JOIN r` is `r LEFT JOIN l` with the columns put back in `l, r` order.
                let nRight = rs.columns.count
                var swap: [Int: Int] = [:]
                for i in 0..<nLeft { swap[i] = nRight + i }
                for j in 0..<nRight { swap[nLeft + j] = j }
                let swapped = Schema(Array(scope.schema.fields[nLeft...]) + Array(scope.schema.fields[..<nLeft]))
                let join: LogicalPlan = .join(
                    rp, lp, .left, leftKeys: rightKeys, rightKeys: leftKeys, residual: res?.remapped(swap), schema: swapped)
                let back = scope.schema.fields.indices.map { k in BoundExpr.column(swap[k]!, scope.schema[k].type) }
                return showUsing(.project(join, back, scope.schema))
            }
            let type: JoinType = kind == .left ? .left : (leftKeys.isEmpty && kind == .cross ? .cross : (kind == .cross ? .inner : JoinType(rawValue: kind.rawValue)!))
            let plan: LogicalPlan = .join(lp, rp, type, leftKeys: leftKeys, rightKeys: rightKeys, residual: res, schema: scope.schema)
            return showUsing(plan)
        }
    }

    private func shiftMap(_ cols: Set<Int>, _ by: Int) -> [Int: Int] {
        var m: [Int: Int] = [:]
        for c in cols { m[c] = c + by }
        return m
    }

    // MARK: expressions

    func bindExpr(_ e: Expr, _ scope: Scope) throws(SQLError) -> BoundExpr {
        switch e {
        case .column(let parts, let at):
            return try resolveColumn(parts, scope, at: at)
        case .star(_, let at):
            throw SQLError(.binder, "* is only allowed in the SELECT list and in count(*)", at: at)
        case .literal(let lit, let at):
            return try bindLiteral(lit, at: at)
        case .unary(let op, let x, let at):
            let b = try bindExpr(x, scope)
            switch op {
            case .plus: return b
            case .not: return .not(try coerce(b, to: .boolean, at: x.location))
            case .negate:
                guard b.type.isNumeric || b.type == .interval else { throw SQLError(.type, "cannot negate a value of type \(b.type)", at: at) }
                if case .constant(let v, let t) = b { return .constant(negateValue(v), t) }
                return .negate(b)
            }
        case .binary(let op, let l, let r, let at):
            return try bindBinary(op, l, r, scope, at: at)
        case .function(let call):
            return try bindFunction(call, scope)
        case .cast(let x, let typeName, let at):
            let t = try castTarget(typeName, at: at)
            let b = try bindExpr(x, scope)
            if b.type == t, !isNullConstant(b) { return b }
            if case .constant(let v, _) = b {
                switch ValueCast.cast(v, to: t) {
                case .success(let out): return .constant(out, t)
                case .failure(let f): throw SQLError(.type, "Conversion Error: \(f.message)", at: at)
                }
            }
            // Times convert only to each other and to text (DuckDB has no DATE <-> number casts either).
            let times: Set<LogicalType> = [.timestamp, .date]
            if times.contains(b.type) && t != .varchar && !times.contains(t) || times.contains(t) && b.type != .varchar && !times.contains(b.type) {
                throw SQLError(.type, "Unimplemented type for cast (\(b.type) -> \(t))", at: at)
            }
            return .cast(b, t)
        case .caseWhen(let operand, let whens, let otherwise, let at):
            let op = try operand.map { o throws(SQLError) in try bindExpr(o, scope) }
            var conds: [BoundExpr] = []
            var results: [BoundExpr] = []
            for (w, t) in whens {
                if let op {
                    let (a, b) = try coercePair(op, try bindExpr(w, scope), at: w.location, what: "compare")
                    conds.append(.compare(.equal, a, b))
                } else {
                    conds.append(try coerce(try bindExpr(w, scope), to: .boolean, at: w.location))
                }
                results.append(try bindExpr(t, scope))
            }
            var other = try otherwise.map { o throws(SQLError) in try bindExpr(o, scope) }
            var type = results[0].type
            for r in results.dropFirst() + (other.map { [$0] } ?? []) where !isNullConstant(r) {
                if isNullConstant(results[0]) && type == results[0].type { type = r.type }
                guard let t = commonType(type, r) else {
                    throw SQLError(.type, "CASE branches have incompatible types \(type) and \(r.type)", at: at)
                }
                type = t
            }
            if results.allSatisfy(isNullConstant) && other != nil && !isNullConstant(other!) { type = other!.type }
            results = try results.map { r throws(SQLError) in try coerce(r, to: type, at: at) }
            other = try other.map { o throws(SQLError) in try coerce(o, to: type, at: at) }
            return .caseWhen(zip(conds, results).map { WhenClause(condition: $0, result: $1) }, otherwise: other, type)
        case .between(let x, let lo, let hi, let negated, let at):
            let bx = try bindExpr(x, scope)
            let (a1, l1) = try coercePair(bx, try bindExpr(lo, scope), at: at, what: "compare")
            let (a2, h2) = try coercePair(bx, try bindExpr(hi, scope), at: at, what: "compare")
            let both: BoundExpr = .and([.compare(.greaterEqual, a1, l1), .compare(.lessEqual, a2, h2)])
            return negated ? .not(both) : both
        case .inList(let x, let list, let negated, let at):
            let bx = try bindExpr(x, scope)
            var items = try list.map { i throws(SQLError) in try bindExpr(i, scope) }
            var type = bx.type
            for i in items where !isNullConstant(i) {
                guard let t = commonType(type, i) ?? (isStringConstant(i) ? type : nil) else {
                    throw SQLError(.type, "Cannot compare values of type \(type) and \(i.type) in IN list - an explicit cast is required", at: i.location(default: at))
                }
                type = t
            }
            let operand = try coerce(bx, to: type, at: at)
            items = try items.map { i throws(SQLError) in try coerce(i, to: type, at: at) }
            if items.allSatisfy({ if case .constant = $0 { return true } else { return false } }) {
                var values: [Value] = []
                var hasNull = false
                for case .constant(let v, _) in items {
                    if v.isNull { hasNull = true } else if !values.contains(v) { values.append(v) }
                }
                return .inList(operand, values: values, listHasNull: hasNull, negated: negated)
            }
            let any: BoundExpr = .or(items.map { .compare(.equal, operand, $0) })
            return negated ? .not(any) : any
        case .inSubquery(let x, let q, let negated, let at):
            let bx = try bindExpr(x, scope)
            var (sub, refs) = try bindSubquery(q, scope, at: at)
            guard sub.schema.count == 1 else {
                throw SQLError(.binder, "Subquery returns \(sub.schema.count) columns - expected 1", at: at)
            }
            let st = sub.schema[0].type
            guard let t = commonNumericOrSame(bx.type, st) else {
                throw SQLError(.type, "Cannot compare values of type \(bx.type) and \(st) in IN subquery", at: at)
            }
            if !refs.isEmpty {
                let e = try unnestIn(try coerce(bx, to: t, at: at), sub, refs, t, at: at)
                return negated ? .not(e) : e
            }
            if st != t { sub = .project(sub, [.cast(.column(0, st), t)], Schema([Field(sub.schema[0].name, t)])) }
            let e: BoundExpr = .function(.inSubquery, [try coerce(bx, to: t, at: at), .subquery(SubqueryPlan(plan: sub, kind: .inList), t)], .boolean)
            return negated ? .not(e) : e
        case .subquery(let q, let at):
            let (sub, refs) = try bindSubquery(q, scope, at: at)
            guard sub.schema.count == 1 else {
                throw SQLError(.binder, "Subquery returns \(sub.schema.count) columns - expected 1", at: at)
            }
            if !refs.isEmpty { return try unnest(sub, refs, kind: .scalar, at: at) }
            return .subquery(SubqueryPlan(plan: sub, kind: .scalar), sub.schema[0].type)
        case .exists(let q, let negated, let at):
            let (sub, refs) = try bindSubquery(q, scope, at: at)
            let e: BoundExpr = refs.isEmpty ? .subquery(SubqueryPlan(plan: sub, kind: .exists), .boolean) : try unnest(sub, refs, kind: .exists, at: at)
            return negated ? .not(e) : e
        case .isNull(let x, let negated, _):
            return .isNull(try bindExpr(x, scope), negated: negated)
        case .isDistinctFrom(let a, let b, let negated, let at):
            let (x, y) = try coercePair(try bindExpr(a, scope), try bindExpr(b, scope), at: at, what: "compare")
            return .isDistinctFrom(x, y, negated: negated)
        case .like(let x, let p, let ci, let negated, let escapeExpr, let at):
            let bx = try coerce(try bindExpr(x, scope), to: .varchar, at: x.location)
            let bp = try bindExpr(p, scope)
            guard case .constant(let v, _) = bp else {
                throw SQLError(.unsupported, "LIKE needs a constant pattern", at: p.location)
            }
            if v.isNull { return .constant(.null, .boolean) }
            guard case .varchar(let pattern) = v else { throw SQLError(.type, "LIKE pattern must be a string", at: at) }
            var escape: Character? = nil
            if let escapeExpr {
                guard case .constant(let e, _) = try bindExpr(escapeExpr, scope) else {
                    throw SQLError(.unsupported, "LIKE needs a constant ESCAPE string", at: escapeExpr.location)
                }
                if e.isNull { return .constant(.null, .boolean) }
                guard case .varchar(let text) = e, text.count <= 1 else {
                    throw SQLError(.syntax, "Invalid escape string. Escape string must be empty or one character.", at: escapeExpr.location)
                }
                escape = text.first
                if let c = escape, pattern.last == c, Self.endsWithLoneEscape(pattern, c) {
                    throw SQLError(.syntax, "Like pattern must not end with escape character!", at: p.location)
                }
            }
            return .like(bx, pattern: pattern, caseInsensitive: ci, negated: negated, escape: escape)
        }
    }

    /// Whether `pattern` ends in an escape character that escapes nothing.
    static func endsWithLoneEscape(_ pattern: String, _ escape: Character) -> Bool {
        var escaped = false
        for c in pattern {
            if escaped { escaped = false } else if c == escape { escaped = true }
        }
        return escaped
    }

    /// A subquery's plan and its references to `scope`, the enclosing query's FROM (empty when uncorrelated).
    private func bindSubquery(_ q: SelectStatement, _ scope: Scope, at: SourceLocation) throws(SQLError) -> (plan: LogicalPlan, refs: [OuterReference]) {
        let saved = (aliases, collector, whereClause)
        outerScopes.append(scope)
        defer {
            outerScopes.removeLast()
            (aliases, collector, whereClause) = saved
        }
        collector = nil
        captureScope = scope
        capturedReferences = []
        let plan = try bindSelect(q).plan
        let refs = capturedReferences
        capturedReferences = []
        return (plan, refs)
    }

    private func negateValue(_ v: Value) -> Value {
        switch v {
        case .integer(let x): return x == .min ? .bigint(-Int64(x)) : .integer(-x)
        case .bigint(let x): return .bigint(0 &- x)
        case .double(let x): return .double(-x)
        case .decimal(let x): return .decimal(-x)
        case .interval(let x): return .interval(0 &- x)
        default: return v
        }
    }

    private func resolveColumn(_ parts: [String], _ scope: Scope, at: SourceLocation) throws(SQLError) -> BoundExpr {
        let name = parts.last!.lowercased()
        let qualifier = parts.count >= 2 ? parts[parts.count - 2].lowercased() : nil
        let matches = scope.matches(parts)
        if matches.count == 1 { return .column(matches[0], scope.columns[matches[0]].type) }
        if matches.count > 1 {
            let qs = matches.compactMap { scope.columns[$0].qualifier }.map { "\($0).\(parts.last!)" }
            throw SQLError(.binder, "Ambiguous reference to column name \"\(parts.last!)\" (use: \(qs.joined(separator: " or ")))", at: at)
        }
        if qualifier == nil, let aliased = aliases[name], !aliased.contains(where: isSlot) || collector?.allowAggregates == true {
            return aliased
        }
        if parts.count == 1, ["current_timestamp", "now"].contains(name) { return .function(.now, [], .timestamp) }
        if parts.count == 1, name == "current_date" { return .cast(.function(.now, [], .timestamp), .date) }
        if let marker = try outerReference(parts, at: at) { return marker }
        for outer in outerScopes where outer.columns.contains(where: { $0.name.lowercased() == name }) {
            throw SQLError(.unsupported, "\"\(parts.joined(separator: "."))\" refers to a query that encloses this subquery's own enclosing query, or is used in a derived table or a UNION; only the immediately enclosing query's columns can be referred to", at: at)
        }
        if let qualifier, !scope.columns.contains(where: { $0.qualifier?.lowercased() == qualifier }) {
            throw SQLError(.binder, "Referenced table \"\(parts[parts.count - 2])\" not found!", at: at,
                hint: { let n = nearNames(qualifier, in: Array(Set(scope.columns.compactMap(\.qualifier)))); return n.isEmpty ? nil : "Did you mean \"\(n[0])\"?" }())
        }
        let candidates = scope.columns.filter { qualifier == nil || $0.qualifier?.lowercased() == qualifier }.map(\.name)
        let near = nearNames(parts.last!, in: Array(Set(candidates)))
        throw SQLError(
            .binder, "Referenced column \"\(parts.joined(separator: "."))\" not found in FROM clause!", at: at,
            hint: near.isEmpty
                ? (candidates.isEmpty ? nil : "Candidate bindings: " + candidates.prefix(8).map { "\"\($0)\"" }.joined(separator: ", "))
                : "Did you mean \(near.map { "\"\($0)\"" }.joined(separator: " or "))?")
    }

    private func bindLiteral(_ lit: Literal, at: SourceLocation) throws(SQLError) -> BoundExpr {
        switch lit {
        case .null: return .constant(.null, .integer)
        case .boolean(let b): return .constant(.boolean(b), .boolean)
        case .integer(let s):
            if let v = Int32(s) { return .constant(.integer(v), .integer) }
            if let v = Int64(s) { return .constant(.bigint(v), .bigint) }
            if let d = Double(s) { return .constant(.double(d), .double) }
            throw SQLError(.syntax, "integer literal \(s) is out of range", at: at)
        case .number(let s):
            let lower = s.lowercased()
            if !lower.contains("e"), let dot = s.firstIndex(of: ".") {
                let fracDigits = s.distance(from: dot, to: s.endIndex) - 1
                if fracDigits <= 2, let v = ValueParsing.parse(s, ValueParsing.decimal2) { return .constant(.decimal(v), .decimal) }
            }
            guard let d = Double(s) else { throw SQLError(.syntax, "malformed number \(s)", at: at) }
            return .constant(.double(d), .double)
        case .string(let s): return .constant(.varchar(s), .varchar)
        case .timestamp(let s):
            guard let v = ValueParsing.parse(s, ValueParsing.timestamp) else {
                throw SQLError(.type, "Conversion Error: invalid timestamp field format: \"\(s)\", expected format is (YYYY-MM-DD HH:MM:SS[.US])", at: at)
            }
            return .constant(.timestamp(v), .timestamp)
        case .date(let s):
            guard let v = ValueParsing.parse(s, ValueParsing.date) else {
                throw SQLError(.type, "Conversion Error: invalid date field format: \"\(s)\", expected format is (YYYY-MM-DD)", at: at)
            }
            return .constant(.date(v), .date)
        case .interval(let count, let unit):
            let (months, micros) = try interval(count, unit, at: at)
            guard months == 0 else {
                throw SQLError(.unsupported, "INTERVAL \(count) \(unit) is a span of calendar months, not a fixed duration: add it to a TIMESTAMP (ts + INTERVAL 1 MONTH) or compare an INTERVAL with it", at: at)
            }
            return .constant(.interval(micros), .interval)
        }
    }

    /// A RANGE frame's offsets in the units of its one ORDER BY key: integers, cents of a DECIMAL, microseconds of a
    /// TIMESTAMP for an INTERVAL of days or smaller, calendar months for one of months or years (months have no
    /// fixed length, so the frame counts them on the calendar; both offsets of a frame take one unit).
    private func rangeFrame(_ f: WindowFrame, orderBy: [SortKey], at: SourceLocation) throws(SQLError) -> WindowFrame {
        var frame = f
        let hasOffset = f.rangeOffsets.contains { $0 != nil }
        guard hasOffset else { return frame }  // CURRENT ROW / UNBOUNDED only: peers, no key arithmetic
        guard orderBy.count == 1 else {
            throw SQLError(.binder, "a RANGE frame with an offset needs exactly one ORDER BY expression", at: at)
        }
        let keyType = orderBy[0].expr.type
        var inMonths = [false, false]
        var doubleOffsets = [0.0, 0.0]
        func offset(_ l: Literal?, _ k: Int) throws(SQLError) -> Int {
            guard let l else { return 0 }
            let value: Int64?
            switch (keyType, l) {
            case (.double, .integer(let s)), (.double, .number(let s)):
                guard let d = Double(s), d.isFinite, d >= 0 else { throw SQLError(.binder, "a RANGE offset must be a non-negative constant", at: at) }
                doubleOffsets[k] = d
                value = 0
            case (.integer, .integer(let s)), (.bigint, .integer(let s)): value = Int64(s)
            case (.decimal, .integer(let s)), (.decimal, .number(let s)): value = ValueParsing.parse(s, ValueParsing.decimal2)
            case (.timestamp, .interval(let count, let unit)):
                let (months, micros) = try interval(count, unit, at: at)
                let monthly = months != 0 && micros == 0
                guard months == 0 || micros == 0 else {
                    throw SQLError(.unsupported, "a RANGE offset mixing months and days is not supported; use one unit", at: at)
                }
                inMonths[k] = monthly
                // At most 10,000 years of months: the calendar arithmetic stays within the timestamp range.
                guard !monthly || months.magnitude <= 120_000 else {
                    throw SQLError(.binder, "a RANGE offset of \(months) months is out of range", at: at)
                }
                value = monthly ? months : micros
            case (.timestamp, _):
                throw SQLError(.binder, "a RANGE offset over a TIMESTAMP is an INTERVAL, e.g. INTERVAL 7 DAY PRECEDING", at: at)
            case (.integer, _), (.bigint, _), (.decimal, _), (.double, _):
                throw SQLError(.binder, "a RANGE offset over a \(keyType) is a number, e.g. 7 PRECEDING", at: at)
            default:
                throw SQLError(.unsupported, "RANGE frames with an offset need a numeric or TIMESTAMP ORDER BY key, not \(keyType)", at: at)
            }
            guard let value, value >= 0 else { throw SQLError(.binder, "a RANGE offset must be a non-negative constant", at: at) }
            return Int(value)
        }
        for (k, bound) in [f.start, f.end].enumerated() {
            let n = try offset(f.rangeOffsets.count > k ? f.rangeOffsets[k] : nil, k)
            let b: FrameBound
            switch bound {
            case .preceding: b = .preceding(n)
            case .following: b = .following(n)
            default: b = bound
            }
            if k == 0 { frame.start = b } else { frame.end = b }
        }
        frame.rangeOffsets = []
        frame.rangeStartInMonths = inMonths[0]
        frame.rangeEndInMonths = inMonths[1]
        if keyType == .double { frame.rangeDoubleOffsets = doubleOffsets }
        return frame
    }

    /// `(months, micros)` of an interval literal.
    private func interval(_ count: String, _ unit: String, at: SourceLocation) throws(SQLError) -> (Int64, Int64) {
        guard let n = Double(count) else { throw SQLError(.syntax, "malformed interval count \(count)", at: at) }
        var u = unit.lowercased()
        if u.hasSuffix("s") && u.count > 1 { u.removeLast() }
        let micros: Double
        switch u {
        case "microsecond", "us": micros = 1
        case "millisecond", "ms": micros = 1e3
        case "second", "sec": micros = 1e6
        case "minute", "min": micros = 6e7
        case "hour", "h": micros = 3.6e9
        case "day", "d": micros = 8.64e10
        case "week", "w": micros = 6.048e11
        case "month", "mon":
            guard n == n.rounded() else { throw SQLError(.unsupported, "fractional months are not supported", at: at) }
            guard let whole = Int64(exactly: n) else { throw SQLError(.binder, "INTERVAL \(count) \(unit) is out of range", at: at) }
            return (whole, 0)
        case "quarter", "year", "y":
            // Whole quarters and years, as DuckDB takes them (INTERVAL 1.5 YEAR is one year).
            guard let whole = Int64(exactly: n.rounded(.towardZero)) else { throw SQLError(.binder, "INTERVAL \(count) \(unit) is out of range", at: at) }
            let (months, overflow) = whole.multipliedReportingOverflow(by: u == "quarter" ? 3 : 12)
            guard !overflow else { throw SQLError(.binder, "INTERVAL \(count) \(unit) is out of range", at: at) }
            return (months, 0)
        default: throw SQLError(.syntax, "unknown interval unit \"\(unit)\" (use MICROSECOND … DAY, WEEK, MONTH, QUARTER or YEAR)", at: at)
        }
        guard let whole = Int64(exactly: (n * micros).rounded()) else { throw SQLError(.binder, "INTERVAL \(count) \(unit) is out of range", at: at) }
        return (0, whole)
    }

    private func intervalLiteral(_ e: Expr) -> (String, String, SourceLocation)? {
        if case .literal(.interval(let c, let u), let at) = e { return (c, u, at) }
        return nil
    }

    /// Microseconds of an interval literal, months counted as 30 days (DuckDB's length of a month when it compares).
    private func intervalMicros(_ count: String, _ unit: String, at: SourceLocation) throws(SQLError) -> Int64 {
        let (months, micros) = try interval(count, unit, at: at)
        let (days, o1) = months.multipliedReportingOverflow(by: 30 * Interval.microsPerDay)
        let (sum, o2) = days.addingReportingOverflow(micros)
        guard !o1, !o2 else { throw SQLError(.binder, "INTERVAL \(count) \(unit) is out of range", at: at) }
        return sum
    }

    /// An operand of `op`. In a comparison an interval literal may be of months, counted as 30 days each: DuckDB
    /// compares intervals so (`INTERVAL 1 MONTH = INTERVAL 30 DAY`); elsewhere months are only added to times.
    private func comparand(_ e: Expr, _ scope: Scope, _ op: BinaryOperator) throws(SQLError) -> BoundExpr {
        if op.isComparison, let (c, u, iat) = intervalLiteral(e) {
            return .constant(.interval(try intervalMicros(c, u, at: iat)), .interval)
        }
        return try bindExpr(e, scope)
    }

    private func bindBinary(_ op: BinaryOperator, _ l: Expr, _ r: Expr, _ scope: Scope, at: SourceLocation) throws(SQLError) -> BoundExpr {
        var boundLeft: BoundExpr? = nil, boundRight: BoundExpr? = nil
        switch op {
        case .and, .or:
            var parts: [BoundExpr] = []
            for side in [l, r] {
                let b = try coerce(try bindExpr(side, scope), to: .boolean, at: side.location)
                switch (op, b) {
                case (.and, .and(let xs)), (.or, .or(let xs)): parts += xs
                default: parts.append(b)
                }
            }
            return op == .and ? .and(parts) : .or(parts)
        case .concat:
            let a = try coerce(try bindExpr(l, scope), to: .varchar, at: l.location, explicit: true)
            let b = try coerce(try bindExpr(r, scope), to: .varchar, at: r.location, explicit: true)
            return .function(.concat, [a, b, .constant(.boolean(true), .boolean)], .varchar)
        case .add, .subtract:
            // A time ± an interval literal: calendar months first, then microseconds (an INTERVAL value ± a literal
            // is INTERVAL arithmetic, below).
            if let (c, u, iat) = intervalLiteral(r) {
                let left = try bindExpr(l, scope)
                if left.type != .interval {
                    let ts = try coerce(left, to: .timestamp, at: l.location)
                    let (m, us) = try interval(c, u, at: iat)
                    return op == .add ? .addInterval(ts, months: m, micros: us) : .addInterval(ts, months: -m, micros: -us)
                }
                boundLeft = left
            }
            if op == .add, let (c, u, iat) = intervalLiteral(l), boundLeft == nil {
                let right = try bindExpr(r, scope)
                if right.type != .interval {
                    let ts = try coerce(right, to: .timestamp, at: r.location)
                    let (m, us) = try interval(c, u, at: iat)
                    return .addInterval(ts, months: m, micros: us)
                }
                boundRight = right
            }
        default: break
        }
        let a: BoundExpr, b: BoundExpr
        if let boundLeft { a = boundLeft } else { a = try comparand(l, scope, op) }
        if let boundRight { b = boundRight } else { b = try comparand(r, scope, op) }
        if op.isComparison {
            let (x, y) = try coercePair(a, b, at: at, what: "compare")
            let cop = ComparisonOperator(rawValue: op == .equal ? "=" : op.rawValue)!
            return .compare(cop, x, y)
        }
        if !isNullConstant(a) && !isNullConstant(b) {
            let times: Set<LogicalType> = [.timestamp, .date]
            // TIMESTAMP - TIMESTAMP (or with a DATE, at its midnight) is the INTERVAL between them; DATE - DATE stays days.
            if op == .subtract && times.contains(a.type) && times.contains(b.type) && !(a.type == .date && b.type == .date) {
                return fold(.arithmetic(.subtract, try coerce(a, to: .timestamp, at: l.location), try coerce(b, to: .timestamp, at: r.location), .interval))
            }
            if a.type == .interval || b.type == .interval {
                switch (a.type, b.type, op) {
                case (.interval, .interval, .add), (.interval, .interval, .subtract):
                    return fold(.arithmetic(op == .add ? .add : .subtract, a, b, .interval))
                case (.timestamp, .interval, .add), (.timestamp, .interval, .subtract), (.date, .interval, .add), (.date, .interval, .subtract):
                    return fold(.arithmetic(op == .add ? .add : .subtract, try coerce(a, to: .timestamp, at: l.location), b, .timestamp))
                case (.interval, .timestamp, .add), (.interval, .date, .add):
                    return fold(.arithmetic(.add, try coerce(b, to: .timestamp, at: r.location), a, .timestamp))
                default:
                    throw SQLError(.type, "No function matches the given name and argument types '\(op.rawValue)(\(a.type), \(b.type))'", at: at,
                        hint: "an INTERVAL adds to or subtracts from a TIMESTAMP or another INTERVAL; for a number of seconds use epoch(x)")
                }
            }
        }
        if (a.type == .date || b.type == .date) && !isNullConstant(a) && !isNullConstant(b) {
            return try dateArithmetic(op, a, b, l, r, at: at)
        }
        if (a.type == .timestamp || b.type == .timestamp) && !isNullConstant(a) && !isNullConstant(b) {
            throw SQLError(.type, "No function matches the given name and argument types '\(op.rawValue)(\(a.type), \(b.type))'", at: at,
                hint: "add or subtract an INTERVAL, e.g. ts - INTERVAL 30 DAY")
        }
        let aop = ArithmeticOperator(rawValue: op.rawValue)!
        for (x, side) in [(a, l), (b, r)] where !x.type.isNumeric && !isNullConstant(x) && !isStringConstant(x) {
            throw SQLError(.type, "No function matches the given name and argument types '\(op.rawValue)(\(a.type), \(b.type))'", at: side.location,
                hint: "arithmetic needs numbers; cast the \(x.type) operand, e.g. CAST(x AS BIGINT)")
        }
        switch aop {
        case .divide:
            let x = try coerce(a, to: .double, at: l.location)
            let y = try coerce(b, to: .double, at: r.location)
            return fold(.arithmetic(.divide, x, y, .double))
        case .multiply where a.type == .decimal || b.type == .decimal:
            // DECIMAL × integer keeps two decimals; the integer operand stays unscaled.
            if a.type == .decimal && b.type.isIntegral { return fold(.arithmetic(.multiply, a, try coerce(b, to: .bigint, at: r.location), .decimal)) }
            if b.type == .decimal && a.type.isIntegral { return fold(.arithmetic(.multiply, b, try coerce(a, to: .bigint, at: l.location), .decimal)) }
            let x = try coerce(a, to: .double, at: l.location)
            let y = try coerce(b, to: .double, at: r.location)
            return fold(.arithmetic(.multiply, x, y, .double))
        default:
            let (x, y) = try coercePair(a, b, at: at, what: "compute")
            var t = x.type
            if t == .boolean || t == .varchar { t = .bigint }
            if aop == .integerDivide && (t == .double || t == .decimal) {
                // DuckDB: // on non-integers floors the quotient and keeps the type.
                return fold(.arithmetic(.integerDivide, try coerce(x, to: .double, at: at), try coerce(y, to: .double, at: at), .double))
            }
            return fold(.arithmetic(aop, try coerce(x, to: t, at: at), try coerce(y, to: t, at: at), t))
        }
    }

    /// DuckDB's DATE arithmetic: DATE ± INTEGER is a DATE, DATE - DATE the BIGINT number of days between them.
    /// (DATE ± INTERVAL is bound with the intervals, as a TIMESTAMP.)
    private func dateArithmetic(_ op: BinaryOperator, _ a: BoundExpr, _ b: BoundExpr, _ l: Expr, _ r: Expr, at: SourceLocation) throws(SQLError) -> BoundExpr {
        func days(_ e: BoundExpr, _ side: Expr) throws(SQLError) -> BoundExpr {
            guard e.type == .integer || isStringConstant(e) else {
                throw SQLError(.type, "No function matches the given name and argument types '\(op.rawValue)(\(a.type), \(b.type))'", at: side.location,
                    hint: "a DATE moves by an INTEGER number of days, or by an INTERVAL")
            }
            return try coerce(e, to: .integer, at: side.location)
        }
        switch op {
        case .add where a.type == .date && b.type == .date:
            break
        case .add:
            return a.type == .date ? .arithmetic(.add, a, try days(b, r), .date) : .arithmetic(.add, b, try days(a, l), .date)
        case .subtract where a.type == .date && b.type == .date:
            return .arithmetic(.subtract, .cast(a, .bigint), .cast(b, .bigint), .bigint)
        case .subtract where a.type == .date:
            if isStringConstant(b) {
                // DuckDB reads a text operand as the other side's type: DATE - '2026-01-01' is a DATE difference.
                return .arithmetic(.subtract, .cast(a, .bigint), .cast(try coerce(b, to: .date, at: r.location), .bigint), .bigint)
            }
            return .arithmetic(.subtract, a, try days(b, r), .date)
        default: break
        }
        throw SQLError(.type, "No function matches the given name and argument types '\(op.rawValue)(\(a.type), \(b.type))'", at: at,
            hint: "DATE supports + and - with an INTEGER number of days, DATE - DATE, and ± INTERVAL")
    }

    /// Folds arithmetic over two constants through the engine-independent value rules (only the safe cases).
    private func fold(_ e: BoundExpr) -> BoundExpr { e }

    // MARK: functions

    /// A window that names another (`OVER w`, `OVER (w ORDER BY ts)`) as that window with this one's additions, as
    /// in DuckDB: it may add a PARTITION BY or ORDER BY the named one lacks, and a frame.
    private func resolveWindow(_ spec: WindowSpec, depth: Int = 0) throws(SQLError) -> WindowSpec {
        guard let base = spec.base else { return spec }
        guard let named = namedWindows[base.name.lowercased()], depth < namedWindows.count else {
            throw SQLError(.binder, "window \"\(base.name)\" not found", at: base.at)
        }
        var resolved = try resolveWindow(named.spec, depth: depth + 1)
        if !spec.partitionBy.isEmpty {
            guard resolved.partitionBy.isEmpty else {
                throw SQLError(.binder, "cannot override PARTITION BY clause of window \"\(base.name)\"", at: base.at)
            }
            resolved.partitionBy = spec.partitionBy
        }
        if !spec.orderBy.isEmpty {
            guard resolved.orderBy.isEmpty else { throw SQLError(.binder, "cannot override ORDER BY clause of window \"\(base.name)\"", at: base.at) }
            resolved.orderBy = spec.orderBy
        }
        if let frame = spec.frame {
            guard resolved.frame == nil else { throw SQLError(.binder, "cannot copy window \"\(base.name)\" because it has a frame clause", at: base.at) }
            resolved.frame = frame
        }
        return resolved
    }

    private func bindFunction(_ call: FunctionCall, _ scope: Scope) throws(SQLError) -> BoundExpr {
        let name = call.name
        let at = call.location
        if let over = call.over {
            guard let c = collector, c.allowWindows else {
                throw SQLError(.binder, "window functions are not allowed in \(whereClause)", at: at)
            }
            let kind: WindowKind
            if let w = WindowFunction(rawValue: name) {
                kind = .function(w)
            } else if name == "count" && (call.star || call.arguments.isEmpty) {
                kind = .aggregate(.countStar)
            } else if let a = AggregateFunction.named(name), a != .grouping {
                kind = .aggregate(a)
            } else {
                throw SQLError(.binder, "\(name) is not a window or aggregate function", at: at)
            }
            if call.distinct { throw SQLError(.unsupported, "DISTINCT in window aggregates is not supported", at: at) }
            if !call.orderBy.isEmpty { throw SQLError(.unsupported, "ORDER BY inside a window aggregate's call is not supported", at: at) }
            let over = try resolveWindow(over)
            c.allowWindows = false
            defer { c.allowWindows = true }
            var args = try call.arguments.map { a throws(SQLError) in try bindExpr(a, scope) }
            let partition = try over.partitionBy.map { p throws(SQLError) in try bindExpr(p, scope) }
            let order = try over.orderBy.map { o throws(SQLError) in
                SortKey(expr: try bindExpr(o.expr, scope), descending: o.descending, nullsFirst: o.nullsFirst ?? false)
            }
            let type: LogicalType
            switch kind {
            case .function(let w):
                switch w {
                case .rowNumber, .rank, .denseRank:
                    guard args.isEmpty else { throw SQLError(.binder, "\(name)() takes no arguments", at: at) }
                    type = .bigint
                case .percentRank, .cumeDist:
                    guard args.isEmpty else { throw SQLError(.binder, "\(name)() takes no arguments", at: at) }
                    type = .double
                case .ntile:
                    guard args.count == 1 else { throw SQLError(.binder, "ntile(n) takes one argument", at: at) }
                    args[0] = try coerce(args[0], to: .bigint, at: at)
                    type = .bigint
                case .lag, .lead:
                    guard (1...3).contains(args.count) else { throw SQLError(.binder, "\(name)(x [, offset [, default]]) takes 1 to 3 arguments", at: at) }
                    if args.count >= 2 { args[1] = try coerce(args[1], to: .bigint, at: at) }
                    if args.count == 3 { args[2] = try coerce(args[2], to: args[0].type, at: at) }
                    type = args[0].type
                case .firstValue, .lastValue:
                    guard args.count == 1 else { throw SQLError(.binder, "\(name)(x) takes one argument", at: at) }
                    type = args[0].type
                }
            case .aggregate(let a) where a == .argMin || a == .argMax:
                guard args.count == 2 else { throw SQLError(.binder, "\(name)(x, key) takes two arguments", at: at) }
                // A row whose x is NULL does not count: its key is taken as NULL, which min/max-style picking skips.
                args[1] = .caseWhen([WhenClause(condition: .isNull(args[0], negated: false), result: .constant(.null, args[1].type))],
                                    otherwise: args[1], args[1].type)
                type = args[0].type
            case .aggregate(let a):
                type = try aggregateType(a, args.first, at: at)
                if a != .countStar && args.count != 1 { throw SQLError(.binder, "\(name) takes one argument", at: at) }
            }
            // A frame changes what aggregates and first/last_value see; ranking and lag/lead ignore it, as in DuckDB.
            var frame = over.frame
            if let f = frame, f.range { frame = try rangeFrame(f, orderBy: order, at: at) }
            c.windows.append(WindowCall(kind: kind, arguments: args, partitionBy: partition, orderBy: order, type: type, frame: frame))
            return .windowSlot(c.windows.count - 1, type)
        }
        if call.star && name != "count" {
            let near = nearNames(name, in: ScalarFunction.callableNames)
            throw SQLError(.binder, "\(name)(*) is not a function; only count(*) takes *", at: at,
                hint: near.isEmpty ? nil : "Did you mean \(near.map { "\"\($0)\"" }.joined(separator: " or "))?")
        }
        if name == "count" && (call.star || call.arguments.isEmpty) {
            return try aggregate(.countStar, nil, call, scope)
        }
        if let a = AggregateFunction.named(name), a == .grouping {
            guard let c = collector, c.allowAggregates, !c.insideAggregate else {
                throw SQLError(.binder, "\(name)() is only allowed in the select list, HAVING and ORDER BY of a grouped query", at: at)
            }
            guard !call.arguments.isEmpty else { throw SQLError(.binder, "\(name)() needs at least one group key", at: at) }
            c.insideAggregate = true
            defer { c.insideAggregate = false }
            let keys = try call.arguments.map { e throws(SQLError) in try bindExpr(e, scope) }
            var g = AggregateCall(function: .grouping, argument: nil, distinct: false, filter: nil, type: .bigint)
            g.groupingKeys = keys
            g.groupingLocations = call.arguments.map(\.location)
            if let i = c.aggregates.firstIndex(of: g) { return .aggregateSlot(i, .bigint) }
            c.aggregates.append(g)
            return .aggregateSlot(c.aggregates.count - 1, .bigint)
        }
        if name == "count_if" || name == "countif" {
            // As DuckDB has it: the sum of the condition as 0/1, so NULL when no row has a non-NULL condition.
            guard call.arguments.count == 1 else { throw SQLError(.binder, "\(name)(condition) takes one argument", at: at) }
            let condition = Expr.cast(call.arguments[0], typeName: "BOOLEAN", at: call.arguments[0].location)
            return try aggregate(.sum, condition, call, scope)
        }
        if (name == "first" || name == "last") && !call.orderBy.isEmpty {
            // first(x ORDER BY k): x at the first row in k's order (NULL keys last unless said), NULL x included;
            // last(x ORDER BY k) is first in the reverse order.
            guard call.arguments.count == 1, call.orderBy.count == 1, !call.distinct else {
                throw SQLError(.unsupported, "\(name)(x ORDER BY k) takes one argument and one ORDER BY key", at: at)
            }
            let o = call.orderBy[0]
            let descending = o.descending != (name == "last")
            let nullsFirst = (o.nullsFirst ?? false) != (name == "last")
            return try aggregate(descending ? .argMax : .argMin, call.arguments[0], call, scope, key: o.expr, keyNullsFirst: nullsFirst)
        }
        if name == "last" { throw SQLError(.unsupported, "last(x) needs an ORDER BY inside the call: last(x ORDER BY k)", at: at) }
        if name == "percentile_cont" || name == "percentile_disc" {
            // The SQL standard's ordered-set form: percentile_cont(q) WITHIN GROUP (ORDER BY x [DESC]) is
            // quantile_cont(x, q), or at 1 - q when descending.
            guard let within = call.withinGroup, call.arguments.count == 1 else {
                throw SQLError(.binder, "\(name)(q) WITHIN GROUP (ORDER BY x) takes one fraction and an ORDER BY", at: at)
            }
            let q = call.arguments[0]
            guard case .constant(let v, _) = try bindExpr(q, scope), let fraction = Self.number(v), fraction >= 0, fraction <= 1 else {
                throw SQLError(.binder, "\(name)(q): q must be a constant number between 0 and 1", at: q.location)
            }
            return try aggregate(
                name == "percentile_cont" ? .quantileCont : .quantileDisc, within.expr, call, scope, fraction: fraction,
                fractionFromTop: within.descending)
        }
        if call.withinGroup != nil { throw SQLError(.binder, "WITHIN GROUP is only allowed with percentile_cont and percentile_disc", at: at) }
        if let a = AggregateFunction.named(name) {
            if a == .argMin || a == .argMax {
                guard call.arguments.count == 2 else { throw SQLError(.binder, "\(name)(x, key) takes two arguments", at: at) }
                return try aggregate(a, call.arguments[0], call, scope, key: call.arguments[1])
            }
            if a.takesFraction {
                guard call.arguments.count == 2 else { throw SQLError(.binder, "\(name)(x, q) takes two arguments", at: at) }
                let q = call.arguments[1]
                let bound = try bindExpr(q, scope)
                guard case .constant(let v, _) = bound, let fraction = Self.number(v), fraction >= 0, fraction <= 1 else {
                    throw SQLError(.binder, "\(name)(x, q): q must be a constant number between 0 and 1", at: q.location)
                }
                return try aggregate(a, call.arguments[0], call, scope, fraction: fraction)
            }
            if a == .stringAgg {
                guard (1...2).contains(call.arguments.count) else { throw SQLError(.binder, "\(name)(x [, separator]) takes one or two arguments", at: at) }
                var separator = ","
                if call.arguments.count == 2 {
                    separator = try constantString(try bindExpr(call.arguments[1], scope), "string_agg's separator", at: call.arguments[1].location)
                }
                var order = call.orderBy
                if call.distinct {
                    // Distinct texts are found next to each other in the text's own order: ORDER BY may only name
                    // the argument (as DuckDB requires), and without one the texts come sorted.
                    guard order.count <= 1, order.allSatisfy({ displayName($0.expr) == displayName(call.arguments[0]) }) else {
                        throw SQLError(.binder, "In a DISTINCT aggregate, ORDER BY expressions must appear in the argument list", at: at)
                    }
                    if order.isEmpty { order = [OrderItem(expr: call.arguments[0], descending: false, nullsFirst: nil)] }
                }
                return try aggregate(a, call.arguments[0], call, scope, separator: separator, order: order)
            }
            guard call.arguments.count == 1 else { throw SQLError(.binder, "\(name) takes exactly one argument", at: at) }
            if a == .mode && call.distinct {
                // Every distinct value is as frequent as the others: DuckDB's answer is then its hash table's choice.
                throw SQLError(.unsupported, "mode(DISTINCT x) is not supported: every value would tie", at: at)
            }
            if a == .mode, let o = call.orderBy.first {
                // DuckDB breaks ties by the ORDER BY: over x itself that is the least (ascending, as without it
                // here) or the greatest value; other keys would need the rows' order, which is not kept.
                guard call.orderBy.count == 1, displayName(o.expr) == displayName(call.arguments[0]) else {
                    throw SQLError(.unsupported, "mode(x ORDER BY ...) may only order by x itself", at: at)
                }
                return try aggregate(a, call.arguments[0], call, scope, fractionFromTop: o.descending)
            }
            return try aggregate(a, call.arguments[0], call, scope, fraction: a == .median ? 0.5 : nil)
        }
        if call.filter != nil { throw SQLError(.binder, "FILTER is only allowed with aggregate functions", at: at) }
        if call.distinct { throw SQLError(.binder, "DISTINCT is only allowed with aggregate functions", at: at) }
        if WindowFunction(rawValue: name) != nil { throw SQLError(.binder, "\(name)() needs an OVER clause", at: at) }
        let args = try call.arguments.map { a throws(SQLError) in try bindExpr(a, scope) }
        if name == "typeof" {
            // The argument's type, known when binding (DuckDB's names): a constant.
            guard args.count == 1 else { throw SQLError(.binder, "typeof(x) takes one argument", at: at) }
            if case .constant(.null, .integer) = args[0] { return .constant(.varchar("\"NULL\""), .varchar) }
            return .constant(.varchar(args[0].type.description), .varchar)
        }
        if ["today", "current_date"].contains(name) {
            guard args.isEmpty else { throw SQLError(.binder, "\(name)() takes no arguments", at: at) }
            return .cast(.function(.now, [], .timestamp), .date)
        }
        if ["year", "month", "day", "hour", "minute", "second", "dayofweek", "quarter", "week", "dayofyear", "epoch"].contains(name) {
            guard args.count == 1 else { throw SQLError(.binder, "\(name)(timestamp) takes one argument", at: at) }
            return try bindScalar(.datePart, [.constant(.varchar(name), .varchar), args[0]], call)
        }
        guard let f = ScalarFunction.named(name), f != .inSubquery else {
            let near = nearNames(name, in: ScalarFunction.callableNames)
            throw SQLError(
                .binder, "Scalar Function with name \(name) does not exist!", at: at,
                hint: near.isEmpty ? nil : "Did you mean \(near.map { "\"\($0)\"" }.joined(separator: " or "))?")
        }
        return try bindScalar(f, args, call)
    }

    private func aggregateType(_ a: AggregateFunction, _ arg: BoundExpr?, at: SourceLocation) throws(SQLError) -> LogicalType {
        switch a {
        case .countStar, .count, .approxCountDistinct: return .bigint
        case .sum:
            guard let t = arg?.type, t.isNumeric || isNullConstant(arg!) else {
                throw SQLError(.type, "No function matches 'sum(\(arg?.type.description ?? ""))'; sum needs a number", at: at)
            }
            return t == .integer || t == .boolean ? .bigint : t
        case .avg, .stddevSamp, .stddevPop, .varSamp, .varPop:
            guard let t = arg?.type, t.isNumeric else {
                throw SQLError(.type, "No function matches '\(a.rawValue)(\(arg?.type.description ?? ""))'; it needs a number", at: at)
            }
            return .double
        case .median, .quantileCont, .quantileDisc:
            guard let t = arg?.type, t.isNumeric || t == .timestamp || t == .date else {
                throw SQLError(
                    .type, "No function matches '\(a.rawValue)(\(arg?.type.description ?? ""))'; it needs a number, a DATE or a TIMESTAMP",
                    at: at)
            }
            if a == .quantileDisc { return t }
            switch t {
            case .decimal, .timestamp: return t
            case .date: return .timestamp
            default: return .double
            }
        case .min, .max, .anyValue, .argMin, .argMax, .mode: return arg?.type ?? .integer
        case .boolAnd, .boolOr: return .boolean
        case .stringAgg: return .varchar
        case .grouping: return .bigint
        }
    }

    private func aggregate(
        _ fn: AggregateFunction, _ argExpr: Expr?, _ call: FunctionCall, _ scope: Scope, key keyExpr: Expr? = nil, fraction: Double? = nil,
        keyNullsFirst: Bool? = nil, separator: String? = nil, order orderItems: [OrderItem] = [], fractionFromTop: Bool = false
    ) throws(SQLError) -> BoundExpr {
        guard let c = collector, c.allowAggregates else {
            throw SQLError(.binder, "aggregate functions are not allowed in \(whereClause)", at: call.location)
        }
        guard !c.insideAggregate else {
            throw SQLError(.binder, "aggregate function calls cannot be nested", at: call.location)
        }
        c.insideAggregate = true
        let savedWindows = c.allowWindows
        c.allowWindows = false
        defer {
            c.insideAggregate = false
            c.allowWindows = savedWindows
        }
        var arg = try argExpr.map { a throws(SQLError) in try bindExpr(a, scope) }
        let key = try keyExpr.map { k throws(SQLError) in try bindExpr(k, scope) }
        if call.distinct && key != nil { throw SQLError(.unsupported, "DISTINCT in \(fn.rawValue) is not supported", at: call.location) }
        // ORDER BY inside the call matters to string_agg and first/last (handled by the callers); the others do not
        // depend on the order of their rows, and ignore it as DuckDB does.
        if fn == .stringAgg, let a = arg { arg = try coerce(a, to: .varchar, at: call.location, explicit: true) }
        let order = try orderItems.map { o throws(SQLError) in
            SortKey(expr: try bindExpr(o.expr, scope), descending: o.descending, nullsFirst: o.nullsFirst ?? false)
        }
        if fn == .boolAnd || fn == .boolOr { arg = try arg.map { a throws(SQLError) in try coerce(a, to: .boolean, at: call.location) } }
        if fn == .sum, let a = arg, a.type == .boolean { arg = .cast(a, .bigint) }
        let type = try aggregateType(fn, arg, at: call.location)
        let filter = try call.filter.map { f throws(SQLError) in try coerce(try bindExpr(f, scope), to: .boolean, at: f.location) }
        var f = fn
        var distinct = call.distinct
        if fn == .approxCountDistinct {
            f = .count
            distinct = true
        }
        if distinct && (fn == .min || fn == .max || fn == .anyValue) { distinct = false }
        var agg = AggregateCall(
            function: f, argument: arg, distinct: distinct, filter: filter, type: type, key: key, keyNullsFirst: keyNullsFirst, fraction: fraction,
            separator: separator, order: order)
        agg.fractionFromTop = fractionFromTop
        if let i = c.aggregates.firstIndex(of: agg) { return .aggregateSlot(i, type) }
        c.aggregates.append(agg)
        return .aggregateSlot(c.aggregates.count - 1, type)
    }

    /// A numeric constant's value as a Double; nil for other values.
    static func number(_ v: Value) -> Double? {
        switch v {
        case .integer(let x): return Double(x)
        case .bigint(let x): return Double(x)
        case .decimal(let x): return Double(x) / 100
        case .double(let x): return x
        default: return nil
        }
    }

    private func constantString(_ e: BoundExpr, _ what: String, at: SourceLocation) throws(SQLError) -> String {
        guard case .constant(.varchar(let s), _) = e else { throw SQLError(.binder, "\(what) must be a constant string", at: at) }
        return s
    }

    private func bindScalar(_ f: ScalarFunction, _ argsIn: [BoundExpr], _ call: FunctionCall) throws(SQLError) -> BoundExpr {
        var args = argsIn
        let at = call.location
        func arity(_ r: ClosedRange<Int>) throws(SQLError) {
            guard r.contains(args.count) else {
                let want = r.lowerBound == r.upperBound ? "\(r.lowerBound)" : "\(r.lowerBound) to \(r.upperBound)"
                throw SQLError(.binder, "\(call.name)() takes \(want) argument\(r.upperBound == 1 ? "" : "s"), got \(args.count)", at: at)
            }
        }
        func text(_ i: Int) throws(SQLError) { args[i] = try coerce(args[i], to: .varchar, at: at) }
        /// Exactly these arguments, each coerced to its type, and this result.
        func typed(_ parameters: [LogicalType], _ result: LogicalType) throws(SQLError) -> BoundExpr {
            try arity(parameters.count...parameters.count)
            for (i, t) in parameters.enumerated() { args[i] = try coerce(args[i], to: t, at: at) }
            return .function(f, args, result)
        }
        switch f {
        case .lower, .upper, .trim, .ltrim, .rtrim:
            try arity(1...2)
            for i in args.indices { try text(i) }
            return .function(f, args, .varchar)
        case .length: return try typed([.varchar], .bigint)
        case .substring:
            try arity(2...3)
            try text(0)
            for i in 1..<args.count { args[i] = try coerce(args[i], to: .bigint, at: at) }
            return .function(f, args, .varchar)
        case .concat:
            guard !args.isEmpty else { throw SQLError(.binder, "concat() needs at least one argument", at: at) }
            for i in args.indices { args[i] = try coerce(args[i], to: .varchar, at: at, explicit: true) }
            return .function(.concat, args + [.constant(.boolean(false), .boolean)], .varchar)
        case .replace: return try typed([.varchar, .varchar, .varchar], .varchar)
        case .startsWith, .contains, .endsWith: return try typed([.varchar, .varchar], .boolean)
        case .left, .right, .repeat: return try typed([.varchar, .bigint], .varchar)
        case .lpad, .rpad: return try typed([.varchar, .bigint, .varchar], .varchar)
        case .splitPart: return try typed([.varchar, .varchar, .bigint], .varchar)
        case .reverse: return try typed([.varchar], .varchar)
        case .strpos: return try typed([.varchar, .varchar], .bigint)
        case .ascii: return try typed([.varchar], .integer)
        case .chr: return try typed([.integer], .varchar)
        case .regexpMatches, .regexpFullMatch: return try typed(args.count == 3 ? [.varchar, .varchar, .varchar] : [.varchar, .varchar], .boolean)
        case .regexpExtract: return try typed(args.count == 3 ? [.varchar, .varchar, .bigint] : [.varchar, .varchar], .varchar)
        case .regexpReplace: return try typed(args.count == 4 ? [.varchar, .varchar, .varchar, .varchar] : [.varchar, .varchar, .varchar], .varchar)
        case .jsonExtractString:
            try arity(2...2)
            try text(0)
            let path = try constantString(args[1], "the JSON path", at: at)
            guard path.hasPrefix("$") else { throw SQLError(.binder, "JSON path must start with '$', e.g. '$.sku'", at: at) }
            return .function(f, args, .varchar)
        case .round:
            try arity(1...2)
            guard args[0].type.isNumeric else { throw SQLError(.type, "round() needs a number, not \(args[0].type)", at: at) }
            if args.count == 2 { args[1] = try coerce(args[1], to: .integer, at: at) }
            if args[0].type == .decimal {
                // DuckDB narrows the scale (DECIMAL(18,0) or (18,1)); Seam's DECIMAL has two places, so a rounding
                // to fewer digits returns BIGINT or DOUBLE, which print the same digits.
                guard args.count == 1 || { if case .constant = args[1] { return true } else { return false } }() else {
                    throw SQLError(.unsupported, "round(decimal, n) needs a constant n", at: at)
                }
                let digits: Int32 = args.count == 2 ? { if case .constant(.integer(let d), _) = args[1] { return d } else { return 0 } }() : 0
                if digits <= 0 { return .function(f, [args[0]] + args.dropFirst(), .bigint) }
                if digits == 1 { return .function(f, [.cast(args[0], .double)] + args.dropFirst(), .double) }
            }
            return .function(f, args, args[0].type)
        case .abs, .floor, .ceil:
            try arity(1...1)
            guard args[0].type.isNumeric else { throw SQLError(.type, "\(f.rawValue)() needs a number, not \(args[0].type)", at: at) }
            return .function(f, args, args[0].type)
        case .sqrt, .ln, .log10:
            try arity(1...1)
            args[0] = try coerce(args[0], to: .double, at: at)
            return .function(f, args, .double)
        case .power:
            try arity(2...2)
            for i in args.indices { args[i] = try coerce(args[i], to: .double, at: at) }
            return .function(f, args, .double)
        case .coalesce, .greatest, .least:
            guard !args.isEmpty else { throw SQLError(.binder, "\(call.name)() needs at least one argument", at: at) }
            var t = args.first { !isNullConstant($0) }?.type ?? args[0].type
            for a in args where !isNullConstant(a) {
                guard let u = commonType(t, a) ?? (isStringConstant(a) ? t : nil) else {
                    throw SQLError(.type, "\(call.name)() arguments have incompatible types \(t) and \(a.type)", at: at)
                }
                t = u
            }
            args = try args.map { a throws(SQLError) in try coerce(a, to: t, at: at) }
            return .function(f, args, t)
        case .nullif:
            try arity(2...2)
            let (a, b) = try coercePair(args[0], args[1], at: at, what: "compare")
            return .function(f, [a, b], a.type)
        case .dateTrunc:
            try arity(2...2)
            let part = try constantString(args[0], "the date part", at: at).lowercased()
            guard DatePart(rawValue: part) != nil else { throw SQLError(.binder, "unknown date part '\(part)'", at: at) }
            args[0] = .constant(.varchar(part), .varchar)
            args[1] = try coerce(args[1], to: .timestamp, at: at)
            return .function(f, args, .timestamp)
        case .dateDiff:
            try arity(3...3)
            let part = try constantString(args[0], "the date part", at: at).lowercased()
            guard DatePart(rawValue: part) != nil else { throw SQLError(.binder, "unknown date part '\(part)'", at: at) }
            args[0] = .constant(.varchar(part), .varchar)
            args[1] = try coerce(args[1], to: .timestamp, at: at)
            args[2] = try coerce(args[2], to: .timestamp, at: at)
            return .function(f, args, .bigint)
        case .datePart:
            try arity(2...2)
            let part = try constantString(args[0], "the date part", at: at).lowercased()
            guard let p = DatePart(rawValue: part) else { throw SQLError(.binder, "unknown date part '\(part)'", at: at) }
            args[0] = .constant(.varchar(part), .varchar)
            if args[1].type == .interval {
                // Of an INTERVAL: its days, and hours, minutes, seconds … of the rest; years and months are 0.
                let parts: Set<DatePart> = [.epoch, .day, .days, .hour, .hours, .minute, .minutes, .second, .seconds, .millisecond, .milliseconds,
                                            .microsecond, .microseconds, .month, .months, .quarter, .quarters, .year, .years, .decade, .century]
                guard parts.contains(p) else { throw SQLError(.binder, "date part '\(part)' of an INTERVAL is not supported", at: at) }
                return .function(f, args, p == .epoch ? .double : .bigint)
            }
            args[1] = try coerce(args[1], to: .timestamp, at: at)
            return .function(f, args, p == .epoch ? .double : .bigint)
        case .now:
            try arity(0...0)
            return .function(f, args, .timestamp)
        case .epochMs:
            try arity(1...1)
            if args[0].type == .timestamp { return .function(f, args, .bigint) }
            args[0] = try coerce(args[0], to: .bigint, at: at)
            return .function(f, args, .timestamp)
        case .strftime:
            try arity(2...2)
            args[0] = try coerce(args[0], to: .timestamp, at: at)
            _ = try constantString(args[1], "the format", at: at)
            return .function(f, args, .varchar)
        case .inSubquery:
            throw SQLError(.binder, "in_subquery is internal", at: at)
        }
    }

    // MARK: types

    private func castTarget(_ name: String, at: SourceLocation) throws(SQLError) -> LogicalType {
        switch name {
        case "FLOAT", "REAL", "FLOAT4", "DOUBLE PRECISION", "NUMERIC": return name == "NUMERIC" ? .decimal : .double
        case "SMALLINT", "TINYINT", "INT2", "INT1", "SHORT": return .integer
        case "HUGEINT", "UBIGINT", "INT64": return .bigint
        default: break
        }
        if name.hasPrefix("DECIMAL(") || name.hasPrefix("NUMERIC(") {
            let inner = name.drop { $0 != "(" }.dropFirst().dropLast().split(separator: ",")
            if inner.count == 2, let p = Int(inner[0]), p <= 38, inner[1] == "2" { return .decimal }
            throw SQLError(.unsupported, "Seam's DECIMAL has two decimal places: use DECIMAL(18,2) or DOUBLE, not \(name)", at: at)
        }
        guard let t = LogicalType(sqlName: name) else {
            let near = nearNames(name, in: LogicalType.allCases.map(\.description))
            throw SQLError(.type, "Type with name \(name) does not exist!", at: at, hint: near.isEmpty ? nil : "Did you mean \"\(near[0])\"?")
        }
        return t
    }

    private func isNullConstant(_ e: BoundExpr) -> Bool {
        if case .constant(.null, _) = e { return true }
        return false
    }

    private func isStringConstant(_ e: BoundExpr) -> Bool {
        if case .constant(.varchar, _) = e { return true }
        return false
    }

    /// The common type of two operands: numeric widening, or a string constant adopting the other side's type.
    func commonType(_ a: LogicalType, _ b: BoundExpr) -> LogicalType? {
        if isNullConstant(b) { return a }
        if let t = commonNumericOrSame(a, b.type) { return t }
        if isStringConstant(b) { return a }
        return nil
    }

    func commonNumericOrSame(_ a: LogicalType, _ b: LogicalType) -> LogicalType? {
        if a == b { return a }
        if (a == .date && b == .timestamp) || (a == .timestamp && b == .date) { return .timestamp }
        if a.isNumeric && b.isNumeric { return a.numericRank >= b.numericRank ? a : b }
        return nil
    }

    func coercePair(_ a: BoundExpr, _ b: BoundExpr, at: SourceLocation, what: String) throws(SQLError) -> (BoundExpr, BoundExpr) {
        if a.type == b.type { return (a, b) }
        let t: LogicalType
        if isNullConstant(a) {
            t = b.type
        } else if isNullConstant(b) {
            t = a.type
        } else if let u = commonNumericOrSame(a.type, b.type) {
            t = u
        } else if isStringConstant(b) {
            t = a.type
        } else if isStringConstant(a) {
            t = b.type
        } else {
            // Times and numbers do not convert into each other: point at a literal or date_diff instead of a cast.
            let times: Set<LogicalType> = [.date, .timestamp]
            let hint = times.contains(a.type) != times.contains(b.type) && (a.type.isNumeric || b.type.isNumeric)
                ? "write the \(times.contains(a.type) ? a.type : b.type) as a literal (e.g. DATE '2024-01-31'), or compare a number of days with date_diff('day', a, b)"
                : "e.g. CAST(x AS \(a.type == .varchar ? b.type : a.type))"
            throw SQLError(.type, "Cannot \(what) values of type \(a.type) and type \(b.type) - an explicit cast is required", at: at, hint: hint)
        }
        return (try coerce(a, to: t, at: at), try coerce(b, to: t, at: at))
    }

    /// `e` as type `t`: constants are converted now (a failure is an error at `at`), numbers widen, and with
    /// `explicit` any type converts (for `||` and concat, which cast their arguments to text).
    func coerce(_ e: BoundExpr, to t: LogicalType, at: SourceLocation, explicit: Bool = false) throws(SQLError) -> BoundExpr {
        if e.type == t && !isNullConstant(e) { return e }
        if case .constant(let v, _) = e {
            switch ValueCast.cast(v, to: t) {
            case .success(let out): return .constant(out, t)
            case .failure(let f): throw SQLError(.type, "Conversion Error: \(f.message)", at: at)
            }
        }
        if e.type.isNumeric && t.isNumeric && (t.numericRank > e.type.numericRank || explicit) { return .cast(e, t) }
        if e.type == .date && t == .timestamp { return .cast(e, t) }  // midnight of the day, as DuckDB widens
        if explicit && t == .varchar { return .cast(e, t) }
        if e.type == .boolean && t.isNumeric && explicit { return .cast(e, t) }
        throw SQLError(.type, "Cannot implicitly convert a \(e.type) to \(t)", at: at, hint: "use CAST(… AS \(t)) if this is meant")
    }
}

func splitConjuncts(_ e: BoundExpr) -> [BoundExpr] {
    if case .and(let xs) = e { return xs.flatMap(splitConjuncts) }
    return [e]
}

extension BoundExpr {
    func location(default at: SourceLocation) -> SourceLocation { at }
}

/// Parts of a timestamp for `date_trunc`, `date_part` and `date_diff`.
public enum DatePart: String, Sendable {
    case microsecond, microseconds, millisecond, milliseconds, second, seconds, minute, minutes, hour, hours, day, days, week, weeks
    case month, months, quarter, quarters, year, years, decade, century, dayofweek, dow, isodow, dayofyear, doy, epoch

    /// The singular spelling.
    public var canonical: DatePart {
        switch self {
        case .microseconds: return .microsecond
        case .milliseconds: return .millisecond
        case .seconds: return .second
        case .minutes: return .minute
        case .hours: return .hour
        case .days: return .day
        case .weeks: return .week
        case .months: return .month
        case .quarters: return .quarter
        case .years: return .year
        case .dow: return .dayofweek
        case .doy: return .dayofyear
        default: return self
        }
    }
}

extension LogicalType {
    public var isNumeric: Bool { numericRank > 0 }
    public var isIntegral: Bool { self == .integer || self == .bigint }

    var numericRank: Int {
        switch self {
        case .integer: return 1
        case .bigint: return 2
        case .decimal: return 3
        case .double: return 4
        default: return 0
        }
    }
}

/// The column name DuckDB gives an unaliased select item.
func displayName(_ e: Expr) -> String {
    switch e {
    case .column(let parts, _): return parts.last!
    case .star: return "*"
    case .literal(let l, _):
        switch l {
        case .null: return "NULL"
        case .boolean(let b): return b ? "true" : "false"
        case .integer(let s), .number(let s): return s
        case .string(let s): return "'\(s)'"
        case .timestamp(let s): return "'\(s)'::TIMESTAMP"
        case .date(let s): return "'\(s)'::DATE"
        case .interval(let c, let u): return "to_\(u.lowercased())s(\(c))"
        }
    case .unary(let op, let x, _): return op == .not ? "(NOT \(displayName(x)))" : "-(\(displayName(x)))"
    case .binary(let op, let a, let b, _):
        let o = op == .equal ? "=" : op.rawValue
        return "(\(displayName(a)) \(o) \(displayName(b)))"
    case .function(let f):
        if f.star { return "count_star()" }
        var s = "\(f.name)(" + (f.distinct ? "DISTINCT " : "") + f.arguments.map(displayName).joined(separator: ", ") + ")"
        if f.filter != nil { s += " FILTER (WHERE …)" }
        if f.over != nil { s += " OVER (…)" }
        return s
    case .cast(let x, let t, _): return "CAST(\(displayName(x)) AS \(LogicalType(sqlName: t)?.description ?? t))"
    case .caseWhen: return "CASE … END"
    case .between(let x, let a, let b, let n, _): return "(\(displayName(x)) \(n ? "NOT " : "")BETWEEN \(displayName(a)) AND \(displayName(b)))"
    case .inList(let x, let l, let n, _): return "(\(displayName(x)) \(n ? "NOT " : "")IN (\(l.map(displayName).joined(separator: ", "))))"
    case .inSubquery(let x, _, let n, _): return "(\(displayName(x)) \(n ? "NOT " : "")IN (SELECT …))"
    case .subquery: return "(SELECT …)"
    case .exists(_, let n, _): return n ? "(NOT EXISTS(SELECT …))" : "EXISTS(SELECT …)"
    case .isNull(let x, let n, _): return "(\(displayName(x)) IS \(n ? "NOT " : "")NULL)"
    case .isDistinctFrom(let a, let b, let n, _): return "(\(displayName(a)) IS \(n ? "NOT " : "")DISTINCT FROM \(displayName(b)))"
    case .like(let x, let p, let ci, let n, _, _): return "(\(displayName(x)) \(n ? "NOT " : "")\(ci ? "ILIKE" : "LIKE") \(displayName(p)))"
    }
}
