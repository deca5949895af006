/// Wildcard matching with one "any run" and one "any single" symbol: file globs (`*`, `?`) and SQL LIKE
/// (`%`, `_`). Iterative, backtracking to the last "any run", so it never recurses on hostile patterns.
/// Generic over the collections so callers match raw bytes or scalars without copying them.
public enum Wildcard {
    @inlinable
    public static func matches<S: RandomAccessCollection, P: RandomAccessCollection>(
        _ s: S, _ p: P, anyRun: P.Element, anyOne: P.Element, equal: (S.Element, P.Element) -> Bool
    ) -> Bool where S.Index == Int, P.Index == Int, P.Element: Equatable {
        let s0 = s.startIndex
        let p0 = p.startIndex
        let sn = s.count
        let pn = p.count
        var pi = 0
        var si = 0
        var star = -1
        var mark = 0
        while si < sn {
            if pi < pn && (p[p0 + pi] == anyOne || (p[p0 + pi] != anyRun && equal(s[s0 + si], p[p0 + pi]))) {
                pi += 1
                si += 1
            } else if pi < pn && p[p0 + pi] == anyRun {
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
        while pi < pn && p[p0 + pi] == anyRun { pi += 1 }
        return pi == pn
    }

    @inlinable
    public static func matches<T: Equatable>(_ s: [T], _ p: [T], anyRun: T, anyOne: T) -> Bool {
        matches(s, p, anyRun: anyRun, anyOne: anyOne, equal: ==)
    }
}
