import SeamColumnar

/// Correlated subqueries, by rewriting them into joins (the "unnesting" of Neumann and Kemper, in its common case).
///
/// A subquery in a SELECT's select list or WHERE may refer to the enclosing query's columns in equality conjuncts of
/// its WHERE (`e.customer_id = c.customer_id`). Such a subquery is computed once for every value of its inner keys:
/// `EXISTS` becomes the distinct inner keys, a scalar aggregate becomes the aggregate grouped by the inner keys. The
/// enclosing FROM gets a LEFT JOIN to that keyed result on the outer keys, and the subquery's place in the expression
/// reads the joined columns. A key with no inner rows finds no partner: `EXISTS` is false there and an aggregate takes
/// its value over no rows (`count` 0, the others NULL), as DuckDB answers. The keyed results have one row per key, so
/// the join multiplies nothing.
///
/// Other comparisons with the outer row next to the equalities (`e.ts > c.first_seen + INTERVAL 30 DAY`), or an
/// aggregate of inner and outer values, make the result depend on more than the keys: then the subquery is computed
/// per distinct outer row instead. D, the distinct values of the outer columns it reads, is joined to the inner rows
/// on the equalities with the other comparisons as the join's residual, EXISTS or the aggregates are taken grouped by
/// D's columns, and the enclosing FROM is LEFT JOINed to that on those columns, NULL matching NULL (an aggregate may
/// read a NULL outer value). Only comparisons whose sides keep NULL are accepted as conditions: with a NULL outer
/// value they are NULL, so the subquery has no rows, as the per-row join gives.
///
/// A scalar body that takes the first row by an order (`SELECT v … ORDER BY ts DESC LIMIT 1`) becomes, per key or
/// outer row, the row with the least (greatest) key by an aggregate (one ORDER BY key) or the row numbered 1 by
/// `row_number()` in that order (several keys); among rows tied on the order either takes one (DuckDB promises none in
/// particular either).
///
/// While a subquery's body is bound, a reference to the enclosing query's column becomes a marker column (an index
/// from `markerBase`) and is recorded; unnesting then finds each marker in a WHERE comparison, replaces an equality
/// by a join key or keeps another comparison for the per-row join, and checks that no marker is left anywhere else.
struct OuterReference {
    var outerIndex: Int
    var type: LogicalType
    var at: SourceLocation
}

/// One SELECT level's correlation state.
final class CorrelationFrame {
    /// The enclosing query's FROM scope, when this SELECT is the body of a subquery that may refer to it.
    let outer: Scope?
    /// References to `outer` met while binding this body (marker k is `outerReferences[k]`).
    var outerReferences: [OuterReference] = []
    /// Columns of this SELECT's FROM before any join for a correlated subquery.
    let fromWidth: Int
    /// Joins to add to this SELECT's FROM for the correlated subqueries in its select list and WHERE: the right side
    /// (built from the FROM), its schema, and the join keys on the FROM's side and on the right side's.
    var joins: [(build: (LogicalPlan) -> LogicalPlan, schema: Schema, outerKeys: [BoundExpr], keyedKeys: [BoundExpr])] = []
    /// Subqueries may correlate while the select list and WHERE are bound; later clauses run after the joins.
    var accepting = true

    init(outer: Scope?, fromWidth: Int) {
        self.outer = outer
        self.fromWidth = fromWidth
    }

    /// The first column the next join's columns take.
    var nextColumn: Int { fromWidth + joins.reduce(0) { $0 + $1.schema.count } }
}

extension Binder {
    static let markerBase = 1 << 24

    static func isMarker(_ e: BoundExpr) -> Bool {
        if case .column(let i, _) = e { return i >= markerBase }
        return false
    }

    /// A marker for the enclosing query's column `name` (qualified by `qualifier`), when the SELECT being bound is a
    /// subquery body and the name resolves there; nil otherwise.
    func outerReference(_ parts: [String], at: SourceLocation) throws(SQLError) -> BoundExpr? {
        guard let frame = correlationFrames.last, let outer = frame.outer else { return nil }
        let matches = outer.matches(parts)
        guard !matches.isEmpty else { return nil }
        guard matches.count == 1 else {
            throw SQLError(.binder, "Ambiguous reference to column name \"\(parts.last!)\" of the outer query", at: at)
        }
        let type = outer.columns[matches[0]].type
        frame.outerReferences.append(OuterReference(outerIndex: matches[0], type: type, at: at))
        return .column(Self.markerBase + frame.outerReferences.count - 1, type)
    }

    /// `kind`'s expression for a bound subquery body that referred to the enclosing query: the body is unnested into
    /// a keyed plan, joined to the enclosing FROM, and the expression reads the joined columns.
    func unnest(_ body: LogicalPlan, _ refs: [OuterReference], kind: SubqueryPlan.Kind, at: SourceLocation) throws(SQLError) -> BoundExpr {
        guard let frame = correlationFrames.last, frame.accepting else {
            throw SQLError(.unsupported, "correlated subqueries are supported in the select list and WHERE, not here", at: refs[0].at)
        }
        // Down from the top to the filter holding the references.
        var above: [LogicalPlan] = []
        var node = body
        var found: (input: LogicalPlan, predicate: BoundExpr)? = nil
        while found == nil {
            switch node {
            case .filter(let c, let p) where p.contains(where: Self.isMarker):
                found = (c, p)
            case .project(let c, _, _), .aggregate(let c, _, _, _), .distinct(let c):
                above.append(node)
                node = c
            case .sort(let c, _, _) where kind == .exists:
                node = c  // order does not matter to EXISTS
            case .limit(let c, let l, 0) where kind == .exists && (l ?? 1) >= 1:
                node = c  // neither does a LIMIT that keeps a row
            case .sort(let c, _, _) where kind == .scalar, .limit(let c, 1, 0) where kind == .scalar:
                above.append(node)  // the first row by an order: see topOne
                node = c
            case .limit where kind == .scalar:
                throw SQLError(.unsupported, Self.scalarShape, at: refs[0].at)
            default:
                throw unsupportedCorrelation(refs[0].at)
            }
        }
        let (input, predicate) = found!
        // An error points at the outer reference in the offending condition.
        func at(_ e: BoundExpr) -> SourceLocation {
            for i in e.columnsUsed.sorted() where i >= Self.markerBase { return refs[i - Self.markerBase].at }
            return refs[0].at
        }
        let toOuter = Dictionary(uniqueKeysWithValues: refs.indices.map { (Self.markerBase + $0, refs[$0].outerIndex) })
        var innerKeys: [BoundExpr] = [], outerSides: [BoundExpr] = [], rest: [BoundExpr] = [], correlated: [BoundExpr] = []
        for c in splitConjuncts(predicate) {
            guard c.contains(where: Self.isMarker) else {
                rest.append(c)
                continue
            }
            func onlyOuter(_ e: BoundExpr) -> Bool { !e.columnsUsed.isEmpty && e.columnsUsed.allSatisfy { $0 >= Self.markerBase } }
            if case .compare(.equal, let a, let b) = c {
                if onlyOuter(b) && !a.contains(where: Self.isMarker) {
                    innerKeys.append(a)
                    outerSides.append(b)
                    continue
                }
                if onlyOuter(a) && !b.contains(where: Self.isMarker) {
                    innerKeys.append(b)
                    outerSides.append(a)
                    continue
                }
            }
            // Any other condition on the outer row: it must be false or unknown when an outer value it reads is
            // NULL (as comparisons are), so that an outer row the per-row join below cannot match has no inner rows.
            var inHaving = false
            if case .aggregate = input { inHaving = true }
            guard Self.rejectsNullOuterValues(c), !inHaving else { throw unsupportedCorrelation(at(c)) }
            correlated.append(c)
        }
        guard !innerKeys.isEmpty else {
            throw SQLError(.unsupported, "a correlated subquery needs an equality between an inner and an outer column in its WHERE (e.g. e.customer_id = c.customer_id) besides other conditions on the outer row", at: refs[0].at)
        }
        let filtered = rest.isEmpty ? input : LogicalPlan.filter(input, rest.count == 1 ? rest[0] : .and(rest))
        let base = frame.nextColumn
        // Equality conditions only: the subquery is computed per inner key, and joined on the outer keys. With other
        // conditions on the outer row (`e.ts > c.first_seen`), or outer values in an aggregate, value or order, per
        // distinct outer row: the outer values the subquery reads (D) are joined to the inner rows on the keys, with
        // those conditions as the join's residual, and the result, keyed by D's columns, is joined back on them.
        let aggregatesReadOuter = above.contains { node in
            guard case .aggregate(_, _, let aggregates, _) = node else { return false }
            // An aggregate of outer columns only belongs to the outer query (SQL's rule; DuckDB refuses it in a WHERE):
            // only one that also reads inner columns is computed per outer row.
            return aggregates.contains { a in
                let used = a.columnsUsed
                return used.contains { $0 >= Self.markerBase } && used.contains { $0 < Self.markerBase }
            }
        }
        let top = kind == .scalar ? Self.topOne(above) : nil
        let topReadsOuter = top.map { t in ([t.value] + t.order.map(\.expr)).contains { $0.contains(where: Self.isMarker) } } ?? false
        let perOuterRow = !correlated.isEmpty || aggregatesReadOuter || topReadsOuter
        var outerColumns: [Int] = []
        for r in refs where !outerColumns.contains(r.outerIndex) { outerColumns.append(r.outerIndex) }
        let m = perOuterRow ? outerColumns.count : innerKeys.count
        let keyFields = perOuterRow
            ? outerColumns.enumerated().map { k, c in Field("#outer\(k)", refs.first { $0.outerIndex == c }!.type) }
            : innerKeys.enumerated().map { Field("#key\($0.offset)", $0.element.type) }
        let keyColumns = keyFields.indices.map { BoundExpr.column($0, keyFields[$0].type) }
        // D's rows also carry a number (`#outer_row`, column m): one dense integer that names a distinct outer row, for
        // a window partitioned by it (a counting sort, where D's several columns would take a general sort).
        let numberField = Field("#outer_row", .bigint)
        // The per-row join: the inner rows probe a hash table of D (distinct outer rows are usually far fewer than the
        // inner rows: customers against events; building on the events took 0.49 s where this takes 0.31 s on 10M).
        // Its columns are the inner input's, then D's, then D's number; markers read D's.
        let dOffset = filtered.schema.count
        let joinedKeys = keyFields.indices.map { BoundExpr.column(dOffset + $0, keyFields[$0].type) }
        let outerRow = BoundExpr.column(dOffset + m, .bigint)
        var inD: [Int: Int] = [:], joinedColumn: [Int: Int] = [:]
        for (r, ref) in refs.enumerated() { inD[Self.markerBase + r] = outerColumns.firstIndex(of: ref.outerIndex)! }
        for (marker, k) in inD { joinedColumn[marker] = dOffset + k }
        let rowsPerOuter: (LogicalPlan) -> LogicalPlan = { d in
            .join(filtered, d, .inner, leftKeys: innerKeys, rightKeys: outerSides.map { $0.remapped(inD) },
                  residual: correlated.isEmpty ? nil
                      : correlated.count == 1 ? correlated[0].remapped(joinedColumn) : .and(correlated.map { $0.remapped(joinedColumn) }),
                  schema: Schema(filtered.schema.fields + keyFields + [numberField]))
        }
        // The keyed result, from the rows per outer value (D) when `perOuterRow`.
        let keyedOf: (LogicalPlan?) -> LogicalPlan
        let result: BoundExpr
        switch kind {
        case .exists:
            guard !above.contains(where: { if case .aggregate = $0 { return true } else { return false } }) else {
                throw SQLError(.unsupported, "a correlated EXISTS over an aggregate is not supported; an aggregate without GROUP BY always returns a row", at: refs[0].at)
            }
            // The distinct keys, each with a TRUE the outer row finds when its keys match.
            let schema = Schema(keyFields + [Field("#exists", .boolean)])
            keyedOf = { d in
                if let d { return .distinct(.project(rowsPerOuter(d), joinedKeys + [.constant(.boolean(true), .boolean)], schema)) }
                return .distinct(.project(filtered, innerKeys + [.constant(.boolean(true), .boolean)], schema))
            }
            result = .isNull(.column(base + m, .boolean), negated: true)
        case .scalar where top != nil:
            // The first row by an order (ORDER BY … LIMIT 1): per key, the row numbered 1 in that order, its value.
            let (value, order) = top!
            let schema = Schema(keyFields + [Field("#first", value.type)])
            keyedOf = { d in
                let source = d.map(rowsPerOuter) ?? filtered
                let map = d == nil ? [:] : joinedColumn
                if order.count == 1 {
                    // One ORDER BY key: the row with the least (greatest) key per group, an aggregate instead of a
                    // window over all the rows (about 3x faster on 6M rows here).
                    let first = AggregateCall(
                        function: order[0].descending ? .argMax : .argMin, argument: value.remapped(map), distinct: false, filter: nil,
                        type: value.type, key: order[0].expr.remapped(map), keyNullsFirst: order[0].nullsFirst)
                    guard d != nil else { return .aggregate(source, groups: innerKeys, aggregates: [first], schema: schema) }
                    // Per outer row: grouped by D's dense number (the dense-key path, where D's several columns would
                    // be hashed), D's columns carried along.
                    let carried = joinedKeys.map { AggregateCall(function: .anyValue, argument: $0, distinct: false, filter: nil, type: $0.type) }
                    let grouped = LogicalPlan.aggregate(source, groups: [outerRow], aggregates: [first] + carried,
                        schema: Schema([numberField, Field("#first", value.type)] + keyFields))
                    return .project(grouped, keyFields.indices.map { .column(2 + $0, keyFields[$0].type) } + [.column(1, value.type)], schema)
                }
                let partition = d == nil ? innerKeys : [outerRow]
                let call = WindowCall(kind: .function(.rowNumber), arguments: [], partitionBy: partition,
                                      orderBy: order.map { SortKey(expr: $0.expr.remapped(map), descending: $0.descending, nullsFirst: $0.nullsFirst) },
                                      type: .bigint)
                let width = source.schema.count
                let numbered = LogicalPlan.window(source, [call], schema: Schema(source.schema.fields + [Field("#row", .bigint)]))
                let first = LogicalPlan.filter(numbered, .compare(.equal, .column(width, .bigint), .constant(.bigint(1), .bigint)))
                return .project(first, (d == nil ? innerKeys : joinedKeys) + [value.remapped(map)], schema)
            }
            result = .column(base + m, value.type)
        case .scalar:
            // project(aggregate(filter)) with no GROUP BY: the aggregates grouped by the keys instead, and the
            // select expression computed in the enclosing query over the joined aggregates (and any outer columns).
            guard above.count == 2, case .project(_, let exprs, _) = above[0], exprs.count == 1,
                case .aggregate(_, let groups, let aggregates, let aggSchema) = above[1], groups.isEmpty
            else {
                throw SQLError(.unsupported, Self.scalarShape, at: refs[0].at)
            }
            let schema = Schema(keyFields + aggSchema.fields)
            keyedOf = { d in
                guard let d else { return .aggregate(filtered, groups: innerKeys, aggregates: aggregates, schema: schema) }
                // Every field kept (fraction, separator, order, key's NULL placement), each expression renumbered.
                let shifted = aggregates.map { a in a.mapExpressions { $0.remapped(joinedColumn) } }
                return .aggregate(rowsPerOuter(d), groups: joinedKeys, aggregates: shifted, schema: schema)
            }
            let unmatched = BoundExpr.isNull(.column(base, keyFields[0].type), negated: false)
            result = try exprs[0].transformed { e throws(SQLError) -> BoundExpr in
                guard case .column(let i, let t) = e else { return e }
                if i >= Self.markerBase { return .column(refs[i - Self.markerBase].outerIndex, t) }
                let joined = BoundExpr.column(base + m + i, t)
                // A key with no inner rows: its aggregates over no rows, count 0 and the others NULL (as joined).
                switch aggregates[i].function {
                case .count, .countStar, .approxCountDistinct:
                    return .caseWhen([WhenClause(condition: unmatched, result: .constant(.bigint(0), t))], otherwise: joined, t)
                default:
                    return joined
                }
            }
        case .inList:
            throw SQLError(.unsupported, "internal: a correlated IN (subquery) is unnested by unnestIn", at: refs[0].at)
        }
        let keyed: LogicalPlan
        let outerKeys: [BoundExpr], keyedKeys: [BoundExpr]
        let build: (LogicalPlan) -> LogicalPlan
        if perOuterRow {
            let outerValues = zip(outerColumns, keyFields).map { BoundExpr.column($0, $1.type) }
            // D: the distinct outer values the subquery reads, from the enclosing FROM.
            let numbered = Schema(keyFields + [numberField])
            let number = WindowCall(kind: .function(.rowNumber), arguments: [], partitionBy: [], orderBy: [], type: .bigint)
            build = { from in keyedOf(.window(.distinct(.project(from, outerValues, Schema(keyFields))), [number], schema: numbered)) }
            keyed = keyedOf(.values(rows: [], schema: numbered))
            // Joined back with NULL equal to NULL: an aggregate may read a NULL outer value (`x IN (…)` with a NULL
            // x is NULL, not FALSE, when the subquery has rows).
            outerKeys = outerValues.flatMap(Self.nullSafeKey)
            keyedKeys = keyColumns.flatMap(Self.nullSafeKey)
        } else {
            outerKeys = outerSides.map { $0.remapped(toOuter) }
            keyedKeys = keyColumns
            keyed = keyedOf(nil)
            build = { _ in keyed }
        }
        if Self.containsMarker(keyed) { throw unsupportedCorrelation(refs[0].at) }
        frame.joins.append((build, keyed.schema, outerKeys, keyedKeys))
        return result
    }

    static let scalarShape = "a correlated scalar subquery must compute one aggregate without GROUP BY, e.g. (SELECT max(x) FROM … WHERE …), or take the first row by an order, e.g. (SELECT x FROM … WHERE … ORDER BY ts DESC LIMIT 1)"

    /// A scalar body `SELECT v FROM … ORDER BY … LIMIT 1` (nodes above its WHERE, from the top): its value and order,
    /// as expressions over the rows the WHERE keeps; nil for other shapes.
    static func topOne(_ above: [LogicalPlan]) -> (value: BoundExpr, order: [SortKey])? {
        var nodes = above[...]
        // The projection that drops hidden sort keys, if any.
        if nodes.count == 4, case .project(_, let keep, _) = nodes.first, keep.count == 1, case .column(0, _) = keep[0] { nodes = nodes.dropFirst() }
        guard nodes.count == 3, case .limit(_, 1, 0) = nodes[nodes.startIndex], case .sort(_, let keys, _) = nodes[nodes.startIndex + 1],
              case .project(_, let exprs, _) = nodes[nodes.startIndex + 2], !exprs.isEmpty else { return nil }
        var order: [SortKey] = []
        for k in keys {
            guard case .column(let i, _) = k.expr, i < exprs.count else { return nil }
            order.append(SortKey(expr: exprs[i], descending: k.descending, nullsFirst: k.nullsFirst))
        }
        return (exprs[0], order)
    }

    /// `x IN (SELECT y FROM … WHERE …)` with a correlated body, as the scalar subquery SQL's IN is: the OR of `y = x`
    /// over the body's rows, FALSE over none, i.e. `CASE WHEN bool_or(y = x) THEN TRUE WHEN count(*) > count(y = x)
    /// THEN NULL ELSE FALSE END` (NULL when no row matched and some comparison was NULL: a NULL `x` or `y`), computed
    /// per outer row. `x` (an expression of the enclosing query, of type `t` as `y` is) joins the outer values the
    /// body reads.
    func unnestIn(_ x: BoundExpr, _ body: LogicalPlan, _ refs: [OuterReference], _ t: LogicalType, at: SourceLocation) throws(SQLError) -> BoundExpr {
        guard case .project(let input, let exprs, _) = body, exprs.count == 1, !x.contains(where: Self.isMarker) else {
            throw SQLError(.unsupported, "a correlated IN (subquery) must select one expression without DISTINCT, GROUP BY or LIMIT; write it as EXISTS (… WHERE inner = outer AND …)", at: refs[0].at)
        }
        var refs = refs
        var columnTypes: [Int: LogicalType] = [:]
        _ = try x.transformed { e throws(SQLError) -> BoundExpr in
            if case .column(let i, let type) = e { columnTypes[i] = type }
            return e
        }
        var toMarker: [Int: Int] = [:]
        for (c, type) in columnTypes.sorted(by: { $0.key < $1.key }) {
            toMarker[c] = Self.markerBase + refs.count
            refs.append(OuterReference(outerIndex: c, type: type, at: at))
        }
        let y = exprs[0].type == t ? exprs[0] : BoundExpr.cast(exprs[0], t)
        let equal = BoundExpr.compare(.equal, y, x.remapped(toMarker))
        let aggregates = [
            AggregateCall(function: .boolOr, argument: equal, distinct: false, filter: nil, type: .boolean),
            AggregateCall(function: .countStar, argument: nil, distinct: false, filter: nil, type: .bigint),
            AggregateCall(function: .count, argument: equal, distinct: false, filter: nil, type: .bigint),
        ]
        let counts = LogicalPlan.aggregate(input, groups: [], aggregates: aggregates,
            schema: Schema([Field("#any", .boolean), Field("#rows", .bigint), Field("#compared", .bigint)]))
        let result = BoundExpr.caseWhen([
            WhenClause(condition: .column(0, .boolean), result: .constant(.boolean(true), .boolean)),
            WhenClause(condition: .compare(.greater, .column(1, .bigint), .column(2, .bigint)), result: .constant(.null, .boolean)),
        ], otherwise: .constant(.boolean(false), .boolean), .boolean)
        return try unnest(.project(counts, [result], Schema([Field("#in", .boolean)])), refs, kind: .scalar, at: at)
    }

    private func unsupportedCorrelation(_ at: SourceLocation) -> SQLError {
        SQLError(.unsupported, "a correlated subquery may use the outer query's columns only in comparisons in its WHERE, e.g. WHERE e.customer_id = c.customer_id AND e.ts > c.first_seen", at: at)
    }

    /// Join keys that match a NULL with a NULL: whether `e` is NULL, and `e` with NULL replaced by a value of its type.
    static func nullSafeKey(_ e: BoundExpr) -> [BoundExpr] {
        let placeholder: Value
        switch e.type {
        case .boolean: placeholder = .boolean(false)
        case .integer: placeholder = .integer(0)
        case .bigint: placeholder = .bigint(0)
        case .double: placeholder = .double(0)
        case .decimal: placeholder = .decimal(0)
        case .timestamp: placeholder = .timestamp(0)
        case .date: placeholder = .date(0)
        case .interval: placeholder = .interval(0)
        case .varchar: placeholder = .varchar("")
        }
        return [.isNull(e, negated: false), .function(.coalesce, [e, .constant(placeholder, e.type)], e.type)]
    }

    /// Whether condition `c` is NULL or false whenever an outer value it reads (a marker) is NULL: a comparison whose
    /// sides reach the markers only through arithmetic, casts, negation and interval addition, which keep NULL.
    static func rejectsNullOuterValues(_ c: BoundExpr) -> Bool {
        func keepsNull(_ e: BoundExpr) -> Bool {
            guard e.contains(where: isMarker) else { return true }
            switch e {
            case .column: return true
            case .cast(let x, _), .negate(let x), .addInterval(let x, _, _): return keepsNull(x)
            case .arithmetic(_, let x, let y, _): return keepsNull(x) && keepsNull(y)
            default: return false
            }
        }
        guard case .compare(_, let a, let b) = c else { return false }
        return keepsNull(a) && keepsNull(b)
    }

    /// Adds the joins of `frame` to `plan` (a SELECT's FROM), and their columns, hidden, to `scope`.
    /// `fromConditions`: WHERE conjuncts on the FROM's columns only; rows they drop need no per-row subquery.
    func applyCorrelationJoins(_ frame: CorrelationFrame, _ plan: inout LogicalPlan, _ scope: inout Scope, fromConditions: [BoundExpr] = []) {
        let from = fromConditions.isEmpty ? plan : LogicalPlan.filter(plan, fromConditions.count == 1 ? fromConditions[0] : .and(fromConditions))
        for (build, _, outerKeys, keyedKeys) in frame.joins {
            let keyed = build(from)
            plan = .join(plan, keyed, .left, leftKeys: outerKeys, rightKeys: keyedKeys, residual: nil, schema: Schema(plan.schema.fields + keyed.schema.fields))
            scope.columns += keyed.schema.fields.map { ScopeColumn(qualifier: nil, name: $0.name, type: $0.type, hiddenUnqualified: true) }
        }
    }

    /// Whether any expression of `plan` still holds a marker (an outer reference unnesting could not place).
    static func containsMarker(_ plan: LogicalPlan) -> Bool {
        plan.containsExpression(where: isMarker)
    }
}
