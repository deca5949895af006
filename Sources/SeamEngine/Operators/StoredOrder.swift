import SeamColumnar
import SeamSQL
import SeamStorage

/// Whether a table's stored layout already hands a window its rows in order, so the window need not read or sort its
/// ORDER BY keys.
///
/// Events are stored sorted by (customer_id, ts, event_id) in each segment, and segments follow each other month by
/// month. A window `PARTITION BY customer_id ORDER BY ts, event_id` over a scan of them then receives each customer's
/// rows in window order, which a counting sort by customer keeps (it places rows in input order). What the segments'
/// metadata must show, for every two segments A before B in scan order:
/// - each is sorted by exactly those columns (the table's layout), none of them NULL (NULLs sort apart), and the scan
///   reads stored values (no customer id remap in force);
/// - a customer's rows in A all come before its rows in B: A's times all precede B's (different months), or A's
///   customers all precede B's (one month cut into segments), or they share only A's last and B's first customer and
///   A's last row does not come after B's first (one sorted run cut in two).
///
/// Anything else (segments of several small commits not yet compacted, a pending merge remap, an older store sorted
/// by two columns) is not proven, and the window sorts as usual.
extension Executor {
    /// More segments than this are not compared pairwise (an uncompacted table); the window sorts instead.
    static let storedOrderSegmentLimit = 4096

    /// Whether `plan` (a scan, or a filter over one) produces, for every value of output column `partition`, its rows in
    /// ascending order of output columns `order` (NULLs last), ties in stored order.
    func arrivesInWindowOrder(_ plan: LogicalPlan, partition: Int, order: [Int]) throws -> Bool {
        let s: TableScan
        switch plan {
        case .scan(let t): s = t
        case .filter(.scan(let t), _): s = t
        default: return false
        }
        guard !order.isEmpty else { return false }
        let m = try catalog.manifest(s.table)
        let columns = ([partition] + order).map { s.columns[$0] }
        guard m.layout.sortColumns == columns.map({ m.schema[$0].name }) else { return false }
        for c in columns {
            guard m.schema[c].type.physical == .int64 || m.schema[c].type.physical == .int32 else { return false }
        }
        let readers = try catalog.readers(s.table).filter { $0.footer.columns.first.map { $0.reduce(0) { $0 + $1.rows } } ?? 0 > 0 }
        guard readers.count <= Self.storedOrderSegmentLimit else { return false }
        // Each segment's range of every sort column, from its blocks' zone maps.
        var ranges: [[(lo: Int64, hi: Int64)]] = []
        for r in readers {
            var segment: [(lo: Int64, hi: Int64)] = []
            for c in columns {
                var lo = Int64.max, hi = Int64.min
                for info in r.footer.columns[c] where info.rows > 0 {
                    guard info.nulls == 0, case .integer(let a, let b) = info.zone else { return false }
                    lo = min(lo, a)
                    hi = max(hi, b)
                }
                segment.append((lo, hi))
            }
            ranges.append(segment)
        }
        // A remap in force changes the partition keys the window sees unless it maps every stored key to itself.
        if let mapping = try keyMapping(s), columns.indices.contains(where: { ([partition] + order)[$0] == mapping.column }) {
            let k = ([partition] + order).firstIndex(of: mapping.column)!
            let lo = ranges.map { $0[k].lo }.min() ?? 0, hi = ranges.map { $0[k].hi }.max() ?? 0
            guard lo >= 0, hi < Int64(mapping.map.count) else { return false }
            for key in Int(lo)...Int(hi) where mapping.map[key] != Int64(key) { return false }
        }
        // The first and last rows of a segment, read (once) only where two segments share a partition key.
        var boundaryRows: [Int: [Int64]] = [:]
        func row(_ s: Int, last: Bool) throws -> [Int64] {
            let key = s * 2 + (last ? 1 : 0)
            if let known = boundaryRows[key] { return known }
            let r = readers[s]
            let blocks = r.footer.columns[columns[0]].indices.filter { r.footer.columns[columns[0]][$0].rows > 0 }
            let block = last ? blocks.last! : blocks.first!
            let values = try columns.map { c in
                let v = try r.read(column: c, block: block)
                let i = last ? v.count - 1 : 0
                return m.schema[c].type.physical == .int32 ? Int64(v.values.typed(Int32.self, count: v.count)[i]) : v.values.typed(Int64.self, count: v.count)[i]
            }
            boundaryRows[key] = values
            return values
        }
        for i in readers.indices {
            for j in (i + 1)..<readers.count {
                let a = ranges[i], b = ranges[j]
                if a[1].hi < b[1].lo || a[0].hi < b[0].lo { continue }
                if a[0].hi == b[0].lo, try !row(j, last: false).lexicographicallyPrecedes(try row(i, last: true)) { continue }
                return false
            }
        }
        return true
    }
}
