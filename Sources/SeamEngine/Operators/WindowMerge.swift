import SeamColumnar
import SeamKernels
import Synchronization

extension WindowOrder {
    /// Partitions rows that arrive as a few runs each sorted by the partition key (the segments of a table stored by
    /// customer, each a month), keeping arrival order within a partition: a merge of the runs by key, written in
    /// output order. Nil when the key is not an integer column without NULLs or the rows form more than
    /// ``maxRuns`` runs; the counting sort (``byDenseKey(_:_:executor:)``) then partitions.
    ///
    /// The counting sort writes each row where its partition's region is, and a month's rows of 1.7M customers land
    /// in 1.7M places: a cache line fetched per two rows written (a quarter of the funnel query's time over 66M rows).
    /// Here each output position is written in turn, and each run is read in order. Workers merge disjoint key
    /// ranges; every run is cut at a range's keys by binary search.
    static func byMergingRuns(_ key: ColumnVector, executor: Executor) throws -> WindowOrder? {
        let n = key.count
        guard n > 0, key.type.physical == .int32 || key.type.physical == .int64 else { return nil }
        if let v = Vectors.validity(key), Bitmap.popCount(v, in: 0..<n) != n { return nil }
        return key.type.physical == .int32
            ? try merge(Vectors.pointer(key, Int32.self), n, executor: executor)
            : try merge(Vectors.pointer(key, Int64.self), n, executor: executor)
    }

    /// More runs than this take the counting sort: a merge step compares every run's head.
    static let maxRuns = 256

    private static func merge<T: FixedWidthInteger & SignedInteger>(_ key: UnsafePointer<T>, _ n: Int, executor: Executor) throws -> WindowOrder? {
        // Run starts: where the key goes down. Chunks of rows are searched on every worker.
        let chunk = max(1 << 16, (n + executor.threads * 4 - 1) / (executor.threads * 4))
        let chunks = (n + chunk - 1) / chunk
        let found = Mutex<[Int]>([0])
        let tooMany = Atomic<Bool>(false)
        let k = UncheckedSendable(value: key)
        try parallelFor(chunks, threads: executor.threads, token: executor.token) { _, c in
            var mine: [Int] = []
            for i in max(1, c * chunk)..<min(n, (c + 1) * chunk) where k.value[i] < k.value[i &- 1] {
                mine.append(i)
                if mine.count > maxRuns { break }
            }
            if mine.count > maxRuns { tooMany.store(true, ordering: .relaxed) }
            found.withLock { $0 += mine }
        }
        var bounds = found.withLock { $0 }
        guard !tooMany.load(ordering: .relaxed), bounds.count <= maxRuns else { return nil }
        bounds.sort()
        bounds.append(n)
        let runs = bounds.count - 1
        let lowest = Int64((0..<runs).map { key[bounds[$0]] }.min()!), highest = Int64((0..<runs).map { key[bounds[$0 + 1] - 1] }.max()!)
        // Int64.max marks a finished run below: a run holding that key would be visited again after it finished, and
        // past its end. Such keys are left to the other sorts.
        if highest == .max { return nil }
        // Key ranges for the workers, of equal width (customer ids spread evenly enough); one range for keys so far
        // apart that the arithmetic would overflow.
        let (span, overflow) = highest.subtractingReportingOverflow(lowest)
        let pieces = overflow || highest > Int64.max - (1 << 20) ? 1 : max(1, min(executor.threads * 4, n >> 16))
        let width = pieces == 1 ? 0 : span / Int64(pieces) + 1
        /// The first position of run `r` whose key is at least `x`.
        func firstAtLeast(_ x: Int64, run r: Int) -> Int {
            var lo = bounds[r], hi = bounds[r + 1]
            while lo < hi {
                let mid = (lo + hi) >> 1
                if Int64(key[mid]) < x { lo = mid + 1 } else { hi = mid }
            }
            return lo
        }
        // edges[p][r]: where piece p starts in run r.
        let edges = (0...pieces).map { p in
            (0..<runs).map { r in p == 0 ? bounds[r] : p == pieces ? bounds[r + 1] : firstAtLeast(lowest + Int64(p) * width, run: r) }
        }
        var offsets = [0]
        for p in 0..<pieces { offsets.append(offsets[p] + (0..<runs).reduce(0) { $0 + edges[p + 1][$1] - edges[p][$1] }) }
        let sorted = RowNumbers(count: n)
        let startsOut = Mutex<[Int: [Int]]>([:])
        try sorted.withUnsafeMutableBufferPointer { outBuffer in
            let out = UncheckedSendable(value: outBuffer.baseAddress!)
            try parallelFor(pieces, threads: executor.threads, token: executor.token) { _, p in
                // Per run: the next row, the end, and the next row's key (Int64.max once the run is done), in
                // arrays of their own so a step's minimum reads one small array and not every run's rows.
                let cursor = UnsafeMutablePointer<Int>.allocate(capacity: runs), end = UnsafeMutablePointer<Int>.allocate(capacity: runs)
                let heads = UnsafeMutablePointer<Int64>.allocate(capacity: runs)
                defer {
                    cursor.deallocate()
                    end.deallocate()
                    heads.deallocate()
                }
                var left = 0
                for r in 0..<runs {
                    cursor[r] = edges[p][r]
                    end[r] = edges[p + 1][r]
                    heads[r] = cursor[r] < end[r] ? Int64(k.value[cursor[r]]) : .max
                    if cursor[r] < end[r] { left &+= 1 }
                }
                var at = offsets[p]
                var starts: [Int] = []
                while left > 0 {
                    var c = heads[0]
                    for r in 1..<runs { c = min(c, heads[r]) }
                    starts.append(at)
                    // Runs in arrival order: a partition's rows from an earlier run come first.
                    for r in 0..<runs where heads[r] == c {
                        var i = cursor[r]
                        let stop = end[r]
                        repeat {
                            out.value[at] = Int32(truncatingIfNeeded: i)
                            at &+= 1
                            i &+= 1
                        } while i < stop && Int64(k.value[i]) == c
                        cursor[r] = i
                        if i < stop {
                            heads[r] = Int64(k.value[i])
                        } else {
                            heads[r] = .max
                            left &-= 1
                        }
                    }
                }
                startsOut.withLock { $0[p] = starts }
            }
        }
        let byPiece = startsOut.withLock { $0 }
        var starts = (0..<pieces).flatMap { byPiece[$0] ?? [] }
        starts.append(n)
        return WindowOrder(sorted: sorted, starts: starts)
    }
}
