/// Min and max over the valid rows of a column: the zone maps of stored blocks.
public enum MinMax {
    /// Min and max of `values` where `validity` (if any) marks the row valid; `nil` when no row is valid.
    @inlinable
    public static func of<T: Comparable & BitwiseCopyable>(
        _ values: UnsafeBufferPointer<T>, validity: UnsafeBufferPointer<UInt64>?
    ) -> (min: T, max: T)? {
        var lo: T? = nil, hi: T? = nil
        guard let validity else {
            guard var mn = values.first else { return nil }
            var mx = mn
            for v in values {
                mn = v < mn ? v : mn
                mx = v > mx ? v : mx
            }
            return (mn, mx)
        }
        for i in 0..<values.count where (validity[i >> 6] >> UInt64(i & 63)) & 1 == 1 {
            let v = values[i]
            if lo == nil || v < lo! { lo = v }
            if hi == nil || v > hi! { hi = v }
        }
        guard let lo, let hi else { return nil }
        return (lo, hi)
    }
}
