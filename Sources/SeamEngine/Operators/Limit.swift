import SeamColumnar
import SeamKernels

/// LIMIT/OFFSET over batches in order.
enum LimitOperator {
    static func apply(_ batches: [Batch], limit: Int?, offset: Int) -> [Batch] {
        var skip = offset
        var left = limit ?? Int.max
        var out: [Batch] = []
        for b in batches where left > 0 {
            if skip >= b.count {
                skip -= b.count
                continue
            }
            let take = min(b.count - skip, left)
            if skip == 0 && take == b.count {
                out.append(b)
            } else {
                let idx = (skip..<skip + take).map { Int32($0) }
                out.append(Batch(columns: b.columns.map { Gather.rows($0, idx) }, count: take))
            }
            left -= take
            skip = 0
        }
        return out
    }
}
