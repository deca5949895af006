/// Moves filter conjuncts towards the scans: through projections of plain columns, into the side of a join
/// whose columns they read (both sides of an INNER join, the left side of a LEFT join), and into joins'
/// conditions when they compare the two sides.
enum PushDownFilters {
    static func apply(_ plan: LogicalPlan) -> LogicalPlan {
        switch plan {
        case .filter(let child, let pred):
            return push(splitConjuncts(pred), into: apply(child))
        default:
            return plan.withChildren(plan.children.map(apply))
        }
    }

    private static func wrap(_ plan: LogicalPlan, _ preds: [BoundExpr]) -> LogicalPlan {
        preds.isEmpty ? plan : .filter(plan, preds.count == 1 ? preds[0] : .and(preds))
    }

    private static func hasSubquery(_ e: BoundExpr) -> Bool {
        e.contains { if case .subquery = $0 { return true } else { return false } }
    }

    private static func push(_ preds: [BoundExpr], into plan: LogicalPlan) -> LogicalPlan {
        switch plan {
        case .filter(let child, let p):
            return push(preds + splitConjuncts(p), into: child)
        case .join(_, _, .full, _, _, _, _):
            // Both sides keep their unmatched rows: a filter on either side must run above the join.
            return wrap(plan, preds)
        case .join(let l, let r, let type, let lk, let rk, let residual, let schema) where type != .cross || true:
            let nLeft = l.schema.count
            var toLeft: [BoundExpr] = []
            var toRight: [BoundExpr] = []
            var stay: [BoundExpr] = []
            var newLK = lk
            var newRK = rk
            var newResidual = residual.map(splitConjuncts) ?? []
            var newType = type
            for p in preds {
                let used = p.columnsUsed
                if !used.isEmpty && used.allSatisfy({ $0 < nLeft }) {
                    toLeft.append(p)
                } else if !used.isEmpty && used.allSatisfy({ $0 >= nLeft }) && type != .left {
                    var m: [Int: Int] = [:]
                    for c in used { m[c] = c - nLeft }
                    toRight.append(p.remapped(m))
                } else if type != .left, case .compare(.equal, let a, let b) = p, !a.columnsUsed.isEmpty, !b.columnsUsed.isEmpty {
                    let ua = a.columnsUsed
                    let ub = b.columnsUsed
                    if ua.allSatisfy({ $0 < nLeft }) && ub.allSatisfy({ $0 >= nLeft }) {
                        newLK.append(a)
                        newRK.append(b.remapped(Dictionary(uniqueKeysWithValues: ub.map { ($0, $0 - nLeft) })))
                        if newType == .cross { newType = .inner }
                    } else if ub.allSatisfy({ $0 < nLeft }) && ua.allSatisfy({ $0 >= nLeft }) {
                        newLK.append(b)
                        newRK.append(a.remapped(Dictionary(uniqueKeysWithValues: ua.map { ($0, $0 - nLeft) })))
                        if newType == .cross { newType = .inner }
                    } else {
                        stay.append(p)
                    }
                } else if type == .inner && !hasSubquery(p) {
                    newResidual.append(p)
                } else {
                    stay.append(p)
                }
            }
            let nl = toLeft.isEmpty ? l : push(toLeft, into: l)
            let nr = toRight.isEmpty ? r : push(toRight, into: r)
            let res: BoundExpr? = newResidual.isEmpty ? nil : (newResidual.count == 1 ? newResidual[0] : .and(newResidual))
            return wrap(.join(nl, nr, newType, leftKeys: newLK, rightKeys: newRK, residual: res, schema: schema), stay)
        case .project(let child, let exprs, let schema):
            // Push through when every column the predicate reads is a plain column of the child.
            var down: [BoundExpr] = []
            var stay: [BoundExpr] = []
            for p in preds {
                var map: [Int: Int] = [:]
                var ok = !hasSubquery(p)
                for c in p.columnsUsed {
                    if case .column(let i, _) = exprs[c] { map[c] = i } else { ok = false }
                }
                if ok { down.append(p.remapped(map)) } else { stay.append(p) }
            }
            let nc = down.isEmpty ? child : push(down, into: child)
            return wrap(.project(nc, exprs, schema), stay)
        default:
            return wrap(plan, preds)
        }
    }
}

extension LogicalPlan {
    /// The same node over new children (same count and order as `children`).
    public func withChildren(_ cs: [LogicalPlan]) -> LogicalPlan {
        switch self {
        case .scan, .values: return self
        case .filter(_, let e): return .filter(cs[0], e)
        case .project(_, let es, let s): return .project(cs[0], es, s)
        case .aggregate(_, let g, let a, let s): return .aggregate(cs[0], groups: g, aggregates: a, schema: s)
        case .window(_, let w, let s): return .window(cs[0], w, schema: s)
        case .join(_, _, let t, let lk, let rk, let res, let s): return .join(cs[0], cs[1], t, leftKeys: lk, rightKeys: rk, residual: res, schema: s)
        case .sort(_, let k, let l): return .sort(cs[0], k, limit: l)
        case .limit(_, let l, let o): return .limit(cs[0], limit: l, offset: o)
        case .distinct: return .distinct(cs[0])
        case .union(_, let all, let s): return .union(cs, all: all, schema: s)
        }
    }
}
