/// Copies the conjuncts of a filter directly above a scan that compare a column with constants into the
/// scan, where the engine checks them against block and segment zone maps to skip data. The filter stays.
enum ZoneFilters {
    static func apply(_ plan: LogicalPlan) -> LogicalPlan {
        if case .filter(.scan(var scan), let pred) = plan {
            scan.zoneFilters = splitConjuncts(pred).filter(usable)
            return .filter(.scan(scan), pred)
        }
        return plan.withChildren(plan.children.map(apply))
    }

    static func usable(_ e: BoundExpr) -> Bool {
        switch e {
        case .compare(_, .column, .constant(let v, _)), .compare(_, .constant(let v, _), .column): return !v.isNull
        case .inList(.column, let values, _, false): return !values.isEmpty
        case .isNull(.column, _): return true
        case .and(let xs): return xs.allSatisfy(usable)
        case .or(let xs): return xs.allSatisfy(usable)
        default: return false
        }
    }
}
