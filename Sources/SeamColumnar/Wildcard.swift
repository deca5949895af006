/// Wildcard matching with one "any run" and one "any single" symbol: file globs (`*`, `?`) and SQL LIKE
/// (`%`, `_`). Iterative, backtracking to the last "any run", so it never recurses on hostile patterns.
public enum Wildcard {
    public static func matches<T: Equatable>(_ s: [T], _ p: [T], anyRun: T, anyOne: T) -> Bool {
        var pi = 0
        var si = 0
        var star = -1
        var mark = 0
        while si < s.count {
            if pi < p.count && (p[pi] == anyOne || (p[pi] != anyRun && p[pi] == s[si])) {
                pi += 1
                si += 1
            } else if pi < p.count && p[pi] == anyRun {
                star = pi
                mark = si
                pi += 1
            } else if star >= 0 {
                pi = star + 1
                mark += 1
                si = mark
            } else {
                return false
            }
        }
        while pi < p.count && p[pi] == anyRun { pi += 1 }
        return pi == p.count
    }
}
