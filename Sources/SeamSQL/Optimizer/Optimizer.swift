/// Rewrites a bound plan into an equivalent, cheaper one. Each rule is one file in this folder.
public enum Optimizer {
    public static func optimize(_ plan: LogicalPlan) -> LogicalPlan {
        var p = plan
        p = PushDownFilters.apply(p)
        p = ZoneFilters.apply(p)
        p = PruneColumns.apply(p)
        p = RemoveIdentityProjections.apply(p)
        return p
    }
}
