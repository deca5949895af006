import Benchmark
import BenchmarkSupport
import Foundation
import Seam

/// Engine building blocks: the comparison kernels on one 65,536-row block, and whole operators (filter, small-key,
/// dense-key and hash aggregation, hash join, top-N) through the query engine over 1.2M generated events.
/// Every benchmark checks its result so a fast wrong answer fails. Each reports rows/s and bytes/s: for kernels the
/// input block's bytes, for queries the decoded bytes of the event columns the query reads (`Store.stats()`).
let blockRows = 65_536

let int32Block: [Int32] = (0..<blockRows).map { Int32(truncatingIfNeeded: ($0 &* 2_654_435_761) % 1000) }
let int64Block: [Int64] = (0..<blockRows).map { Int64($0) * 1_000_003 % 86_400_000_000 }

/// A run-length block shaped like the events' `amount`: 8,192 runs of 1 to 15 rows, a valid row or two at each run's
/// start and NULLs after (in storage, NULL rows hold the run's value); run values in minor units.
let runLengths: [UInt32] = (0..<8_192).map { UInt32(1 + ($0 &* 7) % 15) }
let runValues: [Int64] = (0..<8_192).map { Int64(($0 &* 2_654_435_761) % 50_000) }
let runRows = runLengths.reduce(0) { $0 + Int($1) }
let runValidity: [UInt64] = {
    var words = [UInt64](repeating: 0, count: (runRows + 63) / 64)
    var at = 0
    for (k, n) in runLengths.enumerated() {
        for r in at..<(at + min(Int(n), 1 + k % 2)) { words[r >> 6] |= 1 << UInt64(r & 63) }
        at += Int(n)
    }
    return words
}()

/// A store of the generator's canonical events for 20,000 customers (about 1.2M rows), made once.
let store: Store = {
    let dir = NSTemporaryDirectory() + "seam-engine-bench-\(getpid())"
    try? FileManager.default.removeItem(atPath: dir)
    let s = try! SeamStore(path: dir, create: true)
    try! s.loadSyntheticTables(GeneratorOptions(customers: 20_000, seed: 1))
    return s.storage
}()

let engine = QueryEngine(store: store, options: QueryOptions(threads: ProcessInfo.processInfo.activeProcessorCount))
let eventRows: Int = {
    guard case .bigint(let n) = try! engine.query("SELECT count(*) FROM events").rows[0][0] else { fatalError() }
    return Int(n)
}()

/// (label, SQL, expected row count of the result, the event columns it reads)
let queries: [(String, String, Int?, [String])] = [
    ("filter: events in a 30-day window", "SELECT count(*) FROM events WHERE ts >= TIMESTAMP '2025-06-01' AND ts < TIMESTAMP '2025-07-01'", 1, ["ts"]),
    ("filter: purchases over 100", "SELECT count(*) FROM events WHERE event_type = 'purchase' AND amount > 100", 1, ["event_type", "amount"]),
    ("filter: amounts over 100 (runs counted in place)", "SELECT count(*) FROM events WHERE amount > 100", 1, ["amount"]),
    ("filter: web events (entries' flags summed on the codes)", "SELECT count(*) FROM events WHERE channel = 'web'", 1, ["channel"]),
    ("filter+sum: amounts over 100 (summed on the packed codes)", "SELECT sum(amount), avg(amount) FROM events WHERE amount > 100", 1, ["amount"]),
    ("filter+sum: units sold on the web (blocks reduced under flags)", "SELECT sum(quantity) FROM events WHERE channel = 'web'", 1, ["channel", "quantity"]),
    ("aggregate small key: channel", "SELECT channel, count(*), sum(amount) FROM events GROUP BY channel", 6, ["channel", "amount"]),
    ("aggregate dense key: customer_id", "SELECT customer_id, count(*), max(ts) FROM events GROUP BY customer_id", nil, ["customer_id", "ts"]),
    ("aggregate hash key: product_id", "SELECT product_id, sum(quantity) FROM events GROUP BY product_id", nil, ["product_id", "quantity"]),
    ("aggregate: count distinct per day", "SELECT date_trunc('day', ts), count(DISTINCT customer_id) FROM events GROUP BY 1", nil, ["ts", "customer_id"]),
    ("hash join: events to per-customer totals",
     "SELECT count(*) FROM events e JOIN (SELECT customer_id, sum(amount) AS s FROM events GROUP BY customer_id) c ON e.customer_id = c.customer_id WHERE c.s > 500", 1,
     ["customer_id", "customer_id", "amount"]),
    ("top-N: 10 largest amounts", "SELECT event_id, amount FROM events ORDER BY amount DESC NULLS LAST LIMIT 10", 10, ["event_id", "amount"]),
    ("window: row_number per customer", "SELECT count(*) FROM (SELECT row_number() OVER (PARTITION BY customer_id ORDER BY ts) AS rn FROM events WHERE event_type = 'purchase') WHERE rn = 1", 1,
     ["customer_id", "ts", "event_type"]),
]

/// Decoded bytes per column of `events` (a scan of the whole column produces this many).
let decodedBytes: [String: Int] = {
    let t = try! store.stats().first { $0.table == "events" }!
    return Dictionary(uniqueKeysWithValues: t.columns.map { ($0.name, $0.rawBytes) })
}()

let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(metrics: throughputMetrics, timeUnits: .microseconds, maxDuration: .seconds(2), maxIterations: 100)

    Benchmark("kernel: compare INTEGER block < constant (65,536 rows)", configuration: .init(scalingFactor: .one)) { b in
        var out = [UInt8](repeating: 0, count: blockRows)
        b.measureThroughput(rows: blockRows, bytes: blockRows * 4) {
            int32Block.withUnsafeBufferPointer { a in
                out.withUnsafeMutableBufferPointer { o in CompareKernel.compare(a.baseAddress!, blockRows, .less, 250, o.baseAddress!) }
            }
            precondition(out[0] == 1)
            blackHole(out)
        }
    }
    Benchmark("kernel: between on BIGINT block (65,536 rows)", configuration: .init(scalingFactor: .one)) { b in
        var out = [UInt8](repeating: 0, count: blockRows)
        b.measureThroughput(rows: blockRows, bytes: blockRows * 8) {
            int64Block.withUnsafeBufferPointer { a in
                out.withUnsafeMutableBufferPointer { o in CompareKernel.between(a.baseAddress!, blockRows, 1_000_000, 40_000_000_000, o.baseAddress!) }
            }
            blackHole(out)
        }
    }
    Benchmark("kernel: selection vector from flags (65,536 rows, ~25%)", configuration: .init(scalingFactor: .one)) { b in
        let flags = int32Block.map { $0 < 250 ? UInt8(1) : 0 }
        var sel = [Int32](repeating: 0, count: blockRows)
        b.measureThroughput(rows: blockRows, bytes: blockRows) {
            let k = flags.withUnsafeBufferPointer { f in sel.withUnsafeMutableBufferPointer { Selection.select(f.baseAddress!, nil, blockRows, $0.baseAddress!) } }
            precondition(k > 0 && k < blockRows)
            blackHole(sel)
        }
    }
    Benchmark("kernel: masked sum and count of BIGINT under flags (65,536 rows, ~25%)", configuration: .init(scalingFactor: .one)) { b in
        let flags = int32Block.map { $0 < 250 ? UInt8(1) : 0 }
        let expected = zip(int64Block, flags).reduce(Int64(0)) { $0 + ($1.1 == 1 ? $1.0 : 0) }
        b.measureThroughput(rows: blockRows, bytes: blockRows * 9) {
            let t = int64Block.withUnsafeBufferPointer { v in
                flags.withUnsafeBufferPointer { f in
                    MaskedReduce.reduce(v.baseAddress!, count: blockRows, rows: blockRows, validity: nil, compact: false, flags: f.baseAddress!, minMax: false, checked: false)
                }
            }
            precondition(t.sum == expected)
            blackHole(t)
        }
    }
    Benchmark("kernel: count(*) over runs in a range, with NULLs (8,192 runs, ~65K rows)", configuration: .init(scalingFactor: .one)) { b in
        // Bytes: what the scan reads of the stored block (run values, lengths and the validity bitmap).
        b.measureThroughput(rows: runRows, bytes: runValues.count * 12 + runValidity.count * 8) {
            let n = runValues.withUnsafeBufferPointer { v in
                runLengths.withUnsafeBufferPointer { l in
                    runValidity.withUnsafeBufferPointer { w in
                        Runs.countInRange(values: v.baseAddress!, lo: 10_001, hi: .max, lengths: l.baseAddress!, runs: l.count, validity: w.baseAddress!)
                    }
                }
            }
            precondition(n > 0 && n < runRows)
            blackHole(n)
        }
    }
    for (label, sql, rows, columns) in queries {
        let bytes = columns.reduce(0) { $0 + decodedBytes[$1]! }
        Benchmark("query \(label) (\(eventRows) events)", configuration: .init(scalingFactor: .one)) { b in
            try b.measureThroughput(rows: eventRows, bytes: bytes) {
                let r = try engine.query(sql)
                if let rows { precondition(r.rowCount == rows, "\(label): \(r.rowCount) rows") } else { precondition(r.rowCount > 0) }
                blackHole(r)
            }
        }
    }
}
