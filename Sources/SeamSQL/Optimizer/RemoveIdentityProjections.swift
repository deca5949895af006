/// Drops projections that pass their input through unchanged (same columns, order and names), which the
/// binder leaves above aggregations and joins.
enum RemoveIdentityProjections {
    static func apply(_ plan: LogicalPlan) -> LogicalPlan {
        let node = plan.withChildren(plan.children.map(apply))
        if case .project(let child, let exprs, let schema) = node, exprs.count == child.schema.count,
            schema.fields.map(\.name) == child.schema.fields.map(\.name),
            exprs.enumerated().allSatisfy({ i, e in if case .column(i, _) = e { return true } else { return false } })
        {
            return child
        }
        return node
    }
}
