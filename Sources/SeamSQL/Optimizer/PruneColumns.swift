import SeamColumnar

/// Reads only the columns a query needs: each node asks its input for the columns its output and expressions
/// use, and scans drop the rest. Projections drop unused outputs.
enum PruneColumns {
    static func apply(_ plan: LogicalPlan) -> LogicalPlan {
        prune(plan, Set(0..<plan.schema.count)).plan
    }

    /// `plan` keeping at least the `required` output columns; `map` tells where each kept old column went.
    private static func prune(_ plan: LogicalPlan, _ required: Set<Int>) -> (plan: LogicalPlan, map: [Int: Int]) {
        switch plan {
        case .scan(var s):
            var needed = required
            for f in s.zoneFilters { needed.formUnion(f.columnsUsed) }
            let keep = needed.sorted()
            if keep.isEmpty {
                // count(*) reads no column; keep the narrowest to know row counts.
                let narrow = s.columns.indices.min { (s.schema[$0].type.physical.width ?? 16) < (s.schema[$1].type.physical.width ?? 16) } ?? 0
                return prune(plan, [narrow])
            }
            var map: [Int: Int] = [:]
            for (n, o) in keep.enumerated() { map[o] = n }
            s.zoneFilters = s.zoneFilters.map { $0.remapped(map) }
            s.columns = keep.map { s.columns[$0] }
            s.schema = Schema(keep.map { s.schema[$0] })
            return (.scan(s), map)
        case .values:
            return (plan, identity(plan.schema.count))
        case .filter(let c, let p):
            let (nc, m) = prune(c, required.union(p.columnsUsed))
            return (.filter(nc, p.remapped(m)), m)
        case .project(let c, let exprs, let schema):
            let keep = required.sorted()
            var need = Set<Int>()
            for i in keep { need.formUnion(exprs[i].columnsUsed) }
            let (nc, m) = prune(c, need)
            var map: [Int: Int] = [:]
            for (n, o) in keep.enumerated() { map[o] = n }
            return (.project(nc, keep.map { exprs[$0].remapped(m) }, Schema(keep.map { schema[$0] })), map)
        case .aggregate(let c, let groups, let aggs, let schema):
            var need = Set<Int>()
            for g in groups { need.formUnion(g.columnsUsed) }
            for a in aggs { a.forEachExpression { need.formUnion($0.columnsUsed) } }
            let (nc, m) = prune(c, need)
            let na = aggs.map { a in a.mapExpressions { $0.remapped(m) } }
            return (.aggregate(nc, groups: groups.map { $0.remapped(m) }, aggregates: na, schema: schema), identity(schema.count))
        case .window(let c, let calls, _):
            let nIn = c.schema.count
            var need = Set(required.filter { $0 < nIn })
            for w in calls {
                for e in w.arguments + w.partitionBy + w.orderBy.map(\.expr) { need.formUnion(e.columnsUsed) }
            }
            let (nc, m) = prune(c, need)
            let nCalls = calls.map { w -> WindowCall in
                var x = w
                x.arguments = w.arguments.map { $0.remapped(m) }
                x.partitionBy = w.partitionBy.map { $0.remapped(m) }
                x.orderBy = w.orderBy.map { SortKey(expr: $0.expr.remapped(m), descending: $0.descending, nullsFirst: $0.nullsFirst) }
                return x
            }
            let childCount = nc.schema.count
            var map = m
            for k in calls.indices { map[nIn + k] = childCount + k }
            let schema = Schema(nc.schema.fields + calls.enumerated().map { Field(plan.schema[nIn + $0.offset].name, $0.element.type) })
            return (.window(nc, nCalls, schema: schema), map)
        case .join(let l, let r, let type, let lk, let rk, let residual, _):
            let nLeft = l.schema.count
            var needL = Set(required.filter { $0 < nLeft })
            var needR = Set(required.filter { $0 >= nLeft }.map { $0 - nLeft })
            for k in lk { needL.formUnion(k.columnsUsed) }
            for k in rk { needR.formUnion(k.columnsUsed) }
            if let residual {
                for c in residual.columnsUsed { if c < nLeft { needL.insert(c) } else { needR.insert(c - nLeft) } }
            }
            let (nl, ml) = prune(l, needL)
            let (nr, mr) = prune(r, needR)
            let newLeft = nl.schema.count
            var map: [Int: Int] = [:]
            for (o, n) in ml { map[o] = n }
            for (o, n) in mr { map[o + nLeft] = n + newLeft }
            let schema = Schema(nl.schema.fields + nr.schema.fields)
            return (
                .join(nl, nr, type, leftKeys: lk.map { $0.remapped(ml) }, rightKeys: rk.map { $0.remapped(mr) }, residual: residual?.remapped(map), schema: schema),
                map
            )
        case .sort(let c, let keys, let limit):
            var need = required
            for k in keys { need.formUnion(k.expr.columnsUsed) }
            let (nc, m) = prune(c, need)
            return (.sort(nc, keys.map { SortKey(expr: $0.expr.remapped(m), descending: $0.descending, nullsFirst: $0.nullsFirst) }, limit: limit), m)
        case .limit(let c, let l, let o):
            let (nc, m) = prune(c, required)
            return (.limit(nc, limit: l, offset: o), m)
        case .distinct(let c):
            let (nc, m) = prune(c, Set(0..<c.schema.count))
            return (.distinct(nc), m)
        case .union(let cs, let all, let schema):
            return (.union(cs.map { prune($0, Set(0..<$0.schema.count)).plan }, all: all, schema: schema), identity(schema.count))
        }
    }

    private static func identity(_ n: Int) -> [Int: Int] {
        var m: [Int: Int] = [:]
        for i in 0..<n { m[i] = i }
        return m
    }
}
