import Benchmark
import Foundation
import Seam

/// Engine building blocks: the comparison kernels on one 65,536-row block, and whole operators (filter, small-key,
/// dense-key and hash aggregation, hash join, top-N) through the query engine over 1.2M generated events.
/// Every benchmark checks its result so a fast wrong answer fails. Rows/s = rows / p50 time.
let blockRows = 65_536

let int32Block: [Int32] = (0..<blockRows).map { Int32(truncatingIfNeeded: ($0 &* 2_654_435_761) % 1000) }
let int64Block: [Int64] = (0..<blockRows).map { Int64($0) * 1_000_003 % 86_400_000_000 }

/// A store of the generator's canonical events for 20,000 customers (about 1.2M rows), made once.
let store: Store = {
    let dir = NSTemporaryDirectory() + "seam-engine-bench-\(getpid())"
    try? FileManager.default.removeItem(atPath: dir)
    let s = try! SeamStore(path: dir, create: true)
    try! s.loadSyntheticEvents(GeneratorOptions(customers: 20_000, seed: 1))
    return s.storage
}()

let engine = QueryEngine(store: store, options: QueryOptions(threads: ProcessInfo.processInfo.activeProcessorCount))
let eventRows: Int = {
    guard case .bigint(let n) = try! engine.query("SELECT count(*) FROM events").rows[0][0] else { fatalError() }
    return Int(n)
}()

/// (label, SQL, expected row count of the result)
let queries: [(String, String, Int?)] = [
    ("filter: events in a 30-day window", "SELECT count(*) FROM events WHERE ts >= TIMESTAMP '2025-06-01' AND ts < TIMESTAMP '2025-07-01'", 1),
    ("filter: purchases over 100", "SELECT count(*) FROM events WHERE event_type = 'purchase' AND amount > 100", 1),
    ("aggregate small key: channel", "SELECT channel, count(*), sum(amount) FROM events GROUP BY channel", 6),
    ("aggregate dense key: customer_id", "SELECT customer_id, count(*), max(ts) FROM events GROUP BY customer_id", nil),
    ("aggregate hash key: product_id", "SELECT product_id, sum(quantity) FROM events GROUP BY product_id", nil),
    ("aggregate: count distinct per day", "SELECT date_trunc('day', ts), count(DISTINCT customer_id) FROM events GROUP BY 1", nil),
    ("hash join: events to per-customer totals",
     "SELECT count(*) FROM events e JOIN (SELECT customer_id, sum(amount) AS s FROM events GROUP BY customer_id) c ON e.customer_id = c.customer_id WHERE c.s > 500", 1),
    ("top-N: 10 largest amounts", "SELECT event_id, amount FROM events ORDER BY amount DESC NULLS LAST LIMIT 10", 10),
    ("window: row_number per customer", "SELECT count(*) FROM (SELECT row_number() OVER (PARTITION BY customer_id ORDER BY ts) AS rn FROM events WHERE event_type = 'purchase') WHERE rn = 1", 1),
]

let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(metrics: [.wallClock, .throughput], timeUnits: .microseconds, maxDuration: .seconds(2), maxIterations: 100)

    Benchmark("kernel: compare INTEGER block < constant (65,536 rows)", configuration: .init(scalingFactor: .one)) { b in
        var out = [UInt8](repeating: 0, count: blockRows)
        for _ in b.scaledIterations {
            int32Block.withUnsafeBufferPointer { a in
                out.withUnsafeMutableBufferPointer { o in CompareKernel.compare(a.baseAddress!, blockRows, .less, 250, o.baseAddress!) }
            }
            precondition(out[0] == 1)
            blackHole(out)
        }
    }
    Benchmark("kernel: between on BIGINT block (65,536 rows)", configuration: .init(scalingFactor: .one)) { b in
        var out = [UInt8](repeating: 0, count: blockRows)
        for _ in b.scaledIterations {
            int64Block.withUnsafeBufferPointer { a in
                out.withUnsafeMutableBufferPointer { o in CompareKernel.between(a.baseAddress!, blockRows, 1_000_000, 40_000_000_000, o.baseAddress!) }
            }
            blackHole(out)
        }
    }
    Benchmark("kernel: selection vector from flags (65,536 rows, ~25%)", configuration: .init(scalingFactor: .one)) { b in
        let flags = int32Block.map { $0 < 250 ? UInt8(1) : 0 }
        var sel = [Int32](repeating: 0, count: blockRows)
        for _ in b.scaledIterations {
            let k = flags.withUnsafeBufferPointer { f in sel.withUnsafeMutableBufferPointer { Selection.select(f.baseAddress!, nil, blockRows, $0.baseAddress!) } }
            precondition(k > 0 && k < blockRows)
            blackHole(sel)
        }
    }
    for (label, sql, rows) in queries {
        Benchmark("query \(label) (\(eventRows) events)", configuration: .init(scalingFactor: .one)) { b in
            for _ in b.scaledIterations {
                let r = try engine.query(sql)
                if let rows { precondition(r.rowCount == rows, "\(label): \(r.rowCount) rows") } else { precondition(r.rowCount > 0) }
                blackHole(r)
            }
        }
    }
}
